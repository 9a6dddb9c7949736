// Private: FNV-1a 64 fingerprints, and the checks that every rank computed
// the same one. Included as "src/dist/fingerprint.h".
#ifndef HYMIR_SRC_DIST_FINGERPRINT_H_
#define HYMIR_SRC_DIST_FINGERPRINT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/dist/cluster.h"
#include "hymir/dist/sharding.h"
#include "hymir/index/schema.h"

namespace hymir::dist::fingerprint {

inline constexpr uint64_t kFnvOffset = 1469598103934665603ULL;

// FNV-1a 64 of `bytes`, continuing from `h`.
inline uint64_t Fnv1a(std::string_view bytes, uint64_t h = kFnvOffset) {
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Adds one part of a list to `h`, with a terminator, so that ("ab", "c") and
// ("a", "bc") differ.
inline uint64_t AddPart(uint64_t h, std::string_view part) {
  return Fnv1a(std::string_view("\xff", 1), Fnv1a(part, h));
}

// A fingerprint of a schema (its canonical JSON: fields by name, every flag
// and analyzer).
inline uint64_t OfSchema(const index::Schema& schema) { return Fnv1a(index::SchemaToJson(schema)); }

// Collective: true on every rank when every rank passed the same `value`.
inline Result<bool> SameOnEveryRank(const Cluster& cluster, uint64_t value) {
  std::vector<uint64_t> check = {value, ~value};  // the max of both is the max and the min
  HYMIR_RETURN_IF_ERROR(cluster.MaxInPlace(check));
  return check[0] == value && check[1] == ~value;
}

// Collective: -1 on every rank when every rank passed the same `value`,
// else the lowest rank whose value differs from rank 0's (the same answer
// on every rank), so that an error can name the odd shard.
inline Result<int> FirstDiffering(const Cluster& cluster, uint64_t value) {
  HYMIR_ASSIGN_OR_RETURN(auto all, cluster.AllGather(std::string(reinterpret_cast<const char*>(&value), sizeof value)));
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0]) return static_cast<int>(r);
  return -1;
}

// Collective: OK when every rank's shard (of the sharded index `dir`) has
// rank 0's schema, else Corruption on every rank naming the first shard
// that differs.
inline Status CheckSameSchema(const Cluster& cluster, const index::Schema& schema, const std::string& dir) {
  HYMIR_ASSIGN_OR_RETURN(int odd, FirstDiffering(cluster, OfSchema(schema)));
  if (odd < 0) return Status::OK();
  return Status::Corruption(ShardDir(dir, odd) + ": its schema (typed fields) differs from " + ShardDir(dir, 0) +
                            "'s; every shard must have the same schema");
}

}  // namespace hymir::dist::fingerprint

#endif  // HYMIR_SRC_DIST_FINGERPRINT_H_
