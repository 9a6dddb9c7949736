// The vector-field family: every vector field of the index (multimedia).
#ifndef HYMIR_SRC_ENGINE_FEATURES_VECTOR_FIELD_H_
#define HYMIR_SRC_ENGINE_FEATURES_VECTOR_FIELD_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Per vector field F (FeatureConfig::vector_field_features): pair features
// vf_sim:F (the query's vector for F against the candidate's stored vector,
// in F's metric: inner product, cosine, or negated squared L2; 0 when either
// is missing) and vf_rrank:F (1 / the candidate's rank in F's list, 0 when
// absent); query features q_has_text (1 when the query has an analysed term)
// and q_vf:F (1 when the query has a vector for F: HybridQuery::vector for
// its field, the extractor's embedding of the text for the embedded field,
// or a more_vectors clause).
class VectorFieldFeatures final : public FeatureFamily {
 public:
  explicit VectorFieldFeatures(std::vector<index::VectorFieldSpec> fields) : fields_(std::move(fields)) {}
  const char* name() const override { return "vector_field"; }
  std::vector<std::string> PairNames() const override;
  std::vector<std::string> QueryNames() const override;
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;

 private:
  std::vector<index::VectorFieldSpec> fields_;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_VECTOR_FIELD_H_
