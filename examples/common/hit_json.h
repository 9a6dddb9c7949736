// JSON of search results, shared by `hymir search --json` and the HTTP
// service: a stage's score and rank, and a MoE explanation.
#ifndef HYMIR_EXAMPLES_COMMON_HIT_JSON_H_
#define HYMIR_EXAMPLES_COMMON_HIT_JSON_H_

#include <hymir/engine.h>
#include <hymir/kg/query_expansion.h>
#include <hymir/ranking/moe_model.h>

#include <nlohmann/json.hpp>

namespace hymir::app {

// {"score", "rank"} of a stage, or null when the hit was not in its list.
inline nlohmann::json StageJson(const StageResult& s) {
  if (!s.present) return nullptr;
  return {{"score", s.score}, {"rank", s.rank}};
}

// Every stage of a hit: bm25, vector, fused, rerank.
inline nlohmann::json StagesJson(const SearchHit& h) {
  return {{"bm25", StageJson(h.bm25)},
          {"vector", StageJson(h.vector)},
          {"fused", StageJson(h.fused)},
          {"rerank", StageJson(h.rerank)}};
}

// The chosen experts (with gate weight and score), the shared experts'
// scores and the largest feature contributions.
inline nlohmann::json ExplanationJson(const ranking::MoeExplanation& ex) {
  nlohmann::json experts = nlohmann::json::array(), feats = nlohmann::json::array();
  for (size_t c = 0; c < ex.routing.chosen.size(); ++c)
    experts.push_back(
        {{"expert", ex.routing.chosen[c]}, {"weight", ex.routing.weights[c]}, {"score", ex.routed_scores[c]}});
  for (const auto& fc : ex.top_features)
    feats.push_back({{"feature", fc.feature}, {"value", fc.value}, {"contribution", fc.contribution}});
  return {{"experts", experts}, {"shared", ex.shared_scores}, {"top_features", feats}};
}

// One KG expansion term: its text, weight, entity, relation and the entity
// it came through.
inline nlohmann::json ExpansionJson(const kg::ExpansionTerm& e) {
  return {{"text", e.text},
          {"weight", e.weight},
          {"entity", e.entity},
          {"relation", e.relation.empty() ? "synonym" : e.relation},
          {"via", e.via_entity}};
}

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_HIT_JSON_H_
