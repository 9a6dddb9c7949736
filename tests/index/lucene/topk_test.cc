// Property test: MaxScore top-k equals exhaustive scoring of every posting on
// random corpora and queries (same ids and scores within 1e-5).
#include <gtest/gtest.h>

#include <random>

#include <lucene++/LuceneHeaders.h>

#include "index/lucene/bm25_scorer.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/snapshot.h"
#include "index/lucene/typed_search.h"
#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

using testing::TempDir;

std::vector<std::string> Vocabulary(size_t n) {
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i) v.push_back("w" + std::to_string(i));
  return v;
}

// Zipf-like sampling so a few terms are very frequent (where pruning matters).
std::string RandomText(std::mt19937& rng, const std::vector<std::string>& vocab, int len) {
  std::uniform_real_distribution<double> u(0, 1);
  std::string s;
  for (int i = 0; i < len; ++i) {
    size_t idx = static_cast<size_t>(std::pow(vocab.size(), u(rng))) - 1;
    s += vocab[std::min(idx, vocab.size() - 1)] + " ";
  }
  return s;
}

void ExpectSameTopK(const std::vector<Hit>& got, const std::vector<Hit>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].score, want[i].score, 1e-5) << what << " rank " << i;
  }
  // Ids must agree except among documents tied (within 1e-5) with the last
  // score, where either choice is a correct top-k.
  const double last = want.empty() ? 0 : want.back().score;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::abs(want[i].score - last) > 1e-5) {
      EXPECT_EQ(got[i].id, want[i].id) << what << " rank " << i;
    }
  }
}

TEST(TopKTest, MaxScoreEqualsExhaustiveOnRandomCorpora) {
  std::mt19937 rng(20261128);
  uint64_t pruned_total = 0, exhaustive_total = 0;
  for (int corpus = 0; corpus < 4; ++corpus) {
    TempDir dir;
    auto vocab = Vocabulary(corpus % 2 ? 40 : 400);
    const int n_docs = 300 + corpus * 400;
    std::vector<Document> docs;
    std::uniform_int_distribution<int> len(1, 60), dom(0, 2);
    for (int i = 0; i < n_docs; ++i) {
      docs.push_back(testing::Doc("d" + std::to_string(i), RandomText(rng, vocab, len(rng) / 6),
                                  RandomText(rng, vocab, len(rng)), std::string("dom") + char('a' + dom(rng))));
    }
    ASSERT_OK(testing::BuildIndex(dir.path(), docs, AnalyzerKind::kWhitespace));
    if (corpus >= 2) {
      // Deletions and replacements: statistics must count live docs only.
      auto w = IndexWriter::Open(dir.path());
      ASSERT_OK(w.status());
      for (int i = 0; i < n_docs; i += 7) ASSERT_OK((*w)->Delete("d" + std::to_string(i)));
      for (int i = 3; i < n_docs; i += 11) {
        ASSERT_OK((*w)->Upsert(testing::Doc("d" + std::to_string(i), "", RandomText(rng, vocab, 20))));
      }
      ASSERT_OK((*w)->Commit());
    }
    ASSERT_OK_AND_ASSIGN(auto searcher, Searcher::Open(dir.path()));
    for (int qi = 0; qi < 60; ++qi) {
      TextQuery q;
      q.text = RandomText(rng, vocab, 1 + qi % 6);
      q.k = std::vector<size_t>{1, 5, 10, 50}[qi % 4];
      if (qi % 5 == 0) q.fields = {{"title", 2.0}, {"text", 1.0}};
      if (qi % 3 == 0) q.filters = {{"domain", {"doma"}}};
      if (qi % 7 == 0) q.filters = {{"domain", {"domb", "domc"}}};
      if (qi % 4 == 1) q.offset = 3;
      SearchStats stats;
      ASSERT_OK_AND_ASSIGN(auto fast, searcher->Search(q, &stats));
      ASSERT_OK_AND_ASSIGN(auto slow, searcher->SearchExhaustive(q));
      ExpectSameTopK(fast, slow, "corpus " + std::to_string(corpus) + " query '" + q.text + "'");
      pruned_total += stats.postings_scored;
      auto all_stats = searcher->Statistics();
      for (const auto& fw : q.fields) {
        for (const auto& t : Analyze(AnalyzerKind::kWhitespace, q.text)) {
          exhaustive_total += all_stats->DocFreq(fw.field, t);
        }
      }
    }
  }
  // MaxScore must skip a real share of postings, not score them all.
  EXPECT_LT(pruned_total, exhaustive_total * 3 / 4) << pruned_total << " of " << exhaustive_total;
}

TEST(TopKTest, FilterIsAppliedBeforeTruncation) {
  TempDir dir;
  std::vector<Document> docs;
  // 50 strong "med" matches, then one weak "cs" match.
  for (int i = 0; i < 50; ++i) docs.push_back(testing::Doc("m" + std::to_string(i), "", "heart heart heart", "med"));
  docs.push_back(testing::Doc("c0", "", "heart surgery robots and many other words here", "cs"));
  ASSERT_OK(testing::BuildIndex(dir.path(), docs));
  ASSERT_OK_AND_ASSIGN(auto searcher, Searcher::Open(dir.path()));
  TextQuery q;
  q.text = "heart";
  q.k = 1;
  q.filters = {{"domain", {"cs"}}};
  ASSERT_OK_AND_ASSIGN(auto hits, searcher->Search(q));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, "c0");
  q.filters = {{"domain", {"med"}}};
  q.k = 100;
  ASSERT_OK_AND_ASSIGN(hits, searcher->Search(q));
  EXPECT_EQ(hits.size(), 50u);
  for (const auto& h : hits) EXPECT_EQ(h.id[0], 'm');
  q.filters = {{"colour", {"red"}}};
  auto bad = searcher->Search(q);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("colour"), std::string::npos);
}

// AllMatches (every match with its score: facets, sorting, exhaustive
// search) merges the postings of a few terms by docid and sums many into an
// array over every document; both give the same documents and the same
// scores to the bit, with deletions, repeated terms, two fields and filters.
TEST(TopKTest, MergedPostingsGiveTheDenseSumsMatches) {
  std::mt19937 rng(7);
  TempDir dir;
  auto vocab = Vocabulary(60);
  std::vector<Document> docs;
  for (int i = 0; i < 500; ++i) {
    docs.push_back(
        testing::Doc("d" + std::to_string(i), RandomText(rng, vocab, 1 + i % 5), RandomText(rng, vocab, 5 + i % 40)));
  }
  ASSERT_OK(testing::BuildIndex(dir.path(), docs, AnalyzerKind::kWhitespace));
  {
    auto w = IndexWriter::Open(dir.path());
    ASSERT_OK(w.status());
    for (int i = 0; i < 500; i += 9) ASSERT_OK((*w)->Delete("d" + std::to_string(i)));
    for (int i = 4; i < 500; i += 13) ASSERT_OK((*w)->Upsert(testing::Doc("d" + std::to_string(i), "", "w1 w2 w3")));
    ASSERT_OK((*w)->Commit());
  }
  ASSERT_OK_AND_ASSIGN(internal::IndexMeta meta, internal::ReadMeta(dir.path()));
  Lucene::IndexReaderPtr reader = Lucene::IndexReader::open(
      Lucene::FSDirectory::open(internal::Wide(dir.path() + "/" + internal::kTextDir)), /*readOnly=*/true);
  ASSERT_TRUE(reader->hasDeletions());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::Snapshot> snap,
                       internal::Snapshot::Load(reader, dir.path(), meta, nullptr));
  internal::DocFilter odd((static_cast<size_t>(snap->max_doc()) + 63) / 64, 0xAAAAAAAAAAAAAAAAull);
  size_t matches = 0;
  for (int qi = 0; qi < 80; ++qi) {
    std::vector<internal::ScoredTerm> terms;
    const int n = 1 + qi % 12;
    for (int i = 0; i < n; ++i) {
      internal::ScoredTerm t;
      t.field = static_cast<int>(rng() % 3);
      t.term = internal::Wide(vocab[std::min<size_t>(rng() % 20, vocab.size() - 1)]);
      t.weight = 0.5 + static_cast<double>(rng() % 100) / 50;
      t.avgdl = 3 + static_cast<double>(rng() % 30);
      terms.push_back(t);
    }
    const internal::DocFilter none;
    for (const internal::DocFilter* filter : std::vector<const internal::DocFilter*>{&none, &odd}) {
      const auto merged = internal::AllMatches(*snap, terms, Bm25Params{}, *filter);
      const auto dense = internal::AllMatches(*snap, terms, Bm25Params{}, *filter, /*max_merged_terms=*/0);
      ASSERT_EQ(merged.size(), dense.size()) << "query " << qi;
      for (size_t i = 0; i < merged.size(); ++i) {
        ASSERT_EQ(merged[i].doc, dense[i].doc) << "query " << qi;
        ASSERT_EQ(merged[i].score, dense[i].score) << "query " << qi << " doc " << merged[i].doc;
        ASSERT_FALSE(reader->isDeleted(merged[i].doc));
      }
      matches += merged.size();
    }
  }
  EXPECT_GT(matches, 1000u);
}

// CountAdmitted walks a selective filter and looks its documents up in the
// lists, or marks every posting for a dense one: either way the count is
// the brute-force size of (union of the lists) ∩ filter. NextAdmitted finds
// the next set bit below max_doc.
TEST(TopKTest, CountAdmittedIsTheFilteredUnionsSize) {
  std::mt19937 rng(5);
  for (int round = 0; round < 60; ++round) {
    const int32_t max_doc = 1 + static_cast<int32_t>(rng() % 5000);
    std::vector<std::shared_ptr<const internal::DecodedPostings>> lists;
    std::vector<char> in_union(static_cast<size_t>(max_doc), 0);
    const int n_lists = static_cast<int>(rng() % 4);
    for (int l = 0; l < n_lists; ++l) {
      auto p = std::make_shared<internal::DecodedPostings>();
      const uint32_t density = 1 + rng() % 100;
      for (int32_t d = 0; d < max_doc; ++d) {
        if (rng() % 100 < density) {
          p->docs.push_back(d);
          p->tfs.push_back(1);
          in_union[static_cast<size_t>(d)] = 1;
        }
      }
      lists.push_back(p);
    }
    internal::DocFilter filter;
    std::vector<char> admitted(static_cast<size_t>(max_doc), 1);
    if (round % 5 != 0) {  // some rounds without a filter (every document admitted)
      filter.assign((static_cast<size_t>(max_doc) + 63) / 64, 0);
      const uint32_t density = round % 2 ? 1 : 1 + rng() % 100;  // selective or not
      for (int32_t d = 0; d < max_doc; ++d) {
        admitted[static_cast<size_t>(d)] = rng() % 100 < density;
        if (admitted[static_cast<size_t>(d)]) filter[static_cast<size_t>(d) >> 6] |= uint64_t{1} << (d & 63);
      }
      for (int32_t from = 0; from <= max_doc; from += 1 + static_cast<int32_t>(rng() % 97)) {
        int32_t want = from;
        while (want < max_doc && !admitted[static_cast<size_t>(want)]) ++want;
        EXPECT_EQ(internal::NextAdmitted(filter, from, max_doc), want < max_doc ? want : INT32_MAX) << from;
      }
    }
    uint64_t want = 0;
    for (int32_t d = 0; d < max_doc; ++d) want += in_union[static_cast<size_t>(d)] && admitted[static_cast<size_t>(d)];
    EXPECT_EQ(internal::CountAdmitted(lists, filter, max_doc), want) << "round " << round;
  }
}

// AllAdmitted with a limit: the first documents of the full list and the
// full list's size, with and without deleted documents, for filters of any
// density and none.
TEST(TopKTest, FirstAdmittedDocumentsAndTheirCount) {
  std::mt19937 rng(9);
  for (bool with_deletions : {false, true}) {
    TempDir dir;
    std::vector<Document> docs;
    for (int i = 0; i < 700; ++i) docs.push_back(testing::Doc("d" + std::to_string(i), "", "w1 w2"));
    ASSERT_OK(testing::BuildIndex(dir.path(), docs, AnalyzerKind::kWhitespace));
    if (with_deletions) {
      auto w = IndexWriter::Open(dir.path());
      ASSERT_OK(w.status());
      for (int i = 0; i < 700; i += 3) ASSERT_OK((*w)->Delete("d" + std::to_string(i)));
      ASSERT_OK((*w)->Commit());
    }
    ASSERT_OK_AND_ASSIGN(internal::IndexMeta meta, internal::ReadMeta(dir.path()));
    Lucene::IndexReaderPtr reader = Lucene::IndexReader::open(
        Lucene::FSDirectory::open(internal::Wide(dir.path() + "/" + internal::kTextDir)), /*readOnly=*/true);
    ASSERT_EQ(reader->hasDeletions(), with_deletions);
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<internal::Snapshot> snap,
                         internal::Snapshot::Load(reader, dir.path(), meta, nullptr));
    for (int round = 0; round < 20; ++round) {
      internal::DocFilter filter;
      if (round % 4 != 0) {
        filter.assign((static_cast<size_t>(snap->max_doc()) + 63) / 64, 0);
        const uint32_t density = 1 + rng() % 100;
        for (int32_t d = 0; d < snap->max_doc(); ++d)
          if (rng() % 100 < density) filter[static_cast<size_t>(d) >> 6] |= uint64_t{1} << (d & 63);
      }
      const auto all = internal::AllAdmitted(*snap, filter);
      for (int32_t d = 0, i = 0; d < snap->max_doc(); ++d) {  // the full list: every live admitted doc
        if (reader->isDeleted(d) || !internal::Admits(filter, d)) continue;
        ASSERT_LT(static_cast<size_t>(i), all.size());
        EXPECT_EQ(all[static_cast<size_t>(i++)].doc, d);
      }
      for (size_t limit : {size_t{0}, size_t{1}, size_t{10}, size_t{100000}}) {
        uint64_t total = 0;
        const auto first = internal::AllAdmitted(*snap, filter, limit, &total);
        EXPECT_EQ(total, all.size());
        ASSERT_EQ(first.size(), std::min(limit, all.size()));
        for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].doc, all[i].doc);
      }
    }
  }
}

}  // namespace
}  // namespace hymir::index
