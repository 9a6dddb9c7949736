// hymir train: train the MoE re-ranker on judged training queries
// (hymir/train_reranker.h).
#include <hymir/beir.h>
#include <hymir/pipeline.h>
#include <hymir/ranking/qrels.h>
#include <hymir/train_reranker.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "commands.h"
#include "common/app.h"
#include "common/moe_flags.h"
#include "common/recorded.h"

namespace hymir::cli {
namespace {

struct TrainFlags {
  std::string index, queries, qrels, model, kg, init;
  std::string kg_uses = "default";  // --kg-uses: how --kg is used (KgUses)
  app::MoeTrainFlags moe;           // shape and training (shared with hymir-rerank-bench)
  size_t depth = 100;
  double balance_loss = 0.0, routing_loss = 0.0;
  int emb_dims = 16;
  FeatureConfig features;  // --sentence-features, --pair-query-features (shared with the bench)
  bool no_domains = false, no_expand = false;
  bool record = false;  // --record: the model (and --kg) become the index's recorded pipeline
  int threads = 0;
  // --trust (with --init): per-query trust, hymir/ranking/query_trust.h.
  bool trust = false;
  // --extend-gate (with --init): the gate also reads this index's query-embedding
  // components and domain features (MoeModel::WithQueryFeatures).
  bool extend_gate = false;
  // --fuse W|auto (with --init): knowledge fusion, MoeModel::set_fusion.
  std::string fuse;
  int fuse_folds = 3;
  int trust_folds = 3;
  ranking::QueryTrustConfig trust_config;
  // --choose (default): the configuration chosen by cross-validation, unless
  // a flag that sets it was given (ExplicitConfiguration).
  bool choose = true;
  int choose_folds = 3;
  bool domain_check = false;
};

// The flags that set what the automatic choice would choose: any of them
// given turns the choice off (explicit flags win).
const char* const kConfigurationFlags[] = {"--fuse",  "--trust",          "--extend-gate",         "--finetune-alpha",
                                           "--trees", "--boost-finetune", "--finetune-routed-only"};

// The library's options from the flags (the initial model is set by the caller).
Result<TrainRerankerOptions> ResolveOptions(const TrainFlags& f) {
  TrainRerankerOptions o;
  HYMIR_ASSIGN_OR_RETURN(o.train, f.moe.Resolve());
  o.train.objective.balance_loss = f.balance_loss;
  o.train.objective.routing_loss = f.routing_loss;
  o.depth = f.depth;
  o.features = f.features;
  o.features.query_embedding_dims = f.emb_dims;
  o.domain_features = !f.no_domains;
  o.expand = !f.no_expand;
  auto uses = ParseKgUses(f.kg_uses);
  if (!uses.ok()) return Status::InvalidArgument("--kg-uses: " + uses.status().message());
  if (f.kg_uses != "default") o.kg_uses = *uses;
  o.threads = f.threads;
  o.extend_gate = f.extend_gate;
  o.trust = f.trust;
  o.trust_folds = f.trust_folds;
  o.trust_config = f.trust_config;
  o.fuse_folds = f.fuse_folds;
  o.choose = f.choose;
  o.choose_folds = f.choose_folds;
  o.choose_domain_check = f.domain_check;
  if (f.fuse == "auto") {
    o.init_use = InitUse::kFuseAuto;
  } else if (!f.fuse.empty()) {
    char* end = nullptr;
    o.fuse_weight = std::strtod(f.fuse.c_str(), &end);
    if (end == f.fuse.c_str() || *end != '\0' || !(o.fuse_weight >= 0.0 && o.fuse_weight <= 1.0))
      return Status::InvalidArgument("--fuse: a weight in [0, 1] or auto, not '" + f.fuse + "'");
    o.init_use = InitUse::kFuseFixed;
  }
  o.progress = [](const std::string& line) { std::fprintf(stderr, "hymir train: %s\n", line.c_str()); };
  o.epoch_progress = [](const ranking::EpochReport& e) {
    std::fprintf(stderr, "epoch %3d  loss %.5f  valid nDCG@10 %.4f%s\n", e.epoch, e.train_loss, e.validation_ndcg,
                 e.best ? "  *" : "");
  };
  return o;
}

// The summary line on stdout.
void PrintSummary(const TrainFlags& f, const TrainRerankerOptions& o, const ranking::MoeModel& model,
                  const TrainRerankerReport& r, double seconds) {
  const ranking::TrainReport& report = r.train;
  const std::string refit =
      report.refit_queries ? ", refit on " + std::to_string(report.refit_queries) + " queries" : std::string();
  std::string shape;  // the optional model parts, when used
  if (r.model.ple_bins > 0) shape += ", PLE " + std::to_string(r.model.ple_bins) + " bins";
  if (r.model.linear_skip) shape += ", linear skip";
  if (r.model.list_context) shape += ", list context";
  if (model.trees().rounds() > 0) shape += ", boosted expert " + std::to_string(model.trees().rounds()) + " trees";
  const bool fusing = o.init_use != InitUse::kFineTune;
  if (o.choose) {
    if (r.fuse_weight > 0) {
      char fu[160];
      std::snprintf(fu, sizeof fu, ", fused with %s at weight %.2f", f.init.c_str(), r.fuse_weight);
      shape += fu;
    }
  } else if (fusing) {
    char fu[160];
    std::snprintf(fu, sizeof fu,
                  r.fuse_weight > 0 ? ", trained from scratch and fused with %s at weight %.2f"
                                    : ", fusion weight 0: %s alone is kept",
                  f.init.c_str(), r.fuse_weight);
    shape += fu;
  } else if (o.init && report.best_epoch > 0 && o.train.finetune_alpha < 1.0) {
    char wise[96];
    std::snprintf(wise, sizeof wise, ", weights %.2f of the way from the initial model", o.train.finetune_alpha);
    shape += wise;
  }
  if (f.trust) {
    char t[160];
    std::snprintf(t, sizeof t, ", per-query trust over %zu judged queries (%s)", r.trust_queries,
                  f.trust_config.gain_scale > 0 ? "coverage x out-of-fold gain" : "coverage");
    shape += t;
  }
  if (o.choose && report.epochs == 0) {  // the initial model, kept as it is
    std::printf("model %s: %s as it is, E=%d S=%d top-%d hidden %d, %.1f s\n", f.model.c_str(), f.init.c_str(),
                r.model.routed_experts, r.model.shared_experts, r.model.top_k, r.model.expert_hidden, seconds);
  } else {
    std::printf(
        "model %s: E=%d S=%d top-%d hidden %d%s, best epoch %d of %d, validation nDCG@10 %.4f "
        "(%zu train / %zu validation queries)%s, %.1f s\n",
        f.model.c_str(), r.model.routed_experts, r.model.shared_experts, r.model.top_k, r.model.expert_hidden,
        shape.c_str(), report.best_epoch, report.epochs, report.best_validation_ndcg, report.train_queries,
        report.validation_queries, refit.c_str(), seconds);
  }
  if (o.choose) {
    std::printf("chose: %s (of %zu candidates, %d-fold cross-validation on the judged queries)\n",
                r.candidates[r.chosen].name.c_str(), r.candidates.size(), o.choose_folds);
    std::printf("why: %s\n", r.why.c_str());
    std::printf("%-36s %8s %8s %8s %9s %9s  %s\n", "candidate", "macro", "gain", "se", "shortfall", "its se",
                "per fold");
    for (size_t c = 0; c < r.candidates.size(); ++c) {
      const auto& k = r.candidates[c];
      std::string folds;
      for (double v : k.folds) {
        char b[16];
        std::snprintf(b, sizeof b, " %.4f", v);
        folds += b;
      }
      std::printf("%-36s %8.4f %+8.4f %8.4f %+9.4f %9.4f %s%s\n", k.name.c_str(), k.macro, k.gain, k.se, k.shortfall,
                  k.shortfall_se, folds.c_str(), c == r.chosen ? "  *" : "");
    }
    if (!r.candidates.empty() && !r.candidates[0].worst_domain.empty()) {
      std::printf(
          "domain check (each judged domain held out in turn): worst held-out domain, gain over the initial "
          "model, its se\n");
      for (const auto& k : r.candidates)
        std::printf("%-36s %-12s %+8.4f %8.4f%s\n", k.name.c_str(), k.worst_domain.c_str(), k.worst_domain_gain,
                    k.worst_domain_se, k.barred_by_domain ? "  barred" : "");
    }
    for (const std::string& line : r.nested) std::printf("nested %s\n", line.c_str());
    std::printf("nested estimate: %.4f (%s: %.4f)\n", r.nested_chosen, r.candidates[0].name.c_str(), r.nested_start);
    std::printf(
        "(shortfall: the best admitted candidate's paired out-of-fold lead over this one; the cheapest candidate "
        "within one standard error of the best is chosen, in the table's order)\n");
  }
  if (r.score_micros_p50 > 0)
    std::printf("serving cost: %.0f us p50, %.0f us p99 to score 100 candidates (features given, one thread)\n",
                r.score_micros_p50, r.score_micros_p99);
  if (o.choose) {
    std::printf("candidates' scoring cost (us p50 per 100 candidates, one fold's model):");
    for (const auto& k : r.candidates) std::printf(" %s %.0f;", k.name.c_str(), k.score_micros);
    std::printf("\n");
  }
}

int RunTrain(const TrainFlags& f) {
  const auto t0 = std::chrono::steady_clock::now();
  auto options = ResolveOptions(f);
  if (!options.ok()) return app::Fail("train", options.status(), true);
  std::optional<ranking::MoeModel> init;
  if (!f.init.empty()) {
    auto m = ranking::MoeModel::Load(f.init);
    if (!m.ok()) return app::Fail("train", m.status());
    init = std::move(m).value();
    options->init = &*init;
  }
  if (Status s = options->Validate(); !s.ok()) return app::Fail("train", s, true);
  PipelineOptions popts;
  popts.index_dir = f.index;
  popts.kg_dir = f.kg;
  auto pipeline = Pipeline::Open(popts);
  if (!pipeline.ok()) return app::Fail("train", pipeline.status());
  const Engine& engine = (*pipeline)->engine();
  const KnowledgeContext* kg = (*pipeline)->kg();
  if (!kg) std::fprintf(stderr, "warning: no knowledge graph configured (--kg DIR): training without KG features\n");
  auto records = ReadQueries(f.queries);
  if (!records.ok()) return app::Fail("train", records.status());
  auto qrels = ranking::Qrels::Read(f.qrels);
  if (!qrels.ok()) return app::Fail("train", qrels.status());
  const std::vector<TrainingQuery> queries = JudgedQueries(*records, *qrels, &engine);
  if (queries.empty())
    return app::Fail("train", Status::InvalidArgument(f.qrels + ": judges none of the queries in " + f.queries));
  TrainRerankerReport report;
  auto model = TrainReranker(engine, queries, *qrels, *options, kg, &report);
  if (!model.ok()) return app::Fail("train", model.status(), model.status().IsInvalidArgument());
  if (Status s = model->Save(f.model); !s.ok()) return app::Fail("train", s);
  if (f.record) {
    if (Status s = app::RecordModel(f.index, f.model, f.kg); !s.ok()) return app::Fail("train", s);
  }
  PrintSummary(f, *options, *model, report,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return app::kExitOk;
}

// --init's options beyond the shared fine-tuning flags: gate extension,
// knowledge fusion and per-query trust.
void AddFineTuningFlags(CLI::App& cmd, TrainFlags& f) {
  const std::string group = app::kFineTuningGroup;
  cmd.add_flag("--choose,!--no-choose", f.choose,
               "Choose the configuration by cross-validation on the judged queries (default on; off when a flag "
               "that sets it is given: --fuse, --trust, --extend-gate, --finetune-alpha, --trees/--no-trees, "
               "--boost-finetune, --finetune-routed-only) (docs/training.md)");
  cmd.add_option("--choose-folds", f.choose_folds, "Folds of the automatic choice (default 3)")
      ->check(CLI::Range(2, 20))
      ->group(group);
  cmd.add_flag("--domain-check,!--no-domain-check", f.domain_check,
               "With --init and judged queries of 3 or more domains: the automatic choice also holds out each "
               "domain in turn and bars a candidate that loses on one: for judgements that do not cover every "
               "domain of the traffic (default off; docs/training.md)")
      ->group(group);
  cmd.add_flag("--extend-gate", f.extend_gate,
               "With --init: the gate also reads this index's query-embedding components (--embedding-dims) and "
               "domain features, starting from zero weights (docs/training.md)")
      ->group(group);
  cmd.add_option("--fuse", f.fuse,
                 "With --init: train a model from scratch (this index's full features) and serve it fused with the "
                 "pre-trained one at this weight in [0, 1], or 'auto': chosen by cross-validation on the judged "
                 "queries among 0, 0.25, 0.5, 0.75 (docs/training.md)")
      ->group(group);
  cmd.add_option("--fuse-folds", f.fuse_folds, "Folds for --fuse auto (default 3)")
      ->check(CLI::Range(2, 20))
      ->group(group);
  cmd.add_flag("--trust", f.trust,
               "With --init: per-query trust, the served score moves from the initial model's to the fine-tuned "
               "one's as far as the judged queries cover the query (docs/training.md)")
      ->group(group);
  cmd.add_option("--trust-folds", f.trust_folds, "Folds for the out-of-fold gains of --trust (default 3)")
      ->check(CLI::Range(2, 20))
      ->group(group);
  cmd.add_option("--trust-neighbours", f.trust_config.neighbours, "Judged queries averaged by --trust")
      ->check(CLI::Range(1, 1000))
      ->group(group);
  cmd.add_option("--trust-floor", f.trust_config.floor, "Mean cosine at which --trust starts")->group(group);
  cmd.add_option("--trust-width", f.trust_config.width, "Mean cosine above the floor at which trust is full")
      ->check(CLI::PositiveNumber)
      ->group(group);
  cmd.add_option("--trust-gain-scale", f.trust_config.gain_scale,
                 "Neighbourhood out-of-fold gain at which trust is full (0: coverage only)")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
  cmd.add_option("--trust-gain-shrink", f.trust_config.gain_shrink, "Shrinks the neighbourhood gain towards 0")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
}

}  // namespace

void AddTrainCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand("train", "Train the MoE re-ranker from judged training queries");
  // What a user needs, first; then the groups of advanced options.
  cmd->add_option("--index", f->index, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--queries", f->queries, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  cmd->add_option("--qrels", f->qrels, "Training judgements (BEIR tsv or TREC qrels)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", f->model, "Output model file")->required();
  CLI::Option* kg_opt = cmd->add_option("--kg", f->kg,
                                        "Knowledge graph directory: expands the queries and gives the gate the query's "
                                        "knowledge (see --kg-uses)")
                            ->check(CLI::ExistingDirectory);
  cmd->add_option("--init", f->init,
                  "Fine-tune this model (from hymir pretrain or hymir train): its features and shape are kept, "
                  "training starts from its weights")
      ->check(CLI::ExistingFile);
  cmd->add_flag(
      "--record", f->record,
      "Record the model (and --kg) in <index>/pipeline.json, so that `hymir search/serve --recorded` use them");
  cmd->add_option("--threads", f->threads, "Feature threads (default: all cores)")->check(CLI::Range(0, 1024));
  app::AddMoeTrainFlags(*cmd, f->moe);
  const std::string optimisation = app::kOptimisationGroup, balancing = app::kBalancingGroup;
  cmd->add_option("--validation", f->moe.options.validation_fraction,
                  "Share of training queries held out for early stopping (default 0.3)")
      ->check(CLI::Range(0.0, 0.9))
      ->group(optimisation);
  cmd->add_option("--balance-loss", f->balance_loss, "Batch-level balance loss weight (default 0)")
      ->check(CLI::NonNegativeNumber)
      ->group(balancing);
  cmd->add_option("--routing-loss", f->routing_loss, "Supervised routing loss weight from query domains (default 0)")
      ->check(CLI::NonNegativeNumber)
      ->group(balancing);
  AddFineTuningFlags(*cmd, *f);
  const std::string features = app::kFeaturesGroup;
  cmd->add_option("--depth", f->depth, "Candidates per query (default 100, the re-rank depth)")
      ->check(CLI::Range(1, 10000))
      ->group(features);
  cmd->add_option("--embedding-dims", f->emb_dims, "Query-embedding components fed to the gate (default 16)")
      ->check(CLI::Range(0, 4096))
      ->group(features);
  cmd->add_flag("--no-domain-features", f->no_domains, "No per-domain gate features")->group(features);
  cmd->add_flag("--no-expand", f->no_expand, "With --kg: no KG query expansion")->group(features);
  cmd->add_option("--kg-uses", f->kg_uses,
                  "With --kg: its uses, comma-separated: expand, features, gate, legacy, or none (default: "
                  "expand,gate, which measured best)")
      ->needs(kg_opt)
      ->group(features);
  app::AddFeatureFlags(*cmd, f->features);
  cmd->callback([f, cmd, exit_code] {
    for (const char* name : kConfigurationFlags)
      if (cmd->get_option(name)->count() > 0) f->choose = false;
    *exit_code = RunTrain(*f);
  });
}

}  // namespace hymir::cli
