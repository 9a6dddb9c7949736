// Per-segment caches of ids and exact lengths (searcher open): the
// writer leaves one per committed segment and removes those of merged-away
// segments; a searcher reading them answers exactly as one that walks the
// terms, also for documents deleted after the cache was written; a damaged or
// stale cache (another index's segment of the same name and size) is ignored.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "hymir/index/check_index.h"
#include "index/lucene/segment_cache.h"
#include "src/core/crc32.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

namespace fs = std::filesystem;
using testing::Doc;
using testing::TempDir;

// Every search answer with full-precision scores (they depend on the exact
// lengths), the document count and each hit's stored id.
std::string Answers(const std::string& dir) {
  auto s = Searcher::Open(dir);
  if (!s.ok()) return "error: " + s.status().ToString();
  std::ostringstream out;
  out.precision(17);
  out << (*s)->NumDocs() << "\n";
  for (const std::string q : {"alpha", "beta gamma", "delta", "round", "text document", "epsilon zeta eta"}) {
    TextQuery tq;
    tq.text = q;
    tq.k = 1000;
    auto hits = (*s)->Search(tq);
    if (!hits.ok()) return "error: " + hits.status().ToString();
    for (const auto& h : *hits) out << h.id << " " << h.score << " ";
    out << "\n";
  }
  return out.str();
}

std::string WithoutCaches(const std::string& dir, const std::string& scratch) {
  fs::remove_all(scratch);
  fs::copy(dir, scratch, fs::copy_options::recursive);
  fs::remove_all(scratch + "/" + internal::kSegmentCacheDir);
  return Answers(scratch);
}

std::set<std::string> Segments(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir + "/text")) {
    const std::string f = e.path().filename().string();
    // Every segment has a term dictionary (or a compound file); stored
    // fields may live in a shared doc store named like a segment.
    const std::string ext = e.path().extension().string();
    if (f[0] == '_' && (ext == ".tis" || ext == ".cfs")) out.insert(e.path().stem().string());
  }
  return out;
}

std::set<std::string> Caches(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir + "/" + internal::kSegmentCacheDir)) {
    const std::string f = e.path().filename().string();
    EXPECT_EQ(e.path().extension(), ".seg") << f;
    out.insert(f.substr(0, f.find('.')));
  }
  return out;
}

const char* kWords[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};

Document RoundDoc(int id, int round) {
  std::string text = "round " + std::to_string(round) + " text of document";
  for (int j = 0; j <= (id + round) % 9; ++j) text += std::string(" ") + kWords[(id * 3 + j * 5 + round) % 8];
  return Doc("d" + std::to_string(id), kWords[id % 8], text);
}

TEST(SegmentCacheTest, CachedOpenAnswersAsTheWalkAcrossUpsertsDeletesAndMerges) {
  TempDir tmp;
  const std::string dir = tmp.Sub("index");
  IndexWriterOptions opts;
  opts.ram_buffer_mb = 0.05;  // many small segments, so Lucene++ merges
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir, opts));
  std::set<std::string> seen_caches;
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 150; ++i) ASSERT_OK(w->Upsert(RoundDoc((i * 7 + round * 13) % 260, round)));
    for (int i = 0; i < 12; ++i) ASSERT_OK(w->Delete("d" + std::to_string((i * 31 + round) % 260)));
    ASSERT_OK(w->Commit());
    SCOPED_TRACE("round " + std::to_string(round));
    // One cache per committed segment, none for a merged-away one.
    const auto caches = Caches(dir);
    EXPECT_EQ(caches, Segments(dir));
    seen_caches.insert(caches.begin(), caches.end());
    const std::string cached = Answers(dir);
    ASSERT_EQ(cached.rfind("error", 0), std::string::npos) << cached;
    EXPECT_EQ(cached, WithoutCaches(dir, tmp.Sub("walk")));
  }
  EXPECT_GT(seen_caches.size(), Caches(dir).size()) << "no merge happened: the test lost its point";
}

TEST(SegmentCacheTest, DeletionsAfterTheCacheWasWrittenAreHonoured) {
  TempDir tmp;
  const std::string dir = tmp.Sub("index");
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir));
  for (int i = 0; i < 60; ++i) ASSERT_OK(w->Upsert(RoundDoc(i, 2)));
  ASSERT_OK(w->Commit());
  const auto caches = Caches(dir);
  ASSERT_EQ(caches.size(), 1u);
  const std::string cache = dir + "/" + internal::kSegmentCacheDir + "/" + *caches.begin() + ".seg";
  const auto written = fs::last_write_time(cache);
  for (int i = 0; i < 60; i += 4) ASSERT_OK(w->Delete("d" + std::to_string(i)));
  ASSERT_OK(w->Commit());
  // The segment only gained deletions: its cache is still the one written
  // before them, so the reader must drop the deleted documents itself.
  ASSERT_EQ(Caches(dir), caches);
  ASSERT_EQ(fs::last_write_time(cache), written);
  const std::string cached = Answers(dir);
  EXPECT_EQ(cached.substr(0, cached.find('\n')), "45");
  EXPECT_EQ(cached, WithoutCaches(dir, tmp.Sub("walk")));
}

TEST(SegmentCacheTest, DamagedOrStaleCachesAreIgnored) {
  TempDir tmp;
  auto build = [&](const std::string& dir, const std::string& prefix) {
    std::vector<Document> docs;
    for (int i = 0; i < 40; ++i) {
      Document d = RoundDoc(i, 1);
      d.id = prefix + std::to_string(i);
      docs.push_back(d);
    }
    ASSERT_OK(testing::BuildIndex(dir, docs));
  };
  const std::string a = tmp.Sub("a"), b = tmp.Sub("b");
  build(a, "a");
  build(b, "b");
  const std::string expected = WithoutCaches(b, tmp.Sub("walk"));
  ASSERT_EQ(Answers(b), expected);
  const auto caches = Caches(b);
  ASSERT_EQ(caches, Caches(a));  // the same segment names and sizes
  const std::string cache = b + "/" + internal::kSegmentCacheDir + "/" + *caches.begin() + ".seg";
  const std::string pristine = [&] {
    std::ifstream in(cache, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  // Another index's cache: right name, size and checksum, wrong ids.
  fs::copy_file(a + "/" + internal::kSegmentCacheDir + "/" + *caches.begin() + ".seg", cache,
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(Answers(b), expected);
  // Damage anywhere: header, ids, offsets, lengths; or cut short.
  for (size_t at : {size_t{10}, size_t{60}, pristine.size() / 2, pristine.size() - 3, pristine.size()}) {
    SCOPED_TRACE(at);
    std::string bad = pristine;
    if (at == pristine.size()) {
      bad.resize(bad.size() - 4);
    } else {
      bad[at] = static_cast<char>(bad[at] ^ 0x10);
    }
    std::ofstream(cache, std::ios::binary | std::ios::trunc) << bad;
    EXPECT_EQ(Answers(b), expected);
  }
  // The next commit writes it again.
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(b));
    ASSERT_OK(w->Upsert(Doc("extra", "alpha", "beta")));
    ASSERT_OK(w->Commit());
  }
  std::ifstream in(cache, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), pristine);
}

TEST(SegmentCacheTest, CheckComparesEveryCacheWithItsSegment) {
  TempDir tmp;
  const std::string dir = tmp.Sub("index");
  std::vector<Document> docs;
  for (int i = 0; i < 50; ++i) docs.push_back(RoundDoc(i, 3));
  ASSERT_OK(testing::BuildIndex(dir, docs));
  ASSERT_OK_AND_ASSIGN(auto report, CheckIndex(dir));
  EXPECT_EQ(report.segments, 1u);
  EXPECT_EQ(report.caches_sound, 1u);
  EXPECT_TRUE(report.caches_ignored.empty());
  EXPECT_TRUE(report.caches_absent.empty());

  const auto caches = Caches(dir);
  ASSERT_EQ(caches.size(), 1u);
  const std::string cache = dir + "/" + internal::kSegmentCacheDir + "/" + *caches.begin() + ".seg";
  const std::string pristine = [&] {
    std::ifstream in(cache, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  // Damaged: searchers ignore it, and check says so without failing.
  std::string bad = pristine;
  bad[60] = static_cast<char>(bad[60] ^ 0x10);
  std::ofstream(cache, std::ios::binary | std::ios::trunc) << bad;
  ASSERT_OK_AND_ASSIGN(report, CheckIndex(dir));
  EXPECT_EQ(report.caches_sound, 0u);
  EXPECT_EQ(report.caches_ignored, std::vector<std::string>{*caches.begin()});
  // Absent.
  fs::remove(cache);
  ASSERT_OK_AND_ASSIGN(report, CheckIndex(dir));
  EXPECT_EQ(report.caches_absent, std::vector<std::string>{*caches.begin()});
  // Passes every check a searcher makes (checksums recomputed, sampled ids
  // right) but one length is wrong: a searcher would trust it, check does not.
  bad = pristine;
  const size_t last = bad.size() - 4;  // the last document's "all" length
  uint32_t len;
  std::memcpy(&len, bad.data() + last, 4);
  ++len;
  std::memcpy(bad.data() + last, &len, 4);
  const uint32_t body_crc = hymir::internal::Crc32(0, bad.data() + 48, bad.size() - 48);
  std::memcpy(bad.data() + 32, &body_crc, 4);  // Header::body_crc
  std::memset(bad.data() + 12, 0, 4);          // Header::header_crc, computed with itself zero
  const uint32_t header_crc = hymir::internal::Crc32(0, bad.data(), 48);
  std::memcpy(bad.data() + 12, &header_crc, 4);
  std::ofstream(cache, std::ios::binary | std::ios::trunc) << bad;
  ASSERT_NE(Answers(dir), WithoutCaches(dir, tmp.Sub("walk")));  // the searcher did trust it
  auto damaged = CheckIndex(dir);
  ASSERT_FALSE(damaged.ok());
  EXPECT_TRUE(damaged.status().IsCorruption());
  EXPECT_NE(damaged.status().message().find(".seg"), std::string::npos) << damaged.status().ToString();
}

}  // namespace
}  // namespace hymir::index
