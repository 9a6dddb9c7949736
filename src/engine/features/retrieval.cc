// RetrievalFeatures: the retrievers' ranks and the fused score.
#include "src/engine/features/retrieval.h"

namespace hymir::internal {

Status RetrievalFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  for (size_t i = 0; i < ctx.size(); ++i) {
    const SearchHit& h = ctx.hit(i);
    out.Pair(i, cols.pair[0]) = h.bm25.present ? 1.0 / h.bm25.rank : 0.0;
    out.Pair(i, cols.pair[1]) = h.bm25.present ? 1.0 : 0.0;
    out.Pair(i, cols.pair[2]) = h.vector.present ? 1.0 / h.vector.rank : 0.0;
    out.Pair(i, cols.pair[3]) = h.fused.present ? h.fused.score : h.score;
    out.Pair(i, cols.pair[4]) = 1.0 / static_cast<double>(h.fused.present ? h.fused.rank : h.rank);
  }
  return Status::OK();
}

}  // namespace hymir::internal
