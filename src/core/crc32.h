// Private: CRC-32 (zlib) of byte ranges, for file checksums.
#ifndef HYMIR_SRC_CORE_CRC32_H_
#define HYMIR_SRC_CORE_CRC32_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace hymir::internal {

// Continues `crc` (start with 0) over [data, data + n).
uint32_t Crc32(uint32_t crc, const void* data, size_t n);

// The CRC-32 of A then B, from crc_a = Crc32(0, A), crc_b = Crc32(0, B) and
// B's length (zlib's crc32_combine).
uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

// `v` as 8 lower-case hex digits.
std::string Crc32Hex(uint32_t v);

// Text files that check themselves (the index's MANIFEST, the KG's commit
// record): the body, then a last line "crc32 <Crc32Hex of the body>".
std::string SealWithCrc32(const std::string& body);
// Checks such a text; the body is text[0, *body_size). False with *why set
// ("no checksum line", "malformed checksum line", "checksum mismatch").
bool OpenCrc32Seal(const std::string& text, size_t* body_size, std::string* why);

}  // namespace hymir::internal

#endif  // HYMIR_SRC_CORE_CRC32_H_
