// Pipeline: the whole search path of hymir in one object, what `hymir search
// --kg DIR --rerank MODEL` runs: KG expansion (kg) -> retrieval (BM25,
// vectors) -> fusion (Engine) -> MoE re-ranking (Reranker) -> the page's
// stored documents and snippets. One result type keeps every stage: each
// hit's BM25, vector, fused and re-ranker scores and ranks, the expansion
// terms, the retriever and fusion used, the gate's routing and, on request,
// the re-ranker's explanation of each hit.
//
// A parameter set (command-line flags, HTTP query parameters) becomes a query
// in one place, query_spec.h: QuerySpec -> BuildQuery() (and
// ParseQueryParams() for name=value parameters).
//
// A pipeline opens from one options struct, or from an index directory alone
// with the configuration recorded in it (RecordPipelineOptions).
//
// Thread-safety: immutable after Open(); Search(), SearchBatch(), Expand()
// and the accessors may run concurrently from many threads (the engine,
// knowledge graph and re-ranker all allow concurrent searches).
#ifndef HYMIR_PIPELINE_H_
#define HYMIR_PIPELINE_H_

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hymir/document.h"
#include "hymir/engine.h"
#include "hymir/query_spec.h"
#include "hymir/knowledge.h"
#include "hymir/ranking/moe_model.h"
#include "hymir/reranker.h"
#include "hymir/result.h"

namespace hymir {

struct PipelineOptions {
  // Index directory (`hymir index`). Required by Open(options); ignored when
  // the engine is given. Its recorded configuration (analyzer, vector fields
  // and their embedders, the tuned default fusion) applies.
  std::string index_dir;
  // Knowledge graph directory (`hymir kg load`); "" = no KG (no expansion,
  // no KG features).
  std::string kg_dir;
  // Linker, expansion and KG feature options; used only with `kg_dir`.
  // A relation named "none" is dropped, and a neighbour weight of 0 follows
  // no relation. Default: the library's.
  KnowledgeOptions knowledge;
  // MoE re-ranker model file (`hymir train`, `hymir pretrain`); "" = no
  // re-ranking. A model trained with KG features needs `kg_dir`.
  std::string rerank_model;
  // Weight in [0, 1] of the retrieval order blended into the re-ranker's
  // scores (0: the model alone, 1: the retrieval order); nullopt = the
  // model's own (saved with it). Default: nullopt.
  std::optional<double> rerank_prior;
  // Candidates the re-ranker scores per query. Default: 100.
  size_t rerank_depth = 100;
  // Threads of SearchBatch's re-ranking (features and scoring);
  // 0 = hardware concurrency. Default: 0.
  int threads = 0;
};

struct PipelineHit {
  // Rank, id, final score and every stage's score and rank (bm25, vector,
  // fused, rerank).
  SearchHit hit;
  // The stored document (fetch_documents); nullopt when it was deleted since
  // the search or documents were not fetched.
  std::optional<Document> document;
  std::string snippet;  // see StageOptions::snippet_chars
  // The re-ranker's explanation (explain, re-ranked hits only).
  std::optional<ranking::MoeExplanation> moe;
};

struct PipelineResult {
  HybridQuery query;                       // the query as run (with its KG expansions)
  Retriever retriever = Retriever::kBm25;  // the retriever used (kAuto resolved)
  // The fusion used (the query's, else the index's default); meaningful when
  // `retriever` is kHybrid.
  ranking::FusionOptions fusion;
  bool expanded = false;                      // KG expansion ran
  std::vector<kg::ExpansionTerm> expansions;  // the expansion terms added
  bool reranked = false;
  ranking::Routing routing;  // the gate's decision (reranked only)
  // The fine-tuned model's share for a model with per-query trust
  // (RerankedResult::trust); 1 otherwise.
  double trust = 1.0;
  std::vector<PipelineHit> hits;  // the page [offset, offset + k)
  // Documents the BM25 query and the filters match, exactly (StageOptions::
  // count or facets asked for; nullopt otherwise), and the facets asked for.
  std::optional<uint64_t> total;
  std::vector<index::FacetResult> facets;
};

// An index's recorded pipeline, <index_dir>/pipeline.json: what to open
// with the index when only its directory is given (Pipeline::Open(dir)).
// Records kg_dir, rerank_model (both made absolute), rerank_prior and
// rerank_depth of `options`, and the model file's size and checksum (read
// back, another file at that path is Corruption); its other fields are not
// recorded. `hymir index --kg DIR` records the KG it linked the documents
// against. The file is recorded in the index's commit manifest
// (index::WriteRecordedIndexFile): Busy while an IndexWriter is open on it.
Status RecordPipelineOptions(const std::string& index_dir, const PipelineOptions& options);
// The options <index_dir> records, with index_dir set; the defaults (index
// alone) when it records none. Corruption naming the file when it is damaged.
Result<PipelineOptions> RecordedPipelineOptions(const std::string& index_dir);

class Pipeline {
 public:
  // Opens the pipeline `index_dir` records (RecordedPipelineOptions): the
  // index, and the KG and re-ranker recorded with it.
  static Result<std::unique_ptr<Pipeline>> Open(const std::string& index_dir);
  // Opens the index, then the KG and the re-ranker when `options` names
  // them. The statuses of Engine::Open, KnowledgeContext::Open and
  // Reranker::Open (NotFound for a missing directory or file, Corruption for
  // damaged data, InvalidArgument for a model this index or KG cannot
  // serve).
  static Result<std::unique_ptr<Pipeline>> Open(const PipelineOptions& options);
  // The same over an engine opened by the caller (a shard's, under
  // hymir::dist); `engine` must outlive the pipeline.
  static Result<std::unique_ptr<Pipeline>> Open(const Engine& engine, const PipelineOptions& options);
  // A pipeline over parts the caller owns; each must outlive it. `kg` and
  // `reranker` may be null. Only rerank_depth and threads of `options` are
  // used.
  static std::unique_ptr<Pipeline> FromParts(const Engine& engine, const KnowledgeContext* kg, const Reranker* reranker,
                                             const PipelineOptions& options = {});
  ~Pipeline();

  // One query through every stage (see StageOptions).
  Result<PipelineResult> Search(const HybridQuery& query, const StageOptions& stages = {}) const;
  // Many queries (a run): retrieval batched in the engine, re-ranking on
  // `threads` threads. Results in query order.
  Result<std::vector<PipelineResult>> SearchBatch(const std::vector<HybridQuery>& queries,
                                                  const StageOptions& stages = {}) const;

  // KG expansion of `query` in place (its terms become weighted BM25
  // expansions); returns the terms added. No-op without a KG.
  Result<std::vector<kg::ExpansionTerm>> Expand(HybridQuery* query) const;
  // BuildQuery() on this pipeline's engine.
  Result<HybridQuery> MakeQuery(const QuerySpec& spec) const { return BuildQuery(spec, engine()); }

  const Engine& engine() const { return *engine_; }
  const KnowledgeContext* kg() const { return kg_; }      // null: no KG
  const Reranker* reranker() const { return reranker_; }  // null: no re-ranking
  const PipelineOptions& options() const { return options_; }

 private:
  Pipeline() = default;
  struct Plan;
  Result<Plan> Resolve(const StageOptions& stages) const;
  Result<PipelineResult> Finish(PipelineResult result, std::vector<SearchHit> hits, const RerankedResult* reranked,
                                const StageOptions& stages) const;

  PipelineOptions options_;
  std::unique_ptr<Engine> owned_engine_;
  std::unique_ptr<KnowledgeContext> owned_kg_;
  std::unique_ptr<Reranker> owned_reranker_;
  const Engine* engine_ = nullptr;
  const KnowledgeContext* kg_ = nullptr;
  const Reranker* reranker_ = nullptr;
};

}  // namespace hymir

#endif  // HYMIR_PIPELINE_H_
