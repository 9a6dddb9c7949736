// hymir::kg::TripleStore: a persistent knowledge graph of (subject, relation,
// object) triples of strings, with aliases (labels) per entity.
//
// Layout (RocksDB, private): a dictionary maps every term to a 64-bit id, and
// each triple is kept in three orderings (SPO, POS, OSP) as 24-byte big-endian
// id keys, so a pattern with one or two bound positions is one prefix scan.
// Every mutation (the three orderings, new dictionary entries, the alias
// lookup and the triple counter) is one atomic write: a crash never leaves a
// triple in one ordering only, nor a count that disagrees with the triples.
// See kg/store/layout.h for the exact key format.
//
// Thread-safety: a TripleStore may be shared freely between threads; every
// method may be called concurrently (the RocksDB DB is thread-safe; writers
// are serialised inside the store). A read sees every write that completed
// before it began; a read running during writes may see some of them (each
// write's triples all or none in any one lookup). One process at a time may
// open a directory for writing: a second writer's Open() fails with Busy.
//
// Integrity: a writer's Close() (or destruction) records every file of the
// KG with its size and CRC-32, and the counts, in <dir>/HYMIR-KG-COMMIT;
// Open() verifies every byte against that record before RocksDB reads the KG,
// so a damaged MANIFEST, CURRENT, SST or WAL file is Corruption naming the
// file, and a writer never opens (nor recovers, compacts or deletes files of)
// a KG it cannot trust. A KG without a clean record (a writer is running or
// was killed, or it predates the record) is verified by a full scan of every
// key at Open() instead: the counter, the three orderings and the dictionary
// must agree. See docs/knowledge_graph.md.
#ifndef HYMIR_KG_TRIPLE_STORE_H_
#define HYMIR_KG_TRIPLE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/result.h"
#include "hymir/status.h"

namespace hymir::kg {

// The relation under which AddAlias() stores labels: (entity, kAliasRelation,
// alias). Neighbors() and Expand() skip it unless it is asked for by name.
inline constexpr std::string_view kAliasRelation = "hymir:alias";

// Bumped when the on-disk layout changes; Open() refuses other versions.
inline constexpr uint32_t kFormatVersion = 1;

struct Triple {
  std::string subject;
  std::string relation;
  std::string object;

  friend bool operator==(const Triple&, const Triple&) = default;
  friend auto operator<=>(const Triple&, const Triple&) = default;
};

// A triple pattern: an unset position matches anything.
struct TriplePattern {
  std::optional<std::string> subject;
  std::optional<std::string> relation;
  std::optional<std::string> object;
};

enum class Direction : uint8_t {
  kOut,   // entity is the subject: (entity, r, x) yields x
  kIn,    // entity is the object:  (x, r, entity) yields x
  kBoth,  // both of the above
};

struct Neighbor {
  std::string relation;
  std::string entity;   // the node at the other end of the edge
  Direction direction;  // kOut or kIn: which end the queried entity was on
};

// One node reached by Expand(), in breadth-first order.
struct ReachedEntity {
  std::string entity;
  int hops = 0;          // shortest distance from the start (>= 1)
  std::string parent;    // the node it was first reached from (start for hops 1)
  std::string relation;  // relation of the edge parent -- entity
  Direction direction;   // kOut: parent is the subject of that edge
};

struct ExpandOptions {
  // Maximum path length in edges. Default: 2.
  int max_hops = 2;
  // Stop after this many distinct nodes have been reached (the start excluded),
  // bounding work on hubs. Default: 1000.
  size_t max_nodes = 1000;
  // Follow only this relation when set. Default: every relation except
  // kAliasRelation.
  std::optional<std::string> relation;
  // Which edges to follow. Default: kBoth.
  Direction direction = Direction::kBoth;
};

struct TripleStoreOptions {
  // Create the directory and an empty store when it does not exist (or is an
  // empty directory). Default: true.
  bool create_if_missing = true;
  // Fsync the write-ahead log on every write. Without it an OS crash may lose
  // the last writes (a process crash does not); each write stays atomic either
  // way. Default: false.
  bool sync = false;
  // RocksDB block cache shared by all orderings, in bytes. Default: 64 MiB.
  size_t block_cache_bytes = 64u << 20;
  // Open read-only (RocksDB OpenForReadOnly): takes no lock, so any number of
  // read-only opens, in any processes, may read a KG while one writer holds
  // it; creates no file (no WAL, no info LOG); sees the KG as it was at open
  // (changes a writer makes later need a new open). Add/AddBatch/Delete
  // return NotSupported. Implies create_if_missing = false. Default: false.
  bool read_only = false;
};

struct TripleStoreStats {
  uint64_t triples = 0;        // == Count()
  uint64_t terms = 0;          // dictionary size: entities, relations, literals, aliases
  uint64_t subjects = 0;       // distinct subjects (an O(triples) scan)
  uint64_t relations = 0;      // distinct relations (an O(triples) scan)
  uint64_t alias_triples = 0;  // triples under kAliasRelation
};

class TripleStore {
 public:
  // Opens (or, with options.create_if_missing, creates) the store in `dir`.
  // NotFound naming `dir` when it is missing and create_if_missing is false;
  // Corruption naming `dir` when it is not a hymir KG (a foreign or damaged
  // directory, missing column families, another format version), or naming
  // the damaged file when the KG fails its verification (see above); Busy
  // when another writer has it open.
  // The caller owns the returned store; closing = destroying it.
  static Result<std::unique_ptr<TripleStore>> Open(const std::string& dir, const TripleStoreOptions& options = {});

  virtual ~TripleStore() = default;
  TripleStore(const TripleStore&) = delete;
  TripleStore& operator=(const TripleStore&) = delete;

  // Adds one triple; adding an existing triple changes nothing. Terms must be
  // non-empty. InvalidArgument for an empty term.
  virtual Status Add(const Triple& triple) = 0;
  // Adds all triples in one atomic write (all or none); duplicates, within
  // the span or already stored, are ignored. *added (optional) receives the
  // number of triples that were new.
  virtual Status AddBatch(std::span<const Triple> triples, size_t* added = nullptr) = 0;
  // Removes the triple from every ordering (and the alias lookup); removing a
  // missing triple is OK and changes nothing. Dictionary ids are kept.
  virtual Status Delete(const Triple& triple) = 0;
  virtual Result<bool> Exists(const Triple& triple) const = 0;
  // Number of distinct stored triples (a counter kept in the same writes).
  virtual Result<uint64_t> Count() const = 0;

  // Triples matching `pattern`, at most `limit` (0 = no limit), in the key
  // order of the ordering used (by term id, not by string).
  virtual Result<std::vector<Triple>> Match(const TriplePattern& pattern, size_t limit = 0) const = 0;

  // Edges at `entity`, at most `limit` (0 = no limit). kAliasRelation edges
  // are skipped unless `relation` names it.
  virtual Result<std::vector<Neighbor>> Neighbors(const std::string& entity,
                                                  const std::optional<std::string>& relation = {},
                                                  Direction direction = Direction::kOut, size_t limit = 0) const = 0;

  // Breadth-first expansion from `start`, bounded by options.max_hops and
  // options.max_nodes. An unknown start gives an empty list.
  virtual Result<std::vector<ReachedEntity>> Expand(const std::string& start,
                                                    const ExpandOptions& options = {}) const = 0;

  // Aliases: AddAlias stores (entity, kAliasRelation, alias) plus a lookup by
  // the normalised alias (NormalizeAlias) in the same atomic write.
  virtual Status AddAlias(const std::string& entity, const std::string& alias) = 0;
  // The aliases of `entity` as added, in key order (by term id, i.e. the
  // order in which the alias strings first entered the dictionary); empty
  // when none.
  virtual Result<std::vector<std::string>> Aliases(const std::string& entity, size_t limit = 0) const = 0;
  // Entities having an alias equal to `alias` after NormalizeAlias.
  virtual Result<std::vector<std::string>> EntitiesForAlias(const std::string& alias, size_t limit = 0) const = 0;

  // Counts from a full scan of every key, checked against the stored
  // counter (and, in a read-only store with a commit record, against the
  // record): Corruption when they disagree. For `hymir kg stats`, not for hot
  // paths.
  virtual Result<TripleStoreStats> Stats() const = 0;

  // A writer: flushes every write into SST files, verifies the KG by a full
  // scan and writes its commit record; the error when any step fails (the KG
  // then stays without a clean record and the next Open() verifies it by a
  // full scan). A read-only store just closes. The destructor calls it when
  // it was not called; no other method may run during or after it.
  virtual Status Close() = 0;

  // A number that grows with every write to the store (RocksDB's latest
  // sequence number, kept across reopening): derived data cached beside the
  // store (EntityLinker::BuildCached) is current while it is unchanged.
  virtual uint64_t Generation() const = 0;

 protected:
  TripleStore() = default;
};

// Lower-cases ASCII letters, turns '_' and runs of whitespace into one space,
// and trims: "  Canis_Familiaris " -> "canis familiaris". Non-ASCII bytes are
// kept as they are.
std::string NormalizeAlias(std::string_view alias);

}  // namespace hymir::kg

#endif  // HYMIR_KG_TRIPLE_STORE_H_
