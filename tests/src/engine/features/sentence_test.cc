// The sentence family (src/engine/features/sentence.cc): the best
// sentence's idf-weighted coverage, by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

// Field all: a [zzz cat dog fox owl cat], b [zzz cat dog owl fox],
// c [cat yak]; N = 3. Query "cat fox": idf cat ln(1 + 0.5/3.5) = ln(8/7)
// (df 3), fox ln 1.6 (df 2). Sentences are the text's (never the title's):
//   a  "Cat dog."  "Fox owl cat."   the second holds both -> 1
//   b  "Cat dog."  "Owl fox."       at best fox alone -> ln1.6 / (ln(8/7) + ln1.6)
//   c  "yak."                       none -> 0 (cat is in its title only)
TEST(SentenceFamilyTest, BestSentenceCoverageByHand) {
  testing::TempDir tmp;
  ASSERT_OK(testing::BuildIndex(
      tmp.path(), {testing::Doc("a", "zzz", "Cat dog. Fox owl cat."), testing::Doc("b", "zzz", "Cat dog. Owl fox."),
                   testing::Doc("c", "cat", "yak.")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  FeatureConfig config;
  config.sentence_features = true;
  HybridQuery q;
  q.text = "cat fox";
  const auto x = testing::ExtractBoth(*engine, config, q, testing::Candidates({"a", "b", "c"}));
  EXPECT_NEAR(x.Pair("a", "sent_idf_coverage"), 1.0, 1e-12);
  EXPECT_NEAR(x.Pair("b", "sent_idf_coverage"), std::log(1.6) / (std::log(8.0 / 7) + std::log(1.6)), 1e-12);
  EXPECT_DOUBLE_EQ(x.Pair("c", "sent_idf_coverage"), 0.0);
  for (const char* d : {"a", "b", "c"}) EXPECT_EQ(x.Pair(d, "sent_dense"), 0.0);  // no embedder
  // Without the option the family is off: no sentence columns.
  const auto y = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a"}));
  EXPECT_EQ(std::count(y.schema.pair_features.begin(), y.schema.pair_features.end(), "sent_idf_coverage"), 0);
}

}  // namespace
}  // namespace hymir
