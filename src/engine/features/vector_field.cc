// VectorFieldFeatures: every vector field's similarity and rank.
#include "src/engine/features/vector_field.h"

namespace hymir::internal {

std::vector<std::string> VectorFieldFeatures::PairNames() const {
  std::vector<std::string> names;
  for (const auto& f : fields_) {
    names.push_back("vf_sim:" + f.name);
    names.push_back("vf_rrank:" + f.name);
  }
  return names;
}

std::vector<std::string> VectorFieldFeatures::QueryNames() const {
  std::vector<std::string> names = {"q_has_text"};
  for (const auto& f : fields_) names.push_back("q_vf:" + f.name);
  return names;
}

Status VectorFieldFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols,
                                    const FeatureOutput& out) const {
  const HybridQuery& query = *ctx.query;
  const size_t n = ctx.size();
  out.query[cols.query[0]] = ctx.terms.empty() ? 0.0 : 1.0;
  const std::string primary =
      !query.vector_field.empty() ? query.vector_field : (fields_.empty() ? "" : fields_.front().name);
  for (size_t fi = 0; fi < fields_.size(); ++fi) {
    const index::VectorFieldSpec& field = fields_[fi];
    // The query's vector for this field and the stage that ranked it.
    const std::vector<float>* qv = nullptr;
    int clause = -1;  // -1: HybridQuery::vector's stage
    if (field.name == primary) {
      if (!query.vector.empty())
        qv = &query.vector;
      else if (field.name == *ctx.vector_field && !ctx.qvec.empty())
        qv = &ctx.qvec;
    }
    for (size_t c = 0; c < query.more_vectors.size() && qv == nullptr; ++c) {
      if (query.more_vectors[c].field == field.name) {
        qv = &query.more_vectors[c].vector;
        clause = static_cast<int>(c);
      }
    }
    out.query[cols.query[1 + fi]] = qv != nullptr ? 1.0 : 0.0;
    const size_t sim_col = cols.pair[2 * fi], rank_col = cols.pair[2 * fi + 1];
    for (size_t i = 0; i < n && qv != nullptr; ++i) {
      const SearchHit& hit = ctx.hit(i);
      const StageResult* stage = nullptr;
      if (clause < 0 && field.name == primary)
        stage = &hit.vector;
      else if (clause >= 0 && static_cast<size_t>(clause) < hit.more_vectors.size())
        stage = &hit.more_vectors[clause];
      out.Pair(i, rank_col) = stage && stage->present ? 1.0 / stage->rank : 0.0;
      auto v = ctx.sources && ctx.sources->vector ? ctx.sources->vector(field.name, hit.id)
                                                  : ctx.searcher->GetVector(field.name, hit.id);
      if (!v.ok() || v->size() != qv->size()) continue;  // no stored vector: similarity 0
      double sim = 0;
      if (field.metric == index::VectorMetric::kCosine) {
        sim = Cosine(*qv, *v);
      } else if (field.metric == index::VectorMetric::kL2) {
        for (size_t k = 0; k < v->size(); ++k) sim -= ((*qv)[k] - (*v)[k]) * static_cast<double>((*qv)[k] - (*v)[k]);
      } else {
        for (size_t k = 0; k < v->size(); ++k) sim += static_cast<double>((*qv)[k]) * (*v)[k];
      }
      out.Pair(i, sim_col) = sim;
    }
  }
  return Status::OK();
}

}  // namespace hymir::internal
