// Which English analyzer an index uses. Indexes of format 1 and 2 hold the
// terms of Lucene++'s stemmer and record it as "english": they must keep
// analysing queries (and new documents) with it, english-lucenepp30. A new
// index is of format 3 and records "english", the stemmer Java Lucene has.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "index/lucene/index_layout.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

using testing::Doc;
using testing::TempDir;

const std::string kFixture = std::string(HYMIR_SOURCE_DIR) + "/tests/index/lucene/testdata/format2_english";

// The fixture's index, copied (a writer may change it).
std::string CopyFixtureIndex(const TempDir& dir) {
  const std::string to = dir.Sub("format2");
  std::filesystem::copy(kFixture + "/index", to, std::filesystem::copy_options::recursive);
  return to;
}

std::map<std::string, std::string> FixtureQueries() {
  std::map<std::string, std::string> out;
  std::ifstream in(kFixture + "/queries.jsonl");
  for (std::string line; std::getline(in, line);) {
    // {"_id":"q1","text":"brains"}
    const size_t id = line.find("\"_id\":\"") + 7;
    const size_t text = line.find("\"text\":\"") + 8;
    out[line.substr(id, line.find('"', id) - id)] = line.substr(text, line.find('"', text) - text);
  }
  return out;
}

// "qid docid score" lines in rank order, from a TREC run.
std::string ExpectedAnswers() {
  std::ifstream in(kFixture + "/expected_run.tsv");
  std::ostringstream out;
  out.precision(17);
  std::string qid, q0, id, tag;
  int rank;
  double score;
  while (in >> qid >> q0 >> id >> rank >> score >> tag) out << qid << " " << id << " " << score << "\n";
  return out.str();
}

std::string Answers(const Searcher& s) {
  std::ostringstream out;
  out.precision(17);
  std::map<int, std::string> by_number;  // q1, q2, ..., q10 in numeric order, as the run lists them
  for (const auto& [qid, text] : FixtureQueries()) by_number[std::stoi(qid.substr(1))] = qid;
  const auto queries = FixtureQueries();
  for (const auto& [n, qid] : by_number) {
    TextQuery q;
    q.text = queries.at(qid);
    q.k = 100;
    auto hits = s.Search(q);
    if (!hits.ok()) return hits.status().ToString();
    for (const auto& h : *hits) out << qid << " " << h.id << " " << h.score << "\n";
  }
  return out.str();
}

TEST(AnalyzerCompatTest, Format2EnglishIndexAnswersAsTheBuildThatWroteIt) {
  TempDir dir;
  const std::string index = CopyFixtureIndex(dir);
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(index));
  EXPECT_EQ(s->analyzer(), AnalyzerKind::kEnglishLegacy);
  const std::string expected = ExpectedAnswers();
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Answers(*s), expected);
  // Its postings hold Lucene++'s stems: "brains" finds only the document
  // that says "brains", and "users" and "using" are one term.
  TextQuery brains;
  brains.text = "brains";
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(brains));
  EXPECT_EQ(testing::Ids(hits), (std::vector<std::string>{"d1"}));
}

TEST(AnalyzerCompatTest, WritingAFormat2IndexKeepsItsFormatAndAnalyzer) {
  TempDir dir;
  const std::string index = CopyFixtureIndex(dir);
  ASSERT_OK_AND_ASSIGN(AnalyzerKind kind, IndexAnalyzer(index));
  EXPECT_EQ(kind, AnalyzerKind::kEnglishLegacy);
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(index));
    EXPECT_EQ(w->analyzer(), AnalyzerKind::kEnglishLegacy);
    ASSERT_OK(w->Upsert(Doc("d11", "", "More brains for users")));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto meta, internal::ReadMeta(index));
  EXPECT_EQ(meta.format_version, 2);
  std::ifstream in(index + "/hymir.json");
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find("\"analyzer\": \"english\""), std::string::npos) << json;  // as builds before format 3 read it
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(index));
  TextQuery q;
  q.text = "using";  // "us" under Lucene++'s stemmer, as "users"
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
  const auto ids = testing::Ids(hits);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "d11"), ids.end());

  // Asking for the corrected english analyzer is refused, and says why.
  IndexWriterOptions english;
  english.analyzer = AnalyzerKind::kEnglish;
  auto refused = IndexWriter::Open(index, english);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("english-lucenepp30"), std::string::npos) << refused.status().ToString();
  IndexWriterOptions legacy;
  legacy.analyzer = AnalyzerKind::kEnglishLegacy;
  EXPECT_TRUE(IndexWriter::Open(index, legacy).ok());
}

TEST(AnalyzerCompatTest, NewIndexRecordsFormat3AndTheEnglishAnalyzer) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(AnalyzerKind planned, IndexAnalyzer(dir.path()));
  EXPECT_EQ(planned, AnalyzerKind::kEnglish);
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
    ASSERT_OK(w->Upsert(Doc("1", "", "the brain is here")));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto meta, internal::ReadMeta(dir.path()));
  EXPECT_EQ(meta.format_version, 3);
  EXPECT_EQ(meta.analyzer, AnalyzerKind::kEnglish);
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  EXPECT_EQ(s->analyzer(), AnalyzerKind::kEnglish);
  TextQuery q;
  q.text = "brains";
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
  EXPECT_EQ(testing::Ids(hits), (std::vector<std::string>{"1"}));
}

TEST(AnalyzerCompatTest, OlderFormatsImplyEnglishLucenepp30) {
  TempDir dir;
  for (int version : {1, 2}) {
    const std::string index = dir.Sub("v" + std::to_string(version));
    IndexWriterOptions options;
    options.format_version = version;
    ASSERT_OK_AND_ASSIGN(AnalyzerKind planned, IndexAnalyzer(index, options));
    EXPECT_EQ(planned, AnalyzerKind::kEnglishLegacy);
    {
      ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(index, options));
      EXPECT_EQ(w->analyzer(), AnalyzerKind::kEnglishLegacy);
      ASSERT_OK(w->Upsert(Doc("1", "", "the brain is here")));
      ASSERT_OK(w->Commit());
    }
    ASSERT_OK_AND_ASSIGN(auto meta, internal::ReadMeta(index));
    EXPECT_EQ(meta.format_version, version);
    EXPECT_EQ(meta.analyzer, AnalyzerKind::kEnglishLegacy);
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(index));
    TextQuery q;
    q.text = "brains";  // "brai" under Lucene++'s stemmer
    ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
    EXPECT_TRUE(hits.empty()) << version;

    // Such a format cannot record the english analyzer: refused before
    // anything is written.
    const std::string other = dir.Sub("english" + std::to_string(version));
    options.analyzer = AnalyzerKind::kEnglish;
    EXPECT_FALSE(IndexAnalyzer(other, options).ok());
    auto refused = IndexWriter::Open(other, options);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("format_version " + std::to_string(version)), std::string::npos)
        << refused.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(other + "/hymir.json"));
  }
}

TEST(AnalyzerCompatTest, Format3RecordsEnglishLucenepp30ByName) {
  TempDir dir;
  ASSERT_OK(testing::BuildIndex(dir.path(), {Doc("1", "", "the brain is here")}, AnalyzerKind::kEnglishLegacy));
  std::ifstream in(dir.path() + "/hymir.json");
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find("\"analyzer\": \"english-lucenepp30\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"format_version\": 3"), std::string::npos) << json;
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  EXPECT_EQ(s->analyzer(), AnalyzerKind::kEnglishLegacy);
}

// Every analyzer kind, the older English one included, analyses the query
// language's terms and phrases (and a count agrees with the hits).
TEST(AnalyzerCompatTest, QueryLanguageRunsOnEveryAnalyzer) {
  for (AnalyzerKind kind : {AnalyzerKind::kEnglish, AnalyzerKind::kStandard, AnalyzerKind::kWhitespace,
                            AnalyzerKind::kEnglishLegacy}) {
    TempDir dir;
    ASSERT_OK(testing::BuildIndex(dir.path(),
                                  {Doc("1", "", "the brain is here"), Doc("2", "", "other tools were used"),
                                   Doc("3", "", "used brain tissue")},
                                  kind));
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
    TextQuery q;
    q.syntax = QuerySyntax::kLucene;
    q.text = "brain AND \"brain tissue\" -other";
    ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
    ASSERT_EQ(hits.size(), 1u) << AnalyzerName(kind);
    EXPECT_EQ(hits[0].id, "3");
    ASSERT_OK_AND_ASSIGN(uint64_t total, s->Count(q));
    EXPECT_EQ(total, 1u) << AnalyzerName(kind);
  }
}

TEST(AnalyzerCompatTest, Format2MetadataSayingEnglishReadsAsEnglishLucenepp30) {
  TempDir dir;
  for (int version : {1, 2, 3}) {
    const std::string d = dir.Sub("m" + std::to_string(version));
    std::filesystem::create_directories(d);
    testing::WriteText(d + "/hymir.json", R"({"analyzer": "english", "format": "hymir-index", "format_version": )" +
                                              std::to_string(version) + R"(, "vector_fields": []})");
    ASSERT_OK_AND_ASSIGN(auto meta, internal::ReadMeta(d));
    EXPECT_EQ(meta.analyzer, version < 3 ? AnalyzerKind::kEnglishLegacy : AnalyzerKind::kEnglish) << version;
  }
}

}  // namespace
}  // namespace hymir::index
