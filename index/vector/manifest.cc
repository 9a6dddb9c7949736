#include "index/vector/manifest.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "src/core/file_util.h"

namespace hymir::index::internal {
namespace {

std::string ManifestName(uint64_t g) { return "MANIFEST.g" + std::to_string(g) + ".json"; }

nlohmann::json ToJson(const FileInfo& f) { return {{"name", f.name}, {"size", f.size}, {"crc32", f.crc32}}; }

bool FromJson(const nlohmann::json& j, FileInfo* f) {
  if (!j.is_object() || !j.contains("name") || !j.contains("size") || !j.contains("crc32")) return false;
  if (!j["name"].is_string() || !j["size"].is_number_unsigned() || !j["crc32"].is_number_unsigned()) return false;
  f->name = j["name"].get<std::string>();
  f->size = j["size"].get<uint64_t>();
  f->crc32 = j["crc32"].get<uint32_t>();
  return f->name.find('/') == std::string::npos;
}

}  // namespace

Status WriteManifest(const std::string& vectors_dir, const Manifest& m) {
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& f : m.fields)
    fields.push_back({{"name", f.name}, {"raw", ToJson(f.raw)}, {"faiss", ToJson(f.faiss)}});
  nlohmann::json j = {{"format", "hymir-vector-manifest"}, {"generation", m.generation}, {"fields", fields}};
  if (!m.forward.name.empty()) j["forward"] = ToJson(m.forward);
  if (!m.forward_base.name.empty()) j["forward_base"] = ToJson(m.forward_base);
  if (!m.values.name.empty()) j["values"] = ToJson(m.values);
  if (!m.values_base.name.empty()) j["values_base"] = ToJson(m.values_base);
  return hymir::internal::WriteFileAtomic(vectors_dir + "/" + ManifestName(m.generation), j.dump(2) + "\n");
}

Result<Manifest> ReadManifest(const std::string& vectors_dir, uint64_t generation) {
  const std::string path = vectors_dir + "/" + ManifestName(generation);
  auto text = hymir::internal::ReadFile(path);
  if (!text.ok()) {
    if (text.status().IsNotFound()) return Status::Corruption(path + ": named by the last commit but missing");
    return text.status();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != "hymir-vector-manifest" || !j.contains("fields") ||
      !j["fields"].is_array()) {
    return Status::Corruption(path + ": not a hymir vector manifest");
  }
  Manifest m;
  m.generation = generation;
  for (const auto& f : j["fields"]) {
    ManifestField mf;
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() ||
        !FromJson(f.value("raw", nlohmann::json()), &mf.raw) ||
        !FromJson(f.value("faiss", nlohmann::json()), &mf.faiss)) {
      return Status::Corruption(path + ": malformed field entry");
    }
    mf.name = f["name"].get<std::string>();
    m.fields.push_back(std::move(mf));
  }
  if (j.contains("forward") && !FromJson(j["forward"], &m.forward)) {
    return Status::Corruption(path + ": malformed forward entry");
  }
  if (j.contains("forward_base") && (!FromJson(j["forward_base"], &m.forward_base) || m.forward.name.empty())) {
    return Status::Corruption(path + ": malformed forward_base entry");
  }
  if (j.contains("values") && !FromJson(j["values"], &m.values)) {
    return Status::Corruption(path + ": malformed values entry");
  }
  if (j.contains("values_base") && (!FromJson(j["values_base"], &m.values_base) || m.values.name.empty())) {
    return Status::Corruption(path + ": malformed values_base entry");
  }
  return m;
}

void RemoveStaleGenerations(const std::string& vectors_dir, uint64_t keep) {
  static const std::regex kGen(R"(.*\.g([0-9]+)\.(vec|faiss|json|fwd|dv)(\.tmp)?$)");
  std::set<std::string> named;  // files an older generation wrote that a kept manifest names
  for (uint64_t g : {keep, keep - 1}) {
    if (g == 0) continue;
    auto m = ReadManifest(vectors_dir, g);
    if (!m.ok()) {
      if (g == keep) return;  // unreadable: remove nothing it might name
      continue;
    }
    if (!m->forward_base.name.empty()) named.insert(m->forward_base.name);
    if (!m->values_base.name.empty()) named.insert(m->values_base.name);
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(vectors_dir, ec)) {
    const std::string name = e.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, kGen)) continue;
    const uint64_t g = std::stoull(m[1].str());
    if (g == keep || g + 1 == keep || named.count(name) != 0) continue;
    std::filesystem::remove(e.path(), ec);
  }
}

}  // namespace hymir::index::internal
