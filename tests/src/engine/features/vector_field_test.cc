// The vector-field family (src/engine/features/vector_field.cc): per field
// similarity in the field's metric and rank, by hand.
#include <gtest/gtest.h>

#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

index::VectorFieldSpec Field(const std::string& name, index::VectorMetric metric) {
  index::VectorFieldSpec f;
  f.name = name;
  f.dimension = 2;
  f.metric = metric;
  return f;
}

// Fields img (inner product), clr (L2), cos (cosine, no query vector).
// Query: img (1, 2), clr (0, 1) in a more_vectors clause.
//   a  img (3, 4): 1*3 + 2*4 = 11       clr (1, 1): -((0-1)^2 + (1-1)^2) = -1
//   b  img (-1, 0.5): -1 + 1 = 0        clr (0, 3): -(0 + (1-3)^2) = -4
TEST(VectorFieldFamilyTest, SimilarityPerMetricAndRankByHand) {
  testing::TempDir tmp;
  index::IndexWriterOptions o;
  o.vector_fields = {Field("img", index::VectorMetric::kInnerProduct), Field("clr", index::VectorMetric::kL2),
                     Field("cos", index::VectorMetric::kCosine)};
  {
    ASSERT_OK_AND_ASSIGN(auto w, index::IndexWriter::Open(tmp.path(), o));
    Document a = testing::Doc("a", "cat", "dog"), b = testing::Doc("b", "fox", "owl");
    a.vectors = {{"img", {3, 4}}, {"clr", {1, 1}}, {"cos", {1, 0}}};
    b.vectors = {{"img", {-1, 0.5}}, {"clr", {0, 3}}, {"cos", {0, 1}}};
    ASSERT_OK(w->Upsert(a));
    ASSERT_OK(w->Upsert(b));
    ASSERT_OK(w->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.path()));
  HybridQuery q;
  q.text = "cat";
  q.vector_field = "img";
  q.vector = {1, 2};
  q.more_vectors = {{"clr", {0, 1}}};
  auto hits = testing::Candidates({"a", "b"});
  hits[0].vector = {true, 11, 1};  // img's list: a first, b absent
  hits[0].more_vectors = {{true, -1, 2}};
  hits[1].more_vectors = {{true, -4, 4}};
  FeatureConfig config;
  config.vector_field_features = true;
  const auto x = testing::ExtractBoth(*engine, config, q, hits);
  EXPECT_DOUBLE_EQ(x.Pair("a", "vf_sim:img"), 11.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "vf_sim:img"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "vf_rrank:img"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "vf_rrank:img"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "vf_sim:clr"), -1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "vf_sim:clr"), -4.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "vf_rrank:clr"), 0.5);
  EXPECT_DOUBLE_EQ(x.Pair("b", "vf_rrank:clr"), 0.25);
  // cos: the query has no vector for it -> 0, and q_vf:cos 0.
  EXPECT_DOUBLE_EQ(x.Pair("a", "vf_sim:cos"), 0.0);
  EXPECT_DOUBLE_EQ(x.Query("q_has_text"), 1.0);
  EXPECT_DOUBLE_EQ(x.Query("q_vf:img"), 1.0);
  EXPECT_DOUBLE_EQ(x.Query("q_vf:clr"), 1.0);
  EXPECT_DOUBLE_EQ(x.Query("q_vf:cos"), 0.0);

  // A query of stop words only has no text.
  q.text = "the of";
  EXPECT_DOUBLE_EQ(testing::ExtractBoth(*engine, config, q, hits).Query("q_has_text"), 0.0);
}

}  // namespace
}  // namespace hymir
