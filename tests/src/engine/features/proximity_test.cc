// The proximity family (src/engine/features/proximity.cc): windows and
// adjacent bigrams worked out by hand, and WindowDensity on its own.
#include "src/engine/features/proximity.h"

#include <gtest/gtest.h>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

// Title then text as one token sequence (positions from 0):
//   a  cat | fox dog owl cat              cat0 fox1 dog2 owl3 cat4
//   b  owl | fox dog dog cat elk fox cat  owl0 fox1 dog2 dog3 cat4 elk5 fox6 cat7
//   c  fox | dog dog cat                  fox0 dog1 dog2 cat3
//   d  elk | yak                          no query term
TEST(ProximityFamilyTest, WindowsAndBigramsByHand) {
  testing::TempDir tmp;
  ASSERT_OK(testing::BuildIndex(
      tmp.path(), {testing::Doc("a", "cat", "fox dog owl cat"), testing::Doc("b", "owl", "fox dog dog cat elk fox cat"),
                   testing::Doc("c", "fox", "dog dog cat"), testing::Doc("d", "elk", "yak")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  HybridQuery q;
  q.text = "fox cat";  // one query bigram: (fox, cat)
  auto x = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a", "b", "c", "d"}));
  // a: cat0 fox1 spans 2 -> 2/2; its only adjacent pair is (cat, fox), the
  // wrong order (across the title/text boundary): 0 of 1 bigrams.
  EXPECT_DOUBLE_EQ(x.Pair("a", "window_density"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "bigram_match"), 0.0);
  // b: fox6 cat7 -> 1; (fox, cat) adjacent at 6, 7 -> 1.
  EXPECT_DOUBLE_EQ(x.Pair("b", "window_density"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "bigram_match"), 1.0);
  // c: fox0 .. cat3 spans 4 -> 2/4.
  EXPECT_DOUBLE_EQ(x.Pair("c", "window_density"), 0.5);
  EXPECT_DOUBLE_EQ(x.Pair("c", "bigram_match"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("d", "window_density"), 0.0);

  // Three terms, bigrams (fox, cat) and (cat, dog):
  q.text = "fox cat dog";
  x = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a", "b", "c", "d"}));
  // a: fox1 dog2 owl3 cat4 holds all three in 4 tokens (cat0 fox1 dog2 too:
  // 3) -> 3/3; neither bigram adjacent -> 0/2.
  EXPECT_DOUBLE_EQ(x.Pair("a", "window_density"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "bigram_match"), 0.0);
  // b: fox1 dog2 dog3 cat4 -> 3/4 (dog3 cat4 elk5 fox6 is 4 too); (fox, cat)
  // at 6, 7 but no (cat, dog) -> 1/2.
  EXPECT_DOUBLE_EQ(x.Pair("b", "window_density"), 0.75);
  EXPECT_DOUBLE_EQ(x.Pair("b", "bigram_match"), 0.5);
  // c: fox0 dog1 dog2 cat3 -> 3/4; no bigram.
  EXPECT_DOUBLE_EQ(x.Pair("c", "window_density"), 0.75);

  // One term: density 1 when present, no bigrams.
  q.text = "owl";
  x = testing::ExtractBoth(*engine, FeatureConfig{}, q, testing::Candidates({"a", "c"}));
  EXPECT_DOUBLE_EQ(x.Pair("a", "window_density"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "bigram_match"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("c", "window_density"), 0.0);
}

// WindowDensity leaves its scratch counts at zero, so one vector serves
// every candidate.
TEST(ProximityFamilyTest, WindowDensityResetsItsScratch) {
  std::vector<int> count(3, 0);
  // Slots 0 1 2 at positions 0 5 6, slot 0 again at 9: windows 0..6 (7
  // tokens) and 5..9 (5) hold all three -> 3/5.
  const std::vector<std::pair<uint32_t, int>> occ = {{0, 0}, {5, 1}, {6, 2}, {9, 0}};
  EXPECT_DOUBLE_EQ(internal::WindowDensity(occ.data(), occ.size(), 3, &count), 3.0 / 5.0);
  EXPECT_EQ(count, std::vector<int>(3, 0));
  const std::vector<std::pair<uint32_t, int>> two = {{2, 1}, {3, 1}, {7, 0}};
  EXPECT_DOUBLE_EQ(internal::WindowDensity(two.data(), two.size(), 2, &count), 2.0 / 5.0);  // 3..7
  EXPECT_EQ(count, std::vector<int>(3, 0));
}

}  // namespace
}  // namespace hymir
