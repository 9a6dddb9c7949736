// MoeModel: creation, forward pass, routing, blending and explain. The
// backward pass is moe_backward.cc, the model file moe_model_io.cc.
#include "hymir/ranking/moe_model.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "ranking/moe/standardise.h"

namespace hymir::ranking {
namespace {

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

MoeModel::MoeModel(MoeConfig config, FeatureSchema schema) : config_(config), schema_(std::move(schema)) {
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
  if (bins > 0 && norm.pair_edges.size() != d * static_cast<size_t>(bins + 1)) norm.pair_edges = DefaultEdges(d, bins);
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
    return Status::InvalidArgument(
        "moe config: need routed_experts >= 1, shared_experts >= 0, "
        "1 <= top_k <= routed_experts, expert_hidden >= 1, gate_hidden >= 0, "
        "0 <= ple_bins <= " +
        std::to_string(kMaxPleBins));
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
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), h, d, 1.0, x, d, w1, d, 0.0, hidden.data(),
              h);
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
  cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), h, 1.0, hidden.data(), h, w2use, 1, 0.0, out.data(), 1);
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
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return r.affinity[a] + bias_[a] > r.affinity[b] + bias_[b]; });
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
         (a.trees_.StartsWith(b.trees_) || b.trees_.StartsWith(a.trees_)) && na.pair_mean == nb.pair_mean &&
         na.pair_scale == nb.pair_scale && na.query_mean == nb.query_mean && na.query_scale == nb.query_scale &&
         na.pair_edges == nb.pair_edges;
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
    return Status::InvalidArgument(
        "fusion: the models read different features (widen the pre-trained one first, "
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

}  // namespace hymir::ranking
