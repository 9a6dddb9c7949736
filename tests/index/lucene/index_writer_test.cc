// Upsert / delete / commit / reopen / refresh, the writer lock, stored
// fields, and clean errors on bad or damaged indexes.
#include "hymir/index/index_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <lucene++/LuceneHeaders.h>
#include <lucene++/TermPositions.h>

#include "hymir/beir.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/index/schema.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

using testing::Doc;
using testing::Ids;
using testing::TempDir;

std::vector<std::string> SearchIds(const Searcher& s, const std::string& text, size_t k = 10) {
  TextQuery q;
  q.text = text;
  q.k = k;
  auto r = s.Search(q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Ids(*r) : std::vector<std::string>{};
}

// Every term of the Lucene++ index under `dir` with its postings: field,
// term, then per document its number, frequency and positions.
std::string Postings(const std::string& dir) {
  auto directory = Lucene::FSDirectory::open(internal::Wide(dir + "/" + internal::kTextDir));
  auto reader = Lucene::IndexReader::open(directory, true);
  std::ostringstream out;
  auto terms = reader->terms();
  auto positions = reader->termPositions();
  while (terms->next()) {
    const auto term = terms->term();
    out << internal::Utf8(term->field()) << ":" << internal::Utf8(term->text()) << " df=" << terms->docFreq();
    positions->seek(term);
    while (positions->next()) {
      out << " d" << positions->doc() << "x" << positions->freq() << "@";
      for (int32_t i = 0; i < positions->freq(); ++i) out << positions->nextPosition() << ",";
    }
    out << "\n";
  }
  reader->close();
  return out.str();
}

TEST(IndexWriterTest, HymirAndLuceneppAnalysisBuildTheSameIndex) {
  // The bundled sample, plus documents for the tokenizer's odd corners, in
  // title and text and in schema text fields of the three analyzers.
  ASSERT_OK_AND_ASSIGN(std::vector<Document> docs, testing::SampleDocuments());
  docs.push_back(
      Doc("odd1", "O'Neil's I.B.M. and AT&T", "mail first.last@example.com at www.example.org, 1.2.3 x1-y2"));
  docs.push_back(Doc("odd2", "the the the", std::string(300, 'a') + " the end " + std::string("a\0b c", 5)));
  docs.push_back(Doc("odd3", "\u4e2d\u6587 caf\u00e9 \U0001F600x", "U.S.A. u.s.a. e.g. John\u2019s \u0e20\u0e32"));
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseSchemaJson(R"({"fields": {"e": {"type": "text", "analyzer": "english"},
      "s": {"type": "text", "analyzer": "standard"}, "w": {"type": "text", "analyzer": "whitespace"}}})"));
  for (Document& d : docs) {
    for (const char* f : {"e", "s", "w"}) d.values[f] = {d.title, d.text};
  }
  for (AnalyzerKind kind : {AnalyzerKind::kEnglish, AnalyzerKind::kStandard, AnalyzerKind::kWhitespace}) {
    TempDir dir;
    std::vector<std::string> postings;
    for (bool lucenepp : {true, false}) {
      const std::string path = dir.Sub(lucenepp ? "lucenepp" : "hymir");
      IndexWriterOptions o;
      o.analyzer = kind;
      o.schema = schema;
      o.lucenepp_analysis = lucenepp;
      ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(path, o));
      for (const Document& d : docs) ASSERT_OK(w->Upsert(d));
      ASSERT_OK(w->Commit());
      postings.push_back(Postings(path));
    }
    EXPECT_GT(postings[0].size(), 1000u);
    EXPECT_TRUE(postings[0] == postings[1]) << AnalyzerName(kind) << ": the postings differ";
  }
}

// Every result a searcher gives for `queries` (top 10, top 1000 and the
// exact count; plain and query-language syntax), with scores to the bit.
std::string Answers(const Searcher& s, const std::vector<std::string>& queries) {
  std::ostringstream out;
  out.precision(17);
  for (const std::string& text : queries) {
    for (QuerySyntax syntax : {QuerySyntax::kPlain, QuerySyntax::kLucene}) {
      TextQuery q;
      q.text = text;
      q.syntax = syntax;
      for (size_t k : {size_t{10}, size_t{1000}}) {
        q.k = k;
        auto hits = s.Search(q);
        EXPECT_TRUE(hits.ok()) << text << ": " << hits.status().ToString();
        if (!hits.ok()) continue;
        out << text << " k=" << k << ":";
        for (const Hit& h : *hits) out << " " << h.id << "=" << h.score;
        out << "\n";
      }
      auto n = s.Count(q);
      EXPECT_TRUE(n.ok()) << text << ": " << n.status().ToString();
      out << text << " total=" << (n.ok() ? *n : 0) << "\n";
    }
    auto df = s.Statistics()->DocFreq("all", text.substr(0, text.find(' ')));
    out << text << " df=" << df << "\n";
  }
  return out.str();
}

TEST(IndexWriterTest, RefreshedViewAnswersAsAFreshlyOpenedOneAfterUpsertsDeletesAndMerges) {
  TempDir dir;
  IndexWriterOptions opts;
  opts.ram_buffer_mb = 0.1;  // small segments, so Lucene++ merges some of them
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path(), opts));
  const std::vector<std::string> words = {"heart", "lung", "kidney", "liver", "brain", "bone", "skin", "blood"};
  auto make = [&](int id, int round) {
    std::string text;
    for (int j = 0; j < 3 + (id + round) % 7; ++j) text += words[(id * 3 + j * (round + 1)) % words.size()] + " ";
    return Doc("d" + std::to_string(id), words[(id + round) % words.size()], text + "round" + std::to_string(round));
  };
  for (int id = 0; id < 60; ++id) ASSERT_OK(w->Upsert(make(id, 0)));
  ASSERT_OK(w->Commit());
  std::vector<std::string> queries;
  for (const auto& a : words) {
    queries.push_back(a);
    for (const auto& b : words) {
      if (a < b) queries.push_back(a + " " + b);
    }
  }
  queries.push_back("\"heart lung\"");
  queries.push_back("+brain -blood");
  queries.push_back("round0 round3");
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  (void)Answers(*s, queries);  // every list decoded and cached in the view Refresh starts from
  // Segments of about the same size: Lucene++ merges ten of them now and
  // then, the first segment too, so refreshes meet appended segments, merged
  // tails and a whole index merged.
  for (int round = 1; round <= 14; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Upserts replace documents of earlier segments (deletions there), new
    // documents go to new segments, deletes remove some.
    for (int i = 0; i < 60; ++i) ASSERT_OK(w->Upsert(make((i * 37 + round * 11) % 450, round)));
    for (int i = 0; i < 8; ++i) ASSERT_OK(w->Delete("d" + std::to_string((i * 53 + round * 7) % 450)));
    ASSERT_OK(w->Commit());
    ASSERT_OK(s->Refresh());
    ASSERT_OK_AND_ASSIGN(auto fresh, Searcher::Open(dir.path()));
    EXPECT_EQ(s->NumDocs(), fresh->NumDocs());
    EXPECT_EQ(Answers(*s, queries), Answers(*fresh, queries));
  }
}

// The files of text/ by name; segments_N without its version and checksum
// (Lucene++ seeds the version with the clock).
std::map<std::string, std::string> TextFiles(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/" + internal::kTextDir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::string b = bytes.str();
    const std::string name = e.path().filename().string();
    if (name.rfind("segments_", 0) == 0 && b.size() >= 20) {
      b.replace(4, 8, 8, '\0');
      b.replace(b.size() - 8, 8, 8, '\0');
    }
    if (name != "write.lock") files[name] = b;
  }
  return files;
}

TEST(IndexWriterTest, InverterAndLuceneppWriterBuildTheSameFiles) {
  // The bundled sample with domains, extra fields, schema text, keyword and
  // numeric fields: every field kind hymir gives Lucene++.
  ASSERT_OK_AND_ASSIGN(std::vector<Document> docs, testing::SampleDocuments());
  ASSERT_OK_AND_ASSIGN(Schema schema, ParseSchemaJson(R"({"fields": {"e": {"type": "text", "analyzer": "english",
      "stored": true}, "w": {"type": "text", "analyzer": "whitespace"}, "k": {"type": "keyword"},
      "n": {"type": "int64"}}})"));
  for (size_t i = 0; i < docs.size(); ++i) {
    Document& d = docs[i];
    d.domain = i % 2 ? "med" : "bio";
    d.fields["src"] = "s" + std::to_string(i % 3);
    d.values["e"] = {d.title, d.text};
    d.values["w"] = {d.text};
    d.values["k"] = {std::string("x"), "y" + std::to_string(i % 4)};
    d.values["n"] = {static_cast<int64_t>(i)};
  }
  TempDir dir;
  std::vector<std::map<std::string, std::string>> files;
  for (bool lucenepp : {true, false}) {
    const std::string path = dir.Sub(lucenepp ? "lucenepp" : "hymir");
    IndexWriterOptions o;
    o.schema = schema;
    o.lucenepp_writer = lucenepp;
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(path, o));
    for (const Document& d : docs) ASSERT_OK(w->Upsert(d));
    ASSERT_OK_AND_ASSIGN(uint64_t n, w->NumDocs());
    EXPECT_EQ(n, docs.size());
    ASSERT_OK(w->Commit());
    files.push_back(TextFiles(path));
  }
  EXPECT_GE(files[0].size(), 9u);
  for (const auto& [name, bytes] : files[0]) {
    EXPECT_TRUE(files[1].count(name) && files[1][name] == bytes) << name << " differs";
  }
  EXPECT_EQ(files[0].size(), files[1].size());
}

TEST(IndexWriterTest, InverterHandsItsDocumentsToLuceneppOnReplaceAndDelete) {
  // A new index's documents go to hymir's inverter until one replaces or
  // deletes one of them; then Lucene++ takes them all: the same index as
  // Lucene++'s writer alone builds, before and after further commits.
  TempDir dir;
  std::vector<std::string> postings;
  std::vector<uint64_t> num_docs;
  for (bool lucenepp : {true, false}) {
    const std::string path = dir.Sub(lucenepp ? "lucenepp" : "hymir");
    IndexWriterOptions o;
    o.lucenepp_writer = lucenepp;
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(path, o));
    ASSERT_OK(w->Upsert(Doc("a", "Heart attack", "cardiac arrest in adults")));
    ASSERT_OK(w->Upsert(Doc("b", "Lung", "pulmonary function")));
    ASSERT_OK(w->Delete("nothing"));  // held by no one: changes nothing
    ASSERT_OK(w->Upsert(Doc("c", "Liver", "hepatic failure")));
    ASSERT_OK(w->Upsert(Doc("a", "Kidney", "renal failure")));  // replaces "a"
    ASSERT_OK(w->Delete("b"));
    ASSERT_OK(w->Upsert(Doc("d", "Bone", "fracture healing")));
    ASSERT_OK_AND_ASSIGN(uint64_t n, w->NumDocs());  // Lucene++'s count: deletes not yet applied
    num_docs.push_back(n);
    ASSERT_OK(w->Commit());
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(path));
    EXPECT_EQ(s->NumDocs(), 3u);
    EXPECT_TRUE(SearchIds(*s, "cardiac").empty());
    EXPECT_EQ(SearchIds(*s, "renal"), std::vector<std::string>{"a"});
    EXPECT_TRUE(SearchIds(*s, "pulmonary").empty());
    EXPECT_EQ(SearchIds(*s, "failure").size(), 2u);
    postings.push_back(Postings(path));
  }
  EXPECT_EQ(postings[0], postings[1]);
  EXPECT_EQ(num_docs[0], num_docs[1]);
  // A delete of a document the inverter holds, alone, hands them over too;
  // a rollback drops what it holds.
  for (int variant = 0; variant < 2; ++variant) {
    const std::string path = dir.Sub("variant" + std::to_string(variant));
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(path));
    ASSERT_OK(w->Upsert(Doc("a", "", "alpha")));
    ASSERT_OK(w->Upsert(Doc("b", "", "alpha beta")));
    if (variant == 0) {
      ASSERT_OK(w->Delete("a"));
    } else {
      ASSERT_OK(w->Rollback());
      ASSERT_OK(w->Upsert(Doc("c", "", "alpha gamma")));
    }
    ASSERT_OK(w->Commit());
    ASSERT_OK(w->Upsert(Doc("z", "", "alpha omega")));  // a later commit: Lucene++'s writer
    ASSERT_OK(w->Commit());
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(path));
    EXPECT_EQ(SearchIds(*s, "alpha"),
              (variant == 0 ? std::vector<std::string>{"b", "z"} : std::vector<std::string>{"c", "z"}))
        << variant;
  }
}

TEST(IndexWriterTest, UpsertReplacesDeleteRemovesAfterCommitAndRefresh) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
  ASSERT_OK(w->Upsert(Doc("a", "Heart attack", "cardiac arrest in adults")));
  ASSERT_OK(w->Upsert(Doc("b", "Lung", "pulmonary function")));
  ASSERT_OK(w->Commit());

  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  EXPECT_EQ(s->NumDocs(), 2u);
  EXPECT_EQ(SearchIds(*s, "cardiac"), std::vector<std::string>{"a"});

  ASSERT_OK(w->Upsert(Doc("a", "Kidney", "renal failure")));  // replaces "a"
  ASSERT_OK(w->Delete("b"));
  // Not committed: the searcher still sees the old view, even after Refresh.
  ASSERT_OK(s->Refresh());
  EXPECT_EQ(SearchIds(*s, "cardiac"), std::vector<std::string>{"a"});
  ASSERT_OK(w->Commit());
  // Committed but not refreshed: old view.
  EXPECT_EQ(SearchIds(*s, "pulmonary"), std::vector<std::string>{"b"});
  ASSERT_OK(s->Refresh());
  EXPECT_TRUE(SearchIds(*s, "cardiac").empty());
  EXPECT_TRUE(SearchIds(*s, "pulmonary").empty());
  EXPECT_EQ(SearchIds(*s, "renal"), std::vector<std::string>{"a"});
  EXPECT_EQ(s->NumDocs(), 1u);
  auto stats = s->Statistics();
  EXPECT_EQ(stats->DocCount("all"), 1u);
  EXPECT_EQ(stats->DocFreq("all", "cardiac"), 0u);  // the replaced version no longer counts
  EXPECT_TRUE(s->GetDocument("b").status().IsNotFound());
}

TEST(IndexWriterTest, UncommittedChangesAreLostOnCloseAndRollback) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
    ASSERT_OK(w->Upsert(Doc("kept", "", "alpha")));
    ASSERT_OK(w->Commit());
    ASSERT_OK(w->Upsert(Doc("lost1", "", "alpha beta")));
    ASSERT_OK(w->Rollback());
    ASSERT_OK(w->Upsert(Doc("lost2", "", "alpha gamma")));
  }  // destroyed without Commit
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  EXPECT_EQ(SearchIds(*s, "alpha"), std::vector<std::string>{"kept"});
  // Reopened writer continues from the last commit.
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(uint64_t n, w->NumDocs());
  EXPECT_EQ(n, 1u);
}

TEST(IndexWriterTest, StoredFieldsRoundTrip) {
  TempDir dir;
  Document d = Doc("x1", "A title", "Some text \xC3\xA9", "med");
  d.fields["lang"] = "en";
  d.fields["year"] = "1999";
  ASSERT_OK(testing::BuildIndex(dir.path(), {d}));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(Document got, s->GetDocument("x1"));
  EXPECT_EQ(got, d);
  // Extra fields filter by exact value.
  TextQuery q;
  q.text = "text";
  q.filters = {{"lang", {"en"}}};
  ASSERT_OK_AND_ASSIGN(auto hits, s->Search(q));
  EXPECT_EQ(Ids(hits), std::vector<std::string>{"x1"});
  q.filters = {{"lang", {"de"}}};
  ASSERT_OK_AND_ASSIGN(hits, s->Search(q));
  EXPECT_TRUE(hits.empty());
}

TEST(IndexWriterTest, OneWriterPerDirectory) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
  auto second = IndexWriter::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy());
  EXPECT_NE(second.status().message().find("one writer"), std::string::npos);
  w.reset();
  EXPECT_OK(IndexWriter::Open(dir.path()).status());
}

TEST(IndexWriterTest, AnalyzerIsRecordedAndEnforced) {
  TempDir dir;
  ASSERT_OK(testing::BuildIndex(dir.path(), {Doc("1", "", "Running Dogs")}, AnalyzerKind::kStandard));
  IndexWriterOptions opts;
  opts.analyzer = AnalyzerKind::kEnglish;
  auto w = IndexWriter::Open(dir.path(), opts);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().IsInvalidArgument());
  EXPECT_NE(w.status().message().find("standard"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  EXPECT_EQ(s->analyzer(), AnalyzerKind::kStandard);
  // The recorded analyzer is used at query time: no stemming.
  EXPECT_EQ(SearchIds(*s, "running"), std::vector<std::string>{"1"});
  EXPECT_TRUE(SearchIds(*s, "run").empty());
}

TEST(IndexWriterTest, EmptyIdAndReservedFieldRejected) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
  EXPECT_TRUE(w->Upsert(Doc("", "", "x")).IsInvalidArgument());
  Document d = Doc("ok", "", "x");
  d.fields["title"] = "clash";
  Status s = w->Upsert(d);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("reserved"), std::string::npos);
}

TEST(IndexWriterTest, PaginationSlicesTheRanking) {
  TempDir dir;
  std::vector<Document> docs;
  for (int i = 0; i < 20; ++i) docs.push_back(Doc("d" + std::to_string(i), "", std::string(i + 1, 'x') + " common"));
  ASSERT_OK(testing::BuildIndex(dir.path(), docs, AnalyzerKind::kWhitespace));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  TextQuery q;
  q.text = "common";
  q.k = 20;
  ASSERT_OK_AND_ASSIGN(auto all, s->Search(q));
  q.k = 5;
  q.offset = 10;
  ASSERT_OK_AND_ASSIGN(auto page, s->Search(q));
  ASSERT_EQ(page.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(page[i].id, all[10 + i].id);
    EXPECT_EQ(page[i].rank, 11 + i);
  }
}

TEST(IndexWriterTest, MissingAndCorruptIndexesAreCleanErrors) {
  TempDir dir;
  auto none = Searcher::Open(dir.Sub("nope"));
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().IsNotFound());
  IndexWriterOptions no_create;
  no_create.create_if_missing = false;
  EXPECT_TRUE(IndexWriter::Open(dir.Sub("nope"), no_create).status().IsNotFound());

  ASSERT_OK(testing::BuildIndex(dir.Sub("idx"), {Doc("1", "t", "some words here")}));
  // Damaged metadata.
  testing::WriteText(dir.Sub("idx") + "/hymir.json", "{not json");
  auto bad_meta = Searcher::Open(dir.Sub("idx"));
  ASSERT_FALSE(bad_meta.ok());
  EXPECT_TRUE(bad_meta.status().IsCorruption());
  EXPECT_NE(bad_meta.status().message().find("hymir.json"), std::string::npos);
}

TEST(IndexWriterTest, TruncatedSegmentFileIsAnErrorNotACrash) {
  TempDir dir;
  std::vector<Document> docs;
  for (int i = 0; i < 200; ++i)
    docs.push_back(Doc(std::to_string(i), "title", "body text number " + std::to_string(i)));
  ASSERT_OK(testing::BuildIndex(dir.path(), docs));
  // Truncate every segment data file (not the segments_N commit point).
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/text")) {
    std::string name = e.path().filename().string();
    if (name.rfind("segments", 0) == 0) continue;
    std::filesystem::resize_file(e.path(), 3);
  }
  auto s = Searcher::Open(dir.path());
  EXPECT_FALSE(s.ok());
  if (!s.ok()) {
    EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
    EXPECT_NE(s.status().message().find(dir.path()), std::string::npos) << s.status().ToString();
  }
}

TEST(IndexWriterTest, ConcurrentSearchesDuringRefresh) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
  ASSERT_OK(w->Upsert(Doc("0", "", "shared term")));
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        TextQuery q;
        q.text = "shared";
        auto r = s->Search(q);
        if (!r.ok() || r->empty()) ++errors;
      }
    });
  }
  for (int i = 1; i <= 20; ++i) {
    ASSERT_OK(w->Upsert(Doc(std::to_string(i), "", "shared term " + std::to_string(i))));
    ASSERT_OK(w->Commit());
    ASSERT_OK(s->Refresh());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(s->NumDocs(), 21u);
}

TEST(IndexWriterTest, ConcurrentUpserts) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        EXPECT_OK(w->Upsert(Doc(std::to_string(t * 1000 + i), "", "word" + std::to_string(i % 17))));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  EXPECT_EQ(s->NumDocs(), 1000u);
  EXPECT_EQ(s->Statistics()->SumTotalTermFreq("all"), 1000u);
}

}  // namespace
}  // namespace hymir::index

namespace hymir::index {
namespace {

// A trained LSA model of dimension `dim` saved at `path`.
void SaveLsaModel(const std::string& path, size_t dim) {
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i) {
    texts.push_back("heart attack cardiac arrest " + std::to_string(i % 5) + " pulmonary lung renal kidney failure" +
                    (i % 2 ? " blood pressure" : " brain stroke") + (i % 3 ? " aspirin" : " statin"));
  }
  LsaOptions o;
  o.dimension = dim;
  o.min_df = 1;
  auto model = LsaEmbedder::Train(texts, o);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_OK((*model)->Save(path));
}

VectorFieldSpec LsaField(size_t dim) {
  VectorFieldSpec spec;
  spec.name = "lsa";
  spec.dimension = dim;
  spec.embedder = "lsa";
  return spec;
}

TEST(IndexWriterTest, EmbedderFieldWithoutModelIsRefusedAndCreatesNothing) {
  TempDir dir;
  const std::string index = dir.path() + "/idx";
  IndexWriterOptions o;
  o.vector_fields = {LsaField(4)};
  auto w = IndexWriter::Open(index, o);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().IsInvalidArgument()) << w.status().ToString();
  EXPECT_NE(w.status().message().find("embedder_models"), std::string::npos) << w.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(index));
}

TEST(IndexWriterTest, EmbedderModelOfTheWrongDimensionIsRefusedAndCreatesNothing) {
  TempDir dir;
  const std::string index = dir.path() + "/idx", model = dir.path() + "/model.lsa";
  SaveLsaModel(model, 3);
  IndexWriterOptions o;
  o.vector_fields = {LsaField(4)};
  o.embedder_models = {{"lsa", model}};
  auto w = IndexWriter::Open(index, o);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().IsInvalidArgument()) << w.status().ToString();
  EXPECT_NE(w.status().message().find("dimension 3"), std::string::npos) << w.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(index));
  // A model for a field that has no embedder is a usage error too.
  o.vector_fields = {LsaField(4)};
  o.vector_fields[0].embedder.clear();
  w = IndexWriter::Open(index, o);
  EXPECT_TRUE(w.status().IsInvalidArgument()) << w.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(index));
}

TEST(IndexWriterTest, EmbedderModelGivenInOptionsFillsTheFieldAndStaysWithTheIndex) {
  TempDir dir;
  const std::string index = dir.path() + "/idx", model = dir.path() + "/model.lsa";
  SaveLsaModel(model, 3);
  IndexWriterOptions o;
  o.vector_fields = {LsaField(3)};
  o.embedder_models = {{"lsa", model}};
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(index, o));
    ASSERT_OK(w->Upsert(Doc("a", "Heart attack", "cardiac arrest aspirin")));
    ASSERT_OK(w->Upsert(Doc("b", "Kidney", "renal failure statin")));
    ASSERT_OK(w->Commit());
  }
  std::filesystem::remove(model);  // the index keeps its own copy
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(index));
  ASSERT_OK_AND_ASSIGN(auto v, s->GetVector("lsa", "a"));
  EXPECT_EQ(v.size(), 3u);
  VectorQuery q;
  q.field = "lsa";
  q.text = "cardiac arrest";
  q.k = 1;
  ASSERT_OK_AND_ASSIGN(auto hits, s->SearchVector(q));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, "a");
  // Reopening for writing needs no model any more.
  IndexWriterOptions again;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(index, again));
  EXPECT_EQ(w->vector_fields().size(), 1u);
}

}  // namespace
}  // namespace hymir::index
