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
void SetQueryVector(const QueryRecord& rec, const std::string& field, const Engine& engine, HybridQuery* q);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_QUERY_VECTORS_H_
