// Private: FNV-1a 64 fingerprints, and the check that every rank computed
// the same one. Included as "src/dist/fingerprint.h".
#ifndef HYMIR_SRC_DIST_FINGERPRINT_H_
#define HYMIR_SRC_DIST_FINGERPRINT_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "hymir/dist/cluster.h"

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

// Collective: true on every rank when every rank passed the same `value`.
inline Result<bool> SameOnEveryRank(const Cluster& cluster, uint64_t value) {
  std::vector<uint64_t> check = {value, ~value};  // the max of both is the max and the min
  HYMIR_RETURN_IF_ERROR(cluster.MaxInPlace(check));
  return check[0] == value && check[1] == ~value;
}

}  // namespace hymir::dist::fingerprint

#endif  // HYMIR_SRC_DIST_FINGERPRINT_H_
