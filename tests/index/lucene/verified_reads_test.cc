// Every byte a query reads is verified, also in files too large to checksum
// at open: one index with postings, positions and stored text over 4 MiB is
// built once, then single bits are flipped inside the postings and positions
// of the queried terms and inside the stored record of a returned document.
// Each flip must give an error naming the damaged file, or answers identical
// to the undamaged index; and CheckIndex must name the file.
#include <gtest/gtest.h>
#include <lucene++/LuceneHeaders.h>
#include <lucene++/SegmentTermEnum.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hymir/index/check_index.h"
#include "index/lucene/block_checksums.h"
#include "index/lucene/commit_manifest.h"
#include "index/lucene/lucene_util.h"
#include "src/core/crc32.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Pronounceable words the English analyzer keeps as they are (no suffix the
// stemmer strips): consonant-vowel syllables ending in a consonant.
std::string Word(uint32_t i) {
  static const char* kC = "bdfgklmnprtvz";
  static const char* kV = "aiou";
  std::string w;
  do {
    w += kC[i % 13];
    i /= 13;
    w += kV[i % 4];
    i /= 4;
  } while (i > 0);
  return w + "x";
}

constexpr int kDocs = 40000;
constexpr int kVocabulary = 6000;

// A skewed draw from the vocabulary: word i with weight about 1 / (i + 10).
uint32_t Draw(uint64_t* state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  const double u = static_cast<double>(*state >> 11) / static_cast<double>(uint64_t{1} << 53);
  return static_cast<uint32_t>(std::min<double>(kVocabulary - 1, 10.0 * std::pow((kVocabulary + 10) / 10.0, u) - 10));
}

class VerifiedReadsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    dir_ = tmp_->Sub("large");
    IndexWriterOptions opts;
    opts.ram_buffer_mb = 512;  // one segment
    auto w = IndexWriter::Open(dir_, opts);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    uint64_t state = 42;
    for (int i = 0; i < kDocs; ++i) {
      Document d;
      d.id = "d" + std::to_string(i);
      for (int j = 0; j < 4; ++j) d.title += Word(Draw(&state)) + " ";
      for (int j = 0; j < 110; ++j) d.text += Word(Draw(&state)) + (j % 12 == 11 ? ". " : " ");
      ASSERT_TRUE((*w)->Upsert(d).ok());
    }
    ASSERT_TRUE((*w)->Commit().ok());
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  static std::string Text(const std::string& f) { return dir_ + "/text/" + f; }

  static inline TempDir* tmp_ = nullptr;
  static inline std::string dir_;
};

// The queries of the trials: terms of a few frequencies and phrases of them.
const std::vector<std::string>& QueryTerms() {
  static const std::vector<std::string> terms = {Word(3), Word(40), Word(400), Word(2500)};
  return terms;
}

// Everything the trials compare: top 10 and top 1000 of each term, two
// phrases (positions), and the stored text of the top hits of each term.
Result<std::string> Answers(const std::string& dir) {
  HYMIR_ASSIGN_OR_RETURN(auto s, Searcher::Open(dir));
  std::ostringstream out;
  const auto& terms = QueryTerms();
  std::vector<std::string> queries = terms;
  queries.push_back("\"" + terms[0] + " " + terms[1] + "\"");
  queries.push_back("\"" + terms[1] + " " + terms[2] + "\"~3");
  for (const std::string& q : queries) {
    for (size_t k : {size_t{10}, size_t{1000}}) {
      TextQuery tq;
      tq.text = q;
      tq.k = k;
      tq.syntax = q[0] == '"' ? QuerySyntax::kLucene : tq.syntax;
      HYMIR_ASSIGN_OR_RETURN(auto hits, s->Search(tq));
      for (const auto& h : hits) out << h.id << ":" << h.score << " ";
      out << "\n";
      if (k != 10) continue;
      for (size_t i = 0; i < std::min<size_t>(hits.size(), 3); ++i) {
        HYMIR_ASSIGN_OR_RETURN(Document d, s->GetDocument(hits[i].id));
        out << d.title << "|" << d.text << "\n";
      }
    }
  }
  return out.str();
}

// Byte ranges [begin, end) of a term's postings in .frq and its positions in
// .prx, from the term dictionary (Lucene++'s own enumeration).
struct TermRanges {
  int64_t frq_begin = 0, frq_end = 0, prx_begin = 0, prx_end = 0;
};

TermRanges RangesOf(const std::string& dir, const std::string& term) {
  TermRanges r;
  auto directory = Lucene::FSDirectory::open(internal::Wide(dir + "/text"));
  auto reader = Lucene::IndexReader::open(directory, true);
  Lucene::Collection<Lucene::IndexReaderPtr> segments = reader->getSequentialSubReaders();
  EXPECT_EQ(segments.size(), 1) << "a one-segment index";
  auto terms = segments[0]->terms(Lucene::newLucene<Lucene::Term>(L"text", internal::Wide(term)));
  auto e = boost::dynamic_pointer_cast<Lucene::SegmentTermEnum>(terms);
  EXPECT_TRUE(e);
  if (e && e->term() && e->term()->text() == internal::Wide(term)) {
    r.frq_begin = e->freqPointer();
    r.prx_begin = e->proxPointer();
    if (e->next()) {
      r.frq_end = e->freqPointer();
      r.prx_end = e->proxPointer();
    }
  }
  terms->close();
  reader->close();
  directory->close();
  return r;
}

// Where doc `doc`'s stored fields lie in .fdt ([begin, end), from .fdx).
std::pair<uint64_t, uint64_t> StoredRange(const std::string& fdx, int32_t doc) {
  std::ifstream in(fdx, std::ios::binary);
  auto at = [&](int64_t pos) {
    in.seekg(pos);
    unsigned char b[8];
    in.read(reinterpret_cast<char*>(b), 8);
    uint64_t v = 0;
    for (unsigned char c : b) v = v << 8 | c;  // Lucene: big-endian
    return v;
  };
  return {at(4 + 8 * int64_t{doc}), at(4 + 8 * (int64_t{doc} + 1))};
}

void FlipBit(const std::string& path, uint64_t at, int bit) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ (1 << bit));
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

std::string SegmentFile(const std::string& dir, const std::string& ext) {
  for (const auto& e : fs::directory_iterator(dir + "/text")) {
    const std::string n = e.path().filename().string();
    if (n.size() > ext.size() && n.compare(n.size() - ext.size(), ext.size(), ext) == 0) return n;
  }
  return "";
}

TEST_F(VerifiedReadsTest, LargeFilesHaveBlockChecksumsAndOpenWithoutReadingThem) {
  for (const std::string ext : {".frq", ".prx", ".fdt"}) {
    const std::string f = SegmentFile(dir_, ext);
    ASSERT_FALSE(f.empty()) << ext;
    EXPECT_GT(fs::file_size(Text(f)), internal::kChecksumOnOpenBytes) << f << " is too small for this test";
  }
  internal::VerifyStats stats;
  internal::BlockTables tables;
  ASSERT_OK(internal::VerifyCommitManifest(dir_, internal::VerifyLevel::kOpen, &stats, &tables));
  EXPECT_TRUE(stats.blocks);
  EXPECT_GE(stats.files_by_block, 3u);
  EXPECT_TRUE(tables.count("text/" + SegmentFile(dir_, ".frq")));
  EXPECT_LT(stats.bytes_checksummed, fs::file_size(Text(SegmentFile(dir_, ".fdt"))));
}

TEST_F(VerifiedReadsTest, FlippedBitsInQueriedPostingsPositionsAndStoredTextAreErrorsNamingTheFile) {
  ASSERT_OK_AND_ASSIGN(const std::string expected, Answers(dir_));
  const std::string frq = SegmentFile(dir_, ".frq"), prx = SegmentFile(dir_, ".prx");
  const std::string fdt = SegmentFile(dir_, ".fdt"), fdx = SegmentFile(dir_, ".fdx");
  struct Trial {
    std::string file;
    uint64_t at;
  };
  std::vector<Trial> trials;
  for (const std::string& t : QueryTerms()) {
    const TermRanges r = RangesOf(dir_, t);
    ASSERT_LT(r.frq_begin, r.frq_end) << t;
    ASSERT_LT(r.prx_begin, r.prx_end) << t;
    trials.push_back({frq, static_cast<uint64_t>(r.frq_begin + (r.frq_end - r.frq_begin) / 3)});
    trials.push_back({prx, static_cast<uint64_t>(r.prx_begin + (r.prx_end - r.prx_begin) / 2)});
  }
  {  // the stored record of the first hit of the first term
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir_));
    TextQuery tq;
    tq.text = QueryTerms()[0];
    tq.k = 1;
    ASSERT_OK_AND_ASSIGN(auto hits, s->Search(tq));
    ASSERT_EQ(hits.size(), 1u);
    const int32_t doc = std::stoi(hits[0].id.substr(1));  // one segment, no deletion: docid = insertion order
    const auto [begin, end] = StoredRange(Text(fdx), doc);
    ASSERT_LT(begin + 8, end);
    trials.push_back({fdt, begin + 2});
    trials.push_back({fdt, (begin + end) / 2});
  }
  int errors = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    const Trial& t = trials[i];
    SCOPED_TRACE(t.file + " byte " + std::to_string(t.at));
    const int bit = static_cast<int>(i % 8);
    FlipBit(Text(t.file), t.at, bit);
    auto got = Answers(dir_);
    auto check = CheckIndex(dir_);
    FlipBit(Text(t.file), t.at, bit);  // undo
    if (got.ok()) {
      EXPECT_EQ(*got, expected) << "a silent wrong answer";
    } else {
      ++errors;
      EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
      EXPECT_NE(got.status().message().find(t.file), std::string::npos) << got.status().ToString();
    }
    ASSERT_FALSE(check.ok());
    EXPECT_NE(check.status().message().find(t.file), std::string::npos) << check.status().ToString();
  }
  // The postings and stored records are read whole by these queries: each
  // flip there is seen.
  EXPECT_GE(errors, 6);
  ASSERT_OK_AND_ASSIGN(const std::string after, Answers(dir_));
  EXPECT_EQ(after, expected);
}

TEST_F(VerifiedReadsTest, ADamagedBlockIsReportedOnEveryReadNotOnlyTheFirst) {
  const std::string frq = SegmentFile(dir_, ".frq");
  const TermRanges r = RangesOf(dir_, QueryTerms()[1]);
  ASSERT_LT(r.frq_begin, r.frq_end);
  const uint64_t at = static_cast<uint64_t>(r.frq_begin + (r.frq_end - r.frq_begin) / 2);
  FlipBit(Text(frq), at, 3);
  auto s = Searcher::Open(dir_);
  Status first, second;
  if (s.ok()) {
    TextQuery tq;
    tq.text = QueryTerms()[1];
    first = (*s)->Search(tq).status();
    second = (*s)->Search(tq).status();
  }
  FlipBit(Text(frq), at, 3);
  ASSERT_OK(s.status());
  EXPECT_TRUE(first.IsCorruption()) << first.ToString();
  EXPECT_TRUE(second.IsCorruption()) << second.ToString();
  EXPECT_NE(second.message().find(frq), std::string::npos) << second.ToString();
}

TEST_F(VerifiedReadsTest, RefreshKeepsVerifyingTheLargeFilesAfterANewCommit) {
  const std::string copy = tmp_->Sub("refresh");
  fs::copy(dir_, copy, fs::copy_options::recursive);
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(copy));
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(copy));
    ASSERT_OK(w->Upsert(testing::Doc("new", "", Word(400) + " " + Word(2500))));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK(s->Refresh());
  // The large segment (the only one of dir_) is unchanged by the commit.
  const std::string frq = SegmentFile(dir_, ".frq");
  ASSERT_TRUE(fs::exists(copy + "/text/" + frq));
  const TermRanges r = RangesOf(dir_, QueryTerms()[2]);
  ASSERT_LT(r.frq_begin, r.frq_end);
  const uint64_t at = static_cast<uint64_t>(r.frq_begin + (r.frq_end - r.frq_begin) / 2);
  FlipBit(copy + "/text/" + frq, at, 5);
  TextQuery tq;
  tq.text = QueryTerms()[2];
  auto hits = s->Search(tq);
  ASSERT_FALSE(hits.ok()) << "read unverified after Refresh()";
  EXPECT_TRUE(hits.status().IsCorruption()) << hits.status().ToString();
  EXPECT_NE(hits.status().message().find(frq), std::string::npos) << hits.status().ToString();
}

TEST_F(VerifiedReadsTest, AnIndexWithoutBlockChecksumsChecksumsLargeFilesWholeAtOpen) {
  const std::string copy = tmp_->Sub("old");
  fs::copy(dir_, copy, fs::copy_options::recursive);
  // Rewrite the manifest as a build before block checksums wrote it: no
  // BLOCKS_ line (and its crc32 trailer recomputed by hand below).
  std::string manifest;
  {
    std::ifstream in(copy + "/MANIFEST");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(" BLOCKS_") != std::string::npos || line.rfind("crc32 ", 0) == 0) continue;
      manifest += line + "\n";
    }
  }
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", hymir::internal::Crc32(0, manifest.data(), manifest.size()));
  std::ofstream(copy + "/MANIFEST", std::ios::trunc) << manifest << "crc32 " << crc << "\n";
  for (const auto& e : fs::directory_iterator(copy)) {
    if (e.path().filename().string().rfind("BLOCKS_", 0) == 0) fs::remove(e.path());
  }
  internal::VerifyStats stats;
  ASSERT_OK(internal::VerifyCommitManifest(copy, internal::VerifyLevel::kOpen, &stats));
  EXPECT_FALSE(stats.blocks);
  EXPECT_EQ(stats.files_by_block, 0u);
  EXPECT_GT(stats.bytes_checksummed, fs::file_size(copy + "/text/" + SegmentFile(copy, ".fdt")));
  // A flipped bit anywhere in a large file is then an error at open.
  const std::string fdt = SegmentFile(copy, ".fdt");
  FlipBit(copy + "/text/" + fdt, fs::file_size(copy + "/text/" + fdt) / 2, 1);
  auto s = Searcher::Open(copy);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(fdt), std::string::npos) << s.status().ToString();
  FlipBit(copy + "/text/" + fdt, fs::file_size(copy + "/text/" + fdt) / 2, 1);
  // The next writer records the block checksums.
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(copy));
  w.reset();
  ASSERT_OK(internal::VerifyCommitManifest(copy, internal::VerifyLevel::kOpen, &stats));
  EXPECT_TRUE(stats.blocks);
  EXPECT_GE(stats.files_by_block, 3u);
}

TEST(BlockChecksumsTest, ParserRefusesDamagedTables) {
  internal::BlockTables tables;
  auto t = std::make_shared<internal::FileBlocks>();
  t->size = 70000;
  t->crc = 7;
  t->block_bytes = internal::kBlockBytes;
  t->blocks = {1, 2, 3};
  tables["text/_0.frq"] = t;
  const std::string bytes = internal::SerializeBlockTables(tables);
  ASSERT_OK_AND_ASSIGN(auto back, internal::ParseBlockTables("B", bytes));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back["text/_0.frq"]->blocks, t->blocks);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    auto p = internal::ParseBlockTables("B", damaged);
    EXPECT_TRUE(p.status().IsCorruption()) << i;
  }
  EXPECT_TRUE(internal::ParseBlockTables("B", bytes.substr(0, bytes.size() - 1)).status().IsCorruption());
  // A table whose block count disagrees with its size, with a valid trailer.
  t->blocks = {1, 2};
  EXPECT_TRUE(internal::ParseBlockTables("B", internal::SerializeBlockTables(tables)).status().IsCorruption());
}

}  // namespace
}  // namespace hymir::index
