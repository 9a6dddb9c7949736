// MoeModel: forward, backward, routing, explain and the model file.
#include "hymir/ranking/moe_model.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "ranking/moe/standardise.h"
#include "src/core/binary_io.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::ranking {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'M', 'O', 'E'};
// Version 2 added the input-transform flags; version 1 files load with both
// off. Version 3 added ple_bins, the bin edges and the linear_skip and
// list_context flags; older files load without them.
// Version 5 (written only for a model with per-query trust; others are
// still written as 4) adds the anchor's weights and the QueryTrust.
// Version 6 (written only for a fused model, MoeModel::set_fusion) adds the
// whole anchor model as a nested version-4 file, the fusion weight and the
// QueryTrust (possibly empty).
// Version 7 (written only for a model with a boosted shared expert) adds
// the trees after the retrieval prior, then a u32 kind (4: nothing more, 5:
// the version-5 trust block, 6: the version-6 fusion block) and that block;
// a trust block also ends with the u64 count of the anchor's trees (the
// model's first ones).
constexpr uint32_t kVersion = 7;  // 4: retrieval prior, 5: per-query trust, 6: fusion, 7: trees
constexpr int kMaxPleBins = 64;

// Default edges for `bins` PLE bins of every one of `dim` features: even
// steps over [-2, 2] in the normalised space.
std::vector<double> DefaultEdges(size_t dim, int bins) {
  std::vector<double> edges;
  if (bins <= 0) return edges;
  edges.reserve(dim * (bins + 1));
  for (size_t j = 0; j < dim; ++j)
    for (int t = 0; t <= bins; ++t) edges.push_back(-2.0 + 4.0 * t / bins);
  return edges;
}

double Sigmoid(double u) { return 1.0 / (1.0 + std::exp(-u)); }

}  // namespace

// std::log(1 + |x|) rather than std::log1p: the same to well under the
// features' precision and about 1.6 times faster, and scoring applies it to
// every feature of every candidate.
double SignedLog1p(double x) { return x < 0 ? -std::log(1.0 - x) : std::log(1.0 + x); }

MoeModel::MoeModel(MoeConfig config, FeatureSchema schema)
    : config_(config), schema_(std::move(schema)) {
  const size_t d = schema_.pair_dim(), q = schema_.query_dim();
  norm_.pair_mean.assign(d, 0.0);
  norm_.pair_scale.assign(d, 1.0);
  norm_.query_mean.assign(q, 0.0);
  norm_.query_scale.assign(q, 1.0);
  norm_.pair_edges = DefaultEdges(d, config_.ple_bins);
  bias_.assign(config_.routed_experts, 0.0);
}

size_t MoeModel::input_dim() const {
  const size_t d = schema_.pair_dim();
  return d * static_cast<size_t>(std::max(1, config_.ple_bins)) + (config_.list_inputs ? d : 0);
}

void MoeModel::set_normalization(Normalization norm) {
  const size_t d = schema_.pair_dim();
  const int bins = config_.ple_bins;
  if (bins > 0 && norm.pair_edges.size() != d * static_cast<size_t>(bins + 1))
    norm.pair_edges = DefaultEdges(d, bins);
  if (bins == 0) norm.pair_edges.clear();
  norm_ = std::move(norm);
}

size_t MoeModel::ExpertSize() const {
  const size_t h = config_.expert_hidden, d = input_dim();
  return h * d + h + h + 1 + (config_.linear_skip ? d : 0) + (config_.list_context ? h * h : 0);
}
size_t MoeModel::ExpertOffset(int expert) const { return static_cast<size_t>(expert) * ExpertSize(); }
size_t MoeModel::GateOffset() const {
  return static_cast<size_t>(config_.routed_experts + config_.shared_experts) * ExpertSize();
}

Result<MoeModel> MoeModel::Create(const MoeConfig& config, const FeatureSchema& schema, uint64_t seed) {
  if (config.routed_experts < 1 || config.shared_experts < 0 || config.top_k < 1 ||
      config.top_k > config.routed_experts || config.expert_hidden < 1 || config.gate_hidden < 0 ||
      config.ple_bins < 0 || config.ple_bins > kMaxPleBins) {
    return Status::InvalidArgument("moe config: need routed_experts >= 1, shared_experts >= 0, "
                                   "1 <= top_k <= routed_experts, expert_hidden >= 1, gate_hidden >= 0, "
                                   "0 <= ple_bins <= " + std::to_string(kMaxPleBins));
  }
  if (schema.pair_dim() == 0) return Status::InvalidArgument("moe: the feature schema has no pair features");
  MoeModel m(config, schema);
  const size_t d = m.input_dim(), q = schema.query_dim(), h = config.expert_hidden;
  const size_t e = config.routed_experts, g = config.gate_hidden;
  size_t gate_size = g == 0 ? e * q + e : g * q + g + e * g + e;
  m.params_.assign(m.GateOffset() + gate_size, 0.0);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int x = 0; x < config.routed_experts + config.shared_experts; ++x) {
    double* p = m.params_.data() + m.ExpertOffset(x);
    const double s1 = std::sqrt(2.0 / static_cast<double>(d));
    for (size_t i = 0; i < h * d; ++i) p[i] = s1 * normal(rng);
    double* w2 = p + h * d + h;
    const double s2 = std::sqrt(1.0 / static_cast<double>(h));
    // With shared experts, routed experts start with a zero output layer:
    // the model starts as its shared MLP and the routed experts learn
    // per-query-type corrections on top of it.
    const bool zero = config.shared_experts > 0 && x < config.routed_experts;
    for (size_t i = 0; i < h; ++i) {
      const double v = s2 * normal(rng);  // drawn either way: same stream for every config
      w2[i] = zero ? 0.0 : v;
    }
  }
  double* gp = m.params_.data() + m.GateOffset();
  const size_t gate_weights = g == 0 ? e * q : g * q;
  for (size_t i = 0; i < gate_weights; ++i) gp[i] = 0.1 * normal(rng) / std::sqrt(std::max<size_t>(q, 1));
  if (g > 0) {
    double* w2 = gp + g * q + g;
    for (size_t i = 0; i < e * g; ++i) w2[i] = 0.1 * normal(rng) / std::sqrt(static_cast<double>(g));
  }
  return m;
}

void MoeModel::NormalizeQuery(std::span<const double> raw, std::vector<double>& out) const {
  out.resize(raw.size());
  const bool log = config_.log_inputs;
  for (size_t j = 0; j < raw.size(); ++j)
    out[j] = ((log ? SignedLog1p(raw[j]) : raw[j]) - norm_.query_mean[j]) / norm_.query_scale[j];
}

void MoeModel::NormalizePairs(const QueryGroup& group, std::vector<double>& out) const {
  const size_t d = schema_.pair_dim(), n = group.size(), width = input_dim();
  const bool log = config_.log_inputs;
  const size_t bins = static_cast<size_t>(config_.ple_bins);
  const size_t base = d * std::max<size_t>(1, bins);  // width of the global block
  out.resize(n * width);
  // The globally normalised values: straight into the output without PLE,
  // else into a scratch matrix that the encoding reads.
  std::vector<double> scratch;
  double* z = out.data();
  size_t zstride = width;
  if (bins > 0) {
    scratch.resize(n * d);
    z = scratch.data();
    zstride = d;
  }
  std::vector<double> inv_scale(d);
  for (size_t j = 0; j < d; ++j) inv_scale[j] = 1.0 / norm_.pair_scale[j];
  for (size_t i = 0; i < n; ++i) {
    const double* raw = group.pair_features.data() + i * d;
    double* row = z + i * zstride;
    for (size_t j = 0; j < d; ++j) row[j] = ((log ? SignedLog1p(raw[j]) : raw[j]) - norm_.pair_mean[j]) * inv_scale[j];
  }
  if (bins > 0) {
    for (size_t i = 0; i < n; ++i) {
      double* row = out.data() + i * width;
      for (size_t j = 0; j < d; ++j) {
        const double v = z[i * d + j];
        const double* e = norm_.pair_edges.data() + j * (bins + 1);
        for (size_t t = 0; t < bins; ++t) {
          const double lo = e[t], hi = e[t + 1];
          double c;
          if (hi - lo <= 1e-12) {
            c = v >= hi ? 1.0 : 0.0;  // a point mass: a step
          } else {
            c = (v - lo) / (hi - lo);
            if (t > 0) c = std::max(c, 0.0);         // the first bin is open below
            if (t + 1 < bins) c = std::min(c, 1.0);  // the last bin is open above
          }
          row[j * bins + t] = c;
        }
      }
    }
  }
  if (!config_.list_inputs || n == 0) return;
  // Standardised within the list: invariant to the global affine map, so it
  // is computed from the normalised column.
  for (size_t j = 0; j < d; ++j) {
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; ++i) {
      const double v = z[i * zstride + j];
      sum += v;
      sq += v * v;
    }
    const double mean = sum / static_cast<double>(n);
    const double var = std::max(0.0, sq / static_cast<double>(n) - mean * mean);
    const double inv = var > 1e-12 ? 1.0 / std::sqrt(var) : 0.0;
    for (size_t i = 0; i < n; ++i) out[i * width + base + j] = (z[i * zstride + j] - mean) * inv;
  }
}

void MoeModel::ExpertForward(int expert, const double* x, size_t n, std::vector<double>& hidden,
                             std::vector<double>& out) const {
  const int d = static_cast<int>(input_dim()), h = config_.expert_hidden;
  const double* w1 = params_.data() + ExpertOffset(expert);
  const double* b1 = w1 + static_cast<size_t>(h) * d;
  const double* w2 = b1 + h;
  const double b2 = w2[h];
  hidden.resize(n * h);
  out.resize(n);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), h, d, 1.0, x, d, w1, d, 0.0,
              hidden.data(), h);
  for (size_t i = 0; i < n; ++i) {
    double* row = hidden.data() + i * h;
    for (int k = 0; k < h; ++k) row[k] = std::max(0.0, row[k] + b1[k]);
  }
  const double* w2use = w2;
  std::vector<double> mean, gain, w2eff;
  if (config_.list_context) {
    OutputWeights(expert, hidden, n, mean, gain, w2eff);
    w2use = w2eff.data();
  }
  cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), h, 1.0, hidden.data(), h, w2use, 1, 0.0,
              out.data(), 1);
  for (size_t i = 0; i < n; ++i) out[i] += b2;
  if (config_.linear_skip)
    cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), d, 1.0, x, d, w2 + h + 1, 1, 1.0, out.data(), 1);
}

void MoeModel::OutputWeights(int expert, const std::vector<double>& hidden, size_t n, std::vector<double>& mean,
                             std::vector<double>& gain, std::vector<double>& w2eff) const {
  const size_t d = input_dim(), h = static_cast<size_t>(config_.expert_hidden);
  const double* w2 = params_.data() + ExpertOffset(expert) + h * d + h;
  w2eff.assign(w2, w2 + h);
  mean.assign(h, 0.0);
  gain.assign(h, 1.0);
  if (!config_.list_context || n == 0) return;
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < h; ++k) mean[k] += hidden[i * h + k];
  for (double& v : mean) v /= static_cast<double>(n);
  const double* u = w2 + h + 1 + (config_.linear_skip ? d : 0);
  for (size_t k = 0; k < h; ++k) {
    for (size_t l = 0; l < h; ++l) gain[k] += u[k * h + l] * mean[l];
    w2eff[k] *= gain[k];
  }
}

void MoeModel::GateForward(const std::vector<double>& q, std::vector<double>& hidden,
                           std::vector<double>& logits) const {
  const size_t e = config_.routed_experts, qd = schema_.query_dim(), g = config_.gate_hidden;
  const double* p = params_.data() + GateOffset();
  logits.assign(e, 0.0);
  if (g == 0) {
    for (size_t r = 0; r < e; ++r) {
      double u = p[e * qd + r];
      for (size_t j = 0; j < qd; ++j) u += p[r * qd + j] * q[j];
      logits[r] = u;
    }
    return;
  }
  hidden.assign(g, 0.0);
  const double* b1 = p + g * qd;
  const double* w2 = b1 + g;
  const double* b2 = w2 + e * g;
  for (size_t k = 0; k < g; ++k) {
    double v = b1[k];
    for (size_t j = 0; j < qd; ++j) v += p[k * qd + j] * q[j];
    hidden[k] = std::max(0.0, v);
  }
  for (size_t r = 0; r < e; ++r) {
    double u = b2[r];
    for (size_t k = 0; k < g; ++k) u += w2[r * g + k] * hidden[k];
    logits[r] = u;
  }
}

Routing MoeModel::Select(const std::vector<double>& logits) const {
  const int e = config_.routed_experts, k = config_.top_k;
  Routing r;
  r.affinity.resize(e);
  for (int i = 0; i < e; ++i) r.affinity[i] = Sigmoid(logits[i]);
  std::vector<int> order(e);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return r.affinity[a] + bias_[a] > r.affinity[b] + bias_[b];
  });
  r.chosen.assign(order.begin(), order.begin() + k);
  if (e == 1) {
    r.weights = {1.0};
  } else if (k == 1) {
    r.weights = {r.affinity[r.chosen[0]]};
  } else {
    double z = 0;
    for (int c : r.chosen) z += r.affinity[c];
    for (int c : r.chosen) r.weights.push_back(r.affinity[c] / z);
  }
  return r;
}

Result<Routing> MoeModel::Route(std::span<const double> query_features) const {
  if (query_features.size() != schema_.query_dim()) {
    return Status::InvalidArgument("moe: query has " + std::to_string(query_features.size()) +
                                   " features, the model expects " + std::to_string(schema_.query_dim()));
  }
  std::vector<double> q, hidden, logits;
  NormalizeQuery(query_features, q);
  GateForward(q, hidden, logits);
  return Select(logits);
}

Result<MoeModel::Forward> MoeModel::RunForward(const QueryGroup& group, bool keep_activations) const {
  HYMIR_RETURN_IF_ERROR(ValidateGroup(group, schema_));
  Forward f;
  std::vector<double> q, ghidden;
  NormalizeQuery(group.query_features, q);
  GateForward(q, ghidden, f.gate_logits);
  f.routing = Select(f.gate_logits);
  const size_t n = group.size();
  f.scores.assign(n, 0.0);
  if (n == 0) return f;
  std::vector<double> x, hidden, out;
  NormalizePairs(group, x);
  const size_t evaluated = static_cast<size_t>(config_.shared_experts) + f.routing.chosen.size();
  if (keep_activations) f.hidden.resize(evaluated), f.outputs.resize(evaluated);
  size_t slot = 0;
  // Expert `expert` into slot `slot` of the kept activations, or scratch.
  auto run = [&](int expert) -> const std::vector<double>& {
    std::vector<double>& h = keep_activations ? f.hidden[slot] : hidden;
    std::vector<double>& o = keep_activations ? f.outputs[slot] : out;
    ++slot;
    ExpertForward(expert, x.data(), n, h, o);
    return o;
  };
  for (int s = 0; s < config_.shared_experts; ++s) {
    const std::vector<double>& o = run(config_.routed_experts + s);
    for (size_t i = 0; i < n; ++i) f.scores[i] += o[i];
  }
  for (size_t c = 0; c < f.routing.chosen.size(); ++c) {
    const std::vector<double>& o = run(f.routing.chosen[c]);
    const double w = f.routing.weights[c];
    for (size_t i = 0; i < n; ++i) f.scores[i] += w * o[i];
  }
  if (!trees_.empty()) {
    std::vector<double> rows;
    TreeRows(x, q, n, rows);
    trees_.Predict(rows.data(), n, f.scores.data());
  }
  if (keep_activations) f.inputs = std::move(x);
  return f;
}

void MoeModel::TreeRows(const std::vector<double>& x, const std::vector<double>& q, size_t n,
                        std::vector<double>& rows) const {
  const size_t d = input_dim(), w = tree_dim();
  rows.resize(n * w);
  for (size_t i = 0; i < n; ++i) {
    std::copy(x.begin() + static_cast<std::ptrdiff_t>(i * d), x.begin() + static_cast<std::ptrdiff_t>((i + 1) * d),
              rows.begin() + static_cast<std::ptrdiff_t>(i * w));
    std::copy(q.begin(), q.end(), rows.begin() + static_cast<std::ptrdiff_t>(i * w + d));
  }
}

Status MoeModel::TreeInputs(const QueryGroup& group, std::vector<double>& out) const {
  HYMIR_RETURN_IF_ERROR(ValidateGroup(group, schema_));
  std::vector<double> x, q;
  NormalizeQuery(group.query_features, q);
  NormalizePairs(group, x);
  TreeRows(x, q, group.size(), out);
  return Status::OK();
}

Status MoeModel::set_trees(BoostedTrees trees) {
  if (!trees.empty() && trees.dim() != tree_dim())
    return Status::InvalidArgument("boosted shared expert: the trees read " + std::to_string(trees.dim()) +
                                   " columns, the model gives " + std::to_string(tree_dim()));
  trees_ = std::move(trees);
  return Status::OK();
}

void MoeModel::ZeroExpertOutput(int expert) {
  const size_t d = input_dim(), h = static_cast<size_t>(config_.expert_hidden);
  double* w2 = params_.data() + ExpertOffset(expert) + h * d + h;
  std::fill(w2, w2 + h + 1, 0.0);  // w2 and b2
}

Result<std::vector<double>> MoeModel::Score(const QueryGroup& group) const {
  HYMIR_ASSIGN_OR_RETURN(Forward f, RunForward(group));
  ApplyRetrievalPrior(group, f.scores);
  return std::move(f.scores);
}

void MoeModel::ApplyRetrievalPrior(const QueryGroup& group, std::vector<double>& scores) const {
  if (prior_mu_ <= 0 || group.size() == 0 || scores.size() != group.size()) return;
  const size_t n = group.size(), d = schema_.pair_dim();
  std::vector<double> prior(n);
  for (size_t i = 0; i < n; ++i) prior[i] = std::log(std::max(group.row(i, d)[prior_col_], 1e-12));
  // Standardised within the list; a constant list contributes 0.
  StandardiseList(scores);
  StandardiseList(prior);
  for (size_t i = 0; i < n; ++i) scores[i] = (1.0 - prior_mu_) * scores[i] + prior_mu_ * prior[i];
}

// Two models of one lineage (one fine-tuned from the other): the same
// config up to top_k (the trainer's warm-up may leave either routing wider;
// the weights are the same shape), features, normalisation and parameter
// count, so their weights live in one input space.
bool MoeModel::SameLineage(const MoeModel& a, const MoeModel& b) {
  MoeConfig ca = a.config_, cb = b.config_;
  ca.top_k = cb.top_k = 0;
  const Normalization &na = a.norm_, &nb = b.norm_;
  return ca == cb && a.schema_ == b.schema_ && a.params_.size() == b.params_.size() &&
         (a.trees_.StartsWith(b.trees_) || b.trees_.StartsWith(a.trees_)) &&
         na.pair_mean == nb.pair_mean && na.pair_scale == nb.pair_scale && na.query_mean == nb.query_mean &&
         na.query_scale == nb.query_scale && na.pair_edges == nb.pair_edges;
}

Result<MoeModel> MoeModel::Interpolate(const MoeModel& from, const MoeModel& to, double alpha) {
  if (!(alpha >= 0.0 && alpha <= 1.0)) return Status::InvalidArgument("interpolation weight must be in [0, 1]");
  if (!SameLineage(from, to))
    return Status::InvalidArgument(
        "interpolation: the models are not of one lineage (config, features and normalisation must be equal, "
        "as after fine-tuning one from the other)");
  if (!to.trees_.StartsWith(from.trees_))
    return Status::InvalidArgument("interpolation: the fine-tuned model's trees do not start with the initial one's");
  MoeModel out = to;
  for (size_t i = 0; i < out.params_.size(); ++i)
    out.params_[i] = (1.0 - alpha) * from.params_[i] + alpha * to.params_[i];
  // Trees grown while fine-tuning are absent (0) in `from`: they count alpha.
  out.trees_.ScaleFrom(from.trees_.rounds(), alpha);
  return out;
}

Result<MoeModel> MoeModel::WithQueryFeatures(const FeatureSchema& schema, const Normalization& fitted) const {
  if (schema.pair_features != schema_.pair_features)
    return Status::InvalidArgument("gate extension: the pair features differ from the model's");
  const size_t qn = schema.query_dim(), qo = schema_.query_dim();
  if (fitted.query_mean.size() != qn || fitted.query_scale.size() != qn)
    return Status::InvalidArgument("gate extension: the normalisation does not match the new query features");
  // where each old query feature sits in the new list
  std::vector<size_t> to(qo);
  for (size_t j = 0; j < qo; ++j) {
    auto it = std::find(schema.query_features.begin(), schema.query_features.end(), schema_.query_features[j]);
    if (it == schema.query_features.end())
      return Status::InvalidArgument("gate extension: the new query features lack the model's '" +
                                     schema_.query_features[j] + "'");
    to[j] = static_cast<size_t>(it - schema.query_features.begin());
  }
  MoeModel out(config_, schema);
  out.norm_ = norm_;
  out.norm_.query_mean = fitted.query_mean;
  out.norm_.query_scale = fitted.query_scale;
  for (size_t j = 0; j < qo; ++j) {
    out.norm_.query_mean[to[j]] = norm_.query_mean[j];
    out.norm_.query_scale[to[j]] = norm_.query_scale[j];
  }
  out.bias_ = bias_;
  out.prior_feature_ = prior_feature_;
  out.prior_col_ = prior_col_;
  out.prior_mu_ = prior_mu_;
  const size_t e = config_.routed_experts, g = config_.gate_hidden;
  const size_t rows = g == 0 ? e : g;  // gate rows reading the query features
  const size_t gate_old = params_.size() - GateOffset();
  const size_t gate_new = gate_old + rows * (qn - qo);
  out.params_.assign(params_.begin(), params_.begin() + static_cast<std::ptrdiff_t>(GateOffset()));
  out.params_.resize(GateOffset() + gate_new, 0.0);
  const double* src = params_.data() + GateOffset();
  double* dst = out.params_.data() + GateOffset();
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < qo; ++j) dst[r * qn + to[j]] = src[r * qo + j];
  // the rest of the gate (biases, and an MLP gate's second layer) as it was
  std::copy(src + rows * qo, src + gate_old, dst + rows * qn);
  if (!trees_.empty()) {
    // The trees read the expert inputs, then the query features: move the latter.
    const size_t d = input_dim();
    std::vector<size_t> map(tree_dim());
    for (size_t c = 0; c < d; ++c) map[c] = c;
    for (size_t j = 0; j < qo; ++j) map[d + j] = d + to[j];
    HYMIR_ASSIGN_OR_RETURN(out.trees_, trees_.Remapped(map, out.tree_dim()));
  }
  return out;
}


Status MoeModel::set_trust(const MoeModel& anchor, QueryTrust trust) {
  if (!SameLineage(*this, anchor))
    return Status::InvalidArgument(
        "query trust: the models are not of one lineage (config, features and normalisation must be equal, as "
        "after fine-tuning one from the other)");
  auto a = std::make_shared<MoeModel>(anchor);
  a->anchor_.reset();
  a->trust_ = QueryTrust();
  anchor_ = std::move(a);
  trust_ = std::move(trust);
  return Status::OK();
}

void MoeModel::clear_trust() {
  anchor_.reset();
  trust_ = QueryTrust();
  fusion_weight_ = 0.0;
}

Status MoeModel::set_fusion(const MoeModel& anchor, double weight, QueryTrust trust) {
  if (!(schema_ == anchor.schema_))
    return Status::InvalidArgument("fusion: the models read different features (widen the pre-trained one first, "
                                   "WithQueryFeatures)");
  if (!(weight > 0.0 && weight <= 1.0)) return Status::InvalidArgument("fusion weight must be in (0, 1]");
  if (anchor.anchor_) return Status::InvalidArgument("fusion: the anchor has an anchor of its own");
  anchor_ = std::make_shared<MoeModel>(anchor);
  trust_ = std::move(trust);
  fusion_weight_ = weight;
  return Status::OK();
}

double MoeModel::BlendWeight(const std::vector<std::string>& query_terms) const {
  if (!anchor_) return 1.0;
  if (fusion_weight_ > 0) return fusion_weight_ * (trust_.empty() ? 1.0 : trust_.Trust(query_terms));
  return trust_.Trust(query_terms);
}

Status MoeModel::BlendTrusted(const QueryGroup& group, double t, std::vector<double>& scores) const {
  if (!anchor_) return Status::OK();
  t = std::isfinite(t) ? std::clamp(t, 0.0, 1.0) : 0.0;
  HYMIR_ASSIGN_OR_RETURN(std::vector<double> a, anchor_->Score(group));
  if (a.size() != scores.size()) return Status::InvalidArgument("query trust: scores do not match the group");
  StandardiseList(a);
  StandardiseList(scores);
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = a[i] + t * (scores[i] - a[i]);
  return Status::OK();
}

Status MoeModel::set_retrieval_prior(const std::string& feature, double mu) {
  if (anchor_) {  // the anchor is served with the same prior
    auto a = std::make_shared<MoeModel>(*anchor_);
    HYMIR_RETURN_IF_ERROR(a->set_retrieval_prior(feature, mu));
    anchor_ = std::move(a);
  }
  if (!(mu >= 0.0 && mu <= 1.0)) return Status::InvalidArgument("retrieval prior weight must be in [0, 1]");
  if (mu == 0.0) {
    prior_feature_.clear();
    prior_col_ = 0;
    prior_mu_ = 0.0;
    return Status::OK();
  }
  auto it = std::find(schema_.pair_features.begin(), schema_.pair_features.end(), feature);
  if (it == schema_.pair_features.end())
    return Status::InvalidArgument("retrieval prior: the model has no pair feature \"" + feature + "\"");
  prior_feature_ = feature;
  prior_col_ = static_cast<size_t>(it - schema_.pair_features.begin());
  prior_mu_ = mu;
  return Status::OK();
}

void MoeModel::Backward(const QueryGroup& group, const Forward& f, std::span<const double> score_grad,
                        std::span<const double> affinity_grad, std::span<const double> logit_grad,
                        std::vector<double>& grad) const {
  const size_t n = group.size(), d = input_dim();
  const int h = config_.expert_hidden, e = config_.routed_experts;
  grad.resize(params_.size(), 0.0);
  std::vector<double> own_x, own_hidden, own_out, gy(n), dh, mean, gain, w2eff, hty(h), ctx(h);
  // The forward pass's activations when it kept them, else recomputed.
  const bool kept = f.inputs.size() == n * d && f.hidden.size() == config_.shared_experts + f.routing.chosen.size();
  if (!kept) NormalizePairs(group, own_x);
  const std::vector<double>& x = kept ? f.inputs : own_x;
  const std::vector<double>* hidden_ptr = &own_hidden;
  const std::vector<double>* out_ptr = &own_out;

  // Backprop through one expert (evaluated in slot `slot` of the forward
  // pass) with upstream gradient gy (n).
  auto expert_backward = [&](int expert, size_t slot) {
    if (kept) {
      hidden_ptr = &f.hidden[slot];
      out_ptr = &f.outputs[slot];
    } else {
      ExpertForward(expert, x.data(), n, own_hidden, own_out);
    }
    const std::vector<double>& hidden = *hidden_ptr;
    const double* w1 = params_.data() + ExpertOffset(expert);
    const double* w2 = w1 + static_cast<size_t>(h) * d + h;
    double* gw1 = grad.data() + ExpertOffset(expert);
    double* gb1 = gw1 + static_cast<size_t>(h) * d;
    double* gw2 = gb1 + h;
    double* gb2 = gw2 + h;
    // hty = H^T gy: dL/dw2eff.
    cblas_dgemv(CblasRowMajor, CblasTrans, static_cast<int>(n), h, 1.0, hidden.data(), h, gy.data(), 1, 0.0,
                hty.data(), 1);
    OutputWeights(expert, hidden, n, mean, gain, w2eff);
    for (int k = 0; k < h; ++k) gw2[k] += hty[k] * gain[k];
    std::fill(ctx.begin(), ctx.end(), 0.0);
    if (config_.list_context) {
      // w2eff = w2 * g, g = 1 + U m, m = mean_i h_i: dL/dg_k = w2_k hty_k.
      const double* u = w2 + h + 1 + (config_.linear_skip ? d : 0);
      double* gu = gb2 + 1 + (config_.linear_skip ? d : 0);
      for (int k = 0; k < h; ++k) {
        const double dg = w2[k] * hty[k];
        for (int l = 0; l < h; ++l) {
          gu[k * h + l] += dg * mean[l];
          ctx[l] += u[k * h + l] * dg;  // dL/dm_l
        }
      }
      for (double& c : ctx) c /= static_cast<double>(n);  // every h_i adds 1/n to m
    }
    if (config_.linear_skip)
      cblas_dgemv(CblasRowMajor, CblasTrans, static_cast<int>(n), static_cast<int>(d), 1.0, x.data(),
                  static_cast<int>(d), gy.data(), 1, 1.0, gb2 + 1, 1);
    dh.assign(n * h, 0.0);
    for (size_t i = 0; i < n; ++i) {
      *gb2 += gy[i];
      for (int k = 0; k < h; ++k) {
        if (hidden[i * h + k] > 0) {
          const double v = gy[i] * w2eff[k] + ctx[k];
          dh[i * h + k] = v;
          gb1[k] += v;
        }
      }
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, static_cast<int>(d), static_cast<int>(n), 1.0,
                dh.data(), h, x.data(), static_cast<int>(d), 1.0, gw1, static_cast<int>(d));
  };

  if (n > 0) {
    for (int s = 0; s < config_.shared_experts; ++s) {
      std::copy(score_grad.begin(), score_grad.end(), gy.begin());
      expert_backward(e + s, static_cast<size_t>(s));
    }
  }
  // dL/dw for each chosen expert, then through the weight normalisation.
  const Routing& r = f.routing;
  std::vector<double> dw(r.chosen.size(), 0.0);
  if (n > 0) {
    for (size_t c = 0; c < r.chosen.size(); ++c) {
      for (size_t i = 0; i < n; ++i) gy[i] = r.weights[c] * score_grad[i];
      expert_backward(r.chosen[c], static_cast<size_t>(config_.shared_experts) + c);  // points out_ptr at f_e(x)
      for (size_t i = 0; i < n; ++i) dw[c] += score_grad[i] * (*out_ptr)[i];
    }
  }
  std::vector<double> ds(e, 0.0);
  if (!affinity_grad.empty())
    for (int i = 0; i < e; ++i) ds[i] = affinity_grad[i];
  if (e > 1) {
    if (config_.top_k == 1) {
      ds[r.chosen[0]] += dw[0];
    } else {
      double z = 0, wdw = 0;
      for (size_t c = 0; c < r.chosen.size(); ++c) {
        z += r.affinity[r.chosen[c]];
        wdw += r.weights[c] * dw[c];
      }
      for (size_t c = 0; c < r.chosen.size(); ++c) ds[r.chosen[c]] += (dw[c] - wdw) / z;
    }
  }
  std::vector<double> du(e);
  for (int i = 0; i < e; ++i) {
    du[i] = ds[i] * r.affinity[i] * (1.0 - r.affinity[i]);
    if (!logit_grad.empty()) du[i] += logit_grad[i];
  }
  // Gate.
  std::vector<double> q, ghidden, logits;
  NormalizeQuery(group.query_features, q);
  const size_t qd = schema_.query_dim(), g = config_.gate_hidden;
  double* gp = grad.data() + GateOffset();
  if (g == 0) {
    for (int i = 0; i < e; ++i) {
      for (size_t j = 0; j < qd; ++j) gp[i * qd + j] += du[i] * q[j];
      gp[e * qd + i] += du[i];
    }
    return;
  }
  GateForward(q, ghidden, logits);
  const double* p = params_.data() + GateOffset();
  const double* w2 = p + g * qd + g;
  double* gb1 = gp + g * qd;
  double* gw2 = gb1 + g;
  double* gb2 = gw2 + e * g;
  std::vector<double> dgh(g, 0.0);
  for (int i = 0; i < e; ++i) {
    gb2[i] += du[i];
    for (size_t k = 0; k < g; ++k) {
      gw2[i * g + k] += du[i] * ghidden[k];
      dgh[k] += du[i] * w2[i * g + k];
    }
  }
  for (size_t k = 0; k < g; ++k) {
    if (ghidden[k] <= 0) continue;
    gb1[k] += dgh[k];
    for (size_t j = 0; j < qd; ++j) gp[k * qd + j] += dgh[k] * q[j];
  }
}

Result<MoeExplanation> MoeModel::Explain(const QueryGroup& group, size_t index, size_t top_features) const {
  if (index >= group.size()) return Status::InvalidArgument("moe explain: candidate index out of range");
  HYMIR_ASSIGN_OR_RETURN(Forward f, RunForward(group));
  MoeExplanation ex;
  ex.routing = f.routing;
  ex.score = f.scores[index];
  const size_t pd = schema_.pair_dim(), d = input_dim();
  const int h = config_.expert_hidden;
  const size_t n = group.size();
  std::vector<double> x, hidden, out, mean, gain, w2eff, grad_x(d, 0.0);
  NormalizePairs(group, x);
  const double* xi = x.data() + index * d;
  // Gradient of each expert's output for candidate `index` with respect to
  // its inputs (the list context, a mean over the whole list, held fixed).
  // Only the list context needs every row through the expert; otherwise the
  // candidate's own row is enough.
  const bool whole = config_.list_context;
  auto accumulate = [&](int expert, double weight) {
    ExpertForward(expert, whole ? x.data() : xi, whole ? n : 1, hidden, out);
    OutputWeights(expert, hidden, whole ? n : 1, mean, gain, w2eff);
    const double* w1 = params_.data() + ExpertOffset(expert);
    const double* w2 = w1 + static_cast<size_t>(h) * d + h;
    const double* hi = hidden.data() + (whole ? index : 0) * h;
    for (int k = 0; k < h; ++k) {
      if (hi[k] <= 0) continue;
      for (size_t j = 0; j < d; ++j) grad_x[j] += weight * w2eff[k] * w1[k * d + j];
    }
    if (config_.linear_skip)
      for (size_t j = 0; j < d; ++j) grad_x[j] += weight * w2[h + 1 + j];
    return out[whole ? index : 0];
  };
  for (int s = 0; s < config_.shared_experts; ++s)
    ex.shared_scores.push_back(accumulate(config_.routed_experts + s, 1.0));
  for (size_t c = 0; c < f.routing.chosen.size(); ++c)
    ex.routed_scores.push_back(accumulate(f.routing.chosen[c], f.routing.weights[c]));
  std::vector<double> tree_contribution;  // per tree input column (TreeInputs' layout)
  if (!trees_.empty()) {
    std::vector<double> q, rows;
    NormalizeQuery(group.query_features, q);
    TreeRows(x, q, n, rows);
    ex.trees = trees_.rounds();
    ex.tree_score = trees_.PredictRow(rows.data() + index * tree_dim());
    trees_.Attribute(rows.data() + index * tree_dim(), tree_contribution);
  }
  // One contribution per pair feature (its PLE components summed) and per
  // list input, which follow the global block in feature order.
  const size_t bins = static_cast<size_t>(std::max(1, config_.ple_bins)), base = pd * bins;
  std::vector<FeatureContribution> all;
  for (size_t col = 0; col < pd; ++col) {
    double c = 0;
    for (size_t t = 0; t < bins; ++t) c += grad_x[col * bins + t] * xi[col * bins + t];
    all.push_back({schema_.pair_features[col], group.pair_features[index * pd + col], c});
  }
  for (size_t j = base; j < d; ++j) {
    const size_t col = j - base;
    all.push_back({schema_.pair_features[col] + "@list", group.pair_features[index * pd + col], grad_x[j] * xi[j]});
  }
  // The trees' path attributions join the same entries (a PLE block's
  // components count for their feature); the query features they split on
  // get entries of their own.
  for (size_t c = 0; c < tree_contribution.size(); ++c) {
    if (tree_contribution[c] == 0.0) continue;
    if (c < base) {
      all[c / bins].contribution += tree_contribution[c];
    } else if (c < d) {
      all[pd + (c - base)].contribution += tree_contribution[c];
    } else {
      const size_t k = c - d;
      all.push_back({"query:" + schema_.query_features[k], group.query_features[k], tree_contribution[c]});
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const FeatureContribution& a, const FeatureContribution& b) {
    return std::abs(a.contribution) > std::abs(b.contribution);
  });
  all.resize(std::min(all.size(), top_features));
  ex.top_features = std::move(all);
  return ex;
}

Status MoeModel::Save(const std::string& path) const { return internal::WriteFileAtomic(path, Serialize()); }

std::string MoeModel::Serialize() const {
  internal::BinaryWriter w;
  w.Raw(kMagic, sizeof kMagic);
  const bool fused = anchor_ && fusion_weight_ > 0;
  const uint32_t kind = fused ? 6u : anchor_ ? 5u : 4u;
  w.U32(trees_.empty() ? kind : 7u);
  w.U32(config_.routed_experts);
  w.U32(config_.shared_experts);
  w.U32(config_.top_k);
  w.U32(config_.expert_hidden);
  w.U32(config_.gate_hidden);
  w.U32((config_.log_inputs ? 1u : 0u) | (config_.list_inputs ? 2u : 0u) | (config_.linear_skip ? 4u : 0u) |
        (config_.list_context ? 8u : 0u));
  w.U32(static_cast<uint32_t>(config_.ple_bins));
  w.Strings(schema_.pair_features);
  w.Strings(schema_.query_features);
  w.Pods(norm_.pair_mean);
  w.Pods(norm_.pair_scale);
  w.Pods(norm_.query_mean);
  w.Pods(norm_.query_scale);
  w.Pods(norm_.pair_edges);
  w.Pods(bias_);
  w.Pods(params_);
  w.Strings(std::vector<std::string>{prior_feature_});
  w.Pods(std::vector<double>{prior_mu_});
  if (!trees_.empty()) {
    w.Str(trees_.Serialize());
    w.U32(kind);
  }
  if (anchor_) {
    const QueryTrust::Stored t = trust_.ToStored();
    if (fused) {
      w.Str(anchor_->Serialize());
      w.Pods(std::vector<double>{fusion_weight_});
    } else {
      w.Pods(anchor_->params_);
      w.Pods(anchor_->bias_);
      if (!trees_.empty()) w.U64(anchor_->trees_.rounds());  // the anchor's trees are the first ones
    }
    w.Strings(t.vocabulary);
    w.Pods(t.idf);
    w.Pods(t.offsets);
    w.Pods(t.term_ids);
    w.Pods(t.weights);
    w.Pods(t.gains);
    w.Pods(t.config);
  }
  const uint32_t crc = internal::Crc32(0, w.out().data(), w.out().size());
  w.U32(crc);
  return std::move(w.out());
}

Result<MoeModel> MoeModel::Load(const std::string& path) {
  HYMIR_ASSIGN_OR_RETURN(std::string data, internal::ReadFile(path));
  return Parse(data, path, true);
}

Result<MoeModel> MoeModel::Parse(std::string_view data, const std::string& path, bool top_level) {
  auto corrupt = [&](const std::string& why) { return Status::Corruption(path + ": " + why); };
  if (data.size() < sizeof kMagic + 8 || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return corrupt("not a hymir MoE model file (bad magic)");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, data.data() + data.size() - 4, 4);
  if (internal::Crc32(0, data.data(), data.size() - 4) != stored_crc)
    return corrupt("checksum mismatch (the file is damaged or truncated)");
  internal::BinaryReader r(std::string_view(data).substr(0, data.size() - 4));
  char magic[8];
  uint32_t version = 0;
  r.Raw(magic, 8);
  r.U32(&version);
  if (version < 1 || version > kVersion)
    return corrupt("model format version " + std::to_string(version) + ", this build reads 1 to " +
                   std::to_string(kVersion));
  if (!top_level && (version == 5 || version == 6))
    return corrupt("the fused pre-trained model has an anchor of its own");
  MoeConfig config;
  FeatureSchema schema;
  Normalization norm;
  std::vector<double> bias, params;
  bool ok = r.I32(&config.routed_experts) && r.I32(&config.shared_experts) && r.I32(&config.top_k) &&
            r.I32(&config.expert_hidden) && r.I32(&config.gate_hidden);
  uint32_t flags = 0;
  if (ok && version >= 2) ok = r.U32(&flags);
  if (flags > (version >= 3 ? 15u : 3u)) return corrupt("unknown model flags " + std::to_string(flags));
  config.log_inputs = (flags & 1u) != 0;
  config.list_inputs = (flags & 2u) != 0;
  config.linear_skip = (flags & 4u) != 0;
  config.list_context = (flags & 8u) != 0;
  if (ok && version >= 3) ok = r.I32(&config.ple_bins);
  ok = ok && r.Strings(&schema.pair_features) &&
            r.Strings(&schema.query_features) && r.Pods(&norm.pair_mean) && r.Pods(&norm.pair_scale) &&
            r.Pods(&norm.query_mean) && r.Pods(&norm.query_scale);
  if (ok && version >= 3) ok = r.Pods(&norm.pair_edges);
  ok = ok && r.Pods(&bias) && r.Pods(&params);
  std::vector<std::string> prior_feature{""};
  std::vector<double> prior_mu{0.0};
  if (ok && version >= 4) ok = r.Strings(&prior_feature) && r.Pods(&prior_mu);
  // What follows the prior: version 7 names it (kind) after the trees.
  std::string trees_bytes;
  uint32_t kind = version >= 5 ? version : 4;
  if (ok && version >= 7) {
    ok = r.Str(&trees_bytes) && r.U32(&kind);
    if (ok && kind != 4 && kind != 5 && kind != 6) return corrupt("unknown model section kind " + std::to_string(kind));
    if (ok && !top_level && kind != 4) return corrupt("the fused pre-trained model has an anchor of its own");
  }
  std::vector<double> anchor_params, anchor_bias, fusion{0.0};
  std::string anchor_file;
  QueryTrust::Stored stored_trust;
  uint64_t anchor_trees = 0;
  if (ok && kind == 5) ok = r.Pods(&anchor_params) && r.Pods(&anchor_bias);
  if (ok && kind == 5 && version >= 7) ok = r.U64(&anchor_trees);
  if (ok && kind == 6) ok = r.Str(&anchor_file) && r.Pods(&fusion) && fusion.size() == 1;
  if (ok && kind >= 5)
    ok = r.Strings(&stored_trust.vocabulary) &&
         r.Pods(&stored_trust.idf) && r.Pods(&stored_trust.offsets) && r.Pods(&stored_trust.term_ids) &&
         r.Pods(&stored_trust.weights) && r.Pods(&stored_trust.gains) && r.Pods(&stored_trust.config);
  ok = ok && r.AtEnd() && prior_feature.size() == 1 && prior_mu.size() == 1;
  if (!ok) return corrupt("truncated or malformed model body");
  {  // Every parameter is stored: a config needing more than the file holds
     // is damaged, and must be refused before Create() allocates for it.
    const double stored = static_cast<double>(params.size());
    const double experts = static_cast<double>(config.routed_experts) + static_cast<double>(config.shared_experts);
    const double first_layers =
        experts * static_cast<double>(config.expert_hidden) * static_cast<double>(schema.pair_dim());
    const double gate = static_cast<double>(config.gate_hidden) * static_cast<double>(schema.query_dim()) +
                        static_cast<double>(config.routed_experts) * std::max(1.0, static_cast<double>(config.gate_hidden));
    if (first_layers > stored || gate > stored) return corrupt("parameter sizes do not match the stored config");
  }
  auto created = Create(config, schema, 0);
  if (!created.ok()) return corrupt(created.status().message());
  MoeModel m = std::move(created).value();
  if (params.size() != m.params_.size() || bias.size() != static_cast<size_t>(config.routed_experts) ||
      norm.pair_mean.size() != schema.pair_dim() || norm.pair_scale.size() != schema.pair_dim() ||
      norm.query_mean.size() != schema.query_dim() || norm.query_scale.size() != schema.query_dim() ||
      norm.pair_edges.size() != (config.ple_bins > 0 ? schema.pair_dim() * (config.ple_bins + 1) : 0))
    return corrupt("parameter sizes do not match the stored config");
  auto positive = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
  };
  if (!positive(norm.pair_scale) || !positive(norm.query_scale))
    return corrupt("a normalisation scale is not positive");
  m.params_ = std::move(params);
  m.bias_ = std::move(bias);
  m.norm_ = std::move(norm);
  if (Status s = m.set_retrieval_prior(prior_feature[0], prior_mu[0]); !s.ok()) return corrupt(s.message());
  if (version >= 7) {
    auto trees = BoostedTrees::Parse(trees_bytes);
    if (!trees.ok()) return corrupt(trees.status().message());
    if (trees->empty()) return corrupt("a version-7 model without trees");
    if (Status s = m.set_trees(std::move(trees).value()); !s.ok()) return corrupt(s.message());
  }
  if (kind == 6) {
    auto anchor = Parse(anchor_file, path + " (its fused pre-trained model)", false);
    if (!anchor.ok()) return anchor.status();
    auto trust = QueryTrust::FromStored(std::move(stored_trust));
    if (!trust.ok()) return corrupt(trust.status().message());
    if (Status s = m.set_fusion(*anchor, fusion[0], std::move(trust).value()); !s.ok()) return corrupt(s.message());
  } else if (kind == 5) {
    if (anchor_params.size() != m.params_.size() || anchor_bias.size() != m.bias_.size())
      return corrupt("the pre-trained weights of the query trust do not match the stored config");
    MoeModel anchor = m;
    anchor.params_ = std::move(anchor_params);
    anchor.bias_ = std::move(anchor_bias);
    if (anchor_trees > m.trees_.rounds())
      return corrupt("the query trust's initial model has more trees than the model");
    anchor.trees_.Truncate(static_cast<size_t>(anchor_trees));
    auto trust = QueryTrust::FromStored(std::move(stored_trust));
    if (!trust.ok()) return corrupt(trust.status().message());
    if (Status s = m.set_trust(anchor, std::move(trust).value()); !s.ok()) return corrupt(s.message());
  }
  return m;
}

}  // namespace hymir::ranking
