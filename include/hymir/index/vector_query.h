// VectorQuery: nearest-neighbour search over one vector field, by a raw
// vector (the multimedia case) or by text embedded with the field's embedder.
//
// Thread-safety: a plain value type.
#ifndef HYMIR_INDEX_VECTOR_QUERY_H_
#define HYMIR_INDEX_VECTOR_QUERY_H_

#include <cstddef>
#include <string>
#include <vector>

#include "hymir/index/text_query.h"

namespace hymir::index {

struct VectorQuery {
  std::string field;
  // The query vector (dimension floats). When empty, `text` is embedded with
  // the field's embedder (InvalidArgument if the field has none).
  std::vector<float> vector;
  std::string text;
  size_t k = 10;
  size_t offset = 0;
  // Same semantics as TextQuery::filters; no excluded document is returned.
  std::vector<FieldFilter> filters;
  // A query-language query (query_language.h) whose required and excluded
  // top-level clauses (MUST, MUST_NOT) every hit must satisfy, as a filter
  // analysed and evaluated on the text index; its optional clauses are
  // ignored. "" = none. Default: none.
  std::string constraint;
  // Same semantics as TextQuery::ranges. Default: none.
  std::vector<RangeFilter> ranges;
  // HNSW search breadth (0 = the field's default); IVF lists probed (0 = default).
  int ef_search = 0;
  int nprobe = 0;
  // Force exact (brute-force) search.
  bool exact = false;
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_VECTOR_QUERY_H_
