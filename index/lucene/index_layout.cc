#include "index/lucene/index_layout.h"

#include <nlohmann/json.hpp>

#include "src/core/file_util.h"

namespace hymir::index::internal {

namespace {

// The "analyzer" value of hymir.json in an index of `format_version`.
const char* RecordedAnalyzerName(AnalyzerKind kind, int format_version) {
  if (format_version < kExactAnalyzerNameFormatVersion && kind == AnalyzerKind::kEnglishLegacy) return "english";
  return AnalyzerName(kind);
}

}  // namespace

AnalyzerKind DefaultAnalyzer(int format_version) {
  return format_version < kExactAnalyzerNameFormatVersion ? AnalyzerKind::kEnglishLegacy : AnalyzerKind::kEnglish;
}

Status CheckAnalyzerFormat(AnalyzerKind kind, int format_version) {
  if (format_version < kExactAnalyzerNameFormatVersion && kind == AnalyzerKind::kEnglish) {
    return Status::InvalidArgument("format_version " + std::to_string(format_version) +
                                   " cannot record the english analyzer (its \"english\" is english-lucenepp30); "
                                   "use format_version " +
                                   std::to_string(kExactAnalyzerNameFormatVersion) +
                                   " or the english-lucenepp30 analyzer");
  }
  if (format_version < kExactAnalyzerNameFormatVersion && kind != AnalyzerKind::kEnglishLegacy &&
      kind != AnalyzerKind::kStandard && kind != AnalyzerKind::kWhitespace) {
    return Status::InvalidArgument("format_version " + std::to_string(format_version) + " cannot record the " +
                                   AnalyzerName(kind) + " analyzer; use format_version " +
                                   std::to_string(kExactAnalyzerNameFormatVersion));
  }
  return Status::OK();
}

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
  if (meta.format_version < kOldestFormatVersion || meta.format_version > kFormatVersion) {
    return Status::NotSupported(path + ": format_version " + std::to_string(meta.format_version) +
                                ", this build reads versions " + std::to_string(kOldestFormatVersion) + " to " +
                                std::to_string(kFormatVersion));
  }
  if (!j.contains("analyzer") || !j["analyzer"].is_string()) {
    return Status::Corruption(path + ": missing \"analyzer\"");
  }
  auto kind = ParseAnalyzerKind(j["analyzer"].get<std::string>());
  if (!kind.ok()) return kind.status().WithContext(path);
  meta.analyzer = *kind;
  // Before format 3, "english" meant the chain with Lucene++'s stemmer: the
  // index's postings hold its terms, so its queries must get them too.
  if (meta.format_version < kExactAnalyzerNameFormatVersion && meta.analyzer == AnalyzerKind::kEnglish) {
    meta.analyzer = AnalyzerKind::kEnglishLegacy;
  }
  if (j.contains("vector_fields")) {
    if (!j["vector_fields"].is_array()) return Status::Corruption(path + ": \"vector_fields\" is not an array");
    for (const auto& f : j["vector_fields"]) {
      VectorFieldSpec spec;
      try {
        spec.name = f.at("name").get<std::string>();
        spec.dimension = f.at("dimension").get<size_t>();
        auto metric = ParseVectorMetric(f.at("metric").get<std::string>());
        if (!metric.ok()) return metric.status().WithContext(path);
        spec.metric = *metric;
        spec.index = f.at("index").get<std::string>();
        spec.ef_construction = f.value("ef_construction", spec.ef_construction);
        spec.ef_search = f.value("ef_search", spec.ef_search);
        spec.nprobe = f.value("nprobe", spec.nprobe);
        spec.embedder = f.value("embedder", std::string());
      } catch (const nlohmann::json::exception& e) {
        return Status::Corruption(path + ": malformed vector field: " + e.what());
      }
      HYMIR_RETURN_IF_ERROR(ValidateVectorFieldSpec(spec).WithContext(path));
      if (FindVectorField(meta, spec.name)) return Status::Corruption(path + ": duplicate vector field " + spec.name);
      meta.vector_fields.push_back(spec);
    }
  }
  if (j.contains("schema")) {
    auto schema = ParseSchemaJson(j["schema"].dump());
    if (!schema.ok()) return Status::Corruption(path + ": " + schema.status().message());
    meta.schema = std::move(schema).value();
  }
  return meta;
}

const VectorFieldSpec* FindVectorField(const IndexMeta& meta, std::string_view name) {
  for (const auto& f : meta.vector_fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status WriteMeta(const std::string& dir, const IndexMeta& meta) {
  HYMIR_RETURN_IF_ERROR(CheckAnalyzerFormat(meta.analyzer, meta.format_version).WithContext(dir));
  nlohmann::json j = {{"format", "hymir-index"},
                      {"format_version", meta.format_version},
                      {"analyzer", RecordedAnalyzerName(meta.analyzer, meta.format_version)},
                      {"vector_fields", nlohmann::json::array()}};
  for (const auto& f : meta.vector_fields) {
    j["vector_fields"].push_back({{"name", f.name},
                                  {"dimension", f.dimension},
                                  {"metric", VectorMetricName(f.metric)},
                                  {"index", f.index},
                                  {"ef_construction", f.ef_construction},
                                  {"ef_search", f.ef_search},
                                  {"nprobe", f.nprobe},
                                  {"embedder", f.embedder}});
  }
  if (!meta.schema.empty()) j["schema"] = nlohmann::json::parse(SchemaToJson(meta.schema));
  return hymir::internal::WriteFileAtomic(dir + "/" + kMetaFile, j.dump(2) + "\n");
}

}  // namespace hymir::index::internal
