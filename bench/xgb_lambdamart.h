// XGBoost LambdaMART baseline for learning-to-rank benchmarks: a thin RAII
// wrapper over the XGBoost C API (libxgboost-dev). Benchmark-only: it is not
// part of the hymir library, and nothing outside bench/ may include it or link
// XGBoost.
//
// Training boosts one round at a time, evaluates `eval_metric` on the
// validation set after every round and stops once it has not improved for
// `early_stopping` rounds; predictions then use only the trees up to the best
// round. No exceptions: failures come back as error strings.
//
// Thread-safety: Train is safe to call concurrently; Predict on one model is
// serialised internally (XGBoost's prediction buffer belongs to the booster).
#ifndef HYMIR_BENCH_XGB_LAMBDAMART_H_
#define HYMIR_BENCH_XGB_LAMBDAMART_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hymir::bench {

// Row-major features; rows grouped by query, queries in order.
struct RankingMatrix {
  size_t dim = 0;
  std::vector<float> x;          // rows * dim; NaN marks a missing value
  std::vector<float> labels;     // graded relevance per row
  std::vector<unsigned> groups;  // rows per query, in order; sum == rows

  size_t rows() const { return labels.size(); }
};

struct XgbParams {
  int rounds = 500;   // maximum boosting rounds
  double eta = 0.05;  // learning rate
  int max_depth = 6;
  double min_child_weight = 1;
  double subsample = 0.8;   // row sampling per tree
  double colsample = 0.8;   // colsample_bytree
  int early_stopping = 50;  // rounds without improvement; <= 0 disables
  int threads = 0;          // 0: all cores
  uint64_t seed = 42;
  std::string objective = "rank:ndcg";
  std::string eval_metric = "ndcg@10";  // drives early stopping
  std::string tree_method = "hist";     // XGBoost tree_method
  // Predict with every boosted round, not the best validation round (a
  // refit on all the training data for a round count chosen beforehand).
  bool use_all_rounds = false;
};

class XgbLambdaMart {
 public:
  // Trains on `train` with early stopping on `valid` (params.eval_metric).
  // Returns nullptr and sets *error (if non-null) on failure. `progress`, if
  // set, is called after every round with the 0-based round and the
  // validation metric value.
  static std::unique_ptr<XgbLambdaMart> Train(const RankingMatrix& train, const RankingMatrix& valid,
                                              const XgbParams& params, std::string* error,
                                              std::function<void(int round, double valid_ndcg)> progress = {});

  // Scores `rows` row-major feature vectors of width `dim` (must equal the
  // training dim) with the trees up to the best iteration. Returns an empty
  // vector on failure (and when rows == 0); see last_error().
  std::vector<float> Predict(const float* x, size_t rows, size_t dim) const;

  // 0-based round with the best validation metric.
  int best_iteration() const { return best_iteration_; }
  // Validation metric at best_iteration().
  double best_score() const { return best_score_; }
  // Rounds actually boosted (best_iteration() + 1 .. params.rounds).
  int rounds_trained() const { return rounds_trained_; }
  size_t dim() const { return dim_; }
  // Message of the last failed Predict, empty if none.
  std::string last_error() const;
  // Total split gain per feature column (0 for columns no tree splits on);
  // empty on failure.
  std::vector<double> FeatureGain() const;

  XgbLambdaMart(const XgbLambdaMart&) = delete;
  XgbLambdaMart& operator=(const XgbLambdaMart&) = delete;
  ~XgbLambdaMart();

 private:
  XgbLambdaMart() = default;

  void* booster_ = nullptr;  // BoosterHandle
  size_t dim_ = 0;
  int best_iteration_ = -1;
  double best_score_ = 0;
  int rounds_trained_ = 0;
  mutable std::mutex mu_;  // guards booster_ use in Predict and last_error_
  mutable std::string last_error_;
};

}  // namespace hymir::bench

#endif  // HYMIR_BENCH_XGB_LAMBDAMART_H_
