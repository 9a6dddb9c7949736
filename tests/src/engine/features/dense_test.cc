// The dense family (src/engine/features/dense.cc): cosine to the query
// vector, its gap to the best, the query's leading components, and the
// vector retriever's score when the index has no embedder.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

TEST(DenseFamilyTest, WithoutAnEmbedderTheVectorScoreOfTheHit) {
  testing::TempDir tmp;
  ASSERT_OK(testing::BuildIndex(
      tmp.path(), {testing::Doc("a", "cat", "dog"), testing::Doc("b", "fox", "owl"), testing::Doc("c", "elk", "yak")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  auto hits = testing::Candidates({"a", "b", "c"});
  hits[0].vector = {true, 0.25, 2};
  hits[1].vector = {true, 0.75, 1};  // c: not in the vector list -> 0
  HybridQuery q;
  q.text = "cat";
  const auto x = testing::ExtractBoth(*engine, FeatureConfig{}, q, hits);
  EXPECT_DOUBLE_EQ(x.Pair("a", "dense_sim"), 0.25);
  EXPECT_DOUBLE_EQ(x.Pair("b", "dense_sim"), 0.75);
  EXPECT_DOUBLE_EQ(x.Pair("c", "dense_sim"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "dense_gap"), -0.5);  // 0.25 - 0.75
  EXPECT_DOUBLE_EQ(x.Pair("b", "dense_gap"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("c", "dense_gap"), -0.75);
  for (const auto& name : x.schema.query_features) EXPECT_NE(name.rfind("q_emb_", 0), 0u) << name;  // no embedder
}

// An LSA field of 4 dimensions (6 documents); the query brings its own vector, twice a's
// vector: cosine 1 to a, and to b the cosine of a's and b's vectors.
TEST(DenseFamilyTest, CosineToTheQueryVectorWithAnEmbedder) {
  testing::TempDir tmp;
  std::vector<Document> docs = {testing::Doc("a", "cat dog", "dog cat cat"), testing::Doc("b", "fox owl", "owl fox"),
                                testing::Doc("c", "cat fox", "elk yak"),     testing::Doc("d", "yak", "elk owl"),
                                testing::Doc("e", "bee", "ant bee"),         testing::Doc("f", "ant", "hen pig")};
  index::IndexWriterOptions o;
  ASSERT_OK(testing::AddLsaField(tmp.path(), docs, 4, &o));
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(tmp.path(), o));
    for (const auto& d : docs) ASSERT_OK(w->Upsert(d));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  ASSERT_OK_AND_ASSIGN(auto va, engine->searcher().GetVector("emb", "a"));
  ASSERT_OK_AND_ASSIGN(auto vb, engine->searcher().GetVector("emb", "b"));
  ASSERT_EQ(va.size(), 4u);
  HybridQuery q;
  q.text = "cat";
  q.vector_field = "emb";
  for (float v : va) q.vector.push_back(2 * v);
  double ab = 0, aa = 0, bb = 0;
  for (size_t k = 0; k < 4; ++k) {
    ab += static_cast<double>(va[k]) * vb[k];
    aa += static_cast<double>(va[k]) * va[k];
    bb += static_cast<double>(vb[k]) * vb[k];
  }
  const double cos_ab = ab / std::sqrt(aa * bb);
  FeatureConfig c;
  c.query_embedding_dims = 3;
  const auto x = testing::ExtractBoth(*engine, c, q, testing::Candidates({"a", "b"}));
  EXPECT_NEAR(x.Pair("a", "dense_sim"), 1.0, 1e-12);
  EXPECT_NEAR(x.Pair("b", "dense_sim"), cos_ab, 1e-12);
  EXPECT_NEAR(x.Pair("b", "dense_gap"), cos_ab - 1.0, 1e-12);
  EXPECT_LT(cos_ab, 0.99);  // the two documents share no term
  // The first three components of the query vector, as given.
  for (int k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(x.Query("q_emb_" + std::to_string(k)), 2 * va[k]);
  EXPECT_EQ(std::count(x.schema.query_features.begin(), x.schema.query_features.end(), "q_emb_3"), 0);
}

}  // namespace
}  // namespace hymir
