// MoeModel and TrainMoe: gradients against finite differences, routing,
// specialisation on a synthetic two-domain task, model files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include "hymir/ranking/moe_model.h"
#include "hymir/ranking/moe_trainer.h"
#include "src/core/crc32.h"
#include "tests/ranking/moe/test_schema.h"
#include "tests/testutil/testutil.h"

namespace hymir::ranking {
namespace {

using testing::Schema;

QueryGroup RandomGroup(const FeatureSchema& s, size_t n, std::mt19937_64& rng, int domain) {
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_int_distribution<int> label(0, 2);
  QueryGroup g;
  g.query_id = "q";
  g.domain = domain;
  for (size_t j = 0; j < s.query_dim(); ++j) g.query_features.push_back(nd(rng));
  for (size_t i = 0; i < n; ++i) {
    g.doc_ids.push_back("d" + std::to_string(i));
    for (size_t j = 0; j < s.pair_dim(); ++j) g.pair_features.push_back(nd(rng));
    g.labels.push_back(label(rng));
  }
  return g;
}

// Names the parameter block of flat index `i` (for failure messages).
std::string BlockOf(const MoeModel& m, size_t i) {
  const auto& c = m.config();
  const size_t d = m.input_dim(), h = c.expert_hidden;
  const size_t skip = c.linear_skip ? d : 0;
  const size_t expert = h * d + 2 * h + 1 + skip + (c.list_context ? h * h : 0);
  const size_t experts = static_cast<size_t>(c.routed_experts + c.shared_experts);
  if (i >= experts * expert) return "gate[" + std::to_string(i - experts * expert) + "]";
  const size_t x = i / expert, r = i % expert;
  const char* part = r < h * d                   ? "W1"
                     : r < h * d + h             ? "b1"
                     : r < h * d + 2 * h         ? "w2"
                     : r == h * d + 2 * h        ? "b2"
                     : r <= h * d + 2 * h + skip ? "v"
                                                 : "U";
  return (x < static_cast<size_t>(c.routed_experts) ? "routed" : "shared") + std::to_string(x) + "." + part;
}

void CheckGradient(const MoeConfig& config, const ObjectiveOptions& objective) {
  const FeatureSchema schema = Schema(5, 4);
  std::mt19937_64 rng(7);
  auto model = MoeModel::Create(config, schema, 11).value();
  // Random values in every block (Create zeroes the routed experts' output
  // layer when there are shared experts, which would hide W1's gradient).
  std::normal_distribution<double> nd(0.0, 0.5);
  for (double& p : model.parameters()) p = nd(rng);
  // Non-trivial normalisation and selection bias, as after training.
  Normalization norm;
  norm.pair_mean = {0.1, -0.2, 0.3, 0.0, 0.5};
  norm.pair_scale = {1.5, 0.7, 1.0, 2.0, 1.1};
  norm.query_mean = {0.2, 0.0, -0.1, 0.4};
  norm.query_scale = {0.9, 1.2, 1.0, 0.8};
  model.set_normalization(norm);
  std::vector<double> bias(config.routed_experts);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01 * static_cast<double>(i);
  model.set_selection_bias(bias);
  std::vector<QueryGroup> groups;
  for (int i = 0; i < 4; ++i) groups.push_back(RandomGroup(schema, 7, rng, i % 3));
  std::vector<const QueryGroup*> batch;
  for (const auto& g : groups) batch.push_back(&g);

  std::vector<double> grad;
  BatchObjective(model, batch, objective, &grad);
  ASSERT_EQ(grad.size(), model.parameters().size());
  const double h = 1e-6;
  size_t nonzero = 0;
  for (size_t i = 0; i < grad.size(); ++i) {
    const double saved = model.parameters()[i];
    model.parameters()[i] = saved + h;
    const double up = BatchObjective(model, batch, objective, nullptr);
    model.parameters()[i] = saved - h;
    const double down = BatchObjective(model, batch, objective, nullptr);
    model.parameters()[i] = saved;
    const double numeric = (up - down) / (2 * h);
    const double tol = 1e-5 + 1e-4 * std::max(std::abs(numeric), std::abs(grad[i]));
    EXPECT_NEAR(grad[i], numeric, tol) << "parameter " << i << " (" << BlockOf(model, i) << ")";
    if (std::abs(grad[i]) > 1e-9) ++nonzero;
  }
  // The check must exercise the gradient, not a vector of zeros.
  EXPECT_GT(nonzero, grad.size() / 3);
}

TEST(MoeGradientTest, SoftmaxLossEveryBlockTopK) {
  CheckGradient({.routed_experts = 4, .shared_experts = 1, .top_k = 2, .expert_hidden = 6, .gate_hidden = 0},
                {.loss = RankingLoss::kSoftmax});
}

TEST(MoeGradientTest, LambdaRankWithBalanceAndRoutingLossMlpGate) {
  CheckGradient({.routed_experts = 3, .shared_experts = 2, .top_k = 2, .expert_hidden = 5, .gate_hidden = 4},
                {.loss = RankingLoss::kLambdaRank, .balance_loss = 0.3, .routing_loss = 0.5});
}

TEST(MoeGradientTest, TopOneRoutingStillTrainsTheGate) {
  CheckGradient({.routed_experts = 3, .shared_experts = 0, .top_k = 1, .expert_hidden = 4, .gate_hidden = 0},
                {.loss = RankingLoss::kSoftmax, .balance_loss = 0.1});
}

TEST(MoeGradientTest, LogAndListInputs) {
  // Pair features with negative values (the signed log) and a list-wise
  // standardisation that couples every candidate's input.
  CheckGradient({.routed_experts = 3,
                 .shared_experts = 1,
                 .top_k = 2,
                 .expert_hidden = 5,
                 .gate_hidden = 0,
                 .log_inputs = true,
                 .list_inputs = true},
                {.loss = RankingLoss::kLambdaRank, .balance_loss = 0.2});
}

TEST(MoeGradientTest, BackwardWithOrWithoutKeptActivationsAgrees) {
  const FeatureSchema schema = Schema(5, 3);
  std::mt19937_64 rng(21);
  auto model = MoeModel::Create({.routed_experts = 4,
                                 .shared_experts = 2,
                                 .top_k = 2,
                                 .expert_hidden = 6,
                                 .ple_bins = 3,
                                 .linear_skip = true,
                                 .list_context = true},
                                schema, 2)
                   .value();
  std::normal_distribution<double> nd(0.0, 0.5);
  for (double& p : model.parameters()) p = nd(rng);
  const QueryGroup g = RandomGroup(schema, 8, rng, -1);
  std::vector<double> score_grad(g.size());
  for (double& v : score_grad) v = nd(rng);
  const auto kept = model.RunForward(g, true).value();
  const auto bare = model.RunForward(g).value();
  EXPECT_EQ(kept.scores, bare.scores);
  EXPECT_TRUE(bare.inputs.empty());
  EXPECT_EQ(kept.hidden.size(), 4u);  // two shared + two chosen
  std::vector<double> a, b;
  model.Backward(g, kept, score_grad, {}, {}, a);
  model.Backward(g, bare, score_grad, {}, {}, b);
  EXPECT_EQ(a, b);
}

TEST(MoeGradientTest, LambdaRankAtACutoff) {
  CheckGradient({.routed_experts = 3, .shared_experts = 1, .top_k = 2, .expert_hidden = 4, .gate_hidden = 0},
                {.loss = RankingLoss::kLambdaRank, .lambda_cutoff = 3});
}

TEST(MoeTrainerTest, LambdaCutoffDropsPairsBelowIt) {
  const FeatureSchema schema = Schema(4, 2);
  std::mt19937_64 rng(12);
  auto model = MoeModel::Create({.routed_experts = 2, .shared_experts = 1, .top_k = 1}, schema, 3).value();
  std::normal_distribution<double> nd(0.0, 0.5);
  for (double& p : model.parameters()) p = nd(rng);
  std::vector<QueryGroup> groups;
  for (int i = 0; i < 3; ++i) groups.push_back(RandomGroup(schema, 9, rng, -1));
  std::vector<const QueryGroup*> batch;
  for (const auto& g : groups) batch.push_back(&g);
  auto gradient = [&](int cutoff) {
    std::vector<double> grad;
    BatchObjective(model, batch, {.loss = RankingLoss::kLambdaRank, .lambda_cutoff = cutoff}, &grad);
    return grad;
  };
  // A cutoff at or past the list length is the whole list; a short one is not.
  EXPECT_EQ(gradient(0), gradient(9));
  EXPECT_EQ(gradient(0), gradient(50));
  EXPECT_NE(gradient(0), gradient(2));
}

TEST(MoeGradientTest, LinearSkip) {
  CheckGradient({.routed_experts = 3,
                 .shared_experts = 1,
                 .top_k = 2,
                 .expert_hidden = 4,
                 .gate_hidden = 3,
                 .log_inputs = true,
                 .list_inputs = true,
                 .ple_bins = 2,
                 .linear_skip = true},
                {.loss = RankingLoss::kSoftmax, .balance_loss = 0.1});
}

TEST(MoeGradientTest, ListContext) {
  // The latent cross couples every candidate's hidden layer through the list mean.
  CheckGradient({.routed_experts = 3,
                 .shared_experts = 1,
                 .top_k = 2,
                 .expert_hidden = 4,
                 .gate_hidden = 0,
                 .log_inputs = true,
                 .list_inputs = false,
                 .linear_skip = true,
                 .list_context = true},
                {.loss = RankingLoss::kLambdaRank, .balance_loss = 0.1});
  CheckGradient({.routed_experts = 2,
                 .shared_experts = 0,
                 .top_k = 1,
                 .expert_hidden = 5,
                 .gate_hidden = 2,
                 .log_inputs = false,
                 .list_inputs = true,
                 .ple_bins = 2,
                 .list_context = true},
                {.loss = RankingLoss::kSoftmax});
}

TEST(MoeModelTest, ListContextMakesAScoreDependOnTheRestOfTheList) {
  const FeatureSchema schema = Schema(3, 1);
  std::mt19937_64 rng(9);
  const MoeConfig base{.routed_experts = 1,
                       .shared_experts = 0,
                       .top_k = 1,
                       .expert_hidden = 4,
                       .log_inputs = false,
                       .list_inputs = false};
  MoeConfig with = base;
  with.list_context = true;
  auto plain = MoeModel::Create(base, schema, 3).value();
  auto ctx = MoeModel::Create(with, schema, 3).value();
  QueryGroup g = RandomGroup(schema, 6, rng, -1);
  QueryGroup changed = g;
  for (size_t j = 0; j < 3; ++j) changed.pair_features[5 * 3 + j] += 2.0;  // only the last candidate moves
  // With U = 0 (as Create leaves it): the same scores as without the context.
  const size_t expert = 4 * 3 + 2 * 4 + 1, u = 4 * 4;  // W1 b1 w2 b2, then U; the gate follows
  auto& p = ctx.parameters();
  ASSERT_EQ(p.size(), plain.parameters().size() + u);
  for (size_t i = 0; i < plain.parameters().size(); ++i) p[i < expert ? i : i + u] = plain.parameters()[i];
  for (size_t i = expert; i < expert + u; ++i) EXPECT_EQ(p[i], 0.0);
  EXPECT_EQ(ctx.Score(g).value(), plain.Score(g).value());
  // Without context the first candidate's score ignores the others; with a
  // non-zero U it follows the list.
  EXPECT_EQ(plain.Score(g).value()[0], plain.Score(changed).value()[0]);
  std::normal_distribution<double> nd(0.0, 0.5);
  for (size_t i = expert; i < expert + u; ++i) p[i] = nd(rng);
  EXPECT_NE(ctx.Score(g).value()[0], ctx.Score(changed).value()[0]);
  // Explain still adds up.
  auto ex = ctx.Explain(g, 2, 3).value();
  EXPECT_NEAR(ex.score, ctx.Score(g).value()[2], 1e-12);
  EXPECT_NEAR(ex.routing.weights[0] * ex.routed_scores[0], ex.score, 1e-9);
}

TEST(MoeGradientTest, PiecewiseLinearInputs) {
  // Quantile-bin encoding (default edges over [-2, 2]; the random features
  // fall in every bin and beyond both ends) plus log and list inputs.
  CheckGradient({.routed_experts = 3,
                 .shared_experts = 1,
                 .top_k = 2,
                 .expert_hidden = 4,
                 .gate_hidden = 0,
                 .log_inputs = true,
                 .list_inputs = true,
                 .ple_bins = 3},
                {.loss = RankingLoss::kLambdaRank});
}

// A one-expert model whose score is the expert input `column` (a single
// hidden unit reading only that input, shifted clear of the ReLU).
MoeModel InputProbe(const MoeConfig& base, const FeatureSchema& schema, size_t column) {
  MoeConfig c = base;
  c.routed_experts = 1;
  c.shared_experts = 0;
  c.top_k = 1;
  c.expert_hidden = 1;
  auto m = MoeModel::Create(c, schema, 3).value();
  auto& p = m.parameters();
  const size_t d = m.input_dim();
  for (size_t j = 0; j < d; ++j) p[j] = j == column ? 1.0 : 0.0;
  p[d] = 100.0;       // b1
  p[d + 1] = 1.0;     // w2
  p[d + 2] = -100.0;  // b2
  return m;
}

TEST(MoeModelTest, PiecewiseLinearEncoding) {
  const FeatureSchema schema = Schema(1, 1);
  const MoeConfig config{.log_inputs = false, .list_inputs = false, .ple_bins = 4};
  Normalization norm;
  norm.pair_mean = {0.0};
  norm.pair_scale = {1.0};
  norm.query_mean = {0.0};
  norm.query_scale = {1.0};
  norm.pair_edges = {0, 1, 1, 2, 3};  // bin 1 is a point mass at 1: a step
  auto component = [&](size_t t, double v) {
    MoeModel m = InputProbe(config, schema, t);
    m.set_normalization(norm);
    EXPECT_EQ(m.input_dim(), 4u);
    QueryGroup g;
    g.query_id = "q";
    g.query_features = {0.0};
    g.doc_ids = {"a"};
    g.pair_features = {v};
    return m.Score(g).value()[0];
  };
  // The first bin is open below, the last open above, the rest clamp to [0, 1].
  EXPECT_NEAR(component(0, -1.5), -1.5, 1e-9);
  EXPECT_NEAR(component(0, 0.25), 0.25, 1e-9);
  EXPECT_NEAR(component(0, 7.0), 1.0, 1e-9);
  EXPECT_NEAR(component(1, 0.99), 0.0, 1e-9);
  EXPECT_NEAR(component(1, 1.0), 1.0, 1e-9);
  EXPECT_NEAR(component(2, 1.5), 0.5, 1e-9);
  EXPECT_NEAR(component(2, -3.0), 0.0, 1e-9);
  EXPECT_NEAR(component(2, 9.0), 1.0, 1e-9);
  EXPECT_NEAR(component(3, 2.5), 0.5, 1e-9);
  EXPECT_NEAR(component(3, 5.0), 3.0, 1e-9);
  EXPECT_NEAR(component(3, 0.5), 0.0, 1e-9);
  // Edges of the wrong size fall back to even steps over [-2, 2].
  MoeModel m = InputProbe(config, schema, 0);
  Normalization wrong = norm;
  wrong.pair_edges = {0, 1};
  m.set_normalization(wrong);
  EXPECT_EQ(m.normalization().pair_edges, (std::vector<double>{-2, -1, 0, 1, 2}));
  // Out-of-range bin counts are refused.
  EXPECT_FALSE(MoeModel::Create({.ple_bins = -1}, schema, 1).ok());
  EXPECT_FALSE(MoeModel::Create({.ple_bins = 65}, schema, 1).ok());
}

TEST(MoeModelTest, FitNormalizationPlacesBinEdgesAtQuantiles) {
  const FeatureSchema schema = Schema(2, 1);
  std::vector<QueryGroup> groups(2);
  for (int q = 0; q < 2; ++q) {
    groups[q].query_id = "q";
    groups[q].query_id += std::to_string(q);
    groups[q].query_features = {1.0 * q};
  }
  // Feature 0 takes 0..100 across both lists; feature 1 is 0 on 81 of them.
  for (int v = 0; v <= 100; ++v) {
    QueryGroup& g = groups[v % 2];
    g.doc_ids.push_back("d");
    g.doc_ids.back() += std::to_string(v);
    g.pair_features.insert(g.pair_features.end(), {1.0 * v, v < 81 ? 0.0 : 1.0});
    g.labels.push_back(0);
  }
  const Normalization n = FitNormalization(schema, groups, false, 4);
  ASSERT_EQ(n.pair_edges.size(), 10u);
  for (int t = 0; t <= 4; ++t)
    EXPECT_NEAR(n.pair_edges[t], (25.0 * t - n.pair_mean[0]) / n.pair_scale[0], 1e-9) << "edge " << t;
  // Ties give repeated edges (steps), still in order.
  for (int t = 0; t < 4; ++t) EXPECT_LE(n.pair_edges[5 + t], n.pair_edges[5 + t + 1]);
  EXPECT_EQ(n.pair_edges[5], n.pair_edges[8]);
  EXPECT_LT(n.pair_edges[8], n.pair_edges[9]);
  EXPECT_TRUE(FitNormalization(schema, groups, false, 0).pair_edges.empty());
}

TEST(MoeModelTest, InputTransforms) {
  const FeatureSchema schema = Schema(2, 1);
  EXPECT_DOUBLE_EQ(SignedLog1p(0.0), 0.0);
  EXPECT_DOUBLE_EQ(SignedLog1p(std::exp(1.0) - 1.0), 1.0);
  EXPECT_DOUBLE_EQ(SignedLog1p(-(std::exp(2.0) - 1.0)), -2.0);
  // List inputs double the experts' input width and add "@list" names to
  // the explanation.
  auto plain = MoeModel::Create({.routed_experts = 2, .top_k = 1, .list_inputs = false}, schema, 1).value();
  auto listed = MoeModel::Create({.routed_experts = 2, .top_k = 1, .list_inputs = true}, schema, 1).value();
  EXPECT_EQ(plain.input_dim(), 2u);
  EXPECT_EQ(listed.input_dim(), 4u);
  EXPECT_GT(listed.parameters().size(), plain.parameters().size());
  QueryGroup g;
  g.query_id = "q";
  g.query_features = {0.3};
  g.doc_ids = {"a", "b", "c"};
  g.pair_features = {1, 5, 2, 5, 3, 5};  // feature 1 is constant within the list
  auto ex = listed.Explain(g, 0, 4).value();
  bool saw_list = false;
  for (const auto& c : ex.top_features) saw_list |= c.feature.find("@list") != std::string::npos;
  EXPECT_TRUE(saw_list);
  // A list-constant feature carries no list-wise signal: its "@list" input is
  // 0, so moving the whole list's value leaves the list-only part unchanged.
  QueryGroup shifted = g;
  for (size_t i = 0; i < 3; ++i) shifted.pair_features[i * 2 + 1] = 9;
  auto only_list =
      MoeModel::Create({.routed_experts = 1, .shared_experts = 0, .top_k = 1, .expert_hidden = 3, .list_inputs = true},
                       schema, 2)
          .value();
  // Zero the weights on the global inputs: the score depends on list inputs only.
  auto& w = only_list.parameters();
  for (size_t k = 0; k < 3; ++k) w[k * 4 + 0] = w[k * 4 + 1] = 0.0;
  EXPECT_EQ(only_list.Score(g).value(), only_list.Score(shifted).value());
}

TEST(MoeModelTest, RoutingChoosesTopKAndNormalisesWeights) {
  const FeatureSchema schema = Schema(3, 2);
  auto model = MoeModel::Create({.routed_experts = 6, .shared_experts = 1, .top_k = 3}, schema, 3).value();
  std::vector<double> q = {0.5, -1.0};
  Routing r = model.Route(q).value();
  ASSERT_EQ(r.chosen.size(), 3u);
  double sum = 0;
  for (double w : r.weights) sum += w;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  // Chosen are the largest affinities (zero bias), best first.
  std::vector<double> sorted = r.affinity;
  std::sort(sorted.rbegin(), sorted.rend());
  for (size_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(r.affinity[r.chosen[i]], sorted[i]);
  // A large selection bias forces an expert in without changing its weight formula.
  std::vector<double> bias(6, 0.0);
  const int worst = std::min_element(r.affinity.begin(), r.affinity.end()) - r.affinity.begin();
  bias[worst] = 10.0;
  model.set_selection_bias(bias);
  Routing r2 = model.Route(q).value();
  EXPECT_EQ(r2.chosen[0], worst);
  EXPECT_FALSE(model.Route(std::vector<double>{1.0}).ok());  // wrong query dimension
}

// Widening the gate (fine-tuning with the corpus's own gate inputs): the
// copy scores and routes as the original, for a linear and an MLP gate, and
// its added gate weights are the only new parameters; once they move, the
// added features change the routing.
TEST(MoeModelTest, WithQueryFeaturesStartsAsTheModelItWidens) {
  for (int gate_hidden : {0, 4}) {
    SCOPED_TRACE(gate_hidden);
    const FeatureSchema schema = Schema(3, 2);  // query features q0, q1
    auto model =
        MoeModel::Create({.routed_experts = 4, .shared_experts = 1, .top_k = 2, .gate_hidden = gate_hidden}, schema, 5)
            .value();
    std::mt19937_64 rng(3);
    std::normal_distribution<double> nd(0.0, 0.5);
    for (double& p : model.parameters()) p = nd(rng);
    Normalization norm = model.normalization();
    norm.query_mean = {0.3, -0.2};
    norm.query_scale = {2.0, 0.5};
    model.set_normalization(norm);
    model.set_selection_bias({0.1, -0.1, 0.0, 0.2});

    FeatureSchema wide = schema;  // new features before, between and after the old ones, old ones swapped
    wide.query_features = {"emb0", "q1", "dom:a", "q0", "emb1"};
    Normalization fitted;
    fitted.query_mean = {1.0, 9.0, 2.0, 9.0, 3.0};  // 9: must be replaced by the model's own
    fitted.query_scale = {4.0, 9.0, 5.0, 9.0, 6.0};
    ASSERT_OK_AND_ASSIGN(MoeModel widened, model.WithQueryFeatures(wide, fitted));
    EXPECT_EQ(widened.schema(), wide);
    EXPECT_EQ(widened.normalization().query_mean, (std::vector<double>{1.0, -0.2, 2.0, 0.3, 3.0}));
    EXPECT_EQ(widened.normalization().query_scale, (std::vector<double>{4.0, 0.5, 5.0, 2.0, 6.0}));
    const size_t rows = gate_hidden == 0 ? 4 : static_cast<size_t>(gate_hidden);
    EXPECT_EQ(widened.parameters().size(), model.parameters().size() + rows * 3);
    EXPECT_EQ(widened.selection_bias(), model.selection_bias());

    for (int trial = 0; trial < 5; ++trial) {
      QueryGroup g = RandomGroup(schema, 6, rng, -1);
      QueryGroup gw = g;
      gw.query_features = {nd(rng) * 3, g.query_features[1], nd(rng) * 3, g.query_features[0], nd(rng) * 3};
      ASSERT_OK_AND_ASSIGN(auto a, model.Score(g));
      ASSERT_OK_AND_ASSIGN(auto b, widened.Score(gw));
      for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12);
      ASSERT_OK_AND_ASSIGN(Routing ra, model.Route(g.query_features));
      ASSERT_OK_AND_ASSIGN(Routing rb, widened.Route(gw.query_features));
      EXPECT_EQ(ra.chosen, rb.chosen);
      for (size_t e = 0; e < ra.affinity.size(); ++e) EXPECT_NEAR(ra.affinity[e], rb.affinity[e], 1e-12);
    }
    // Once trained, the new inputs count: move every gate weight and the
    // affinities now depend on an added feature.
    for (size_t i = widened.parameters().size() - (gate_hidden == 0 ? 4 * 5 + 4 : 0); i < widened.parameters().size();
         ++i)
      widened.parameters()[i] += 0.3;
    if (gate_hidden == 0) {
      std::vector<double> q1 = {0.0, 0.1, 0.0, 0.2, 0.0}, q2 = {5.0, 0.1, -5.0, 0.2, 5.0};
      EXPECT_NE(widened.Route(q1).value().affinity, widened.Route(q2).value().affinity);
    }

    // Refused: a pair feature changed, an old query feature missing, a
    // normalisation of the wrong width.
    FeatureSchema other_pairs = wide;
    other_pairs.pair_features[0] = "other";
    EXPECT_TRUE(model.WithQueryFeatures(other_pairs, fitted).status().IsInvalidArgument());
    FeatureSchema lost = wide;
    lost.query_features[3] = "not-q0";
    EXPECT_TRUE(model.WithQueryFeatures(lost, fitted).status().IsInvalidArgument());
    Normalization narrow = fitted;
    narrow.query_mean.pop_back();
    EXPECT_TRUE(model.WithQueryFeatures(wide, narrow).status().IsInvalidArgument());
  }
}

TEST(MoeModelTest, ExplainAddsUpToTheScore) {
  const FeatureSchema schema = Schema(4, 3);
  std::mt19937_64 rng(5);
  auto model = MoeModel::Create({.routed_experts = 4, .shared_experts = 2, .top_k = 2}, schema, 9).value();
  QueryGroup g = RandomGroup(schema, 5, rng, -1);
  auto scores = model.Score(g).value();
  for (size_t i = 0; i < g.size(); ++i) {
    auto ex = model.Explain(g, i, 2).value();
    EXPECT_NEAR(ex.score, scores[i], 1e-12);
    double sum = 0;
    for (double s : ex.shared_scores) sum += s;
    for (size_t c = 0; c < ex.routed_scores.size(); ++c) sum += ex.routing.weights[c] * ex.routed_scores[c];
    EXPECT_NEAR(sum, scores[i], 1e-9);
    ASSERT_EQ(ex.top_features.size(), 2u);
    EXPECT_GE(std::abs(ex.top_features[0].contribution), std::abs(ex.top_features[1].contribution));
  }
  EXPECT_FALSE(model.Explain(g, g.size()).ok());
  // With PLE inputs a feature's bins are summed into one contribution: every
  // name appears once, plain or "@list".
  auto ple = MoeModel::Create({.routed_experts = 4, .shared_experts = 1, .top_k = 2, .ple_bins = 5}, schema, 9).value();
  auto ex = ple.Explain(g, 1, 100).value();
  EXPECT_EQ(ex.top_features.size(), 8u);
  std::set<std::string> names;
  for (const auto& c : ex.top_features) names.insert(c.feature);
  EXPECT_EQ(names.size(), 8u);
  EXPECT_EQ(names.count("p3"), 1u);
  EXPECT_EQ(names.count("p3@list"), 1u);
}

TEST(MoeModelTest, RejectsGroupsThatDoNotMatchTheSchema) {
  const FeatureSchema schema = Schema(3, 2);
  auto model = MoeModel::Create({}, schema, 1).value();
  QueryGroup g;
  g.query_id = "q7";
  g.query_features = {1, 2};
  g.doc_ids = {"a", "b"};
  g.pair_features = {1, 2, 3, 4, 5};  // 5 values for 2 x 3
  auto s = model.Score(g);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsInvalidArgument());
  EXPECT_NE(s.status().message().find("q7"), std::string::npos);
  EXPECT_FALSE(MoeModel::Create({.routed_experts = 2, .top_k = 3}, schema, 1).ok());
}

class TempFile {
 public:
  TempFile() : path_(std::filesystem::temp_directory_path() / ("moe_test_" + std::to_string(getpid()) + ".bin")) {}
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(MoeModelTest, SaveLoadRoundTripAndCorruption) {
  const FeatureSchema schema = Schema(4, 3);
  std::mt19937_64 rng(8);
  auto model = MoeModel::Create({.routed_experts = 3,
                                 .shared_experts = 1,
                                 .top_k = 2,
                                 .gate_hidden = 5,
                                 .log_inputs = true,
                                 .list_inputs = true,
                                 .ple_bins = 3,
                                 .linear_skip = true,
                                 .list_context = true},
                                schema, 4)
                   .value();
  model.set_selection_bias({0.1, -0.2, 0.05});
  QueryGroup g = RandomGroup(schema, 6, rng, -1);
  model.set_normalization(FitNormalization(schema, {g, RandomGroup(schema, 6, rng, -1)}, true, 3));
  TempFile f;
  ASSERT_TRUE(model.Save(f.path()).ok());
  auto loaded = MoeModel::Load(f.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->config(), model.config());
  EXPECT_EQ(loaded->schema(), model.schema());
  EXPECT_EQ(loaded->selection_bias(), model.selection_bias());
  EXPECT_EQ(loaded->normalization().pair_edges, model.normalization().pair_edges);
  EXPECT_EQ(loaded->Score(g).value(), model.Score(g).value());

  // Flip one byte in the middle: checksum mismatch, Corruption naming the file.
  const std::string bytes = ReadBytes(f.path());
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x40;
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << damaged;
  auto bad = MoeModel::Load(f.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption());
  EXPECT_NE(bad.status().message().find(f.path()), std::string::npos);
  // Truncated.
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 3);
  EXPECT_TRUE(MoeModel::Load(f.path()).status().IsCorruption());
  // Not a model at all; absent.
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << "hello";
  EXPECT_TRUE(MoeModel::Load(f.path()).status().IsCorruption());
  EXPECT_TRUE(MoeModel::Load(f.path() + ".absent").status().IsNotFound());
}

// Bitwise CRC-32 (zlib polynomial), the model file's checksum.
uint32_t Crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// Rewrites a current (version 3) file of a model without PLE bins into an
// older version: version 2 lacks the ple_bins word after the flags and the
// (empty) edge vector after the query scales; version 1 also lacks the flags.
std::string Downgrade(const std::string& bytes, const FeatureSchema& schema, uint32_t version) {
  std::string out = bytes.substr(0, bytes.size() - 4);
  // Version 4's trailer with the retrieval prior off: Strings{""} (4 + 4)
  // and Pods{0.0} (8 + 8).
  out.erase(out.size() - 24);
  if (version == 3) {
    out.replace(8, 4, reinterpret_cast<const char*>(&version), 4);
    const uint32_t crc = Crc32(out);
    out.append(reinterpret_cast<const char*>(&crc), 4);
    return out;
  }
  // magic 8, version 4, five config words 20, flags 4, ple_bins 4.
  size_t edges = 40;
  for (const auto* names : {&schema.pair_features, &schema.query_features}) {
    edges += 4;
    for (const auto& n : *names) edges += 4 + n.size();
  }
  edges += 4 * 8 + 16 * schema.pair_dim() + 16 * schema.query_dim();
  out.erase(edges, 8);
  out.erase(36, 4);
  if (version == 1) out.erase(32, 4);
  out.replace(8, 4, reinterpret_cast<const char*>(&version), 4);
  const uint32_t crc = Crc32(out);
  out.append(reinterpret_cast<const char*>(&crc), 4);
  return out;
}

// A retrieval prior that cannot hold (a weight outside [0, 1], a feature
// the schema lacks) is Corruption naming the file, even under a valid CRC.
TEST(MoeModelTest, DamagedRetrievalPriorIsCorruption) {
  FeatureSchema schema = Schema(3, 2);
  auto model =
      MoeModel::Create({.routed_experts = 2, .shared_experts = 1, .top_k = 1, .expert_hidden = 4}, schema, 5).value();
  ASSERT_TRUE(model.set_retrieval_prior(schema.pair_features[0], 0.5).ok());
  TempFile f;
  ASSERT_TRUE(model.Save(f.path()).ok());
  const std::string bytes = ReadBytes(f.path());
  auto rewrite = [&](std::string body) {  // body without the CRC; a valid CRC appended
    const uint32_t crc = Crc32(body);
    body.append(reinterpret_cast<const char*>(&crc), 4);
    std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << body;
  };
  // The trailer: Strings{feature} then Pods{mu}, mu the last 8 bytes before the CRC.
  std::string body = bytes.substr(0, bytes.size() - 4);
  const double bad_mu = 1.5;
  body.replace(body.size() - 8, 8, reinterpret_cast<const char*>(&bad_mu), 8);
  rewrite(body);
  auto loaded = MoeModel::Load(f.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find(f.path()), std::string::npos);
  // A feature name the schema lacks (same length, so the layout holds).
  body = bytes.substr(0, bytes.size() - 4);
  const std::string& name = schema.pair_features[0];
  const size_t at = body.rfind(name);
  ASSERT_NE(at, std::string::npos);
  body.replace(at, name.size(), std::string(name.size(), 'z'));
  rewrite(body);
  loaded = MoeModel::Load(f.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsCorruption()) << loaded.status().ToString();
  // Untouched, it loads with its prior.
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << bytes;
  auto good = MoeModel::Load(f.path());
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_DOUBLE_EQ(good->prior_weight(), 0.5);
}

TEST(MoeModelTest, LoadsOlderVersions) {
  const FeatureSchema schema = Schema(3, 2);
  std::mt19937_64 rng(6);
  auto model = MoeModel::Create({.routed_experts = 2,
                                 .shared_experts = 1,
                                 .top_k = 1,
                                 .expert_hidden = 4,
                                 .log_inputs = false,
                                 .list_inputs = false},
                                schema, 5)
                   .value();
  TempFile f;
  ASSERT_TRUE(model.Save(f.path()).ok());
  const std::string bytes = ReadBytes(f.path());
  QueryGroup g = RandomGroup(schema, 5, rng, -1);
  // Version 1: no input transforms.
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << Downgrade(bytes, schema, 1);
  auto loaded = MoeModel::Load(f.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE(loaded->config().log_inputs);
  EXPECT_FALSE(loaded->config().list_inputs);
  EXPECT_EQ(loaded->Score(g).value(), model.Score(g).value());
  // Version 2: the transform flags, no PLE bins.
  auto listed = MoeModel::Create({.routed_experts = 2,
                                  .shared_experts = 1,
                                  .top_k = 1,
                                  .expert_hidden = 4,
                                  .log_inputs = true,
                                  .list_inputs = true},
                                 schema, 6)
                    .value();
  ASSERT_TRUE(listed.Save(f.path()).ok());
  const std::string v2_bytes = Downgrade(ReadBytes(f.path()), schema, 2);
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << v2_bytes;
  auto v2 = MoeModel::Load(f.path());
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->config(), listed.config());
  EXPECT_EQ(v2->config().ple_bins, 0);
  EXPECT_EQ(v2->Score(g).value(), listed.Score(g).value());
  // Version 3: no retrieval prior.
  ASSERT_TRUE(listed.Save(f.path()).ok());
  const std::string v3_bytes = Downgrade(ReadBytes(f.path()), schema, 3);
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << v3_bytes;
  auto v3 = MoeModel::Load(f.path());
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_EQ(v3->prior_weight(), 0.0);
  EXPECT_EQ(v3->Score(g).value(), listed.Score(g).value());
  // A future version is refused by name.
  std::string v9 = bytes;
  const uint32_t nine = 9;
  v9.replace(8, 4, reinterpret_cast<const char*>(&nine), 4);
  const uint32_t crc9 = Crc32(v9.substr(0, v9.size() - 4));
  v9.replace(v9.size() - 4, 4, reinterpret_cast<const char*>(&crc9), 4);
  std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << v9;
  auto future = MoeModel::Load(f.path());
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.status().message().find("version 9"), std::string::npos);
}

// Two domains whose relevance depends on different features; the query
// features reveal the domain only through noise. A single MLP cannot tell
// the domains apart from pair features; the gated mixture can.
std::vector<QueryGroup> TwoDomainTask(size_t queries, uint64_t seed) {
  const FeatureSchema schema = Schema(3, 2);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::vector<QueryGroup> out;
  for (size_t q = 0; q < queries; ++q) {
    QueryGroup g;
    const int domain = static_cast<int>(q % 2);
    // Ids built by appending: GCC 12 warns falsely (-Wrestrict) on an
    // inlined "literal" + std::string.
    g.query_id = "q";
    g.query_id += std::to_string(q);
    g.domain = domain;
    g.query_features = {(domain ? 1.0 : -1.0) + 0.3 * nd(rng), nd(rng)};
    for (int i = 0; i < 20; ++i) {
      const double a = nd(rng), b = nd(rng), c = nd(rng);
      std::string id = "d";
      id += std::to_string(i);
      g.doc_ids.push_back(std::move(id));
      g.pair_features.insert(g.pair_features.end(), {a, b, c});
      // Domain 0 rewards a, domain 1 penalises it and rewards b.
      const double rel = domain == 0 ? a : b - a;
      g.labels.push_back(rel > 1.0 ? 2.0 : rel > 0.3 ? 1.0 : 0.0);
    }
    out.push_back(std::move(g));
  }
  return out;
}

double MeanNdcg(const MoeModel& m, const std::vector<QueryGroup>& groups) {
  double s = 0;
  for (const auto& g : groups) s += GroupNdcg(g, m.Score(g).value(), 10);
  return s / static_cast<double>(groups.size());
}

TEST(MoeTrainerTest, GatedExpertsSpecialiseByDomainAndBeatASingleMlp) {
  const FeatureSchema schema = Schema(3, 2);
  auto train = TwoDomainTask(400, 1), test = TwoDomainTask(200, 2);
  MoeTrainOptions moe;
  moe.model = {.routed_experts = 4, .shared_experts = 1, .top_k = 1, .expert_hidden = 8};
  moe.max_epochs = 40;
  moe.learning_rate = 5e-3;
  moe.tree_expert = false;  // the networks alone: a boosted expert solves this task by itself
  TrainReport report;
  auto trained = TrainMoe(schema, train, moe, &report);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  MoeTrainOptions single = moe;
  single.model = {.routed_experts = 1, .shared_experts = 0, .top_k = 1, .expert_hidden = 8};
  auto mlp = TrainMoe(schema, train, single).value();
  const double moe_ndcg = MeanNdcg(*trained, test), mlp_ndcg = MeanNdcg(mlp, test);
  EXPECT_GT(moe_ndcg, mlp_ndcg + 0.05) << "moe " << moe_ndcg << " mlp " << mlp_ndcg;
  EXPECT_GT(report.best_validation_ndcg, 0.0);
  EXPECT_GE(report.best_epoch, 1);
  // Specialisation: each expert's queries come mostly from one domain (the
  // balancing bias spreads a domain over several experts, so purity, not
  // "one expert per domain", is the measure).
  std::map<std::pair<int, int>, int> counts;  // (expert, domain) -> queries
  for (const auto& g : test) counts[{trained->Route(g.query_features)->chosen[0], g.domain}]++;
  std::map<int, int> purest;
  for (const auto& [key, c] : counts) purest[key.first] = std::max(purest[key.first], c);
  int agree = 0;
  for (const auto& [expert, c] : purest) agree += c;
  EXPECT_GT(agree, static_cast<int>(test.size() * 0.85));
}

// Top-1 routing over `experts` experts plus a shared one, 30 epochs without
// early stopping, a fast selection-bias step: the load-balancing tests.
MoeTrainOptions BalancingOptions(int experts) {
  MoeTrainOptions o;
  o.model = {.routed_experts = experts, .shared_experts = 1, .top_k = 1, .expert_hidden = 8};
  o.max_epochs = 30;
  o.patience = 30;
  o.bias_update_rate = 0.02;
  return o;
}

TEST(MoeTrainerTest, SelectionBiasBalancesExpertLoad) {
  const FeatureSchema schema = Schema(3, 2);
  auto train = TwoDomainTask(400, 4), test = TwoDomainTask(200, 5);
  const MoeTrainOptions o = BalancingOptions(4);
  auto model = TrainMoe(schema, train, o).value();
  std::vector<int> load(4, 0);
  for (const auto& g : test) load[model.Route(g.query_features)->chosen[0]]++;
  // Two domains, four experts: the bias spreads queries over the experts
  // instead of leaving two of them idle.
  int used = 0;
  for (int l : load) used += l > static_cast<int>(test.size() / 10);
  EXPECT_GE(used, 3) << load[0] << " " << load[1] << " " << load[2] << " " << load[3];
  EXPECT_LE(*std::max_element(load.begin(), load.end()), static_cast<int>(test.size() * 0.5));
  const auto& bias = model.selection_bias();
  EXPECT_TRUE(std::any_of(bias.begin(), bias.end(), [](double b) { return b != 0.0; }));
}

// TwoDomainTask with three of every four domain-1 queries dropped: domain 0
// has 80 % of the queries.
std::vector<QueryGroup> LopsidedTask(size_t queries, uint64_t seed) {
  std::vector<QueryGroup> out;
  int ones = 0;
  for (auto& g : TwoDomainTask(queries, seed))
    if (g.domain == 0 || ones++ % 4 == 0) out.push_back(std::move(g));
  return out;
}

TEST(MoeTrainerTest, WeightedLoadLetsADownweightedDomainKeepItsExpert) {
  // Two experts, top-1, every domain weighing the same in total. Counting
  // queries, the bias must split the queries 50/50, so the large domain is
  // spread over both experts; counting weights, each domain is half the
  // load and can keep an expert to itself.
  const FeatureSchema schema = Schema(3, 2);
  auto train = LopsidedTask(500, 6), test = LopsidedTask(300, 7);
  MoeTrainOptions o = BalancingOptions(2);
  o.learning_rate = 5e-3;
  o.domain_balance_power = 0.0;
  auto majority_share = [&](bool weighted) {
    o.weighted_load = weighted;
    auto model = TrainMoe(schema, train, o).value();
    int n = 0, on[2] = {0, 0};
    for (const auto& g : test)
      if (g.domain == 0) ++n, ++on[model.Route(g.query_features)->chosen[0]];
    return static_cast<double>(std::max(on[0], on[1])) / n;
  };
  const double by_count = majority_share(false), by_weight = majority_share(true);
  EXPECT_GT(by_weight, 0.9) << "counting weights";
  EXPECT_LT(by_count, 0.8) << "counting queries";
}

TEST(MoeTrainerTest, DeterministicGivenTheSeed) {
  const FeatureSchema schema = Schema(3, 2);
  auto train = TwoDomainTask(60, 3);
  MoeTrainOptions o;
  o.model = {.routed_experts = 3, .shared_experts = 1, .top_k = 2, .expert_hidden = 4};
  o.max_epochs = 3;
  auto a = TrainMoe(schema, train, o).value();
  auto b = TrainMoe(schema, train, o).value();
  EXPECT_EQ(a.parameters(), b.parameters());
  EXPECT_EQ(a.selection_bias(), b.selection_bias());
  o.seed = 43;
  auto c = TrainMoe(schema, train, o).value();
  EXPECT_NE(a.parameters(), c.parameters());
}

TEST(MoeTrainerTest, RefitTrainsOnEveryQueryForTheChosenEpochs) {
  const FeatureSchema schema = Schema(3, 2);
  auto train = TwoDomainTask(200, 3), test = TwoDomainTask(200, 4);
  MoeTrainOptions o;
  o.model = {.routed_experts = 2, .shared_experts = 1, .top_k = 1, .expert_hidden = 8};
  o.max_epochs = 15;
  o.learning_rate = 5e-3;
  o.validation_fraction = 0.25;
  o.tree_expert = false;  // the networks' refit (tree_expert_test covers the trees')
  TrainReport plain_report, refit_report;
  o.refit = false;
  auto plain = TrainMoe(schema, train, o, &plain_report).value();
  o.refit = true;
  auto refit = TrainMoe(schema, train, o, &refit_report).value();
  auto again = TrainMoe(schema, train, o).value();
  EXPECT_EQ(plain_report.refit_queries, 0u);
  EXPECT_EQ(refit_report.refit_queries, refit_report.train_queries + refit_report.validation_queries);
  EXPECT_EQ(refit_report.best_epoch, plain_report.best_epoch);  // selection is unchanged
  EXPECT_NE(refit.parameters(), plain.parameters());
  EXPECT_EQ(refit.parameters(), again.parameters());  // still deterministic
  // The refit model is a trained ranker, as good as the early-stopped one.
  auto untrained = MoeModel::Create(o.model, schema, o.seed).value();
  untrained.set_normalization(plain.normalization());
  const double refit_ndcg = MeanNdcg(refit, test), plain_ndcg = MeanNdcg(plain, test);
  EXPECT_GT(refit_ndcg, MeanNdcg(untrained, test) + 0.1);
  EXPECT_GT(refit_ndcg, plain_ndcg - 0.03) << "refit " << refit_ndcg << " plain " << plain_ndcg;
}

TEST(MoeTrainerTest, DenseWarmupRoutesEveryExpertFirst) {
  const FeatureSchema schema = Schema(3, 2);
  auto train = TwoDomainTask(60, 3);
  MoeTrainOptions o;
  o.model = {.routed_experts = 4, .shared_experts = 0, .top_k = 1, .expert_hidden = 4};
  o.max_epochs = 3;
  o.patience = 100;
  o.dense_warmup_epochs = 2;
  o.tree_expert = false;  // the networks' schedule
  TrainReport report;
  auto model = TrainMoe(schema, train, o, &report).value();
  // Warm-up epochs come on top of max_epochs and are never selected.
  EXPECT_EQ(report.epochs, 5);
  EXPECT_GT(report.best_epoch, 2);
  for (const auto& e : report.history) EXPECT_EQ(e.best && e.epoch <= 2, false);
  EXPECT_EQ(model.config().top_k, 1);  // the returned model routes top-k
  // Dense warm-up trains every routed expert: none is left at its start.
  auto fresh = MoeModel::Create(o.model, schema, o.seed).value();
  const size_t expert = model.input_dim() * 4 + 2 * 4 + 1;
  for (int x = 0; x < 4; ++x) {
    const auto b = model.parameters().begin() + static_cast<std::ptrdiff_t>(x * expert);
    const auto fb = fresh.parameters().begin() + static_cast<std::ptrdiff_t>(x * expert);
    EXPECT_FALSE(std::equal(b, b + static_cast<std::ptrdiff_t>(expert), fb)) << "expert " << x;
  }
}

TEST(MoeTrainerTest, RejectsUnlabelledOrHopelessData) {
  const FeatureSchema schema = Schema(3, 2);
  auto train = TwoDomainTask(5, 3);
  for (auto& g : train) std::fill(g.labels.begin(), g.labels.end(), 0.0);
  EXPECT_TRUE(TrainMoe(schema, train, {}).status().IsInvalidArgument());
  train[0].labels.clear();
  EXPECT_TRUE(TrainMoe(schema, train, {}).status().IsInvalidArgument());
}

// Knowledge fusion: a model from scratch served with a pre-trained anchor of
// another shape (same features). The served blend is the hand-computed
// z-score mix, the file keeps both models, and the refusals hold.
TEST(MoeModelTest, FusionBlendsAnotherShapeAndSurvivesTheFile) {
  const FeatureSchema schema = Schema(3, 2);
  auto own =
      MoeModel::Create({.routed_experts = 4, .shared_experts = 1, .top_k = 2, .expert_hidden = 6}, schema, 1).value();
  auto anchor =
      MoeModel::Create({.routed_experts = 2, .shared_experts = 0, .top_k = 1, .expert_hidden = 5, .gate_hidden = 3},
                       schema, 2)
          .value();
  std::mt19937_64 rng(9);
  std::normal_distribution<double> nd(0.0, 0.5);
  for (double& p : own.parameters()) p = nd(rng);
  for (double& p : anchor.parameters()) p = nd(rng);
  ASSERT_OK(anchor.set_retrieval_prior("p1", 0.3));  // the anchor keeps its own prior
  ASSERT_OK(own.set_fusion(anchor, 0.25));
  EXPECT_TRUE(own.has_trust());
  EXPECT_DOUBLE_EQ(own.fusion_weight(), 0.25);
  EXPECT_DOUBLE_EQ(own.BlendWeight({"any", "terms"}), 0.25);  // no trust data: the weight itself

  const QueryGroup g = RandomGroup(schema, 7, rng, -1);
  auto z = [](std::vector<double> v) {
    double m = 0, sq = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    for (double x : v) sq += (x - m) * (x - m);
    const double sd = std::sqrt(sq / static_cast<double>(v.size()));
    for (double& x : v) x = (x - m) / sd;
    return v;
  };
  const std::vector<double> a = z(anchor.Score(g).value()), o = z(own.Score(g).value());
  std::vector<double> served = own.Score(g).value();
  ASSERT_OK(own.BlendTrusted(g, own.BlendWeight({}), served));
  for (size_t i = 0; i < served.size(); ++i) EXPECT_NEAR(served[i], 0.75 * a[i] + 0.25 * o[i], 1e-12);

  TempFile f;
  ASSERT_OK(own.Save(f.path()));
  ASSERT_OK_AND_ASSIGN(MoeModel back, MoeModel::Load(f.path()));
  EXPECT_DOUBLE_EQ(back.fusion_weight(), 0.25);
  ASSERT_NE(back.anchor(), nullptr);
  EXPECT_EQ(back.anchor()->config(), anchor.config());
  EXPECT_DOUBLE_EQ(back.anchor()->prior_weight(), 0.3);
  EXPECT_DOUBLE_EQ(back.prior_weight(), 0.0);
  std::vector<double> again = back.Score(g).value();
  ASSERT_OK(back.BlendTrusted(g, back.BlendWeight({}), again));
  for (size_t i = 0; i < served.size(); ++i) EXPECT_NEAR(again[i], served[i], 1e-12);
  // A damaged nested anchor is refused with the file's name.
  {
    std::string bytes = own.Serialize();
    const std::string nested = anchor.Serialize();
    const size_t at = bytes.find(nested.substr(0, 64), 16);
    ASSERT_NE(at, std::string::npos);
    bytes[at + nested.size() - 1] ^= 0x40;  // the anchor's own checksum
    const uint32_t crc = internal::Crc32(0, bytes.data(), bytes.size() - 4);
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
    std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << bytes;
    auto damaged = MoeModel::Load(f.path());
    ASSERT_FALSE(damaged.ok());
    EXPECT_TRUE(damaged.status().IsCorruption());
    EXPECT_NE(damaged.status().message().find(f.path()), std::string::npos);
  }

  // Refused: other features, a weight outside (0, 1], an anchor with an anchor.
  auto stranger = MoeModel::Create({.routed_experts = 2, .shared_experts = 0, .top_k = 1}, Schema(4, 2), 3).value();
  EXPECT_TRUE(own.set_fusion(stranger, 0.5).IsInvalidArgument());
  EXPECT_TRUE(own.set_fusion(anchor, 0.0).IsInvalidArgument());
  EXPECT_TRUE(own.set_fusion(anchor, 1.5).IsInvalidArgument());
  EXPECT_TRUE(anchor.set_fusion(own, 0.5).IsInvalidArgument());  // `own` is fused already
  own.clear_trust();
  EXPECT_FALSE(own.has_trust());
  EXPECT_DOUBLE_EQ(own.fusion_weight(), 0.0);
}

// The fusion weight follows what the cross-validation says: with a useless
// anchor (random weights) the model trained on the judgements should carry
// the ranking, with an anchor that already ranks well (trained on far more
// data) a small weight does.
TEST(MoeTrainerTest, ChooseFusionWeightFollowsTheCrossValidation) {
  const FeatureSchema schema = Schema(3, 2);
  const auto judged = TwoDomainTask(120, 11);
  MoeTrainOptions o;
  o.model = {.routed_experts = 4, .shared_experts = 1, .top_k = 1, .expert_hidden = 8};
  o.max_epochs = 30;
  o.learning_rate = 5e-3;
  auto useless = MoeModel::Create({.routed_experts = 2, .shared_experts = 1, .top_k = 1}, schema, 5).value();
  const std::vector<double> grid = {0.0, 0.25, 0.5, 0.75, 1.0};
  ASSERT_OK_AND_ASSIGN(FusionChoice c, ChooseFusionWeight(schema, judged, o, useless, 3, grid));
  ASSERT_EQ(c.ndcg.size(), grid.size());
  EXPECT_GE(c.weight, 0.75);
  EXPECT_GT(c.ndcg.back(), c.ndcg.front() + 0.1);

  MoeTrainOptions big = o;
  big.max_epochs = 60;
  auto expert = TrainMoe(schema, TwoDomainTask(2000, 12), big).value();
  ASSERT_OK_AND_ASSIGN(FusionChoice e, ChooseFusionWeight(schema, judged, o, expert, 3, grid));
  EXPECT_LT(e.weight, c.weight);
  EXPECT_GT(e.ndcg.front(), c.ndcg.front());

  EXPECT_TRUE(ChooseFusionWeight(schema, judged, o, useless, 1, grid).status().IsInvalidArgument());
  EXPECT_TRUE(ChooseFusionWeight(schema, judged, o, useless, 3, {}).status().IsInvalidArgument());
  EXPECT_TRUE(ChooseFusionWeight(schema, judged, o, useless, 3, {1.5}).status().IsInvalidArgument());
}

}  // namespace
}  // namespace hymir::ranking
