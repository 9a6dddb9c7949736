// The dense family: the candidate's embedding against the query's.
#ifndef HYMIR_SRC_ENGINE_FEATURES_DENSE_H_
#define HYMIR_SRC_ENGINE_FEATURES_DENSE_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Pair features:
//   dense_sim  cosine of the query's and the candidate's vectors in the
//              extractor's embedded field; without them, the vector
//              retriever's score when the hit has one, else 0
//   dense_gap  dense_sim - the list's best dense_sim
// Query features: q_emb_0 .. q_emb_<dims-1>, the query vector's leading
// components (0 past its end).
class DenseFeatures final : public FeatureFamily {
 public:
  explicit DenseFeatures(int query_dims) : query_dims_(query_dims) {}
  const char* name() const override { return "dense"; }
  std::vector<std::string> PairNames() const override { return {"dense_sim", "dense_gap"}; }
  std::vector<std::string> QueryNames() const override;
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;

 private:
  int query_dims_;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_DENSE_H_
