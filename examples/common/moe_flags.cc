#include "common/moe_flags.h"

namespace hymir::app {

Result<ranking::MoeTrainOptions> MoeTrainFlags::Resolve() const {
  ranking::MoeTrainOptions o = options;
  HYMIR_ASSIGN_OR_RETURN(o.objective.loss, ranking::ParseRankingLoss(loss));
  if (o.model.top_k > o.model.routed_experts) return Status::InvalidArgument("--top-k must not exceed --experts");
  return o;
}

namespace {

void AddShapeFlags(CLI::App& app, ranking::MoeConfig& m) {
  app.option_defaults()->group(kShapeGroup);
  app.add_option("--experts", m.routed_experts, "Routed experts E (default 8)")->check(CLI::Range(1, 256));
  app.add_option("--shared", m.shared_experts, "Shared experts S (default 1)")->check(CLI::Range(0, 64));
  app.add_option("--top-k", m.top_k, "Experts chosen per query K (default 2)")->check(CLI::Range(1, 256));
  app.add_option("--hidden", m.expert_hidden, "Hidden units per expert (default 32)")->check(CLI::Range(1, 4096));
  app.add_option("--gate-hidden", m.gate_hidden, "Gate hidden units; 0 = linear gate (default)")
      ->check(CLI::Range(0, 4096));
  app.add_flag("--log-inputs,!--no-log-inputs", m.log_inputs,
               "Features through sign(x) log(1+|x|) before normalisation (default on)");
  app.add_flag("--list-inputs,!--no-list-inputs", m.list_inputs,
               "Experts also read each pair feature standardised within its candidate list (default on)");
}

void AddOptimisationFlags(CLI::App& app, MoeTrainFlags& f) {
  ranking::MoeTrainOptions& o = f.options;
  app.option_defaults()->group(kOptimisationGroup);
  app.add_option("--epochs", o.max_epochs, "Maximum epochs (default 60)")->check(CLI::Range(1, 100000));
  app.add_option("--seed", o.seed, "Random seed (default 42)");
  app.add_option("--loss", f.loss, "lambdarank | softmax (default lambdarank)")
      ->check(CLI::IsMember({"softmax", "lambdarank"}));
  app.add_option("--patience", o.patience, "Early-stopping patience in epochs (default 8)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--lr", o.learning_rate, "Adam learning rate (default 0.001)")->check(CLI::PositiveNumber);
  app.add_option("--weight-decay", o.weight_decay, "Decoupled weight decay (default 0.001)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", o.batch_queries, "Queries per batch (default 32)")
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  app.add_flag("--refit,!--no-refit", o.refit,
               "After early stopping, retrain on train + validation queries for the chosen number of epochs "
               "(default on)");
}

void AddBalancingFlags(CLI::App& app, ranking::MoeTrainOptions& o) {
  app.option_defaults()->group(kBalancingGroup);
  app.add_option("--bias-rate", o.bias_update_rate,
                 "Aux-loss-free balancing: selection-bias step per batch; 0 = off (default 0.002)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--balance-domains,!--no-balance-domains", o.balance_domains,
               "Domain-balanced query weights (default on: every domain of the queries' `domain` field counts, "
               "and epochs are selected on macro nDCG); --no-balance-domains for plain weights");
  app.add_option("--balance-power", o.domain_balance_power,
                 "Domain balancing strength: a domain weighs n_d^power (0 = every domain equal; 1 = every query "
                 "equal; default 0.2)")
      ->check(CLI::Range(0.0, 1.0));
}

void AddTreeFlags(CLI::App& app, ranking::MoeTrainOptions& o) {
  app.option_defaults()->group(kTreesGroup);
  app.add_flag("--trees,!--no-trees", o.tree_expert,
               "A model trained from scratch gets a boosted shared expert: LambdaMART trees fitted first, the "
               "networks train on top of them (default on; not with hymir pretrain)");
  app.add_option("--tree-rounds", o.trees.max_rounds, "Boosted expert: at most this many trees (default 250)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--tree-depth", o.trees.max_depth, "Boosted expert: tree depth (default 6)")->check(CLI::Range(1, 16));
  app.add_option("--tree-lr", o.trees.learning_rate, "Boosted expert: shrinkage (default 0.1)")
      ->check(CLI::PositiveNumber);
  app.add_option("--tree-min-hessian", o.trees.min_child_hessian,
                 "Boosted expert: minimum hessian on each side of a split (default 1)")
      ->check(CLI::NonNegativeNumber);
}

void AddFineTuneFlags(CLI::App& app, ranking::MoeTrainOptions& o) {
  app.option_defaults()->group(kFineTuningGroup);
  app.add_option("--finetune-alpha", o.finetune_alpha,
                 "With --init: keep (1 - a) of the initial weights and a of the fine-tuned ones (WiSE-FT; "
                 "1 = plain fine-tuning; default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--finetune-routed-only", o.finetune_routed_only,
               "With --init: train only the routed experts; the gate, shared experts and routing stay as they are");
  app.add_flag("--boost-finetune,!--no-boost-finetune", o.tree_finetune,
               "With --init: also fit trees to what the initial model gets wrong (default off)");
}

// Measured against the defaults, beaten nowhere: listed last, in their own
// group.
void AddMeasuredFlags(CLI::App& app, ranking::MoeTrainOptions& o) {
  app.add_option("--ple-bins", o.model.ple_bins,
                 "Piecewise-linear encoding of each pair feature over this many quantile bins; 0 = off (default 0)")
      ->check(CLI::Range(0, 64))
      ->group(kMeasuredGroup);
  app.add_flag("--linear-skip,!--no-linear-skip", o.model.linear_skip,
               "Every expert adds a linear term over its inputs to its MLP output (default off)")
      ->group(kMeasuredGroup);
  app.add_flag("--list-context,!--no-list-context", o.model.list_context,
               "Latent cross with the candidate list: each expert's output weights are modulated by the list's mean "
               "hidden activation (default off)")
      ->group(kMeasuredGroup);
  app.add_option("--lambda-cutoff", o.objective.lambda_cutoff,
                 "LambdaRank measures |delta nDCG| at this cutoff; 0 = the whole list (default 0)")
      ->check(CLI::Range(0, 100000))
      ->group(kMeasuredGroup);
  app.add_option("--ema", o.ema_decay,
                 "Keep an exponential moving average of the weights (decay per step; default 0 = off)")
      ->check(CLI::Range(0.0, 0.9999))
      ->group(kMeasuredGroup);
  app.add_option("--input-noise", o.input_noise,
                 "Gaussian noise on normalised pair features while training (default 0)")
      ->check(CLI::Range(0.0, 10.0))
      ->group(kMeasuredGroup);
  app.add_flag("--weighted-load,!--no-weighted-load", o.weighted_load,
               "Selection-bias balancing counts each query's weight (after domain balancing) as its load (default off)")
      ->group(kMeasuredGroup);
  app.add_option("--dense-warmup", o.dense_warmup_epochs, "Epochs routed to every expert before top-k (default 0)")
      ->check(CLI::Range(0, 100000))
      ->group(kMeasuredGroup);
  app.add_flag("--tree-domain-balance,!--no-tree-domain-balance", o.tree_domain_balance,
               "Boosted expert: queries weigh as the networks' (domain-balanced) and trees are chosen on the macro "
               "validation nDCG (default off: every query counts the same)")
      ->group(kMeasuredGroup);
}

}  // namespace

void AddMoeTrainFlags(CLI::App& app, MoeTrainFlags& f) {
  // A flag given twice takes its last value, so scripts can append
  // overrides to a base set of flags (scripts/select_moe.sh does).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  AddShapeFlags(app, f.options.model);
  AddOptimisationFlags(app, f);
  AddBalancingFlags(app, f.options);
  AddTreeFlags(app, f.options);
  AddFineTuneFlags(app, f.options);
  AddMeasuredFlags(app, f.options);
  // CLI11's defaults, for the program's own flags that follow.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::Throw)->group("Options");
}

void AddFeatureFlags(CLI::App& app, FeatureConfig& c) {
  app.add_flag("--sentence-features,!--no-sentence-features", c.sentence_features,
               "Best-sentence features: idf-weighted query coverage and cosine to the query (default off)")
      ->group(kMeasuredGroup);
  app.add_flag("--pair-query-features,!--no-pair-query-features", c.pair_query_features,
               "Experts also see the query features (copied into every pair row), not only the gate (default off)")
      ->group(kFeaturesGroup);
}

}  // namespace hymir::app
