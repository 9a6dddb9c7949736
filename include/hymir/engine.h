// Engine: hybrid retrieval over one index directory -- BM25 candidates
// (index, Lucene++), vector candidates (index, FAISS) and their fusion
// (ranking), every stage's score and rank kept in each result. Nothing more:
// no knowledge-graph expansion, no re-ranking, no stored documents in the
// results.
//
// Which to use: most services want Pipeline (hymir/pipeline.h), the whole
// search path in one object -- KG query expansion, this retrieval and
// fusion, MoE re-ranking, and the page's documents and snippets -- opened
// from an index directory and optional KG and model. Use Engine directly
// for retrieval alone, or to build on it (FeatureExtractor, Reranker,
// Pretrain and TrainReranker take an Engine; Pipeline::engine() gives its
// own).
//
// Thread-safety: Search() and SearchBatch() may run concurrently from many
// threads, also with Refresh().
#ifndef HYMIR_ENGINE_H_
#define HYMIR_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hymir/index/searcher.h"
#include "hymir/query_language.h"
#include "hymir/ranking/fusion.h"
#include "hymir/result.h"

namespace hymir {

enum class Retriever {
  kAuto,  // hybrid when the query can reach a vector field (a query vector,
          // or a field with an embedder), BM25 otherwise
  kBm25,
  kVector,
  kHybrid,
};

Result<Retriever> ParseRetriever(std::string_view name);  // auto|bm25|vector|hybrid
const char* RetrieverName(Retriever r);

// One more vector list for a query: nearest neighbours of `vector` in
// `field` (a raw vector of the field's dimension), fused with the query's
// other lists. A media query by example searches each descriptor's field.
struct VectorClause {
  std::string field;
  std::vector<float> vector;
};

struct HybridQuery {
  std::string id;  // optional, for runs and explain
  // BM25 query, and the vector query when `vector` is empty. A text with no
  // term after analysis (empty, or stop words only) and no `vector` matches
  // nothing: the answer is no hits (not a constant-score list from embedding
  // an empty text).
  std::string text;
  // How `text` is read (index::TextQuery::syntax). With kLucene, BM25 runs
  // the structured query; the vector side embeds its free text (the terms
  // and phrases outside excluded clauses, FreeText()) and keeps only vector
  // candidates satisfying its required and excluded top-level clauses.
  // Default: kPlain.
  QuerySyntax syntax = QuerySyntax::kPlain;
  // A raw query vector for `vector_field` (the multimedia case); when empty,
  // `text` is embedded with the field's embedder. Must hold exactly the
  // field's dimension of floats (InvalidArgument naming the query otherwise).
  std::vector<float> vector;
  // Vector field to search; "" = the index's first vector field.
  std::string vector_field;
  // More vector lists (lists 2, 3, ... of the fusion, in this order),
  // searched whenever the retriever is vector or hybrid; every vector list
  // is then searched to vector_depth (also under the vector retriever, whose
  // lists are fused). With any, auto resolves to vector (no text) or hybrid, and
  // a query without `fusion` is fused by RRF (k 60): the stored default may
  // be convex, which takes two lists only. `vector` may then be empty with
  // no text to embed: the first vector list is simply empty.
  std::vector<VectorClause> more_vectors;
  Retriever retriever = Retriever::kAuto;
  std::vector<index::FieldFilter> filters;
  // Range filters on typed fields (index/schema.h); like `filters`, they
  // restrict BM25 and vector candidates alike. Default: none.
  std::vector<index::RangeFilter> ranges;
  // Sort keys (typed sortable fields). A sorted query ranks every document
  // the BM25 query and the filters match by these keys (ties: score, then
  // id): it runs the BM25 retriever only (vector neighbours have no match
  // set to sort) and is not re-ranked. Default: none (by score).
  std::vector<index::SortField> sort;
  // Facets counted over every match (Engine::Count, PipelineResult::facets).
  std::vector<index::FacetRequest> facets;
  size_t k = 10;
  size_t offset = 0;
  // Candidates taken from each retriever before fusion; raised to offset + k
  // when smaller so the fusion window always covers the page.
  // Default: 1000 (BM25) and 100 (vector).
  size_t bm25_depth = 1000;
  size_t vector_depth = 100;
  // HNSW search breadth / IVF lists probed; 0 = the field's default.
  int ef_search = 0;
  int nprobe = 0;
  // Fusion; nullopt = the index's stored default (see `hymir tune`), else
  // convex with alpha = kDefaultAlpha.
  std::optional<ranking::FusionOptions> fusion;
  // BM25 fields, parameters, weighted expansions and, for shards, the
  // collection statistics to score with (nullptr = the index's own); its
  // text, k, offset and filters are ignored (the ones above are used).
  index::TextQuery bm25;
};

// The BM25 query `query` runs: its bm25 settings with its text, syntax,
// filters, ranges and sort, no facets, the first `k` hits. What Engine asks
// its searcher for, and what each shard of a sharded search asks its own.
index::TextQuery Bm25TextQuery(const HybridQuery& query, size_t k);

struct StageResult {
  bool present = false;  // the document was in this retriever's candidates
  double score = 0.0;
  uint32_t rank = 0;  // 1-based
};

struct SearchHit {
  std::string id;
  double score = 0.0;  // final score (fused, or the single retriever's)
  uint32_t rank = 0;   // 1-based, counting from the top of the full ranking
  StageResult bm25;
  StageResult vector;
  // The retrieval result before re-ranking (fused, or the single
  // retriever's score and rank); always present.
  StageResult fused;
  // The re-ranker's score and rank (present only for re-ranked hits).
  StageResult rerank;
  // One per HybridQuery::more_vectors clause, in its order.
  std::vector<StageResult> more_vectors;
};

class Engine {
 public:
  // BM25 weight of the convex fusion used when an index has no tuned default.
  // Chosen on train splits (bench/results, hybrid retrieval report): a weak corpus-trained dense
  // retriever must not pull BM25 down.
  static constexpr double kDefaultAlpha = 0.9;

  static Result<std::unique_ptr<Engine>> Open(const std::string& dir);
  // A new engine on the index's newest commit, sharing with this one what the
  // commits since did not change (index::Searcher::Reopen); this engine keeps
  // its view. What a service runs to follow commits (LivePipeline).
  Result<std::unique_ptr<Engine>> Reopen() const;
  ~Engine();

  Result<std::vector<SearchHit>> Search(const HybridQuery& query) const;
  // The exact number of documents the BM25 query and the filters of `query`
  // match, and its facets (Searcher::SearchStructured; no hits). A query
  // with no text counts every document the filters admit.
  Result<index::SearchResults> Count(const HybridQuery& query) const;
  // The text the vector side embeds and the KG links for `query`: its text,
  // or for the query language its free text. InvalidArgument for a syntax
  // error.
  static Result<std::string> FreeTextOf(const HybridQuery& query);
  // Many queries; vector searches of queries sharing field and filters are
  // batched into one FAISS call.
  Result<std::vector<std::vector<SearchHit>>> SearchBatch(const std::vector<HybridQuery>& queries) const;

  // The candidate lists before fusion (BM25 first, then vector, then one per
  // more_vectors clause; a list is empty when its retriever is not used), for
  // tuning.
  Result<std::vector<std::vector<std::vector<ranking::Candidate>>>> Candidates(
      const std::vector<HybridQuery>& queries) const;

  // The hits of `query` from its candidate lists (BM25, vector, more vectors; as
  // Candidates() gives them, or merged from the shards of a sharded index):
  // fused when the query is hybrid, then the page [offset, offset + k) with
  // every stage kept. This is how Search() ends.
  Result<std::vector<SearchHit>> HitsFromCandidates(const HybridQuery& query,
                                                    const std::vector<std::vector<ranking::Candidate>>& lists) const;
  Status Refresh();
  const index::Searcher& searcher() const { return *searcher_; }
  // The fusion used when a query does not set one.
  const ranking::FusionOptions& default_fusion() const { return default_fusion_; }
  bool has_tuned_fusion() const { return tuned_; }
  // The retriever `query` runs with (resolves kAuto).
  Retriever ResolveRetriever(const HybridQuery& query) const;

  // Stores `options` as the index's default fusion (<dir>/fusion.json),
  // recorded in the index's commit manifest (index::WriteRecordedIndexFile):
  // Busy while an IndexWriter is open on `dir`.
  static Status SaveDefaultFusion(const std::string& dir, const ranking::FusionOptions& options);

 private:
  Engine(std::string dir, std::unique_ptr<index::Searcher> searcher, ranking::FusionOptions fusion, bool tuned);

  std::string dir_;
  std::unique_ptr<index::Searcher> searcher_;
  ranking::FusionOptions default_fusion_;
  bool tuned_ = false;
};

}  // namespace hymir

#endif  // HYMIR_ENGINE_H_
