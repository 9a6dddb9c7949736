// On-disk layout of the RocksDB triple store (private; tests read it to check
// the orderings against each other). Included as "kg/store/layout.h".
//
// Column families:
//   default   "hymir:kg:format" -> decimal kFormatVersion (written at creation)
//             "hymir:kg:count"  -> 8-byte big-endian number of triples
//             "hymir:kg:next_id"-> 8-byte big-endian next dictionary id (ids start at 1)
//   term2id   term bytes -> 8-byte big-endian id
//   id2term   8-byte big-endian id -> term bytes
//   spo, pos, osp   24-byte key: three 8-byte big-endian ids in that order,
//             empty value. Fixed 8-byte prefix extractor + bloom filter.
//   alias     NormalizeAlias(alias) + '\0' + 8-byte entity id -> empty
// Every triple is in all of spo/pos/osp or in none; "count" equals the number
// of keys in each of them. Both hold because every write is one WriteBatch.
#ifndef HYMIR_KG_STORE_LAYOUT_H_
#define HYMIR_KG_STORE_LAYOUT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace hymir::kg::internal {

inline constexpr const char* kFormatKey = "hymir:kg:format";
inline constexpr const char* kCountKey = "hymir:kg:count";
inline constexpr const char* kNextIdKey = "hymir:kg:next_id";

inline constexpr const char* kCfTerm2Id = "term2id";
inline constexpr const char* kCfId2Term = "id2term";
inline constexpr const char* kCfSpo = "spo";
inline constexpr const char* kCfPos = "pos";
inline constexpr const char* kCfOsp = "osp";
inline constexpr const char* kCfAlias = "alias";

inline constexpr size_t kIdBytes = 8;
inline constexpr size_t kKeyBytes = 3 * kIdBytes;

inline void PutId(uint64_t id, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
}
inline std::string EncodeId(uint64_t id) {
  std::string s(kIdBytes, '\0');
  PutId(id, s.data());
  return s;
}
inline uint64_t DecodeId(const char* p) {
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | static_cast<uint8_t>(p[i]);
  return id;
}
inline std::string EncodeKey(uint64_t a, uint64_t b, uint64_t c) {
  std::string s(kKeyBytes, '\0');
  PutId(a, s.data());
  PutId(b, s.data() + 8);
  PutId(c, s.data() + 16);
  return s;
}
// The three ids of a 24-byte key, in key order.
inline std::array<uint64_t, 3> DecodeKey(std::string_view key) {
  return {DecodeId(key.data()), DecodeId(key.data() + 8), DecodeId(key.data() + 16)};
}

}  // namespace hymir::kg::internal

#endif  // HYMIR_KG_STORE_LAYOUT_H_
