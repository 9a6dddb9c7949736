// The sentence family: the candidate's best sentence for the query.
#ifndef HYMIR_SRC_ENGINE_FEATURES_SENTENCE_H_
#define HYMIR_SRC_ENGINE_FEATURES_SENTENCE_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Pair features over the candidate's sentences (FeatureConfig::sentence_features):
//   sent_idf_coverage  the best sentence's idf("all")-weighted share of the
//                      distinct query terms it holds
//   sent_dense         the best sentence vector's cosine to the query
//                      vector (0 without an embedder)
class SentenceFeatures final : public FeatureFamily {
 public:
  const char* name() const override { return "sentence"; }
  std::vector<std::string> PairNames() const override { return {"sent_idf_coverage", "sent_dense"}; }
  std::vector<std::string> QueryNames() const override { return {}; }
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_SENTENCE_H_
