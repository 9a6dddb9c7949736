// BoostedTrees: LambdaMART on lists whose relevance is a threshold
// interaction, early stopping, offsets, determinism and the serialised form.
#include "hymir/ranking/boosted_trees.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace hymir::ranking {
namespace {

constexpr size_t kDim = 4;

// Relevant iff x0 * x1 > 0.8 (about one row in eight): the far ends of
// both features, but only in the same direction, so no sum of one-feature
// functions ranks it (it would put x0 >> 0, x1 << 0 as high); x2, x3 are noise.
std::vector<TreeList> ProductLists(size_t lists, size_t n, uint64_t seed, bool noise_labels = false) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::bernoulli_distribution coin(0.2);
  std::vector<TreeList> out(lists);
  for (auto& l : out) {
    for (size_t i = 0; i < n; ++i) {
      double row[kDim];
      for (double& v : row) v = nd(rng);
      l.x.insert(l.x.end(), row, row + kDim);
      const bool rel = noise_labels ? coin(rng) : (row[0] * row[1] > 0.8);
      l.labels.push_back(rel ? 1.0 : 0.0);
    }
  }
  return out;
}

double Ndcg10(const TreeList& l, const std::vector<double>& s) {
  std::vector<size_t> order(s.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  std::vector<double> ideal = l.labels;
  std::sort(ideal.rbegin(), ideal.rend());
  double dcg = 0, idcg = 0;
  for (size_t r = 0; r < std::min<size_t>(10, s.size()); ++r) {
    dcg += (std::pow(2.0, l.labels[order[r]]) - 1) / std::log2(r + 2.0);
    idcg += (std::pow(2.0, ideal[r]) - 1) / std::log2(r + 2.0);
  }
  return idcg > 0 ? dcg / idcg : 0;
}

double MeanNdcg(const BoostedTrees& t, const std::vector<TreeList>& lists) {
  double sum = 0;
  for (const auto& l : lists) {
    std::vector<double> s(l.labels.size(), 0.0);
    t.Predict(l.x.data(), s.size(), s.data());
    sum += Ndcg10(l, s);
  }
  return sum / static_cast<double>(lists.size());
}

TEST(BoostedTreesTest, LearnsAThresholdInteraction) {
  const auto train = ProductLists(200, 40, 1), valid = ProductLists(60, 40, 2), test = ProductLists(100, 40, 3);
  TreeBoostOptions o;
  o.max_rounds = 150;
  o.learning_rate = 0.1;
  o.max_depth = 3;
  TreeBoostReport rep;
  auto trees = TrainBoostedTrees(train, valid, kDim, o, false, &rep);
  ASSERT_TRUE(trees.ok()) << trees.status().message();
  EXPECT_GE(rep.best_round, 1);
  EXPECT_EQ(trees->rounds(), static_cast<size_t>(rep.best_round));
  EXPECT_EQ(trees->dim(), kDim);
  // The list order (all scores 0) is a random ranking here.
  const double learnt = MeanNdcg(*trees, test), none = MeanNdcg(BoostedTrees{}, test);
  EXPECT_GT(learnt, 0.95);
  EXPECT_LT(none, 0.8);
  // The splits are on the two features that decide relevance.
  const auto gain = trees->FeatureGain();
  ASSERT_EQ(gain.size(), kDim);
  EXPECT_GT(gain[0] + gain[1], 10 * (gain[2] + gain[3]));
  // Path attribution adds up to each row's value, and credits the two
  // features that decide relevance.
  std::vector<double> total(kDim, 0.0);
  for (const auto& l : test)
    for (size_t i = 0; i < l.labels.size(); ++i) {
      std::vector<double> c;
      const double base = trees->Attribute(l.x.data() + i * kDim, c);
      ASSERT_EQ(c.size(), kDim);
      double sum = base;
      for (size_t f = 0; f < kDim; ++f) sum += c[f], total[f] += std::abs(c[f]);
      EXPECT_NEAR(sum, trees->PredictRow(l.x.data() + i * kDim), 1e-9);
    }
  EXPECT_GT(total[0] + total[1], 5 * (total[2] + total[3]));
  // Stumps add up one-feature functions, which cannot express the product.
  o.max_depth = 1;
  auto stumps = TrainBoostedTrees(train, valid, kDim, o);
  ASSERT_TRUE(stumps.ok());
  EXPECT_LT(MeanNdcg(*stumps, test), 0.8);
}

TEST(BoostedTreesTest, EarlyStoppingKeepsTheBestRoundAndNoTreesWhenNoneHelps) {
  // Validation labels unrelated to the features: no round beats the
  // offsets (here 0), so nothing is kept.
  const auto train = ProductLists(100, 30, 4), valid = ProductLists(40, 30, 5, /*noise_labels=*/true);
  TreeBoostOptions o;
  o.max_rounds = 400;
  o.early_stopping = 20;
  TreeBoostReport rep;
  auto trees = TrainBoostedTrees(train, valid, kDim, o, false, &rep);
  ASSERT_TRUE(trees.ok());
  EXPECT_LT(rep.rounds, 400);  // stopped early
  EXPECT_EQ(trees->rounds(), static_cast<size_t>(rep.best_round));
  EXPECT_EQ(rep.validation_ndcg.size(), static_cast<size_t>(rep.rounds));
  if (rep.best_round > 0) {
    EXPECT_DOUBLE_EQ(rep.best_validation_ndcg, rep.validation_ndcg[rep.best_round - 1]);
  }
  // Without validation lists: exactly max_rounds trees.
  o.max_rounds = 7;
  auto fixed = TrainBoostedTrees(train, {}, kDim, o);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->rounds(), 7u);
}

TEST(BoostedTreesTest, OffsetsAreWhatTheTreesAddTo) {
  auto train = ProductLists(80, 30, 6), valid = ProductLists(40, 30, 7);
  // Perfect offsets: nothing to learn, no tree beats round 0.
  for (auto* set : {&train, &valid})
    for (auto& l : *set) l.offset = l.labels;
  TreeBoostOptions o;
  o.max_rounds = 50;
  o.early_stopping = 10;
  TreeBoostReport rep;
  auto trees = TrainBoostedTrees(train, valid, kDim, o, false, &rep);
  ASSERT_TRUE(trees.ok());
  EXPECT_EQ(rep.best_round, 0);
  EXPECT_TRUE(trees->empty());
  EXPECT_DOUBLE_EQ(rep.best_validation_ndcg, 1.0);
  // An offset of the wrong length is refused.
  train[0].offset.pop_back();
  EXPECT_FALSE(TrainBoostedTrees(train, valid, kDim, o).ok());
}

TEST(BoostedTreesTest, DeterministicGivenTheSeedAndRoundTripsThroughBytes) {
  const auto train = ProductLists(60, 30, 8), valid = ProductLists(20, 30, 9);
  TreeBoostOptions o;
  o.max_rounds = 40;
  auto a = TrainBoostedTrees(train, valid, kDim, o).value();
  auto b = TrainBoostedTrees(train, valid, kDim, o).value();
  EXPECT_EQ(a, b);
  o.seed = 43;  // another row and feature sample
  auto c = TrainBoostedTrees(train, valid, kDim, o).value();
  EXPECT_FALSE(a == c);

  const std::string bytes = a.Serialize();
  auto back = BoostedTrees::Parse(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, a);
  const double row[kDim] = {0.5, -1.0, 0.1, 2.0};
  EXPECT_EQ(back->PredictRow(row), a.PredictRow(row));
  // Truncated, or a split whose child points back at its parent: refused.
  EXPECT_FALSE(BoostedTrees::Parse(std::string_view(bytes).substr(0, bytes.size() - 3)).ok());
  std::string bad = bytes;
  // Layout: dim (8 bytes), then feature_ as a u64 count and int32s, then
  // left_ likewise; the root (node 0) of a tree with a split has left = 1.
  ASSERT_GE(a.rounds(), 1u);
  uint64_t nodes = 0;
  std::memcpy(&nodes, bad.data() + 8, 8);
  const size_t left0 = 8 + 8 + nodes * 4 + 8;
  int32_t first_left = 0;
  std::memcpy(&first_left, bad.data() + left0, 4);
  ASSERT_GT(first_left, 0);  // the first tree split
  const int32_t self = 0;
  std::memcpy(bad.data() + left0, &self, 4);
  auto damaged = BoostedTrees::Parse(bad);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("malformed split"), std::string::npos);
}

// Predict walks eight rows at a time in lockstep, leaves stepping to
// themselves: every row's value must be the one an independent walk of the
// stored nodes (Attribute's path sum) gives, for a row count that is not a
// multiple of eight, NaN values, trees of unequal depth, and after Truncate
// and Append re-pack the nodes.
TEST(BoostedTreesTest, PredictingRowsTogetherEqualsWalkingEachRowAlone) {
  const auto train = ProductLists(60, 30, 11);
  TreeBoostOptions o;
  o.max_rounds = 30;
  o.max_depth = 5;
  o.min_child_hessian = 0.5;
  auto trees = TrainBoostedTrees(train, {}, kDim, o).value();
  ASSERT_EQ(trees.rounds(), 30u);
  o.seed = 7;
  o.max_depth = 2;
  o.max_rounds = 5;
  const auto more = TrainBoostedTrees(train, {}, kDim, o).value();
  auto check = [&](const BoostedTrees& t) {
    std::vector<double> x = ProductLists(1, 37, 13)[0].x;
    x[3 * kDim] = std::nan("");
    x[10 * kDim + 1] = std::nan("");
    std::vector<double> got(37, 0.25);
    t.Predict(x.data(), 37, got.data());
    for (size_t i = 0; i < 37; ++i) {
      std::vector<double> contribution;
      double want = t.Attribute(x.data() + i * kDim, contribution);
      for (double c : contribution) want += c;
      EXPECT_NEAR(got[i], 0.25 + want, 1e-9) << "row " << i;
    }
  };
  check(trees);
  trees.Truncate(17);
  check(trees);
  ASSERT_TRUE(trees.Append(more).ok());
  ASSERT_EQ(trees.rounds(), 22u);
  check(trees);
}

TEST(BoostedTreesTest, RejectsInconsistentInput) {
  auto train = ProductLists(10, 5, 10);
  TreeBoostOptions o;
  EXPECT_FALSE(TrainBoostedTrees(train, {}, 0, o).ok());         // no features
  EXPECT_FALSE(TrainBoostedTrees(train, {}, kDim + 1, o).ok());  // rows do not divide
  o.bins = 1;
  EXPECT_FALSE(TrainBoostedTrees(train, {}, kDim, o).ok());
  o = TreeBoostOptions{};
  o.subsample = 0;
  EXPECT_FALSE(TrainBoostedTrees(train, {}, kDim, o).ok());
}

}  // namespace
}  // namespace hymir::ranking
