// Private: CRC-32 (zlib) of byte ranges, for file checksums.
#ifndef HYMIR_SRC_CORE_CRC32_H_
#define HYMIR_SRC_CORE_CRC32_H_

#include <cstddef>
#include <cstdint>

namespace hymir::internal {

// Continues `crc` (start with 0) over [data, data + n).
uint32_t Crc32(uint32_t crc, const void* data, size_t n);

}  // namespace hymir::internal

#endif  // HYMIR_SRC_CORE_CRC32_H_
