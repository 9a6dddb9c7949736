// hymir train: train the MoE re-ranker on judged training queries.
#include <hymir/beir.h>
#include <hymir/engine.h>
#include <hymir/features.h>
#include <hymir/knowledge.h>
#include <hymir/pipeline.h>
#include <hymir/index/analyzer.h>
#include <hymir/ranking/moe_trainer.h>
#include <hymir/ranking/query_trust.h>
#include <hymir/ranking/qrels.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

#include "commands.h"
#include "common/app.h"
#include "common/moe_flags.h"
#include "common/query_vectors.h"
#include "common/recorded.h"

namespace hymir::cli {
namespace {

struct TrainFlags {
  std::string index, queries, qrels, model, kg, init;
  app::MoeTrainFlags moe;  // shape and training (shared with hymir-rerank-bench)
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
};

int RunTrain(const TrainFlags& f) {
  auto options = f.moe.Resolve();
  if (!options.ok()) return app::Fail("train", options.status(), true);
  PipelineOptions popts;
  popts.index_dir = f.index;
  popts.kg_dir = f.kg;
  auto pipeline = Pipeline::Open(popts);
  if (!pipeline.ok()) return app::Fail("train", pipeline.status());
  const Engine& engine = (*pipeline)->engine();
  const KnowledgeContext* kg = (*pipeline)->kg();
  if (!kg) std::fprintf(stderr, "warning: no knowledge graph configured (--kg DIR): training without KG features\n");
  auto queries = ReadQueries(f.queries);
  if (!queries.ok()) return app::Fail("train", queries.status());
  auto qrels = ranking::Qrels::Read(f.qrels);
  if (!qrels.ok()) return app::Fail("train", qrels.status());

  std::vector<HybridQuery> batch;
  std::vector<std::string> query_domains;
  for (const QueryRecord& r : *queries) {
    if (!qrels->Find(r.id)) continue;  // train only on judged queries
    HybridQuery q;
    q.id = r.id;
    q.text = r.text;
    app::SetQueryVector(r, "", engine, &q);
    if (kg && !f.no_expand) {
      auto added = kg->ExpandQuery(&q);
      if (!added.ok()) return app::Fail("train", added.status());
    }
    batch.push_back(std::move(q));
    query_domains.push_back(r.domain.value_or(""));
  }
  if (batch.empty()) return app::Fail("train", Status::InvalidArgument(f.qrels + ": judges none of the queries in " + f.queries));
  const auto t0 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "hymir train: retrieving top %zu for %zu judged queries\n", f.depth, batch.size());

  // The domain list comes from the corpus (documents retrieved for the
  // training queries); it names the per-domain gate features.
  FeatureConfig config = f.features;
  config.query_embedding_dims = f.emb_dims;
  config.kg = kg != nullptr;
  // Fine-tuning: the features (and the model's shape) are the initial model's.
  std::optional<ranking::MoeModel> init;
  if (!f.init.empty()) {
    auto m = ranking::MoeModel::Load(f.init);
    if (!m.ok()) return app::Fail("train", m.status());
    auto c = FeatureExtractor::ConfigFromSchema(m->schema());
    if (!c.ok()) return app::Fail("train", Status::InvalidArgument(f.init + ": " + c.status().message()));
    if (c->kg && !kg)
      return app::Fail("train", Status::InvalidArgument(f.init + " was pre-trained with KG features: give --kg DIR"));
    if (!c->kg && kg)
      std::fprintf(stderr, "warning: %s has no KG features: the KG only expands the queries\n", f.init.c_str());
    // --extend-gate: the corpus's own gate inputs join the pre-trained ones
    // (the domains are filled from the corpus below).
    if (f.extend_gate || !f.fuse.empty()) c->query_embedding_dims = f.emb_dims;
    config = *c;
    init = std::move(m).value();
    init->clear_trust();  // a model with trust data is fine-tuned from its own (fine-tuned) weights
  }
  if (f.trust && !init) return app::Fail("train", Status::InvalidArgument("--trust needs --init (a pre-trained model)"), true);
  if ((f.extend_gate || !f.fuse.empty()) && !init)
    return app::Fail("train", Status::InvalidArgument("--extend-gate and --fuse need --init (a pre-trained model)"), true);
  double fuse_weight = -1;  // < 0: auto
  if (!f.fuse.empty() && f.fuse != "auto") {
    char* end = nullptr;
    fuse_weight = std::strtod(f.fuse.c_str(), &end);
    if (end == f.fuse.c_str() || *end != '\0' || !(fuse_weight >= 0.0 && fuse_weight <= 1.0))
      return app::Fail("train", Status::InvalidArgument("--fuse: a weight in [0, 1] or auto, not '" + f.fuse + "'"), true);
  }
  if (!f.fuse.empty() && f.trust_config.gain_scale > 0)
    return app::Fail("train", Status::InvalidArgument("--fuse with --trust: coverage only (no --trust-gain-scale)"), true);
  auto hits = RetrieveCandidates(engine, batch, f.depth);
  if (!hits.ok()) return app::Fail("train", hits.status());
  const bool widen = f.extend_gate || !f.fuse.empty();
  if (!f.no_domains && (!init || widen)) {
    auto domains = FeatureExtractor::DomainsOf(engine, *hits);
    if (!domains.ok()) return app::Fail("train", domains.status());
    config.domains = std::move(domains).value();
  }
  auto extractor = FeatureExtractor::Create(engine, config, kg);
  if (!extractor.ok()) return app::Fail("train", extractor.status());
  auto groups = (*extractor)->ExtractBatch(batch, *hits, f.threads);
  if (!groups.ok()) return app::Fail("train", groups.status());
  const size_t with_relevant = LabelForTraining(*groups, *qrels, query_domains, config.domains);
  const double feature_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr,
               "hymir train: %zu queries (%zu with a relevant candidate in the top %zu), %zu pair + %zu query "
               "features, %.1f s\n",
               groups->size(), with_relevant, f.depth, (*extractor)->schema().pair_dim(),
               (*extractor)->schema().query_dim(), feature_seconds);

  const std::optional<ranking::MoeModel> pretrained = init;  // before widening (--fuse 0 returns it)
  if (widen && (*extractor)->schema() != init->schema()) {
    const ranking::MoeConfig& c = init->config();
    auto wider = init->WithQueryFeatures((*extractor)->schema(),
                                         ranking::FitNormalization((*extractor)->schema(), *groups, c.log_inputs, c.ple_bins));
    if (!wider.ok()) return app::Fail("train", Status::InvalidArgument(f.init + ": " + wider.status().message()));
    std::fprintf(stderr, "hymir train: the gate also reads %zu features of this index\n",
                 wider->schema().query_dim() - init->schema().query_dim());
    init = std::move(wider).value();
  }
  ranking::MoeTrainOptions o = *options;
  o.objective.balance_loss = f.balance_loss;
  o.objective.routing_loss = f.routing_loss;
  const bool fusing = !f.fuse.empty();  // a model from scratch, fused with the pre-trained one
  if (init && !fusing) {
    o.init = &*init;
    o.model = init->config();
  }
  ranking::TrainReport report;
  auto model = ranking::TrainMoe((*extractor)->schema(), *groups, o, &report, [](const ranking::EpochReport& e) {
    std::fprintf(stderr, "epoch %3d  loss %.5f  valid nDCG@10 %.4f%s\n", e.epoch, e.train_loss, e.validation_ndcg,
                 e.best ? "  *" : "");
  });
  if (!model.ok()) return app::Fail("train", model.status(), model.status().IsInvalidArgument());
  if (fusing && fuse_weight < 0) {
    auto choice = ranking::ChooseFusionWeight(
        (*extractor)->schema(), *groups, o, *init, f.fuse_folds, {0.0, 0.25, 0.5, 0.75},
        [](const std::string& line) { std::fprintf(stderr, "hymir train: fusion %s\n", line.c_str()); });
    if (!choice.ok()) return app::Fail("train", choice.status());
    for (size_t k = 0; k < choice->grid.size(); ++k)
      std::fprintf(stderr, "hymir train: fusion weight %.2f: cross-validated nDCG@10 %.4f%s\n", choice->grid[k],
                   choice->ndcg[k], choice->grid[k] == choice->weight ? "  *" : "");
    fuse_weight = choice->weight;
  }
  if (f.trust) {
    std::vector<double> gains;
    if (f.trust_config.gain_scale > 0) {
      auto g = ranking::OutOfFoldGains((*extractor)->schema(), *groups, o, *init, f.trust_folds,
                                       [](const std::string& line) { std::fprintf(stderr, "hymir train: trust %s\n", line.c_str()); });
      if (!g.ok()) return app::Fail("train", g.status());
      gains = std::move(g).value();
    }
    std::map<std::string, const HybridQuery*> by_id;
    for (const auto& q : batch) by_id[q.id] = &q;
    std::vector<std::vector<std::string>> judged;
    for (const auto& g : *groups)
      judged.push_back(index::Analyze(engine.searcher().analyzer(), by_id.at(g.query_id)->text));
    auto trust = ranking::QueryTrust::Build(judged, std::move(gains), f.trust_config);
    if (!trust.ok()) return app::Fail("train", trust.status(), true);
    if (fusing) {
      if (fuse_weight > 0) {
        if (Status s = model->set_fusion(*init, fuse_weight, std::move(trust).value()); !s.ok())
          return app::Fail("train", s);
      }
    } else if (Status s = model->set_trust(*init, std::move(trust).value()); !s.ok()) {
      return app::Fail("train", s);
    }
  } else if (fusing && fuse_weight > 0) {
    if (Status s = model->set_fusion(*init, fuse_weight); !s.ok()) return app::Fail("train", s);
  }
  if (fusing && fuse_weight == 0) model = *pretrained;  // the pre-trained model alone
  if (Status s = model->Save(f.model); !s.ok()) return app::Fail("train", s);
  if (f.record) {
    if (Status s = app::RecordModel(f.index, f.model, f.kg); !s.ok()) return app::Fail("train", s);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string refit =
      report.refit_queries ? ", refit on " + std::to_string(report.refit_queries) + " queries" : std::string();
  std::string shape;  // the optional model parts, when used
  if (o.model.ple_bins > 0) shape += ", PLE " + std::to_string(o.model.ple_bins) + " bins";
  if (o.model.linear_skip) shape += ", linear skip";
  if (o.model.list_context) shape += ", list context";
  if (model->trees().rounds() > 0) shape += ", boosted expert " + std::to_string(model->trees().rounds()) + " trees";
  if (fusing) {
    char fu[160];
    std::snprintf(fu, sizeof fu, fuse_weight > 0 ? ", trained from scratch and fused with %s at weight %.2f"
                                                 : ", fusion weight 0: %s alone is kept",
                  f.init.c_str(), fuse_weight);
    shape += fu;
  } else if (init && report.best_epoch > 0 && o.finetune_alpha < 1.0) {
    char wise[96];
    std::snprintf(wise, sizeof wise, ", weights %.2f of the way from the initial model", o.finetune_alpha);
    shape += wise;
  }
  if (f.trust) {
    char t[160];
    std::snprintf(t, sizeof t, ", per-query trust over %zu judged queries (%s)", model->trust().size(),
                  f.trust_config.gain_scale > 0 ? "coverage x out-of-fold gain" : "coverage");
    shape += t;
  }
  std::printf("model %s: E=%d S=%d top-%d hidden %d%s, best epoch %d of %d, validation nDCG@10 %.4f "
              "(%zu train / %zu validation queries)%s, %.1f s\n",
              f.model.c_str(), o.model.routed_experts, o.model.shared_experts, o.model.top_k, o.model.expert_hidden,
              shape.c_str(), report.best_epoch, report.epochs,
              report.best_validation_ndcg, report.train_queries, report.validation_queries, refit.c_str(), seconds);
  return app::kExitOk;
}

}  // namespace

void AddTrainCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand("train", "Train the MoE re-ranker from judged training queries");
  cmd->add_option("--index", f->index, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--queries", f->queries, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  cmd->add_option("--qrels", f->qrels, "Training judgements (BEIR tsv or TREC qrels)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", f->model, "Output model file")->required();
  cmd->add_option("--kg", f->kg, "Knowledge graph directory: adds KG features (and expansion)")->check(CLI::ExistingDirectory);
  cmd->add_flag("--record", f->record,
                "Record the model (and --kg) in <index>/pipeline.json, so that `hymir search/serve --recorded` use them");
  cmd->add_flag("--no-expand", f->no_expand, "With --kg: no KG query expansion");
  cmd->add_option("--init", f->init,
                  "Fine-tune this model (from hymir pretrain or hymir train): its features and shape are kept, "
                  "training starts from its weights")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--trust", f->trust,
               "With --init: per-query trust, the served score moves from the initial model's to the fine-tuned "
               "one's as far as the judged queries cover the query (docs/training.md)");
  cmd->add_flag("--extend-gate", f->extend_gate,
               "With --init: the gate also reads this index's query-embedding components (--embedding-dims) and "
               "domain features, starting from zero weights (docs/training.md)");
  cmd->add_option("--fuse", f->fuse,
                  "With --init: train a model from scratch (this index's full features) and serve it fused with the "
                  "pre-trained one at this weight in [0, 1], or 'auto': chosen by cross-validation on the judged "
                  "queries among 0, 0.25, 0.5, 0.75 (docs/training.md)");
  cmd->add_option("--fuse-folds", f->fuse_folds, "Folds for --fuse auto (default 3)")->check(CLI::Range(2, 20));
  cmd->add_option("--trust-folds", f->trust_folds, "Folds for the out-of-fold gains of --trust (default 3)")
      ->check(CLI::Range(2, 20));
  cmd->add_option("--trust-neighbours", f->trust_config.neighbours, "Judged queries averaged by --trust")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--trust-floor", f->trust_config.floor, "Mean cosine at which --trust starts");
  cmd->add_option("--trust-width", f->trust_config.width, "Mean cosine above the floor at which trust is full")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--trust-gain-scale", f->trust_config.gain_scale,
                  "Neighbourhood out-of-fold gain at which trust is full (0: coverage only)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--trust-gain-shrink", f->trust_config.gain_shrink, "Shrinks the neighbourhood gain towards 0")
      ->check(CLI::NonNegativeNumber);
  app::AddMoeTrainFlags(*cmd, f->moe);
  cmd->add_option("--validation", f->moe.options.validation_fraction, "Share of training queries held out for early stopping (default 0.3)")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--depth", f->depth, "Candidates per query (default 100, the re-rank depth)")->check(CLI::Range(1, 10000));
  cmd->add_option("--balance-loss", f->balance_loss, "Batch-level balance loss weight (default 0)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--routing-loss", f->routing_loss, "Supervised routing loss weight from query domains (default 0)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--embedding-dims", f->emb_dims, "Query-embedding components fed to the gate (default 16)")
      ->check(CLI::Range(0, 4096));
  app::AddFeatureFlags(*cmd, f->features);
  cmd->add_flag("--no-domain-features", f->no_domains, "No per-domain gate features");
  cmd->add_option("--threads", f->threads, "Feature threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([f, exit_code] { *exit_code = RunTrain(*f); });
}

}  // namespace hymir::cli
