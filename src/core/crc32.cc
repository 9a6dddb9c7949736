#include "src/core/crc32.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace hymir::internal {

uint32_t Crc32(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong c = crc;
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    c = ::crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  return static_cast<uint32_t>(::crc32_combine(crc_a, crc_b, static_cast<z_off_t>(length_b)));
}

std::string Crc32Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string SealWithCrc32(const std::string& body) {
  return body + "crc32 " + Crc32Hex(Crc32(0, body.data(), body.size())) + "\n";
}

bool OpenCrc32Seal(const std::string& text, size_t* body_size, std::string* why) {
  const size_t tail = text.rfind("crc32 ");
  if (tail == std::string::npos || (tail > 0 && text[tail - 1] != '\n')) {
    *why = "no checksum line";
    return false;
  }
  const std::string line = text.substr(tail + 6);
  if (line.size() != 9 || line[8] != '\n') {
    *why = "malformed checksum line";
    return false;
  }
  if (line.substr(0, 8) != Crc32Hex(Crc32(0, text.data(), tail))) {
    *why = "checksum mismatch";
    return false;
  }
  *body_size = tail;
  return true;
}

}  // namespace hymir::internal
