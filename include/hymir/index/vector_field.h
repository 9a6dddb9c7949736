// VectorFieldSpec: the schema of one named vector field of an index (text or
// multimedia embeddings). Declared when the index is created, stored in its
// hymir.json, validated on open.
//
// Thread-safety: plain value types and pure functions.
#ifndef HYMIR_INDEX_VECTOR_FIELD_H_
#define HYMIR_INDEX_VECTOR_FIELD_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "hymir/result.h"

namespace hymir::index {

enum class VectorMetric {
  kInnerProduct,  // score = <q, v>
  kL2,            // score = -||q - v||^2 (higher is better)
  kCosine,        // vectors and queries L2-normalised, then inner product
};

struct VectorFieldSpec {
  std::string name;      // [A-Za-z0-9_-]+, unique per index
  size_t dimension = 0;  // floats per vector, 1..65536
  VectorMetric metric = VectorMetric::kCosine;
  // ANN structure: "flat" (exact), "hnsw" or "hnswM" (e.g. "hnsw32"), or any
  // FAISS index_factory string ("IVF256,Flat", "IVF256,PQ16"). Indexes that
  // need training are trained at the first commit with enough vectors; until
  // then searches are exact. Default: "flat".
  std::string index = "flat";
  // HNSW construction and default search breadth. Default: 40 / 64.
  int ef_construction = 40;
  int ef_search = 64;
  // IVF lists probed per query. Default: 16.
  int nprobe = 16;
  // Built-in embedder that fills this field from title + text when a document
  // brings no vector, and embeds text queries: "" (none) or "lsa".
  std::string embedder;

  friend bool operator==(const VectorFieldSpec&, const VectorFieldSpec&) = default;
};

// Parses "NAME:DIM[:METRIC[:INDEX]]", METRIC in ip | l2 | cosine (default
// cosine), INDEX as above (default flat); e.g. "img:512:cosine:hnsw32".
Result<VectorFieldSpec> ParseVectorFieldSpec(std::string_view spec);
// Checks name, dimension and index string; InvalidArgument naming the fault.
Status ValidateVectorFieldSpec(const VectorFieldSpec& spec);

const char* VectorMetricName(VectorMetric metric);
Result<VectorMetric> ParseVectorMetric(std::string_view name);

}  // namespace hymir::index

#endif  // HYMIR_INDEX_VECTOR_FIELD_H_
