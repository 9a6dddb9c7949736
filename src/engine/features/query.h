// The query family: what the query and its list look like, for the gate.
#ifndef HYMIR_SRC_ENGINE_FEATURES_QUERY_H_
#define HYMIR_SRC_ENGINE_FEATURES_QUERY_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Query features:
//   q_len                      analysed terms (repeats counted)
//   q_idf_mean, _max, _min,    over the distinct terms' idf in field all
//   q_idf_std                  (population standard deviation)
//   q_oov                      the share of distinct terms no document has
//   q_top_bm25                 the list's best bm25_all
//   q_bm25_gap                 (best - 10th best) / best (the last when
//                              fewer than 10 candidates; 0 if best <= 0)
class QueryFeatures final : public FeatureFamily {
 public:
  const char* name() const override { return "query"; }
  std::vector<std::string> PairNames() const override { return {}; }
  std::vector<std::string> QueryNames() const override {
    return {"q_len", "q_idf_mean", "q_idf_max", "q_idf_min", "q_idf_std", "q_oov", "q_top_bm25", "q_bm25_gap"};
  }
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_QUERY_H_
