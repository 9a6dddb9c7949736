// Searcher: ranked BM25 retrieval over a committed index.
//
// A searcher reads a point-in-time view of the index (the last commit when it
// was opened or refreshed). Refresh() moves it to the newest commit; searches
// running during a Refresh() finish on the view they started with.
//
// Top-k retrieval is document-at-a-time with MaxScore pruning (per-term score
// upper bounds), so most postings of frequent terms are skipped, not scored.
// Filters are applied during retrieval, before top-k truncation.
//
// Thread-safety: all methods may be called concurrently from many threads,
// including Refresh().
#ifndef HYMIR_INDEX_SEARCHER_H_
#define HYMIR_INDEX_SEARCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/document.h"
#include "hymir/index/analysed_document.h"
#include "hymir/index/analyzer.h"
#include "hymir/index/collection_statistics.h"
#include "hymir/index/schema.h"
#include "hymir/index/text_query.h"
#include "hymir/index/vector_field.h"
#include "hymir/index/vector_query.h"
#include "hymir/result.h"

namespace hymir::index {

struct Hit {
  std::string id;      // the document's id
  double score = 0.0;  // BM25 score (sum over fields and terms)
  uint32_t rank = 0;   // 1-based rank in the full result list (offset + position + 1)
};

struct FacetCount {
  std::string value;   // the value (keyword, number, date as ISO 8601, true/false) or bucket "[lo,hi)"
  uint64_t count = 0;  // matching documents with it
};

struct FacetResult {
  std::string field;
  std::vector<FacetCount> counts;  // by count descending (buckets: in bound order)
};

// What a hit sorts by under one sort key (TextQuery::sort), so that sorted
// pages of several searchers (shards) can be merged: whether the document
// has a value, and the value -- the order-preserving key of a numeric, date
// or bool field (schema.h ValueKey), or the smallest value of a keyword
// field.
struct SortValue {
  bool present = false;
  int64_t key = 0;      // numeric, date and bool fields
  std::string keyword;  // keyword fields

  friend bool operator==(const SortValue&, const SortValue&) = default;
};

// A page of hits with the exact number of matching documents and the facets
// asked for.
struct SearchResults {
  std::vector<Hit> hits;
  uint64_t total = 0;               // documents matching the query and every filter
  std::vector<FacetResult> facets;  // one per TextQuery::facets entry, in order
  // With TextQuery::sort: per hit (in `hits` order), one value per sort
  // key. Empty otherwise.
  std::vector<std::vector<SortValue>> sort_values;
};

// Counters of one search, for tests and benchmarks.
struct SearchStats {
  uint64_t postings_scored = 0;  // (term, doc) pairs whose score was computed
  uint64_t docs_scored = 0;      // documents fully or partly scored
};

class Searcher {
 public:
  // Opens the index at `dir` (read-only; never takes the writer lock).
  // NotFound when there is no index, Corruption when its files are damaged.
  static Result<std::unique_ptr<Searcher>> Open(const std::string& dir);

  virtual ~Searcher() = default;

  // Top `offset + k` by score (ties: earlier-indexed document first), then
  // the slice [offset, offset + k). InvalidArgument for an unknown field,
  // a non-positive weight or an unknown filter field.
  // A query-language query (TextQuery::syntax kLucene) is InvalidArgument
  // naming the column of a syntax error, or a field that is not a text
  // field; it is scored exhaustively over its matches (conjunctions and
  // phrases leapfrog), except a text of bare terms, which takes the MaxScore
  // path of a plain query.
  virtual Result<std::vector<Hit>> Search(const TextQuery& query, SearchStats* stats = nullptr) const = 0;

  // The exact number of live documents `query` matches (after its filters;
  // k and offset are ignored): for a plain query, the documents having any
  // of its terms in any of its fields.
  virtual Result<uint64_t> Count(const TextQuery& query) const = 0;
  // Every match of `query`: the page of hits (in TextQuery::sort order when
  // given, else by score as Search()), the exact total and the facets. A
  // query whose text and expansions are empty matches every document the
  // filters admit (score 0). InvalidArgument naming the field for an
  // unknown field, a bound of the wrong type, a sort on a field not
  // declared sortable or a facet on one not declared facetable.
  virtual Result<SearchResults> SearchStructured(const TextQuery& query) const = 0;

  // Same results computed by scoring every posting of every query term; the
  // oracle the pruned path is tested against. Slow on big indexes.
  virtual Result<std::vector<Hit>> SearchExhaustive(const TextQuery& query) const = 0;

  // Nearest neighbours in one vector field. Hit scores are similarities
  // (cosine, ip: inner product; l2: negated squared distance). Deleted and
  // filtered-out documents are never returned; a filter admitting under 5 %
  // of the field's documents switches to exact search over the admitted ones.
  // InvalidArgument for an unknown field, a wrong dimension, NaN, or a text
  // query on a field without an embedder.
  virtual Result<std::vector<Hit>> SearchVector(const VectorQuery& query) const = 0;

  // Many queries sharing `shared`'s field, k, offset and filters, in one
  // batched FAISS call (FAISS's BLAS path; single queries are far slower on
  // the SSE-only Debian build). `vectors` holds n * dimension floats; the
  // result has n hit lists.
  virtual Result<std::vector<std::vector<Hit>>> SearchVectorBatch(const VectorQuery& shared,
                                                                  const std::vector<float>& vectors) const = 0;

  // The stored vector of document `id` in vector field `field` (as indexed:
  // given in the corpus or computed by the field's embedder). InvalidArgument
  // for an unknown field, NotFound when the document has no live vector there.
  virtual Result<std::vector<float>> GetVector(const std::string& field, std::string_view id) const = 0;

  // `text` embedded with `field`'s embedder (dimension floats).
  virtual Result<std::vector<float>> EmbedText(const std::string& field, const std::string& text) const = 0;

  virtual const std::vector<VectorFieldSpec>& vector_fields() const = 0;

  // Moves to the newest commit. OK when there is nothing new.
  virtual Status Refresh() = 0;
  // A new searcher on the newest commit, leaving this one on its view. The
  // two share what the commits in between did not change (Lucene++ segment
  // readers, per-segment caches and decoded postings, files already
  // verified, embedders), so a reopen costs what changed, not the index. The
  // new searcher is independent: either may be destroyed first.
  virtual Result<std::unique_ptr<Searcher>> Reopen() const = 0;

  // The stored document with `id`; NotFound when absent.
  virtual Result<Document> GetDocument(std::string_view id) const = 0;

  // Document `id` as analysed at index time, from the forward index of the
  // current view (no stored text is read or re-analysed). NotFound when the
  // document is absent, and for documents indexed before forward indexes
  // existed (then GetDocument and Analyze give the same terms).
  virtual Result<AnalysedDocument> GetAnalysed(std::string_view id) const = 0;
  // Whether the current view has a forward index (it may still lack
  // documents written before it existed).
  virtual bool HasForwardIndex() const = 0;

  // Statistics of the current view. The returned object keeps that view alive.
  virtual std::shared_ptr<const CollectionStatistics> Statistics() const = 0;

  // Live documents in the current view.
  virtual uint64_t NumDocs() const = 0;
  // The ids of the live documents of the current view, in index order.
  virtual Result<std::vector<std::string>> DocumentIds() const = 0;
  virtual AnalyzerKind analyzer() const = 0;
  // The index's typed fields (empty: none).
  virtual const Schema& schema() const = 0;
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_SEARCHER_H_
