// The domain family (src/engine/features/domain.cc): each corpus domain's
// share of the top candidates and its best BM25, by hand.
#include <gtest/gtest.h>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

using testing::TfPart;

// Field all: a [cat cat cat] med, b [dog cat] med, c [cat dog] cs,
// d [owl fox] cs, e [elk yak] (no domain). N = 5, avgdl 11/5. Query "cat":
// bm25_all = idf * T(tf, dl): a T(3, 3) (the best), b and c T(1, 2), d, e 0.
TEST(DomainFamilyTest, ShareAndBestPerDomainByHand) {
  testing::TempDir tmp;
  ASSERT_OK(testing::BuildIndex(
      tmp.path(),
      {testing::Doc("a", "cat", "cat cat", "med"), testing::Doc("b", "dog", "cat", "med"),
       testing::Doc("c", "cat", "dog", "cs"), testing::Doc("d", "owl", "fox", "cs"), testing::Doc("e", "elk", "yak")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  FeatureConfig config;
  config.domains = {"cs", "law", "med"};
  HybridQuery q;
  q.text = "cat";
  const auto x = testing::ExtractBoth(*engine, config, q, testing::Candidates({"c", "a", "e", "b", "d"}));
  // Top 20 = all 5: cs c, d; med a, b; law none (e has no domain).
  EXPECT_DOUBLE_EQ(x.Query("q_domain_share:cs"), 2.0 / 5);
  EXPECT_DOUBLE_EQ(x.Query("q_domain_share:med"), 2.0 / 5);
  EXPECT_DOUBLE_EQ(x.Query("q_domain_share:law"), 0.0);
  const double avgdl = 11.0 / 5;
  EXPECT_NEAR(x.Query("q_domain_best:med"), 1.0, 1e-12);
  EXPECT_NEAR(x.Query("q_domain_best:cs"), TfPart(1, 2, avgdl) / TfPart(3, 3, avgdl), 1e-12);
  EXPECT_DOUBLE_EQ(x.Query("q_domain_best:law"), 0.0);
  // The schema order: every share, then every best.
  const auto& names = x.schema.query_features;
  const auto at = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  EXPECT_LT(at("q_domain_share:med"), at("q_domain_best:cs"));
}

// Only the top 20 candidates count towards the share.
TEST(DomainFamilyTest, ShareCountsTheTopTwenty) {
  testing::TempDir tmp;
  std::vector<Document> docs;
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {  // the first 15 in med, the rest in cs
    ids.push_back("d" + std::to_string(i));
    docs.push_back(testing::Doc(ids.back(), "cat", "dog", i < 15 ? "med" : "cs"));
  }
  ASSERT_OK(testing::BuildIndex(tmp.path(), docs));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  FeatureConfig config;
  config.domains = {"cs", "med"};
  HybridQuery q;
  q.text = "cat";
  const auto x = testing::ExtractBoth(*engine, config, q, testing::Candidates(ids));
  EXPECT_NEAR(x.Query("q_domain_share:med"), 15.0 / 20, 1e-12);
  EXPECT_NEAR(x.Query("q_domain_share:cs"), 5.0 / 20, 1e-12);
  EXPECT_DOUBLE_EQ(x.Query("q_domain_best:cs"), 1.0);  // every document scores the same
}

}  // namespace
}  // namespace hymir
