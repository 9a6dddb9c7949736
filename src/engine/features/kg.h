// The knowledge-graph family: KnowledgeContext::Features on the candidates' linked entities.
#ifndef HYMIR_SRC_ENGINE_FEATURES_KG_H_
#define HYMIR_SRC_ENGINE_FEATURES_KG_H_

#include "hymir/knowledge.h"
#include "src/engine/features/family.h"

namespace hymir::internal {

// Pair and query features as KnowledgeContext::Features computes them
// (entity overlap, relatedness, TransE similarity; see hymir/kg/kg_features.h),
// from the entities linked at index time (or linked when the document was
// analysed). `kg` must outlive the family.
class KgFeatures final : public FeatureFamily {
 public:
  explicit KgFeatures(const KnowledgeContext* kg) : kg_(kg) {}
  const char* name() const override { return "kg"; }
  std::vector<std::string> PairNames() const override;
  std::vector<std::string> QueryNames() const override;
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;

 private:
  const KnowledgeContext* kg_;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_KG_H_
