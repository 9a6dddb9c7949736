// QueryFeatures: the query's idf profile and its list's BM25 shape.
#include "src/engine/features/query.h"

#include <algorithm>
#include <cmath>

namespace hymir::internal {

Status QueryFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const std::vector<double>& idf = ctx.idf_all;
  const double nt = static_cast<double>(idf.size());
  const double mean = nt ? ctx.total_idf / nt : 0.0;
  double var = 0;
  for (double v : idf) var += (v - mean) * (v - mean);
  // The 10th best bm25_all (the last when fewer), without sorting the list.
  double tenth = 0.0;
  if (!ctx.bm25_all.empty()) {
    std::vector<double> sorted = ctx.bm25_all;
    const size_t nth = std::min<size_t>(sorted.size(), 10) - 1;
    std::nth_element(sorted.begin(), sorted.begin() + nth, sorted.end(), std::greater<>());
    tenth = sorted[nth];
  }
  const double best = ctx.best_bm25;
  const double values[8] = {static_cast<double>(ctx.terms.size()),
                            mean,
                            nt ? *std::max_element(idf.begin(), idf.end()) : 0.0,
                            nt ? *std::min_element(idf.begin(), idf.end()) : 0.0,
                            nt ? std::sqrt(var / nt) : 0.0,
                            ctx.unique.empty() ? 0.0 : static_cast<double>(ctx.oov) / ctx.unique.size(),
                            best,
                            best > 0 ? (best - tenth) / best : 0.0};
  for (size_t c = 0; c < 8; ++c) out.query[cols.query[c]] = values[c];
  return Status::OK();
}

}  // namespace hymir::internal
