#include "common/query_vectors.h"

namespace hymir::app {

void SetQueryVector(const QueryRecord& rec, const std::string& field, const Engine& engine, HybridQuery* q) {
  if (rec.vectors.empty()) return;
  const auto& fields = engine.searcher().vector_fields();
  const std::string name = !field.empty() ? field : fields.empty() ? std::string() : fields.front().name;
  auto it = rec.vectors.find(name);
  if (it == rec.vectors.end()) return;
  q->vector = it->second;
  q->vector_field = name;
}

}  // namespace hymir::app
