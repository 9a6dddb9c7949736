// The proximity family: how close together a candidate holds the query terms.
#ifndef HYMIR_SRC_ENGINE_FEATURES_PROXIMITY_H_
#define HYMIR_SRC_ENGINE_FEATURES_PROXIMITY_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Pair features over the candidate's title-then-text token sequence:
//   window_density  matched distinct query terms / the smallest span of
//                   tokens holding all of them (1 for one matched term, 0
//                   for none)
//   bigram_match    the share of the query's adjacent term pairs (in query
//                   order) that occur adjacent, in that order, in the
//                   document (0 for a one-term query)
class ProximityFeatures final : public FeatureFamily {
 public:
  const char* name() const override { return "proximity"; }
  std::vector<std::string> PairNames() const override { return {"window_density", "bigram_match"}; }
  std::vector<std::string> QueryNames() const override { return {}; }
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;
};

// matched / the smallest span (positions inclusive) of `occ` (positions of
// query-term tokens with their slot, in position order) holding every one of
// the `matched` distinct slots; `count` is scratch of at least `slots`
// zeros, left zero.
double WindowDensity(const std::pair<uint32_t, int>* occ, size_t n_occ, int matched, std::vector<int>* count);

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_PROXIMITY_H_
