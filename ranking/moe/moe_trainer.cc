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
      const double delta = std::abs((std::pow(2.0, g.labels[i]) - std::pow(2.0, g.labels[j])) *
                                    (discount[i] - discount[j])) / idcg;
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

double BatchObjective(const MoeModel& model, std::span<const QueryGroup* const> batch,
                      const ObjectiveOptions& options, std::vector<double>* grad, std::pair<int, int> part) {
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
    const std::vector<int>& chosen = b % workers == worker ? forwards[b].routing.chosen
                                                            : model.Route(batch[b]->query_features).value().chosen;
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

Normalization FitNormalization(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                               bool log_inputs, int ple_bins) {
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
  fit(d, [&](auto&& visit) {
    for (const auto& g : groups)
      for (size_t i = 0; i < g.size(); ++i) visit(g.row(i, d));
  }, n.pair_mean, n.pair_scale);
  fit(q, [&](auto&& visit) {
    for (const auto& g : groups) visit(g.query_features.data());
  }, n.query_mean, n.query_scale);
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

// TrainMoe before the fine-tuning interpolation.
Result<MoeModel> TrainMoeWeights(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                                 const MoeTrainOptions& options, TrainReport* report,
                                 const std::function<void(const EpochReport&)>& progress) {
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
  const MoeConfig config = options.init ? options.init->config() : options.model;
  // A model to start from: the initial one, or a fresh one normalised on `groups`.
  auto start = [&]() -> Result<MoeModel> {
    if (options.init) return *options.init;  // its retrieval prior included: validation sees what search will
    HYMIR_ASSIGN_OR_RETURN(MoeModel m, MoeModel::Create(config, schema, options.seed));
    m.set_normalization(FitNormalization(schema, groups, config.log_inputs, config.ple_bins));
    return m;
  };
  HYMIR_ASSIGN_OR_RETURN(MoeModel model, start());

  // Queries with a relevant candidate, split into train and validation.
  // Domain balancing works on copies with adjusted weights.
  std::vector<QueryGroup> weighted;
  const std::vector<QueryGroup>* source = &groups;
  if (options.balance_domains) {
    std::map<int, size_t> per_domain;
    size_t labelled = 0;
    for (const auto& g : groups)
      if (g.domain >= 0 && HasRelevant(g)) ++per_domain[g.domain], ++labelled;
    if (per_domain.size() > 1) {
      // Domain d's queries weigh c * n_d^(power - 1) each, so the domain's
      // total is proportional to n_d^power; c keeps the mean weight at 1.
      const double power = std::clamp(options.domain_balance_power, 0.0, 1.0);
      double z = 0;
      for (const auto& [d, n] : per_domain) z += std::pow(static_cast<double>(n), power);
      weighted = groups;
      for (auto& g : weighted) {
        if (g.domain < 0 || !per_domain.count(g.domain)) continue;
        g.weight *= static_cast<double>(labelled) / z *
                    std::pow(static_cast<double>(per_domain[g.domain]), power - 1.0);
      }
      source = &weighted;
    }
  }
  std::vector<const QueryGroup*> usable;
  for (const auto& g : *source)
    if (HasRelevant(g)) usable.push_back(&g);
  if (usable.empty()) return Status::InvalidArgument("training: no query has a relevant candidate");
  std::mt19937_64 rng(options.seed);
  std::shuffle(usable.begin(), usable.end(), rng);
  // Validation: the same fraction of every domain (stratified), so small
  // domains are represented; none when there are under 10 queries.
  std::vector<const QueryGroup*> valid, train;
  {
    std::map<int, std::vector<const QueryGroup*>> by_domain;
    for (const QueryGroup* g : usable) by_domain[g->domain].push_back(g);
    for (auto& [d, list] : by_domain) {
      size_t n_valid = static_cast<size_t>(std::floor(options.validation_fraction * list.size()));
      if (usable.size() < 10) n_valid = 0;
      valid.insert(valid.end(), list.begin(), list.begin() + n_valid);
      train.insert(train.end(), list.begin() + n_valid, list.end());
    }
  }
  TrainReport local;
  TrainReport& rep = report ? *report : local;
  rep = TrainReport{};
  rep.train_queries = train.size();
  rep.validation_queries = valid.size();

  // Mean nDCG@10 of the validation queries; with balance_domains the mean
  // of per-domain means (macro), the figure the balancing aims at.
  auto validation_ndcg = [&]() {
    const auto& set = valid.empty() ? train : valid;
    std::map<int, std::pair<double, size_t>> by;
    for (const QueryGroup* g : set) {
      auto& [sum, n] = by[options.balance_domains ? g->domain : 0];
      sum += GroupNdcg(*g, model.Score(*g).value(), 10);
      ++n;
    }
    double total = 0;
    for (const auto& [d, v] : by) total += v.first / static_cast<double>(v.second);
    return total / static_cast<double>(by.size());
  };

  // The boosted shared expert: trees fitted on `fit`, the round count chosen
  // on `check` (rounds < 0) or given; from scratch the experts' outputs then
  // start at 0; from `init` the trees learn what the initial model (their
  // offset) gets wrong and are appended to any it has.
  const bool grow_trees = options.init != nullptr ? options.tree_finetune : options.tree_expert;
  TreeBoostReport tree_rep;
  auto grow = [&](MoeModel& m, const std::vector<const QueryGroup*>& fit, const std::vector<const QueryGroup*>& check,
                  int rounds) -> Status {
    auto lists = [&](const std::vector<const QueryGroup*>& set) -> Result<std::vector<TreeList>> {
      std::vector<TreeList> out(set.size());
      for (size_t i = 0; i < set.size(); ++i) {
        HYMIR_RETURN_IF_ERROR(m.TreeInputs(*set[i], out[i].x));
        out[i].labels = set[i]->labels;
        out[i].weight = options.tree_domain_balance ? set[i]->weight : 1.0;
        out[i].domain = set[i]->domain;
        if (options.init != nullptr) {
          HYMIR_ASSIGN_OR_RETURN(MoeModel::Forward f, options.init->RunForward(*set[i]));
          out[i].offset = std::move(f.scores);
        }
      }
      return out;
    };
    TreeBoostOptions o = options.trees;
    o.seed = options.seed;
    if (rounds >= 0) o.max_rounds = rounds;
    HYMIR_ASSIGN_OR_RETURN(std::vector<TreeList> fl, lists(fit));
    HYMIR_ASSIGN_OR_RETURN(std::vector<TreeList> cl, lists(check));
    const bool macro = options.balance_domains && options.tree_domain_balance;
    HYMIR_ASSIGN_OR_RETURN(BoostedTrees trees,
                           TrainBoostedTrees(fl, cl, m.tree_dim(), o, macro, rounds < 0 ? &tree_rep : nullptr));
    if (options.init != nullptr) {
      BoostedTrees all = options.init->trees();
      HYMIR_RETURN_IF_ERROR(all.Append(trees));
      return m.set_trees(std::move(all));
    }
    HYMIR_RETURN_IF_ERROR(m.set_trees(std::move(trees)));
    for (int x = 0; x < config.routed_experts + config.shared_experts; ++x) m.ZeroExpertOutput(x);
    return Status::OK();
  };
  if (grow_trees) {
    HYMIR_RETURN_IF_ERROR(grow(model, train, valid, -1));
    rep.tree_rounds = tree_rep.best_round;
    rep.tree_validation_ndcg = tree_rep.best_validation_ndcg;
  }

  const int e = config.routed_experts;
  const bool routed_only = options.init != nullptr && options.finetune_routed_only;
  const size_t bq = std::max<size_t>(1, options.batch_queries);
  const int warmup = config.top_k < e ? std::max(0, options.dense_warmup_epochs) : 0;
  // One pass over `set` in shuffled batches, Adam state in `adam`; returns
  // the mean batch loss. During the dense warm-up every expert is routed.
  struct Adam {
    std::vector<double> m, v;
    std::vector<double> ema;  // exponential moving average of the weights
    long step = 0;
  };
  const double ema_decay = std::clamp(options.ema_decay, 0.0, 0.9999);
  std::vector<double> grad;
  std::vector<QueryGroup> noisy;
  std::vector<const QueryGroup*> noisy_ptrs;
  auto run_epoch = [&](MoeModel& net, std::vector<const QueryGroup*>& set, Adam& adam, std::mt19937_64& gen,
                       int epoch) {
    const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    const size_t p = net.parameters().size();
    // Routed-only fine-tuning: the routed experts come first in the layout,
    // so only parameters [0, trainable) move.
    const size_t trainable = routed_only ? static_cast<size_t>(e) * net.expert_parameters() : p;
    if (adam.m.size() != p) adam.m.assign(p, 0.0), adam.v.assign(p, 0.0), adam.ema = net.parameters();
    net.set_top_k(epoch <= warmup ? e : config.top_k);
    std::shuffle(set.begin(), set.end(), gen);
    double epoch_loss = 0;
    size_t batches = 0;
    for (size_t start = 0; start < set.size(); start += bq) {
      std::span<const QueryGroup* const> batch(set.data() + start, std::min(bq, set.size() - start));
      if (options.input_noise > 0) batch = AddInputNoise(net, batch, options.input_noise, gen, noisy, noisy_ptrs);
      if (dp.workers > 1) {
        // This worker's share, then the sums over all workers (the loss rides
        // as the last element).
        double part = BatchObjective(net, batch, options.objective, &grad, {dp.worker, dp.workers});
        grad.push_back(part);
        if (Status s = dp.all_reduce(grad); !s.ok()) return Result<double>(s);
        if (grad.size() != p + 1) return Result<double>(Status::Internal("data-parallel all-reduce changed the size"));
        epoch_loss += grad.back();
        grad.pop_back();
      } else {
        epoch_loss += BatchObjective(net, batch, options.objective, &grad);
      }
      ++batches;
      ++adam.step;
      auto& w = net.parameters();
      const double c1 = 1.0 - std::pow(beta1, static_cast<double>(adam.step));
      const double c2 = 1.0 - std::pow(beta2, static_cast<double>(adam.step));
      for (size_t i = 0; i < trainable; ++i) {
        adam.m[i] = beta1 * adam.m[i] + (1 - beta1) * grad[i];
        adam.v[i] = beta2 * adam.v[i] + (1 - beta2) * grad[i] * grad[i];
        w[i] -= options.learning_rate *
                ((adam.m[i] / c1) / (std::sqrt(adam.v[i] / c2) + eps) + options.weight_decay * w[i]);
      }
      if (ema_decay > 0) {
        // Warm-up of the average (as in TensorFlow's moving averages): the
        // effective decay is min(decay, (1 + t) / (10 + t)).
        const double d = std::min(ema_decay, (1.0 + adam.step) / (10.0 + adam.step));
        for (size_t i = 0; i < p; ++i) adam.ema[i] = d * adam.ema[i] + (1 - d) * w[i];
      }
      if (options.bias_update_rate > 0 && e > 1 && epoch > warmup && !routed_only) {
        std::vector<double> load(e, 0.0);
        double total = 0;
        for (const QueryGroup* g : batch) {
          const double w = options.weighted_load ? g->weight : 1.0;
          const Routing routing = net.Route(g->query_features).value();
          for (int c : routing.chosen) load[c] += w;
          total += w;
        }
        const double mean_load = total * config.top_k / e;
        std::vector<double> bias = net.selection_bias();
        for (int i = 0; i < e; ++i) {
          if (load[i] < mean_load) bias[i] += options.bias_update_rate;
          else if (load[i] > mean_load) bias[i] -= options.bias_update_rate;
        }
        net.set_selection_bias(std::move(bias));
      }
    }
    net.set_top_k(config.top_k);
    return Result<double>(batches ? epoch_loss / static_cast<double>(batches) : 0.0);
  };

  Adam adam;
  std::vector<double> best_params = model.parameters();
  std::vector<double> best_bias = model.selection_bias();
  double best = -1;
  int since_best = 0;
  // Fine-tuning: the initial model is epoch 0, so training that never beats
  // it on the validation queries returns it unchanged.
  // So is the boosted shared expert alone.
  if ((options.init != nullptr || grow_trees) && !valid.empty()) best = validation_ndcg();
  for (int epoch = 1; epoch <= options.max_epochs + warmup; ++epoch) {
    EpochReport er;
    er.epoch = epoch;
    HYMIR_ASSIGN_OR_RETURN(er.train_loss, run_epoch(model, train, adam, rng, epoch));
    if (ema_decay > 0) std::swap(model.parameters(), adam.ema);  // judge (and keep) the averaged weights
    er.validation_ndcg = validation_ndcg();
    if (epoch > warmup && er.validation_ndcg > best) {
      best = er.validation_ndcg;
      best_params = model.parameters();
      best_bias = model.selection_bias();
      rep.best_epoch = epoch;
      since_best = 0;
      er.best = true;
    } else if (epoch > warmup) {
      ++since_best;
    }
    if (ema_decay > 0) std::swap(model.parameters(), adam.ema);
    rep.history.push_back(er);
    rep.epochs = epoch;
    if (progress) progress(er);
    if (since_best >= options.patience) break;
  }
  std::vector<const QueryGroup*> all = train;
  all.insert(all.end(), valid.begin(), valid.end());
  if ((options.init != nullptr || grow_trees) && rep.best_epoch == 0) {
    rep.best_validation_ndcg = best;
    model.parameters() = std::move(best_params);  // the initial weights, never replaced
    model.set_selection_bias(std::move(best_bias));
    if (grow_trees && options.refit && !valid.empty()) {  // the trees alone, on every query
      HYMIR_RETURN_IF_ERROR(grow(model, all, {}, tree_rep.best_round));
      rep.refit_queries = all.size();
    }
    return model;
  }
  if (options.refit && !valid.empty()) {
    // The same schedule from scratch on every usable query, for the number
    // of epochs early stopping chose.
    HYMIR_ASSIGN_OR_RETURN(MoeModel fresh, start());
    fresh.set_normalization(model.normalization());
    if (grow_trees) HYMIR_RETURN_IF_ERROR(grow(fresh, all, {}, tree_rep.best_round));
    std::mt19937_64 refit_rng(options.seed + 1);
    Adam refit_adam;
    for (int epoch = 1; epoch <= rep.best_epoch; ++epoch) {
      HYMIR_RETURN_IF_ERROR(run_epoch(fresh, all, refit_adam, refit_rng, epoch).status());
    }
    if (ema_decay > 0) fresh.parameters() = refit_adam.ema;
    rep.refit_queries = all.size();
    rep.best_validation_ndcg = best;
    return fresh;
  }
  model.parameters() = std::move(best_params);
  model.set_selection_bias(std::move(best_bias));
  rep.best_validation_ndcg = best;
  return model;
}

}  // namespace

Result<MoeModel> TrainMoe(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                          const MoeTrainOptions& options, TrainReport* report,
                          const std::function<void(const EpochReport&)>& progress) {
  if (!(options.finetune_alpha >= 0.0 && options.finetune_alpha <= 1.0))
    return Status::InvalidArgument("fine-tuning: the interpolation weight must be in [0, 1]");
  HYMIR_ASSIGN_OR_RETURN(MoeModel model, TrainMoeWeights(schema, groups, options, report, progress));
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
    if (progress) progress("fold " + std::to_string(f + 1) + "/" + std::to_string(folds) + ": " +
                           std::to_string(rest.size()) + " training queries, " + std::to_string(n) + " scored");
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
