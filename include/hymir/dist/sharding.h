// Sharding: which shard holds a document, and how a sharded index lies on
// disk. A sharded index is a directory holding "shards.json" (format, shard
// count, analyzer) and one ordinary hymir index per shard, "shard-0000",
// "shard-0001", ... (each can be opened alone with `hymir search`). A document
// lives in shard ShardOf(id, shards), so an upsert by id always replaces it
// in place.
//
// Thread-safety: plain functions; the layout file is written atomically.
#ifndef HYMIR_DIST_SHARDING_H_
#define HYMIR_DIST_SHARDING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "hymir/index/analyzer.h"
#include "hymir/result.h"

namespace hymir::dist {

inline constexpr const char* kShardLayoutFile = "shards.json";

struct ShardLayout {
  int shards = 1;  // >= 1
  index::AnalyzerKind analyzer = index::AnalyzerKind::kEnglish;
};

// The shard of document `id` among `shards` (FNV-1a 64 of the id's bytes,
// modulo `shards`): stable across runs, platforms and shard processes.
int ShardOf(std::string_view id, int shards);

// "<dir>/shard-0007" for shard 7.
std::string ShardDir(const std::string& dir, int shard);

// The layout of the sharded index at `dir`: NotFound when `dir` has no
// shards.json, Corruption (naming the file) when it is malformed. Layout
// format 1 knows one English analyzer, english-lucenepp30, and calls it
// "english" (its shards are of index format 1 or 2); format 2 names the
// analyzer exactly.
Result<ShardLayout> ReadShardLayout(const std::string& dir);
// Writes `dir`/shards.json atomically (creating `dir`): format 2 for the
// english analyzer, otherwise format 1, which older builds read.
Status WriteShardLayout(const std::string& dir, const ShardLayout& layout);

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDING_H_
