// The knowledge-fusion family (src/engine/features/kg_fusion.cc), KgUses and
// the knowledge pseudo-queries, on a small KG of three sources built here.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "hymir/kg/loader.h"
#include "hymir/kg/triple_store.h"
#include "hymir/kg_uses.h"
#include "hymir/pretrain.h"
#include "tests/src/engine/features/feature_test_util.h"

namespace hymir {
namespace {

constexpr const char* kApoptosisDef = "A cell death process triggered by caspase enzymes";

// GO:0006915 (two aliases, a definition), wn:n:dog -hypernym-> wn:n:animal,
// foldoc:quicksort (a definition).
Status BuildKg(const std::string& dir) {
  HYMIR_ASSIGN_OR_RETURN(auto store, kg::TripleStore::Open(dir));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("GO:0006915", "apoptosis"));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("GO:0006915", "programmed cell death"));
  HYMIR_RETURN_IF_ERROR(store->Add({"GO:0006915", std::string(kg::kDefinitionRelation), kApoptosisDef}));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("wn:n:dog", "dog"));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("wn:n:animal", "animal"));
  HYMIR_RETURN_IF_ERROR(store->Add({"wn:n:dog", "wn:hypernym", "wn:n:animal"}));
  HYMIR_RETURN_IF_ERROR(store->AddAlias("foldoc:quicksort", "quicksort"));
  return store->Add({"foldoc:quicksort", std::string(kg::kDefinitionRelation), "A sorting algorithm"});
}

Document WithEntities(Document d, const std::string& entities) {
  d.fields[kKgEntitiesField] = entities;
  return d;
}

class KgFusionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(BuildKg(tmp_.Sub("kg")));
    ASSERT_OK(testing::BuildIndex(
        tmp_.Sub("idx"), {WithEntities(testing::Doc("a", "tumours", "programmed cell death in tumours"), "GO:0006915"),
                          testing::Doc("b", "enzymes", "caspase enzymes and sorting"),
                          WithEntities(testing::Doc("c", "shelter", "an animal shelter"), "wn:n:animal"),
                          testing::Doc("d", "rock", "stone")}));
    ASSERT_OK_AND_ASSIGN(engine_, Engine::Open(tmp_.Sub("idx")));
    ASSERT_OK_AND_ASSIGN(kg_, KnowledgeContext::Open(tmp_.Sub("kg"), engine_->searcher().analyzer()));
  }
  testing::Extracted Extract(const std::string& text, FeatureConfig config) {
    HybridQuery q;
    q.text = text;
    return testing::ExtractBoth(*engine_, config, q, testing::Candidates({"a", "b", "c", "d"}), kg_.get());
  }
  // The share of the apoptosis definition's distinct analysed terms in `doc_text`.
  double DefinitionShare(const std::string& doc_text) const {
    const auto def = kg_->linker().Tokenize(kApoptosisDef);
    const auto doc = kg_->linker().Tokenize(doc_text);
    std::set<std::string> d(def.begin(), def.end()), in(doc.begin(), doc.end());
    double found = 0;
    for (const auto& t : d) found += in.count(t);
    return found / static_cast<double>(d.size());
  }

  testing::TempDir tmp_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<KnowledgeContext> kg_;
};

FeatureConfig Fusion() {
  FeatureConfig c;
  c.kg_fusion = true;
  c.kg_gate = true;
  return c;
}

TEST_F(KgFusionTest, SharedEntitiesBySourceNearnessAndDefinitionsByHand) {
  const auto x = Extract("apoptosis dog", Fusion());
  // a names the GO entity: half the query's entities, all of its GO ones.
  EXPECT_DOUBLE_EQ(x.Pair("a", "kgf_shared"), 0.5);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kgf_shared_rel"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kgf_shared:GO"), 1.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kgf_shared:wn"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kgf_shared:foldoc"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("a", "kgf_near"), 1.0 / 6.0);  // matched 1, no neighbour, of 3 * 2
  // c names animal, one edge from dog (so within two): (0 + 1 + 1) / 6.
  EXPECT_DOUBLE_EQ(x.Pair("c", "kgf_shared"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("c", "kgf_near"), 2.0 / 6.0);
  // b has no entity but the definition's words "caspase enzymes".
  EXPECT_DOUBLE_EQ(x.Pair("b", "kgf_shared"), 0.0);
  EXPECT_GT(x.Pair("b", "kgf_def"), 0.0);
  EXPECT_DOUBLE_EQ(x.Pair("b", "kgf_def"), DefinitionShare("enzymes caspase enzymes and sorting"));
  EXPECT_DOUBLE_EQ(x.Pair("a", "kgf_def"), DefinitionShare("tumours programmed cell death in tumours"));
  const double max_def = std::max(x.Pair("a", "kgf_def"), x.Pair("b", "kgf_def"));
  EXPECT_DOUBLE_EQ(x.Pair("b", "kgf_def_rel"), x.Pair("b", "kgf_def") / max_def);
  // d shares nothing; no TransE embeddings: kgf_emb is 0.
  for (const char* f : {"kgf_shared", "kgf_shared_rel", "kgf_near", "kgf_def", "kgf_def_rel", "kgf_emb"})
    EXPECT_EQ(x.Pair("d", f), 0.0) << f;
}

TEST_F(KgFusionTest, GateReadsTheQuerysKnowledge) {
  const auto x = Extract("apoptosis dog", Fusion());
  EXPECT_NEAR(x.Query("kgf_q_entities"), std::log(3.0) / std::log(9.0), 1e-12);
  EXPECT_DOUBLE_EQ(x.Query("kgf_q_linked"), 1.0);
  EXPECT_DOUBLE_EQ(x.Query("kgf_q_source:GO"), 0.5);
  EXPECT_DOUBLE_EQ(x.Query("kgf_q_source:wn"), 0.5);
  EXPECT_DOUBLE_EQ(x.Query("kgf_q_source:foldoc"), 0.0);
  EXPECT_DOUBLE_EQ(x.Query("kgf_q_specific"), 1.0);  // each alias names one entity
  EXPECT_DOUBLE_EQ(x.Query("kgf_q_multiword"), 0.0);
  EXPECT_DOUBLE_EQ(x.Query("kgf_q_defined"), 0.5);
  const auto multi = Extract("programmed cell death", Fusion());
  EXPECT_DOUBLE_EQ(multi.Query("kgf_q_multiword"), 1.0);
  EXPECT_DOUBLE_EQ(multi.Query("kgf_q_source:GO"), 1.0);
}

TEST_F(KgFusionTest, AQueryTheKgDoesNotCoverReadsAsNoKnowledge) {
  const auto x = Extract("rock stone", Fusion());
  size_t checked = 0;
  for (const auto& n : x.schema.query_features) {
    if (n.rfind("kgf_", 0) != 0) continue;
    EXPECT_EQ(x.Query(n), 0.0) << n;
    ++checked;
  }
  for (const char* d : {"a", "b", "c", "d"}) {
    for (const auto& n : x.schema.pair_features) {
      if (n.rfind("kgf_", 0) != 0) continue;
      EXPECT_EQ(x.Pair(d, n), 0.0) << d << " " << n;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 10u + 4 * 11u);
}

TEST_F(KgFusionTest, SchemaNamesTheFusionFeaturesAndRoundTrips) {
  FeatureConfig gate_only;
  gate_only.kg_gate = true;
  ASSERT_OK_AND_ASSIGN(auto ex, FeatureExtractor::Create(*engine_, gate_only, kg_.get()));
  const auto& s = ex->schema();
  auto has = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  EXPECT_TRUE(has(s.query_features, "kgf_q_source:GO"));
  EXPECT_FALSE(has(s.pair_features, "kgf_shared"));
  ASSERT_OK_AND_ASSIGN(FeatureConfig back, FeatureExtractor::ConfigFromSchema(s));
  EXPECT_TRUE(back.kg_gate);
  EXPECT_FALSE(back.kg_fusion);
  EXPECT_FALSE(back.kg);
  ASSERT_OK_AND_ASSIGN(auto full, FeatureExtractor::Create(*engine_, Fusion(), kg_.get()));
  ASSERT_OK_AND_ASSIGN(FeatureConfig both, FeatureExtractor::ConfigFromSchema(full->schema()));
  EXPECT_TRUE(both.kg_fusion && both.kg_gate && both.UsesKg());
  // Without a KG the fusion features are refused.
  EXPECT_FALSE(FeatureExtractor::Create(*engine_, Fusion(), nullptr).ok());
}

TEST(KgUsesTest, ParsesNamesAndAppliesToTheFeatureConfig) {
  ASSERT_OK_AND_ASSIGN(KgUses u, ParseKgUses("expand,gate"));
  EXPECT_TRUE(u.expand && u.gate);
  EXPECT_FALSE(u.features || u.pseudo_queries || u.legacy);
  EXPECT_EQ(KgUsesName(u), "expand,gate");
  ASSERT_OK_AND_ASSIGN(KgUses none, ParseKgUses("none"));
  EXPECT_EQ(KgUsesName(none), "none");
  ASSERT_OK_AND_ASSIGN(KgUses def, ParseKgUses("default"));
  EXPECT_EQ(def, KgUses{});
  const auto bad = ParseKgUses("expand,bogus");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bogus"), std::string::npos);
  FeatureConfig c;
  ApplyKgUses(u, true, &c);
  EXPECT_TRUE(c.kg_gate);
  EXPECT_FALSE(c.kg_fusion || c.kg);
  ApplyKgUses(KgUses{true, true, true, true, true}, false, &c);
  EXPECT_FALSE(c.UsesKg());  // no KG, no KG feature
}

TEST_F(KgFusionTest, KnowledgePseudoQueriesAreAliasesOfEntitiesTheDocumentMentions) {
  ASSERT_OK_AND_ASSIGN(auto pqs, GenerateKgPseudoQueries(*engine_, *kg_, 10, 7));
  // a (GO:0006915) and c (wn:n:animal) have entities, each in one document.
  ASSERT_EQ(pqs.size(), 2u);
  std::set<std::string> docs;
  for (size_t i = 0; i < pqs.size(); ++i) {
    const auto& q = pqs[i];
    EXPECT_EQ(q.kind, PseudoQueryKind::kKnowledge);
    EXPECT_EQ(q.id, "pq:kg:" + std::to_string(i));
    docs.insert(q.doc_id);
    if (q.doc_id == "a") {
      EXPECT_TRUE(q.text == "apoptosis" || q.text == "programmed cell death") << q.text;
    } else {
      EXPECT_EQ(q.text, "animal");
    }
  }
  EXPECT_EQ(docs, (std::set<std::string>{"a", "c"}));
  ASSERT_OK_AND_ASSIGN(auto again, GenerateKgPseudoQueries(*engine_, *kg_, 10, 7));
  ASSERT_EQ(again.size(), pqs.size());
  for (size_t i = 0; i < pqs.size(); ++i) EXPECT_EQ(again[i].text, pqs[i].text);
  ASSERT_OK_AND_ASSIGN(auto one, GenerateKgPseudoQueries(*engine_, *kg_, 1, 7));
  EXPECT_EQ(one.size(), 1u);
  EXPECT_STREQ(PseudoQueryKindName(PseudoQueryKind::kKnowledge), "kg");
}

}  // namespace
}  // namespace hymir
