// Query vectors from a queries file (QueryRecord::vectors) into the
// HybridQuery the example programs run: `hymir search --queries`, `hymir
// train`, `hymir-mpi search/train`.
#ifndef HYMIR_EXAMPLES_COMMON_QUERY_VECTORS_H_
#define HYMIR_EXAMPLES_COMMON_QUERY_VECTORS_H_

#include <hymir/beir.h>
#include <hymir/engine.h>

#include <string>

namespace hymir::app {

// Gives `q` the record's vector for `field` (the --vector-field flag; "" =
// the index's first vector field, `engine`'s), when the record has one;
// otherwise leaves `q` a text query.
inline void SetQueryVector(const QueryRecord& rec, const std::string& field, const Engine& engine, HybridQuery* q) {
  if (rec.vectors.empty()) return;
  const auto& fields = engine.searcher().vector_fields();
  const std::string name = !field.empty() ? field : fields.empty() ? std::string() : fields.front().name;
  auto it = rec.vectors.find(name);
  if (it == rec.vectors.end()) return;
  q->vector = it->second;
  q->vector_field = name;
}

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_QUERY_VECTORS_H_
