// Reranker: the MoE re-ranking stage of the pipeline. It retrieves with the
// engine, builds each candidate's features (FeatureExtractor), scores the top
// `depth` candidates with a ranking::MoeModel and reorders them; hits below
// the depth keep their retrieval order after the re-ranked ones, with scores
// shifted below the lowest re-ranked score (their retrieval score stays in
// SearchHit::fused).
// Every hit keeps each stage's score and rank (bm25, vector, fused, rerank).
//
// Thread-safety: Search(), SearchBatch() and Explain() may run concurrently.
#ifndef HYMIR_RERANKER_H_
#define HYMIR_RERANKER_H_

#include <memory>
#include <string>
#include <vector>

#include "hymir/engine.h"
#include "hymir/features.h"
#include "hymir/knowledge.h"
#include "hymir/ranking/moe_model.h"
#include "hymir/result.h"

namespace hymir {

struct RerankOptions {
  // Candidates re-scored per query. Default: 100.
  size_t depth = 100;
  // Keep each query's feature group in the result (for Explain). Default: false.
  bool keep_features = false;
};

struct RerankedResult {
  std::vector<SearchHit> hits;  // the page [offset, offset + k)
  ranking::Routing routing;     // the gate's decision for the query
  // The fine-tuned model's share of the served score for a model with
  // per-query trust (ranking::MoeModel::set_trust); 1 for any other model.
  double trust = 1.0;
  ranking::QueryGroup features;  // the re-scored candidates (keep_features only)
};

class Reranker {
 public:
  // Loads the model at `model_path` and prepares its features on `engine`
  // (and `kg`, required when the model was trained with KG features).
  // Corruption for a damaged model file; InvalidArgument when the model needs
  // features this engine cannot provide. `engine` and `kg` must outlive it.
  static Result<std::unique_ptr<Reranker>> Open(const Engine& engine, const std::string& model_path,
                                                const KnowledgeContext* kg = nullptr);
  static Result<std::unique_ptr<Reranker>> Create(const Engine& engine, ranking::MoeModel model,
                                                  const KnowledgeContext* kg = nullptr);
  ~Reranker();

  Result<RerankedResult> Search(const HybridQuery& query, const RerankOptions& options = {}) const;
  // Many queries: retrieval batched through the engine, features and scoring
  // on `threads` threads (0 = hardware concurrency).
  Result<std::vector<RerankedResult>> SearchBatch(const std::vector<HybridQuery>& queries,
                                                  const RerankOptions& options = {}, int threads = 0) const;
  // Routing, expert scores and top feature contributions of the hit with
  // document id `doc_id` in `result` (which must have keep_features).
  Result<ranking::MoeExplanation> Explain(const RerankedResult& result, const std::string& doc_id) const;

  // Re-ranks `hits`, the retrieval result of `query` from its top (offset 0,
  // at least max(depth, offset + k) hits, as Search() retrieves them), and
  // returns the page [offset, offset + k). `sources` (optional) supplies the
  // documents and statistics when they are not the engine's (hymir::dist).
  Result<RerankedResult> Rerank(const HybridQuery& query, std::vector<SearchHit> hits, const RerankOptions& options,
                                const ExtractSources* sources = nullptr) const;

  // The query's trust in a model with per-query trust (the query text
  // analysed as the index analyses it); 1 for any other model.
  double TrustOf(const HybridQuery& query) const;

  const ranking::MoeModel& model() const { return model_; }
  const FeatureExtractor& features() const { return *features_; }

 private:
  Reranker(const Engine& engine, ranking::MoeModel model, std::unique_ptr<FeatureExtractor> features);
  const Engine& engine_;
  ranking::MoeModel model_;
  std::unique_ptr<FeatureExtractor> features_;
};

}  // namespace hymir

#endif  // HYMIR_RERANKER_H_
