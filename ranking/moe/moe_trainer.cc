// TrainMoe: objective, Adam, balancing and early stopping.
#include "hymir/ranking/moe_trainer.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <cmath>
#include <numeric>
#include <random>

#include "ranking/moe/standardise.h"

namespace hymir::ranking {
namespace {

bool HasRelevant(const QueryGroup& g) {
  return std::any_of(g.labels.begin(), g.labels.end(), [](double l) { return l > 0; });
}

// Listwise softmax cross-entropy; adds dL/ds to grad (scaled by `scale`).
double SoftmaxLoss(const QueryGroup& g, const std::vector<double>& s, double scale, std::vector<double>& grad) {
  const size_t n = s.size();
  double total_gain = 0;
  std::vector<double> gain(n);
  for (size_t i = 0; i < n; ++i) total_gain += gain[i] = std::pow(2.0, g.labels[i]) - 1.0;
  if (total_gain <= 0) return 0.0;
  const double mx = *std::max_element(s.begin(), s.end());
  double z = 0;
  for (double v : s) z += std::exp(v - mx);
  const double log_z = mx + std::log(z);
  double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    const double t = gain[i] / total_gain;
    const double p = std::exp(s[i] - log_z);
    if (t > 0) loss -= t * (s[i] - log_z);
    grad[i] += scale * (p - t);
  }
  return loss;
}

// LambdaRank: sum over pairs (i more relevant than j) of
// |delta nDCG_ij| * log(1 + exp(-(s_i - s_j))), |delta| from the current ranking.
double LambdaLoss(const QueryGroup& g, const std::vector<double>& s, double scale, size_t cutoff,
                  std::vector<double>& grad) {
  const size_t n = s.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  std::vector<double> discount(n);
  const size_t depth = cutoff > 0 ? std::min(cutoff, n) : n;
  for (size_t r = 0; r < n; ++r) discount[order[r]] = r < depth ? 1.0 / std::log2(r + 2.0) : 0.0;
  std::vector<double> ideal(g.labels.begin(), g.labels.end());
  std::sort(ideal.rbegin(), ideal.rend());
  double idcg = 0;
  for (size_t r = 0; r < depth; ++r) idcg += (std::pow(2.0, ideal[r]) - 1.0) / std::log2(r + 2.0);
  if (idcg <= 0) return 0.0;
  double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    if (g.labels[i] <= 0) continue;
    for (size_t j = 0; j < n; ++j) {
      if (g.labels[j] >= g.labels[i]) continue;
      const double delta =
          std::abs((std::pow(2.0, g.labels[i]) - std::pow(2.0, g.labels[j])) * (discount[i] - discount[j])) / idcg;
      if (delta == 0) continue;  // both below the cutoff
      const double diff = s[i] - s[j];
      // log(1 + exp(-diff)), stable.
      loss += delta * (diff > 0 ? std::log1p(std::exp(-diff)) : -diff + std::log1p(std::exp(diff)));
      const double lambda = -delta / (1.0 + std::exp(diff));
      grad[i] += scale * lambda;
      grad[j] -= scale * lambda;
    }
  }
  return loss;
}

// Copies of `batch` whose pair features carry Gaussian noise of standard
// deviation `sigma` in the model's normalised input space (after the log
// transform when the model uses it), mapped back to raw values.
std::span<const QueryGroup* const> AddInputNoise(const MoeModel& model, std::span<const QueryGroup* const> batch,
                                                 double sigma, std::mt19937_64& rng, std::vector<QueryGroup>& copies,
                                                 std::vector<const QueryGroup*>& ptrs) {
  const size_t d = model.schema().pair_dim();
  const bool log = model.config().log_inputs;
  const auto& scale = model.normalization().pair_scale;
  std::normal_distribution<double> nd(0.0, sigma);
  copies.assign(batch.size(), QueryGroup{});
  ptrs.clear();
  for (size_t b = 0; b < batch.size(); ++b) {
    copies[b] = *batch[b];
    auto& x = copies[b].pair_features;
    for (size_t i = 0; i < x.size(); ++i) {
      const double step = nd(rng) * scale[i % d];
      if (!log) {
        x[i] += step;
      } else {
        const double y = SignedLog1p(x[i]) + step;  // back through the inverse of the signed log
        x[i] = y < 0 ? -std::expm1(-y) : std::expm1(y);
      }
    }
    ptrs.push_back(&copies[b]);
  }
  return {ptrs.data(), ptrs.size()};
}

}  // namespace

Result<RankingLoss> ParseRankingLoss(std::string_view name) {
  if (name == "softmax") return RankingLoss::kSoftmax;
  if (name == "lambdarank" || name == "lambda") return RankingLoss::kLambdaRank;
  return Status::InvalidArgument("unknown loss '" + std::string(name) + "' (softmax|lambdarank)");
}

double BatchObjective(const MoeModel& model, std::span<const QueryGroup* const> batch, const ObjectiveOptions& options,
                      std::vector<double>* grad, std::pair<int, int> part) {
  if (grad) grad->assign(model.parameters().size(), 0.0);
  if (batch.empty()) return 0.0;
  const int e = model.config().routed_experts, k = model.config().top_k;
  const size_t workers = static_cast<size_t>(std::max(1, part.second)), worker = static_cast<size_t>(part.first);
  const double inv_b = 1.0 / static_cast<double>(batch.size());
  std::vector<MoeModel::Forward> forwards(batch.size());
  // This part's positions; activations kept for the backward pass when there is one.
  for (size_t b = worker; b < batch.size(); b += workers)
    forwards[b] = std::move(model.RunForward(*batch[b], grad != nullptr)).value();

  // Batch-level load shares f_e (constants of the balance loss), over the
  // whole batch: other parts' queries are only routed.
  std::vector<double> load(e, 0.0);
  for (size_t b = 0; b < batch.size(); ++b) {
    const std::vector<int>& chosen =
        b % workers == worker ? forwards[b].routing.chosen : model.Route(batch[b]->query_features).value().chosen;
    for (int c : chosen) load[c] += 1.0;
  }
  for (auto& l : load) l /= static_cast<double>(batch.size()) * k;

  double total = 0;
  for (size_t b = worker; b < batch.size(); b += workers) {
    const QueryGroup& g = *batch[b];
    const auto& f = forwards[b];
    std::vector<double> sgrad(g.size(), 0.0);
    double loss = 0;
    if (!g.labels.empty() && g.size() > 0) {
      const double scale = inv_b * g.weight;
      const size_t cutoff = static_cast<size_t>(std::max(0, options.lambda_cutoff));
      loss = g.weight * (options.loss == RankingLoss::kSoftmax ? SoftmaxLoss(g, f.scores, scale, sgrad)
                                                               : LambdaLoss(g, f.scores, scale, cutoff, sgrad));
    }
    total += loss * inv_b;
    std::vector<double> agrad, lgrad;
    if (options.balance_loss > 0 && e > 1) {
      // L = alpha * E * sum_e f_e * mean_b p_be, p = s / sum s.
      const auto& s = f.routing.affinity;
      const double z = std::accumulate(s.begin(), s.end(), 0.0);
      double fp = 0;
      for (int i = 0; i < e; ++i) fp += load[i] * s[i] / z;
      total += options.balance_loss * e * fp * inv_b;
      agrad.assign(e, 0.0);
      // d(sum_e f_e s_e / z)/ds_j = (f_j - fp) / z
      for (int j = 0; j < e; ++j) agrad[j] = options.balance_loss * e * inv_b * (load[j] - fp) / z;
    }
    if (options.routing_loss > 0 && g.domain >= 0 && e > 1) {
      const auto& u = f.gate_logits;
      const int target = g.domain % e;
      const double mx = *std::max_element(u.begin(), u.end());
      double z = 0;
      for (double v : u) z += std::exp(v - mx);
      total += options.routing_loss * inv_b * (-(u[target] - mx - std::log(z)));
      lgrad.assign(e, 0.0);
      for (int i = 0; i < e; ++i)
        lgrad[i] = options.routing_loss * inv_b * (std::exp(u[i] - mx) / z - (i == target ? 1.0 : 0.0));
    }
    if (grad) model.Backward(g, f, sgrad, agrad, lgrad, *grad);
  }
  return total;
}

Normalization FitNormalization(const FeatureSchema& schema, const std::vector<QueryGroup>& groups, bool log_inputs,
                               int ple_bins) {
  Normalization n;
  auto fit = [log_inputs](size_t dim, auto rows, std::vector<double>& mean, std::vector<double>& scale) {
    mean.assign(dim, 0.0);
    scale.assign(dim, 1.0);
    std::vector<double> sq(dim, 0.0);
    double count = 0;
    rows([&](const double* r) {
      count += 1;
      for (size_t j = 0; j < dim; ++j) {
        const double v = log_inputs ? SignedLog1p(r[j]) : r[j];
        mean[j] += v;
        sq[j] += v * v;
      }
    });
    if (count == 0) return;
    for (size_t j = 0; j < dim; ++j) {
      mean[j] /= count;
      const double var = std::max(0.0, sq[j] / count - mean[j] * mean[j]);
      scale[j] = var > 1e-12 ? std::sqrt(var) : 1.0;
    }
  };
  const size_t d = schema.pair_dim(), q = schema.query_dim();
  fit(
      d,
      [&](auto&& visit) {
        for (const auto& g : groups)
          for (size_t i = 0; i < g.size(); ++i) visit(g.row(i, d));
      },
      n.pair_mean, n.pair_scale);
  fit(
      q,
      [&](auto&& visit) {
        for (const auto& g : groups) visit(g.query_features.data());
      },
      n.query_mean, n.query_scale);
  if (ple_bins > 0) {
    // Bin edges at the 0, 1/B, ..., 1 quantiles of each normalised column.
    const size_t bins = static_cast<size_t>(ple_bins);
    n.pair_edges.assign(d * (bins + 1), 0.0);
    std::vector<double> column;
    for (size_t j = 0; j < d; ++j) {
      column.clear();
      for (const auto& g : groups)
        for (size_t i = 0; i < g.size(); ++i) {
          const double r = g.row(i, d)[j];
          column.push_back(((log_inputs ? SignedLog1p(r) : r) - n.pair_mean[j]) / n.pair_scale[j]);
        }
      double* e = n.pair_edges.data() + j * (bins + 1);
      if (column.empty()) {
        for (size_t t = 0; t <= bins; ++t) e[t] = -2.0 + 4.0 * static_cast<double>(t) / static_cast<double>(bins);
        continue;
      }
      std::sort(column.begin(), column.end());
      for (size_t t = 0; t <= bins; ++t) e[t] = column[t * (column.size() - 1) / bins];
    }
  }
  return n;
}

namespace {

// Adam's moments, the weights' moving average and the step count of one run.
struct Adam {
  std::vector<double> m, v;
  std::vector<double> ema;  // exponential moving average of the weights
  long step = 0;
};

// The state of one snapshot of the weights: the best epoch's so far.
struct Best {
  std::vector<double> params, bias;
  double ndcg = -1;
  int since = 0;  // epochs since it improved
};

Status ValidateTraining(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                        const MoeTrainOptions& options) {
  for (const auto& g : groups) {
    HYMIR_RETURN_IF_ERROR(ValidateGroup(g, schema));
    if (g.labels.size() != g.size())
      return Status::InvalidArgument("query '" + g.query_id + "': training needs a label per candidate");
  }
  const DataParallel& dp = options.parallel;
  if (dp.workers < 1 || dp.worker < 0 || dp.worker >= dp.workers || (dp.workers > 1 && !dp.all_reduce))
    return Status::InvalidArgument("training: data-parallel worker " + std::to_string(dp.worker) + " of " +
                                   std::to_string(dp.workers) + (dp.all_reduce ? "" : " without an all-reduce"));
  if (options.init != nullptr && !(options.init->schema() == schema))
    return Status::InvalidArgument("fine-tuning: the training features (" + std::to_string(schema.pair_dim()) +
                                   " pair, " + std::to_string(schema.query_dim()) +
                                   " query) are not the initial model's (" +
                                   std::to_string(options.init->schema().pair_dim()) + " pair, " +
                                   std::to_string(options.init->schema().query_dim()) + " query)");
  return Status::OK();
}

// TrainMoe before the fine-tuning interpolation, stage by stage: the
// starting model, the train/validation split (with domain-balanced
// weights), the boosted shared expert, the epochs with early stopping, and
// the refit on every query.
class WeightTrainer {
 public:
  WeightTrainer(const FeatureSchema& schema, const std::vector<QueryGroup>& groups, const MoeTrainOptions& options)
      : schema_(schema),
        groups_(groups),
        o_(options),
        config_(options.init ? options.init->config() : options.model),
        dp_(options.parallel),
        grow_trees_(options.init != nullptr ? options.tree_finetune : options.tree_expert),
        routed_only_(options.init != nullptr && options.finetune_routed_only),
        batch_(std::max<size_t>(1, options.batch_queries)),
        warmup_(config_.top_k < config_.routed_experts ? std::max(0, options.dense_warmup_epochs) : 0),
        ema_decay_(std::clamp(options.ema_decay, 0.0, 0.9999)) {}

  Result<MoeModel> Run(TrainReport& rep, const std::function<void(const EpochReport&)>& progress);

 private:
  Result<MoeModel> Start() const;
  const std::vector<QueryGroup>& BalancedGroups();
  Status SplitQueries(std::mt19937_64& rng);
  double ValidationNdcg(const MoeModel& model) const;
  Result<std::vector<TreeList>> TreeLists(const MoeModel& m, const std::vector<const QueryGroup*>& set) const;
  Status GrowTrees(MoeModel& m, const std::vector<const QueryGroup*>& fit, const std::vector<const QueryGroup*>& check,
                   int rounds);
  Result<double> RunEpoch(MoeModel& net, std::vector<const QueryGroup*>& set, Adam& adam, std::mt19937_64& gen,
                          int epoch);
  Result<double> BatchGradient(const MoeModel& net, std::span<const QueryGroup* const> batch, size_t p);
  void AdamStep(MoeModel& net, Adam& adam) const;
  void UpdateSelectionBias(MoeModel& net, std::span<const QueryGroup* const> batch) const;
  Status RunEpochs(MoeModel& model, std::mt19937_64& rng, Best& best, TrainReport& rep,
                   const std::function<void(const EpochReport&)>& progress);
  Result<MoeModel> Finish(MoeModel model, Best best, TrainReport& rep);

  const FeatureSchema& schema_;
  const std::vector<QueryGroup>& groups_;
  const MoeTrainOptions& o_;
  const MoeConfig config_;
  const DataParallel& dp_;
  const bool grow_trees_;
  const bool routed_only_;
  const size_t batch_;
  const int warmup_;
  const double ema_decay_;
  std::vector<QueryGroup> weighted_;  // domain-balanced copies of groups_
  std::vector<const QueryGroup*> train_, valid_;
  TreeBoostReport tree_rep_;
  std::vector<double> grad_;
  std::vector<QueryGroup> noisy_;
  std::vector<const QueryGroup*> noisy_ptrs_;
};

// A model to start from: the initial one, or a fresh one normalised on the groups.
Result<MoeModel> WeightTrainer::Start() const {
  if (o_.init) return *o_.init;  // its retrieval prior included: validation sees what search will
  HYMIR_ASSIGN_OR_RETURN(MoeModel m, MoeModel::Create(config_, schema_, o_.seed));
  m.set_normalization(FitNormalization(schema_, groups_, config_.log_inputs, config_.ple_bins));
  return m;
}

// The groups with domain-balanced weights (copies) when balance_domains and
// two or more domains have labelled queries; the groups themselves otherwise.
const std::vector<QueryGroup>& WeightTrainer::BalancedGroups() {
  if (!o_.balance_domains) return groups_;
  std::map<int, size_t> per_domain;
  size_t labelled = 0;
  for (const auto& g : groups_)
    if (g.domain >= 0 && HasRelevant(g)) ++per_domain[g.domain], ++labelled;
  if (per_domain.size() <= 1) return groups_;
  // Domain d's queries weigh c * n_d^(power - 1) each, so the domain's
  // total is proportional to n_d^power; c keeps the mean weight at 1.
  const double power = std::clamp(o_.domain_balance_power, 0.0, 1.0);
  double z = 0;
  for (const auto& [d, n] : per_domain) z += std::pow(static_cast<double>(n), power);
  weighted_ = groups_;
  for (auto& g : weighted_) {
    if (g.domain < 0 || !per_domain.count(g.domain)) continue;
    g.weight *= static_cast<double>(labelled) / z * std::pow(static_cast<double>(per_domain[g.domain]), power - 1.0);
  }
  return weighted_;
}

// Queries with a relevant candidate, shuffled, split into train and
// validation: the same fraction of every domain (stratified), so small
// domains are represented; no validation under 10 queries.
Status WeightTrainer::SplitQueries(std::mt19937_64& rng) {
  std::vector<const QueryGroup*> usable;
  for (const auto& g : BalancedGroups())
    if (HasRelevant(g)) usable.push_back(&g);
  if (usable.empty()) return Status::InvalidArgument("training: no query has a relevant candidate");
  std::shuffle(usable.begin(), usable.end(), rng);
  std::map<int, std::vector<const QueryGroup*>> by_domain;
  for (const QueryGroup* g : usable) by_domain[g->domain].push_back(g);
  for (auto& [d, list] : by_domain) {
    size_t n_valid = static_cast<size_t>(std::floor(o_.validation_fraction * list.size()));
    if (usable.size() < 10) n_valid = 0;
    valid_.insert(valid_.end(), list.begin(), list.begin() + n_valid);
    train_.insert(train_.end(), list.begin() + n_valid, list.end());
  }
  return Status::OK();
}

// Mean nDCG@10 of the validation queries (the training queries when there
// are none); with balance_domains the mean of per-domain means (macro), the
// figure the balancing aims at.
double WeightTrainer::ValidationNdcg(const MoeModel& model) const {
  const auto& set = valid_.empty() ? train_ : valid_;
  std::map<int, std::pair<double, size_t>> by;
  for (const QueryGroup* g : set) {
    auto& [sum, n] = by[o_.balance_domains ? g->domain : 0];
    sum += GroupNdcg(*g, model.Score(*g).value(), 10);
    ++n;
  }
  double total = 0;
  for (const auto& [d, v] : by) total += v.first / static_cast<double>(v.second);
  return total / static_cast<double>(by.size());
}

// The boosted expert's training lists: `m`'s tree inputs, with the initial
// model's scores as offsets when fine-tuning.
Result<std::vector<TreeList>> WeightTrainer::TreeLists(const MoeModel& m,
                                                       const std::vector<const QueryGroup*>& set) const {
  std::vector<TreeList> out(set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    HYMIR_RETURN_IF_ERROR(m.TreeInputs(*set[i], out[i].x));
    out[i].labels = set[i]->labels;
    out[i].weight = o_.tree_domain_balance ? set[i]->weight : 1.0;
    out[i].domain = set[i]->domain;
    if (o_.init != nullptr) {
      HYMIR_ASSIGN_OR_RETURN(MoeModel::Forward f, o_.init->RunForward(*set[i]));
      out[i].offset = std::move(f.scores);
    }
  }
  return out;
}

// The boosted shared expert: trees fitted on `fit`, the round count chosen
// on `check` (rounds < 0) or given; from scratch the experts' outputs then
// start at 0; from `init` the trees learn what the initial model (their
// offset) gets wrong and are appended to any it has.
Status WeightTrainer::GrowTrees(MoeModel& m, const std::vector<const QueryGroup*>& fit,
                                const std::vector<const QueryGroup*>& check, int rounds) {
  TreeBoostOptions o = o_.trees;
  o.seed = o_.seed;
  if (rounds >= 0) o.max_rounds = rounds;
  HYMIR_ASSIGN_OR_RETURN(std::vector<TreeList> fl, TreeLists(m, fit));
  HYMIR_ASSIGN_OR_RETURN(std::vector<TreeList> cl, TreeLists(m, check));
  const bool macro = o_.balance_domains && o_.tree_domain_balance;
  HYMIR_ASSIGN_OR_RETURN(BoostedTrees trees,
                         TrainBoostedTrees(fl, cl, m.tree_dim(), o, macro, rounds < 0 ? &tree_rep_ : nullptr));
  if (o_.init != nullptr) {
    BoostedTrees all = o_.init->trees();
    HYMIR_RETURN_IF_ERROR(all.Append(trees));
    return m.set_trees(std::move(all));
  }
  HYMIR_RETURN_IF_ERROR(m.set_trees(std::move(trees)));
  for (int x = 0; x < config_.routed_experts + config_.shared_experts; ++x) m.ZeroExpertOutput(x);
  return Status::OK();
}

// The batch's loss, its gradient in grad_ (summed over the data-parallel
// workers: each computes its share, the loss rides the all-reduce as the
// last element).
Result<double> WeightTrainer::BatchGradient(const MoeModel& net, std::span<const QueryGroup* const> batch, size_t p) {
  if (dp_.workers <= 1) return BatchObjective(net, batch, o_.objective, &grad_);
  double part = BatchObjective(net, batch, o_.objective, &grad_, {dp_.worker, dp_.workers});
  grad_.push_back(part);
  HYMIR_RETURN_IF_ERROR(dp_.all_reduce(grad_));
  if (grad_.size() != p + 1) return Status::Internal("data-parallel all-reduce changed the size");
  const double loss = grad_.back();
  grad_.pop_back();
  return loss;
}

// One Adam step with decoupled weight decay on the trainable parameters
// (routed-only fine-tuning: the routed experts come first in the layout, so
// only [0, trainable) move), then the moving average.
void WeightTrainer::AdamStep(MoeModel& net, Adam& adam) const {
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const size_t p = net.parameters().size();
  const size_t trainable = routed_only_ ? static_cast<size_t>(config_.routed_experts) * net.expert_parameters() : p;
  ++adam.step;
  auto& w = net.parameters();
  const double c1 = 1.0 - std::pow(beta1, static_cast<double>(adam.step));
  const double c2 = 1.0 - std::pow(beta2, static_cast<double>(adam.step));
  for (size_t i = 0; i < trainable; ++i) {
    adam.m[i] = beta1 * adam.m[i] + (1 - beta1) * grad_[i];
    adam.v[i] = beta2 * adam.v[i] + (1 - beta2) * grad_[i] * grad_[i];
    w[i] -= o_.learning_rate * ((adam.m[i] / c1) / (std::sqrt(adam.v[i] / c2) + eps) + o_.weight_decay * w[i]);
  }
  if (ema_decay_ > 0) {
    // Warm-up of the average (as in TensorFlow's moving averages): the
    // effective decay is min(decay, (1 + t) / (10 + t)).
    const double d = std::min(ema_decay_, (1.0 + adam.step) / (10.0 + adam.step));
    for (size_t i = 0; i < p; ++i) adam.ema[i] = d * adam.ema[i] + (1 - d) * w[i];
  }
}

// Aux-loss-free balancing: each routed expert's selection bias moves
// towards the mean load of the batch.
void WeightTrainer::UpdateSelectionBias(MoeModel& net, std::span<const QueryGroup* const> batch) const {
  const int e = config_.routed_experts;
  std::vector<double> load(e, 0.0);
  double total = 0;
  for (const QueryGroup* g : batch) {
    const double w = o_.weighted_load ? g->weight : 1.0;
    const Routing routing = net.Route(g->query_features).value();
    for (int c : routing.chosen) load[c] += w;
    total += w;
  }
  const double mean_load = total * config_.top_k / e;
  std::vector<double> bias = net.selection_bias();
  for (int i = 0; i < e; ++i) {
    if (load[i] < mean_load)
      bias[i] += o_.bias_update_rate;
    else if (load[i] > mean_load)
      bias[i] -= o_.bias_update_rate;
  }
  net.set_selection_bias(std::move(bias));
}

// One pass over `set` in shuffled batches, Adam state in `adam`; returns the
// mean batch loss. During the dense warm-up every expert is routed.
Result<double> WeightTrainer::RunEpoch(MoeModel& net, std::vector<const QueryGroup*>& set, Adam& adam,
                                       std::mt19937_64& gen, int epoch) {
  const int e = config_.routed_experts;
  const size_t p = net.parameters().size();
  if (adam.m.size() != p) adam.m.assign(p, 0.0), adam.v.assign(p, 0.0), adam.ema = net.parameters();
  net.set_top_k(epoch <= warmup_ ? e : config_.top_k);
  std::shuffle(set.begin(), set.end(), gen);
  double epoch_loss = 0;
  size_t batches = 0;
  for (size_t start = 0; start < set.size(); start += batch_) {
    std::span<const QueryGroup* const> batch(set.data() + start, std::min(batch_, set.size() - start));
    if (o_.input_noise > 0) batch = AddInputNoise(net, batch, o_.input_noise, gen, noisy_, noisy_ptrs_);
    HYMIR_ASSIGN_OR_RETURN(const double loss, BatchGradient(net, batch, p));
    epoch_loss += loss;
    ++batches;
    AdamStep(net, adam);
    if (o_.bias_update_rate > 0 && e > 1 && epoch > warmup_ && !routed_only_) UpdateSelectionBias(net, batch);
  }
  net.set_top_k(config_.top_k);
  return batches ? epoch_loss / static_cast<double>(batches) : 0.0;
}

// The epochs with early stopping on the validation nDCG@10; `best` keeps
// the best epoch's weights.
Status WeightTrainer::RunEpochs(MoeModel& model, std::mt19937_64& rng, Best& best, TrainReport& rep,
                                const std::function<void(const EpochReport&)>& progress) {
  Adam adam;
  for (int epoch = 1; epoch <= o_.max_epochs + warmup_; ++epoch) {
    EpochReport er;
    er.epoch = epoch;
    HYMIR_ASSIGN_OR_RETURN(er.train_loss, RunEpoch(model, train_, adam, rng, epoch));
    if (ema_decay_ > 0) std::swap(model.parameters(), adam.ema);  // judge (and keep) the averaged weights
    er.validation_ndcg = ValidationNdcg(model);
    if (epoch > warmup_ && er.validation_ndcg > best.ndcg) {
      best.ndcg = er.validation_ndcg;
      best.params = model.parameters();
      best.bias = model.selection_bias();
      rep.best_epoch = epoch;
      best.since = 0;
      er.best = true;
    } else if (epoch > warmup_) {
      ++best.since;
    }
    if (ema_decay_ > 0) std::swap(model.parameters(), adam.ema);
    rep.history.push_back(er);
    rep.epochs = epoch;
    if (progress) progress(er);
    if (best.since >= o_.patience) break;
  }
  return Status::OK();
}

// The model returned: the initial weights (or the trees alone) when no
// epoch beat them, else a refit on every query for the chosen number of
// epochs, else the best epoch's weights.
Result<MoeModel> WeightTrainer::Finish(MoeModel model, Best best, TrainReport& rep) {
  std::vector<const QueryGroup*> all = train_;
  all.insert(all.end(), valid_.begin(), valid_.end());
  rep.best_validation_ndcg = best.ndcg;
  if ((o_.init != nullptr || grow_trees_) && rep.best_epoch == 0) {
    model.parameters() = std::move(best.params);  // the initial weights, never replaced
    model.set_selection_bias(std::move(best.bias));
    if (grow_trees_ && o_.refit && !valid_.empty()) {  // the trees alone, on every query
      HYMIR_RETURN_IF_ERROR(GrowTrees(model, all, {}, tree_rep_.best_round));
      rep.refit_queries = all.size();
    }
    return model;
  }
  if (o_.refit && !valid_.empty()) {
    // The same schedule from scratch on every usable query, for the number
    // of epochs early stopping chose.
    HYMIR_ASSIGN_OR_RETURN(MoeModel fresh, Start());
    fresh.set_normalization(model.normalization());
    if (grow_trees_) HYMIR_RETURN_IF_ERROR(GrowTrees(fresh, all, {}, tree_rep_.best_round));
    std::mt19937_64 refit_rng(o_.seed + 1);
    Adam refit_adam;
    for (int epoch = 1; epoch <= rep.best_epoch; ++epoch) {
      HYMIR_RETURN_IF_ERROR(RunEpoch(fresh, all, refit_adam, refit_rng, epoch).status());
    }
    if (ema_decay_ > 0) fresh.parameters() = refit_adam.ema;
    rep.refit_queries = all.size();
    return fresh;
  }
  model.parameters() = std::move(best.params);
  model.set_selection_bias(std::move(best.bias));
  return model;
}

Result<MoeModel> WeightTrainer::Run(TrainReport& rep, const std::function<void(const EpochReport&)>& progress) {
  HYMIR_RETURN_IF_ERROR(ValidateTraining(schema_, groups_, o_));
  HYMIR_ASSIGN_OR_RETURN(MoeModel model, Start());
  std::mt19937_64 rng(o_.seed);
  HYMIR_RETURN_IF_ERROR(SplitQueries(rng));
  rep = TrainReport{};
  rep.train_queries = train_.size();
  rep.validation_queries = valid_.size();
  if (grow_trees_) {
    HYMIR_RETURN_IF_ERROR(GrowTrees(model, train_, valid_, -1));
    rep.tree_rounds = tree_rep_.best_round;
    rep.tree_validation_ndcg = tree_rep_.best_validation_ndcg;
  }
  Best best;
  best.params = model.parameters();
  best.bias = model.selection_bias();
  // Fine-tuning: the initial model is epoch 0, so training that never beats
  // it on the validation queries returns it unchanged. So is the boosted
  // shared expert alone.
  if ((o_.init != nullptr || grow_trees_) && !valid_.empty()) best.ndcg = ValidationNdcg(model);
  HYMIR_RETURN_IF_ERROR(RunEpochs(model, rng, best, rep, progress));
  return Finish(std::move(model), std::move(best), rep);
}

}  // namespace

Result<MoeModel> TrainMoe(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                          const MoeTrainOptions& options, TrainReport* report,
                          const std::function<void(const EpochReport&)>& progress) {
  if (!(options.finetune_alpha >= 0.0 && options.finetune_alpha <= 1.0))
    return Status::InvalidArgument("fine-tuning: the interpolation weight must be in [0, 1]");
  TrainReport local;
  HYMIR_ASSIGN_OR_RETURN(MoeModel model,
                         WeightTrainer(schema, groups, options).Run(report ? *report : local, progress));
  if (options.init == nullptr || options.finetune_alpha == 1.0) return model;
  return MoeModel::Interpolate(*options.init, model, options.finetune_alpha);
}

namespace {
// FNV-1a of a query id: its fold is QueryHash(id) % folds (OutOfFoldGains,
// ChooseFusionWeight), the same from run to run and process to process.
uint64_t QueryHash(const std::string& id) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return h;
}
}  // namespace

Result<std::vector<double>> OutOfFoldGains(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                                           const MoeTrainOptions& options, const MoeModel& baseline, int folds,
                                           const std::function<void(const std::string&)>& progress) {
  if (folds < 2) return Status::InvalidArgument("out-of-fold gains need at least 2 folds");
  std::vector<double> gains(groups.size(), 0.0);
  std::vector<int> fold(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) fold[i] = static_cast<int>(QueryHash(groups[i].query_id) % folds);
  for (int f = 0; f < folds; ++f) {
    std::vector<QueryGroup> rest;
    for (size_t i = 0; i < groups.size(); ++i)
      if (fold[i] != f) rest.push_back(groups[i]);
    if (rest.empty()) continue;
    auto m = TrainMoe(schema, rest, options);
    if (!m.ok()) return m.status().WithContext("out-of-fold gains, fold " + std::to_string(f + 1));
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (fold[i] != f) continue;
      HYMIR_ASSIGN_OR_RETURN(std::vector<double> tuned, m->Score(groups[i]));
      HYMIR_ASSIGN_OR_RETURN(std::vector<double> base, baseline.Score(groups[i]));
      gains[i] = GroupNdcg(groups[i], tuned) - GroupNdcg(groups[i], base);
      sum += gains[i];
      ++n;
    }
    if (progress) {
      char line[128];
      std::snprintf(line, sizeof line, "fold %d/%d: %zu queries, mean out-of-fold gain %+.4f", f + 1, folds, n,
                    n ? sum / n : 0.0);
      progress(line);
    }
  }
  return gains;
}

Result<FusionChoice> ChooseFusionWeight(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                                        const MoeTrainOptions& options, const MoeModel& anchor, int folds,
                                        const std::vector<double>& grid,
                                        const std::function<void(const std::string&)>& progress) {
  if (folds < 2) return Status::InvalidArgument("choosing the fusion weight needs at least 2 folds");
  if (grid.empty()) return Status::InvalidArgument("choosing the fusion weight needs at least one weight");
  for (double w : grid)
    if (!(w >= 0.0 && w <= 1.0)) return Status::InvalidArgument("fusion weights must be in [0, 1]");
  MoeTrainOptions scratch = options;
  scratch.init = nullptr;
  // per grid weight: summed nDCG@10 and count per domain (-1: no domain)
  std::vector<std::map<int, std::pair<double, size_t>>> sums(grid.size());
  for (int f = 0; f < folds; ++f) {
    std::vector<QueryGroup> rest;
    for (const QueryGroup& g : groups)
      if (static_cast<int>(QueryHash(g.query_id) % folds) != f) rest.push_back(g);
    if (rest.empty() || rest.size() == groups.size()) continue;
    auto m = TrainMoe(schema, rest, scratch);
    if (!m.ok()) return m.status().WithContext("fusion weight, fold " + std::to_string(f + 1));
    size_t n = 0;
    for (const QueryGroup& g : groups) {
      if (static_cast<int>(QueryHash(g.query_id) % folds) != f) continue;
      if (std::none_of(g.labels.begin(), g.labels.end(), [](double l) { return l > 0; })) continue;
      HYMIR_ASSIGN_OR_RETURN(std::vector<double> own, m->Score(g));
      HYMIR_ASSIGN_OR_RETURN(std::vector<double> base, anchor.Score(g));
      StandardiseList(own);
      StandardiseList(base);
      for (size_t k = 0; k < grid.size(); ++k) {
        std::vector<double> fused(own.size());
        for (size_t i = 0; i < own.size(); ++i) fused[i] = base[i] + grid[k] * (own[i] - base[i]);
        auto& [sum, count] = sums[k][g.domain];
        sum += GroupNdcg(g, fused);
        ++count;
      }
      ++n;
    }
    if (progress)
      progress("fold " + std::to_string(f + 1) + "/" + std::to_string(folds) + ": " + std::to_string(rest.size()) +
               " training queries, " + std::to_string(n) + " scored");
  }
  FusionChoice out;
  out.grid = grid;
  for (size_t k = 0; k < grid.size(); ++k) {
    // the per-domain mean when two or more domains are labelled, else the plain mean
    double total = 0, mean_of_domains = 0;
    size_t count = 0, domains = 0;
    for (const auto& [d, sc] : sums[k]) {
      total += sc.first;
      count += sc.second;
      if (d >= 0 && sc.second) {
        mean_of_domains += sc.first / static_cast<double>(sc.second);
        ++domains;
      }
    }
    out.ndcg.push_back(domains >= 2 ? mean_of_domains / static_cast<double>(domains)
                                    : (count ? total / static_cast<double>(count) : 0.0));
  }
  size_t best = 0;
  for (size_t k = 1; k < grid.size(); ++k)
    if (out.ndcg[k] > out.ndcg[best] || (out.ndcg[k] == out.ndcg[best] && grid[k] < grid[best])) best = k;
  out.weight = grid[best];
  return out;
}

}  // namespace hymir::ranking
