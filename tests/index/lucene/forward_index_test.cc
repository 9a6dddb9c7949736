// The forward index (issue 13): every live document as analysed at index
// time, committed with the text, kept by upserts, deletes, merges, rollback
// and writer reopen; sentence boundaries equal the analysis of
// SplitSentences' pieces.
#include <gtest/gtest.h>

#include <filesystem>

#include "hymir/index/analyzer.h"
#include "src/engine/sentences.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

namespace fs = std::filesystem;
using testing::Doc;
using testing::TempDir;

// What GetAnalysed must return for `d`: its stored strings analysed now.
void ExpectAnalysedEquals(const Searcher& s, const Document& d) {
  SCOPED_TRACE(d.id);
  ASSERT_OK_AND_ASSIGN(AnalysedDocument a, s.GetAnalysed(d.id));
  EXPECT_EQ(a.id, d.id);
  EXPECT_EQ(a.title, Analyze(s.analyzer(), d.title));
  EXPECT_EQ(a.text, Analyze(s.analyzer(), d.text));
  EXPECT_EQ(a.domain, d.domain);
  EXPECT_EQ(a.fields, d.fields);
  // Sentence k is the analysis of SplitSentences' piece k alone.
  const auto pieces = hymir::internal::SplitSentences(d.text);
  ASSERT_EQ(a.sentence_ends.size(), pieces.size());
  uint32_t begin = 0;
  for (size_t k = 0; k < pieces.size(); ++k) {
    std::vector<std::string> got(a.text.begin() + begin, a.text.begin() + a.sentence_ends[k]);
    EXPECT_EQ(got, Analyze(s.analyzer(), std::string(pieces[k]))) << "sentence " << k;
    begin = a.sentence_ends[k];
  }
}

TEST(ForwardIndexTest, RecordsWhatTheAnalyzerProduces) {
  TempDir tmp;
  std::vector<Document> docs = {
      Doc("a", "The Lens of the Eye", "Crystallins make the lens clear. They are proteins! Are they stable?\nYes.",
          "bio"),
      Doc("b", "", "U.S. Army studies... 3.5 mg/kg dose. e.g. mice were dosed.  Next sentence."),
      Doc("c", "Title only", ""),
      Doc("d", "Ünïcödé tïtle", "Café au lait. Naïve résumé!\n\n\nLast line without a stop"),
      Doc("e", "stop words", "the a an. of to.")};
  docs[0].fields["kg_entities"] = "Q1 Q2";
  docs[1].fields["source"] = "x";
  ASSERT_OK(testing::BuildIndex(tmp.path(), docs));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(tmp.path()));
  EXPECT_TRUE(s->HasForwardIndex());
  for (const auto& d : docs) ExpectAnalysedEquals(*s, d);
  auto missing = s->GetAnalysed("zz");
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
}

TEST(ForwardIndexTest, UpsertsDeletesMergesRollbackAndReopen) {
  TempDir tmp;
  std::map<std::string, Document> live;
  {
    IndexWriterOptions opts;
    opts.ram_buffer_mb = 0.1;  // many small segments, so Lucene++ merges
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(tmp.path(), opts));
    for (int round = 0; round < 6; ++round) {
      for (int i = 0; i < 120; ++i) {
        const int id = (i * 7 + round * 13) % 200;
        Document d = Doc("d" + std::to_string(id), "title " + std::to_string(round),
                         "round " + std::to_string(round) + " text of document " + std::to_string(id) +
                             ". Second sentence here.");
        ASSERT_OK(w->Upsert(d));
        live[d.id] = d;
      }
      for (int i = 0; i < 10; ++i) {
        const std::string id = "d" + std::to_string((i * 31 + round) % 200);
        ASSERT_OK(w->Delete(id));
        live.erase(id);
      }
      ASSERT_OK(w->Commit());
    }
    // Uncommitted changes are rolled back from the forward index too.
    ASSERT_OK(w->Upsert(Doc(live.begin()->first, "changed", "changed text")));
    ASSERT_OK(w->Delete(std::next(live.begin())->first));
    ASSERT_OK(w->Rollback());
    ASSERT_OK(w->Commit());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(tmp.path()));
    ASSERT_EQ(s->NumDocs(), live.size());
    for (const auto& [id, d] : live) ExpectAnalysedEquals(*s, d);
    for (int i = 0; i < 200; ++i) {
      const std::string id = "d" + std::to_string(i);
      if (!live.count(id)) {
        EXPECT_TRUE(s->GetAnalysed(id).status().IsNotFound()) << id;
      }
    }
  }
  // A reopened writer starts from the committed forward index.
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(tmp.path()));
    Document d = Doc("new", "new doc", "fresh text.");
    ASSERT_OK(w->Upsert(d));
    live[d.id] = d;
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(tmp.path()));
  for (const auto& [id, d] : live) ExpectAnalysedEquals(*s, d);
}

TEST(ForwardIndexTest, RefreshSeesTheNewCommitsForwardIndex) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(tmp.path()));
  ASSERT_OK(w->Upsert(Doc("a", "first", "one")));
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(tmp.path()));
  ASSERT_OK(w->Upsert(Doc("a", "second", "two")));
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(auto before, s->GetAnalysed("a"));
  EXPECT_EQ(before.text, Analyze(AnalyzerKind::kEnglish, "one"));  // the view it was opened on
  ASSERT_OK(s->Refresh());
  ASSERT_OK_AND_ASSIGN(auto after, s->GetAnalysed("a"));
  EXPECT_EQ(after.title, Analyze(AnalyzerKind::kEnglish, "second"));
}

}  // namespace
}  // namespace hymir::index
