// BoostedTrees: LambdaMART gradients, histogram tree growth, prediction and
// the serialised form.
#include "hymir/ranking/boosted_trees.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <random>

#include "src/core/binary_io.h"

namespace hymir::ranking {
namespace {

// nDCG@10 of `scores` (ties: earlier row first) against `labels`, gain
// 2^l - 1, ideal over the list; 0 when nothing is relevant (GroupNdcg's
// definition).
double ListNdcg10(const std::vector<double>& labels, const double* scores) {
  const size_t n = labels.size(), k = std::min<size_t>(10, n);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<double> ideal(labels);
  std::sort(ideal.rbegin(), ideal.rend());
  double dcg = 0, idcg = 0;
  for (size_t r = 0; r < k; ++r) {
    const double disc = 1.0 / std::log2(static_cast<double>(r) + 2.0);
    dcg += (std::pow(2.0, std::max(0.0, labels[order[r]])) - 1.0) * disc;
    idcg += (std::pow(2.0, std::max(0.0, ideal[r])) - 1.0) * disc;
  }
  return idcg > 0 ? dcg / idcg : 0.0;
}

bool HasRelevant(const TreeList& l) {
  return std::any_of(l.labels.begin(), l.labels.end(), [](double v) { return v > 0; });
}

// LambdaMART's gradient and hessian of one list (all pairs i more relevant
// than j): g_i -= w d rho, g_j += w d rho, h += w d rho (1 - rho) on both,
// d = |delta nDCG| of swapping them in the current order, rho =
// 1 / (1 + exp(s_i - s_j)).
void ListGradients(const TreeList& l, const double* s, double* g, double* h) {
  const size_t n = l.labels.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  std::vector<double> discount(n), gain(n);
  for (size_t r = 0; r < n; ++r) discount[order[r]] = 1.0 / std::log2(static_cast<double>(r) + 2.0);
  std::vector<double> ideal(l.labels);
  std::sort(ideal.rbegin(), ideal.rend());
  double idcg = 0;
  for (size_t r = 0; r < n; ++r) idcg += (std::pow(2.0, std::max(0.0, ideal[r])) - 1.0) / std::log2(r + 2.0);
  if (idcg <= 0) return;
  for (size_t i = 0; i < n; ++i) gain[i] = std::pow(2.0, std::max(0.0, l.labels[i])) - 1.0;
  for (size_t i = 0; i < n; ++i) {
    if (l.labels[i] <= 0) continue;
    for (size_t j = 0; j < n; ++j) {
      if (l.labels[j] >= l.labels[i]) continue;
      const double d = l.weight * std::abs((gain[i] - gain[j]) * (discount[i] - discount[j])) / idcg;
      if (d == 0) continue;
      const double rho = 1.0 / (1.0 + std::exp(s[i] - s[j]));
      g[i] -= d * rho;
      g[j] += d * rho;
      const double hh = d * rho * (1.0 - rho);
      h[i] += hh;
      h[j] += hh;
    }
  }
}

// Mean nDCG@10 of the lists with a relevant row; per-domain mean first when
// `macro` (lists of domain -1 form one group).
double MeanNdcg(const std::vector<TreeList>& lists, const std::vector<std::vector<double>>& scores, bool macro) {
  std::map<int, std::pair<double, size_t>> by;
  for (size_t q = 0; q < lists.size(); ++q) {
    if (!HasRelevant(lists[q])) continue;
    auto& [sum, n] = by[macro ? lists[q].domain : 0];
    sum += ListNdcg10(lists[q].labels, scores[q].data());
    ++n;
  }
  if (by.empty()) return 0.0;
  double total = 0;
  for (const auto& [d, v] : by) total += v.first / static_cast<double>(v.second);
  return total / static_cast<double>(by.size());
}

}  // namespace

// Grows trees over the binned training rows (a friend of BoostedTrees).
class TreeBuilder {
 public:
  TreeBuilder(const std::vector<TreeList>& lists, size_t dim, const TreeBoostOptions& o)
      : dim_(dim), o_(o), rng_(o.seed) {
    for (const auto& l : lists) rows_ += l.labels.size();
    // Bin thresholds per feature from (a stride sample of) the training values.
    thresholds_.resize(dim);
    const size_t stride = std::max<size_t>(1, rows_ / 50000);
    std::vector<double> col;
    for (size_t f = 0; f < dim; ++f) {
      col.clear();
      size_t r = 0;
      for (const auto& l : lists)
        for (size_t i = 0; i < l.labels.size(); ++i, ++r)
          if (r % stride == 0) col.push_back(l.x[i * dim + f]);
      std::sort(col.begin(), col.end());
      col.erase(std::unique(col.begin(), col.end()), col.end());
      auto& t = thresholds_[f];
      const size_t max_bins = static_cast<size_t>(o.bins);
      if (col.size() <= max_bins) {
        for (size_t i = 0; i + 1 < col.size(); ++i) t.push_back(0.5 * (col[i] + col[i + 1]));
      } else {
        for (size_t b = 1; b < max_bins; ++b) {
          const size_t at = b * col.size() / max_bins;
          const double v = 0.5 * (col[at - 1] + col[at]);
          if (t.empty() || v > t.back()) t.push_back(v);
        }
      }
    }
    binned_.resize(rows_ * dim);
    size_t r = 0;
    for (const auto& l : lists)
      for (size_t i = 0; i < l.labels.size(); ++i, ++r)
        for (size_t f = 0; f < dim; ++f) binned_[r * dim + f] = Bin(f, l.x[i * dim + f]);
  }

  size_t rows() const { return rows_; }
  void Start(BoostedTrees& out) const { out.dim_ = dim_; }

  // One tree fitted to (g, h); appended to `out`. Adds its value (shrunk)
  // for every training row to `pred`.
  void Grow(const std::vector<double>& g, const std::vector<double>& h, BoostedTrees& out, std::vector<double>& pred) {
    std::bernoulli_distribution take(o_.subsample);
    std::vector<uint32_t> rows;
    rows.reserve(rows_);
    for (size_t r = 0; r < rows_; ++r)
      if (o_.subsample >= 1.0 || take(rng_)) rows.push_back(static_cast<uint32_t>(r));
    std::vector<size_t> feats(dim_);
    std::iota(feats.begin(), feats.end(), size_t{0});
    std::shuffle(feats.begin(), feats.end(), rng_);
    feats.resize(std::max<size_t>(1, static_cast<size_t>(std::lround(o_.colsample * static_cast<double>(dim_)))));
    std::sort(feats.begin(), feats.end());

    const size_t nb = static_cast<size_t>(o_.bins);
    struct Node {
      std::vector<uint32_t> rows;
      std::vector<double> hist;  // per chosen feature: nb (G, H) pairs
      double G = 0, H = 0;
      int32_t id = 0;  // index in out's node arrays
    };
    auto build_hist = [&](Node& n) {
      n.hist.assign(feats.size() * nb * 2, 0.0);
      for (uint32_t r : n.rows) {
        const uint8_t* b = binned_.data() + static_cast<size_t>(r) * dim_;
        const double gr = g[r], hr = h[r];
        for (size_t k = 0; k < feats.size(); ++k) {
          double* cell = n.hist.data() + (k * nb + b[feats[k]]) * 2;
          cell[0] += gr;
          cell[1] += hr;
        }
      }
    };
    auto add_node = [&](BoostedTrees& t) {
      t.feature_.push_back(-1);
      t.left_.push_back(-1);
      t.right_.push_back(-1);
      t.threshold_.push_back(0.0);
      t.value_.push_back(0.0);
      t.gain_.push_back(0.0);
      return static_cast<int32_t>(t.feature_.size() - 1);
    };
    Node root;
    root.rows = std::move(rows);
    for (uint32_t r : root.rows) root.G += g[r], root.H += h[r];
    root.id = add_node(out);
    out.roots_.push_back(root.id);
    build_hist(root);
    std::vector<Node> level;
    level.push_back(std::move(root));
    std::vector<std::pair<int32_t, uint32_t>> split_bin;  // node id -> bin index of its split
    for (int depth = 0; depth <= o_.max_depth && !level.empty(); ++depth) {
      std::vector<Node> next;
      for (Node& n : level) {
        // Every node keeps its Newton value (a split's is what it would be as
        // a leaf): prediction reads the leaves', attribution the changes
        // along the path.
        out.value_[n.id] = -o_.learning_rate * n.G / (n.H + o_.l2);
        if (depth == o_.max_depth || n.rows.size() < 2 || n.H < 2 * o_.min_child_hessian) {
          continue;  // a leaf
        }
        const double parent = n.G * n.G / (n.H + o_.l2);
        double best = 1e-12;
        size_t best_k = 0, best_b = 0;
        for (size_t k = 0; k < feats.size(); ++k) {
          const size_t last = thresholds_[feats[k]].size();  // bins in use: last + 1
          double gl = 0, hl = 0;
          for (size_t b = 0; b < last; ++b) {
            const double* cell = n.hist.data() + (k * nb + b) * 2;
            gl += cell[0];
            hl += cell[1];
            const double gr = n.G - gl, hr = n.H - hl;
            if (hl < o_.min_child_hessian || hr < o_.min_child_hessian) continue;
            const double gain = gl * gl / (hl + o_.l2) + gr * gr / (hr + o_.l2) - parent;
            if (gain > best) best = gain, best_k = k, best_b = b;
          }
        }
        if (best <= 1e-12) {
          continue;  // a leaf
        }
        const size_t f = feats[best_k];
        Node left, right;
        for (uint32_t r : n.rows)
          (binned_[static_cast<size_t>(r) * dim_ + f] <= best_b ? left : right).rows.push_back(r);
        for (uint32_t r : left.rows) left.G += g[r], left.H += h[r];
        right.G = n.G - left.G;
        right.H = n.H - left.H;
        left.id = add_node(out);
        right.id = add_node(out);
        out.feature_[n.id] = static_cast<int32_t>(f);
        out.threshold_[n.id] = thresholds_[f][best_b];
        out.left_[n.id] = left.id;
        out.right_[n.id] = right.id;
        out.gain_[n.id] = best;
        split_bin.push_back({n.id, static_cast<uint32_t>(best_b)});
        // The smaller child's histogram by counting, the larger's by subtraction.
        Node& small = left.rows.size() <= right.rows.size() ? left : right;
        Node& large = &small == &left ? right : left;
        build_hist(small);
        large.hist = n.hist;
        for (size_t i = 0; i < large.hist.size(); ++i) large.hist[i] -= small.hist[i];
        n.hist.clear();
        n.hist.shrink_to_fit();
        next.push_back(std::move(left));
        next.push_back(std::move(right));
      }
      level = std::move(next);
    }
    out.Pack(out.packed_.size());  // the new tree's nodes; earlier trees are unchanged
    // Every training row (sampled or not) through the new tree, on its bins.
    std::vector<uint32_t> bin_of(out.feature_.size(), 0);
    for (const auto& [id, b] : split_bin) bin_of[static_cast<size_t>(id)] = b;
    const int32_t root_id = out.roots_.back();
    for (size_t r = 0; r < rows_; ++r) {
      const uint8_t* b = binned_.data() + r * dim_;
      int32_t at = root_id;
      while (out.feature_[at] >= 0) at = b[out.feature_[at]] <= bin_of[at] ? out.left_[at] : out.right_[at];
      pred[r] += out.value_[at];
    }
  }

 private:
  uint8_t Bin(size_t f, double v) const {
    const auto& t = thresholds_[f];
    // Bin b holds t[b-1] < v <= t[b]; NaN goes to bin 0 (left of every split).
    if (std::isnan(v)) return 0;
    return static_cast<uint8_t>(std::lower_bound(t.begin(), t.end(), v) - t.begin());
  }

  size_t dim_;
  TreeBoostOptions o_;
  std::mt19937_64 rng_;
  size_t rows_ = 0;
  std::vector<std::vector<double>> thresholds_;
  std::vector<uint8_t> binned_;  // rows x dim
};

void BoostedTrees::Pack(size_t first) {
  // A leaf steps to itself (x > +inf never holds, NaN included), so every
  // walk of a tree can take that tree's depth in steps with no test for the
  // leaf, and independent walks interleave (Predict).
  const double kNever = std::numeric_limits<double>::infinity();
  packed_.resize(feature_.size());
  leaf_value_.resize(feature_.size());
  size_t k = 0;
  while (k < roots_.size() && static_cast<size_t>(roots_[k]) < first) ++k;
  depth_.resize(k);
  std::vector<int32_t> level;
  for (; k < roots_.size(); ++k) {
    const size_t begin = static_cast<size_t>(roots_[k]);
    const size_t end = k + 1 < roots_.size() ? static_cast<size_t>(roots_[k + 1]) : feature_.size();
    level.assign(end - begin, 0);
    int32_t depth = 0;
    for (size_t i = begin; i < end; ++i) {
      leaf_value_[i] = value_[i];
      if (feature_[i] >= 0) {
        packed_[i] = {feature_[i], left_[i], threshold_[i]};
        level[static_cast<size_t>(left_[i]) - begin] = level[static_cast<size_t>(right_[i]) - begin] =
            level[i - begin] + 1;
      } else {
        packed_[i] = {0, static_cast<int32_t>(i), kNever};
        depth = std::max(depth, level[i - begin]);
      }
    }
    depth_.push_back(depth);
  }
}

// x <= cut goes left (NaN too); the right child is the left one's next
// node, so a step needs no branch on the comparison.
int32_t BoostedTrees::Leaf(size_t k, const double* row) const {
  int32_t at = roots_[k];
  for (int32_t d = 0; d < depth_[k]; ++d) {
    const Packed& p = packed_[static_cast<size_t>(at)];
    at = p.left + static_cast<int32_t>(row[p.feature] > p.cut);
  }
  return at;
}

double BoostedTrees::PredictTree(size_t k, const double* row) const {
  return leaf_value_[static_cast<size_t>(Leaf(k, row))];
}

double BoostedTrees::PredictRow(const double* row) const {
  double s = 0;
  for (size_t k = 0; k < roots_.size(); ++k) s += PredictTree(k, row);
  return s;
}

void BoostedTrees::Predict(const double* x, size_t n, double* out) const {
  // Tree by tree, so one tree's nodes stay in cache, and kLanes rows at a
  // time in lockstep: their walks are independent, so the loads of a step
  // overlap instead of each waiting for the one before.
  constexpr size_t kLanes = 8;
  for (size_t k = 0; k < roots_.size(); ++k) {
    const int32_t root = roots_[k], depth = depth_[k];
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      int32_t at[kLanes];
      const double* rows[kLanes];
      for (size_t l = 0; l < kLanes; ++l) at[l] = root, rows[l] = x + (i + l) * dim_;
      for (int32_t d = 0; d < depth; ++d)
        for (size_t l = 0; l < kLanes; ++l) {
          const Packed& p = packed_[static_cast<size_t>(at[l])];
          at[l] = p.left + static_cast<int32_t>(rows[l][p.feature] > p.cut);
        }
      for (size_t l = 0; l < kLanes; ++l) out[i + l] += leaf_value_[static_cast<size_t>(at[l])];
    }
    for (; i < n; ++i) out[i] += PredictTree(k, x + i * dim_);
  }
}

void BoostedTrees::Truncate(size_t rounds) {
  if (rounds >= roots_.size()) return;
  if (rounds == 0) {
    *this = BoostedTrees{};
    return;
  }
  // Trees are stored in order and contiguously: cut at the next tree's root.
  const size_t end = static_cast<size_t>(roots_[rounds]);
  roots_.resize(rounds);
  for (auto* v : {&feature_, &left_, &right_}) v->resize(end);
  for (auto* v : {&threshold_, &value_, &gain_}) v->resize(end);
  Pack();
}

Result<BoostedTrees> BoostedTrees::Remapped(const std::vector<size_t>& map, size_t dim) const {
  if (map.size() != dim_) return Status::InvalidArgument("boosted trees: the column map does not cover the trees");
  for (size_t c : map)
    if (c >= dim) return Status::InvalidArgument("boosted trees: a column maps outside the new layout");
  BoostedTrees out = *this;
  out.dim_ = dim;
  for (auto& f : out.feature_)
    if (f >= 0) f = static_cast<int32_t>(map[static_cast<size_t>(f)]);
  out.Pack();
  return out;
}

Status BoostedTrees::Append(const BoostedTrees& more) {
  if (more.empty()) return Status::OK();
  if (empty()) {
    *this = more;
    return Status::OK();
  }
  if (more.dim_ != dim_) return Status::InvalidArgument("boosted trees: appending trees of another width");
  const int32_t base = static_cast<int32_t>(feature_.size());
  for (size_t i = 0; i < more.feature_.size(); ++i) {
    feature_.push_back(more.feature_[i]);
    left_.push_back(more.left_[i] < 0 ? -1 : more.left_[i] + base);
    right_.push_back(more.right_[i] < 0 ? -1 : more.right_[i] + base);
  }
  threshold_.insert(threshold_.end(), more.threshold_.begin(), more.threshold_.end());
  value_.insert(value_.end(), more.value_.begin(), more.value_.end());
  gain_.insert(gain_.end(), more.gain_.begin(), more.gain_.end());
  for (int32_t r : more.roots_) roots_.push_back(r + base);
  Pack();
  return Status::OK();
}

bool BoostedTrees::StartsWith(const BoostedTrees& prefix) const {
  if (prefix.empty()) return true;
  if (prefix.dim_ != dim_ || prefix.roots_.size() > roots_.size()) return false;
  const size_t n = prefix.feature_.size();
  if (n > feature_.size()) return false;
  auto same = [n](const auto& a, const auto& b) { return std::equal(b.begin(), b.end(), a.begin()) && b.size() == n; };
  return same(feature_, prefix.feature_) && same(left_, prefix.left_) && same(right_, prefix.right_) &&
         same(threshold_, prefix.threshold_) && same(value_, prefix.value_) &&
         std::equal(prefix.roots_.begin(), prefix.roots_.end(), roots_.begin()) &&
         (prefix.roots_.size() == roots_.size() ? n == feature_.size()
                                                : static_cast<size_t>(roots_[prefix.roots_.size()]) == n);
}

void BoostedTrees::ScaleFrom(size_t first, double factor) {
  if (first >= roots_.size()) return;
  for (size_t i = static_cast<size_t>(roots_[first]); i < value_.size(); ++i) value_[i] *= factor;
  Pack();
}

double BoostedTrees::Attribute(const double* row, std::vector<double>& contribution) const {
  contribution.resize(dim_, 0.0);
  double base = 0;
  for (int32_t root : roots_) {
    int32_t at = root;
    base += value_[at];
    while (feature_[at] >= 0) {
      const int32_t next = left_[at] + static_cast<int32_t>(row[feature_[at]] > threshold_[at]);
      contribution[static_cast<size_t>(feature_[at])] += value_[next] - value_[at];
      at = next;
    }
  }
  return base;
}

std::vector<double> BoostedTrees::FeatureGain() const {
  std::vector<double> out(dim_, 0.0);
  for (size_t i = 0; i < feature_.size(); ++i)
    if (feature_[i] >= 0) out[static_cast<size_t>(feature_[i])] += gain_[i];
  return out;
}

std::string BoostedTrees::Serialize() const {
  internal::BinaryWriter w;
  w.U64(dim_);
  w.Pods(feature_);
  w.Pods(left_);
  w.Pods(right_);
  w.Pods(threshold_);
  w.Pods(value_);
  w.Pods(gain_);
  w.Pods(roots_);
  return std::move(w.out());
}

Result<BoostedTrees> BoostedTrees::Parse(std::string_view data) {
  internal::BinaryReader r(data);
  BoostedTrees t;
  uint64_t dim = 0;
  if (!(r.U64(&dim) && r.Pods(&t.feature_) && r.Pods(&t.left_) && r.Pods(&t.right_) && r.Pods(&t.threshold_) &&
        r.Pods(&t.value_) && r.Pods(&t.gain_) && r.Pods(&t.roots_) && r.AtEnd()))
    return Status::InvalidArgument("boosted trees: truncated or malformed");
  const size_t n = t.feature_.size();
  if (t.left_.size() != n || t.right_.size() != n || t.threshold_.size() != n || t.value_.size() != n ||
      t.gain_.size() != n || dim > (1u << 20) || (n > 0 && dim == 0))
    return Status::InvalidArgument("boosted trees: inconsistent sizes");
  t.dim_ = static_cast<size_t>(dim);
  // Trees are contiguous and in order; a child comes after its parent
  // inside its own tree, so every walk ends inside the arrays.
  for (size_t k = 0; k < t.roots_.size(); ++k) {
    const int64_t begin = t.roots_[k];
    const int64_t end = k + 1 < t.roots_.size() ? t.roots_[k + 1] : static_cast<int64_t>(n);
    if (begin < 0 || begin >= end || end > static_cast<int64_t>(n) || (k == 0 && begin != 0))
      return Status::InvalidArgument("boosted trees: tree " + std::to_string(k) + " out of range");
    for (int64_t i = begin; i < end; ++i) {
      if (!std::isfinite(t.value_[i]) || std::isnan(t.threshold_[i]))
        return Status::InvalidArgument("boosted trees: a non-finite value in tree " + std::to_string(k));
      if (t.feature_[i] < 0) continue;
      if (static_cast<uint64_t>(t.feature_[i]) >= dim || t.left_[i] <= i || t.right_[i] != t.left_[i] + 1 ||
          t.right_[i] >= end)
        return Status::InvalidArgument("boosted trees: a malformed split in tree " + std::to_string(k));
    }
  }
  if (t.roots_.empty() && n > 0) return Status::InvalidArgument("boosted trees: nodes without a tree");
  t.Pack();
  return t;
}

Result<BoostedTrees> TrainBoostedTrees(const std::vector<TreeList>& train, const std::vector<TreeList>& valid,
                                       size_t dim, const TreeBoostOptions& o, bool macro, TreeBoostReport* report,
                                       const std::function<void(const std::string&)>& progress) {
  if (dim == 0) return Status::InvalidArgument("boosted trees: no features");
  if (o.max_rounds < 0 || o.max_depth < 1 || o.max_depth > 16 || !(o.learning_rate > 0) || !(o.l2 >= 0) ||
      !(o.min_child_hessian >= 0) || !(o.subsample > 0 && o.subsample <= 1) || !(o.colsample > 0 && o.colsample <= 1) ||
      o.bins < 2 || o.bins > 255)
    return Status::InvalidArgument(
        "boosted trees: options out of range (rounds >= 0, depth 1..16, learning rate > 0, l2 >= 0, "
        "subsample and colsample in (0, 1], bins 2..255)");
  for (const auto* set : {&train, &valid})
    for (const TreeList& l : *set)
      if (l.x.size() != l.labels.size() * dim || (!l.offset.empty() && l.offset.size() != l.labels.size()) ||
          !(l.weight >= 0))
        return Status::InvalidArgument("boosted trees: a list's features, labels or offsets do not agree");
  TreeBoostReport local;
  TreeBoostReport& rep = report ? *report : local;
  rep = TreeBoostReport{};
  BoostedTrees trees;
  if (train.empty() || o.max_rounds == 0) return trees;
  TreeBuilder builder(train, dim, o);
  builder.Start(trees);
  const size_t rows = builder.rows();
  std::vector<size_t> start(train.size() + 1, 0);
  for (size_t q = 0; q < train.size(); ++q) start[q + 1] = start[q] + train[q].labels.size();
  std::vector<double> pred(rows, 0.0), g(rows), h(rows);
  for (size_t q = 0; q < train.size(); ++q)
    if (!train[q].offset.empty()) std::copy(train[q].offset.begin(), train[q].offset.end(), pred.begin() + start[q]);
  std::vector<std::vector<double>> vscore(valid.size());
  for (size_t q = 0; q < valid.size(); ++q)
    vscore[q] = valid[q].offset.empty() ? std::vector<double>(valid[q].labels.size(), 0.0) : valid[q].offset;
  size_t domains = 0;
  {
    std::vector<int> seen;
    for (const auto& l : valid) seen.push_back(l.domain);
    std::sort(seen.begin(), seen.end());
    domains = static_cast<size_t>(std::unique(seen.begin(), seen.end()) - seen.begin());
  }
  const bool by_domain = macro && domains > 1;
  double best = valid.empty() ? 0.0 : MeanNdcg(valid, vscore, by_domain);  // round 0: the offsets alone
  int best_round = 0, since = 0;
  for (int round = 1; round <= o.max_rounds; ++round) {
    std::fill(g.begin(), g.end(), 0.0);
    std::fill(h.begin(), h.end(), 0.0);
    for (size_t q = 0; q < train.size(); ++q)
      if (HasRelevant(train[q]) && train[q].weight > 0)
        ListGradients(train[q], pred.data() + start[q], g.data() + start[q], h.data() + start[q]);
    builder.Grow(g, h, trees, pred);
    rep.rounds = round;
    if (valid.empty()) continue;
    const size_t last = trees.rounds() - 1;
    for (size_t q = 0; q < valid.size(); ++q)
      for (size_t i = 0; i < valid[q].labels.size(); ++i)
        vscore[q][i] += trees.PredictTree(last, valid[q].x.data() + i * dim);
    const double v = MeanNdcg(valid, vscore, by_domain);
    rep.validation_ndcg.push_back(v);
    if (v > best) {
      best = v;
      best_round = round;
      since = 0;
    } else if (++since >= o.early_stopping && o.early_stopping > 0) {
      break;
    }
    if (progress && round % 50 == 0) {
      char line[128];
      std::snprintf(line, sizeof line, "trees: round %d, validation nDCG@10 %.4f (best %.4f at %d)", round, v, best,
                    best_round);
      progress(line);
    }
  }
  if (valid.empty()) best_round = rep.rounds;
  trees.Truncate(static_cast<size_t>(best_round));
  if (best_round == 0) trees = BoostedTrees{};
  rep.best_round = best_round;
  rep.best_validation_ndcg = best;
  return trees;
}

}  // namespace hymir::ranking
