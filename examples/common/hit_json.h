// JSON of search results, shared by `hymir search --json`, `hymir-mpi search
// --json` and the HTTP service: a stage's score and rank, a MoE explanation,
// and a whole result with its total and facets.
#ifndef HYMIR_EXAMPLES_COMMON_HIT_JSON_H_
#define HYMIR_EXAMPLES_COMMON_HIT_JSON_H_

#include <hymir/engine.h>
#include <hymir/kg/query_expansion.h>
#include <hymir/pipeline.h>
#include <hymir/ranking/moe_model.h>

#include <nlohmann/json.hpp>
#include <string>

namespace hymir::app {

// {"score", "rank"} of a stage, or null when the hit was not in its list.
nlohmann::json StageJson(const StageResult& s);

// Every stage of a hit: bm25, vector, fused, rerank.
nlohmann::json StagesJson(const SearchHit& h);

// The chosen experts (with gate weight and score), the shared experts'
// scores and the largest feature contributions.
nlohmann::json ExplanationJson(const ranking::MoeExplanation& ex);

// One KG expansion term: its text, weight, entity, relation and the entity
// it came through.
nlohmann::json ExpansionJson(const kg::ExpansionTerm& e);

// {"FIELD": [{"value", "count"}, ...], ...}: the facets of a result.
nlohmann::json FacetsJson(const std::vector<index::FacetResult>& facets);

// One query's answer as `hymir search --json` prints it: {"query", "syntax",
// "total" (when counted), "hits" (the given array), "facets" (when asked for)}.
nlohmann::json ResultJson(const PipelineResult& r, nlohmann::json hits);

// The total and facets of a counted result as text lines ("total: N",
// "facet FIELD: VALUE (COUNT) ..."); empty when it was not counted.
std::string CountsText(const PipelineResult& r);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_HIT_JSON_H_
