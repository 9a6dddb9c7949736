// TripleStore on RocksDB; the layout is in kg/store/layout.h.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "kg/store/commit_record.h"
#include "kg/store/layout.h"
#include "kg/store/rocksdb_status.h"
#include "src/core/file_util.h"

namespace hymir::kg {

namespace {

using internal::DecodeId;
using internal::DecodeKey;
using internal::EncodeId;
using internal::EncodeKey;
using internal::FromRocks;

enum Ordering { kSpo = 0, kPos = 1, kOsp = 2 };

// Discards RocksDB's informational log (read-only opens create no files).
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// One edge seen from a node: (relation id, other node id, direction).
struct EdgeIds {
  uint64_t relation;
  uint64_t other;
  Direction direction;
};

// Smallest string greater than every string starting with `prefix`; empty
// when there is none (all 0xff).
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

class RocksTripleStore final : public TripleStore {
 public:
  RocksTripleStore(std::string dir, bool sync) : dir_(std::move(dir)) { write_options_.sync = sync; }

  ~RocksTripleStore() override { (void)Close(); }

  Status OpenDb(const TripleStoreOptions& options);
  Status Close() override;

  Status Add(const Triple& triple) override { return AddBatch(std::span<const Triple>(&triple, 1), nullptr); }
  Status AddBatch(std::span<const Triple> triples, size_t* added) override;
  Status Delete(const Triple& triple) override;
  Result<bool> Exists(const Triple& triple) const override;
  Result<uint64_t> Count() const override { return ReadCounter(internal::kCountKey); }
  Result<std::vector<Triple>> Match(const TriplePattern& pattern, size_t limit) const override;
  Result<std::vector<Neighbor>> Neighbors(const std::string& entity, const std::optional<std::string>& relation,
                                          Direction direction, size_t limit) const override;
  Result<std::vector<ReachedEntity>> Expand(const std::string& start, const ExpandOptions& options) const override;
  Status AddAlias(const std::string& entity, const std::string& alias) override;
  Result<std::vector<std::string>> Aliases(const std::string& entity, size_t limit) const override;
  Result<std::vector<std::string>> EntitiesForAlias(const std::string& alias, size_t limit) const override;
  Result<TripleStoreStats> Stats() const override;
  uint64_t Generation() const override { return db_->GetLatestSequenceNumber(); }

 private:
  Result<uint64_t> ReadCounter(const char* key) const;
  // The id of `term`, 0 when it is not in the dictionary.
  Result<uint64_t> LookupId(std::string_view term) const;
  // The term of `id`, memoised in *cache.
  Result<std::string> LookupTerm(uint64_t id, std::unordered_map<uint64_t, std::string>* cache) const;
  Result<bool> KeyExists(const std::string& spo_key) const;
  // Id of kAliasRelation, 0 while it is not in the dictionary.
  Result<uint64_t> AliasRelationId() const;

  // Calls fn(key) for each key of ordering `o` starting with `prefix` (all
  // keys when empty) until fn returns false.
  Status Scan(Ordering o, const std::string& prefix, const std::function<bool(std::string_view)>& fn) const;
  // Calls fn for each edge at `node`; stops when fn returns false.
  Status VisitEdges(uint64_t node, uint64_t relation, Direction direction, uint64_t skip_relation,
                    const std::function<bool(const EdgeIds&)>& fn) const;

  // Opens RocksDB on dir_ (handles_ and the cf_* pointers).
  Status OpenRocks(bool read_only, bool create, size_t block_cache_bytes);
  // Closes RocksDB; the status of its Close().
  Status CloseRocks();
  // Reads every key of every column family and checks that they agree: the
  // counter with each ordering, the three orderings with each other (same
  // triples), the dictionary with the next id, every id of a triple with the
  // dictionary. Corruption naming what disagrees; the counts on success.
  Status VerifyByScan(internal::KgCounts* counts) const;

  Status CheckWritable() const {
    return read_only_ ? Status::NotSupported(dir_ + ": knowledge graph opened read-only") : Status::OK();
  }

  const std::string dir_;
  bool read_only_ = false;
  bool closed_ = false;
  bool opened_ = false;  // OpenDb() succeeded: only then does Close() record
  // The clean commit record a read-only store was verified against (its
  // counts are checked again by Stats()); empty otherwise.
  std::optional<internal::CommitRecord> record_;
  // A writer's hold on <dir>/LOCK (flock, beside RocksDB's own fcntl lock),
  // taken before anything is verified or written.
  std::unique_ptr<hymir::internal::FileLock> lock_;
  rocksdb::WriteOptions write_options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* cf_default_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_term2id_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_id2term_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_order_[3] = {nullptr, nullptr, nullptr};
  rocksdb::ColumnFamilyHandle* cf_alias_ = nullptr;

  // Serialises writers: id allocation and the read-check-write of the counter.
  std::mutex write_mu_;
  uint64_t next_id_ = 1;  // GUARDED_BY(write_mu_)
  uint64_t count_ = 0;    // GUARDED_BY(write_mu_)
};

// "default" is rocksdb::kDefaultColumnFamilyName (a global string: not usable
// in a static initialiser).
const char* const kAllCfs[] = {"default",        internal::kCfTerm2Id, internal::kCfId2Term, internal::kCfSpo,
                               internal::kCfPos, internal::kCfOsp,     internal::kCfAlias};

Status RocksTripleStore::OpenDb(const TripleStoreOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool exists = fs::exists(dir_, ec);
  bool create = false;
  read_only_ = options.read_only;
  if (!exists) {
    if (!options.create_if_missing || options.read_only) {
      return Status::NotFound(dir_ + ": no knowledge graph here (directory does not exist)");
    }
    fs::create_directories(dir_, ec);
    if (ec) return Status::IOError(dir_ + ": cannot create directory: " + ec.message());
    create = true;
  } else if (!fs::is_directory(dir_, ec)) {
    return Status::InvalidArgument(dir_ + ": not a directory");
  } else if (!fs::exists(fs::path(dir_) / "CURRENT", ec)) {
    if (fs::is_empty(dir_, ec) && options.create_if_missing && !options.read_only) {
      create = true;
    } else if (fs::is_empty(dir_, ec)) {
      return Status::NotFound(dir_ + ": no knowledge graph here (empty directory)");
    } else {
      return Status::Corruption(dir_ + ": not a hymir knowledge graph (no RocksDB CURRENT file)");
    }
  }

  if (!create) {
    if (!read_only_) {
      // One writer: refused before anything below reads or writes.
      auto lock = hymir::internal::FileLock::Acquire(dir_ + "/LOCK");
      if (!lock.ok()) {
        return Status::Busy(dir_ + ": knowledge graph is open for writing elsewhere (" + lock.status().message() + ")");
      }
      lock_ = std::move(*lock);
    }
    // The commit record first: RocksDB reads a MANIFEST cut at a record
    // boundary as an older one, and a writer would then delete the SST files
    // it no longer names.
    HYMIR_ASSIGN_OR_RETURN(std::optional<internal::CommitRecord> record, internal::ReadCommitRecord(dir_));
    if (record && record->clean) {
      Status verified = internal::VerifyCommitRecord(dir_, *record);
      if (!verified.ok() && read_only_) {
        // A writer may have opened the KG since the record was read: then the
        // record says so, and the scan below verifies what the reader sees.
        auto again = internal::ReadCommitRecord(dir_);
        if (again.ok() && *again && !(*again)->clean) {
          record = std::move(*again);
          verified = Status::OK();
        }
      }
      HYMIR_RETURN_IF_ERROR(verified);
    }
    if (record && record->clean) record_ = std::move(record);

    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names);
    if (!s.ok()) return FromRocks(s, dir_ + ": not a readable hymir knowledge graph");
    std::unordered_set<std::string> have(names.begin(), names.end());
    for (const char* name : kAllCfs) {
      if (!have.count(name)) {
        return Status::Corruption(dir_ + ": not a hymir knowledge graph (no column family '" + name + "')");
      }
    }
    if (!read_only_ && !record_) {
      // No clean record (a writer was killed, or the KG predates records):
      // a full scan through a read-only open, before RocksDB may recover,
      // flush or compact anything.
      HYMIR_RETURN_IF_ERROR(OpenRocks(/*read_only=*/true, /*create=*/false, options.block_cache_bytes));
      internal::KgCounts counts;
      Status scanned = VerifyByScan(&counts);
      Status closed = CloseRocks();
      HYMIR_RETURN_IF_ERROR(scanned);
      HYMIR_RETURN_IF_ERROR(closed);
    }
    if (!read_only_) {
      // From here until Close() the record says a writer has the KG open.
      HYMIR_RETURN_IF_ERROR(internal::WriteCommitRecord(dir_, internal::CommitRecord{}));
    }
  }

  HYMIR_RETURN_IF_ERROR(OpenRocks(read_only_, create, options.block_cache_bytes));

  std::string version;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_default_, internal::kFormatKey, &version);
  if (s.IsNotFound()) {
    if (!create) return Status::Corruption(dir_ + ": not a hymir knowledge graph (no format version)");
    rocksdb::WriteBatch batch;
    batch.Put(cf_default_, internal::kFormatKey, std::to_string(kFormatVersion));
    batch.Put(cf_default_, internal::kCountKey, EncodeId(0));
    batch.Put(cf_default_, internal::kNextIdKey, EncodeId(1));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    HYMIR_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), dir_ + ": writing the format version"));
    HYMIR_RETURN_IF_ERROR(internal::WriteCommitRecord(dir_, internal::CommitRecord{}));
  } else if (!s.ok()) {
    return FromRocks(s, dir_ + ": reading the format version");
  } else if (version != std::to_string(kFormatVersion)) {
    return Status::Corruption(dir_ + ": knowledge graph format version " + version + ", this build reads version " +
                              std::to_string(kFormatVersion));
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  HYMIR_ASSIGN_OR_RETURN(next_id_, ReadCounter(internal::kNextIdKey));
  HYMIR_ASSIGN_OR_RETURN(count_, ReadCounter(internal::kCountKey));
  if (next_id_ == 0) return Status::Corruption(dir_ + ": next term id is 0");
  if (record_) {
    const internal::KgCounts& want = record_->counts;
    if (count_ != want.triples || next_id_ - 1 != want.terms) {
      return Status::Corruption(dir_ + ": holds " + std::to_string(count_) + " triples and " +
                                std::to_string(next_id_ - 1) + " terms, its commit record says " +
                                std::to_string(want.triples) + " and " + std::to_string(want.terms));
    }
    if (!read_only_) record_.reset();  // the writer changes what it describes
  } else if (read_only_) {
    internal::KgCounts counts;
    HYMIR_RETURN_IF_ERROR(VerifyByScan(&counts));
  }
  opened_ = true;
  return Status::OK();
}

Status RocksTripleStore::OpenRocks(bool read_only, bool create, size_t block_cache_bytes) {
  auto cache = rocksdb::NewLRUCache(block_cache_bytes);
  // Bloom filters on whole keys (dictionary and Exists lookups) and, in the
  // orderings, on the 8-byte prefix too.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  rocksdb::ColumnFamilyOptions plain;
  plain.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::ColumnFamilyOptions ordered = plain;
  // A pattern binds one or two leading ids: the 8-byte prefix bloom skips SST
  // files without the first id.
  ordered.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(internal::kIdBytes));
  ordered.memtable_prefix_bloom_size_ratio = 0.05;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = create;
  db_options.create_missing_column_families = create;
  db_options.max_background_jobs = 2;
  // Damage is reported, never skipped: checks on open and on every read
  // (ReadOptions::verify_checksums is on by default), SST sizes against the
  // MANIFEST at open, and no "best efforts" recovery to an older state.
  db_options.paranoid_checks = true;
  db_options.best_efforts_recovery = false;
  db_options.skip_checking_sst_file_sizes_on_db_open = false;
  // No info LOG: a read-only open writes nothing (no LOG.old.* per open), and
  // RocksDB 7.8's own logger aborts on an assertion after a failed write
  // (past `ulimit -f`, or on a full disk) where every other file's write
  // failure is an error.
  db_options.info_log = std::make_shared<NullLogger>();
  (void)read_only;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kAllCfs) {
    bool is_order = std::string_view(name) == internal::kCfSpo || std::string_view(name) == internal::kCfPos ||
                    std::string_view(name) == internal::kCfOsp;
    descriptors.emplace_back(name, is_order ? ordered : plain);
  }
  rocksdb::DB* raw = nullptr;
  handles_.clear();
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir_, descriptors, &handles_, &raw)
                                : rocksdb::DB::Open(db_options, dir_, descriptors, &handles_, &raw);
  if (!s.ok()) return FromRocks(s, dir_);
  db_.reset(raw);
  cf_default_ = handles_[0];
  cf_term2id_ = handles_[1];
  cf_id2term_ = handles_[2];
  cf_order_[kSpo] = handles_[3];
  cf_order_[kPos] = handles_[4];
  cf_order_[kOsp] = handles_[5];
  cf_alias_ = handles_[6];
  return Status::OK();
}

Status RocksTripleStore::CloseRocks() {
  if (!db_) return Status::OK();
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  handles_.clear();
  Status s = FromRocks(db_->Close(), dir_ + ": closing");
  db_.reset();
  return s;
}

Status RocksTripleStore::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  if (!db_) {
    lock_.reset();
    return Status::OK();
  }
  if (read_only_ || !opened_) {
    // A writer whose open failed records nothing: the KG keeps the record
    // (or the mark) it had.
    Status s = CloseRocks();
    lock_.reset();
    return s;
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  // Everything into SST files (read-only opens then replay no WAL), checked
  // by a full scan, then recorded once RocksDB has closed every file.
  Status result = FromRocks(db_->Flush(rocksdb::FlushOptions(), handles_), dir_ + ": flushing");
  internal::KgCounts counts;
  if (result.ok()) result = VerifyByScan(&counts);
  Status closed = CloseRocks();
  if (result.ok()) result = closed;
  if (result.ok()) {
    auto record = internal::RecordDirectory(dir_, counts);
    result = record.ok() ? internal::WriteCommitRecord(dir_, *record) : record.status();
  }
  lock_.reset();
  return result;
}

std::string AliasKey(const std::string& normalized, uint64_t entity);

namespace {

// splitmix64's finaliser: an order-independent sum of triple hashes tells
// whether two orderings hold the same triples.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t TripleHash(uint64_t s, uint64_t p, uint64_t o) { return Mix(s ^ Mix(p ^ Mix(o))); }

}  // namespace

Status RocksTripleStore::VerifyByScan(internal::KgCounts* counts) const {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(dir_ + ": " + why + " (a damaged knowledge graph)");
  };
  HYMIR_ASSIGN_OR_RETURN(uint64_t count, ReadCounter(internal::kCountKey));
  HYMIR_ASSIGN_OR_RETURN(uint64_t next_id, ReadCounter(internal::kNextIdKey));
  if (next_id == 0) return bad("next term id is 0");
  HYMIR_ASSIGN_OR_RETURN(uint64_t alias_rel, AliasRelationId());
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  ro.fill_cache = false;
  {
    // The default column family holds a handful of keys: read them all.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_default_));
    std::optional<std::string> format;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key() == rocksdb::Slice(internal::kFormatKey)) format = it->value().ToString();
    }
    HYMIR_RETURN_IF_ERROR(FromRocks(it->status(), dir_ + ": scanning the default column family"));
    if (!format) return bad("no format version");
    if (*format != std::to_string(kFormatVersion)) {
      return Status::Corruption(dir_ + ": knowledge graph format version " + *format + ", this build reads version " +
                                std::to_string(kFormatVersion));
    }
  }
  const char* names[3] = {internal::kCfSpo, internal::kCfPos, internal::kCfOsp};
  uint64_t n[3] = {0, 0, 0}, sum[3] = {0, 0, 0}, leading[3] = {0, 0, 0};
  uint64_t max_id = 0, aliases = 0;
  for (int o = 0; o < 3; ++o) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_order_[o]));
    uint64_t last_lead = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != internal::kKeyBytes) {
        return bad(std::string(names[o]) + " key of " + std::to_string(it->key().size()) + " bytes, expected 24");
      }
      auto k = DecodeKey(std::string_view(it->key().data(), it->key().size()));
      if (k[0] == 0 || k[1] == 0 || k[2] == 0) return bad(std::string(names[o]) + " key with term id 0");
      uint64_t s = o == kSpo ? k[0] : o == kPos ? k[2] : k[1];
      uint64_t p = o == kSpo ? k[1] : o == kPos ? k[0] : k[2];
      uint64_t ob = o == kSpo ? k[2] : o == kPos ? k[1] : k[0];
      if (n[o] == 0 || k[0] != last_lead) ++leading[o];
      last_lead = k[0];
      ++n[o];
      sum[o] += TripleHash(s, p, ob);
      max_id = std::max({max_id, s, p, ob});
      if (o == kSpo && alias_rel != 0 && p == alias_rel) ++aliases;
    }
    HYMIR_RETURN_IF_ERROR(FromRocks(it->status(), dir_ + ": scanning " + names[o]));
  }
  if (n[kSpo] != count) {
    return bad("the triple counter says " + std::to_string(count) + ", the spo ordering holds " +
               std::to_string(n[kSpo]));
  }
  for (int o : {kPos, kOsp}) {
    if (n[o] != n[kSpo] || sum[o] != sum[kSpo]) {
      return bad(std::string("the ") + names[o] + " ordering (" + std::to_string(n[o]) +
                 " triples) disagrees with spo (" + std::to_string(n[kSpo]) + ")");
    }
  }
  if (max_id >= next_id) {
    return bad("a triple uses term id " + std::to_string(max_id) + ", the dictionary ends at " +
               std::to_string(next_id - 1));
  }
  uint64_t id2term = 0, term2id = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_id2term_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != internal::kIdBytes) return bad("id2term key not 8 bytes");
      uint64_t id = DecodeId(it->key().data());
      if (id == 0 || id >= next_id) return bad("id2term holds id " + std::to_string(id) + " beyond the next id");
      ++id2term;
    }
    HYMIR_RETURN_IF_ERROR(FromRocks(it->status(), dir_ + ": scanning id2term"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_term2id_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->value().size() != internal::kIdBytes) return bad("term2id value not 8 bytes");
      uint64_t id = DecodeId(it->value().data());
      if (id == 0 || id >= next_id) return bad("term2id holds id " + std::to_string(id) + " beyond the next id");
      ++term2id;
    }
    HYMIR_RETURN_IF_ERROR(FromRocks(it->status(), dir_ + ": scanning term2id"));
  }
  if (id2term != next_id - 1 || term2id != next_id - 1) {
    return bad("the dictionary holds " + std::to_string(id2term) + " ids and " + std::to_string(term2id) +
               " terms, the next id says " + std::to_string(next_id - 1));
  }
  // The alias lookup: exactly one key per distinct (normalised alias, entity)
  // of the alias triples.
  {
    std::unordered_set<uint64_t> want;
    uint64_t want_sum = 0;
    std::unordered_map<uint64_t, std::string> cache;
    Status inner;
    HYMIR_RETURN_IF_ERROR(Scan(kPos, EncodeId(alias_rel), [&](std::string_view key) {
      auto k = DecodeKey(key);  // p o s
      auto term = LookupTerm(k[1], &cache);
      if (!term.ok()) {
        inner = term.status();
        return false;
      }
      uint64_t h = Mix(std::hash<std::string>()(AliasKey(NormalizeAlias(*term), k[2])));
      if (want.insert(h).second) want_sum += h;
      if (cache.size() > 4096) cache.clear();
      return true;
    }));
    HYMIR_RETURN_IF_ERROR(inner);
    uint64_t have = 0, have_sum = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_alias_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++have;
      have_sum += Mix(std::hash<std::string>()(it->key().ToString()));
    }
    HYMIR_RETURN_IF_ERROR(FromRocks(it->status(), dir_ + ": scanning alias"));
    if (have != want.size() || have_sum != want_sum) {
      return bad("the alias lookup holds " + std::to_string(have) + " keys, the alias triples give " +
                 std::to_string(want.size()));
    }
  }
  counts->triples = count;
  counts->terms = next_id - 1;
  counts->subjects = leading[kSpo];
  counts->relations = leading[kPos];
  counts->alias_triples = aliases;
  return Status::OK();
}

Result<uint64_t> RocksTripleStore::ReadCounter(const char* key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_default_, key, &v);
  if (!s.ok()) return FromRocks(s, dir_ + ": reading " + key);
  if (v.size() != internal::kIdBytes) {
    return Status::Corruption(dir_ + ": " + key + " has " + std::to_string(v.size()) + " bytes, expected 8");
  }
  return DecodeId(v.data());
}

Result<uint64_t> RocksTripleStore::LookupId(std::string_view term) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_term2id_, rocksdb::Slice(term.data(), term.size()), &v);
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok()) return FromRocks(s, dir_ + ": dictionary lookup");
  if (v.size() != internal::kIdBytes) {
    return Status::Corruption(dir_ + ": dictionary entry for '" + std::string(term) + "' is not 8 bytes");
  }
  return DecodeId(v.data());
}

Result<std::string> RocksTripleStore::LookupTerm(uint64_t id, std::unordered_map<uint64_t, std::string>* cache) const {
  if (auto it = cache->find(id); it != cache->end()) return it->second;
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_id2term_, EncodeId(id), &v);
  if (s.IsNotFound()) {
    return Status::Corruption(dir_ + ": term id " + std::to_string(id) + " has no dictionary entry");
  }
  if (!s.ok()) return FromRocks(s, dir_ + ": dictionary lookup");
  cache->emplace(id, v);
  return v;
}

Result<bool> RocksTripleStore::KeyExists(const std::string& spo_key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_order_[kSpo], spo_key, &v);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, dir_ + ": spo lookup");
  return true;
}

Result<uint64_t> RocksTripleStore::AliasRelationId() const { return LookupId(kAliasRelation); }

Status CheckTerms(const Triple& t) {
  if (t.subject.empty() || t.relation.empty() || t.object.empty()) {
    return Status::InvalidArgument("empty term in triple (" + t.subject + ", " + t.relation + ", " + t.object + ")");
  }
  return Status::OK();
}

std::string AliasKey(const std::string& normalized, uint64_t entity) {
  std::string key = normalized;
  key.push_back('\0');
  key += EncodeId(entity);
  return key;
}

Status RocksTripleStore::AddBatch(std::span<const Triple> triples, size_t* added_out) {
  if (added_out) *added_out = 0;
  HYMIR_RETURN_IF_ERROR(CheckWritable());
  for (const Triple& t : triples) {
    HYMIR_RETURN_IF_ERROR(CheckTerms(t));
    if (t.relation == kAliasRelation && NormalizeAlias(t.object).empty()) {
      return Status::InvalidArgument("alias of '" + t.subject + "' is empty after normalisation");
    }
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string_view, uint64_t> new_terms;
  std::unordered_set<std::string> new_keys;
  uint64_t next_id = next_id_;
  auto id_of = [&](const std::string& term) -> Result<uint64_t> {
    if (auto it = new_terms.find(term); it != new_terms.end()) return it->second;
    HYMIR_ASSIGN_OR_RETURN(uint64_t id, LookupId(term));
    if (id != 0) return id;
    id = next_id++;
    batch.Put(cf_term2id_, term, EncodeId(id));
    batch.Put(cf_id2term_, EncodeId(id), term);
    new_terms.emplace(term, id);
    return id;
  };
  size_t added = 0;
  for (const Triple& t : triples) {
    HYMIR_ASSIGN_OR_RETURN(uint64_t s, id_of(t.subject));
    HYMIR_ASSIGN_OR_RETURN(uint64_t p, id_of(t.relation));
    HYMIR_ASSIGN_OR_RETURN(uint64_t o, id_of(t.object));
    std::string spo = EncodeKey(s, p, o);
    if (new_keys.count(spo)) continue;
    bool fresh_ids = s >= next_id_ || p >= next_id_ || o >= next_id_;
    if (!fresh_ids) {
      HYMIR_ASSIGN_OR_RETURN(bool exists, KeyExists(spo));
      if (exists) continue;
    }
    batch.Put(cf_order_[kSpo], spo, rocksdb::Slice());
    batch.Put(cf_order_[kPos], EncodeKey(p, o, s), rocksdb::Slice());
    batch.Put(cf_order_[kOsp], EncodeKey(o, s, p), rocksdb::Slice());
    if (t.relation == kAliasRelation) batch.Put(cf_alias_, AliasKey(NormalizeAlias(t.object), s), rocksdb::Slice());
    new_keys.insert(std::move(spo));
    ++added;
  }
  if (added == 0 && next_id == next_id_) return Status::OK();
  batch.Put(cf_default_, internal::kCountKey, EncodeId(count_ + added));
  batch.Put(cf_default_, internal::kNextIdKey, EncodeId(next_id));
  HYMIR_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), dir_ + ": writing triples"));
  count_ += added;
  next_id_ = next_id;
  if (added_out) *added_out = added;
  return Status::OK();
}

Status RocksTripleStore::Delete(const Triple& t) {
  HYMIR_RETURN_IF_ERROR(CheckWritable());
  HYMIR_RETURN_IF_ERROR(CheckTerms(t));
  std::lock_guard<std::mutex> lock(write_mu_);
  HYMIR_ASSIGN_OR_RETURN(uint64_t s, LookupId(t.subject));
  HYMIR_ASSIGN_OR_RETURN(uint64_t p, LookupId(t.relation));
  HYMIR_ASSIGN_OR_RETURN(uint64_t o, LookupId(t.object));
  if (s == 0 || p == 0 || o == 0) return Status::OK();
  std::string spo = EncodeKey(s, p, o);
  HYMIR_ASSIGN_OR_RETURN(bool exists, KeyExists(spo));
  if (!exists) return Status::OK();
  rocksdb::WriteBatch batch;
  batch.Delete(cf_order_[kSpo], spo);
  batch.Delete(cf_order_[kPos], EncodeKey(p, o, s));
  batch.Delete(cf_order_[kOsp], EncodeKey(o, s, p));
  if (t.relation == kAliasRelation) {
    // Keep the lookup while another alias of the entity normalises the same.
    std::string normalized = NormalizeAlias(t.object);
    bool still_used = false;
    std::unordered_map<uint64_t, std::string> cache;
    std::string prefix = EncodeId(s) + EncodeId(p);
    Status inner;
    HYMIR_RETURN_IF_ERROR(Scan(kSpo, prefix, [&](std::string_view key) {
      uint64_t other = DecodeKey(key)[2];
      if (other == o) return true;
      auto term = LookupTerm(other, &cache);
      if (!term.ok()) {
        inner = term.status();
        return false;
      }
      if (NormalizeAlias(*term) == normalized) still_used = true;
      return !still_used;
    }));
    HYMIR_RETURN_IF_ERROR(inner);
    if (!still_used) batch.Delete(cf_alias_, AliasKey(normalized, s));
  }
  batch.Put(cf_default_, internal::kCountKey, EncodeId(count_ - 1));
  HYMIR_RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), dir_ + ": deleting a triple"));
  --count_;
  return Status::OK();
}

Result<bool> RocksTripleStore::Exists(const Triple& t) const {
  HYMIR_ASSIGN_OR_RETURN(uint64_t s, LookupId(t.subject));
  HYMIR_ASSIGN_OR_RETURN(uint64_t p, LookupId(t.relation));
  HYMIR_ASSIGN_OR_RETURN(uint64_t o, LookupId(t.object));
  if (s == 0 || p == 0 || o == 0) return false;
  return KeyExists(EncodeKey(s, p, o));
}

Status RocksTripleStore::Scan(Ordering o, const std::string& prefix,
                              const std::function<bool(std::string_view)>& fn) const {
  rocksdb::ReadOptions ro;
  std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  if (prefix.size() < internal::kIdBytes) {
    ro.total_order_seek = true;  // no usable prefix: a full scan
  } else if (!upper.empty()) {
    ro.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_order_[o]));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (!key.starts_with(prefix)) break;
    if (key.size() != internal::kKeyBytes) {
      return Status::Corruption(dir_ + ": ordering key of " + std::to_string(key.size()) + " bytes, expected 24");
    }
    if (!fn(std::string_view(key.data(), key.size()))) break;
  }
  return FromRocks(it->status(), dir_ + ": scanning");
}

Result<std::vector<Triple>> RocksTripleStore::Match(const TriplePattern& pattern, size_t limit) const {
  uint64_t ids[3] = {0, 0, 0};
  const std::optional<std::string>* parts[3] = {&pattern.subject, &pattern.relation, &pattern.object};
  for (int i = 0; i < 3; ++i) {
    if (!parts[i]->has_value()) continue;
    HYMIR_ASSIGN_OR_RETURN(ids[i], LookupId(**parts[i]));
    if (ids[i] == 0) return std::vector<Triple>{};  // an unknown term matches nothing
  }
  bool bs = ids[0] != 0, bp = ids[1] != 0, bo = ids[2] != 0;
  Ordering order;
  std::string prefix;
  if (bs && bp && bo) {
    order = kSpo;
    prefix = EncodeKey(ids[0], ids[1], ids[2]);
  } else if (bs) {
    order = bo ? kOsp : kSpo;
    prefix = bo ? EncodeId(ids[2]) + EncodeId(ids[0]) : EncodeId(ids[0]) + (bp ? EncodeId(ids[1]) : "");
  } else if (bp) {
    order = kPos;
    prefix = EncodeId(ids[1]) + (bo ? EncodeId(ids[2]) : "");
  } else if (bo) {
    order = kOsp;
    prefix = EncodeId(ids[2]);
  } else {
    order = kSpo;
  }
  std::vector<std::array<uint64_t, 3>> found;
  HYMIR_RETURN_IF_ERROR(Scan(order, prefix, [&](std::string_view key) {
    auto k = DecodeKey(key);
    switch (order) {
      case kSpo:
        found.push_back({k[0], k[1], k[2]});
        break;
      case kPos:
        found.push_back({k[2], k[0], k[1]});
        break;
      case kOsp:
        found.push_back({k[1], k[2], k[0]});
        break;
    }
    return limit == 0 || found.size() < limit;
  }));
  std::unordered_map<uint64_t, std::string> cache;
  std::vector<Triple> out;
  out.reserve(found.size());
  for (const auto& f : found) {
    Triple t;
    HYMIR_ASSIGN_OR_RETURN(t.subject, LookupTerm(f[0], &cache));
    HYMIR_ASSIGN_OR_RETURN(t.relation, LookupTerm(f[1], &cache));
    HYMIR_ASSIGN_OR_RETURN(t.object, LookupTerm(f[2], &cache));
    out.push_back(std::move(t));
  }
  return out;
}

Status RocksTripleStore::VisitEdges(uint64_t node, uint64_t relation, Direction direction, uint64_t skip_relation,
                                    const std::function<bool(const EdgeIds&)>& fn) const {
  bool stopped = false;
  if (direction != Direction::kIn) {
    std::string prefix = EncodeId(node) + (relation ? EncodeId(relation) : "");
    HYMIR_RETURN_IF_ERROR(Scan(kSpo, prefix, [&](std::string_view key) {
      auto k = DecodeKey(key);
      if (k[1] == skip_relation) return true;
      stopped = !fn(EdgeIds{k[1], k[2], Direction::kOut});
      return !stopped;
    }));
  }
  if (stopped || direction == Direction::kOut) return Status::OK();
  if (relation) {
    return Scan(kPos, EncodeId(relation) + EncodeId(node), [&](std::string_view key) {
      return fn(EdgeIds{relation, DecodeKey(key)[2], Direction::kIn});
    });
  }
  return Scan(kOsp, EncodeId(node), [&](std::string_view key) {
    auto k = DecodeKey(key);  // o s p
    if (k[2] == skip_relation) return true;
    return fn(EdgeIds{k[2], k[1], Direction::kIn});
  });
}

Result<std::vector<Neighbor>> RocksTripleStore::Neighbors(const std::string& entity,
                                                          const std::optional<std::string>& relation,
                                                          Direction direction, size_t limit) const {
  HYMIR_ASSIGN_OR_RETURN(uint64_t node, LookupId(entity));
  if (node == 0) return std::vector<Neighbor>{};
  uint64_t rel = 0, skip = 0;
  if (relation) {
    HYMIR_ASSIGN_OR_RETURN(rel, LookupId(*relation));
    if (rel == 0) return std::vector<Neighbor>{};
  } else {
    HYMIR_ASSIGN_OR_RETURN(skip, AliasRelationId());
  }
  std::vector<EdgeIds> edges;
  HYMIR_RETURN_IF_ERROR(VisitEdges(node, rel, direction, skip, [&](const EdgeIds& e) {
    edges.push_back(e);
    return limit == 0 || edges.size() < limit;
  }));
  std::unordered_map<uint64_t, std::string> cache;
  std::vector<Neighbor> out;
  out.reserve(edges.size());
  for (const EdgeIds& e : edges) {
    Neighbor n;
    HYMIR_ASSIGN_OR_RETURN(n.relation, LookupTerm(e.relation, &cache));
    HYMIR_ASSIGN_OR_RETURN(n.entity, LookupTerm(e.other, &cache));
    n.direction = e.direction;
    out.push_back(std::move(n));
  }
  return out;
}

Result<std::vector<ReachedEntity>> RocksTripleStore::Expand(const std::string& start,
                                                            const ExpandOptions& options) const {
  HYMIR_ASSIGN_OR_RETURN(uint64_t root, LookupId(start));
  if (root == 0 || options.max_hops <= 0 || options.max_nodes == 0) return std::vector<ReachedEntity>{};
  uint64_t rel = 0, skip = 0;
  if (options.relation) {
    HYMIR_ASSIGN_OR_RETURN(rel, LookupId(*options.relation));
    if (rel == 0) return std::vector<ReachedEntity>{};
  } else {
    HYMIR_ASSIGN_OR_RETURN(skip, AliasRelationId());
  }
  struct Reached {
    uint64_t node, parent, relation;
    int hops;
    Direction direction;
  };
  std::vector<Reached> reached;
  std::unordered_set<uint64_t> seen{root};
  // Hop 1 expands the root; hop h expands the nodes first reached at h - 1.
  std::vector<uint64_t> frontier{root};
  for (int hop = 1; hop <= options.max_hops && !frontier.empty(); ++hop) {
    std::vector<uint64_t> next;
    bool full = false;
    for (uint64_t node : frontier) {
      HYMIR_RETURN_IF_ERROR(VisitEdges(node, rel, options.direction, skip, [&](const EdgeIds& e) {
        if (!seen.insert(e.other).second) return true;
        reached.push_back(Reached{e.other, node, e.relation, hop, e.direction});
        next.push_back(e.other);
        full = reached.size() >= options.max_nodes;
        return !full;
      }));
      if (full) break;
    }
    if (full) break;
    frontier = std::move(next);
  }
  std::unordered_map<uint64_t, std::string> cache;
  std::vector<ReachedEntity> out;
  out.reserve(reached.size());
  for (const Reached& r : reached) {
    ReachedEntity e;
    HYMIR_ASSIGN_OR_RETURN(e.entity, LookupTerm(r.node, &cache));
    HYMIR_ASSIGN_OR_RETURN(e.parent, LookupTerm(r.parent, &cache));
    HYMIR_ASSIGN_OR_RETURN(e.relation, LookupTerm(r.relation, &cache));
    e.hops = r.hops;
    e.direction = r.direction;
    out.push_back(std::move(e));
  }
  return out;
}

Status RocksTripleStore::AddAlias(const std::string& entity, const std::string& alias) {
  return Add(Triple{entity, std::string(kAliasRelation), alias});
}

Result<std::vector<std::string>> RocksTripleStore::Aliases(const std::string& entity, size_t limit) const {
  TriplePattern pattern;
  pattern.subject = entity;
  pattern.relation = std::string(kAliasRelation);
  HYMIR_ASSIGN_OR_RETURN(std::vector<Triple> triples, Match(pattern, limit));
  std::vector<std::string> out;
  out.reserve(triples.size());
  for (Triple& t : triples) out.push_back(std::move(t.object));
  return out;
}

Result<std::vector<std::string>> RocksTripleStore::EntitiesForAlias(const std::string& alias, size_t limit) const {
  std::string prefix = NormalizeAlias(alias);
  if (prefix.empty()) return std::vector<std::string>{};
  prefix.push_back('\0');
  std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_alias_));
  std::vector<uint64_t> ids;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.size() != prefix.size() + internal::kIdBytes) {
      return Status::Corruption(dir_ + ": alias key of unexpected length for '" + alias + "'");
    }
    ids.push_back(DecodeId(key.data() + prefix.size()));
    if (limit != 0 && ids.size() >= limit) break;
  }
  HYMIR_RETURN_IF_ERROR(FromRocks(it->status(), dir_ + ": alias lookup"));
  std::unordered_map<uint64_t, std::string> cache;
  std::vector<std::string> out;
  for (uint64_t id : ids) {
    HYMIR_ASSIGN_OR_RETURN(std::string term, LookupTerm(id, &cache));
    out.push_back(std::move(term));
  }
  return out;
}

Result<TripleStoreStats> RocksTripleStore::Stats() const {
  internal::KgCounts c;
  HYMIR_RETURN_IF_ERROR(VerifyByScan(&c));
  if (record_ && !(c == record_->counts)) {
    return Status::Corruption(dir_ + ": a full scan counts " + std::to_string(c.triples) + " triples, " +
                              std::to_string(c.subjects) + " subjects, " + std::to_string(c.relations) +
                              " relations; the commit record says " + std::to_string(record_->counts.triples) + ", " +
                              std::to_string(record_->counts.subjects) + ", " +
                              std::to_string(record_->counts.relations));
  }
  TripleStoreStats st;
  st.triples = c.triples;
  st.terms = c.terms;
  st.subjects = c.subjects;
  st.relations = c.relations;
  st.alias_triples = c.alias_triples;
  return st;
}

}  // namespace

Result<std::unique_ptr<TripleStore>> TripleStore::Open(const std::string& dir, const TripleStoreOptions& options) {
  auto store = std::make_unique<RocksTripleStore>(dir, options.sync);
  HYMIR_RETURN_IF_ERROR(store->OpenDb(options));
  return std::unique_ptr<TripleStore>(std::move(store));
}

}  // namespace hymir::kg
