#include "hymir/index/vector_field.h"

#include <cctype>
#include <stdexcept>
#include <vector>

namespace hymir::index {

const char* VectorMetricName(VectorMetric metric) {
  switch (metric) {
    case VectorMetric::kInnerProduct:
      return "ip";
    case VectorMetric::kL2:
      return "l2";
    case VectorMetric::kCosine:
      return "cosine";
  }
  return "unknown";
}

Result<VectorMetric> ParseVectorMetric(std::string_view name) {
  if (name == "ip" || name == "inner_product") return VectorMetric::kInnerProduct;
  if (name == "l2") return VectorMetric::kL2;
  if (name == "cosine") return VectorMetric::kCosine;
  return Status::InvalidArgument("unknown vector metric \"" + std::string(name) + "\" (expected ip, l2 or cosine)");
}

Status ValidateVectorFieldSpec(const VectorFieldSpec& spec) {
  const std::string at = "vector field \"" + spec.name + "\": ";
  if (spec.name.empty()) return Status::InvalidArgument("vector field with an empty name");
  for (char c : spec.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return Status::InvalidArgument(at + "name may only contain letters, digits, '_' and '-'");
    }
  }
  if (spec.dimension == 0 || spec.dimension > 65536) {
    return Status::InvalidArgument(at + "dimension must be in 1..65536, got " + std::to_string(spec.dimension));
  }
  if (spec.index.empty()) return Status::InvalidArgument(at + "empty index kind");
  if (spec.ef_construction < 1 || spec.ef_search < 1 || spec.nprobe < 1) {
    return Status::InvalidArgument(at + "ef_construction, ef_search and nprobe must be >= 1");
  }
  if (!spec.embedder.empty() && spec.embedder != "lsa") {
    return Status::InvalidArgument(at + "unknown embedder \"" + spec.embedder + "\" (expected lsa)");
  }
  return Status::OK();
}

Result<VectorFieldSpec> ParseVectorFieldSpec(std::string_view text) {
  // NAME:DIM[:METRIC[:INDEX]]; INDEX may itself contain ',' but not ':'.
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t colon = text.find(':', start);
    parts.emplace_back(text.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 4) {
    return Status::InvalidArgument("vector field \"" + std::string(text) + "\": expected NAME:DIM[:METRIC[:INDEX]]");
  }
  VectorFieldSpec spec;
  spec.name = parts[0];
  try {
    size_t used = 0;
    long dim = std::stol(parts[1], &used);
    if (used != parts[1].size() || dim <= 0) throw std::invalid_argument("dim");
    spec.dimension = static_cast<size_t>(dim);
  } catch (...) {
    return Status::InvalidArgument("vector field \"" + std::string(text) + "\": dimension \"" + parts[1] +
                                   "\" is not a positive integer");
  }
  if (parts.size() >= 3) {
    auto m = ParseVectorMetric(parts[2]);
    if (!m.ok()) return m.status().WithContext("vector field \"" + std::string(text) + "\"");
    spec.metric = *m;
  }
  if (parts.size() == 4) spec.index = parts[3];
  HYMIR_RETURN_IF_ERROR(ValidateVectorFieldSpec(spec));
  return spec;
}

}  // namespace hymir::index
