// The pseudo-relevance feedback family (src/engine/features/feedback.cc):
// feedback term weights and the feedback match worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

using testing::TfPart;

// Field all (title then text), N = 4, avgdl = (3 + 2 + 3 + 2) / 4 = 2.5:
//   a [cat dog dog]  b [cat owl]  c [fox dog owl]  d [elk yak]
// Query "cat", candidates a, b, c (all in the top 10 feedback documents).
// Feedback weight of a non-query term = sum over those documents of tf / len:
//   dog 2/3 + 1/3 = 1,  owl 1/2 + 1/3 = 5/6,  fox 1/3 (df 1: dropped).
// Times idf(df = 2) = ln(1 + 2.5 / 2.5) = ln 2: dog ln 2, owl 5/6 ln 2.
// Match (k1 0.9, b 0.4): sum over feedback terms of weight * tf part:
//   a  ln2 * T(2, 3)                    T(tf, dl) = tf / (tf + 0.9 (0.6 + 0.4 dl / 2.5))
//   b  5/6 ln2 * T(1, 2)
//   c  ln2 * T(1, 3) + 5/6 ln2 * T(1, 3)   = 0.9297 ln2, the best
// prf_lex = match / best; ln 2 cancels.
TEST(FeedbackFamilyTest, FeedbackTermsAndMatchByHand) {
  testing::TempDir tmp;
  ASSERT_OK(testing::BuildIndex(tmp.path(), {testing::Doc("a", "cat", "dog dog"), testing::Doc("b", "cat", "owl"),
                                             testing::Doc("c", "fox", "dog owl"), testing::Doc("d", "elk", "yak")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  HybridQuery q;
  q.text = "cat";
  const auto x = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a", "b", "c"}));
  const double a = TfPart(2, 3, 2.5), b = 5.0 / 6 * TfPart(1, 2, 2.5), c = (1 + 5.0 / 6) * TfPart(1, 3, 2.5);
  ASSERT_GT(c, a);
  ASSERT_GT(c, b);
  EXPECT_NEAR(x.Pair("c", "prf_lex"), 1.0, 1e-12);
  EXPECT_NEAR(x.Pair("a", "prf_lex"), a / c, 1e-12);  // 0.7238
  EXPECT_NEAR(x.Pair("b", "prf_lex"), b / c, 1e-12);  // 0.4903
  // No embedder: no centroid.
  for (const char* d : {"a", "b", "c"}) EXPECT_EQ(x.Pair(d, "prf_dense"), 0.0);

  // Only a and b as candidates: dog 2/3 (df 2 in the index), owl 1/2; a
  // matches dog, b owl: a ln2 2/3 T(2, 3) vs b ln2 1/2 T(1, 2).
  const auto y = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a", "b"}));
  const double ya = 2.0 / 3 * TfPart(2, 3, 2.5), yb = 0.5 * TfPart(1, 2, 2.5);
  EXPECT_NEAR(y.Pair("a", "prf_lex"), 1.0, 1e-12);
  EXPECT_NEAR(y.Pair("b", "prf_lex"), yb / ya, 1e-12);
}

}  // namespace
}  // namespace hymir
