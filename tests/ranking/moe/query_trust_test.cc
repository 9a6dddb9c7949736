// QueryTrust (coverage and out-of-fold gain of the judged queries) and the
// per-query blend of a fine-tuned model with its pre-trained anchor.
#include "hymir/ranking/query_trust.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "hymir/ranking/moe_model.h"

namespace hymir::ranking {
namespace {

using Terms = std::vector<std::string>;

const std::vector<Terms> kJudged = {
    {"heat", "transfer", "slab"}, {"heat", "conduct", "composit"}, {"protein", "fold", "cell"}, {"cell", "membran"}};

TEST(QueryTrustTest, CoverageFollowsTheNearestJudgedQueries) {
  QueryTrustConfig c{.neighbours = 1, .floor = 0.0, .width = 0.5};
  auto t = QueryTrust::Build(kJudged, {}, c).value();
  EXPECT_EQ(t.size(), 4u);
  // Identical to a judged query: cosine 1, full trust.
  EXPECT_NEAR(t.Similarity({"heat", "transfer", "slab"}), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(t.Trust({"heat", "transfer", "slab"}), 1.0);
  // No term in common with any judged query: trust 0.
  EXPECT_DOUBLE_EQ(t.Similarity({"galaxi", "redshift"}), 0.0);
  EXPECT_DOUBLE_EQ(t.Trust({"galaxi", "redshift"}), 0.0);
  EXPECT_DOUBLE_EQ(t.Trust({}), 0.0);
  // Partly covered: strictly between, and more shared terms, more trust.
  const double one = t.Trust({"heat", "galaxi", "redshift"}), two = t.Trust({"heat", "slab", "galaxi"});
  EXPECT_GT(one, 0.0);
  EXPECT_LT(one, two);
  EXPECT_LE(two, 1.0);
  // An empty trust trusts nothing.
  EXPECT_DOUBLE_EQ(QueryTrust().Trust({"heat"}), 0.0);
}

TEST(QueryTrustTest, GainsGateTrustByNeighbourhood) {
  // Fine-tuning helped the heat queries out of fold and hurt the cell ones.
  QueryTrustConfig c{.neighbours = 1, .floor = 0.0, .width = 0.5, .gain_scale = 0.02};
  auto t = QueryTrust::Build(kJudged, {0.05, 0.03, -0.04, -0.01}, c).value();
  EXPECT_DOUBLE_EQ(t.Trust({"heat", "transfer", "slab"}), 1.0);
  EXPECT_DOUBLE_EQ(t.Trust({"protein", "fold", "cell"}), 0.0);
  // A small positive gain gives partial trust.
  auto small = QueryTrust::Build(kJudged, {0.01, 0.01, 0.01, 0.01}, c).value();
  EXPECT_NEAR(small.Trust({"heat", "transfer", "slab"}), 0.5, 1e-9);
}

TEST(QueryTrustTest, RejectsBadConfigAndSizes) {
  EXPECT_TRUE(QueryTrust::Build(kJudged, {0.1}, {}).status().IsInvalidArgument());
  EXPECT_TRUE(QueryTrust::Build(kJudged, {}, {.gain_scale = 0.1}).status().IsInvalidArgument());
  EXPECT_TRUE(QueryTrust::Build(kJudged, {}, {.neighbours = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(QueryTrust::Build(kJudged, {}, {.width = 0}).status().IsInvalidArgument());
}

TEST(QueryTrustTest, StoredRoundTrip) {
  QueryTrustConfig c{.neighbours = 2, .floor = 0.05, .width = 0.3, .gain_scale = 0.01, .gain_shrink = 0.5};
  auto t = QueryTrust::Build(kJudged, {0.05, 0.03, -0.04, 0.02}, c).value();
  auto back = QueryTrust::FromStored(t.ToStored());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->config(), c);
  for (const Terms& q : {Terms{"heat", "slab"}, Terms{"cell"}, Terms{"membran", "heat", "x"}})
    EXPECT_DOUBLE_EQ(back->Trust(q), t.Trust(q));
  QueryTrust::Stored bad = t.ToStored();
  bad.term_ids[0] = 999;
  EXPECT_TRUE(QueryTrust::FromStored(bad).status().IsCorruption());
}

// --- the blend in MoeModel ---

FeatureSchema Schema() { return {{"p0", "p1", "p2"}, {"q0", "q1"}}; }

QueryGroup Group(std::mt19937_64& rng, size_t n) {
  std::normal_distribution<double> nd(0.0, 1.0);
  QueryGroup g;
  g.query_id = "q";
  g.query_features = {nd(rng), nd(rng)};
  for (size_t i = 0; i < n; ++i) {
    g.doc_ids.push_back("d" + std::to_string(i));
    for (int j = 0; j < 3; ++j) g.pair_features.push_back(nd(rng));
  }
  return g;
}

std::vector<size_t> Order(const std::vector<double>& s) {
  std::vector<size_t> o(s.size());
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  return o;
}

struct Pair {
  MoeModel pre, tuned;
};

Pair PreAndTuned() {
  MoeModel pre = MoeModel::Create({.routed_experts = 3, .shared_experts = 1, .top_k = 2}, Schema(), 1).value();
  MoeModel tuned = pre;  // one lineage: the same model with other weights
  std::mt19937_64 rng(5);
  std::normal_distribution<double> nd(0.0, 0.5);
  for (double& p : tuned.parameters()) p += nd(rng);
  return {pre, tuned};
}

TEST(QueryTrustBlendTest, TrustZeroIsThePretrainedRankingAndOneTheFineTuned) {
  auto [pre, tuned] = PreAndTuned();
  std::mt19937_64 rng(7);
  const QueryGroup g = Group(rng, 30);
  ASSERT_NE(Order(pre.Score(g).value()), Order(tuned.Score(g).value()));  // the test needs them to differ
  MoeModel m = tuned;
  ASSERT_TRUE(m.set_trust(pre, QueryTrust::Build(kJudged, {}, {}).value()).ok());
  ASSERT_TRUE(m.has_trust());
  for (double t : {0.0, -1.0}) {
    std::vector<double> s = m.Score(g).value();
    ASSERT_TRUE(m.BlendTrusted(g, t, s).ok());
    EXPECT_EQ(Order(s), Order(pre.Score(g).value()));
  }
  for (double t : {1.0, 2.0}) {
    std::vector<double> s = m.Score(g).value();
    ASSERT_TRUE(m.BlendTrusted(g, t, s).ok());
    EXPECT_EQ(Order(s), Order(tuned.Score(g).value()));
  }
  // Without trust data the scores are left alone.
  std::vector<double> s = tuned.Score(g).value(), before = s;
  ASSERT_TRUE(tuned.BlendTrusted(g, 0.0, s).ok());
  EXPECT_EQ(s, before);
}

TEST(QueryTrustBlendTest, RefusesAnotherLineage) {
  auto [pre, tuned] = PreAndTuned();
  MoeModel other = MoeModel::Create({.routed_experts = 2, .shared_experts = 1, .top_k = 1}, Schema(), 1).value();
  EXPECT_TRUE(tuned.set_trust(other, QueryTrust()).IsInvalidArgument());
  EXPECT_FALSE(tuned.has_trust());
}

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(getpid()) + ".bin")).string();
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(QueryTrustBlendTest, SaveLoadKeepsTheAnchorAndTrustAndOthersStayVersion4) {
  auto [pre, tuned] = PreAndTuned();
  ASSERT_TRUE(pre.set_retrieval_prior("p0", 0.3).ok());
  ASSERT_TRUE(tuned.set_retrieval_prior("p0", 0.3).ok());
  MoeModel m = tuned;
  ASSERT_TRUE(m.set_trust(pre, QueryTrust::Build(kJudged, {0.05, 0.03, -0.04, -0.01},
                                                 {.neighbours = 1, .floor = 0.0, .width = 0.5, .gain_scale = 0.02})
                                   .value())
                  .ok());
  const std::string path = TempPath("query_trust_test_");
  ASSERT_TRUE(m.Save(path).ok());
  uint32_t version = 0;
  std::memcpy(&version, Bytes(path).data() + 8, 4);
  EXPECT_EQ(version, 5u);
  auto loaded = MoeModel::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(loaded->has_trust());
  std::mt19937_64 rng(11);
  const QueryGroup g = Group(rng, 20);
  for (double t : {0.0, 0.4, 1.0}) {
    std::vector<double> a = m.Score(g).value(), b = loaded->Score(g).value();
    ASSERT_TRUE(m.BlendTrusted(g, t, a).ok());
    ASSERT_TRUE(loaded->BlendTrusted(g, t, b).ok());
    EXPECT_EQ(a, b);
  }
  EXPECT_DOUBLE_EQ(loaded->trust().Trust({"heat", "transfer", "slab"}), 1.0);
  EXPECT_DOUBLE_EQ(loaded->trust().Trust({"cell", "membran"}), 0.0);
  // A model without trust data is still written as version 4 (older builds read it).
  ASSERT_TRUE(tuned.Save(path).ok());
  std::memcpy(&version, Bytes(path).data() + 8, 4);
  EXPECT_EQ(version, 4u);
  EXPECT_FALSE(MoeModel::Load(path)->has_trust());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hymir::ranking
