// Picks fusion parameters on a training split by grid search, maximising mean
// nDCG@10 (computed exactly as `hymir eval` does). Tune only on train qrels;
// report on test.
//
// Grids: convex alpha in {0, 0.05, ..., 1}; wrrf with weights (1, w) and
// minmax / zscore with weights (1, w), w in {0.1, 0.2, ..., 1, 1.5, 2, 3};
// rrf with k in {10, 30, 60, 100}. Ties go to the earlier grid point, in the
// order convex, wrrf, rrf, minmax, zscore.
//
// Thread-safety: a pure function.
#ifndef HYMIR_RANKING_FUSION_TUNER_H_
#define HYMIR_RANKING_FUSION_TUNER_H_

#include <map>
#include <string>
#include <vector>

#include "hymir/ranking/fusion.h"
#include "hymir/ranking/qrels.h"
#include "hymir/result.h"

namespace hymir::ranking {

struct TuneOptions {
  // Methods searched. Default: all five.
  std::vector<FusionMethod> methods = {FusionMethod::kConvex, FusionMethod::kWeightedRrf, FusionMethod::kRrf,
                                       FusionMethod::kMinMax, FusionMethod::kZScore};
  // Hits kept per query when evaluating (the run depth). Default: 1000.
  size_t depth = 1000;
};

struct TunePoint {
  FusionOptions options;
  double ndcg_cut_10 = 0.0;
  double recall_100 = 0.0;
};

struct TuneResult {
  TunePoint best;
  std::vector<TunePoint> table;  // every grid point, in grid order
  size_t queries = 0;            // judged training queries evaluated
};

// `lists` maps a training query id to its candidate lists (two: BM25, vector).
Result<TuneResult> TuneFusion(const std::map<std::string, std::vector<std::vector<Candidate>>>& lists,
                              const Qrels& qrels, const TuneOptions& options = {});

// "convex alpha=0.80", "wrrf k=60 w=1,0.5", ... for tables and logs.
std::string DescribeFusion(const FusionOptions& options);

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_FUSION_TUNER_H_
