// ExpandQuery: synonyms and neighbour aliases with their weights, the skips,
// the bounds (per entity, per relation, in total) and determinism.
#include "hymir/kg/query_expansion.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/kg/link/link_testutil.h"

namespace hymir::kg {
namespace {

using hymir::kg::testing::MakeStore;
using hymir::testing::TempDir;

class QueryExpansionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Triple> edges = {
        {"e:dog", "wn:hypernym", "e:canine"},
        {"e:canine", "wn:hypernym", "e:carnivore"},  // 2 hops: never followed
        {"e:dog", "wn:part_meronym", "e:flag"},      // not a followed relation
        {"e:pet", "wn:hypernym", "e:dog"},           // incoming: not followed
    };
    std::vector<std::pair<std::string, std::string>> aliases = {
        {"e:dog", "dog"},       {"e:dog", "domestic dog"}, {"e:dog", "Canis familiaris"},
        {"e:canine", "canine"}, {"e:canine", "canid"},     {"e:carnivore", "carnivore"},
        {"e:flag", "flag"},     {"e:pet", "pet"},          {"e:hub", "hub thing"},
        {"e:cat", "cat"},       {"e:cat", "true cat"},
    };
    // A hub with 10 hypernyms of 5 aliases each.
    for (int i = 0; i < 10; ++i) {
      const std::string p = "e:parent" + std::to_string(i);
      edges.push_back({"e:hub", "wn:hypernym", p});
      for (int a = 0; a < 5; ++a) aliases.push_back({p, "parent" + std::to_string(i) + " name" + std::to_string(a)});
    }
    store_ = MakeStore(tmp_.Sub("kg"), edges, aliases);
    ASSERT_NE(store_, nullptr);
    auto linker = EntityLinker::Build(*store_, {});
    ASSERT_TRUE(linker.ok()) << linker.status().ToString();
    linker_ = std::move(linker).value();
  }

  // Synonyms and hypernym/similar-to neighbours (the defaults follow no
  // relation): the options the mechanics below are checked with.
  static ExpansionOptions WithNeighbors() {
    ExpansionOptions o;
    o.synonym_weight = 0.3;
    o.neighbor_weight = 0.1;
    o.relations = {"wn:hypernym", "wn:similar_to"};
    o.max_terms = 10;
    return o;
  }

  std::vector<ExpansionTerm> Expand(std::string_view q, const ExpansionOptions& o = {}) {
    auto r = ExpandQuery(*store_, *linker_, q, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : std::vector<ExpansionTerm>{};
  }

  TempDir tmp_;
  std::unique_ptr<TripleStore> store_;
  std::unique_ptr<EntityLinker> linker_;
};

TEST_F(QueryExpansionTest, DefaultsAddSynonymsOnly) {
  auto terms = Expand("my dog");
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0], (ExpansionTerm{"domestic dog", 0.2, "e:dog", "e:dog", ""}));
  EXPECT_EQ(terms[1], (ExpansionTerm{"Canis familiaris", 0.2, "e:dog", "e:dog", ""}));
  EXPECT_EQ(ExpansionOptions().max_terms, 5u);
}

TEST_F(QueryExpansionTest, SynonymsThenHypernymsWithWeights) {
  auto terms = Expand("my dog", WithNeighbors());
  ASSERT_EQ(terms.size(), 4u);
  EXPECT_EQ(terms[0], (ExpansionTerm{"domestic dog", 0.3, "e:dog", "e:dog", ""}));
  EXPECT_EQ(terms[1], (ExpansionTerm{"Canis familiaris", 0.3, "e:dog", "e:dog", ""}));
  EXPECT_EQ(terms[2], (ExpansionTerm{"canine", 0.1, "e:dog", "e:canine", "wn:hypernym"}));
  EXPECT_EQ(terms[3], (ExpansionTerm{"canid", 0.1, "e:dog", "e:canine", "wn:hypernym"}));
}

TEST_F(QueryExpansionTest, OptionsChangeWeightsRelationsAndSkips) {
  ExpansionOptions o;
  o.synonym_weight = 0.5;
  o.neighbor_weight = 0.25;
  o.relations = {"wn:part_meronym", "wn:hypernym"};
  o.max_terms = 10;
  o.skip_query_aliases = false;
  auto terms = Expand("dog", o);
  ASSERT_EQ(terms.size(), 6u);
  EXPECT_EQ(terms[0].text, "dog");  // kept: skip_query_aliases is off
  EXPECT_EQ(terms[0].weight, 0.5);
  EXPECT_EQ(terms[3].text, "flag");  // relations in the order given
  EXPECT_EQ(terms[3].relation, "wn:part_meronym");
  EXPECT_EQ(terms[3].weight, 0.25);
  EXPECT_EQ(terms[4].text, "canine");

  // A neighbour weight above the synonym weight sorts neighbours first.
  ExpansionOptions flip = WithNeighbors();
  flip.synonym_weight = 0.1;
  flip.neighbor_weight = 0.9;
  auto flipped = Expand("dog", flip);
  ASSERT_EQ(flipped.size(), 4u);
  EXPECT_EQ(flipped[0].text, "canine");
  EXPECT_EQ(flipped[2].text, "domestic dog");
}

TEST_F(QueryExpansionTest, LinkConfidenceDecidesWhichMentionsExpand) {
  // One-word mentions are left alone with min_mention_tokens 2; a two-word one still expands.
  ExpansionOptions specific;
  specific.min_mention_tokens = 2;
  EXPECT_TRUE(Expand("my dog", specific).empty());
  auto terms = Expand("a domestic dog", specific);
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0].text, "Canis familiaris");

  // An alias naming two entities is ambiguous: not expanded under max_ambiguity 1.
  TempDir tmp;
  auto store = hymir::kg::testing::MakeStore(
      tmp.Sub("kg"), {{"e:bank1", "r:x", "e:river"}, {"e:bank1", "r:x", "e:water"}},
      {{"e:bank1", "bank"}, {"e:bank1", "riverbank"}, {"e:bank2", "bank"}, {"e:bank2", "depository"}});
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(auto linker, EntityLinker::Build(*store, {}));
  ASSERT_OK_AND_ASSIGN(auto any, ExpandQuery(*store, *linker, "bank", ExpansionOptions{}));
  ASSERT_EQ(any.size(), 1u);
  EXPECT_EQ(any[0].text, "riverbank");  // the better-connected sense
  ExpansionOptions unambiguous;
  unambiguous.max_ambiguity = 1;
  ASSERT_OK_AND_ASSIGN(auto none, ExpandQuery(*store, *linker, "bank", unambiguous));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(auto depository, ExpandQuery(*store, *linker, "depository", unambiguous));
  ASSERT_EQ(depository.size(), 1u);
  EXPECT_EQ(depository[0].text, "bank");
}

TEST_F(QueryExpansionTest, QueryAliasesAndDuplicatesAreSkipped) {
  // Both "dog" and "domestic dog" occur in the query; canine's aliases stay.
  auto terms = Expand("domestic dog or dog", WithNeighbors());
  std::vector<std::string> texts;
  for (const auto& t : terms) texts.push_back(t.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"Canis familiaris", "canine", "canid"}));
  // The same entity twice contributes once.
  EXPECT_EQ(Expand("dog dog dog", WithNeighbors()).size(), 4u);
}

TEST_F(QueryExpansionTest, Bounded) {
  ExpansionOptions o = WithNeighbors();
  o.max_terms = 100;
  auto hub = Expand("hub thing", o);
  // 3 hypernyms (max_neighbors_per_relation) * 3 aliases (max_aliases_per_entity).
  ASSERT_EQ(hub.size(), 9u);
  for (const auto& t : hub) {
    EXPECT_EQ(t.relation, "wn:hypernym");
    EXPECT_EQ(t.weight, 0.1);
  }
  o.max_neighbors_per_relation = 1;
  o.max_aliases_per_entity = 2;
  EXPECT_EQ(Expand("hub thing", o).size(), 2u);
  o.max_neighbors_per_relation = 0;
  EXPECT_TRUE(Expand("hub thing", o).empty());

  ExpansionOptions small = WithNeighbors();
  small.max_terms = 3;
  auto terms = Expand("dog and cat and hub thing", small);
  ASSERT_EQ(terms.size(), 3u);
  // Highest weights first: the synonyms of dog and cat.
  EXPECT_EQ(terms[0].text, "domestic dog");
  EXPECT_EQ(terms[1].text, "Canis familiaris");
  EXPECT_EQ(terms[2].text, "true cat");
  EXPECT_EQ(terms[2].entity, "e:cat");

  ExpansionOptions none;
  none.max_terms = 0;
  EXPECT_TRUE(Expand("dog", none).empty());
  EXPECT_TRUE(Expand("nothing known here").empty());
}

TEST_F(QueryExpansionTest, DeterministicAcrossCallsAndLinkers) {
  const auto first = Expand("dog and cat and hub thing", WithNeighbors());
  EXPECT_EQ(first.size(), 10u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Expand("dog and cat and hub thing", WithNeighbors()), first);
  auto again = EntityLinker::Build(*store_, {});
  ASSERT_TRUE(again.ok());
  auto other = ExpandQuery(*store_, **again, "dog and cat and hub thing", WithNeighbors());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, first);
}

TEST_F(QueryExpansionTest, BadWeightsAreInvalidArgument) {
  ExpansionOptions neg;
  neg.synonym_weight = -1;
  auto r = ExpandQuery(*store_, *linker_, "dog", neg);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  ExpansionOptions nan;
  nan.neighbor_weight = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(ExpandQuery(*store_, *linker_, "dog", nan).ok());
}

}  // namespace
}  // namespace hymir::kg
