// TextQuery: a BM25 query over one or more text fields, with exact-value
// filters: a bag of words, or a query in the query language
// (query_language.h, docs/query_language.md); for indexes with a schema
// (schema.h), range filters, sort keys and facet requests
// (docs/structured_fields.md).
//
// Thread-safety: a plain value type.
#ifndef HYMIR_INDEX_TEXT_QUERY_H_
#define HYMIR_INDEX_TEXT_QUERY_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "hymir/index/bm25.h"
#include "hymir/query_language.h"

namespace hymir::index {

class CollectionStatistics;

struct FieldWeight {
  std::string field;    // "title", "text" or "all"
  double weight = 1.0;  // multiplies the field's BM25 score; must be > 0
};

// Admits documents whose `field` ("domain" or an extra field) equals one of
// `values` exactly. Several filters must all admit a document. On a typed
// field of the schema a value is read as the field's type ("5" for an int64
// field, "2021-03-04" for a date field) and compared as such; a keyword
// field admits a document when any of its values equals one given.
struct FieldFilter {
  std::string field;
  std::vector<std::string> values;
};

// Admits documents whose value of typed field `field` (int64, double, date,
// bool) lies between the bounds. Bounds are text read as the field's type
// (as FieldFilter values are); nullopt is an open end. Documents without a
// value are never admitted.
struct RangeFilter {
  std::string field;
  std::optional<std::string> lo;  // Default: nullopt (no lower bound)
  std::optional<std::string> hi;  // Default: nullopt (no upper bound)
  bool lo_inclusive = true;       // Default: true ([lo, ...)
  bool hi_inclusive = true;       // Default: true (..., hi])
};

// One sort key: a sortable typed field of the schema. Documents without a
// value sort last in either direction; a keyword field sorts by its
// smallest value (byte order).
struct SortField {
  std::string field;
  bool descending = false;  // Default: false (ascending)
};

// Counts over every matching document of one facetable typed field:
// keyword and, without buckets, numeric fields give their `top_n` most
// frequent values (ties: smaller value first); with `buckets` (ascending
// bounds b0 < b1 < ... < bn, text read as the field's type) a numeric or
// date field gives the n ranges [b(i), b(i+1)) and the count of each.
struct FacetRequest {
  std::string field;
  size_t top_n = 10;                 // Default: 10
  std::vector<std::string> buckets;  // Default: none (top values)
};

// Extra query text scored with a weight (e.g. KG expansion terms): every
// analysed token of `text` counts `weight` times instead of once.
struct WeightedText {
  std::string text;
  double weight = 1.0;  // must be > 0
};

struct TextQuery {
  // Free text; analysed with the index's analyzer. Repeated terms count
  // repeatedly (as a Lucene BooleanQuery of their TermQuerys would).
  std::string text;
  // How `text` is read. kLucene: the query language; its unfielded clauses
  // search `fields`, `expansions` become optional (SHOULD) clauses, and a
  // text of bare terms only runs as kPlain does (the same hits and scores).
  // Default: kPlain.
  QuerySyntax syntax = QuerySyntax::kPlain;
  // Fields to score and their weights. Default: title and text as one field.
  std::vector<FieldWeight> fields = {{"all", 1.0}};
  // Weighted expansion text added to `text`. Default: none.
  std::vector<WeightedText> expansions;
  std::vector<FieldFilter> filters;
  // Range filters (typed fields); all must admit a document. Default: none.
  std::vector<RangeFilter> ranges;
  // Sort keys, most significant first; ties by score (descending), then id.
  // Empty: by score. A sorted search ranks every match (no pruning).
  std::vector<SortField> sort;
  // Facets, counted over every match by Searcher::SearchStructured.
  std::vector<FacetRequest> facets;
  // Hits to return, after skipping `offset`.
  size_t k = 10;
  size_t offset = 0;
  Bm25Params bm25;
  // Statistics to score with; nullptr = the searcher's own (local) ones. The
  // pointee must outlive the Search() call. Set by sharded deployments.
  const CollectionStatistics* statistics = nullptr;
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_TEXT_QUERY_H_
