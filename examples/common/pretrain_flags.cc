#include "common/pretrain_flags.h"

#include <cstdio>
#include <map>
#include <sstream>

namespace hymir::app {

Result<PretrainOptions> PretrainFlags::Resolve() const {
  PretrainOptions o = options;
  HYMIR_ASSIGN_OR_RETURN(o.train, moe.Resolve());
  o.work_dir = work_dir;
  o.generate.kinds.clear();
  std::stringstream list(generators);
  for (std::string name; std::getline(list, name, ',');) {
    HYMIR_ASSIGN_OR_RETURN(PseudoQueryKind k, ParsePseudoQueryKind(name));
    o.generate.kinds.push_back(k);
  }
  auto uses = ParseKgUses(kg_uses);
  if (!uses.ok()) return Status::InvalidArgument("--kg-uses: " + uses.status().message());
  o.kg_uses = *uses;
  if (o.generate.terms_min > o.generate.terms_max)
    return Status::InvalidArgument("--terms-min must not exceed --terms-max");
  return o;
}

PipelineOptions PretrainFlags::pipeline_options() const {
  PipelineOptions p;
  p.index_dir = index;
  p.kg_dir = kg;
  return p;
}

namespace {

void AddPseudoQueryFlags(CLI::App& cmd, PretrainFlags& f) {
  const std::string group = "Pseudo-queries";
  GeneratorOptions& g = f.options.generate;
  cmd.add_option("--generators", f.generators,
                 "Pseudo-query generators, comma-separated: ict,title,terms (default all)")
      ->group(group);
  cmd.add_option("--terms-min", g.terms_min, "terms generator: fewest words per query (default 2)")
      ->check(CLI::Range(1, 50))
      ->group(group);
  cmd.add_option("--terms-max", g.terms_max, "terms generator: most words per query (default 5)")
      ->check(CLI::Range(1, 50))
      ->group(group);
  cmd.add_option("--work-dir", f.work_dir, "Where the training copy of the index is built (default: a temp dir)")
      ->group(group);
  cmd.add_flag("--keep-work-dir", f.options.keep_work_dir, "Keep the training copy of the index")->group(group);
}

void AddStageFlags(CLI::App& cmd, PretrainOptions& o) {
  const std::string group = "Pre-training stages";
  cmd.add_flag("--cluster-experts,!--joint", o.cluster_experts,
               "Pre-train each routed expert on its own k-means cluster of the corpus, then all together (default; "
               "--joint trains everything together from the start; an index without vectors is always joint)")
      ->group(group);
  cmd.add_option("--cluster-routing-loss", o.cluster_routing_loss,
                 "Per-cluster pre-training: routing loss towards each query's cluster in the joint stage (default 0.1)")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
  cmd.add_option("--check", o.check_fraction, "Share of pseudo-queries held out to compare with hybrid (default 0.15)")
      ->check(CLI::Range(0.0, 0.5))
      ->group(group);
  cmd.add_flag("--retrieval-prior,!--no-retrieval-prior", o.retrieval_prior,
               "Blend the model with the retrieval order, the weight chosen on held-out pseudo-queries (default on)")
      ->group(group);
  cmd.add_option("--prior-confidence", o.prior_confidence,
                 "Standard errors subtracted from each held-out gain when choosing the retrieval-prior weight "
                 "(default 0: mean gains)")
      ->check(CLI::Range(0.0, 10.0))
      ->group(group);
  cmd.add_option("--prior-objective", o.prior_objective,
                 "What the retrieval-prior weight maximises on held-out pseudo-queries: worst (the worst "
                 "generator's gain) or mean (the mean over generators) (default mean)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, PriorObjective>{{"worst", PriorObjective::kWorstKind},
                                                                                {"mean", PriorObjective::kMeanKind}},
                                          CLI::ignore_case))
      ->group(group);
  cmd.add_option("--prior-floor", o.prior_floor, "Smallest retrieval-prior weight considered (default 0.2)")
      ->check(CLI::Range(0.0, 1.0))
      ->group(group);
}

void AddPretrainFeatureFlags(CLI::App& cmd, PretrainOptions& o) {
  cmd.add_option("--depth", o.depth, "Candidates per pseudo-query (default 100, the re-rank depth)")
      ->check(CLI::Range(2, 10000))
      ->group(kFeaturesGroup);
  cmd.add_option("--embedding-dims", o.features.query_embedding_dims,
                 "Query-embedding components fed to the gate (default 0: they do not transfer across corpora)")
      ->check(CLI::Range(0, 4096))
      ->group(kFeaturesGroup);
  cmd.add_flag("--domain-features", o.domain_features, "Per-domain gate features from the corpus's domain field")
      ->group(kFeaturesGroup);
  AddFeatureFlags(cmd, o.features);
}

}  // namespace

void AddPretrainFlags(CLI::App& cmd, PretrainFlags& f) {
  // What a user needs, first; then the groups of advanced options.
  cmd.add_option("--index", f.index, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd.add_option("--model", f.model, "Output model file")->required();
  cmd.add_option("--queries", f.options.generate.queries, "Pseudo-queries in all (default 2000)")
      ->check(CLI::Range(size_t{10}, size_t{10000000}));
  cmd.add_option("--kg", f.kg,
                 "Knowledge graph directory: expands the pseudo-queries, and the model gets KG fusion features and "
                 "gate inputs (see --kg-uses)")
      ->check(CLI::ExistingDirectory);
  cmd.add_option("--kg-uses", f.kg_uses,
                 "With --kg: its uses, comma-separated: expand, features, gate, pseudo-queries, legacy, or none "
                 "(default: those that measured well)")
      ->group("Pseudo-queries");
  cmd.add_flag("--record", f.record,
               "Record the model in <index>/pipeline.json, so that `hymir search/serve --recorded` re-rank with it");
  cmd.add_option("--threads", f.options.threads, "Feature threads (default: all cores)")->check(CLI::Range(0, 1024));
  AddPseudoQueryFlags(cmd, f);
  AddStageFlags(cmd, f.options);
  AddMoeTrainFlags(cmd, f.moe);
  AddPretrainFeatureFlags(cmd, f.options);
}

void PrintPretrainSummary(const std::string& path, const ranking::MoeModel& model, const PretrainReport& r) {
  const auto& c = model.config();
  const double seconds = r.generate_seconds + r.copy_seconds + r.feature_seconds + r.train_seconds;
  std::printf(
      "model %s: E=%d S=%d top-%d hidden %d, %s pre-training on %zu pseudo-queries (%zu held out), "
      "best epoch %d, retrieval prior %.1f, %.1f pseudo-queries/s, %.1f s (generate %.1f, training index "
      "%.1f, features %.1f, train %.1f)\n",
      path.c_str(), c.routed_experts, c.shared_experts, c.top_k, c.expert_hidden,
      r.cluster_sizes.empty() ? "joint" : "per-cluster expert", r.train_queries, r.check_queries, r.joint.best_epoch,
      r.prior_weight, r.queries_per_second, seconds, r.generate_seconds, r.copy_seconds, r.feature_seconds,
      r.train_seconds);
  for (const auto& k : r.checks)
    std::printf("held-out %-5s %4zu queries  nDCG@10 hybrid %.4f  model %.4f\n", PseudoQueryKindName(k.kind), k.queries,
                k.hybrid_ndcg, k.model_ndcg);
}

}  // namespace hymir::app
