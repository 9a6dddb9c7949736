// Private: the embedder a vector field declares (VectorFieldSpec::embedder),
// stored inside the index at <index>/vectors/<field>.<embedder>.
#ifndef HYMIR_INDEX_VECTOR_FIELD_EMBEDDER_H_
#define HYMIR_INDEX_VECTOR_FIELD_EMBEDDER_H_

#include <memory>
#include <string>

#include "hymir/index/embedder.h"
#include "hymir/index/vector_field.h"
#include "hymir/result.h"

namespace hymir::index::internal {

std::string FieldEmbedderPath(const std::string& index_dir, const VectorFieldSpec& spec);

// nullptr when the field has no embedder; Corruption/NotFound naming the
// path when it declares one that cannot be loaded.
Result<std::shared_ptr<const Embedder>> LoadFieldEmbedder(const std::string& index_dir, const VectorFieldSpec& spec);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_VECTOR_FIELD_EMBEDDER_H_
