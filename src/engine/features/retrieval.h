// The retrieval family: what the retrievers and the fusion said about a candidate.
#ifndef HYMIR_SRC_ENGINE_FEATURES_RETRIEVAL_H_
#define HYMIR_SRC_ENGINE_FEATURES_RETRIEVAL_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Pair features from the candidate's SearchHit:
//   bm25_rrank, bm25_present  1 / its rank in the BM25 list (0 when absent),
//                             and 1 when present
//   dense_rrank               1 / its rank in the vector list (0 when absent)
//   fused_score, fused_rrank  the fused score and 1 / the fused rank (the
//                             hit's own score and rank without fusion)
class RetrievalFeatures final : public FeatureFamily {
 public:
  const char* name() const override { return "retrieval"; }
  std::vector<std::string> PairNames() const override {
    return {"bm25_rrank", "bm25_present", "dense_rrank", "fused_score", "fused_rrank"};
  }
  std::vector<std::string> QueryNames() const override { return {}; }
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_RETRIEVAL_H_
