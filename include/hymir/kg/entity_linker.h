// hymir::kg::EntityLinker: finds mentions of KG entities in text by matching
// token sequences against the aliases of a TripleStore.
//
// Build() reads every alias (entity, kAliasRelation, alias) once, tokenizes it
// with the caller's tokenizer and compiles a token trie (token ids, one hash
// edge per (node, token)); Link() then walks the trie from each token position
// (greedy leftmost-longest), so linking costs O(tokens * max_alias_tokens)
// hash probes whatever the number of aliases. The linker keeps no reference to
// the store: it is a snapshot of the aliases at Build() time. Cost on full
// WordNet (207k alias triples, 118k synsets): ~3.5 s to build (one prefix
// scan per entity for its degree, spread over build_threads; the bench
// process peaks at ~150 MB RSS), Link() ~4 us per query at p50
// (bench/kg_link_bench.cc).
//
// Ambiguity (one alias naming several entities: WordNet's "bank" names 18
// synsets, 10 nouns and 8 verbs) is resolved by a static prior computed at Build():
//
//   prior(e) = ln(1 + degree(e)) + 0.5 * ln(1 + aliases(e))
//
// degree(e) = number of non-alias edges at e, both directions, capped at
// LinkerOptions::degree_cap; aliases(e) = number of distinct aliases of e.
// Well-connected entities with many names are the common senses (in WordNet
// the first sense of "dog" has dozens of hyponyms, "frump" has one hypernym).
// Ties break by entity id, so linking is deterministic for a given store.
//
// Thread-safety: an EntityLinker is immutable after Build(); Link() and every
// other const method may be called concurrently from any number of threads.
// The TokenizeFn is called from those threads, so it must be thread-safe.
#ifndef HYMIR_KG_ENTITY_LINKER_H_
#define HYMIR_KG_ENTITY_LINKER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "hymir/result.h"

namespace hymir::kg {

// Turns text into tokens. The same function tokenizes aliases (at Build) and
// texts (at Link), so an analyzer that stems and drops stop words makes the
// linker match "Banks" to the alias "bank". Must be thread-safe and should
// not throw (Build converts an exception to Internal; Link cannot).
using TokenizeFn = std::function<std::vector<std::string>(std::string_view)>;

// The default tokenizer: ASCII letters lower-cased, tokens are maximal runs
// of ASCII letters, digits and non-ASCII bytes; everything else separates
// ("Hot-dog, please!" -> hot dog please).
std::vector<std::string> SimpleTokenize(std::string_view text);

struct LinkerOptions {
  // Aliases longer than this many tokens are not indexed (and mentions are at
  // most this long). Default: 6.
  size_t max_alias_tokens = 6;
  // A single-token alias is indexed only when its token has at least this
  // many bytes: "a", "an", "in", "us" are not worth a link. Default: 3.
  size_t min_single_token_chars = 3;
  // Single-token aliases equal to one of these tokens are not indexed.
  // Default: Lucene's 33 English stop words (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET).
  std::vector<std::string> single_token_stop_words = {
      "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
      "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
      "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
  // Candidates kept per alias, best prior first; the others only count in
  // EntityMention::num_candidates. Default: 3.
  size_t max_candidates = 3;
  // Edges counted per entity for the prior (bounds Build time on hubs).
  // Default: 1000.
  size_t degree_cap = 1000;
  // Threads reading degrees during Build (the store allows concurrent
  // reads); 0 = one per hardware thread, at most 8. Default: 0.
  size_t build_threads = 0;
};

struct LinkCandidate {
  std::string entity;
  double prior = 0;

  friend bool operator==(const LinkCandidate&, const LinkCandidate&) = default;
};

// One linked span of the token sequence: tokens [begin, end).
struct EntityMention {
  size_t begin = 0;
  size_t end = 0;
  std::string alias;                      // the matched tokens joined by single spaces
  std::string entity;                     // the chosen entity == candidates[0].entity
  double prior = 0;                       // its prior (see the header comment)
  size_t num_candidates = 0;              // entities having this alias (before max_candidates)
  std::vector<LinkCandidate> candidates;  // kept alternatives, best first

  friend bool operator==(const EntityMention&, const EntityMention&) = default;
};

struct LinkerStats {
  size_t alias_triples = 0;    // (entity, kAliasRelation, alias) triples read
  size_t indexed_aliases = 0;  // distinct token sequences in the trie
  size_t skipped_aliases = 0;  // empty, too long, too short or stop-word aliases
  size_t entities = 0;         // entities with at least one indexed alias
  size_t tokens = 0;           // distinct alias tokens
  size_t trie_nodes = 0;       // root included
  double build_seconds = 0;    // wall time of Build() (or of loading the cache)
  bool from_cache = false;     // loaded by BuildCached from its cache file
};

// Where hymir keeps the linker cache of the KG in `kg_dir` for a tokenizer:
// outside the KG, which readers never write to:
// $XDG_CACHE_HOME/hymir/ (else $HOME/.cache/hymir/) linker-<16 hex digits of a
// hash of the KG's canonical path and its commit record>-<tokenizer_id, with
// characters other than letters, digits, '-' and '_' replaced by
// '-'>.cache. "" when neither variable is set (BuildCached then builds in
// memory). Cache files of KGs since changed or deleted are never read again
// and may be deleted at any time.
std::string LinkerCachePath(const std::string& kg_dir, std::string_view tokenizer_id);

class EntityLinker {
 public:
  // Reads the aliases of `store` and builds the linker. `tokenize` empty means
  // SimpleTokenize. InvalidArgument for max_alias_tokens == 0 or
  // max_candidates == 0; store errors are passed on. The caller owns the
  // result; `store` may be closed afterwards.
  static Result<std::unique_ptr<EntityLinker>> Build(const TripleStore& store, TokenizeFn tokenize,
                                                     const LinkerOptions& options = {});
  // Build() through a cache file. When `cache_path` holds a linker built
  // from this store at its current Generation() and Count(), with the same
  // `tokenizer_id` and options, it is loaded instead (a fraction of a second
  // on WordNet instead of seconds; stats().from_cache tells). Otherwise the
  // linker is built and written to `cache_path` (its directory created,
  // temp file + rename; nothing when `cache_path` is empty); a
  // failed write is ignored, as is a damaged or stale cache file, which is
  // rebuilt: the cache only saves time. `tokenizer_id` must identify the
  // tokenizer (e.g. the analyzer kind): another tokenizer under the same id
  // would load a trie of other tokens. Safe to call from several threads or
  // processes at once: the file is checksummed, so one caught half-written
  // by a concurrent writer is rejected and rebuilt like a stale one.
  static Result<std::unique_ptr<EntityLinker>> BuildCached(const TripleStore& store, TokenizeFn tokenize,
                                                           const std::string& tokenizer_id,
                                                           const std::string& cache_path,
                                                           const LinkerOptions& options = {});

  virtual ~EntityLinker() = default;
  EntityLinker(const EntityLinker&) = delete;
  EntityLinker& operator=(const EntityLinker&) = delete;

  // Mentions in `text` (tokenized with the Build tokenizer), left to right,
  // non-overlapping: at each position the longest alias starting there wins;
  // a position starting no alias is skipped.
  virtual std::vector<EntityMention> Link(std::string_view text) const = 0;
  // The same on tokens already produced by the Build tokenizer (or an
  // equivalent one); begin/end index `tokens`.
  virtual std::vector<EntityMention> Link(std::span<const std::string> tokens) const = 0;

  // The Build tokenizer applied to `text`.
  virtual std::vector<std::string> Tokenize(std::string_view text) const = 0;

  // The prior of `entity`, or 0 when it has no indexed alias.
  virtual double Prior(std::string_view entity) const = 0;

  virtual const LinkerStats& stats() const = 0;
  virtual const LinkerOptions& options() const = 0;

 protected:
  EntityLinker() = default;
};

}  // namespace hymir::kg

#endif  // HYMIR_KG_ENTITY_LINKER_H_
