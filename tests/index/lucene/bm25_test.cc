// BM25 scores against values computed by hand (Lucene 8 formula, exact dl).
#include "hymir/index/bm25.h"

#include <gtest/gtest.h>

#include "tests/index/lucene/index_fixture.h"

namespace hymir::index {
namespace {

using testing::Doc;
using testing::TempDir;

class Bm25Test : public ::testing::Test {
 protected:
  void SetUp() override {
    // whitespace analyzer: terms are exactly the words below.
    ASSERT_OK(testing::BuildIndex(
        dir_.path(),
        {Doc("d1", "apple", "apple banana"), Doc("d2", "", "banana cherry cherry cherry"), Doc("d3", "cherry", "date")},
        AnalyzerKind::kWhitespace));
    ASSERT_OK_AND_ASSIGN(searcher_, Searcher::Open(dir_.path()));
  }
  TempDir dir_;
  std::unique_ptr<Searcher> searcher_;
};

TEST_F(Bm25Test, FormulaHelpers) {
  EXPECT_NEAR(Bm25Idf(3, 1), std::log(1 + 2.5 / 1.5), 1e-12);
  EXPECT_NEAR(Bm25Tf(2, 3, 3, Bm25Params{}), 2.0 / 2.9, 1e-12);
}

TEST_F(Bm25Test, CombinedFieldMatchesHandComputedScores) {
  // N=3, avgdl=(3+4+2)/3=3; idf(apple)=ln(1+2.5/1.5), idf(cherry)=ln(1+1.5/2.5).
  TextQuery q;
  q.text = "apple cherry";
  ASSERT_OK_AND_ASSIGN(auto hits, searcher_->Search(q));
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, "d1");
  EXPECT_NEAR(hits[0].score, 0.6764339675942941, 1e-9);
  EXPECT_EQ(hits[1].id, "d2");
  EXPECT_NEAR(hits[1].score, 0.35074897704905644, 1e-9);
  EXPECT_EQ(hits[2].id, "d3");
  EXPECT_NEAR(hits[2].score, 0.2640469827223234, 1e-9);
  EXPECT_EQ(hits[2].rank, 3u);
}

TEST_F(Bm25Test, KAndBAreOptions) {
  TextQuery q;
  q.text = "apple";
  q.bm25 = Bm25Params{1.2, 0.75};
  ASSERT_OK_AND_ASSIGN(auto hits, searcher_->Search(q));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0].score, 0.613018283132329, 1e-9);
}

TEST_F(Bm25Test, PerFieldStatisticsAndWeights) {
  // title: N=2 (d2 has no title), avgdl=1; text: N=3, avgdl=7/3.
  TextQuery q;
  q.text = "cherry";
  q.fields = {{"title", 2.0}, {"text", 1.0}};
  ASSERT_OK_AND_ASSIGN(auto hits, searcher_->Search(q));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, "d3");
  EXPECT_NEAR(hits[0].score, 2 * 0.3648143055578659, 1e-9);
  EXPECT_EQ(hits[1].id, "d2");
  EXPECT_NEAR(hits[1].score, 0.7078149248538232, 1e-9);

  auto stats = searcher_->Statistics();
  EXPECT_EQ(stats->DocCount("title"), 2u);
  EXPECT_EQ(stats->DocCount("all"), 3u);
  EXPECT_EQ(stats->SumTotalTermFreq("text"), 7u);
  EXPECT_EQ(stats->DocFreq("all", "cherry"), 2u);
}

TEST_F(Bm25Test, RepeatedQueryTermCountsTwice) {
  TextQuery once, twice;
  once.text = "apple";
  twice.text = "apple apple";
  ASSERT_OK_AND_ASSIGN(auto a, searcher_->Search(once));
  ASSERT_OK_AND_ASSIGN(auto b, searcher_->Search(twice));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NEAR(b[0].score, 2 * a[0].score, 1e-12);
}

TEST_F(Bm25Test, WeightedExpansionsAddTheirWeightedScore) {
  auto score_of = [&](const TextQuery& q, const std::string& id) {
    auto hits = searcher_->Search(q);
    EXPECT_TRUE(hits.ok());
    for (const auto& h : *hits)
      if (h.id == id) return h.score;
    return 0.0;
  };
  TextQuery apple, banana, expanded;
  apple.text = "apple";
  banana.text = "banana";
  expanded.text = "apple";
  expanded.expansions = {{"banana", 0.25}};
  // d1 has both terms: apple's score plus a quarter of banana's.
  EXPECT_NEAR(score_of(expanded, "d1"), score_of(apple, "d1") + 0.25 * score_of(banana, "d1"), 1e-12);
  // d2 is reached through the expansion alone, at a quarter of its banana score.
  EXPECT_NEAR(score_of(expanded, "d2"), 0.25 * score_of(banana, "d2"), 1e-12);
  // The pruned path agrees with scoring every posting.
  ASSERT_OK_AND_ASSIGN(auto pruned, searcher_->Search(expanded));
  ASSERT_OK_AND_ASSIGN(auto all, searcher_->SearchExhaustive(expanded));
  ASSERT_EQ(pruned.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(pruned[i].id, all[i].id);
    EXPECT_NEAR(pruned[i].score, all[i].score, 1e-9);
  }
  expanded.expansions = {{"banana", 0.0}};
  EXPECT_TRUE(searcher_->Search(expanded).status().IsInvalidArgument());
}

// A collection-statistics override changes the scores exactly as the formula
// says: the hook a sharded deployment uses for global statistics.
class DoubledStats final : public CollectionStatistics {
 public:
  explicit DoubledStats(std::shared_ptr<const CollectionStatistics> base) : base_(std::move(base)) {}
  uint64_t DocCount(std::string_view f) const override { return 2 * base_->DocCount(f); }
  uint64_t SumTotalTermFreq(std::string_view f) const override { return 2 * base_->SumTotalTermFreq(f); }
  uint64_t DocFreq(std::string_view f, std::string_view t) const override { return 2 * base_->DocFreq(f, t); }

 private:
  std::shared_ptr<const CollectionStatistics> base_;
};

TEST_F(Bm25Test, ExternalStatisticsAreUsed) {
  DoubledStats global(searcher_->Statistics());
  TextQuery q;
  q.text = "apple";
  q.statistics = &global;
  ASSERT_OK_AND_ASSIGN(auto hits, searcher_->Search(q));
  ASSERT_EQ(hits.size(), 1u);
  // N=6, df=2, avgdl unchanged (18/6=3).
  EXPECT_NEAR(hits[0].score, Bm25Idf(6, 2) * Bm25Tf(2, 3, 3, Bm25Params{}), 1e-12);
}

TEST_F(Bm25Test, UnknownFieldAndBadWeightAreErrors) {
  TextQuery q;
  q.text = "apple";
  q.fields = {{"body", 1.0}};
  auto r = searcher_->Search(q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("body"), std::string::npos);
  q.fields = {{"title", 0.0}};
  EXPECT_TRUE(searcher_->Search(q).status().IsInvalidArgument());
}

TEST_F(Bm25Test, QueryOfOnlyUnknownOrStopTermsReturnsNothing) {
  TextQuery q;
  q.text = "zebra";
  ASSERT_OK_AND_ASSIGN(auto hits, searcher_->Search(q));
  EXPECT_TRUE(hits.empty());
}

}  // namespace
}  // namespace hymir::index
