// Fusion of ranked candidate lists (e.g. BM25 and dense retrieval) into one
// ranking that keeps every stage's score and rank.
//
//   rrf      sum over lists of 1 / (k + rank)                 (Cormack et al. 2009)
//   wrrf     sum over lists of w_i / (k + rank_i)
//   minmax   sum over lists of w_i * (s - min_i) / (max_i - min_i)
//   zscore   sum over lists of w_i * (s - mean_i) / std_i
//   convex   alpha * minmax(list 0) + (1 - alpha) * minmax(list 1)  (two lists)
//
// A document missing from a list scored below that list's cut-off: it adds
// nothing under RRF, and the list's normalised minimum under the score-based
// methods (0 for min-max; the z-score of the list's lowest score).
//
// Thread-safety: pure functions and value types.
#ifndef HYMIR_RANKING_FUSION_H_
#define HYMIR_RANKING_FUSION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hymir/result.h"

namespace hymir::ranking {

// One retriever's candidate, lists best first (score desc, id asc; Fuse sorts
// unsorted input that way).
struct Candidate {
  std::string id;
  double score = 0.0;
};

enum class FusionMethod { kRrf, kWeightedRrf, kMinMax, kZScore, kConvex };

Result<FusionMethod> ParseFusionMethod(std::string_view name);  // rrf|wrrf|minmax|zscore|convex
const char* FusionMethodName(FusionMethod method);

struct FusionOptions {
  FusionMethod method = FusionMethod::kConvex;
  // RRF constant; > 0. Default: 60 (Cormack et al.).
  double rrf_k = 60.0;
  // Per-list weights for wrrf, minmax and zscore; empty = all 1.
  std::vector<double> weights;
  // Convex: weight of list 0 in [0, 1]. Default: 0.5.
  double alpha = 0.5;
  // Min-max with fixed bounds per list (e.g. cosine in [-1, 1]) instead of the
  // observed min/max; empty = observed.
  std::vector<std::pair<double, double>> bounds;
};

struct StageScore {
  bool present = false;
  double score = 0.0;       // the list's original score
  uint32_t rank = 0;        // 1-based rank in the list
  double normalized = 0.0;  // this list's contribution before weighting
};

struct FusedHit {
  std::string id;
  double score = 0.0;
  std::vector<StageScore> stages;  // one per input list
};

// Fuses `lists`; best first (fused score desc, id asc). InvalidArgument for
// bad options (weights count, alpha outside [0, 1], k <= 0, convex with other
// than two lists) or NaN scores.
Result<std::vector<FusedHit>> Fuse(const std::vector<std::vector<Candidate>>& lists, const FusionOptions& options);

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_FUSION_H_
