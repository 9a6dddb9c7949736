// Index format versions:
// format 2 stops indexing the combined "all" field and derives its postings,
// lengths and statistics from "title" and "text"; format 3 keeps that layout
// and names its analyzer exactly (analyzer_compat_test.cc). An index of each
// format, built with the same analyzer by the same sequence of upserts,
// deletes and commits, must answer every search and statistic identically; a
// format 1 index stays format 1 (and keeps its own "all") when written again;
// versions outside 1..3 are refused.
#include <gtest/gtest.h>

#include <lucene++/LuceneHeaders.h>

#include <sstream>

#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

using testing::Doc;
using testing::TempDir;

// Three commits (so several segments), upserts that change a document's
// title and text, deletes, and documents with an empty title or text.
Status Build(const std::string& dir, int format_version, std::optional<AnalyzerKind> analyzer = std::nullopt) {
  IndexWriterOptions opts;
  opts.ram_buffer_mb = 1;
  opts.format_version = format_version;
  opts.analyzer = analyzer;
  auto w = IndexWriter::Open(dir, opts);
  if (!w.ok()) return w.status();
  for (int i = 0; i < 60; ++i) {
    const std::string n = std::to_string(i);
    HYMIR_RETURN_IF_ERROR(
        (*w)->Upsert(Doc("d" + n, i % 7 == 0 ? "" : "Running title " + n + (i % 3 ? " apple" : ""),
                         i % 5 == 0 ? "" : "The apples are running; banana " + n + " cherry cherry.")));
  }
  HYMIR_RETURN_IF_ERROR((*w)->Commit());
  for (int i = 0; i < 60; i += 4) HYMIR_RETURN_IF_ERROR((*w)->Delete("d" + std::to_string(i)));
  HYMIR_RETURN_IF_ERROR((*w)->Upsert(Doc("d1", "banana banana", "apple")));
  HYMIR_RETURN_IF_ERROR((*w)->Commit());
  HYMIR_RETURN_IF_ERROR((*w)->Upsert(Doc("d2", "cherry", "")));
  HYMIR_RETURN_IF_ERROR((*w)->Upsert(Doc("new", "date apple", "elderberry run ran")));
  return (*w)->Commit();
}

// Every answer of the searcher with full-precision scores, per field, and the
// collection statistics of the three text fields.
std::string Answers(const std::string& dir) {
  auto s = Searcher::Open(dir);
  if (!s.ok()) return "error: " + s.status().ToString();
  std::ostringstream out;
  out.precision(17);
  auto stats = (*s)->Statistics();
  for (const char* f : {"title", "text", "all"}) {
    out << f << " " << stats->DocCount(f) << " " << stats->SumTotalTermFreq(f);
    for (const char* t : {"appl", "banana", "cherri", "run", "titl", "date", "elderberri", "absent"}) {
      out << " " << stats->DocFreq(f, t);
    }
    out << "\n";
  }
  for (const char* id : {"d1", "d2", "d3", "d5", "new"}) {
    auto doc = (*s)->GetDocument(id);
    out << id << ": " << (doc.ok() ? doc->title + " | " + doc->text : doc.status().ToString()) << "\n";
  }
  for (const std::string q : {"apple", "banana cherry", "running title", "date elderberry", "absent words"}) {
    for (const std::vector<std::pair<std::string, double>>& fields :
         {std::vector<std::pair<std::string, double>>{},
          std::vector<std::pair<std::string, double>>{{"title", 2.0}, {"text", 1.0}},
          std::vector<std::pair<std::string, double>>{{"all", 1.0}, {"title", 0.5}}}) {
      TextQuery tq;
      tq.text = q;
      tq.k = 1000;
      if (!fields.empty()) tq.fields.clear();  // empty: the default ("all")
      for (const auto& [name, weight] : fields) tq.fields.push_back({name, weight});
      auto hits = (*s)->Search(tq);
      if (!hits.ok()) return "error: " + hits.status().ToString();
      for (const auto& h : *hits) out << h.id << " " << h.score << " ";
      out << "\n";
    }
  }
  return out.str();
}

std::vector<std::string> LuceneFields(const std::string& dir) {
  auto d = Lucene::FSDirectory::open(internal::Wide(dir + "/text"));
  auto r = Lucene::IndexReader::open(d, true);
  std::vector<std::string> out;
  for (const auto& name : r->getFieldNames(Lucene::IndexReader::FIELD_OPTION_ALL)) out.push_back(internal::Utf8(name));
  r->close();
  std::sort(out.begin(), out.end());
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(IndexFormatTest, DerivedAllAnswersExactlyAsTheIndexedOne) {
  TempDir dir;
  // Formats 1 and 2 can only hold english-lucenepp30; format 3 is given it.
  ASSERT_OK(Build(dir.Sub("v1"), 1));
  ASSERT_OK(Build(dir.Sub("v2"), 2));
  ASSERT_OK(Build(dir.Sub("v3"), 0, AnalyzerKind::kEnglishLegacy));
  ASSERT_OK_AND_ASSIGN(auto m1, internal::ReadMeta(dir.Sub("v1")));
  ASSERT_OK_AND_ASSIGN(auto m2, internal::ReadMeta(dir.Sub("v2")));
  ASSERT_OK_AND_ASSIGN(auto m3, internal::ReadMeta(dir.Sub("v3")));
  EXPECT_EQ(m1.format_version, 1);
  EXPECT_EQ(m2.format_version, 2);
  EXPECT_EQ(m3.format_version, 3);  // new indexes get the current one
  // A writer keeps the index's format; asking for another is an error.
  IndexWriterOptions keep;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.Sub("v1"), keep));
  ASSERT_OK(w->Upsert(Doc("late", "fig", "apple")));
  ASSERT_OK(w->Commit());
  w.reset();
  ASSERT_OK_AND_ASSIGN(m1, internal::ReadMeta(dir.Sub("v1")));
  EXPECT_EQ(m1.format_version, 1);
  for (const char* v : {"v2", "v3"}) {
    ASSERT_OK_AND_ASSIGN(w, IndexWriter::Open(dir.Sub(v), keep));
    ASSERT_OK(w->Upsert(Doc("late", "fig", "apple")));
    ASSERT_OK(w->Commit());
    w.reset();
  }
  IndexWriterOptions other;
  other.format_version = 3;
  auto refused = IndexWriter::Open(dir.Sub("v1"), other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("format_version 1"), std::string::npos) << refused.status().ToString();

  const auto f1 = LuceneFields(dir.Sub("v1"));
  const auto f2 = LuceneFields(dir.Sub("v2"));
  EXPECT_EQ(LuceneFields(dir.Sub("v3")), f2);
  EXPECT_TRUE(Has(f1, "all"));
  EXPECT_TRUE(Has(f1, "_len.all"));
  EXPECT_FALSE(Has(f2, "all"));
  EXPECT_FALSE(Has(f2, "_len.all"));
  EXPECT_TRUE(Has(f2, "title"));
  EXPECT_TRUE(Has(f2, "_src"));  // title and text stored compressed in one field
  EXPECT_FALSE(Has(f1, "_src"));

  const std::string a1 = Answers(dir.Sub("v1"));
  ASSERT_EQ(a1.find("error"), std::string::npos) << a1;
  EXPECT_NE(a1.find("new "), std::string::npos);                               // something was found
  EXPECT_NE(a1.find("d1: banana banana | apple\n"), std::string::npos) << a1;  // stored text read back
  EXPECT_NE(a1.find("d5: Running title 5 apple | \n"), std::string::npos) << a1;
  EXPECT_EQ(a1, Answers(dir.Sub("v2")));
  EXPECT_EQ(a1, Answers(dir.Sub("v3")));
}

TEST(IndexFormatTest, DerivedAllStatisticsByHand) {
  // whitespace analysis: "x" in d1's title and text counts once in df("all")
  // and twice in d1's tf; "all" lengths are title + text.
  TempDir dir;
  ASSERT_OK(testing::BuildIndex(dir.path(), {Doc("d1", "x y", "x z z"), Doc("d2", "", "y"), Doc("d3", "q", "")},
                                AnalyzerKind::kWhitespace));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  auto stats = s->Statistics();
  EXPECT_EQ(stats->DocFreq("all", "x"), 1u);
  EXPECT_EQ(stats->DocFreq("all", "y"), 2u);
  EXPECT_EQ(stats->DocFreq("all", "q"), 1u);
  EXPECT_EQ(stats->DocCount("all"), 3u);
  EXPECT_EQ(stats->SumTotalTermFreq("all"), 7u);
  TextQuery q;
  q.text = "x";
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
  ASSERT_EQ(hits.size(), 1u);
  // idf = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)); tf 2, dl 5, avgdl 7/3, k1 0.9, b 0.4.
  const double idf = std::log(1 + 2.5 / 1.5);
  const double norm = 0.9 * (1 - 0.4 + 0.4 * 5 / (7.0 / 3));
  EXPECT_NEAR(hits[0].score, idf * 2 / (2 + norm), 1e-9);
}

TEST(IndexFormatTest, UnknownVersionsAreRefused) {
  TempDir dir;
  for (int v : {-1, 4}) {
    IndexWriterOptions opts;
    opts.format_version = v;
    auto w = IndexWriter::Open(dir.Sub("w"), opts);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.status().code(), Status::Code::kInvalidArgument);
    EXPECT_FALSE(std::filesystem::exists(dir.Sub("w") + "/hymir.json"));
  }
  for (int v : {0, 4}) {
    const std::string d = dir.Sub("m" + std::to_string(v));
    std::filesystem::create_directories(d);
    testing::WriteText(d + "/hymir.json", R"({"analyzer": "english", "format": "hymir-index", "format_version": )" +
                                              std::to_string(v) + R"(, "vector_fields": []})");
    auto m = internal::ReadMeta(d);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Status::Code::kNotSupported) << m.status().ToString();
    EXPECT_NE(m.status().message().find("format_version " + std::to_string(v)), std::string::npos);
  }
}

}  // namespace
}  // namespace hymir::index
