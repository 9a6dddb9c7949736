// hymir::kg::ExpandQuery: extra query terms from the knowledge graph. The
// query is linked with an EntityLinker; each linked entity contributes its
// other aliases (synonyms) and the aliases of its neighbours along the
// relations given (none by default; e.g. WordNet hypernyms, similar
// adjectives). The caller analyses the returned surface texts with its own
// analyzer and adds them to the query with the given weights.
//
// Bounded: at most |mentions| * (1 + |relations| * max_neighbors_per_relation)
// entities are visited, each contributing at most max_aliases_per_entity
// terms, and at most max_terms terms are returned. Deterministic for a given
// store: terms are ordered by weight (descending), then by discovery order
// (mentions left to right, synonyms before neighbours, relations in the order
// given, neighbours and aliases in store key order).
//
// Thread-safety: ExpandQuery may be called concurrently (the store and the
// linker both allow concurrent reads).
#ifndef HYMIR_KG_QUERY_EXPANSION_H_
#define HYMIR_KG_QUERY_EXPANSION_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/kg/entity_linker.h"
#include "hymir/kg/triple_store.h"
#include "hymir/result.h"

namespace hymir::kg {

struct ExpansionTerm {
  std::string text;        // the alias as stored (surface text, not analysed)
  double weight = 0;       // synonym_weight or neighbor_weight
  std::string entity;      // the linked entity of the query mention it came from
  std::string via_entity;  // the entity whose alias `text` is (== entity for synonyms)
  std::string relation;    // "" for a synonym, else the relation entity -> via_entity

  friend bool operator==(const ExpansionTerm&, const ExpansionTerm&) = default;
};

// The defaults were chosen on TRAIN splits only (scripts/tune_kg_expansion.sh:
// WordNet, BM25, mixed/qrels/train.tsv macro nDCG@10 over its five domains and
// scifact/qrels/train.tsv). The earlier defaults (synonyms 0.3, hypernym and
// similar-to neighbours 0.1, 10 terms) lowered mixed TEST macro nDCG@10 by
// 0.009. On train, following relations on top of the chosen synonym weight
// and term count did not help (-0.0001 macro), so by default only synonyms
// are added, and fewer of them. Differences on train were all small (within
// +-0.005 macro nDCG@10): expansion is close to neutral on these collections.
struct ExpansionOptions {
  // Weight of another alias of a linked entity. Default: 0.2 (best of
  // 0.05/0.1/0.2/0.3 on train).
  double synonym_weight = 0.2;
  // Weight of an alias of a neighbour of a linked entity; used only when
  // `relations` is not empty. Must be > 0 then (the BM25 searcher rejects
  // expansion terms of weight 0). Default: 0.05 (best with relations followed
  // on train, tied with 0.1).
  double neighbor_weight = 0.05;
  // Relations followed from each linked entity (outgoing edges: entity is the
  // subject), e.g. {"wn:hypernym", "wn:similar_to"}. Default: none (on train,
  // WordNet hypernym/similar-to neighbours added nothing over synonyms).
  std::vector<std::string> relations = {};
  // Neighbours taken per (linked entity, relation). Default: 3.
  size_t max_neighbors_per_relation = 3;
  // Aliases taken per contributing entity (after skipping). Default: 3.
  size_t max_aliases_per_entity = 3;
  // Terms returned at most. Default: 5 (5 beat 10 on train at weight 0.2).
  size_t max_terms = 5;
  // Skip aliases whose tokens (linker tokenizer) occur as a contiguous run in
  // the query: they add nothing the query does not already say. Default: true.
  bool skip_query_aliases = true;
  // Link confidence: a mention is expanded only when it spans at least this
  // many tokens (a one-word mention is often a common word that happens to
  // name something). Default: 1 (every mention).
  size_t min_mention_tokens = 1;
  // Link confidence: a mention whose alias names more than this many
  // entities (EntityMention::num_candidates) is not expanded; 0 = no limit.
  // Default: 0.
  size_t max_ambiguity = 0;
};

// Links `query_text` (only each mention's chosen entity is expanded) and
// returns at most options.max_terms terms. An alias whose token sequence
// equals that of a term already taken is skipped, as are (with
// options.skip_query_aliases) aliases occurring in the query and aliases that
// tokenize to nothing. InvalidArgument for a negative or non-finite weight;
// store errors are passed on.
Result<std::vector<ExpansionTerm>> ExpandQuery(const TripleStore& store, const EntityLinker& linker,
                                               std::string_view query_text, const ExpansionOptions& options = {});

}  // namespace hymir::kg

#endif  // HYMIR_KG_QUERY_EXPANSION_H_
