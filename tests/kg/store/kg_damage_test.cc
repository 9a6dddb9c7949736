// The KG's damage matrix: truncations and one-bit flips of CURRENT, the
// MANIFEST and every SST file of a small KG. Every case must give an error
// naming the damage or the whole KG (never a silently empty or partial one),
// and a writer opened on the damaged KG must refuse before it changes any
// file, so that restoring the damaged file gives back every triple.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "kg/store/commit_record.h"
#include "tests/testutil/testutil.h"

namespace hymir::kg {
namespace {

namespace fs = std::filesystem;
using hymir::testing::TempDir;

constexpr size_t kTriples = 2 * 1500 * 2;  // two loads of 1,500 edges and 1,500 aliases

std::vector<Triple> Batch(int part) {
  std::vector<Triple> ts;
  for (int i = part * 1500; i < (part + 1) * 1500; ++i) {
    ts.push_back({"ex:e" + std::to_string(i), "rel" + std::to_string(i % 7), "ex:e" + std::to_string((i * 13) % 3000)});
    ts.push_back({"ex:e" + std::to_string(i), std::string(kAliasRelation), "Name " + std::to_string(i)});
  }
  return ts;
}

// Two writer sessions (two loads), so the MANIFEST holds several flushes.
void BuildKg(const std::string& dir) {
  for (int part = 0; part < 2; ++part) {
    auto w = TripleStore::Open(dir);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->AddBatch(Batch(part)).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    files[e.path().filename().string()].assign(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

void Restore(const std::string& dir, const std::map<std::string, std::string>& files) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [name, bytes] : files) std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

// "" when the store holds every triple of BuildKg, else what is wrong.
std::string Incomplete(const TripleStore& store) {
  auto count = store.Count();
  if (!count.ok()) return count.status().ToString();
  auto all = store.Match(TriplePattern{});
  if (!all.ok()) return all.status().ToString();
  auto stats = store.Stats();
  if (!stats.ok()) return stats.status().ToString();
  if (*count != kTriples || all->size() != kTriples || stats->triples != kTriples || stats->subjects != 3000) {
    return "count " + std::to_string(*count) + ", match " + std::to_string(all->size()) + ", subjects " +
           std::to_string(stats->subjects);
  }
  return "";
}

struct Damage {
  std::string file;
  std::string what;
  std::string bytes;  // the file's damaged contents
};

std::vector<Damage> Cases(const std::map<std::string, std::string>& files) {
  std::vector<Damage> out;
  for (const auto& [name, bytes] : files) {
    const bool manifest = name.rfind("MANIFEST-", 0) == 0;
    if (!(name == "CURRENT" || manifest || fs::path(name).extension() == ".sst")) continue;
    std::vector<size_t> cuts{0, bytes.size() / 2, bytes.size() - 1};
    if (manifest) {
      for (size_t tail : {8, 30, 60, 100, 150, 200, 300, 400, 500}) {
        if (tail < bytes.size()) cuts.push_back(bytes.size() - tail);
      }
    }
    for (size_t cut : cuts) out.push_back({name, "cut to " + std::to_string(cut) + " bytes", bytes.substr(0, cut)});
    for (size_t at : {size_t{0}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 2}) {
      if (at >= bytes.size()) continue;
      std::string flipped = bytes;
      flipped[at] = static_cast<char>(flipped[at] ^ 0x02);
      out.push_back({name, "bit flip at " + std::to_string(at), flipped});
    }
  }
  return out;
}

// Runs every case on a copy of `pristine`; returns the number of cases.
int RunMatrix(const std::map<std::string, std::string>& pristine, const std::string& label) {
  TempDir tmp;
  const std::string dir = tmp.Sub("kg");
  int cases = 0;
  for (const Damage& d : Cases(pristine)) {
    ++cases;
    const std::string where = label + ": " + d.file + " " + d.what;
    auto damaged = pristine;
    damaged[d.file] = d.bytes;
    Restore(dir, damaged);

    TripleStoreOptions ro;
    ro.read_only = true;
    auto reader = TripleStore::Open(dir, ro);
    if (reader.ok()) {
      EXPECT_EQ(Incomplete(**reader), "") << where << ": a damaged KG read as a smaller one";
      reader->reset();
    } else {
      EXPECT_FALSE(reader.status().message().empty()) << where;
    }

    auto writer = TripleStore::Open(dir, TripleStoreOptions{.create_if_missing = false});
    if (writer.ok()) {
      EXPECT_EQ(Incomplete(**writer), "") << where << ": a writer opened a damaged KG";
      continue;
    }
    // The refusing writer changed no file: putting the one damaged file back
    // gives every triple.
    auto after = Snapshot(dir);
    for (const auto& [name, bytes] : damaged) {
      if (name == "LOCK" || name.rfind("LOG", 0) == 0) continue;
      EXPECT_TRUE(after.count(name) && after[name] == bytes) << where << ": the refused writer changed " << name;
    }
    std::ofstream(dir + "/" + d.file, std::ios::binary | std::ios::trunc) << pristine.at(d.file);
    auto repaired = TripleStore::Open(dir, TripleStoreOptions{.create_if_missing = false});
    EXPECT_TRUE(repaired.ok()) << where << ": " << repaired.status().ToString();
    if (repaired.ok()) EXPECT_EQ(Incomplete(**repaired), "") << where << ": data lost after the refused writer";
  }
  return cases;
}

TEST(KgDamageTest, CutsAndFlipsOfCurrentManifestAndSstAreRefusedAndLoseNothing) {
  TempDir tmp;
  const std::string kg = tmp.Sub("kg");
  BuildKg(kg);
  auto pristine = Snapshot(kg);
  ASSERT_TRUE(pristine.count(internal::kCommitRecordFile));
  int cases = RunMatrix(pristine, "recorded KG");
  EXPECT_GT(cases, 40);
}

// A KG written before commit records (none in the directory) is verified by
// a full scan: a MANIFEST tail cut is still refused, not read as a smaller KG.
TEST(KgDamageTest, AKgWithoutRecordIsVerifiedByAFullScan) {
  TempDir tmp;
  const std::string kg = tmp.Sub("kg");
  BuildKg(kg);
  auto pristine = Snapshot(kg);
  pristine.erase(internal::kCommitRecordFile);
  Restore(kg, pristine);
  {
    TripleStoreOptions ro;
    ro.read_only = true;
    auto reader = TripleStore::Open(kg, ro);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ(Incomplete(**reader), "");
  }
  EXPECT_GT(RunMatrix(pristine, "KG without a record"), 40);
  // A writer's close records it.
  {
    auto w = TripleStore::Open(kg);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto record = internal::ReadCommitRecord(kg);
  ASSERT_TRUE(record.ok() && record->has_value() && (*record)->clean);
  EXPECT_EQ((*record)->counts.triples, kTriples);
}

// The record itself: a flipped byte in it is Corruption naming it; a writer
// marks the KG as being written until it closes.
TEST(KgDamageTest, DamagedRecordIsRefusedAndAnOpenWriterIsMarked) {
  TempDir tmp;
  const std::string kg = tmp.Sub("kg");
  BuildKg(kg);
  const std::string path = kg + "/" + internal::kCommitRecordFile;
  {
    auto w = TripleStore::Open(kg);
    ASSERT_TRUE(w.ok());
    auto record = internal::ReadCommitRecord(kg);
    ASSERT_TRUE(record.ok() && record->has_value());
    EXPECT_FALSE((*record)->clean);
    // A reader beside the writer verifies by a full scan.
    TripleStoreOptions ro;
    ro.read_only = true;
    auto reader = TripleStore::Open(kg, ro);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ(Incomplete(**reader), "");
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto r = TripleStore::Open(kg);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(internal::kCommitRecordFile), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace hymir::kg
