// The boosted shared expert: a MoeModel's trees add to its networks' score,
// survive the model file (format 7), a widened gate and fusion, and the
// trainer fits them first and the networks on top.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "hymir/ranking/boosted_trees.h"
#include "hymir/ranking/moe_model.h"
#include "hymir/ranking/moe_trainer.h"
#include "tests/ranking/moe/test_schema.h"
#include "tests/testutil/testutil.h"

namespace hymir::ranking {
namespace {

using testing::Schema;

// Candidates relevant iff p0 * p1 > 0.8: a product the trees split on and
// a sum of one-feature functions cannot rank; p2 is noise.
std::vector<QueryGroup> ProductTask(size_t queries, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::vector<QueryGroup> out(queries);
  for (size_t q = 0; q < queries; ++q) {
    QueryGroup& g = out[q];
    g.query_id = "q";
    g.query_id += std::to_string(q);
    g.query_features = {nd(rng), nd(rng)};
    for (size_t i = 0; i < n; ++i) {
      const double a = nd(rng), b = nd(rng), c = nd(rng);
      g.doc_ids.push_back("d" + std::to_string(i));
      g.pair_features.insert(g.pair_features.end(), {a, b, c});
      g.labels.push_back(a * b > 0.8 ? 1.0 : 0.0);
    }
  }
  return out;
}

double MeanNdcg(const MoeModel& m, const std::vector<QueryGroup>& groups) {
  double s = 0;
  for (const auto& g : groups) s += GroupNdcg(g, m.Score(g).value(), 10);
  return s / static_cast<double>(groups.size());
}

// A model with random weights and trees fitted to its own tree inputs.
MoeModel ModelWithTrees(const FeatureSchema& schema, const std::vector<QueryGroup>& groups) {
  auto model =
      MoeModel::Create({.routed_experts = 3, .shared_experts = 1, .top_k = 2, .expert_hidden = 4}, schema, 3).value();
  std::mt19937_64 rng(2);
  std::normal_distribution<double> nd(0.0, 0.3);
  for (double& p : model.parameters()) p = nd(rng);
  model.set_normalization(FitNormalization(schema, groups, true));
  std::vector<TreeList> lists(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_TRUE(model.TreeInputs(groups[i], lists[i].x).ok());
    lists[i].labels = groups[i].labels;
  }
  TreeBoostOptions o;
  o.max_rounds = 20;
  auto trees = TrainBoostedTrees(lists, {}, model.tree_dim(), o).value();
  EXPECT_EQ(trees.rounds(), 20u);
  EXPECT_TRUE(model.set_trees(std::move(trees)).ok());
  return model;
}

TEST(TreeExpertTest, TreesAddToTheNetworksAndSurviveTheModelFile) {
  const FeatureSchema schema = Schema(3, 2);
  const auto groups = ProductTask(30, 12, 1);
  MoeModel model = ModelWithTrees(schema, groups);
  EXPECT_EQ(model.tree_dim(), model.input_dim() + 2);
  MoeModel networks = model;
  ASSERT_TRUE(networks.set_trees(BoostedTrees{}).ok());
  for (const auto& g : groups) {
    ASSERT_OK_AND_ASSIGN(auto with, model.Score(g));
    ASSERT_OK_AND_ASSIGN(auto without, networks.Score(g));
    std::vector<double> rows;
    ASSERT_TRUE(model.TreeInputs(g, rows).ok());
    for (size_t i = 0; i < g.size(); ++i)
      EXPECT_NEAR(with[i], without[i] + model.trees().PredictRow(rows.data() + i * model.tree_dim()), 1e-12);
  }
  ASSERT_OK_AND_ASSIGN(MoeExplanation ex, model.Explain(groups[0], 3));
  std::vector<double> rows;
  ASSERT_TRUE(model.TreeInputs(groups[0], rows).ok());
  EXPECT_EQ(ex.tree_score, model.trees().PredictRow(rows.data() + 3 * model.tree_dim()));

  // With the networks silent, the explanation's contributions are the trees'
  // path attribution: they add up to the tree score less the roots' values.
  MoeModel only_trees = model;
  for (int x = 0; x < 4; ++x) only_trees.ZeroExpertOutput(x);
  ASSERT_OK_AND_ASSIGN(MoeExplanation te, only_trees.Explain(groups[0], 3, 1000));
  EXPECT_NEAR(te.score, te.tree_score, 1e-12);
  std::vector<double> attribution;
  const double roots = only_trees.trees().Attribute(rows.data() + 3 * model.tree_dim(), attribution);
  double sum = roots;
  for (const auto& c : te.top_features) sum += c.contribution;
  EXPECT_NEAR(sum, te.tree_score, 1e-9);

  // Version 7 with trees; a model without them is still written as version 4.
  const std::string bytes = model.Serialize(), plain = networks.Serialize();
  uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  EXPECT_EQ(version, 7u);
  std::memcpy(&version, plain.data() + 8, 4);
  EXPECT_EQ(version, 4u);
  hymir::testing::TempDir dir;
  const std::string file = dir.path() + "/m.moe";
  ASSERT_TRUE(model.Save(file).ok());
  ASSERT_OK_AND_ASSIGN(MoeModel loaded, MoeModel::Load(file));
  EXPECT_EQ(loaded.trees(), model.trees());
  for (const auto& g : groups) EXPECT_EQ(loaded.Score(g).value(), model.Score(g).value());

  // Trees of another width are refused.
  BoostedTrees narrow;
  std::vector<TreeList> lists(1);
  lists[0].x.assign(4 * 2, 0.5);
  lists[0].labels = {1, 0, 0, 0};
  lists[0].x[0] = 2.0;
  TreeBoostOptions o;
  o.max_rounds = 2;
  o.min_child_hessian = 0;
  narrow = TrainBoostedTrees(lists, {}, 2, o).value();
  ASSERT_FALSE(narrow.empty());
  EXPECT_TRUE(model.set_trees(narrow).IsInvalidArgument());
}

TEST(TreeExpertTest, AWidenedGateAndAFusedAnchorKeepTheTrees) {
  const FeatureSchema schema = Schema(3, 2);
  const auto groups = ProductTask(20, 10, 2);
  MoeModel model = ModelWithTrees(schema, groups);
  // Widened: new query features around the old ones (order changed); the
  // trees must read the same values as before.
  FeatureSchema wide = schema;
  wide.query_features = {"e0", "q1", "e1", "q0"};
  Normalization fitted;
  fitted.query_mean = {1, 0, 2, 0};
  fitted.query_scale = {1, 1, 1, 1};
  ASSERT_OK_AND_ASSIGN(MoeModel widened, model.WithQueryFeatures(wide, fitted));
  EXPECT_EQ(widened.trees().dim(), widened.tree_dim());
  std::mt19937_64 rng(5);
  std::normal_distribution<double> nd(0.0, 3.0);
  for (const auto& g : groups) {
    QueryGroup gw = g;
    gw.query_features = {nd(rng), g.query_features[1], nd(rng), g.query_features[0]};
    const auto a = model.Score(g).value(), b = widened.Score(gw).value();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12);
  }
  // A model fused with it nests it (with its trees) in its own file.
  auto own =
      MoeModel::Create({.routed_experts = 2, .shared_experts = 1, .top_k = 1, .expert_hidden = 3}, schema, 9).value();
  ASSERT_TRUE(own.set_fusion(model, 0.5).ok());
  hymir::testing::TempDir dir;
  const std::string file = dir.path() + "/fused.moe";
  ASSERT_TRUE(own.Save(file).ok());
  ASSERT_OK_AND_ASSIGN(MoeModel loaded, MoeModel::Load(file));
  ASSERT_NE(loaded.anchor(), nullptr);
  EXPECT_EQ(loaded.anchor()->trees(), model.trees());
  for (const auto& g : groups) EXPECT_EQ(loaded.anchor()->Score(g).value(), model.Score(g).value());
}

TEST(TreeExpertTest, TheTrainerFitsTheTreesFirstAndTheNetworksOnTop) {
  const FeatureSchema schema = Schema(3, 2);
  const auto train = ProductTask(300, 20, 3), test = ProductTask(150, 20, 4);
  MoeTrainOptions o;
  o.model = {.routed_experts = 2, .shared_experts = 1, .top_k = 1, .expert_hidden = 4};
  o.max_epochs = 15;
  o.trees.max_rounds = 60;
  o.trees.max_depth = 3;
  o.trees.learning_rate = 0.1;
  EXPECT_TRUE(o.tree_expert);  // the default
  o.tree_expert = false;
  ASSERT_OK_AND_ASSIGN(MoeModel plain, TrainMoe(schema, train, o));
  EXPECT_TRUE(plain.trees().empty());
  o.tree_expert = true;
  TrainReport rep;
  ASSERT_OK_AND_ASSIGN(MoeModel boosted, TrainMoe(schema, train, o, &rep));
  EXPECT_GT(rep.tree_rounds, 0);
  EXPECT_GT(rep.tree_validation_ndcg, 0.0);
  EXPECT_EQ(boosted.trees().rounds(), static_cast<size_t>(rep.tree_rounds));  // the refit grows as many
  EXPECT_GT(rep.refit_queries, 0u);
  // Tiny networks miss the product; the boosted expert does not.
  const double with = MeanNdcg(boosted, test), without = MeanNdcg(plain, test);
  EXPECT_GT(with, without + 0.05) << "with trees " << with << ", without " << without;
  EXPECT_GT(with, 0.9);
  // Deterministic in the seed.
  ASSERT_OK_AND_ASSIGN(MoeModel again, TrainMoe(schema, train, o));
  EXPECT_EQ(again.Serialize(), boosted.Serialize());
  // Fine-tuning keeps the trees of the model it starts from...
  MoeTrainOptions ft = o;
  ft.init = &boosted;
  ft.max_epochs = 3;
  EXPECT_FALSE(ft.tree_finetune);  // the default
  ASSERT_OK_AND_ASSIGN(MoeModel tuned, TrainMoe(schema, train, ft));
  EXPECT_EQ(tuned.trees(), boosted.trees());
}

TEST(TreeExpertTest, BoostedFineTuningGrowsTreesOnWhatTheInitialModelGetsWrong) {
  const FeatureSchema schema = Schema(3, 2);
  const auto train = ProductTask(300, 20, 5), test = ProductTask(150, 20, 6);
  // The initial model: small networks that miss the product.
  MoeTrainOptions o;
  o.model = {.routed_experts = 2, .shared_experts = 1, .top_k = 1, .expert_hidden = 4};
  o.max_epochs = 10;
  o.tree_expert = false;
  ASSERT_OK_AND_ASSIGN(MoeModel pre, TrainMoe(schema, train, o));
  ASSERT_TRUE(pre.trees().empty());
  MoeTrainOptions ft = o;
  ft.init = &pre;
  ft.tree_finetune = true;
  ft.trees.max_rounds = 60;
  ft.trees.max_depth = 3;
  ft.trees.learning_rate = 0.1;
  ft.finetune_alpha = 1.0;
  TrainReport rep;
  ASSERT_OK_AND_ASSIGN(MoeModel plain, TrainMoe(schema, train, ft, &rep));
  ASSERT_GT(rep.tree_rounds, 0);
  EXPECT_EQ(plain.trees().rounds(), static_cast<size_t>(rep.tree_rounds));
  EXPECT_GT(MeanNdcg(plain, test), MeanNdcg(pre, test) + 0.05);
  // Interpolated halfway back: the same trees at half their value, and the
  // model file keeps them.
  ft.finetune_alpha = 0.5;
  ASSERT_OK_AND_ASSIGN(MoeModel half, TrainMoe(schema, train, ft));
  ASSERT_EQ(half.trees().rounds(), plain.trees().rounds());
  ASSERT_EQ(plain.tree_dim(), 8u);  // 3 pair + 3 list inputs + 2 query features
  const double row8[8] = {1.0, 1.2, 0.0, 0.5, 0.4, 0.1, -0.3, 0.2};
  for (size_t k = 0; k < plain.trees().rounds(); ++k)
    EXPECT_DOUBLE_EQ(half.trees().PredictTree(k, row8), 0.5 * plain.trees().PredictTree(k, row8));
  // Boosting on a model that has trees appends to them.
  MoeTrainOptions again = ft;
  again.init = &plain;
  again.finetune_alpha = 1.0;
  ASSERT_OK_AND_ASSIGN(MoeModel more, TrainMoe(schema, train, again));
  EXPECT_TRUE(more.trees().StartsWith(plain.trees()));
  // With per-query trust the anchor keeps only its own trees through the file.
  MoeModel trusted = half;
  ASSERT_TRUE(trusted.set_trust(pre, QueryTrust()).ok());
  hymir::testing::TempDir dir;
  ASSERT_TRUE(trusted.Save(dir.Sub("t.moe")).ok());
  ASSERT_OK_AND_ASSIGN(MoeModel loaded, MoeModel::Load(dir.Sub("t.moe")));
  ASSERT_NE(loaded.anchor(), nullptr);
  EXPECT_TRUE(loaded.anchor()->trees().empty());
  EXPECT_EQ(loaded.trees(), half.trees());
}

}  // namespace
}  // namespace hymir::ranking
