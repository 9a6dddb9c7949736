#include "index/lucene/index_layout.h"

#include <nlohmann/json.hpp>

#include "src/core/file_util.h"

namespace hymir::index::internal {

Result<IndexMeta> ReadMeta(const std::string& dir) {
  const std::string path = dir + "/" + kMetaFile;
  auto text = hymir::internal::ReadFile(path);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption(path + ": not a JSON object");
  if (j.value("format", "") != "hymir-index") {
    return Status::Corruption(path + ": \"format\" is not \"hymir-index\"");
  }
  if (!j.contains("format_version") || !j["format_version"].is_number_integer()) {
    return Status::Corruption(path + ": missing \"format_version\"");
  }
  IndexMeta meta;
  meta.format_version = j["format_version"].get<int>();
  if (meta.format_version != kFormatVersion) {
    return Status::NotSupported(path + ": format_version " + std::to_string(meta.format_version) +
                                ", this build reads version " + std::to_string(kFormatVersion));
  }
  if (!j.contains("analyzer") || !j["analyzer"].is_string()) {
    return Status::Corruption(path + ": missing \"analyzer\"");
  }
  auto kind = ParseAnalyzerKind(j["analyzer"].get<std::string>());
  if (!kind.ok()) return kind.status().WithContext(path);
  meta.analyzer = *kind;
  return meta;
}

Status WriteMeta(const std::string& dir, const IndexMeta& meta) {
  nlohmann::json j = {{"format", "hymir-index"},
                      {"format_version", meta.format_version},
                      {"analyzer", AnalyzerName(meta.analyzer)}};
  return hymir::internal::WriteFileAtomic(dir + "/" + kMetaFile, j.dump(2) + "\n");
}

}  // namespace hymir::index::internal
