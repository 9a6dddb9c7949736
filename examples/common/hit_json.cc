#include "common/hit_json.h"

namespace hymir::app {

nlohmann::json StageJson(const StageResult& s) {
  if (!s.present) return nullptr;
  return {{"score", s.score}, {"rank", s.rank}};
}

nlohmann::json StagesJson(const SearchHit& h) {
  return {{"bm25", StageJson(h.bm25)},
          {"vector", StageJson(h.vector)},
          {"fused", StageJson(h.fused)},
          {"rerank", StageJson(h.rerank)}};
}

nlohmann::json ExplanationJson(const ranking::MoeExplanation& ex) {
  nlohmann::json experts = nlohmann::json::array(), feats = nlohmann::json::array();
  for (size_t c = 0; c < ex.routing.chosen.size(); ++c)
    experts.push_back(
        {{"expert", ex.routing.chosen[c]}, {"weight", ex.routing.weights[c]}, {"score", ex.routed_scores[c]}});
  for (const auto& fc : ex.top_features)
    feats.push_back({{"feature", fc.feature}, {"value", fc.value}, {"contribution", fc.contribution}});
  nlohmann::json out = {{"experts", experts}, {"shared", ex.shared_scores}, {"top_features", feats}};
  if (ex.trees > 0) out["trees"] = {{"count", ex.trees}, {"score", ex.tree_score}};
  return out;
}

nlohmann::json ExpansionJson(const kg::ExpansionTerm& e) {
  return {{"text", e.text},
          {"weight", e.weight},
          {"entity", e.entity},
          {"relation", e.relation.empty() ? "synonym" : e.relation},
          {"via", e.via_entity}};
}

nlohmann::json FacetsJson(const std::vector<index::FacetResult>& facets) {
  nlohmann::json out = nlohmann::json::object();
  for (const index::FacetResult& f : facets) {
    nlohmann::json counts = nlohmann::json::array();
    for (const index::FacetCount& c : f.counts) counts.push_back({{"value", c.value}, {"count", c.count}});
    out[f.field] = counts;
  }
  return out;
}

nlohmann::json ResultJson(const PipelineResult& r, nlohmann::json hits) {
  nlohmann::json doc = {{"query", r.query.text}, {"syntax", QuerySyntaxName(r.query.syntax)}};
  if (r.total) doc["total"] = *r.total;
  doc["hits"] = std::move(hits);
  if (!r.query.facets.empty()) doc["facets"] = FacetsJson(r.facets);
  return doc;
}

std::string CountsText(const PipelineResult& r) {
  std::string out;
  if (r.total) out += "total: " + std::to_string(*r.total) + "\n";
  for (const index::FacetResult& f : r.facets) {
    out += "facet " + f.field + ":";
    for (const index::FacetCount& c : f.counts) out += " " + c.value + " (" + std::to_string(c.count) + ")";
    if (f.counts.empty()) out += " (none)";
    out += "\n";
  }
  return out;
}

}  // namespace hymir::app
