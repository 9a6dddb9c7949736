// TripleStore: pattern queries against an in-memory oracle, deletes, aliases,
// neighbours/expansion, open errors, and atomicity under SIGKILL.
#include "hymir/kg/triple_store.h"

#include <fcntl.h>
#include <filesystem>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kg/store/layout.h"
#include "tests/testutil/testutil.h"

namespace hymir::kg {
namespace {

using hymir::testing::TempDir;
using TripleSet = std::set<Triple>;

std::unique_ptr<TripleStore> OpenOrDie(const std::string& dir, TripleStoreOptions options = {}) {
  auto r = TripleStore::Open(dir, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

bool Matches(const Triple& t, const TriplePattern& p) {
  return (!p.subject || *p.subject == t.subject) && (!p.relation || *p.relation == t.relation) &&
         (!p.object || *p.object == t.object);
}

// Checks Match(pattern, limit) against the oracle: no limit gives exactly the
// oracle's matches; a limit gives min(limit, n) distinct matching triples.
void CheckPattern(const TripleStore& store, const TripleSet& oracle, const TriplePattern& p, size_t limit) {
  TripleSet expected;
  for (const Triple& t : oracle) {
    if (Matches(t, p)) expected.insert(t);
  }
  auto got = store.Match(p, limit);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  TripleSet got_set(got->begin(), got->end());
  ASSERT_EQ(got_set.size(), got->size()) << "duplicates in Match output";
  std::string where = "pattern (" + p.subject.value_or("?") + ", " + p.relation.value_or("?") + ", " +
                      p.object.value_or("?") + ") limit " + std::to_string(limit);
  if (limit == 0) {
    EXPECT_EQ(got_set, expected) << where;
  } else {
    EXPECT_EQ(got->size(), std::min(limit, expected.size())) << where;
    for (const Triple& t : *got) EXPECT_TRUE(expected.count(t)) << where;
  }
}

TEST(TripleStoreTest, PatternsMatchOracleForAllBindingsWithLimitsAndDeletes) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  std::mt19937 rng(42);
  auto term = [&](const char* prefix, int n) { return std::string(prefix) + std::to_string(rng() % n); };
  TripleSet oracle;
  std::vector<Triple> batch;
  for (int i = 0; i < 3000; ++i) {
    Triple t{term("s", 40), term("p", 6), term("o", 60)};
    if (i % 7 == 0) t.object = std::string("s") + std::to_string(rng() % 40);  // entities also as objects
    oracle.insert(t);
    batch.push_back(t);
    if (batch.size() == 250) {
      ASSERT_OK(store->AddBatch(batch));
      batch.clear();
    }
  }
  ASSERT_OK(store->AddBatch(batch));
  ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
  EXPECT_EQ(count, oracle.size());

  auto check_all = [&] {
    std::vector<Triple> sample(oracle.begin(), oracle.end());
    for (int mask = 0; mask < 8; ++mask) {
      for (int trial = 0; trial < 12; ++trial) {
        // Bind from a stored triple (usually non-empty) or from random terms
        // (often empty or unknown).
        Triple base =
            trial % 3 == 2 ? Triple{term("s", 45), term("p", 7), term("o", 65)} : sample[rng() % sample.size()];
        TriplePattern p;
        if (mask & 1) p.subject = base.subject;
        if (mask & 2) p.relation = base.relation;
        if (mask & 4) p.object = base.object;
        for (size_t limit : {size_t{0}, size_t{1}, size_t{5}, size_t{100000}}) {
          CheckPattern(*store, oracle, p, limit);
        }
      }
    }
  };
  check_all();

  // Delete a third (plus some absent triples), then everything must still agree.
  std::vector<Triple> all(oracle.begin(), oracle.end());
  std::shuffle(all.begin(), all.end(), rng);
  for (size_t i = 0; i < all.size() / 3; ++i) {
    ASSERT_OK(store->Delete(all[i]));
    oracle.erase(all[i]);
    ASSERT_OK_AND_ASSIGN(bool exists, store->Exists(all[i]));
    EXPECT_FALSE(exists);
  }
  ASSERT_OK(store->Delete(Triple{"nobody", "p0", "o1"}));
  ASSERT_OK(store->Delete(all[0]));  // twice
  ASSERT_OK_AND_ASSIGN(count, store->Count());
  EXPECT_EQ(count, oracle.size());
  check_all();
  for (const Triple& t : oracle) {
    ASSERT_OK_AND_ASSIGN(bool exists, store->Exists(t));
    ASSERT_TRUE(exists) << t.subject << " " << t.relation << " " << t.object;
  }

  // Everything survives a reopen.
  store.reset();
  store = OpenOrDie(tmp.Sub("kg"), TripleStoreOptions{.create_if_missing = false});
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(count, store->Count());
  EXPECT_EQ(count, oracle.size());
  check_all();
}

TEST(TripleStoreTest, AddIsIdempotentAndRejectsEmptyTerms) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  std::vector<Triple> batch = {{"a", "r", "b"}, {"a", "r", "b"}, {"b", "r", "c"}};
  size_t added = 0;
  ASSERT_OK(store->AddBatch(batch, &added));
  EXPECT_EQ(added, 2u);
  ASSERT_OK(store->AddBatch(batch, &added));
  EXPECT_EQ(added, 0u);
  ASSERT_OK(store->Add(Triple{"a", "r", "b"}));
  ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
  EXPECT_EQ(count, 2u);
  Status s = store->Add(Triple{"a", "", "b"});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  // A batch with one bad triple writes nothing.
  s = store->AddBatch(std::vector<Triple>{{"x", "r", "y"}, {"", "r", "z"}});
  EXPECT_TRUE(s.IsInvalidArgument());
  ASSERT_OK_AND_ASSIGN(bool exists, store->Exists(Triple{"x", "r", "y"}));
  EXPECT_FALSE(exists);
}

TEST(TripleStoreTest, AliasesAreNormalisedAndHiddenFromNeighbors) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(NormalizeAlias("  Canis_Familiaris\t Dog "), "canis familiaris dog");
  ASSERT_OK(store->AddAlias("wn:dog", "Dog"));
  ASSERT_OK(store->AddAlias("wn:dog", "domestic_dog"));
  ASSERT_OK(store->AddAlias("wn:hotdog", "dog"));
  ASSERT_OK(store->AddAlias("wn:hotdog", "DOG"));
  ASSERT_OK(store->Add(Triple{"wn:dog", "wn:hypernym", "wn:canine"}));
  EXPECT_TRUE(store->AddAlias("wn:x", " _ ").IsInvalidArgument());

  ASSERT_OK_AND_ASSIGN(auto dogs, store->EntitiesForAlias("DOG"));
  std::sort(dogs.begin(), dogs.end());
  EXPECT_EQ(dogs, (std::vector<std::string>{"wn:dog", "wn:hotdog"}));
  ASSERT_OK_AND_ASSIGN(auto domestic, store->EntitiesForAlias("Domestic Dog"));
  EXPECT_EQ(domestic, std::vector<std::string>{"wn:dog"});
  ASSERT_OK_AND_ASSIGN(auto none, store->EntitiesForAlias("cat"));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(auto aliases, store->Aliases("wn:dog"));
  std::sort(aliases.begin(), aliases.end());
  EXPECT_EQ(aliases, (std::vector<std::string>{"Dog", "domestic_dog"}));

  ASSERT_OK_AND_ASSIGN(auto out, store->Neighbors("wn:dog"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].entity, "wn:canine");
  ASSERT_OK_AND_ASSIGN(auto alias_edges, store->Neighbors("wn:dog", std::string(kAliasRelation)));
  EXPECT_EQ(alias_edges.size(), 2u);

  // Deleting one of two aliases that normalise alike keeps the lookup.
  ASSERT_OK(store->Delete(Triple{"wn:hotdog", std::string(kAliasRelation), "DOG"}));
  ASSERT_OK_AND_ASSIGN(dogs, store->EntitiesForAlias("dog"));
  EXPECT_EQ(dogs.size(), 2u);
  ASSERT_OK(store->Delete(Triple{"wn:hotdog", std::string(kAliasRelation), "dog"}));
  ASSERT_OK_AND_ASSIGN(dogs, store->EntitiesForAlias("dog"));
  EXPECT_EQ(dogs, std::vector<std::string>{"wn:dog"});
}

TEST(TripleStoreTest, NeighborsByDirectionAndBoundedExpansion) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  // A chain a -> b -> c -> d (isa), plus b partof x, and a hub with many leaves.
  ASSERT_OK(store->AddBatch(std::vector<Triple>{
      {"a", "isa", "b"}, {"b", "isa", "c"}, {"c", "isa", "d"}, {"b", "partof", "x"}, {"y", "isa", "b"}}));
  std::vector<Triple> hub;
  for (int i = 0; i < 500; ++i) hub.push_back({std::string("leaf") + std::to_string(i), "in", "hub"});
  ASSERT_OK(store->AddBatch(hub));

  ASSERT_OK_AND_ASSIGN(auto out, store->Neighbors("b", std::nullopt, Direction::kOut));
  EXPECT_EQ(out.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto in, store->Neighbors("b", std::nullopt, Direction::kIn));
  std::set<std::string> in_names;
  for (const auto& n : in) {
    EXPECT_EQ(n.direction, Direction::kIn);
    in_names.insert(n.entity);
  }
  EXPECT_EQ(in_names, (std::set<std::string>{"a", "y"}));
  ASSERT_OK_AND_ASSIGN(auto both, store->Neighbors("b", std::string("isa"), Direction::kBoth));
  EXPECT_EQ(both.size(), 3u);  // c out; a, y in
  ASSERT_OK_AND_ASSIGN(auto limited, store->Neighbors("hub", std::nullopt, Direction::kIn, 10));
  EXPECT_EQ(limited.size(), 10u);
  ASSERT_OK_AND_ASSIGN(auto unknown, store->Neighbors("nope"));
  EXPECT_TRUE(unknown.empty());

  ExpandOptions opt;
  opt.max_hops = 2;
  opt.direction = Direction::kOut;
  opt.relation = "isa";
  ASSERT_OK_AND_ASSIGN(auto reached, store->Expand("a", opt));
  ASSERT_EQ(reached.size(), 2u);
  EXPECT_EQ(reached[0].entity, "b");
  EXPECT_EQ(reached[0].hops, 1);
  EXPECT_EQ(reached[1].entity, "c");
  EXPECT_EQ(reached[1].hops, 2);
  EXPECT_EQ(reached[1].parent, "b");
  opt.max_hops = 10;
  ASSERT_OK_AND_ASSIGN(reached, store->Expand("a", opt));
  EXPECT_EQ(reached.size(), 3u);

  ExpandOptions capped;
  capped.max_hops = 3;
  capped.max_nodes = 50;
  ASSERT_OK_AND_ASSIGN(reached, store->Expand("leaf1", capped));
  EXPECT_EQ(reached.size(), 50u);
  EXPECT_EQ(reached[0].entity, "hub");
  std::set<std::string> distinct;
  for (const auto& r : reached) distinct.insert(r.entity);
  EXPECT_EQ(distinct.size(), reached.size());
  EXPECT_FALSE(distinct.count("leaf1"));
}

TEST(TripleStoreTest, OpenErrorsNameThePath) {
  TempDir tmp;
  std::string missing = tmp.Sub("missing");
  auto r = TripleStore::Open(missing, TripleStoreOptions{.create_if_missing = false});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(missing), std::string::npos);

  std::string junk = tmp.Sub("junk");
  std::filesystem::create_directories(junk);
  hymir::testing::WriteText(junk + "/notes.txt", "not a kg");
  r = TripleStore::Open(junk);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(junk), std::string::npos);

  // A plain RocksDB database is not a KG either.
  std::string plain = tmp.Sub("plain");
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, plain, &db).ok());
    delete db;
  }
  r = TripleStore::Open(plain);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();

  // A KG with another format version is refused.
  std::string kg = tmp.Sub("kg");
  { auto store = OpenOrDie(kg); }
  {
    rocksdb::DBOptions o;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, kg, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, kg, cfs, &handles, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), internal::kFormatKey, "99").ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    delete db;
  }
  // Changed behind the store's back, the KG no longer matches its commit
  // record; without the record it is verified by a scan, then the version read.
  r = TripleStore::Open(kg);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  std::filesystem::remove(kg + "/HYMIR-KG-COMMIT");
  r = TripleStore::Open(kg);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("99"), std::string::npos);

  // Two openers of one directory: the second is refused, not corrupted.
  std::string shared = tmp.Sub("shared");
  auto first = OpenOrDie(shared);
  r = TripleStore::Open(shared);
  EXPECT_FALSE(r.ok());
}

// Reads every key of the three orderings (as s,p,o id triples), the alias
// lookup and the counter straight from RocksDB.
struct RawStore {
  std::array<std::set<std::array<uint64_t, 3>>, 3> orderings;
  std::set<std::pair<std::string, uint64_t>> alias_keys;
  uint64_t count = 0;
  uint64_t alias_relation = 0;
};

void ReadRaw(const std::string& dir, RawStore* raw) {
  rocksdb::DBOptions o;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(o, dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(o, dir, cfs, &handles, &db).ok());
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = handles[i];
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  const char* order_cfs[3] = {internal::kCfSpo, internal::kCfPos, internal::kCfOsp};
  for (int k = 0; k < 3; ++k) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, by_name.at(order_cfs[k])));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSERT_EQ(it->key().size(), internal::kKeyBytes);
      auto ids = internal::DecodeKey(std::string_view(it->key().data(), it->key().size()));
      // Back to (s, p, o).
      if (k == 0) raw->orderings[k].insert({ids[0], ids[1], ids[2]});
      if (k == 1) raw->orderings[k].insert({ids[2], ids[0], ids[1]});
      if (k == 2) raw->orderings[k].insert({ids[1], ids[2], ids[0]});
    }
    ASSERT_TRUE(it->status().ok());
  }
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, by_name.at(internal::kCfAlias)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    ASSERT_GT(key.size(), internal::kIdBytes + 1);
    raw->alias_keys.insert({key.substr(0, key.size() - internal::kIdBytes - 1),
                            internal::DecodeId(key.data() + key.size() - internal::kIdBytes)});
  }
  ASSERT_TRUE(it->status().ok());
  it.reset();  // iterators must die before the DB
  std::string v;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), by_name.at("default"), internal::kCountKey, &v).ok());
  raw->count = internal::DecodeId(v.data());
  if (db->Get(rocksdb::ReadOptions(), by_name.at(internal::kCfTerm2Id), std::string(kAliasRelation), &v).ok()) {
    raw->alias_relation = internal::DecodeId(v.data());
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db;
}

// Starts kg_crash_writer (fork + exec), waits for its first write, lets it
// run for `run_ms`, then SIGKILLs it. Returns false if it died on its own.
bool RunAndKillWriter(const std::string& dir, int seed, int run_ms) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  std::string exe = hymir::testing::BinDir() + "/kg_crash_writer";
  std::string seed_arg = std::to_string(seed);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(exe.c_str(), exe.c_str(), dir.c_str(), seed_arg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[16] = {0};
  ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);  // blocks until "ready" or exit
  ::close(fds[0]);
  if (n <= 0) {
    ::waitpid(pid, nullptr, 0);
    return false;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST(TripleStoreCrashTest, SigkilledWriterNeverLeavesATripleInOneOrderingOnly) {
  TempDir tmp;
  std::string dir = tmp.Sub("kg");
  std::mt19937 rng(7);
  uint64_t last_count = 0;
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(RunAndKillWriter(dir, round, 100 + static_cast<int>(rng() % 400)))
        << "kg_crash_writer exited before it was killed (round " << round << ")";
    RawStore raw;
    ReadRaw(dir, &raw);
    ASSERT_FALSE(raw.orderings[0].empty());
    EXPECT_EQ(raw.orderings[0], raw.orderings[1]) << "spo vs pos, round " << round;
    EXPECT_EQ(raw.orderings[0], raw.orderings[2]) << "spo vs osp, round " << round;
    EXPECT_EQ(raw.count, raw.orderings[0].size()) << "counter, round " << round;
    EXPECT_GE(raw.count, last_count / 2);  // progress is kept across kills
    last_count = raw.count;
    // Every alias lookup key belongs to an alias triple of that entity and back.
    std::set<uint64_t> alias_subjects;
    for (const auto& t : raw.orderings[0]) {
      if (t[1] == raw.alias_relation) alias_subjects.insert(t[0]);
    }
    std::set<uint64_t> lookup_subjects;
    for (const auto& [alias, entity] : raw.alias_keys) lookup_subjects.insert(entity);
    EXPECT_EQ(alias_subjects, lookup_subjects) << "round " << round;

    // The public API agrees after recovery.
    auto store = OpenOrDie(dir, TripleStoreOptions{.create_if_missing = false});
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(uint64_t count, store->Count());
    EXPECT_EQ(count, raw.orderings[0].size());
    ASSERT_OK_AND_ASSIGN(auto all, store->Match(TriplePattern{}));
    EXPECT_EQ(all.size(), count);
  }
}

}  // namespace
}  // namespace hymir::kg

namespace hymir::kg {
namespace {

size_t FileCount(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

// One writer and any number of read-only opens share a KG; a
// read-only open creates no file (before: every open was read-write, so a
// second one failed with Busy, and each left a new WAL and LOG.old.*).
TEST(TripleStoreReadOnlyTest, ReadOnlyOpensBesideAWriterCreateNoFiles) {
  TempDir dir;
  auto writer = OpenOrDie(dir.path());
  ASSERT_NE(writer, nullptr);
  ASSERT_OK(writer->Add({"ex:dog", "isa", "ex:canine"}));
  ASSERT_OK(writer->AddAlias("ex:dog", "Dog"));
  TripleStoreOptions ro;
  ro.read_only = true;
  const size_t files = FileCount(dir.path());
  for (int i = 0; i < 10; ++i) {
    auto reader = OpenOrDie(dir.path(), ro);
    ASSERT_NE(reader, nullptr);
    ASSERT_OK_AND_ASSIGN(uint64_t n, reader->Count());
    EXPECT_EQ(n, 2u);
    ASSERT_OK_AND_ASSIGN(auto aliases, reader->Aliases("ex:dog", 5));
    EXPECT_EQ(aliases, std::vector<std::string>{"Dog"});
    EXPECT_TRUE(reader->Add({"a", "b", "c"}).code() == Status::Code::kNotSupported);
    EXPECT_TRUE(reader->Delete({"ex:dog", "isa", "ex:canine"}).code() == Status::Code::kNotSupported);
  }
  EXPECT_EQ(FileCount(dir.path()), files);
  // The writer keeps writing while readers are open.
  auto reader = OpenOrDie(dir.path(), ro);
  ASSERT_OK(writer->Add({"ex:cat", "isa", "ex:feline"}));
  writer.reset();
  // A read-only open never creates a KG.
  EXPECT_TRUE(TripleStore::Open(dir.Sub("absent"), ro).status().IsNotFound());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("absent")));
}

// A damaged SST is an error on read, never an empty answer.
TEST(TripleStoreReadOnlyTest, DamagedSstIsAnErrorNotAnEmptyAnswer) {
  TempDir dir;
  {
    auto w = OpenOrDie(dir.path());
    ASSERT_NE(w, nullptr);
    std::vector<Triple> ts;
    for (int i = 0; i < 2000; ++i) {
      ts.push_back({"ex:e" + std::to_string(i), "rel" + std::to_string(i % 7), "ex:e" + std::to_string(i * 13 % 2000)});
      ts.push_back({"ex:e" + std::to_string(i), std::string(kAliasRelation), "alias number " + std::to_string(i)});
    }
    ASSERT_OK(w->AddBatch(ts));
  }  // closing flushes everything to SST files
  int damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() != ".sst") continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(e.path());
    for (uint64_t at = 100; at + 100 < size; at += 256) {  // a byte in every block
      f.seekp(static_cast<std::streamoff>(at));
      f.put('\x5a');
    }
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  TripleStoreOptions ro;
  ro.read_only = true;
  auto r = TripleStore::Open(dir.path(), ro);
  if (!r.ok()) {
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    return;
  }
  bool failed = false;
  failed |= !(*r)->Match(TriplePattern{}, 0).ok();
  for (int i = 0; i < 2000 && !failed; i += 97) failed |= !(*r)->Aliases("ex:e" + std::to_string(i), 1).ok();
  EXPECT_TRUE(failed) << "every read of a damaged KG succeeded";
}

}  // namespace
}  // namespace hymir::kg
