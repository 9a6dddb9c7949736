// Training a MoeModel from judged candidate lists: listwise softmax or
// LambdaRank loss, Adam with decoupled weight decay, auxiliary-loss-free load
// balancing through the gate's selection bias, an optional batch-level
// balance loss and an optional supervised routing loss, early stopping on a
// validation slice of the training queries. Deterministic given the seed.
//
// Thread-safety: TrainMoe and BatchObjective are reentrant; the inputs must
// not change while they run.
#ifndef HYMIR_RANKING_MOE_TRAINER_H_
#define HYMIR_RANKING_MOE_TRAINER_H_

#include <cstdint>
#include <functional>
#include <utility>
#include <span>
#include <string>
#include <vector>

#include "hymir/ranking/boosted_trees.h"
#include "hymir/ranking/moe_model.h"
#include "hymir/ranking/ranking_data.h"
#include "hymir/result.h"

namespace hymir::ranking {

enum class RankingLoss {
  kSoftmax,     // listwise: cross-entropy between softmax(scores) and gains 2^l - 1
  kLambdaRank,  // pairwise logistic weighted by |delta nDCG| of swapping the pair
};

Result<RankingLoss> ParseRankingLoss(std::string_view name);  // softmax|lambdarank

// The terms of the training objective over a batch of queries.
struct ObjectiveOptions {
  // Default LambdaRank: on mixed (train split, validation slice) it beat the
  // listwise softmax loss for every model shape we tried (bench/results, re-ranker quality report).
  RankingLoss loss = RankingLoss::kLambdaRank;
  // Batch-level balance loss alpha * E * sum_e f_e * P_e, where f_e is the
  // share of the batch's routed slots that went to expert e and P_e the mean
  // normalised affinity s_e / sum s over the batch. Computed over the whole
  // batch, never per query (per-query balancing works against specialisation).
  double balance_loss = 0.0;
  // Supervised routing: beta * cross-entropy(softmax(gate logits), expert of
  // the query's domain), domain d -> routed expert d mod E; queries with
  // domain -1 contribute nothing.
  double routing_loss = 0.0;
  // LambdaRank's |delta nDCG| measured at this cutoff (discounts beyond it
  // are 0, the ideal DCG is cut there too): pairs ranked entirely below the
  // cutoff carry no gradient. 0 = the whole list (default: cutoffs 10 and
  // 20 did not beat it in cross-validation on mixed's train split).
  int lambda_cutoff = 0;
};

// Data-parallel training: `workers` processes (e.g. MPI ranks, see
// hymir::dist::DataParallelTraining) train on the same groups with the same
// options and seed. In every batch, worker w computes the loss and gradient
// of the batch positions b with b % workers == w, and `all_reduce` sums them
// over the workers in place (every worker calls it once per batch, with its
// partial sums: the gradient, then the loss as the last element). Every
// worker then takes the same step, so all end with the same model, equal to
// one process's up to the order of floating-point additions. Default: one
// worker (no all_reduce needed).
struct DataParallel {
  int workers = 1;
  int worker = 0;
  std::function<Status(std::vector<double>& values)> all_reduce;
};

// Mean loss over `batch` and, when `grad` is given, its gradient (resized to
// the parameter count and overwritten). Groups without a relevant candidate
// contribute no ranking loss. With `part` = {w, n}, only the batch positions
// b % n == w contribute (their share of the batch's mean; the shares of all
// w sum to the whole); the batch-level load of the balance loss is still
// counted over the whole batch.
double BatchObjective(const MoeModel& model, std::span<const QueryGroup* const> batch, const ObjectiveOptions& options,
                      std::vector<double>* grad, std::pair<int, int> part = {0, 1});

struct MoeTrainOptions {
  MoeConfig model;
  ObjectiveOptions objective;
  double learning_rate = 1e-3;
  double weight_decay = 1e-3;  // decoupled (AdamW)
  size_t batch_queries = 32;
  int max_epochs = 60;
  int patience = 8;  // epochs without a better validation nDCG@10
  // Share of the training queries held out (stratified by domain) for early
  // stopping. Default 0.3 (two-fold CV on mixed train: 0.4840 vs 0.4814 at 0.15).
  double validation_fraction = 0.3;
  // Aux-loss-free balancing: after each batch the selection bias of an
  // under-loaded expert rises by this much and of an over-loaded one falls.
  // 0 disables it. Default 0.002: with domain balancing it had the best
  // two-fold cross-validated macro nDCG@10 on mixed's train split
  // (scripts/select_moe.sh); without domain balancing it was worse than off.
  double bias_update_rate = 0.002;
  // Expert load for the balancing above: false = each query counts 1; true
  // = each query counts its weight (QueryGroup::weight after domain
  // balancing), so a large, down-weighted domain may settle in fewer
  // experts instead of being spread over all of them. Off by default
  // (three-fold cross-validation on mixed's train split: 0.4878 vs 0.4906).
  bool weighted_load = false;
  // Weight each query's ranking loss by N / (domains * queries of its
  // domain) so every domain (QueryGroup::domain) counts equally, and select
  // the epoch on the macro (per-domain mean) validation nDCG@10. A training
  // set dominated by one domain otherwise teaches the experts that domain.
  // No effect when fewer than two domains are labelled. Default: true (best
  // in two-fold cross-validation on mixed's train split, scripts/select_moe.sh).
  bool balance_domains = true;
  // With balance_domains: a domain with n_d training queries weighs in the
  // loss in proportion to n_d^power (each query n_d^(power-1), mean weight
  // 1). 0 = every domain equal; 1 = every query equal; in between softens
  // the balance (temperature sampling). Default 0.2: in cross-validation on
  // mixed's train split it kept the macro nDCG@10 of full balancing (0.4906
  // vs 0.4877) and raised the micro (0.6225 vs 0.6149).
  double domain_balance_power = 0.2;
  // Dense warm-up: the first N epochs route every query to all routed
  // experts (a dense mixture), so each expert first learns a general ranking,
  // then top_k routing takes over; epochs are selected (and patience counted)
  // only after the warm-up. 0 = off; no effect when top_k = routed_experts.
  int dense_warmup_epochs = 0;
  // Data augmentation: Gaussian noise of this standard deviation on every
  // pair feature in the model's normalised input space, fresh for each
  // batch (training only). 0 = off.
  double input_noise = 0.0;
  // Weight averaging: validate and keep an exponential moving average of the
  // weights (decay per batch step) instead of the last step's weights, which
  // smooths out the noise of small batches. 0 = off.
  double ema_decay = 0.0;
  // After early stopping, train a fresh model (same seed) on the train and
  // validation queries together for the chosen number of epochs, and return
  // that one: the held-out slice then also teaches the model (mixed has 15
  // MED training queries; without a refit 4 of them only pick the epoch).
  // Default on (cross-validation on mixed's train split: 0.4877 vs 0.4855).
  bool refit = true;
  uint64_t seed = 42;
  // Training split over several processes (see DataParallel). Default: one.
  DataParallel parallel;
  // Fine-tuning: start from this model (weights, normalisation, selection
  // bias and retrieval prior, which validation and the result keep) instead
  // of a random one with a normalisation fitted on `groups`. Its config
  // replaces `model`; its schema must equal the groups' schema. It counts as
  // epoch 0: when no epoch beats it on the validation queries, it is
  // returned unchanged (TrainReport::best_epoch 0). The refit starts from it
  // too. Borrowed: must outlive TrainMoe. Default: nullptr (from scratch).
  const MoeModel* init = nullptr;
  // With init: the returned weights are (1 - a) init + a fine-tuned
  // (MoeModel::Interpolate, WiSE-FT), a = finetune_alpha in [0, 1]. Judged
  // queries move the model only part of the way from the pre-trained one, so
  // what pre-training learnt about domains the judgements do not cover
  // survives. 1 = plain fine-tuning. Default 0.5, chosen on mixed's train
  // split only (scripts/select_finetune.sh, 3 seeds): the best mean of the
  // leave-one-domain-out and the three-fold macro nDCG@10 (0.4722 / 0.4786,
  // against 0.4555 / 0.4724 for plain fine-tuning) among the weights that
  // left no domain below hybrid when it was left out; on a second draw of
  // the pre-trained model 0.25 and 0.5 were within the noise (bench/results, pre-training report).
  double finetune_alpha = 0.5;
  // A boosted shared expert (MoeModel::set_trees) for a model trained from
  // scratch: before the networks train, gradient-boosted trees (LambdaMART,
  // `trees`; seed = `seed`) are fitted to the training queries, every query
  // counting the same, the number of trees chosen on the validation
  // queries' mean nDCG@10; every expert's output layer then starts at 0, so
  // the model starts as the trees (epoch 0, kept when no epoch beats it) and
  // the networks, with their domain-balanced weights, learn per-query-type
  // corrections on top. The refit grows the chosen number of trees on every
  // query. Default on: three-fold cross-validation on mixed's train split
  // 0.5015 macro / 0.6666 micro nDCG@10 against 0.4920 / 0.6229 without;
  // on scifact's 0.7107 against 0.6904 (bench/results, re-ranker quality report).
  bool tree_expert = true;
  // With `init` (boosted fine-tuning): the initial model's networks are
  // kept and trees are fitted to what it gets wrong (its scores are their
  // offset), appended to any trees it has; finetune_alpha then scales them
  // like the rest of what fine-tuning adds. Off by default: it gained in
  // cross-validation on the judged domains (scifact's train split 0.7358
  // with finetune_alpha 1) but, like any fine-tuning on them, lost on a
  // domain left out of the judgements (scifact 0.6696 against hybrid 0.6782).
  bool tree_finetune = false;
  TreeBoostOptions trees;
  // The boosted expert's queries weigh as the networks' (domain-balanced)
  // and its trees are chosen on the macro validation nDCG@10. Off by
  // default: in three-fold cross-validation on mixed's train split it
  // stopped after few trees (the macro over small domains' few validation
  // queries is noisy) and reached 0.4903 macro / 0.6266 micro nDCG@10,
  // against 0.5015 / 0.6666 with every query counting the same.
  bool tree_domain_balance = false;
  // With init: only the routed experts learn; the gate, the shared experts
  // and the selection bias keep their pre-trained values, so a query is
  // routed as before fine-tuning and a query whose experts no judged query
  // reached is scored as before.
  bool finetune_routed_only = false;
};

struct EpochReport {
  int epoch = 0;
  double train_loss = 0.0;
  // mean nDCG@10 over validation queries with a relevant candidate (per-domain
  // mean with balance_domains)
  double validation_ndcg = 0.0;
  bool best = false;
};

struct TrainReport {
  size_t train_queries = 0;
  size_t validation_queries = 0;
  int epochs = 0;
  int best_epoch = 0;
  double best_validation_ndcg = 0.0;
  std::vector<EpochReport> history;
  size_t refit_queries = 0;           // queries of the refit run (0 = no refit)
  int tree_rounds = 0;                // trees of the boosted shared expert (tree_expert)
  double tree_validation_ndcg = 0.0;  // the trees' validation nDCG@10 alone
};

// Feature means and standard deviations over every candidate (pair
// features) and every query (query features) of `groups`, of the
// log-transformed values when `log_inputs` (MoeConfig::log_inputs); a
// constant feature gets scale 1. With `ple_bins` = B > 0, also each pair
// feature's B + 1 bin edges: the 0, 1/B, ..., 1 quantiles of its normalised
// values over every candidate (MoeConfig::ple_bins).
Normalization FitNormalization(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                               bool log_inputs = false, int ple_bins = 0);

// Trains a model on `groups` (all must match `schema`; labels required).
// `progress` (optional) runs after every epoch on the calling thread.
Result<MoeModel> TrainMoe(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                          const MoeTrainOptions& options, TrainReport* report = nullptr,
                          const std::function<void(const EpochReport&)>& progress = {});

// Per group, the out-of-fold nDCG@10 gain (GroupNdcg) of training with
// `options` over `baseline`'s scores: the groups of fold f (FNV-1a of the
// query id, mod `folds`) are scored by a model trained on the other folds
// (`folds` trainings; per-query trust's gains, QueryTrust::Build). `progress`
// (optional) gets one line per fold. InvalidArgument for folds < 2.
Result<std::vector<double>> OutOfFoldGains(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                                           const MoeTrainOptions& options, const MoeModel& baseline, int folds,
                                           const std::function<void(const std::string&)>& progress = {});

// Knowledge fusion (MoeModel::set_fusion) of a pre-trained model with one
// trained from scratch on judgements: the fusion weight chosen by
// cross-validation on the judged groups. The groups of fold f (FNV-1a of the
// query id, mod `folds`) are scored by a model trained from scratch with
// `options` (its init is ignored) on the other folds, fused with `anchor`
// (which reads the groups' features) as (1 - w) z(anchor) + w z(model) per
// list for every w of `grid`; the w with the best mean nDCG@10 over the
// groups with a relevant candidate wins (the per-domain mean when the
// groups carry two or more domains; ties: the smaller w). w = 0 is the
// anchor alone. InvalidArgument for folds < 2, an empty grid, or a weight
// outside [0, 1].
struct FusionChoice {
  double weight = 0.0;
  std::vector<double> grid;
  std::vector<double> ndcg;  // cross-validated nDCG@10 of each grid weight
};
Result<FusionChoice> ChooseFusionWeight(const FeatureSchema& schema, const std::vector<QueryGroup>& groups,
                                        const MoeTrainOptions& options, const MoeModel& anchor, int folds,
                                        const std::vector<double>& grid,
                                        const std::function<void(const std::string&)>& progress = {});

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_MOE_TRAINER_H_
