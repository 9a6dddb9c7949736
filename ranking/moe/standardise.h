// Standardising one candidate list's scores, shared by the MoE model (the
// retrieval prior, per-query trust and fusion blends) and the trainer (the
// fusion weight's cross-validation). Internal header.
//
// Thread-safety: a pure function.
#ifndef HYMIR_RANKING_MOE_STANDARDISE_H_
#define HYMIR_RANKING_MOE_STANDARDISE_H_

#include <cmath>
#include <vector>

namespace hymir::ranking {

// (v - mean) / sd over the list, population sd; a constant (or empty) list
// becomes all 0.
inline void StandardiseList(std::vector<double>& v) {
  const size_t n = v.size();
  if (n == 0) return;
  double mean = 0, sq = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(n);
  for (double x : v) sq += (x - mean) * (x - mean);
  const double sd = std::sqrt(sq / static_cast<double>(n));
  for (double& x : v) x = sd > 1e-12 ? (x - mean) / sd : 0.0;
}

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_MOE_STANDARDISE_H_
