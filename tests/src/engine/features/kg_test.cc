// The knowledge-graph family (src/engine/features/kg.cc): the KG features
// of candidates whose entities were linked at index time, by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "hymir/kg/triple_store.h"
#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

// The graph: dog -hypernym-> animal <-hypernym- cat, with aliases dog, cat,
// animal. The query "dog" links e:dog (one candidate entity for its alias).
Status BuildKg(const std::string& dir) {
  HYMIR_ASSIGN_OR_RETURN(auto store, kg::TripleStore::Open(dir));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("e:dog", "dog"));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("e:cat", "cat"));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("e:animal", "animal"));
  HYMIR_RETURN_IF_ERROR(store->Add({"e:dog", "wn:hypernym", "e:animal"}));
  return store->Add({"e:cat", "wn:hypernym", "e:animal"});
}

Document WithEntities(Document d, const std::string& entities) {
  d.fields[kKgEntitiesField] = entities;
  return d;
}

TEST(KgFamilyTest, EntityOverlapAndHopsByHand) {
  testing::TempDir tmp;
  ASSERT_OK(BuildKg(tmp.Sub("kg")));
  // Entities as `hymir index --kg` stores them (set by hand here).
  ASSERT_OK(testing::BuildIndex(
      tmp.Sub("idx"), {WithEntities(testing::Doc("a", "dog", "bark"), "e:dog"),
                       WithEntities(testing::Doc("b", "animal", "zoo"), "e:animal"),
                       WithEntities(testing::Doc("c", "cat", "purr"), "e:cat"), testing::Doc("d", "rock", "stone")}));
  ASSERT_OK_AND_ASSIGN(auto engine, Engine::Open(tmp.Sub("idx")));
  ASSERT_OK_AND_ASSIGN(auto kg, KnowledgeContext::Open(tmp.Sub("kg"), engine->searcher().analyzer()));
  FeatureConfig config;
  config.kg = true;
  HybridQuery q;
  q.text = "dog";
  const auto x = testing::ExtractBoth(*engine, config, q, testing::Candidates({"a", "b", "c", "d"}), kg.get());
  // Query: 1 entity, ambiguity ln(1 + 1 candidate), 1 of 1 tokens linked.
  EXPECT_DOUBLE_EQ(x.Query("kg_q_entities"), 1.0);
  EXPECT_NEAR(x.Query("kg_q_ambiguity"), std::log(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(x.Query("kg_q_linked_tokens"), 1.0);
  // a holds e:dog itself: matched, no neighbour.
  EXPECT_DOUBLE_EQ(x.Pair("a", "kg_query_entities"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kg_matched"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kg_matched_fraction"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kg_one_hop_pairs"), 0.0);
  // b holds e:animal, one edge from e:dog: a 1-hop (and so 2-hop) neighbour;
  // no path dog - m - animal of two edges.
  EXPECT_DOUBLE_EQ(x.Pair("b", "kg_matched"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "kg_one_hop_entities"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "kg_two_hop_entities"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "kg_one_hop_pairs"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "kg_two_hop_pairs"), 0.0);
  // c holds e:cat, two edges away through e:animal: one 2-hop pair and path.
  EXPECT_DOUBLE_EQ(x.Pair("c", "kg_one_hop_entities"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("c", "kg_two_hop_entities"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("c", "kg_two_hop_pairs"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("c", "kg_two_hop_paths"), 1.0);
  // d has no entities; no TransE embeddings: kg_emb_sim 0 everywhere.
  EXPECT_DOUBLE_EQ(x.Pair("d", "kg_two_hop_entities"), 0.0);
  for (const char* d : {"a", "b", "c", "d"}) EXPECT_EQ(x.Pair(d, "kg_emb_sim"), 0.0);
}

}  // namespace
}  // namespace hymir
