// Pipeline: the whole search path of hymir in one object, what `hymir search
// --kg DIR --rerank MODEL` runs: KG expansion (kg) -> retrieval (BM25,
// vectors) -> fusion (Engine) -> MoE re-ranking (Reranker) -> the page's
// stored documents and snippets. One result type keeps every stage: each
// hit's BM25, vector, fused and re-ranker scores and ranks, the expansion
// terms, the retriever and fusion used, the gate's routing and, on request,
// the re-ranker's explanation of each hit.
//
// A parameter set (command-line flags, HTTP query parameters) becomes a query
// in one place: QuerySpec -> BuildQuery() (and ParseQueryParams() for
// name=value parameters, as an HTTP query string gives them).
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

// Which stages a call runs. A stage left nullopt runs when the pipeline has
// it (a KG for expansion, a model for re-ranking); asking for a stage the
// pipeline lacks is InvalidArgument.
struct StageOptions {
  std::optional<bool> expand;  // KG query expansion. Default: with a KG.
  std::optional<bool> rerank;  // MoE re-ranking. Default: with a model.
  // Keep, for each re-ranked hit, the gate's routing, the experts' scores and
  // the top feature contributions (PipelineHit::moe). Default: false.
  bool explain = false;
  // Fetch each hit's stored document (PipelineHit::document). Default: true.
  bool fetch_documents = true;
  // Length in bytes of PipelineHit::snippet, cut from the text at a space or
  // a UTF-8 boundary; 0 = no snippet. Needs fetch_documents. Default: 280.
  size_t snippet_chars = 280;
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
  HybridQuery query;     // the query as run (with its KG expansions)
  Retriever retriever = Retriever::kBm25;  // the retriever used (kAuto resolved)
  // The fusion used (the query's, else the index's default); meaningful when
  // `retriever` is kHybrid.
  ranking::FusionOptions fusion;
  bool expanded = false;  // KG expansion ran
  std::vector<kg::ExpansionTerm> expansions;  // the expansion terms added
  bool reranked = false;
  ranking::Routing routing;  // the gate's decision (reranked only)
  // The fine-tuned model's share for a model with per-query trust
  // (RerankedResult::trust); 1 otherwise.
  double trust = 1.0;
  std::vector<PipelineHit> hits;  // the page [offset, offset + k)
};

// A query as a parameter set: what `hymir search` and `hymir-mpi search`
// flags and the HTTP service's parameters give. BuildQuery() turns it into a
// HybridQuery; every front end goes through it.
struct QuerySpec {
  std::string id;    // optional, for runs
  std::string text;  // BM25 query (and the vector query when `vector` is empty)
  std::vector<float> vector;  // a raw query vector for `vector_field`
  std::string vector_field;   // "" = the index's first vector field
  std::string retriever = "auto";  // auto | bm25 | vector | hybrid
  std::vector<std::string> filters;  // FIELD:VALUE; one field twice admits either value
  std::vector<std::string> fields;   // BM25 FIELD[:WEIGHT]; empty = all
  double k1 = 0.9;  // BM25 k1. Default: index::Bm25Params's, 0.9.
  double b = 0.4;   // BM25 b. Default: index::Bm25Params's, 0.4.
  size_t k = 10;    // hits per page
  size_t offset = 0;
  // Fusion: "" keeps the index's default unless `alpha` or `weights` is set
  // (then the default with those changed); a method name (rrf, wrrf, minmax,
  // zscore, convex) starts from that method's defaults (convex: alpha
  // Engine::kDefaultAlpha). `rrf_k` applies whenever the fusion is changed.
  std::string fusion;
  double alpha = -1;  // convex weight of BM25 in [0, 1]; < 0 = not set
  double rrf_k = 60;
  std::vector<double> weights;  // per-retriever (BM25, vector) weights
  size_t bm25_depth = 1000;     // see HybridQuery
  size_t vector_depth = 100;
  int ef_search = 0;  // 0 = the field's default
  int nprobe = 0;
};

// The HybridQuery of `spec` on `engine` (whose default fusion the spec may
// adjust). InvalidArgument naming the parameter for a bad filter, field,
// retriever or fusion name.
Result<HybridQuery> BuildQuery(const QuerySpec& spec, const Engine& engine);

// Appends each "FIELD:VALUE" of `specs` to `out`; the same field twice admits
// either value. InvalidArgument (naming `what` and the spec) for a spec with
// no ':' or an empty field.
Status ParseFilters(const std::vector<std::string>& specs, std::vector<index::FieldFilter>* out,
                    const std::string& what = "filter");
// Replaces `out` with the "FIELD[:WEIGHT]" specs (weight 1 when absent);
// leaves it alone when `specs` is empty. InvalidArgument naming `what` and
// the spec for a weight that is not a number.
Status ParseFields(const std::vector<std::string>& specs, std::vector<index::FieldWeight>* out,
                   const std::string& what = "field");
// ParseFilters and ParseFields of `spec` alone, errors naming them as
// `filter_name` and `field_name` (a front end's flags, before it opens
// anything).
Status CheckQuerySpec(const QuerySpec& spec, const std::string& filter_name, const std::string& field_name);

// Parameters as name=value text (an HTTP query string's; a name may repeat).
using QueryParams = std::multimap<std::string, std::string>;

struct ParamLimits {
  size_t default_k = 10;  // k when the parameters give none
  size_t max_k = 1000;    // largest k, and offset + k, allowed
};

// Reads a parameter set into `spec` and `stages`:
//   q (required, not blank), k (1..max_k), offset, retriever, filter
//   (repeatable FIELD:VALUE), rerank, expand, explain (0|1|true|false|on|off;
//   an empty value is 1).
// A parameter other than filter given twice, a number that is not a whole
// number in range, or offset + k above max_k is InvalidArgument naming the
// parameter ("parameter k=0 is outside [1, 50]").
Status ParseQueryParams(const QueryParams& params, const ParamLimits& limits, QuerySpec* spec, StageOptions* stages);

// The first `limit` bytes of `text`, cut at a space (or a UTF-8 character
// boundary) and marked with an ellipsis when shortened.
std::string Snippet(const std::string& text, size_t limit);

// An index's recorded pipeline, <index_dir>/pipeline.json: what to open
// with the index when only its directory is given (Pipeline::Open(dir)).
// Records kg_dir, rerank_model (both made absolute), rerank_prior and
// rerank_depth of `options`; its other fields are not recorded. `hymir index
// --kg DIR` records the KG it linked the documents against.
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
  static std::unique_ptr<Pipeline> FromParts(const Engine& engine, const KnowledgeContext* kg,
                                             const Reranker* reranker, const PipelineOptions& options = {});
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
  const KnowledgeContext* kg() const { return kg_; }              // null: no KG
  const Reranker* reranker() const { return reranker_; }          // null: no re-ranking
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
