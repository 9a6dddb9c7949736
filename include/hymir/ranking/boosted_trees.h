// BoostedTrees: an ensemble of regression trees learnt by gradient boosting
// with LambdaMART gradients (Burges 2010, "From RankNet to LambdaRank to
// LambdaMART"): each round fits one tree, level by level over histograms of
// binned features (up to `bins` bins per feature, their edges at even steps
// through the feature's sorted distinct training values), to the pairwise
// |delta nDCG|-weighted logistic gradients of every judged candidate list,
// with Newton leaf values -G / (H + l2). MoeModel uses one as a boosted
// shared expert (MoeTrainOptions::tree_expert): small ReLU experts stayed at hybrid + 0.01 on
// scifact whatever we changed, boosted trees on the same features reach
// hybrid + 0.03 (bench/results, re-ranker quality report).
//
// Thread-safety: a const BoostedTrees may be used from many threads at once;
// TrainBoostedTrees is reentrant.
#ifndef HYMIR_RANKING_BOOSTED_TREES_H_
#define HYMIR_RANKING_BOOSTED_TREES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/result.h"

namespace hymir::ranking {

struct TreeBoostOptions {
  // At most 250 trees at shrinkage 0.1: half the serving cost of 500 at
  // 0.05 (which early stopping rarely cut), for a macro nDCG@10 within the
  // fold noise of it in three-fold cross-validation on mixed's train split
  // (bench/results, training defaults report).
  int max_rounds = 250;            // trees at most (exactly this many without validation lists)
  int max_depth = 6;               // levels of splits per tree
  double learning_rate = 0.1;      // shrinkage of every leaf value
  double l2 = 1.0;                 // leaf value -G / (H + l2)
  double min_child_hessian = 1.0;  // a split leaves at least this hessian on each side
  double subsample = 0.8;          // share of the rows each tree is fitted on
  double colsample = 0.8;          // share of the features each tree may split on
  int early_stopping = 50;         // rounds without a better validation nDCG@10
  int bins = 64;                   // bins per feature (2..255), over its distinct values
  uint64_t seed = 42;

  friend bool operator==(const TreeBoostOptions&, const TreeBoostOptions&) = default;
};

// One judged candidate list: n rows of `dim` features, a label per row.
struct TreeList {
  std::vector<double> x;       // n x dim, row-major
  std::vector<double> labels;  // graded relevance, n
  // Base score per row that the trees add to (e.g. another model's); empty = 0.
  std::vector<double> offset;
  double weight = 1.0;  // the list's share of the gradient
  int domain = -1;      // for the per-domain (macro) validation mean
};

class BoostedTrees {
 public:
  BoostedTrees() = default;
  bool empty() const { return roots_.empty(); }
  size_t rounds() const { return roots_.size(); }
  size_t dim() const { return dim_; }
  // Adds the ensemble's value of each of n rows (n x dim) to out[0..n).
  void Predict(const double* x, size_t n, double* out) const;
  double PredictRow(const double* row) const;
  // Tree k's value of one row (k < rounds()).
  double PredictTree(size_t k, const double* row) const;
  // Keeps the first `rounds` trees.
  void Truncate(size_t rounds);
  // The same trees over another column layout: column c becomes map[c]
  // (< dim); InvalidArgument when the map does not cover dim() columns or
  // points outside `dim`.
  Result<BoostedTrees> Remapped(const std::vector<size_t>& map, size_t dim) const;
  // These trees followed by `more`'s (same dim; InvalidArgument otherwise).
  Status Append(const BoostedTrees& more);
  // Whether `prefix`'s trees are this ensemble's first ones.
  bool StartsWith(const BoostedTrees& prefix) const;
  // Every leaf value of the trees from index `first` on multiplied by `factor`.
  void ScaleFrom(size_t first, double factor);
  // Path attribution of one row's value (Saabas 2014): along each tree's
  // path, every split adds (its child's node value - its own) to the
  // column it splits on. Adds to contribution (resized to dim()) and
  // returns the sum of the roots' values; that sum plus every contribution
  // is PredictRow(row). A node's value is its Newton value
  // -shrinkage G / (H + l2) from training, kept for splits too.
  double Attribute(const double* row, std::vector<double>& contribution) const;
  // Split gain per feature, summed over every split (dim values).
  std::vector<double> FeatureGain() const;

  std::string Serialize() const;
  // InvalidArgument (message without a path) for bytes that are not a
  // well-formed ensemble: trees out of order, a child not after its parent
  // inside its tree, a right child that is not its left sibling's next node,
  // a feature >= dim, a non-finite value.
  static Result<BoostedTrees> Parse(std::string_view data);

  friend bool operator==(const BoostedTrees& a, const BoostedTrees& b) {
    return a.dim_ == b.dim_ && a.feature_ == b.feature_ && a.left_ == b.left_ && a.right_ == b.right_ &&
           a.threshold_ == b.threshold_ && a.value_ == b.value_ && a.gain_ == b.gain_ && a.roots_ == b.roots_;
  }

 private:
  friend class TreeBuilder;
  // One node in one 16-byte record (what prediction walks): x <= cut goes
  // to `left`, else to left + 1, its sibling; a leaf points to itself with
  // cut +inf, its value in leaf_value_. Rebuilt by Pack() after every change.
  struct Packed {
    int32_t feature, left;
    double cut;
  };
  // Packs the trees whose nodes start at or after node `first`; the ones
  // before stay as they are.
  void Pack(size_t first = 0);
  // Tree k's leaf (a node index) for one row.
  int32_t Leaf(size_t k, const double* row) const;
  std::vector<Packed> packed_;
  std::vector<double> leaf_value_;  // per node: its value (read at leaves)
  std::vector<int32_t> depth_;      // per tree: the depth of its deepest leaf
  size_t dim_ = 0;
  // Nodes of every tree; a tree is its root index. Leaves have feature -1.
  std::vector<int32_t> feature_, left_, right_;
  std::vector<double> threshold_, value_, gain_;
  std::vector<int32_t> roots_;
};

struct TreeBoostReport {
  int rounds = 0;      // trees trained
  int best_round = 0;  // trees kept (1-based; 0 = none)
  double best_validation_ndcg = 0.0;
  std::vector<double> validation_ndcg;  // after each round
};

// Trains on `train` (lists with a relevant row carry gradient), choosing
// the number of trees by nDCG@10 on `valid` (per-domain mean when `macro`
// and the lists carry two or more domains); without validation lists,
// exactly options.max_rounds trees. Deterministic in options.seed.
// InvalidArgument for inconsistent sizes or options. `progress` (optional)
// gets a line every 50 rounds.
Result<BoostedTrees> TrainBoostedTrees(const std::vector<TreeList>& train, const std::vector<TreeList>& valid,
                                       size_t dim, const TreeBoostOptions& options, bool macro = false,
                                       TreeBoostReport* report = nullptr,
                                       const std::function<void(const std::string&)>& progress = {});

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_BOOSTED_TREES_H_
