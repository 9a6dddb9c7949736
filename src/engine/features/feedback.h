// The pseudo-relevance feedback family.
#ifndef HYMIR_SRC_ENGINE_FEATURES_FEEDBACK_H_
#define HYMIR_SRC_ENGINE_FEATURES_FEEDBACK_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Pair features from the top kPrfDocs candidates (retrieval order):
//   prf_dense  cosine of the candidate's vector to the centroid of their
//              length-normalised vectors
//   prf_lex    the candidate's BM25-saturated match (field all, the query's
//              k1 and b) against the kPrfTerms feedback terms, each weighted
//              by its mean relative frequency in those documents times its
//              idf (RM3-like; query terms and terms of fewer than 2
//              documents excluded), relative to the list's best
class FeedbackFeatures final : public FeatureFamily {
 public:
  static constexpr size_t kPrfDocs = 10;   // feedback documents
  static constexpr size_t kPrfTerms = 30;  // feedback terms
  const char* name() const override { return "feedback"; }
  std::vector<std::string> PairNames() const override { return {"prf_dense", "prf_lex"}; }
  std::vector<std::string> QueryNames() const override { return {}; }
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_FEEDBACK_H_
