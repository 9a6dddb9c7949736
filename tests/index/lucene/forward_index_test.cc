// The forward index: every live document as analysed at index
// time, committed with the text, kept by upserts, deletes, merges, rollback
// and writer reopen; sentence boundaries equal the analysis of
// SplitSentences' pieces.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "hymir/index/analyzer.h"
#include "hymir/index/check_index.h"
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
        Document d = Doc(
            "d" + std::to_string(id), "title " + std::to_string(round),
            "round " + std::to_string(round) + " text of document " + std::to_string(id) + ". Second sentence here.");
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

// The header fields of the newest forward file of `dir`: its dictionary
// size, document count and the dictionary size at its last compaction (see
// forward_index.cc's HeaderV2), and its dictionary's terms.
struct ForwardHeader {
  uint64_t terms = 0, docs = 0, compacted = 0;
  std::vector<std::string> dict;
};
ForwardHeader NewestForwardFile(const std::string& dir) {
  std::map<uint64_t, fs::path> files;
  for (const auto& e : fs::directory_iterator(dir + "/vectors")) {
    const std::string f = e.path().filename().string();
    if (f.rfind("forward.g", 0) == 0) files[std::stoull(f.substr(9))] = e.path();
  }
  ForwardHeader h;
  if (files.empty()) return h;
  std::ifstream in(files.rbegin()->second, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)), {});
  uint64_t dict_bytes = 0, records_bytes = 0;
  std::memcpy(&h.terms, b.data() + 16, 8);
  std::memcpy(&h.docs, b.data() + 24, 8);
  std::memcpy(&dict_bytes, b.data() + 32, 8);
  std::memcpy(&records_bytes, b.data() + 40, 8);
  std::memcpy(&h.compacted, b.data() + 56, 8);
  const char* offsets = b.data() + 64 + dict_bytes + records_bytes;
  for (uint64_t t = 0; t < h.terms; ++t) {
    uint64_t begin, end;
    std::memcpy(&begin, offsets + 8 * t, 8);
    std::memcpy(&end, offsets + 8 * (t + 1), 8);
    h.dict.emplace_back(b.data() + 64 + begin, end - begin);
  }
  return h;
}

TEST(ForwardIndexTest, CommitsCopyTheLastFileAndCompactWhenTheDictionaryGrows) {
  TempDir tmp;
  const std::string dir = tmp.Sub("index");
  std::map<std::string, Document> live;
  auto put = [&](IndexWriter& w, const Document& d) {
    live[d.id] = d;
    return w.Upsert(d);
  };
  auto check = [&] {
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
    ASSERT_EQ(s->NumDocs(), live.size());
    for (const auto& [id, d] : live) ExpectAnalysedEquals(*s, d);
    if (live.count("gone0") == 0) EXPECT_TRUE(s->GetAnalysed("gone0").status().IsNotFound());
  };
  {
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir));
    for (int i = 0; i < 100; ++i) {
      ASSERT_OK(
          put(*w, Doc("gone" + std::to_string(i), "shared title", "uniqueword" + std::to_string(i) + " common.")));
    }
    ASSERT_OK(w->Commit());
  }
  const ForwardHeader first = NewestForwardFile(dir);
  EXPECT_EQ(first.docs, 100u);
  EXPECT_EQ(first.compacted, first.terms);  // a first save compacts
  ASSERT_NO_FATAL_FAILURE(check());
  // A new writer: ten new documents with new words. The file is written
  // from the last one: its dictionary is kept as a prefix, new terms follow.
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir));
  for (int i = 0; i < 10; ++i)
    ASSERT_OK(put(*w, Doc("new" + std::to_string(i), "", "fresh" + std::to_string(i) + " common")));
  ASSERT_OK(put(*w, Doc("gone5", "replaced title", "common again")));  // replaces a base record
  ASSERT_OK(w->Commit());
  const ForwardHeader second = NewestForwardFile(dir);
  EXPECT_EQ(second.docs, 110u);
  EXPECT_EQ(second.terms, first.terms + 10 + 2);  // fresh0..9, "replac", "again"
  EXPECT_EQ(second.compacted, first.terms);
  EXPECT_TRUE(std::equal(first.dict.begin(), first.dict.end(), second.dict.begin()));
  ASSERT_NO_FATAL_FAILURE(check());
  // Deletes in the same writer (its base is now the second file): the dead
  // documents' terms stay in the dictionary until a compaction.
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(w->Delete("gone" + std::to_string(i)));
    live.erase("gone" + std::to_string(i));
  }
  ASSERT_OK(w->Commit());
  const ForwardHeader third = NewestForwardFile(dir);
  EXPECT_EQ(third.docs, 10u);
  EXPECT_EQ(third.terms, second.terms);
  ASSERT_NO_FATAL_FAILURE(check());
  // Enough new terms to pass 1.5x the compacted dictionary + 1024: the save
  // compacts, and the dead documents' words leave the dictionary.
  std::string many;
  for (int i = 0; i < 1200; ++i) many += "novel" + std::to_string(i) + " ";
  ASSERT_OK(put(*w, Doc("big", "", many)));
  ASSERT_OK(w->Commit());
  const ForwardHeader fourth = NewestForwardFile(dir);
  EXPECT_EQ(fourth.docs, 11u);
  EXPECT_EQ(fourth.compacted, fourth.terms);
  EXPECT_EQ(std::count(fourth.dict.begin(), fourth.dict.end(), "uniqueword7"), 0);
  EXPECT_LT(fourth.terms, third.terms + 1200);
  ASSERT_NO_FATAL_FAILURE(check());
  // Rollback of uncommitted changes and a later commit keep it exact.
  ASSERT_OK(put(*w, Doc("temp", "", "never committed")));
  ASSERT_OK(w->Rollback());
  live.erase("temp");
  ASSERT_OK(put(*w, Doc("new3", "retitled", "fresh3 common")));
  ASSERT_OK(w->Commit());
  w.reset();
  ASSERT_NO_FATAL_FAILURE(check());
}

// The version field of vectors/<name>.
uint32_t FileVersion(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char h[12] = {};
  in.read(h, sizeof h);
  uint32_t v = 0;
  std::memcpy(&v, h + 8, 4);
  return v;
}

TEST(ForwardIndexTest, SmallCommitsWriteOnlyTheirChangesAndKeepTheBaseTheyApplyTo) {
  TempDir tmp;
  const std::string dir = tmp.Sub("index");
  std::map<std::string, Document> live;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir));
  for (int i = 0; i < 500; ++i) {
    Document d =
        Doc("doc" + std::to_string(i), "title " + std::to_string(i % 13), "common text word" + std::to_string(i));
    live[d.id] = d;
    ASSERT_OK(w->Upsert(d));
  }
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(const uint64_t base_generation, LastCommitGeneration(dir));
  const std::string base = dir + "/vectors/forward.g" + std::to_string(base_generation) + ".fwd";
  ASSERT_EQ(FileVersion(base), 2u);
  const auto base_size = fs::file_size(base);
  for (int round = 0; round < 5; ++round) {
    Document d = Doc("new" + std::to_string(round), "fresh", "unseen" + std::to_string(round) + " common");
    live[d.id] = d;
    ASSERT_OK(w->Upsert(d));
    Document r = Doc("doc" + std::to_string(round), "replaced", "other words");
    live[r.id] = r;
    ASSERT_OK(w->Upsert(r));
    ASSERT_OK(w->Delete("doc" + std::to_string(100 + round)));
    live.erase("doc" + std::to_string(100 + round));
    ASSERT_OK(w->Commit());
    ASSERT_OK_AND_ASSIGN(const uint64_t g, LastCommitGeneration(dir));
    const std::string delta = dir + "/vectors/forward.g" + std::to_string(g) + ".fwd";
    SCOPED_TRACE(delta);
    EXPECT_EQ(FileVersion(delta), 3u);
    EXPECT_LT(fs::file_size(delta) * 16, base_size);  // the changes since the base, not the index
    EXPECT_TRUE(fs::exists(base));                    // kept while a delta applies to it
    // Generations before the previous one are gone, but for the base.
    for (uint64_t old = base_generation + 1; old + 1 < g; ++old)
      EXPECT_FALSE(fs::exists(dir + "/vectors/forward.g" + std::to_string(old) + ".fwd")) << old;
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
    ASSERT_EQ(s->NumDocs(), live.size());
    for (const auto& [id, doc] : live) ExpectAnalysedEquals(*s, doc);
    EXPECT_TRUE(s->GetAnalysed("doc" + std::to_string(100 + round)).status().IsNotFound());
    ASSERT_OK(CheckIndex(dir).status());
  }
  // A new writer starts from base + delta and goes on.
  w.reset();
  ASSERT_OK_AND_ASSIGN(w, IndexWriter::Open(dir));
  Document again = Doc("new0", "retitled", "again");
  live[again.id] = again;
  ASSERT_OK(w->Upsert(again));
  ASSERT_OK(w->Commit());
  {
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
    for (const auto& [id, doc] : live) ExpectAnalysedEquals(*s, doc);
  }
  // Changes past a sixteenth of the base: a full file, and the old base goes
  // two commits later.
  for (int i = 0; i < 200; ++i) {
    Document d = Doc("bulk" + std::to_string(i), "bulk", "many more words here " + std::to_string(i));
    live[d.id] = d;
    ASSERT_OK(w->Upsert(d));
  }
  ASSERT_OK(w->Commit());
  ASSERT_OK_AND_ASSIGN(const uint64_t full_generation, LastCommitGeneration(dir));
  EXPECT_EQ(FileVersion(dir + "/vectors/forward.g" + std::to_string(full_generation) + ".fwd"), 2u);
  ASSERT_OK(w->Upsert(Doc("last", "", "one more")));
  live["last"] = Doc("last", "", "one more");
  ASSERT_OK(w->Commit());
  ASSERT_OK(w->Upsert(Doc("last", "", "one more time")));
  live["last"] = Doc("last", "", "one more time");
  ASSERT_OK(w->Commit());
  EXPECT_FALSE(fs::exists(base));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir));
  ASSERT_EQ(s->NumDocs(), live.size());
  for (const auto& [id, doc] : live) ExpectAnalysedEquals(*s, doc);
  ASSERT_OK(CheckIndex(dir).status());
}

}  // namespace
}  // namespace hymir::index
