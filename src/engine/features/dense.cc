// DenseFeatures: the candidate's and the query's embeddings.
#include "src/engine/features/dense.h"

#include <algorithm>

namespace hymir::internal {

std::vector<std::string> DenseFeatures::QueryNames() const {
  std::vector<std::string> names;
  for (int i = 0; i < query_dims_; ++i) names.push_back("q_emb_" + std::to_string(i));
  return names;
}

Status DenseFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const size_t n = ctx.size();
  double best = 0;
  for (size_t i = 0; i < n; ++i) {
    const AnalysedDoc& a = ctx.doc(i);
    const SearchHit& h = ctx.hit(i);
    const double dense = !a.embedding.empty() && !ctx.qvec.empty() ? Cosine(ctx.qvec, a.embedding)
                         : h.vector.present                        ? h.vector.score
                                                                   : 0.0;
    out.Pair(i, cols.pair[0]) = dense;
    best = i == 0 ? dense : std::max(best, dense);
  }
  for (size_t i = 0; i < n; ++i) out.Pair(i, cols.pair[1]) = out.Pair(i, cols.pair[0]) - best;
  for (int k = 0; k < query_dims_; ++k)
    out.query[cols.query[k]] = k < static_cast<int>(ctx.qvec.size()) ? ctx.qvec[k] : 0.0;
  return Status::OK();
}

}  // namespace hymir::internal
