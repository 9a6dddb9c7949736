// QuerySpec: a query as a parameter set (command-line flags, HTTP query
// parameters), and the one place such a set becomes a HybridQuery
// (BuildQuery) and the stages to run (StageOptions). Every front end
// (`hymir search`, `hymir serve`, `hymir-mpi search`) goes through it.
//
// Thread-safety: plain value types and pure functions; BuildQuery only reads
// the engine.
#ifndef HYMIR_QUERY_SPEC_H_
#define HYMIR_QUERY_SPEC_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hymir/engine.h"
#include "hymir/result.h"

namespace hymir {

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
  // Count every match: PipelineResult::total, and the query's facets (an
  // exhaustive pass over the BM25 matches; a query with facets always
  // counts). Default: false.
  bool count = false;
};

// A query as a parameter set: what `hymir search` and `hymir-mpi search`
// flags and the HTTP service's parameters give. BuildQuery() turns it into a
// HybridQuery; every front end goes through it.
struct QuerySpec {
  std::string id;    // optional, for runs
  std::string text;  // BM25 query (and the vector query when `vector` is empty)
  // How `text` is read: plain (a bag of words) or lucene (the query
  // language, docs/query_language.md). Default: plain.
  std::string syntax = "plain";
  std::vector<float> vector;       // a raw query vector for `vector_field`
  std::string vector_field;        // "" = the index's first vector field
  std::string retriever = "auto";  // auto | bm25 | vector | hybrid
  // FIELD:VALUE (one field twice admits either value), and on typed fields
  // FIELD:[LO TO HI] (inclusive; {} exclusive, * open), FIELD:>=V, :>V,
  // :<=V, :<V (see ParseFilters).
  std::vector<std::string> filters;
  std::vector<std::string> sort;  // FIELD[:asc|desc], most significant first
  // FIELD[:N] (top N values, default 10) or FIELD:buckets=B0,B1,...,Bn
  // (counts of [Bi, Bi+1)).
  std::vector<std::string> facets;
  std::vector<std::string> fields;  // BM25 FIELD[:WEIGHT]; empty = all
  double k1 = 0.9;                  // BM25 k1. Default: index::Bm25Params's, 0.9.
  double b = 0.4;                   // BM25 b. Default: index::Bm25Params's, 0.4.
  size_t k = 10;                    // hits per page
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
// The same, with range specs going to `ranges`: FIELD:[LO TO HI] (brackets
// inclusive, braces exclusive, mixable; * for an open end), FIELD:>=V,
// FIELD:>V, FIELD:<=V, FIELD:<V. Bounds stay text (typed by the index's
// schema at search time). InvalidArgument naming `what` and the spec for a
// malformed range.
Status ParseFilters(const std::vector<std::string>& specs, std::vector<index::FieldFilter>* out,
                    std::vector<index::RangeFilter>* ranges, const std::string& what = "filter");
// "FIELD[:asc|desc]" specs into sort keys; InvalidArgument naming `what`.
Status ParseSort(const std::vector<std::string>& specs, std::vector<index::SortField>* out,
                 const std::string& what = "sort");
// "FIELD[:N]" or "FIELD:buckets=B0,B1,..." specs into facet requests.
Status ParseFacets(const std::vector<std::string>& specs, std::vector<index::FacetRequest>* out,
                   const std::string& what = "facet");
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
//   q (required, not blank), syntax (plain|lucene; a lucene q with a syntax
//   error is InvalidArgument naming its column), k (1..max_k), offset,
//   retriever, filter (repeatable FIELD:VALUE or a range, see ParseFilters),
//   sort (repeatable FIELD[:asc|desc]), facet (repeatable FIELD[:N] or
//   FIELD:buckets=...), rerank, expand, explain, total (0|1|true|false|on|off;
//   an empty value is 1; total, StageOptions::count, defaults to 1 when sort,
//   facet or a range filter is given).
// A parameter other than filter given twice, a number that is not a whole
// number in range, or offset + k above max_k is InvalidArgument naming the
// parameter ("parameter k=0 is outside [1, 50]").
Status ParseQueryParams(const QueryParams& params, const ParamLimits& limits, QuerySpec* spec, StageOptions* stages);

}  // namespace hymir

#endif  // HYMIR_QUERY_SPEC_H_
