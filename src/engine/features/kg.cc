// KgFeatures: the knowledge graph's features of the candidates.
#include "src/engine/features/kg.h"

#include <span>

namespace hymir::internal {

std::vector<std::string> KgFeatures::PairNames() const { return KnowledgeContext::PairFeatureNames(); }
std::vector<std::string> KgFeatures::QueryNames() const { return KnowledgeContext::QueryFeatureNames(); }

Status KgFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const size_t n = ctx.size();
  std::vector<std::vector<std::string>> doc_entities(n);
  for (size_t i = 0; i < n; ++i) doc_entities[i] = ctx.doc(i).entities;
  HYMIR_ASSIGN_OR_RETURN(auto kgf, kg_->Features(ctx.query->text, doc_entities));
  for (size_t k = 0; k < kgf.query.size() && k < cols.query.size(); ++k) out.query[cols.query[k]] = kgf.query[k];
  const size_t kd = cols.pair.size();
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < kd; ++k) out.Pair(i, cols.pair[k]) = kgf.pair[i * kd + k];
  return Status::OK();
}

}  // namespace hymir::internal
