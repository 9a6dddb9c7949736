// SentenceFeatures: the candidate's best sentence for the query.
#include "src/engine/features/sentence.h"

#include <algorithm>

namespace hymir::internal {

Status SentenceFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const size_t q = ctx.slots();
  const SlotTable& slot_of = *ctx.slot_of;
  std::vector<uint8_t> present(q);
  for (size_t i = 0; i < ctx.size(); ++i) {
    const AnalysedDoc& a = ctx.doc(i);
    double best_cover = 0.0, best_cos = 0.0;
    for (const auto& sentence : a.sentences) {
      std::fill(present.begin(), present.end(), 0);
      for (uint32_t id : sentence) {
        const int k = slot_of[id];
        if (k >= 0) present[k] = 1;
      }
      double cover = 0.0;
      for (size_t k = 0; k < q; ++k)
        if (present[k]) cover += ctx.idf[k][0];
      best_cover = std::max(best_cover, ctx.total_idf > 0 ? cover / ctx.total_idf : 0.0);
    }
    for (const auto& v : a.sentence_vectors) best_cos = std::max(best_cos, Cosine(ctx.qvec, v));
    out.Pair(i, cols.pair[0]) = best_cover;
    out.Pair(i, cols.pair[1]) = best_cos;
  }
  return Status::OK();
}

}  // namespace hymir::internal
