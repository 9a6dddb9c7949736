// Embedder: text -> dense vector, used at index time for documents that bring
// no vector for a field, and at query time for text queries on that field.
//
// Thread-safety: implementations must allow concurrent Embed() calls.
#ifndef HYMIR_INDEX_EMBEDDER_H_
#define HYMIR_INDEX_EMBEDDER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "hymir/status.h"

namespace hymir::index {

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual size_t dimension() const = 0;
  // E.g. "lsa:256".
  virtual std::string name() const = 0;
  // Embeds texts.size() texts into out (texts.size() * dimension() floats,
  // row-major), each L2-normalised. A text with no known term gives zeros.
  virtual Status Embed(const std::vector<std::string>& texts, float* out) const = 0;
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_EMBEDDER_H_
