// TextQuery: a BM25 query over one or more text fields, with exact-value
// filters: a bag of words, or a query in the query language
// (query_language.h, docs/query_language.md).
//
// Thread-safety: a plain value type.
#ifndef HYMIR_INDEX_TEXT_QUERY_H_
#define HYMIR_INDEX_TEXT_QUERY_H_

#include <cstddef>
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
// `values` exactly. Several filters must all admit a document.
struct FieldFilter {
  std::string field;
  std::vector<std::string> values;
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
