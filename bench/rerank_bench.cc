// hymir-rerank-bench: learned re-rankers side by side on one collection, with
// the same features and the same train/test split: the retrievers alone (bm25,
// hybrid), a single MLP, dense / top-k / top-k + shared MoE models and an
// XGBoost LambdaMART baseline (when built with XGBoost). Prints nDCG@10 per
// query domain, macro and micro means and Recall@100 for each system, the
// top-k + shared model's routing (domain x top-1 expert, mutual information),
// and the cost of scoring and of feature extraction. A benchmark program, not
// a test.
//
//   build/bin/hymir-rerank-bench --index DIR --queries Q.jsonl --train-qrels TRAIN.tsv --test-qrels TEST.tsv
//       [--depth 100] [--kg DIR] [--seed 42] [--experts 8 --shared 1 --top-k 2 --hidden 32 --loss lambdarank]
//       [--routing-svg OUT.svg] [--threads N]
//   build/bin/hymir-rerank-bench --index DIR --queries Q.jsonl --train-qrels TRAIN.tsv --cv-folds 3 [--cv-seeds 3]
//       [--systems moe-topk-shared,lambdamart] [training flags]     # model selection on TRAIN only
//
// Feature groups are built once, as `hymir train` builds them: the engine's
// top-`depth` hits per query, the corpus domains (FeatureExtractor::DomainsOf)
// of the TRAIN queries' hits as the per-domain gate features, and the queries'
// `domain` field as the training groups' domain labels. Every system is
// evaluated on its own top-`depth` list (the re-rankers reorder the engine's
// top-`depth` candidates; nothing below the depth is appended).
#include <hymir/beir.h>
#include <hymir/engine.h>
#include <hymir/features.h>
#include <hymir/knowledge.h>
#include <hymir/pipeline.h>
#include <hymir/ranking/boosted_trees.h>
#include <hymir/ranking/metrics.h>
#include <hymir/ranking/moe_model.h>
#include <hymir/ranking/moe_trainer.h>
#include <hymir/ranking/qrels.h>
#include <hymir/ranking/query_trust.h>
#include <hymir/index/analyzer.h>
#include <hymir/ranking/ranking_data.h>
#include <hymir/ranking/routing_report.h>
#include <hymir/ranking/run.h>
#include <hymir/train_reranker.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "percentile.h"
#include "ranking/moe/standardise.h"
#include "common/moe_flags.h"

#ifdef HYMIR_HAVE_XGBOOST
#include "xgb_lambdamart.h"
#endif

namespace {

using namespace hymir;  // NOLINT(google-build-using-namespace): a benchmark program
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Flags {
  std::string index, queries, train_qrels, test_qrels, kg, routing_svg;
  // A pre-trained model (hymir pretrain): the features are its own, and the
  // systems "pretrained" (the model as it is) and "moe-finetuned" (trained
  // from it, MoeTrainOptions::init) join the others.
  std::string init;
  std::optional<ranking::MoeModel> init_model;
  // With init: also score the fine-tuned model interpolated back towards the
  // pre-trained one at each of these weights ("finetune-a" systems, no
  // retraining: MoeModel::Interpolate), for choosing --finetune-alpha.
  std::vector<double> alpha_grid;
  // With init: the gate also reads the index's query-embedding components
  // and domain features, from zero weights (hymir train --extend-gate).
  bool extend_gate = false;
  int emb_dims = 16;
  // With init, in --cv-folds mode: also score (1 - b) z(pre-trained) + b
  // z(moe-topk-shared trained from scratch) per list at each of these b
  // ("fuse-b" systems): knowledge fusion of the two models' rankings.
  std::vector<double> fuse_grid;
  size_t depth = 100;
  // The MoE shape and training, as `hymir train` takes them; its seed and
  // validation share also drive LambdaMART, and --refit applies to both.
  app::MoeTrainFlags moe;
  FeatureConfig features;  // --sentence-features, --pair-query-features (as hymir train)
  int xgb_rounds = 500;
  bool xgb_pair_only = false;
  bool xgb_importance = false;
  int threads = 0;
  int speed_reps = 3;
  // Cross-validation on the train split only (model selection): 0 = off.
  int cv_folds = 0;
  int cv_seeds = 1;
  bool cv_ensemble = false;
  // Folds are the train split's query domains (leave one domain out): each
  // fold trains on the other domains' queries and scores the left-out one.
  bool cv_by_domain = false;
  std::vector<std::string> keep_pair_features;  // ablation: only these pair features (CV mode)
  std::vector<std::string> systems;             // learned systems to run; empty = all
};

bool Wanted(const Flags& f, const std::string& name) {
  return f.systems.empty() || std::find(f.systems.begin(), f.systems.end(), name) != f.systems.end();
}

// ---------------------------------------------------------------------------
// Data: the judged queries of one split, their hits and feature groups.

struct Split : TrainingSet {
  std::string name;
  std::vector<std::vector<std::string>> terms;  // each query's analysed terms (--fuse-grid's trust)
};

// The training options `hymir train` would use: the queries KG-expanded when
// a KG is given, KG features then, the corpus domains of the TRAIN queries'
// hits as per-domain gate features (hymir/train_reranker.h).
TrainRerankerOptions SplitOptions(const Flags& f) {
  TrainRerankerOptions o;
  o.depth = f.depth;
  o.features = f.features;
  o.threads = f.threads;
  if (f.init_model) {
    o.init = &*f.init_model;
    o.extend_gate = f.extend_gate;
    o.features.query_embedding_dims = f.emb_dims;
  }
  o.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  return o;
}

// The queries of `records` judged in `qrels`, their top `depth` hits and
// labelled feature groups; the features of `extractor` when given (the test
// split), else built from this split (the train split).
Result<Split> BuildSplit(const std::string& name, const Engine& engine, const std::vector<TrainingQuery>& queries,
                         const ranking::Qrels& qrels, const Flags& f, const KnowledgeContext* kg,
                         std::shared_ptr<const FeatureExtractor> extractor = nullptr) {
  if (queries.empty()) return Status::InvalidArgument(name + " qrels judge none of the queries");
  Split s;
  HYMIR_ASSIGN_OR_RETURN(static_cast<TrainingSet&>(s),
                         BuildTrainingSet(engine, queries, qrels, SplitOptions(f), kg, std::move(extractor)));
  s.name = name;
  return s;
}

// The top `depth` hits of every query with retriever `retriever` (kAuto: the
// engine's default).
Result<std::vector<std::vector<SearchHit>>> Retrieve(const Engine& engine, std::vector<HybridQuery> queries,
                                                     size_t depth, Retriever retriever) {
  for (HybridQuery& q : queries) q.retriever = retriever;
  return RetrieveCandidates(engine, queries, depth);
}

// --extend-gate: the pre-trained model widened to the split's query
// features, their normalisation fitted on its groups (as hymir train).
Status ExtendInit(const TrainingSet& train, std::optional<ranking::MoeModel>& init) {
  if (!init || init->schema() == train.extractor->schema()) return Status::OK();
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel wider, ExtendGate(*init, train));
  init = std::move(wider);
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Systems: a score per candidate of every test group, turned into a run.

struct SystemResult {
  std::string name;
  std::string detail;  // shape / training summary
  ranking::Evaluation eval;
  double train_seconds = 0.0;
};

// The candidates of `doc_ids` in the order of `scores` (descending; ties keep
// the earlier candidate first, as GroupNdcg does), as run scores n, n-1, ...
// so that the evaluation sees exactly this order.
ranking::ScoredDocs Reorder(const std::vector<std::string>& doc_ids, const std::vector<double>& scores) {
  std::vector<size_t> order(doc_ids.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  ranking::ScoredDocs out;
  out.reserve(order.size());
  for (size_t pos = 0; pos < order.size(); ++pos) {
    out.emplace_back(doc_ids[order[pos]], static_cast<double>(order.size() - pos));
  }
  return out;
}

// A retriever's own hit order.
ranking::Run RunFromHits(const std::vector<HybridQuery>& queries, const std::vector<std::vector<SearchHit>>& hits) {
  ranking::Run run;
  for (size_t i = 0; i < queries.size(); ++i) {
    std::vector<std::string> ids;
    std::vector<double> scores;
    for (const SearchHit& h : hits[i]) {
      ids.push_back(h.id);
      scores.push_back(-static_cast<double>(h.rank));
    }
    run[queries[i].id] = Reorder(ids, scores);
  }
  return run;
}

ranking::Run RunFromScores(const std::vector<ranking::QueryGroup>& groups,
                           const std::vector<std::vector<double>>& scores) {
  ranking::Run run;
  for (size_t i = 0; i < groups.size(); ++i) run[groups[i].query_id] = Reorder(groups[i].doc_ids, scores[i]);
  return run;
}

Result<std::vector<std::vector<double>>> ScoreAll(const ranking::MoeModel& model,
                                                  const std::vector<ranking::QueryGroup>& groups) {
  std::vector<std::vector<double>> out;
  out.reserve(groups.size());
  for (const ranking::QueryGroup& g : groups) {
    HYMIR_ASSIGN_OR_RETURN(auto s, model.Score(g));
    out.push_back(std::move(s));
  }
  return out;
}

struct MoeVariant {
  std::string name;
  ranking::MoeConfig shape;
};

// `m` with another number of experts and routing (hidden sizes and input
// transforms kept).
ranking::MoeConfig Reshape(ranking::MoeConfig m, int experts, int shared, int top_k) {
  m.routed_experts = experts;
  m.shared_experts = shared;
  m.top_k = top_k;
  return m;
}

// The baselines' shapes derived from the configured model `m` (the last
// one is `m` itself).
std::vector<MoeVariant> MoeVariants(const ranking::MoeConfig& m) {
  return {
      {"mlp", Reshape(m, 1, 0, 1)},
      {"moe-dense", Reshape(m, m.routed_experts, 0, m.routed_experts)},
      {"moe-topk", Reshape(m, m.routed_experts, 0, m.top_k)},
      {"moe-topk-shared", m},
  };
}

std::string ShapeString(const ranking::MoeConfig& c) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "E=%d S=%d K=%d H=%d", c.routed_experts, c.shared_experts, c.top_k, c.expert_hidden);
  return buf;
}

struct TrainedMoe {
  std::string name;
  ranking::MoeModel model;
  ranking::TrainReport report;
  double seconds = 0.0;
};

Result<TrainedMoe> TrainVariant(const MoeVariant& v, const ranking::FeatureSchema& schema,
                                const std::vector<ranking::QueryGroup>& train, ranking::MoeTrainOptions options) {
  options.model = v.shape;
  std::fprintf(stderr, "[%s] training %s\n", v.name.c_str(), ShapeString(v.shape).c_str());
  ranking::TrainReport report;
  const auto t0 = Clock::now();
  auto model = ranking::TrainMoe(schema, train, options, &report, [&](const ranking::EpochReport& e) {
    std::fprintf(stderr, "[%s] epoch %3d  loss %.5f  valid nDCG@10 %.4f%s\n", v.name.c_str(), e.epoch, e.train_loss,
                 e.validation_ndcg, e.best ? "  *" : "");
  });
  if (!model.ok()) return model.status();
  if (report.tree_rounds > 0)
    std::fprintf(stderr, "[%s] boosted expert: %d trees (validation nDCG@10 %.4f alone); best epoch %d, valid %.4f\n",
                 v.name.c_str(), report.tree_rounds, report.tree_validation_ndcg, report.best_epoch,
                 report.best_validation_ndcg);
  return TrainedMoe{v.name, std::move(model).value(), std::move(report), Since(t0)};
}

// The tree baselines' early-stopping split of n training groups: a seeded
// `fraction` (at least one) held out; both index lists sorted.
Result<std::pair<std::vector<size_t>, std::vector<size_t>>> HoldOut(size_t n, uint64_t seed, double fraction,
                                                                    const std::string& who) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t n_valid = std::max<size_t>(1, static_cast<size_t>(std::lround(fraction * static_cast<double>(n))));
  if (n_valid >= n) return Status::InvalidArgument(who + ": too few training queries to hold out");
  std::vector<size_t> valid(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_valid));
  std::vector<size_t> fit(order.begin() + static_cast<std::ptrdiff_t>(n_valid), order.end());
  std::sort(valid.begin(), valid.end());
  std::sort(fit.begin(), fit.end());
  return std::make_pair(std::move(fit), std::move(valid));
}

#ifdef HYMIR_HAVE_XGBOOST
// Rows of `groups` (those listed in `which`) as an XGBoost matrix: each row is
// the pair features followed by the query's features (what the gate reads).
bench::RankingMatrix ToMatrix(const std::vector<ranking::QueryGroup>& groups, const std::vector<size_t>& which,
                              const ranking::FeatureSchema& schema, bool pair_only) {
  const size_t pd = schema.pair_dim(), qd = pair_only ? 0 : schema.query_dim();
  bench::RankingMatrix m;
  m.dim = pd + qd;
  for (size_t gi : which) {
    const ranking::QueryGroup& g = groups[gi];
    if (g.size() == 0) continue;
    m.groups.push_back(static_cast<unsigned>(g.size()));
    for (size_t i = 0; i < g.size(); ++i) {
      const double* row = g.row(i, pd);
      for (size_t j = 0; j < pd; ++j) m.x.push_back(static_cast<float>(row[j]));
      for (size_t j = 0; j < qd; ++j) m.x.push_back(static_cast<float>(g.query_features[j]));
      m.labels.push_back(g.labels.empty() ? 0.0f : static_cast<float>(g.labels[i]));
    }
  }
  return m;
}

struct LambdaMartResult {
  std::vector<std::vector<double>> scores;  // per test group
  std::string detail;
  double seconds = 0.0;
};

// XGBoost rank:ndcg trained on the TRAIN groups, early-stopped on a seeded
// `validation` share of them (never on test), scoring the test groups.
Result<LambdaMartResult> RunLambdaMart(const Flags& f, uint64_t seed, const ranking::FeatureSchema& schema,
                                       const std::vector<ranking::QueryGroup>& train,
                                       const std::vector<ranking::QueryGroup>& test) {
  HYMIR_ASSIGN_OR_RETURN(auto split, HoldOut(train.size(), seed, f.moe.options.validation_fraction, "lambdamart"));
  const auto& [train_idx, valid_idx] = split;

  bench::XgbParams p;
  p.rounds = f.xgb_rounds;
  p.threads = f.threads;
  p.seed = seed;
  std::fprintf(stderr, "[lambdamart] training on %zu queries, early stopping on %zu (ndcg@10)\n", train_idx.size(),
               valid_idx.size());
  const auto t0 = Clock::now();
  std::string error;
  auto model = bench::XgbLambdaMart::Train(
      ToMatrix(train, train_idx, schema, f.xgb_pair_only), ToMatrix(train, valid_idx, schema, f.xgb_pair_only), p,
      &error, [](int round, double ndcg) {
        if ((round + 1) % 50 == 0) {
          std::fprintf(stderr, "[lambdamart] round %4d  valid ndcg@10 %.4f\n", round + 1, ndcg);
        }
      });
  if (!model) return Status::Internal("lambdamart: " + error);
  std::string refit_note;
  if (f.moe.options.refit) {
    // As the MoE's --refit: every train query, for the chosen round count.
    std::vector<size_t> all_idx(train.size());
    std::iota(all_idx.begin(), all_idx.end(), size_t{0});
    const bench::RankingMatrix all = ToMatrix(train, all_idx, schema, f.xgb_pair_only);
    bench::XgbParams refit = p;
    refit.rounds = model->best_iteration() + 1;
    refit.early_stopping = 0;
    refit.use_all_rounds = true;
    std::fprintf(stderr, "[lambdamart] refit on %zu queries for %d rounds\n", train.size(), refit.rounds);
    auto refitted = bench::XgbLambdaMart::Train(all, all, refit, &error);
    if (!refitted) return Status::Internal("lambdamart refit: " + error);
    refit_note = ", refit on " + std::to_string(train.size()) + " queries";
    model = std::move(refitted);
  }
  LambdaMartResult out;
  out.seconds = Since(t0);
  if (f.xgb_importance) {
    // Pair features, then (unless --xgb-pair-only) query features: ToMatrix's columns.
    std::vector<std::string> names = schema.pair_features;
    if (!f.xgb_pair_only) names.insert(names.end(), schema.query_features.begin(), schema.query_features.end());
    const std::vector<double> gain = model->FeatureGain();
    const double total = std::accumulate(gain.begin(), gain.end(), 0.0);
    std::vector<size_t> cols(gain.size());
    std::iota(cols.begin(), cols.end(), size_t{0});
    std::stable_sort(cols.begin(), cols.end(), [&](size_t a, size_t b) { return gain[a] > gain[b]; });
    std::fprintf(stderr, "[lambdamart] share of total split gain:");
    for (size_t i = 0; i < std::min<size_t>(15, cols.size()) && total > 0; ++i)
      std::fprintf(stderr, " %s %.3f", cols[i] < names.size() ? names[cols[i]].c_str() : "?", gain[cols[i]] / total);
    std::fprintf(stderr, "\n");
  }

  std::vector<size_t> all(test.size());
  std::iota(all.begin(), all.end(), size_t{0});
  const bench::RankingMatrix m = ToMatrix(test, all, schema, f.xgb_pair_only);
  const std::vector<float> pred = model->Predict(m.x.data(), m.rows(), m.dim);
  if (pred.size() != m.rows()) return Status::Internal("lambdamart: predict: " + model->last_error());
  size_t at = 0;
  for (const ranking::QueryGroup& g : test) {
    out.scores.emplace_back(pred.begin() + at, pred.begin() + at + g.size());
    at += g.size();
  }
  char buf[160];
  if (f.moe.options.refit) {
    std::snprintf(buf, sizeof buf, "rank:ndcg, %zu features, %d rounds", m.dim, model->rounds_trained());
  } else {
    std::snprintf(buf, sizeof buf, "rank:ndcg, %zu features, best round %d of %d, valid ndcg@10 %.4f", m.dim,
                  model->best_iteration() + 1, model->rounds_trained(), model->best_score());
  }
  out.detail = buf + refit_note;
  return out;
}
#endif  // HYMIR_HAVE_XGBOOST

// hymir's own LambdaMART (ranking/boosted_trees.h) on LambdaMART's inputs
// (raw pair features then the query's), with its split and refit.
Result<LambdaMartResult> RunOwnTrees(const Flags& f, uint64_t seed, const ranking::FeatureSchema& schema,
                                     const std::vector<ranking::QueryGroup>& train,
                                     const std::vector<ranking::QueryGroup>& test) {
  HYMIR_ASSIGN_OR_RETURN(auto split, HoldOut(train.size(), seed, f.moe.options.validation_fraction, "trees"));
  const size_t pd = schema.pair_dim(), qd = schema.query_dim(), dim = pd + qd;
  auto lists = [&](const std::vector<ranking::QueryGroup>& groups, const std::vector<size_t>& which) {
    std::vector<ranking::TreeList> out;
    for (size_t gi : which) {
      const ranking::QueryGroup& g = groups[gi];
      ranking::TreeList l;
      for (size_t i = 0; i < g.size(); ++i) {
        l.x.insert(l.x.end(), g.row(i, pd), g.row(i, pd) + pd);
        l.x.insert(l.x.end(), g.query_features.begin(), g.query_features.end());
      }
      l.labels = g.labels.empty() ? std::vector<double>(g.size(), 0.0) : g.labels;
      out.push_back(std::move(l));
    }
    return out;
  };
  ranking::TreeBoostOptions o = f.moe.options.trees;  // --tree-* as for the boosted expert
  o.seed = seed;
  const auto t0 = Clock::now();
  ranking::TreeBoostReport rep;
  HYMIR_ASSIGN_OR_RETURN(auto trees, ranking::TrainBoostedTrees(lists(train, split.first), lists(train, split.second),
                                                                dim, o, false, &rep, [](const std::string& line) {
                                                                  std::fprintf(stderr, "[trees] %s\n", line.c_str());
                                                                }));
  if (f.moe.options.refit && rep.best_round > 0) {
    ranking::TreeBoostOptions refit = o;
    refit.max_rounds = rep.best_round;
    std::vector<size_t> all(train.size());
    std::iota(all.begin(), all.end(), size_t{0});
    HYMIR_ASSIGN_OR_RETURN(trees, ranking::TrainBoostedTrees(lists(train, all), {}, dim, refit));
  }
  LambdaMartResult out;
  out.seconds = Since(t0);
  std::vector<size_t> all(test.size());
  std::iota(all.begin(), all.end(), size_t{0});
  const auto tl = lists(test, all);
  for (const auto& l : tl) {
    std::vector<double> sc(l.labels.size(), 0.0);
    trees.Predict(l.x.data(), sc.size(), sc.data());
    out.scores.push_back(std::move(sc));
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "hymir trees, %zu features, %d of %d rounds, valid %.4f", dim, rep.best_round,
                rep.rounds, rep.best_validation_ndcg);
  out.detail = buf;
  return out;
}

// ---------------------------------------------------------------------------
// Reporting.

std::vector<std::string> DistinctDomains(const std::vector<std::string>& domains) {
  std::set<std::string> s;
  for (const auto& d : domains) {
    if (!d.empty()) s.insert(d);
  }
  return {s.begin(), s.end()};
}

void PrintQualityTable(const std::vector<SystemResult>& systems, const Split& test) {
  std::map<std::string, std::string> domain_of;
  for (size_t i = 0; i < test.queries.size(); ++i) domain_of[test.queries[i].id] = test.domains[i];
  const std::vector<std::string> domains = DistinctDomains(test.domains);

  std::printf("%-16s", "system");
  std::vector<int> widths;
  for (const auto& d : domains) {
    widths.push_back(std::max<int>(9, static_cast<int>(d.size()) + 1));
    std::printf("%*s", widths.back(), d.c_str());
  }
  if (!domains.empty()) std::printf("%9s", "macro");
  std::printf("%9s%9s  %s\n", domains.empty() ? "nDCG@10" : "micro", "R@100", "detail");
  if (!domains.empty()) {
    std::printf("%-16s", "(queries)");
    for (size_t j = 0; j < domains.size(); ++j) {
      size_t n = 0;
      for (const auto& [qid, qe] : systems.front().eval.per_query) n += domain_of[qid] == domains[j];
      std::printf("%*zu", widths[j], n);
    }
    std::printf("%9s%9zu\n", "", systems.front().eval.num_queries());
  }
  for (const SystemResult& s : systems) {
    std::printf("%-16s", s.name.c_str());
    if (!domains.empty()) {
      std::map<std::string, std::pair<double, size_t>> sum;
      for (const auto& [qid, qe] : s.eval.per_query) {
        auto& [total, n] = sum[domain_of[qid]];
        total += qe.values.ndcg_cut_10;
        ++n;
      }
      double macro = 0.0;
      size_t macro_n = 0;
      for (size_t j = 0; j < domains.size(); ++j) {
        const auto it = sum.find(domains[j]);
        if (it == sum.end() || it->second.second == 0) {
          std::printf("%*s", widths[j], "-");
          continue;
        }
        const double mean = it->second.first / static_cast<double>(it->second.second);
        macro += mean;
        ++macro_n;
        std::printf("%*.4f", widths[j], mean);
      }
      std::printf("%9.4f", macro_n ? macro / static_cast<double>(macro_n) : 0.0);
    }
    std::printf("%9.4f%9.4f  %s\n", s.eval.mean.ndcg_cut_10, s.eval.mean.recall_100, s.detail.c_str());
  }
}

// The routing of `model` on the test queries as the library's routing
// report (the same matrix, MI and SVG as `hymir eval --routing-plot`).
Result<ranking::RoutingMatrix> ComputeRouting(const ranking::MoeModel& model, const Split& test) {
  std::vector<ranking::QueryRouting> routings;
  std::map<std::string, std::string> domain_of;
  for (size_t i = 0; i < test.groups.size(); ++i) {
    HYMIR_ASSIGN_OR_RETURN(ranking::Routing r, model.Route(std::span<const double>(test.groups[i].query_features)));
    routings.push_back({test.groups[i].query_id, r.chosen, r.weights});
    if (!test.domains[i].empty()) domain_of[test.groups[i].query_id] = test.domains[i];
  }
  return ranking::BuildRoutingMatrix(routings, domain_of, model.config().routed_experts);
}

using bench::Latency;
using bench::Percentiles;

// The first `n` candidates of `g` (features only).
ranking::QueryGroup Truncate(const ranking::QueryGroup& g, size_t n, size_t pair_dim) {
  ranking::QueryGroup t;
  t.query_id = g.query_id;
  t.query_features = g.query_features;
  n = std::min(n, g.size());
  t.doc_ids.assign(g.doc_ids.begin(), g.doc_ids.begin() + static_cast<std::ptrdiff_t>(n));
  t.pair_features.assign(g.pair_features.begin(), g.pair_features.begin() + static_cast<std::ptrdiff_t>(n * pair_dim));
  return t;
}

// The trained model of that shape when there is one, else a fresh one with
// the training data's normalisation (scoring cost does not depend on weights).
Result<const ranking::MoeModel*> SpeedModel(const ranking::MoeConfig& want, const std::vector<TrainedMoe>& trained,
                                            const ranking::FeatureSchema& schema,
                                            const std::vector<ranking::QueryGroup>& train, uint64_t seed,
                                            std::optional<ranking::MoeModel>& storage, std::string* origin) {
  for (const TrainedMoe& t : trained) {
    if (t.model.config() == want) {
      *origin = "trained " + t.name;
      return &t.model;
    }
  }
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel m, ranking::MoeModel::Create(want, schema, seed));
  m.set_normalization(ranking::FitNormalization(schema, train, want.log_inputs, want.ple_bins));
  storage = std::move(m);
  *origin = "untrained";
  return &*storage;
}

Status ScoringSpeed(const Flags& f, const std::vector<TrainedMoe>& trained, const ranking::FeatureSchema& schema,
                    const Split& train, const Split& test) {
  constexpr size_t kCandidates = 100;
  std::vector<ranking::QueryGroup> groups;
  for (const ranking::QueryGroup& g : test.groups) {
    if (g.size() >= kCandidates) groups.push_back(Truncate(g, kCandidates, schema.pair_dim()));
  }
  if (groups.empty()) {
    std::printf("scoring: no test query has %zu candidates (--depth %zu); skipped\n", kCandidates, f.depth);
    return Status::OK();
  }
  const ranking::MoeConfig sparse_cfg = Reshape(f.moe.options.model, 8, 0, 2);
  const ranking::MoeConfig dense_cfg = Reshape(f.moe.options.model, 8, 0, 8);
  std::optional<ranking::MoeModel> sparse_storage, dense_storage;
  std::string sparse_origin, dense_origin;
  HYMIR_ASSIGN_OR_RETURN(
      const ranking::MoeModel* sparse,
      SpeedModel(sparse_cfg, trained, schema, train.groups, f.moe.options.seed, sparse_storage, &sparse_origin));
  HYMIR_ASSIGN_OR_RETURN(const ranking::MoeModel* dense, SpeedModel(dense_cfg, trained, schema, train.groups,
                                                                    f.moe.options.seed, dense_storage, &dense_origin));

  std::fprintf(stderr, "speed: scoring %zu groups x %d passes\n", groups.size(), f.speed_reps);
  for (const auto& g : groups) {  // warm-up
    HYMIR_RETURN_IF_ERROR(sparse->Score(g).status());
    HYMIR_RETURN_IF_ERROR(dense->Score(g).status());
  }
  std::vector<double> sparse_us, dense_us;
  for (int rep = 0; rep < f.speed_reps; ++rep) {
    // Interleaved, so both see the same machine state, and alternating which
    // goes first: the first call after the previous pair's buffers are freed
    // pays the allocator's page faults, which would otherwise land on one side.
    for (size_t i = 0; i < groups.size(); ++i) {
      const auto& g = groups[i];
      auto time = [&](const ranking::MoeModel* m, std::vector<double>& out) -> Status {
        const auto t0 = Clock::now();
        auto r = m->Score(g);
        out.push_back(Since(t0) * 1e6);
        return r.status();
      };
      const bool sparse_first = (i + static_cast<size_t>(rep)) % 2 == 0;
      HYMIR_RETURN_IF_ERROR(sparse_first ? time(sparse, sparse_us) : time(dense, dense_us));
      HYMIR_RETURN_IF_ERROR(sparse_first ? time(dense, dense_us) : time(sparse, sparse_us));
    }
  }
  const Latency ls = Percentiles(sparse_us), ld = Percentiles(dense_us);
  std::printf("scoring %zu candidates (features given, calling thread), %zu calls each:\n", kCandidates, ls.n);
  std::printf("  top-2-of-8 %-20s p50 %8.1f us  p99 %8.1f us  (%s)\n", ShapeString(sparse_cfg).c_str(), ls.p50, ls.p99,
              sparse_origin.c_str());
  std::printf("  dense-8    %-20s p50 %8.1f us  p99 %8.1f us  (%s)\n", ShapeString(dense_cfg).c_str(), ld.p50, ld.p99,
              dense_origin.c_str());
  std::printf("  dense / top-2 ratio: p50 %.2fx  p99 %.2fx\n", ld.p50 / ls.p50, ld.p99 / ls.p99);
  return Status::OK();
}

Result<Latency> TimeExtraction(const FeatureExtractor& extractor, const Split& test) {
  std::vector<double> ms;
  ms.reserve(test.queries.size());
  for (size_t i = 0; i < test.queries.size(); ++i) {
    const auto t0 = Clock::now();
    auto g = extractor.Extract(test.queries[i], test.hits[i]);
    ms.push_back(Since(t0) * 1e3);
    if (!g.ok()) return g.status();
  }
  return Percentiles(std::move(ms));
}

Status ExtractionSpeed(const Engine& engine, const FeatureExtractor& warm, const KnowledgeContext* kg,
                       const Split& test, size_t depth) {
  // A fresh extractor has an empty document cache: its first pass analyses
  // every candidate document once (as a newly opened index does).
  HYMIR_ASSIGN_OR_RETURN(auto fresh, FeatureExtractor::Create(engine, warm.config(), kg));
  std::fprintf(stderr, "speed: feature extraction over %zu test queries\n", test.queries.size());
  HYMIR_ASSIGN_OR_RETURN(Latency cold, TimeExtraction(*fresh, test));
  HYMIR_ASSIGN_OR_RETURN(Latency hot, TimeExtraction(warm, test));
  std::printf("feature extraction per query (FeatureExtractor::Extract, top-%zu hits given, 1 thread), %zu queries:\n",
              depth, cold.n);
  std::printf("  fresh extractor (document cache empty)  p50 %7.2f ms  p99 %7.2f ms\n", cold.p50, cold.p99);
  std::printf("  warm extractor (documents cached)       p50 %7.2f ms  p99 %7.2f ms\n", hot.p50, hot.p99);
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Cross-validation on the train split (model selection; the test split is
// never read): the judged train queries, in query-file order, go to fold
// i mod K; every learned system is trained on the other folds with each seed
// and scored on the held-out fold.

struct CvScores {
  std::vector<double> macro, micro;                   // one per (fold, seed)
  std::map<std::string, std::vector<double>> domain;  // per query domain, one per (fold, seed)
};

struct FoldResult {
  double macro = 0.0, micro = 0.0;
  std::map<std::string, double> domain;  // mean nDCG@10 per query domain
};

// Macro (mean over the query domains) and micro nDCG@10 of `run` over the
// queries of `domain_of` that have a relevant judgement.
Result<FoldResult> FoldNdcg(const ranking::Qrels& qrels, const ranking::Run& run,
                            const std::map<std::string, std::string>& domain_of) {
  HYMIR_ASSIGN_OR_RETURN(ranking::Evaluation eval, ranking::Evaluate(qrels, run));
  std::map<std::string, std::pair<double, size_t>> by_domain;
  double sum = 0.0;
  size_t n = 0;
  for (const auto& [qid, domain] : domain_of) {
    const auto it = eval.per_query.find(qid);
    if (it == eval.per_query.end()) continue;
    auto& [total, count] = by_domain[domain];
    total += it->second.values.ndcg_cut_10;
    ++count;
    sum += it->second.values.ndcg_cut_10;
    ++n;
  }
  if (n == 0) return Status::InvalidArgument("cross-validation: a fold has no judged query");
  FoldResult r;
  for (const auto& [d, v] : by_domain) r.macro += r.domain[d] = v.first / static_cast<double>(v.second);
  r.macro /= static_cast<double>(by_domain.size());
  r.micro = sum / static_cast<double>(n);
  return r;
}

std::pair<double, double> MeanStd(const std::vector<double>& v) {
  if (v.empty()) return {0.0, 0.0};
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double var = 0.0;
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0};
}

// Drops every pair feature not named in `keep` from `schema` and from the
// rows of `split` (a feature ablation); InvalidArgument for an unknown name.
Status KeepPairFeatures(const std::vector<std::string>& keep, ranking::FeatureSchema& schema, Split& split) {
  std::vector<size_t> cols;
  for (const std::string& name : keep) {
    const auto it = std::find(schema.pair_features.begin(), schema.pair_features.end(), name);
    if (it == schema.pair_features.end()) return Status::InvalidArgument("--keep-pair-features: no feature " + name);
    cols.push_back(static_cast<size_t>(it - schema.pair_features.begin()));
  }
  const size_t d = schema.pair_dim();
  for (ranking::QueryGroup& g : split.groups) {
    std::vector<double> kept;
    kept.reserve(g.size() * cols.size());
    for (size_t i = 0; i < g.size(); ++i)
      for (size_t c : cols) kept.push_back(g.pair_features[i * d + c]);
    g.pair_features = std::move(kept);
  }
  schema.pair_features = keep;
  return Status::OK();
}

// The systems a pre-trained model adds: itself ("pretrained"), fine-tuned
// on `fit` as `hymir train --init` does ("moe-finetuned", at the configured
// --finetune-alpha) and the same fine-tuning at each --alpha-grid weight.
struct InitSystem {
  std::string name;
  std::vector<std::vector<double>> scores;  // per group of `score_on`
};
Result<std::vector<InitSystem>> InitSystems(const Flags& f, const ranking::MoeTrainOptions& options,
                                            const ranking::FeatureSchema& schema,
                                            const std::vector<ranking::QueryGroup>& fit,
                                            const std::vector<ranking::QueryGroup>& score_on,
                                            std::optional<TrainedMoe>* finetuned = nullptr) {
  std::vector<InitSystem> out;
  const ranking::MoeModel& pre = *f.init_model;
  HYMIR_ASSIGN_OR_RETURN(auto pre_scores, ScoreAll(pre, score_on));
  out.push_back({"pretrained", std::move(pre_scores)});
  ranking::MoeTrainOptions o = options;
  o.init = &pre;
  o.finetune_alpha = 1.0;  // interpolated below, once per weight
  HYMIR_ASSIGN_OR_RETURN(TrainedMoe t, TrainVariant({"moe-finetuned", pre.config()}, schema, fit, o));
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel chosen,
                         ranking::MoeModel::Interpolate(pre, t.model, options.finetune_alpha));
  HYMIR_ASSIGN_OR_RETURN(auto ft_scores, ScoreAll(chosen, score_on));
  out.push_back({"moe-finetuned", std::move(ft_scores)});
  for (double a : f.alpha_grid) {
    HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel m, ranking::MoeModel::Interpolate(pre, t.model, a));
    HYMIR_ASSIGN_OR_RETURN(auto sc, ScoreAll(m, score_on));
    char name[32];
    std::snprintf(name, sizeof name, "finetune-%.2f", a);
    out.push_back({name, std::move(sc)});
  }
  if (finetuned) {
    t.model = std::move(chosen);
    *finetuned = std::move(t);
  }
  return out;
}

// Per list, (1 - w) z(pre) + w z(scratch), z standardising within the list
// and w = weight(list index) (--fuse-grid).
std::vector<std::vector<double>> FuseScores(const std::vector<std::vector<double>>& pre,
                                            const std::vector<std::vector<double>>& scratch,
                                            const std::function<double(size_t)>& weight) {
  std::vector<std::vector<double>> fused(pre.size());
  for (size_t q = 0; q < pre.size(); ++q) {
    std::vector<double> p = pre[q], s = scratch[q];
    ranking::StandardiseList(p);
    ranking::StandardiseList(s);
    const double w = weight(q);
    for (size_t i = 0; i < p.size(); ++i) fused[q].push_back((1 - w) * p[i] + w * s[i]);
  }
  return fused;
}

Status RunCrossValidation(const Flags& f, const ranking::MoeTrainOptions& options, const ranking::FeatureSchema& schema,
                          const ranking::Qrels& qrels, const Split& train) {
  // Fold of each train query: i mod k, or its domain's index with --cv-by-domain.
  std::vector<std::string> fold_domains;
  std::vector<size_t> fold_of(train.groups.size());
  if (f.cv_by_domain) {
    fold_domains = DistinctDomains(train.domains);
    if (fold_domains.size() < 2) return Status::InvalidArgument("--cv-by-domain: the train queries have < 2 domains");
    for (size_t i = 0; i < fold_of.size(); ++i)
      fold_of[i] = static_cast<size_t>(std::find(fold_domains.begin(), fold_domains.end(), train.domains[i]) -
                                       fold_domains.begin());
  } else {
    for (size_t i = 0; i < fold_of.size(); ++i) fold_of[i] = i % static_cast<size_t>(f.cv_folds);
  }
  const size_t k = f.cv_by_domain ? fold_domains.size() : static_cast<size_t>(f.cv_folds);
  std::vector<std::string> order;
  std::map<std::string, CvScores> scores;
  std::vector<std::vector<double>> fold_macro;  // [fold][system index]
  auto record = [&](const std::string& name, const ranking::Run& run,
                    const std::map<std::string, std::string>& domain_of) -> Status {
    HYMIR_ASSIGN_OR_RETURN(auto ndcg, FoldNdcg(qrels, run, domain_of));
    if (!scores.count(name)) order.push_back(name);
    scores[name].macro.push_back(ndcg.macro);
    scores[name].micro.push_back(ndcg.micro);
    for (const auto& [d, v] : ndcg.domain) scores[name].domain[d].push_back(v);
    return Status::OK();
  };
  for (size_t fold = 0; fold < k; ++fold) {
    std::vector<ranking::QueryGroup> fit, held;
    std::vector<HybridQuery> held_queries;
    std::vector<std::vector<std::string>> fit_terms, held_terms;
    std::vector<std::vector<SearchHit>> held_hits;
    std::map<std::string, std::string> domain_of;
    for (size_t i = 0; i < train.groups.size(); ++i) {
      if (fold_of[i] == fold) {
        held.push_back(train.groups[i]);
        held_queries.push_back(train.queries[i]);
        held_hits.push_back(train.hits[i]);
        domain_of[train.queries[i].id] = train.domains[i];
        held_terms.push_back(train.terms[i]);
      } else {
        fit.push_back(train.groups[i]);
        fit_terms.push_back(train.terms[i]);
      }
    }
    std::fprintf(stderr, "[cv] fold %zu of %zu: train on %zu queries, score %zu\n", fold + 1, k, fit.size(),
                 held.size());
    HYMIR_RETURN_IF_ERROR(record("hybrid", RunFromHits(held_queries, held_hits), domain_of));
    // --cv-ensemble: per variant, the sum over seeds of each list's
    // standardised scores (an equal-weight ensemble of the seeds' models).
    std::map<std::string, std::vector<std::vector<double>>> ensemble;
    std::vector<std::vector<double>> scratch;  // moe-topk-shared's scores, first seed (--fuse-grid)
    for (int s = 0; s < f.cv_seeds; ++s) {
      ranking::MoeTrainOptions seeded = options;
      seeded.seed = options.seed + static_cast<uint64_t>(s);
      // moe-topk-shared's scores of this seed, blended after training with
      // a tree baseline's at 0.25 / 0.5 / 0.75 ("moe+trees-w", "moe+lm-w").
      std::vector<std::vector<double>> seed_moe;
      auto record_blends = [&](const std::string& prefix, const std::vector<std::vector<double>>& other) -> Status {
        if (seed_moe.empty()) return Status::OK();
        for (double b : {0.25, 0.5, 0.75}) {
          char name[48];
          std::snprintf(name, sizeof name, "%s-%.2f", prefix.c_str(), b);
          HYMIR_RETURN_IF_ERROR(
              record(name, RunFromScores(held, FuseScores(seed_moe, other, [b](size_t) { return b; })), domain_of));
        }
        return Status::OK();
      };
      for (const MoeVariant& v : MoeVariants(options.model)) {
        if (!Wanted(f, v.name)) continue;
        HYMIR_ASSIGN_OR_RETURN(TrainedMoe t, TrainVariant(v, schema, fit, seeded));
        HYMIR_ASSIGN_OR_RETURN(auto sc, ScoreAll(t.model, held));
        HYMIR_RETURN_IF_ERROR(record(v.name, RunFromScores(held, sc), domain_of));
        if (s == 0 && v.name == "moe-topk-shared") scratch = sc;
        if (v.name == "moe-topk-shared") seed_moe = sc;
        if (f.cv_ensemble) {
          auto& sum = ensemble[v.name];
          sum.resize(sc.size());
          for (size_t q = 0; q < sc.size(); ++q) {
            const auto [mean, sd] = MeanStd(sc[q]);
            sum[q].resize(sc[q].size(), 0.0);
            for (size_t i = 0; i < sc[q].size(); ++i) sum[q][i] += sd > 0 ? (sc[q][i] - mean) / sd : 0.0;
          }
        }
      }
      if (Wanted(f, "trees")) {
        HYMIR_ASSIGN_OR_RETURN(LambdaMartResult tr, RunOwnTrees(f, seeded.seed, schema, fit, held));
        HYMIR_RETURN_IF_ERROR(record("trees", RunFromScores(held, tr.scores), domain_of));
        HYMIR_RETURN_IF_ERROR(record_blends("moe+trees", tr.scores));
      }
#ifdef HYMIR_HAVE_XGBOOST
      if (Wanted(f, "lambdamart")) {
        HYMIR_ASSIGN_OR_RETURN(LambdaMartResult lm, RunLambdaMart(f, seeded.seed, schema, fit, held));
        HYMIR_RETURN_IF_ERROR(record("lambdamart", RunFromScores(held, lm.scores), domain_of));
        HYMIR_RETURN_IF_ERROR(record_blends("moe+lm", lm.scores));
      }
#endif
    }
    for (const auto& [name, sum] : ensemble)
      HYMIR_RETURN_IF_ERROR(record(name + "+ens", RunFromScores(held, sum), domain_of));
    if (f.init_model && !scratch.empty()) {
      HYMIR_ASSIGN_OR_RETURN(auto pre, ScoreAll(*f.init_model, held));
      HYMIR_ASSIGN_OR_RETURN(auto trust, ranking::QueryTrust::Build(fit_terms, {}, ranking::QueryTrustConfig{}));
      // Domain coverage: the judged queries' summed top-20 domain shares per
      // domain (a soft count), and per held query its shares weighted by
      // min(1, soft count / 10).
      std::vector<size_t> share_cols;
      for (size_t j = 0; j < schema.query_dim(); ++j)
        if (schema.query_features[j].rfind("q_domain_share:", 0) == 0) share_cols.push_back(j);
      std::vector<double> soft(share_cols.size(), 0.0);
      for (const auto& g : fit)
        for (size_t c = 0; c < share_cols.size(); ++c) soft[c] += g.query_features[share_cols[c]];
      auto covered = [&](const ranking::QueryGroup& g) {
        double v = 0;
        for (size_t c = 0; c < share_cols.size(); ++c)
          v += g.query_features[share_cols[c]] * std::min(1.0, soft[c] / 10.0);
        return share_cols.empty() ? 1.0 : v;
      };
      for (int trusted : {0, 1, 2}) {
        for (double b : f.fuse_grid) {
          auto fused = FuseScores(pre, scratch, [&](size_t q) {
            return trusted == 0 ? b : trusted == 1 ? b * trust.Trust(held_terms[q]) : b * covered(held[q]);
          });
          char name[32];
          std::snprintf(name, sizeof name,
                        trusted == 0   ? "fuse-%.2f"
                        : trusted == 1 ? "fuse-t-%.2f"
                                       : "fuse-d-%.2f",
                        b);
          HYMIR_RETURN_IF_ERROR(record(name, RunFromScores(held, fused), domain_of));
        }
      }
    }
    if (f.init_model && Wanted(f, "moe-finetuned")) {
      for (int s = 0; s < f.cv_seeds; ++s) {
        ranking::MoeTrainOptions seeded = options;
        seeded.seed = options.seed + static_cast<uint64_t>(s);
        HYMIR_ASSIGN_OR_RETURN(auto systems, InitSystems(f, seeded, schema, fit, held));
        for (const InitSystem& sys : systems)
          if (sys.name != "pretrained" || s == 0)
            HYMIR_RETURN_IF_ERROR(record(sys.name, RunFromScores(held, sys.scores), domain_of));
      }
    }
  }
  const std::string folds = f.cv_by_domain
                                ? "leave one domain out: each domain's queries scored by models trained on the others'"
                                : "judged train queries in query-file order, i mod " + std::to_string(k);
  std::printf(
      "\n%zu-fold cross-validation on %s only (folds: %s),\n"
      "%d seed(s) from %llu; nDCG@10 on the held-out folds, mean +- sample std over %zu fold x seed runs\n"
      "(hybrid: over folds). MoE: loss %s, lr %g, wd %g, batch %zu, <= %d epochs (patience %d),\n"
      "validation %.0f%%%s, bias rate %g.\n\n",
      k, f.train_qrels.c_str(), folds.c_str(), f.cv_seeds, static_cast<unsigned long long>(options.seed),
      k * static_cast<size_t>(f.cv_seeds), f.moe.loss.c_str(), options.learning_rate, options.weight_decay,
      options.batch_queries, options.max_epochs, options.patience, 100 * options.validation_fraction,
      options.balance_domains ? ", domain-balanced" : "", options.bias_update_rate);
  std::printf("%-16s %9s %8s %9s %8s\n", "system", "macro", "+-", "micro", "+-");
  for (const std::string& name : order) {
    const auto [ma, ms] = MeanStd(scores[name].macro);
    const auto [mi, mis] = MeanStd(scores[name].micro);
    std::printf("%-16s %9.4f %8.4f %9.4f %8.4f\n", name.c_str(), ma, ms, mi, mis);
  }
  // Per query domain (mean over runs), when there is more than one.
  std::set<std::string> domains;
  for (const auto& [name, sc] : scores)
    for (const auto& [d, v] : sc.domain) domains.insert(d);
  if (domains.size() > 1) {
    std::printf("\nper domain (mean nDCG@10 over runs):\n%-16s", "system");
    for (const auto& d : domains) std::printf(" %10s", d.substr(0, 10).c_str());
    std::printf("\n");
    for (const std::string& name : order) {
      std::printf("%-16s", name.c_str());
      for (const auto& d : domains) std::printf(" %10.4f", MeanStd(scores[name].domain[d]).first);
      std::printf("\n");
    }
  }
  // Every run's macro value (fold-major, then seed), for paired comparisons
  // between configurations run on the same folds and seeds.
  std::printf("\nmacro per run (fold-major, seeds within a fold):\n");
  for (const std::string& name : order) {
    std::printf("%-16s", name.c_str());
    for (double v : scores[name].macro) std::printf(" %.4f", v);
    std::printf("\n");
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------

// The 1/5/15-minute load averages (/proc/loadavg), or "?" off Linux: timings
// on a shared machine are only as good as its idle share.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(in >> one >> five >> fifteen)) return "?";
  return one + " " + five + " " + fifteen;
}

std::string CommandLine(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_./:=@,+-") == std::string::npos;
    if (i) out += ' ';
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

Status RunBench(Flags& f, const std::string& command) {
  HYMIR_ASSIGN_OR_RETURN(const ranking::MoeTrainOptions options, f.moe.Resolve());
  PipelineOptions popts;
  popts.index_dir = f.index;
  popts.kg_dir = f.kg;
  HYMIR_ASSIGN_OR_RETURN(auto pipeline, Pipeline::Open(popts));
  const Engine& engine = pipeline->engine();
  const KnowledgeContext* kg = pipeline->kg();
  HYMIR_ASSIGN_OR_RETURN(auto records, ReadQueries(f.queries));
  HYMIR_ASSIGN_OR_RETURN(auto train_qrels, ranking::Qrels::Read(f.train_qrels));
  if (f.cv_folds > 0 || f.cv_by_domain) {
    const auto t_features = Clock::now();
    HYMIR_ASSIGN_OR_RETURN(Split train,
                           BuildSplit("train", engine, JudgedQueries(records, train_qrels), train_qrels, f, kg));
    const FeatureExtractor* extractor = train.extractor.get();
    HYMIR_RETURN_IF_ERROR(ExtendInit(train, f.init_model));
    for (const auto& q : train.queries) train.terms.push_back(index::Analyze(engine.searcher().analyzer(), q.text));
    if (train.groups.size() < static_cast<size_t>(f.cv_folds))
      return Status::InvalidArgument("--cv-folds exceeds the number of judged train queries");
    std::printf("hymir-rerank-bench (cross-validation)\ncommand: %s\n", command.c_str());
    std::printf(
        "train: %zu queries (%zu with a relevant candidate in the top %zu); features %zu pair + %zu query, "
        "built in %.1f s\n",
        train.groups.size(), train.with_relevant, f.depth, extractor->schema().pair_dim(),
        extractor->schema().query_dim(), Since(t_features));
    ranking::FeatureSchema schema = extractor->schema();
    if (!f.keep_pair_features.empty()) HYMIR_RETURN_IF_ERROR(KeepPairFeatures(f.keep_pair_features, schema, train));
    return RunCrossValidation(f, options, schema, train_qrels, train);
  }
  if (f.test_qrels.empty()) return Status::InvalidArgument("--test-qrels is required (unless --cv-folds)");
  HYMIR_ASSIGN_OR_RETURN(auto test_qrels, ranking::Qrels::Read(f.test_qrels));
  const std::vector<TrainingQuery> train_queries = JudgedQueries(records, train_qrels);
  const std::vector<TrainingQuery> test_queries = JudgedQueries(records, test_qrels);
  size_t overlap = 0;
  {
    std::set<std::string> ids;
    for (const auto& q : train_queries) ids.insert(q.query.id);
    for (const auto& q : test_queries) overlap += ids.count(q.query.id);
  }

  // Features, once for both splits: the test split's with the train split's extractor.
  const auto t_features = Clock::now();
  HYMIR_ASSIGN_OR_RETURN(Split train, BuildSplit("train", engine, train_queries, train_qrels, f, kg));
  HYMIR_ASSIGN_OR_RETURN(Split test, BuildSplit("test", engine, test_queries, test_qrels, f, kg, train.extractor));
  const FeatureExtractor* extractor = train.extractor.get();
  const ranking::FeatureSchema& schema = extractor->schema();
  HYMIR_RETURN_IF_ERROR(ExtendInit(train, f.init_model));
  const double feature_seconds = Since(t_features);

  std::printf("hymir-rerank-bench\n");
  std::printf("command: %s\n", command.c_str());
  std::printf("cores: %u (std::thread::hardware_concurrency); --threads %d; load average %s\n",
              std::thread::hardware_concurrency(), f.threads, LoadAverage().c_str());
  std::printf("retriever: %s (engine default%s)%s\n", RetrieverName(engine.ResolveRetriever(test.queries.front())),
              engine.has_tuned_fusion() ? ", tuned fusion" : ", untuned fusion", kg ? ", KG-expanded queries" : "");
  std::printf("train: %zu queries judged in %s (%zu with a relevant candidate in the top %zu)\n", train.groups.size(),
              f.train_qrels.c_str(), train.with_relevant, f.depth);
  const std::string overlap_note =
      overlap ? " -- WARNING: " + std::to_string(overlap) + " queries are judged in both" : "";
  std::printf("test:  %zu queries judged in %s (%zu with a relevant candidate in the top %zu)%s\n", test.groups.size(),
              f.test_qrels.c_str(), test.with_relevant, f.depth, overlap_note.c_str());
  std::string domain_list;
  for (const auto& d : extractor->config().domains) domain_list += (domain_list.empty() ? "" : ",") + d;
  std::printf("features: %zu pair + %zu query (corpus domains from the train hits: %s), built in %.1f s\n",
              schema.pair_dim(), schema.query_dim(), domain_list.empty() ? "none" : domain_list.c_str(),
              feature_seconds);
  std::fflush(stdout);

  // Systems.
  std::vector<SystemResult> systems;
  {
    std::fprintf(stderr, "[bm25] retrieving\n");
    HYMIR_ASSIGN_OR_RETURN(auto bm25_hits, Retrieve(engine, test.queries, f.depth, Retriever::kBm25));
    HYMIR_ASSIGN_OR_RETURN(auto eval, ranking::Evaluate(test_qrels, RunFromHits(test.queries, bm25_hits)));
    systems.push_back({"bm25", "retriever alone, its own top " + std::to_string(f.depth), std::move(eval), 0.0});
    HYMIR_ASSIGN_OR_RETURN(auto hybrid_eval, ranking::Evaluate(test_qrels, RunFromHits(test.queries, test.hits)));
    systems.push_back({"hybrid", "engine order (fused): the re-rankers' candidates", std::move(hybrid_eval), 0.0});
  }
  std::vector<TrainedMoe> trained;
  for (const MoeVariant& v : MoeVariants(options.model)) {
    if (!Wanted(f, v.name)) continue;
    HYMIR_ASSIGN_OR_RETURN(TrainedMoe t, TrainVariant(v, schema, train.groups, options));
    HYMIR_ASSIGN_OR_RETURN(auto scores, ScoreAll(t.model, test.groups));
    HYMIR_ASSIGN_OR_RETURN(auto eval, ranking::Evaluate(test_qrels, RunFromScores(test.groups, scores)));
    char detail[200];
    std::snprintf(detail, sizeof detail, "%s, %zu params, epoch %d/%d, valid %.4f, %.1f s",
                  ShapeString(v.shape).c_str(), t.model.parameters().size(), t.report.best_epoch, t.report.epochs,
                  t.report.best_validation_ndcg, t.seconds);
    systems.push_back({v.name, detail, std::move(eval), t.seconds});
    if (f.init_model && v.name == "moe-topk-shared") {
      HYMIR_ASSIGN_OR_RETURN(auto pre, ScoreAll(*f.init_model, test.groups));
      for (double b : f.fuse_grid) {
        auto fused = FuseScores(pre, scores, [b](size_t) { return b; });
        HYMIR_ASSIGN_OR_RETURN(auto fe, ranking::Evaluate(test_qrels, RunFromScores(test.groups, fused)));
        char name[32];
        std::snprintf(name, sizeof name, "fuse-%.2f", b);
        systems.push_back({name, "pre-trained and moe-topk-shared, standardised and fused", std::move(fe), 0.0});
      }
    }
    trained.push_back(std::move(t));
  }
  if (f.init_model && Wanted(f, "moe-finetuned")) {
    std::optional<TrainedMoe> ft;
    HYMIR_ASSIGN_OR_RETURN(auto init_systems, InitSystems(f, options, schema, train.groups, test.groups, &ft));
    const TrainedMoe& t = *ft;
    for (InitSystem& sys : init_systems) {
      HYMIR_ASSIGN_OR_RETURN(auto eval, ranking::Evaluate(test_qrels, RunFromScores(test.groups, sys.scores)));
      char detail[200];
      if (sys.name == "pretrained")
        std::snprintf(detail, sizeof detail, "%s pre-trained, no judgements, retrieval prior %.1f",
                      ShapeString(f.init_model->config()).c_str(), f.init_model->prior_weight());
      else if (sys.name == "moe-finetuned")
        std::snprintf(detail, sizeof detail, "fine-tuned from %s, alpha %.2f, epoch %d/%d, valid %.4f, %.1f s",
                      f.init.c_str(), options.finetune_alpha, t.report.best_epoch, t.report.epochs,
                      t.report.best_validation_ndcg, t.seconds);
      else
        std::snprintf(detail, sizeof detail, "the same fine-tuning, interpolated");
      systems.push_back({sys.name, detail, std::move(eval), sys.name == "moe-finetuned" ? t.seconds : 0.0});
    }
  }
  // A tree baseline's test scores as a system row.
  auto add_trees = [&](const std::string& name, const LambdaMartResult& r) -> Status {
    HYMIR_ASSIGN_OR_RETURN(auto eval, ranking::Evaluate(test_qrels, RunFromScores(test.groups, r.scores)));
    char secs[32];
    std::snprintf(secs, sizeof secs, ", %.1f s", r.seconds);
    systems.push_back({name, r.detail + secs, std::move(eval), r.seconds});
    return Status::OK();
  };
  if (Wanted(f, "trees")) {
    HYMIR_ASSIGN_OR_RETURN(LambdaMartResult tr, RunOwnTrees(f, options.seed, schema, train.groups, test.groups));
    HYMIR_RETURN_IF_ERROR(add_trees("trees", tr));
  }
#ifdef HYMIR_HAVE_XGBOOST
  if (Wanted(f, "lambdamart")) {
    HYMIR_ASSIGN_OR_RETURN(LambdaMartResult lm, RunLambdaMart(f, options.seed, schema, train.groups, test.groups));
    HYMIR_RETURN_IF_ERROR(add_trees("lambdamart", lm));
  }
#else
  std::fprintf(stderr, "[lambdamart] skipped: built without XGBoost\n");
#endif

  std::printf(
      "\nnDCG@10 on the test queries (trec_eval semantics, judged queries with a relevant document);\n"
      "each system evaluated on its own top-%zu list only: the re-rankers reorder the hybrid top-%zu,\n"
      "nothing below the depth is appended, so their R@100 is the hybrid candidates' recall.\n"
      "MoE: loss %s, lr %g, batch %zu, <= %d epochs (patience %d), validation %.0f%% of train%s%s.\n"
      "macro = mean over query domains, micro = mean over queries.\n\n",
      f.depth, f.depth, f.moe.loss.c_str(), options.learning_rate, options.batch_queries, options.max_epochs,
      options.patience, 100 * options.validation_fraction, options.balance_domains ? ", domain-balanced" : "",
      options.refit ? ", then refit on all train queries" : "");
#ifndef HYMIR_HAVE_XGBOOST
  std::printf("(lambdamart: not built, XGBoost was not found)\n");
#endif
  PrintQualityTable(systems, test);

  const TrainedMoe* routed_ptr = trained.empty() ? nullptr : &trained.back();  // moe-topk-shared when run
  if (routed_ptr == nullptr) {
    std::printf("\nrouting: no MoE was run (--systems)\n");
  } else if (const TrainedMoe& routed = *routed_ptr; !DistinctDomains(test.domains).empty()) {
    HYMIR_ASSIGN_OR_RETURN(ranking::RoutingMatrix r, ComputeRouting(routed.model, test));
    std::printf("\nrouting of %s (%s) on the test queries\n%s", routed.name.c_str(),
                ShapeString(routed.model.config()).c_str(), ranking::RoutingMatrixText(r).c_str());
    if (!f.routing_svg.empty()) {
      std::ofstream out(f.routing_svg);
      out << ranking::RoutingMatrixSvg(r, "mixture-of-experts routing: " + routed.name);
      if (!out) return Status::IOError(f.routing_svg + ": cannot write");
      std::printf("routing heat map written to %s\n", f.routing_svg.c_str());
    }
  } else {
    std::printf("\nrouting: the test queries have no `domain` field; no routing matrix%s\n",
                f.routing_svg.empty() ? "" : " (and no SVG)");
  }
  std::fflush(stdout);

  std::printf("\nspeed (1 thread; load average %s before)\n", LoadAverage().c_str());
  HYMIR_RETURN_IF_ERROR(ScoringSpeed(f, trained, schema, train, test));
  HYMIR_RETURN_IF_ERROR(ExtractionSpeed(engine, *extractor, kg, test, f.depth));
  std::printf("load average after: %s\n", LoadAverage().c_str());
  return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hymir-rerank-bench: bm25, hybrid, MLP, MoE variants and LambdaMART on the same features and splits"};
  Flags f;
  app.add_option("--index", f.index, "Index directory")->required()->check(CLI::ExistingDirectory);
  app.add_option("--queries", f.queries, "BEIR queries.jsonl (its `domain` field groups the results)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--train-qrels", f.train_qrels, "Training judgements")->required()->check(CLI::ExistingFile);
  app.add_option("--test-qrels", f.test_qrels, "Test judgements (required unless --cv-folds)")
      ->check(CLI::ExistingFile);
  app.add_option("--cv-folds", f.cv_folds,
                 "Model selection: K-fold cross-validation on the train judgements only (the test split is not "
                 "read); prints mean nDCG@10 per system")
      ->check(CLI::Range(2, 100));
  app.add_flag("--cv-by-domain", f.cv_by_domain,
               "Model selection: leave-one-domain-out folds over the train judgements (each domain scored by "
               "models trained on the others)");
  app.add_option("--alpha-grid", f.alpha_grid,
                 "With --init: also score the fine-tuned model interpolated towards the pre-trained one at these "
                 "weights (comma-separated, each in [0, 1])")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--cv-seeds", f.cv_seeds, "Seeds per fold in --cv-folds mode (default 1)")->check(CLI::Range(1, 100));
  app.add_option("--keep-pair-features", f.keep_pair_features,
                 "Cross-validation ablation: keep only these pair features (comma-separated names)")
      ->delimiter(',');
  app.add_flag("--cv-ensemble", f.cv_ensemble,
               "Also score, per fold, each MoE variant's seeds as one ensemble (mean of list-standardised scores)");
  app.add_option("--systems", f.systems,
                 "Learned systems to run: mlp, moe-dense, moe-topk, moe-topk-shared, lambdamart, trees (hymir's own "
                 "LambdaMART on LambdaMART's inputs; --tree-* options), and with --init moe-finetuned (with "
                 "pretrained and the --alpha-grid systems) (default all)")
      ->delimiter(',')
      ->check(
          CLI::IsMember({"mlp", "moe-dense", "moe-topk", "moe-topk-shared", "lambdamart", "trees", "moe-finetuned"}));
  app.add_option("--depth", f.depth, "Candidates per query, the re-rank depth (default 100)")
      ->check(CLI::Range(size_t{1}, size_t{10000}));
  app.add_option("--init", f.init,
                 "A pre-trained model (hymir pretrain): its features are used, and it is scored as it is "
                 "(\"pretrained\") and fine-tuned (\"moe-finetuned\") beside the other systems")
      ->check(CLI::ExistingFile);
  app.add_flag("--extend-gate", f.extend_gate,
               "With --init: the gate also reads the index's query-embedding components and domain features, from "
               "zero weights (as hymir train --extend-gate)");
  app.add_option("--fuse-grid", f.fuse_grid,
                 "With --init and --cv-folds: also score the pre-trained model's and moe-topk-shared's standardised "
                 "scores fused at these weights of the latter (comma-separated)")
      ->delimiter(',');
  app.add_option("--embedding-dims", f.emb_dims, "With --extend-gate: query-embedding components (default 16)")
      ->check(CLI::Range(0, 4096));
  app.add_option("--kg", f.kg, "Knowledge graph directory: KG features and query expansion")
      ->check(CLI::ExistingDirectory);
  app::AddMoeTrainFlags(app, f.moe);
  app.add_option("--validation", f.moe.options.validation_fraction,
                 "Share of the train queries held out for early stopping, MoE and LambdaMART (default 0.3)")
      ->check(CLI::Range(0.01, 0.9));
  app::AddFeatureFlags(app, f.features);
  app.add_flag("--xgb-importance", f.xgb_importance,
               "Print LambdaMART's 15 features with the largest share of total split gain (stderr)");
  app.add_flag("--xgb-pair-only", f.xgb_pair_only, "LambdaMART reads the pair features only, not the query features");
  app.add_option("--xgb-rounds", f.xgb_rounds, "Maximum LambdaMART rounds (default 500)")->check(CLI::Range(1, 100000));
  app.add_option("--speed-reps", f.speed_reps, "Passes over the test queries when timing scoring (default 3)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--routing-svg", f.routing_svg, "Write the routing heat map (domain x top-1 expert) as SVG");
  app.add_option("--threads", f.threads, "Feature-extraction and XGBoost threads (default: all cores)")
      ->check(CLI::Range(0, 1024));
  CLI11_PARSE(app, argc, argv);

  const auto t0 = Clock::now();
  if (!f.init.empty()) {
    auto m = ranking::MoeModel::Load(f.init);
    if (!m.ok()) {
      std::fprintf(stderr, "hymir-rerank-bench: %s\n", m.status().ToString().c_str());
      return 1;
    }
    f.init_model = std::move(m).value();
  }
  if (Status s = RunBench(f, CommandLine(argc, argv)); !s.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "hymir-rerank-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("\ntotal %.1f s\n", Since(t0));
  return 0;
}
