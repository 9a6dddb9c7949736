// Fusion functions against hand-computed values, and the tuner on cases with
// an obvious answer.
#include "hymir/ranking/fusion.h"

#include <gtest/gtest.h>

#include "hymir/ranking/fusion_tuner.h"
#include "tests/testutil/testutil.h"

namespace hymir::ranking {
namespace {

using Lists = std::vector<std::vector<Candidate>>;

// BM25-like list 0 and dense-like list 1 sharing "b".
Lists TwoLists() { return {{{"a", 10.0}, {"b", 6.0}, {"c", 2.0}}, {{"b", 0.9}, {"d", 0.5}}}; }

const FusedHit& Find(const std::vector<FusedHit>& hits, const std::string& id) {
  for (const auto& h : hits) {
    if (h.id == id) return h;
  }
  static FusedHit none;
  ADD_FAILURE() << "missing " << id;
  return none;
}

TEST(FusionTest, Rrf) {
  FusionOptions o;
  o.method = FusionMethod::kRrf;
  ASSERT_OK_AND_ASSIGN(auto hits, Fuse(TwoLists(), o));
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].id, "b");
  EXPECT_NEAR(hits[0].score, 1.0 / 62 + 1.0 / 61, 1e-12);
  EXPECT_NEAR(Find(hits, "a").score, 1.0 / 61, 1e-12);
  EXPECT_NEAR(Find(hits, "d").score, 1.0 / 62, 1e-12);
  EXPECT_NEAR(Find(hits, "c").score, 1.0 / 63, 1e-12);
  // Ties (a and... none here) aside, stages keep the original scores and ranks.
  const FusedHit& b = Find(hits, "b");
  EXPECT_TRUE(b.stages[0].present);
  EXPECT_EQ(b.stages[0].rank, 2u);
  EXPECT_DOUBLE_EQ(b.stages[0].score, 6.0);
  EXPECT_EQ(b.stages[1].rank, 1u);
  EXPECT_FALSE(Find(hits, "a").stages[1].present);
}

TEST(FusionTest, WeightedRrf) {
  FusionOptions o;
  o.method = FusionMethod::kWeightedRrf;
  o.rrf_k = 10;
  o.weights = {1.0, 0.5};
  ASSERT_OK_AND_ASSIGN(auto hits, Fuse(TwoLists(), o));
  EXPECT_NEAR(Find(hits, "b").score, 1.0 / 12 + 0.5 / 11, 1e-12);
  EXPECT_NEAR(Find(hits, "d").score, 0.5 / 12, 1e-12);
}

TEST(FusionTest, MinMaxObservedAndFixedBounds) {
  FusionOptions o;
  o.method = FusionMethod::kMinMax;
  ASSERT_OK_AND_ASSIGN(auto hits, Fuse(TwoLists(), o));
  // list 0: (s - 2) / 8; list 1: (s - 0.5) / 0.4; absent = 0.
  EXPECT_NEAR(Find(hits, "a").score, 1.0, 1e-12);
  EXPECT_NEAR(Find(hits, "b").score, 0.5 + 1.0, 1e-12);
  EXPECT_NEAR(Find(hits, "c").score, 0.0, 1e-12);
  EXPECT_NEAR(Find(hits, "d").score, 0.0, 1e-12);
  o.bounds = {{0.0, 20.0}, {-1.0, 1.0}};
  ASSERT_OK_AND_ASSIGN(hits, Fuse(TwoLists(), o));
  EXPECT_NEAR(Find(hits, "a").score, 0.5, 1e-12);
  EXPECT_NEAR(Find(hits, "d").score, 0.75, 1e-12);
}

TEST(FusionTest, ZScore) {
  FusionOptions o;
  o.method = FusionMethod::kZScore;
  o.weights = {1.0, 2.0};
  ASSERT_OK_AND_ASSIGN(auto hits, Fuse(TwoLists(), o));
  // list 0: mean 6, sd sqrt(32/3); list 1: mean 0.7, sd 0.2.
  const double sd0 = std::sqrt(32.0 / 3.0);
  EXPECT_NEAR(Find(hits, "a").score, 4.0 / sd0 + 2.0 * (-1.0), 1e-9);  // absent in list 1: z of its minimum
  EXPECT_NEAR(Find(hits, "b").score, 0.0 + 2.0 * 1.0, 1e-9);
  EXPECT_NEAR(Find(hits, "d").score, -4.0 / sd0 + 2.0 * (-1.0), 1e-9);
}

TEST(FusionTest, ConvexEndpointsReproduceEachList) {
  FusionOptions o;
  o.method = FusionMethod::kConvex;
  o.alpha = 1.0;
  ASSERT_OK_AND_ASSIGN(auto hits, Fuse(TwoLists(), o));
  EXPECT_EQ(hits[0].id, "a");
  EXPECT_EQ(hits[1].id, "b");
  EXPECT_EQ(hits[2].id, "c");
  o.alpha = 0.0;
  ASSERT_OK_AND_ASSIGN(hits, Fuse(TwoLists(), o));
  EXPECT_EQ(hits[0].id, "b");
  o.alpha = 0.3;
  ASSERT_OK_AND_ASSIGN(hits, Fuse(TwoLists(), o));
  EXPECT_NEAR(Find(hits, "b").score, 0.3 * 0.5 + 0.7 * 1.0, 1e-12);
  EXPECT_NEAR(Find(hits, "a").score, 0.3, 1e-12);
}

TEST(FusionTest, TiesBreakById) {
  FusionOptions o;
  o.method = FusionMethod::kRrf;
  ASSERT_OK_AND_ASSIGN(auto hits, Fuse({{{"z", 1.0}}, {{"y", 1.0}}}, o));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, "y");
  EXPECT_EQ(hits[1].id, "z");
}

TEST(FusionTest, ValidationErrors) {
  FusionOptions o;
  o.method = FusionMethod::kConvex;
  EXPECT_FALSE(Fuse({{{"a", 1.0}}}, o).ok());
  o.alpha = 1.5;
  EXPECT_FALSE(Fuse(TwoLists(), o).ok());
  o = FusionOptions();
  o.method = FusionMethod::kWeightedRrf;
  o.weights = {1.0};
  EXPECT_TRUE(Fuse(TwoLists(), o).status().IsInvalidArgument());
  o.weights.clear();
  o.rrf_k = 0;
  EXPECT_FALSE(Fuse(TwoLists(), o).ok());
  o = FusionOptions();
  EXPECT_FALSE(Fuse({{{"a", std::nan("")}}, {}}, o).ok());
  EXPECT_FALSE(ParseFusionMethod("borda").ok());
  EXPECT_EQ(*ParseFusionMethod("zscore"), FusionMethod::kZScore);
}

// Relevant doc "r<q>" is first in list `good` and absent from the other,
// which ranks noise first.
std::map<std::string, Lists> Planted(int good, Qrels* qrels) {
  std::map<std::string, Lists> lists;
  for (int q = 0; q < 20; ++q) {
    const std::string qid = "q" + std::to_string(q);
    Lists l(2);
    l[good] = {{"r" + std::to_string(q), 5.0}, {"x" + std::to_string(q), 1.0}};
    l[1 - good] = {{"n" + std::to_string(q), 0.9}, {"x" + std::to_string(q), 0.8}, {"m", 0.1}};
    lists[qid] = l;
    qrels->Set(qid, "r" + std::to_string(q), 1);
  }
  return lists;
}

TEST(FusionTunerTest, PicksTheInformativeList) {
  for (int good : {0, 1}) {
    Qrels qrels;
    auto lists = Planted(good, &qrels);
    TuneOptions t;
    t.methods = {FusionMethod::kConvex};
    ASSERT_OK_AND_ASSIGN(auto r, TuneFusion(lists, qrels, t));
    EXPECT_EQ(r.table.size(), 21u);
    EXPECT_DOUBLE_EQ(r.best.ndcg_cut_10, 1.0);
    // alpha weighs list 0: the end that ignores the informative list fails.
    const auto& only0 = r.table.back();   // alpha = 1
    const auto& only1 = r.table.front();  // alpha = 0
    if (good == 0) {
      EXPECT_GE(r.best.options.alpha, 0.5);
      EXPECT_DOUBLE_EQ(only0.ndcg_cut_10, 1.0);
      EXPECT_LT(only1.ndcg_cut_10, 0.7);
    } else {
      EXPECT_LE(r.best.options.alpha, 0.5);
      EXPECT_DOUBLE_EQ(only1.ndcg_cut_10, 1.0);
      EXPECT_LT(only0.ndcg_cut_10, 0.7);
    }
    EXPECT_EQ(r.queries, 20u);
  }
  Qrels qrels;
  auto lists = Planted(0, &qrels);
  ASSERT_OK_AND_ASSIGN(auto all, TuneFusion(lists, qrels));
  EXPECT_EQ(all.table.size(), 21u + 13u + 4u + 13u + 13u);
}

}  // namespace
}  // namespace hymir::ranking
