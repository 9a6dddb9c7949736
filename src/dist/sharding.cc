// Shard placement and the sharded index's layout file.
#include "hymir/dist/sharding.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "src/core/file_util.h"
#include "src/dist/fingerprint.h"

namespace hymir::dist {

namespace {
// The first layout format whose "analyzer" names the analyzer exactly.
constexpr int kExactAnalyzerLayoutFormat = 2;
}  // namespace

int ShardOf(std::string_view id, int shards) {
  const uint64_t h = fingerprint::Fnv1a(id);
  return shards <= 1 ? 0 : static_cast<int>(h % static_cast<uint64_t>(shards));
}

std::string ShardDir(const std::string& dir, int shard) {
  char name[32];
  std::snprintf(name, sizeof name, "shard-%04d", shard);
  return (std::filesystem::path(dir) / name).string();
}

Result<ShardLayout> ReadShardLayout(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kShardLayoutFile).string();
  if (!std::filesystem::exists(path))
    return Status::NotFound(dir + ": not a sharded index (no " + kShardLayoutFile + ")");
  HYMIR_ASSIGN_OR_RETURN(std::string text, internal::ReadFile(path));
  ShardLayout layout;
  try {
    auto j = nlohmann::json::parse(text);
    const int format = j.at("format").get<int>();
    if (format != 1 && format != kExactAnalyzerLayoutFormat) {
      return Status::Corruption(path + ": unknown format " + j.at("format").dump());
    }
    layout.shards = j.at("shards").get<int>();
    auto kind = index::ParseAnalyzerKind(j.at("analyzer").get<std::string>());
    if (!kind.ok()) return Status::Corruption(path + ": " + kind.status().message());
    layout.analyzer = *kind;
    if (format == 1 && layout.analyzer == index::AnalyzerKind::kEnglish) {
      layout.analyzer = index::AnalyzerKind::kEnglishLegacy;
    }
  } catch (const std::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
  if (layout.shards < 1) return Status::Corruption(path + ": shard count " + std::to_string(layout.shards));
  return layout;
}

Status WriteShardLayout(const std::string& dir, const ShardLayout& layout) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir + ": " + ec.message());
  const bool exact = layout.analyzer == index::AnalyzerKind::kEnglish;
  const char* name =
      layout.analyzer == index::AnalyzerKind::kEnglishLegacy ? "english" : index::AnalyzerName(layout.analyzer);
  nlohmann::json j = {
      {"format", exact ? kExactAnalyzerLayoutFormat : 1}, {"shards", layout.shards}, {"analyzer", name}};
  return internal::WriteFileAtomic((std::filesystem::path(dir) / kShardLayoutFile).string(), j.dump(2) + "\n");
}

}  // namespace hymir::dist
