// The query family (src/engine/features/query.cc): the query's idf profile
// and the shape of its BM25 list, by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

using testing::TfPart;

// The lexical test's index: field all a [cat dog cat], b [dog fox fox],
// c [owl cat owl owl]; N = 3, avgdl 10/3. Query "cat fox zebra":
// idf cat ln 1.6 (df 2), fox ln(8/3) (df 1), zebra ln 8 (df 0, unknown).
TEST(QueryFamilyTest, IdfProfileAndListShapeByHand) {
  testing::TempDir tmp;
  ASSERT_OK(testing::BuildIndex(tmp.path(), {testing::Doc("a", "cat", "dog cat"), testing::Doc("b", "dog", "fox fox"),
                                             testing::Doc("c", "owl", "cat owl owl")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  HybridQuery q;
  q.text = "cat fox zebra";
  const auto x = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a", "b", "c"}));
  const double i1 = std::log(1.6), i2 = std::log(8.0 / 3), i3 = std::log(8.0);
  const double mean = (i1 + i2 + i3) / 3;
  const double sd = std::sqrt(((i1 - mean) * (i1 - mean) + (i2 - mean) * (i2 - mean) + (i3 - mean) * (i3 - mean)) / 3);
  EXPECT_DOUBLE_EQ(x.Query("q_len"), 3.0);
  EXPECT_NEAR(x.Query("q_idf_mean"), mean, 1e-12);
  EXPECT_NEAR(x.Query("q_idf_max"), i3, 1e-12);
  EXPECT_NEAR(x.Query("q_idf_min"), i1, 1e-12);
  EXPECT_NEAR(x.Query("q_idf_std"), sd, 1e-12);
  EXPECT_NEAR(x.Query("q_oov"), 1.0 / 3, 1e-12);
  // bm25_all: a ln1.6 T(2, 3), b ln(8/3) T(2, 3) (the best), c ln1.6 T(1, 4)
  // (the lowest; with fewer than 10 candidates the gap is to the last).
  const double best = i2 * TfPart(2, 3, 10.0 / 3), last = i1 * TfPart(1, 4, 10.0 / 3);
  EXPECT_NEAR(x.Query("q_top_bm25"), best, 1e-12);
  EXPECT_NEAR(x.Query("q_bm25_gap"), (best - last) / best, 1e-12);

  // Repeats count in the length, not in the idf statistics.
  q.text = "fox fox";
  const auto y = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a", "b", "c"}));
  EXPECT_DOUBLE_EQ(y.Query("q_len"), 2.0);
  EXPECT_NEAR(y.Query("q_idf_mean"), i2, 1e-12);
  EXPECT_DOUBLE_EQ(y.Query("q_idf_std"), 0.0);
  EXPECT_DOUBLE_EQ(y.Query("q_oov"), 0.0);
  EXPECT_DOUBLE_EQ(y.Query("q_bm25_gap"), 1.0);  // only b matches: (best - 0) / best
}

// The gap is to the 10th best when there are more than 10 candidates: 12
// documents [cat] + k x [dog] (k = 0..11), query "cat": the tf part falls with
// length, so the 10th best is the document with k = 9.
TEST(QueryFamilyTest, GapToTheTenthBest) {
  testing::TempDir tmp;
  std::vector<Document> docs;
  std::vector<std::string> ids;
  double total_len = 0;
  for (int k = 0; k < 12; ++k) {
    std::string text;
    for (int j = 0; j < k; ++j) text += " dog";
    ids.push_back("d" + std::to_string(k));
    docs.push_back(testing::Doc(ids.back(), "cat", text));
    total_len += 1 + k;
  }
  ASSERT_OK(testing::BuildIndex(tmp.path(), docs));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  HybridQuery q;
  q.text = "cat";
  std::reverse(ids.begin(), ids.end());  // the list's order does not matter
  const auto x = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates(ids));
  const double avgdl = total_len / 12;
  const double best = TfPart(1, 1, avgdl), tenth = TfPart(1, 10, avgdl);  // idf cancels
  EXPECT_NEAR(x.Query("q_bm25_gap"), (best - tenth) / best, 1e-12);
}

}  // namespace
}  // namespace hymir
