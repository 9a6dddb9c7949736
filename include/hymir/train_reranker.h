// Supervised training of the MoE re-ranker on judged queries: what `hymir
// train` runs, as one call.
//
// Each judged query is expanded through the knowledge graph (when one is
// given), its top `depth` candidates are retrieved by the engine exactly as
// at search time, their features come from the FeatureExtractor the
// re-ranker uses when serving, the judgements label them, and
// ranking::TrainMoe trains on the labelled groups. From an initial model
// (hymir pretrain's, or one trained before) the model is fine-tuned, or
// trained from scratch and served fused with it (knowledge fusion),
// optionally with per-query trust.
//
// The two halves are also offered alone, for programs that featurise more
// queries than they train on (a test split, evaluated with the training
// features) or train on part of the groups: BuildTrainingSet (expansion,
// retrieval, features, labels) and TrainReranker on a TrainingSet (the
// model). Pre-training without judgements is hymir/pretrain.h.
//
// Everything is deterministic given the options' seeds, the index and the
// queries.
//
// Thread-safety: the functions are reentrant; the engine must not be
// refreshed while they run. The callbacks are called on the calling thread.
#ifndef HYMIR_TRAIN_RERANKER_H_
#define HYMIR_TRAIN_RERANKER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hymir/beir.h"
#include "hymir/engine.h"
#include "hymir/features.h"
#include "hymir/kg_uses.h"
#include "hymir/ranking/moe_model.h"
#include "hymir/ranking/moe_trainer.h"
#include "hymir/ranking/qrels.h"
#include "hymir/ranking/query_trust.h"
#include "hymir/ranking/ranking_data.h"
#include "hymir/result.h"

namespace hymir {

class KnowledgeContext;  // hymir/knowledge.h

// One judged query to train on.
struct TrainingQuery {
  // The query as searched: text, optional raw vector, retriever, fusion,
  // filters, depths. Its k and offset are replaced by the training depth.
  HybridQuery query;
  // Its `domain` ("" = none): the training group's domain label, for
  // domain-balanced weights and the routing loss (ranking::MoeTrainOptions).
  std::string domain;
  // Documents that are never its candidates (a query by example: the
  // example itself). Retrieval then goes deeper by as many documents so
  // that `depth` candidates remain.
  std::vector<std::string> exclude;
};

// The records judged in `qrels`, in their order, as training queries: id,
// text and domain; with `engine`, also the record's vector for the index's
// first vector field when it has one (QueryRecord::vectors), as `hymir
// search --queries` searches it.
std::vector<TrainingQuery> JudgedQueries(const std::vector<QueryRecord>& records, const ranking::Qrels& qrels,
                                         const Engine* engine = nullptr);

// How a model trained from an initial one uses it (TrainRerankerOptions::init).
enum class InitUse {
  kFineTune,   // training starts from its weights (MoeTrainOptions::init)
  kFuseFixed,  // a model from scratch on this index's full features, served
               // fused with it at TrainRerankerOptions::fuse_weight
  kFuseAuto,   // the same, the weight chosen by cross-validation on the
               // judged queries among TrainRerankerOptions::fuse_grid
};

struct TrainRerankerOptions {
  // Candidates per query: the re-rank depth the model will serve at.
  // Default: 100.
  size_t depth = 100;
  // The feature set. Its `kg` is set from whether a KnowledgeContext is
  // given, and its `domains` are filled from the corpus when
  // domain_features (otherwise kept as given). Ignored with `init`, whose
  // own feature set is used (see extend_gate). Default: FeatureConfig's (16
  // query-embedding components).
  FeatureConfig features;
  // Per-domain gate features: the corpus domains (the documents' `domain`
  // field) of the training queries' candidates (FeatureExtractor::DomainsOf).
  // With `init`, only when the gate is extended (extend_gate, fusion).
  // Default: true.
  bool domain_features = true;
  // With a knowledge graph: each query is expanded (KnowledgeContext::
  // ExpandQuery) before retrieval. Default: true.
  bool expand = true;
  // How the knowledge graph is used, when there is one (expand and the
  // feature uses; pseudo_queries is pre-training's). Default: expand and
  // gate; the fusion features are off (in nested cross-validation on mixed's
  // train split, macro nDCG@10 0.5555 without them, 0.5509 with them).
  KgUses kg_uses = kDefaultTrainKgUses;
  // Feature-extraction threads (0 = hardware concurrency). Default: 0.
  int threads = 0;
  // Model shape and training: loss and its extra terms, epochs, learning
  // rate, validation share, seed, boosted expert. train.init is not used
  // (see `init`); when fine-tuning, train.model is the initial model's.
  // Default: MoeTrainOptions's.
  ranking::MoeTrainOptions train;

  // --- Starting from a model (hymir pretrain's, or one trained before) ---
  // The initial model; nullptr = train from scratch. Its feature set is used
  // (FeatureExtractor::ConfigFromSchema; a model with KG features needs the
  // knowledge graph), and any per-query trust it carries is dropped (a
  // model is fine-tuned from its own weights). Not owned; must outlive the
  // call. Default: nullptr.
  const ranking::MoeModel* init = nullptr;
  // With init: see InitUse. Default: kFineTune.
  InitUse init_use = InitUse::kFineTune;
  // With init: the gate also reads this index's query-embedding components
  // (features.query_embedding_dims) and, with domain_features, its domain
  // features, from zero weights (MoeModel::WithQueryFeatures). Fusion always
  // extends the gate. Default: false.
  bool extend_gate = false;
  // kFuseFixed: the weight of the new model in [0, 1]; 0 returns the initial
  // model alone. Default: 0.5.
  double fuse_weight = 0.5;
  // kFuseAuto: the candidate weights (each in [0, 1]) and the number of
  // cross-validation folds (>= 2). Default: {0, 0.25, 0.5, 0.75}, 3 folds.
  std::vector<double> fuse_grid = {0.0, 0.25, 0.5, 0.75};
  int fuse_folds = 3;
  // With init: per-query trust (ranking::QueryTrust over the judged
  // queries): the served score moves from the initial model's to the new
  // one's as far as the judged queries cover the query; with
  // trust_config.gain_scale > 0 (not with fusion) also by the neighbourhood's
  // out-of-fold gain, from trust_folds fine-tunings (>= 2). Default: off, 3
  // folds, QueryTrustConfig's.
  bool trust = false;
  int trust_folds = 3;
  ranking::QueryTrustConfig trust_config;

  // Automatic choice (`hymir train`'s default): the configuration is chosen
  // by choose_folds-fold cross-validation on the judged groups. With init the
  // candidates are the initial model as it is, fine-tuned (train's
  // finetune_alpha, the gate extended), and fused at each weight of
  // fuse_grid above 0 with a model from scratch with and without the boosted
  // expert; without init, a model from scratch with and without it. A
  // candidate replaces the initial model only when its paired out-of-fold
  // gain over it is above one standard error. Among the rest, the one of
  // best macro nDCG@10 gives way to the cheapest (earliest in that list,
  // which is in order of serving cost) whose paired out-of-fold shortfall
  // against it is within one standard error: a model with trees, or a
  // fused one, is served only when it beats the cheaper models by more
  // than the folds' noise. Folds
  // are drawn from the query ids and train.seed. init_use, extend_gate and
  // train.tree_expert are ignored; not with trust or distributed. The
  // choice, every candidate's figures and a nested estimate (each fold
  // scored by the choice made on the other folds) are in the report.
  // Default: off.
  bool choose = false;
  int choose_folds = 3;
  // With choose and init, when the judged queries with a relevant
  // candidate carry at least three domains (TrainingQuery::domain): every
  // candidate is also trained with each judged domain held out in turn and
  // scored on it, and a candidate that loses to the initial model on some
  // held-out domain by more than one standard error may not replace it.
  // Judgements rarely cover all the traffic; this is the choice's estimate
  // of what a candidate does on a domain it was not trained on. It costs
  // one more set of trainings per domain, and with every domain of the
  // traffic judged it is needlessly strict (on mixed it kept the initial
  // model, test macro +0.028 over hybrid against +0.043 without it;
  // bench/results, training cost and logs report). Default: false.
  bool choose_domain_check = false;

  // A line of progress at each stage (without a program name). Default: none.
  std::function<void(const std::string& line)> progress;
  // Each epoch of the main training run. Default: none.
  std::function<void(const ranking::EpochReport& epoch)> epoch_progress;

  // --- Distributed feature extraction (hymir::dist::DataParallelRerankerTraining) ---
  // This process expands, retrieves and featurises only the queries i with
  // i % part.second == part.first; when part.second > 1:
  //  - gather_groups (required) returns every process's labelled groups as
  //    one list in query order (hymir::dist::AllGatherGroups);
  //  - gather_domains (required with domain features) returns the union of
  //    every process's corpus domains, sorted;
  //  - agree (optional) is called by every process after each local stage
  //    with its status, and returns the status all processes share, so that
  //    a failure on one becomes the same error on all (dist::Cluster::Agree)
  //    instead of a deadlock in the next gather;
  //  - train.parallel should make training data-parallel too.
  // Fusion and trust are not supported distributed. Default: one process.
  std::pair<int, int> part = {0, 1};
  std::function<Result<std::vector<ranking::QueryGroup>>(const std::vector<ranking::QueryGroup>& mine)> gather_groups;
  std::function<Result<std::vector<std::string>>(const std::vector<std::string>& mine)> gather_domains;
  std::function<Status(const Status& local)> agree;

  // InvalidArgument when the options contradict each other (fusion or trust
  // without init, a weight outside [0, 1], too few folds, a distributed part
  // without its gather); TrainReranker and BuildTrainingSet check it first.
  Status Validate() const;
};

// The judged queries' candidates and labelled feature groups: the first
// half of TrainReranker.
struct TrainingSet {
  // The extractor the groups come from; featurise more queries with it
  // (BuildTrainingSet's `extractor`) or re-rank with the trained model.
  std::shared_ptr<const FeatureExtractor> extractor;
  // This process's queries as retrieved (KG-expanded), their domains and
  // candidates (the top `depth`, excluded documents removed).
  std::vector<HybridQuery> queries;
  std::vector<std::string> domains;
  std::vector<std::vector<SearchHit>> hits;
  // One labelled group per query (every process's, in query order, when
  // distributed), its domain an index into the extractor's domains.
  std::vector<ranking::QueryGroup> groups;
  size_t with_relevant = 0;  // groups with a relevant candidate
  double seconds = 0.0;      // retrieval, features and labels
};

// Expansion, retrieval, features and labels of `queries`. The feature set
// is options.init's or options.features (corpus domains from these
// queries' candidates), unless `extractor` is given: then its features are
// used as they are (a test split featurised as the training split was).
// `kg` (optional) adds expansion and KG features, as `hymir train --kg`.
// InvalidArgument for no queries or a KG-featured init without `kg`.
Result<TrainingSet> BuildTrainingSet(const Engine& engine, const std::vector<TrainingQuery>& queries,
                                     const ranking::Qrels& qrels, const TrainRerankerOptions& options,
                                     const KnowledgeContext* kg = nullptr,
                                     std::shared_ptr<const FeatureExtractor> extractor = nullptr);

// `init` extended to read the set's query features too (extend_gate,
// fusion): MoeModel::WithQueryFeatures, the new features' normalisation
// fitted on the set's groups. A copy of `init` when the features are
// already its own.
Result<ranking::MoeModel> ExtendGate(const ranking::MoeModel& init, const TrainingSet& set);

struct TrainRerankerReport {
  size_t queries = 0;        // training groups (every process's)
  size_t with_relevant = 0;  // of them, with a relevant candidate in the top depth
  size_t pair_features = 0, query_features = 0;
  size_t gate_extension = 0;  // query features the initial model's gate gained
  double feature_seconds = 0.0, train_seconds = 0.0;
  ranking::MoeConfig model;  // the shape trained (the initial model's when fine-tuning)
  ranking::TrainReport train;
  // With fusion: the weight used (kFuseAuto: the chosen one, and the choice).
  double fuse_weight = 0.0;
  ranking::FusionChoice fusion;
  size_t trust_queries = 0;  // with trust: the judged queries it covers
  // With choose: the candidates and the choice.
  struct Candidate {
    std::string name;             // e.g. "fused at 0.50 with trees"
    double macro = 0.0;           // out-of-fold nDCG@10 (per-domain mean)
    double gain = 0.0, se = 0.0;  // paired out-of-fold gain over the initial model, its standard error
    std::vector<double> folds;    // out-of-fold nDCG@10 per fold
    // Paired out-of-fold nDCG@10 of the best admitted candidate (best macro
    // among those that may replace the initial model) minus this one, and
    // its standard error: the cost rule picks the cheapest admitted
    // candidate with shortfall <= shortfall_se.
    double shortfall = 0.0, shortfall_se = 0.0;
    // Microseconds to score 100 candidates (p50, one thread), measured on
    // the last trained fold's model as served; 0 when not measured. For
    // the report only: the choice uses the candidates' order, not timings.
    double score_micros = 0.0;
    // With choose_domain_check: the held-out domain where this candidate's
    // paired gain over the initial model is lowest, that gain and its
    // standard error, and whether some held-out domain lost by more than
    // one standard error (then it may not replace the initial model).
    std::string worst_domain;
    double worst_domain_gain = 0.0, worst_domain_se = 0.0;
    bool barred_by_domain = false;
  };
  std::vector<Candidate> candidates;
  size_t chosen = 0;                               // index into candidates
  std::string why;                                 // the rule's reason, one line
  std::vector<std::string> nested;                 // per outer fold: the choice on the others and its score there
  double nested_chosen = 0.0, nested_start = 0.0;  // nested estimate: the choices' and the first candidate's
  // The model's serving cost: microseconds to score 100 candidates (features
  // given, one thread), p50 and p99 over the training groups, scaled to 100
  // candidates per group. Feature extraction, which every model pays alike,
  // is not included.
  double score_micros_p50 = 0.0, score_micros_p99 = 0.0;
};

// Trains a MoE re-ranker for `engine`'s index on the judged `queries`. The
// model re-ranks that index (hymir search --rerank, Pipeline), with the
// knowledge graph when `kg` was given. InvalidArgument for bad options, no
// judged query with a relevant candidate among its candidates, or an
// initial model whose features this index cannot provide.
Result<ranking::MoeModel> TrainReranker(const Engine& engine, const std::vector<TrainingQuery>& queries,
                                        const ranking::Qrels& qrels, const TrainRerankerOptions& options,
                                        const KnowledgeContext* kg = nullptr, TrainRerankerReport* report = nullptr);

// The second half: trains on a set from BuildTrainingSet with the same
// options (or on part of its groups). `engine` analyses the queries for
// per-query trust.
Result<ranking::MoeModel> TrainReranker(const Engine& engine, const TrainingSet& set,
                                        const TrainRerankerOptions& options, TrainRerankerReport* report = nullptr);

}  // namespace hymir

#endif  // HYMIR_TRAIN_RERANKER_H_
