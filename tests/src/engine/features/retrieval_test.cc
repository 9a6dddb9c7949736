// The retrieval family (src/engine/features/retrieval.cc): the stage ranks
// and the fused score of hand-made hits.
#include <gtest/gtest.h>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

TEST(RetrievalFamilyTest, StageRanksAndFusedScoreOfHandMadeHits) {
  testing::TempDir tmp;
  ASSERT_OK(testing::BuildIndex(tmp.path(), {testing::Doc("a", "cat", "dog"), testing::Doc("b", "fox", "owl")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  auto hits = testing::Candidates({"a", "b"});
  // a: BM25 rank 2, vector rank 4, fused 0.7 at rank 1.
  hits[0].bm25 = {true, 3.5, 2};
  hits[0].vector = {true, 0.9, 4};
  hits[0].fused = {true, 0.7, 1};
  // b: only the vector list (rank 1), no fused stage: its own score 0.5 and rank 2.
  hits[1].vector = {true, 0.95, 1};
  hits[1].score = 0.5;
  HybridQuery q;
  q.text = "cat";
  const auto x = testing::ExtractBoth(*engine, FeatureConfig{}, q, hits);
  EXPECT_DOUBLE_EQ(x.Pair("a", "bm25_rrank"), 0.5);
  EXPECT_DOUBLE_EQ(x.Pair("a", "bm25_present"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "dense_rrank"), 0.25);
  EXPECT_DOUBLE_EQ(x.Pair("a", "fused_score"), 0.7);
  EXPECT_DOUBLE_EQ(x.Pair("a", "fused_rrank"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "bm25_rrank"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "bm25_present"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "dense_rrank"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "fused_score"), 0.5);
  EXPECT_DOUBLE_EQ(x.Pair("b", "fused_rrank"), 0.5);
}

}  // namespace
}  // namespace hymir
