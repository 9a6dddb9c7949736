// Private: CRC-32 (zlib) of byte ranges, for file checksums.
#ifndef HYMIR_SRC_CORE_CRC32_H_
#define HYMIR_SRC_CORE_CRC32_H_

#include <cstddef>
#include <cstdint>

namespace hymir::internal {

// Continues `crc` (start with 0) over [data, data + n).
uint32_t Crc32(uint32_t crc, const void* data, size_t n);

// The CRC-32 of A then B, from crc_a = Crc32(0, A), crc_b = Crc32(0, B) and
// B's length (zlib's crc32_combine).
uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

}  // namespace hymir::internal

#endif  // HYMIR_SRC_CORE_CRC32_H_
