// Pre-training the MoE re-ranker without judgements.
//
// Pseudo-queries are made from the index's own documents, each with its
// source document as the one relevant document (labels 1 / 0):
//   - title:   the document's title (documents whose text adds at least
//              kMinRestTerms analysed terms beyond it);
//   - ict:     inverse cloze: one sentence of the text, taken *out* of its
//              document. The training copy of the index holds the document
//              without that sentence (text, vectors and statistics), so
//              neither retrieval nor features see the removed span and the
//              model cannot learn exact matching;
//   - terms:   a few of the document's high tf-idf words (a keyword query).
// Candidates come from the same hybrid retriever as at search time (over the
// training copy when ict is used), features from the same FeatureExtractor.
//
// Training is either joint (one TrainMoe on every pseudo-query) or by
// sub-distribution: the corpus is clustered (FAISS k-means on the documents'
// vectors) into as many clusters as routed experts, expert e is first trained
// alone on cluster e's pseudo-queries, the shared experts alone on all of
// them, then gate, shared and routed experts together on all of them (the
// gate pulled towards each query's cluster by a routing loss).
//
// The feature set defaults to inputs that mean the same on every corpus: no
// query-embedding components (one corpus's LSA axes mean nothing in
// another's) and no corpus domain names; see docs/training.md.
//
// Everything is deterministic given PretrainOptions::seed and the index.
//
// Thread-safety: GeneratePseudoQueries and Pretrain are reentrant; the
// engine must not be refreshed while they run.
#ifndef HYMIR_PRETRAIN_H_
#define HYMIR_PRETRAIN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hymir/engine.h"
#include "hymir/features.h"
#include "hymir/kg_uses.h"
#include "hymir/ranking/moe_model.h"
#include "hymir/ranking/moe_trainer.h"
#include "hymir/result.h"

namespace hymir {

class KnowledgeContext;  // hymir/knowledge.h

// kKnowledge ("kg"): an entity's name or synonym, for a document that
// mentions the entity (GenerateKgPseudoQueries); made only with a KG.
enum class PseudoQueryKind { kTitle, kInverseCloze, kTerms, kKnowledge };
Result<PseudoQueryKind> ParsePseudoQueryKind(std::string_view name);  // title|ict|terms
const char* PseudoQueryKindName(PseudoQueryKind kind);

struct PseudoQuery {
  std::string id;  // "pq:<kind>:<n>"
  std::string text;
  std::string doc_id;  // the source document, the one relevant document
  PseudoQueryKind kind = PseudoQueryKind::kInverseCloze;
  // ict only: the source document's text without the query sentence (what
  // the training copy of the index holds for it).
  std::optional<std::string> rest_text;
};

struct GeneratorOptions {
  // Generators used; the queries are shared equally among those that apply
  // to the corpus (a generator that runs out of eligible documents leaves its
  // share to the others). Default: all three.
  std::vector<PseudoQueryKind> kinds = {PseudoQueryKind::kInverseCloze, PseudoQueryKind::kTitle,
                                        PseudoQueryKind::kTerms};
  size_t queries = 2000;  // pseudo-queries in all. Default: 2000.
  // ict: a sentence qualifies with [min, max] analysed terms, and leaves at
  // least kMinRestTerms analysed terms in its document.
  size_t ict_min_terms = 4;
  size_t ict_max_terms = 40;
  // terms: words per query, uniform in [min, max].
  size_t terms_min = 2;
  size_t terms_max = 5;
  uint64_t seed = 42;
};

// Analysed terms a document must keep besides its query (title, ict).
inline constexpr size_t kMinRestTerms = 5;

// Pseudo-queries from the live documents of `engine`'s index (each document
// is the source of at most one query per kind). InvalidArgument when no
// generator applies to any document.
Result<std::vector<PseudoQuery>> GeneratePseudoQueries(const Engine& engine, const GeneratorOptions& options);

// Knowledge pseudo-queries: up to `queries` documents, each with one of its
// linked entities (those of its kKgEntitiesField, else linked now) that at
// most max(2, documents / 200) documents mention (the specific ones; the
// rarest of the document's, ties at random), as the query one of that
// entity's aliases drawn at random (its name or a synonym, which the
// document may word differently). Kind kKnowledge, ids "pq:kg:<n>".
// Deterministic given `seed`. Empty when no document qualifies.
Result<std::vector<PseudoQuery>> GenerateKgPseudoQueries(const Engine& engine, const KnowledgeContext& kg,
                                                         size_t queries, uint64_t seed);

// How the retrieval-prior weight is chosen from the held-out pseudo-queries'
// per-kind gains (PretrainOptions::prior_objective).
enum class PriorObjective { kWorstKind, kMeanKind };

struct PretrainOptions {
  GeneratorOptions generate;
  size_t depth = 100;  // candidates per pseudo-query (the re-rank depth)
  // Feature set; its `domains` are filled from the corpus when
  // domain_features. Default: query_embedding_dims = 0 (corpus-independent).
  FeatureConfig features = [] {
    FeatureConfig c;
    c.query_embedding_dims = 0;
    return c;
  }();
  bool domain_features = false;
  // How the knowledge graph is used, when there is one (expansion of the
  // pseudo-queries, fusion features, gate inputs, KG pseudo-queries).
  // Default: KgUses{}.
  KgUses kg_uses;
  // KG pseudo-queries (kg_uses.pseudo_queries) as a share of
  // generate.queries, added to them. Default: 0.25.
  double kg_query_share = 0.25;
  // Model shape and training; balance_domains is ignored (pseudo-queries
  // have no domain).
  ranking::MoeTrainOptions train;
  // Expert pre-training by sub-distribution (see above) instead of joint
  // training; an index without a vector field falls back to joint training
  // (PretrainReport::cluster_sizes stays empty). Default: true (on the
  // selection queries, mixed's train split per collection, mean nDCG@10 gain
  // over hybrid +0.0195 vs +0.0164 for joint; bench/results, pre-training report).
  bool cluster_experts = true;
  // The routing loss of the joint stage after the per-expert stage
  // (ObjectiveOptions::routing_loss, towards the query's cluster).
  double cluster_routing_loss = 0.1;
  // Share of the pseudo-queries held out of training to compare the model
  // with the hybrid ranking (PretrainReport::checks). Default: 0.15.
  double check_fraction = 0.15;
  // The safety blend (MoeModel::set_retrieval_prior on fused_rrank): its
  // weight mu in {prior_floor, ..., 1} (steps of 0.1) is chosen on the
  // held-out pseudo-queries to maximise prior_objective over the generators'
  // lower confidence bounds (mean - prior_confidence standard errors) of the
  // per-query nDCG@10 gain over the retrieval order (ties: the mean gain). At
  // mu = 1 every gain is 0, so a model that does not help the held-out
  // pseudo-queries ends at or near the retrieval order. Default: true.
  bool retrieval_prior = true;
  // What the weight maximises (PriorObjectiveValue): kMeanKind, the mean over
  // the generators of their bounds, or kWorstKind, the smallest bound. Default:
  // kMeanKind (on the selection queries, three draws of the pre-trained model
  // per collection, mean nDCG@10 gain over hybrid +0.0218 to +0.0230 against
  // +0.0160 to +0.0184 for the worst kind, which let one generator unlike the
  // corpus's queries, cisi's keyword pseudo-queries, hold the weight near
  // the retrieval order; bench/results, pre-training report).
  PriorObjective prior_objective = PriorObjective::kMeanKind;
  // z of that bound; 0 = the plain smallest mean gain. Default: 0 (on the
  // selection queries one standard error gave a mean gain over hybrid of
  // +0.0169 against +0.0195; bench/results, pre-training report).
  double prior_confidence = 0.0;
  // The smallest weight considered: held-out pseudo-queries come from the
  // task the model was trained on and overstate its lead on real queries,
  // so some trust in the retrieval order is kept always. Default: 0.2 (on the
  // selection queries, re-scoring the same per-cluster models, the mean gain
  // over hybrid was +0.0248 with the floor and +0.0195 without; a fixed 0.2
  // gave +0.0239. The default's own selection run, whose training index
  // trains its LSA on one thread, gave +0.0149: runs differ by about 0.01).
  double prior_floor = 0.2;
  // Where the training copy of the index is built (ict only); "" = a fresh
  // directory under the system temp dir. Removed afterwards unless
  // keep_work_dir.
  std::string work_dir;
  bool keep_work_dir = false;
  int threads = 0;  // feature threads (0 = hardware concurrency)
  // Called on the calling thread at each stage: a line of progress.
  std::function<void(const std::string& line)> progress;
  // Distributed feature extraction: this process retrieves and featurises
  // only the pseudo-queries i with i % part.second == part.first, and
  // gather_groups (required when part.second > 1) returns every process's
  // groups as one list in pseudo-query order (hymir::dist::AllGatherGroups).
  std::pair<int, int> part = {0, 1};
  std::function<Result<std::vector<ranking::QueryGroup>>(const std::vector<ranking::QueryGroup>& mine)> gather_groups;
  // Expert-parallel stage: trains expert x (routed 0..E-1, then shared
  // E..E+S-1) only when expert_filter(x) (the others keep their initial
  // weights), then calls expert_gather(parameters, block) so the caller can
  // collect every expert's block of `block` parameters (expert x at
  // x * block, MoeModel::parameters() layout) from where it was trained
  // (hymir::dist). Default: every expert here, no gather.
  std::function<bool(int expert)> expert_filter;
  std::function<Status(std::vector<double>& parameters, size_t block)> expert_gather;
};

// One candidate retrieval-prior weight on the held-out pseudo-queries: per
// kind, the mean and standard error of the per-query nDCG@10 gain over the
// retrieval order.
struct PriorTrial {
  struct Kind {
    PseudoQueryKind kind = PseudoQueryKind::kInverseCloze;
    double mean_gain = 0.0;
    double standard_error = 0.0;
  };
  double weight = 0.0;  // mu
  std::vector<Kind> kinds;
};

// The value Pretrain maximises over the trials (ties: the larger mean gain):
// each kind's bound is mean_gain - confidence * standard_error; kWorstKind
// takes the smallest bound, kMeanKind their mean. 0 for no kinds.
double PriorObjectiveValue(const PriorTrial& trial, PriorObjective objective, double confidence);

// Held-out pseudo-queries of one kind: nDCG@10 of the hybrid order and of the
// pre-trained model (one relevant document each).
struct PretrainCheck {
  PseudoQueryKind kind = PseudoQueryKind::kInverseCloze;
  size_t queries = 0;
  double hybrid_ndcg = 0.0;
  double model_ndcg = 0.0;
};

struct PretrainReport {
  size_t documents = 0;
  std::vector<std::pair<PseudoQueryKind, size_t>> generated;  // per kind
  size_t with_source = 0;                                     // queries whose source is among the candidates
  size_t train_queries = 0, check_queries = 0;
  double generate_seconds = 0, copy_seconds = 0, feature_seconds = 0, train_seconds = 0;
  double queries_per_second = 0;      // pseudo-queries generated, retrieved and featurised per second
  std::vector<size_t> cluster_sizes;  // documents per cluster (cluster_experts)
  ranking::TrainReport joint;
  double prior_weight = 0.0;             // the chosen retrieval-prior weight mu
  std::vector<PriorTrial> prior_trials;  // every weight tried, in increasing order
  std::vector<PretrainCheck> checks;     // with the chosen prior
};

// Pre-trains a MoE re-ranker on `engine`'s index (whose directory is
// `index_dir`). `kg` (optional) adds KG expansion and features, as `hymir
// train --kg`. The returned model re-ranks that index (hymir search --rerank)
// and is the starting point of fine-tuning (MoeTrainOptions::init).
Result<ranking::MoeModel> Pretrain(const Engine& engine, const std::string& index_dir, const PretrainOptions& options,
                                   const KnowledgeContext* kg = nullptr, PretrainReport* report = nullptr);

}  // namespace hymir

#endif  // HYMIR_PRETRAIN_H_
