// hymir pretrain: pre-train the MoE re-ranker on the index's own documents,
// no judgements needed (hymir/pretrain.h).
#include <hymir/engine.h>
#include <hymir/knowledge.h>
#include <hymir/pretrain.h>

#include <cstdio>
#include <sstream>

#include "examples/cli/commands.h"
#include "examples/common/app.h"
#include "examples/common/moe_flags.h"

namespace hymir::cli {
namespace {

struct PretrainFlags {
  std::string index, model, kg, generators = "ict,title,terms", work_dir;
  app::MoeTrainFlags moe;
  PretrainOptions options;
  bool no_expand = false;
};

int RunPretrain(PretrainFlags& f) {
  auto train = f.moe.Resolve();
  if (!train.ok()) return app::Fail("pretrain", train.status(), true);
  PretrainOptions o = f.options;
  o.train = *train;
  o.work_dir = f.work_dir;
  o.generate.kinds.clear();
  std::stringstream list(f.generators);
  for (std::string name; std::getline(list, name, ',');) {
    auto k = ParsePseudoQueryKind(name);
    if (!k.ok()) return app::Fail("pretrain", k.status(), true);
    o.generate.kinds.push_back(*k);
  }
  if (o.generate.terms_min > o.generate.terms_max)
    return app::Fail("pretrain", Status::InvalidArgument("--terms-min must not exceed --terms-max"), true);
  auto engine = Engine::Open(f.index);
  if (!engine.ok()) return app::Fail("pretrain", engine.status());
  std::unique_ptr<KnowledgeContext> kg;
  if (!f.kg.empty()) {
    auto k = KnowledgeContext::Open(f.kg, (*engine)->searcher().analyzer());
    if (!k.ok()) return app::Fail("pretrain", k.status());
    kg = std::move(k).value();
  }
  o.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  PretrainReport report;
  auto model = Pretrain(**engine, f.index, o, kg.get(), &report);
  if (!model.ok()) return app::Fail("pretrain", model.status());
  if (Status s = model->Save(f.model); !s.ok()) return app::Fail("pretrain", s);
  const auto& c = model->config();
  const double seconds = report.generate_seconds + report.copy_seconds + report.feature_seconds + report.train_seconds;
  std::printf("model %s: E=%d S=%d top-%d hidden %d, %s pre-training on %zu pseudo-queries (%zu held out), "
              "best epoch %d, retrieval prior %.1f, %.1f pseudo-queries/s, %.1f s\n",
              f.model.c_str(), c.routed_experts, c.shared_experts, c.top_k, c.expert_hidden,
              o.cluster_experts ? "per-cluster expert" : "joint", report.train_queries, report.check_queries,
              report.joint.best_epoch, report.prior_weight, report.queries_per_second, seconds);
  for (const auto& k : report.checks)
    std::printf("held-out %-5s %4zu queries  nDCG@10 hybrid %.4f  model %.4f\n", PseudoQueryKindName(k.kind),
                k.queries, k.hybrid_ndcg, k.model_ndcg);
  return app::kExitOk;
}

}  // namespace

void AddPretrainCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<PretrainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "pretrain", "Pre-train the MoE re-ranker on pseudo-queries from the index's own documents (no judgements)");
  cmd->add_option("--index", f->index, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--model", f->model, "Output model file")->required();
  cmd->add_option("--kg", f->kg, "Knowledge graph directory: adds KG features (and expansion)")
      ->check(CLI::ExistingDirectory);
  app::AddMoeTrainFlags(*cmd, f->moe);
  PretrainOptions& o = f->options;
  cmd->add_option("--generators", f->generators, "Pseudo-query generators, comma-separated: ict,title,terms (default all)");
  cmd->add_option("--queries", o.generate.queries, "Pseudo-queries in all (default 2000)")
      ->check(CLI::Range(size_t{10}, size_t{10000000}));
  cmd->add_option("--terms-min", o.generate.terms_min, "terms generator: fewest words per query (default 2)")
      ->check(CLI::Range(1, 50));
  cmd->add_option("--terms-max", o.generate.terms_max, "terms generator: most words per query (default 5)")
      ->check(CLI::Range(1, 50));
  cmd->add_option("--depth", o.depth, "Candidates per pseudo-query (default 100, the re-rank depth)")
      ->check(CLI::Range(2, 10000));
  cmd->add_flag("--cluster-experts,!--joint", o.cluster_experts,
                "Pre-train each routed expert on its own k-means cluster of the corpus, then all together "
                "(default: joint)");
  cmd->add_option("--cluster-routing-loss", o.cluster_routing_loss,
                  "With --cluster-experts: routing loss towards each query's cluster in the joint stage (default 0.1)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--embedding-dims", o.features.query_embedding_dims,
                  "Query-embedding components fed to the gate (default 0: they do not transfer across corpora)")
      ->check(CLI::Range(0, 4096));
  cmd->add_flag("--domain-features", o.domain_features, "Per-domain gate features from the corpus's domain field");
  app::AddFeatureFlags(*cmd, o.features);
  cmd->add_option("--check", o.check_fraction, "Share of pseudo-queries held out to compare with hybrid (default 0.15)")
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_flag("--retrieval-prior,!--no-retrieval-prior", o.retrieval_prior,
                "Blend the model with the retrieval order, the weight chosen on held-out pseudo-queries (default on)");
  cmd->add_option("--work-dir", f->work_dir, "Where the training copy of the index is built (default: a temp dir)");
  cmd->add_flag("--keep-work-dir", o.keep_work_dir, "Keep the training copy of the index");
  cmd->add_option("--threads", o.threads, "Feature threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([f, exit_code] { *exit_code = RunPretrain(*f); });
}

}  // namespace hymir::cli
