#include "hymir/document.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

namespace hymir {

bool IsReservedFieldName(const std::string& name) {
  static const std::array<const char*, 7> kReserved = {"_id", "id", "title", "text", "all", "domain", "vectors"};
  for (const char* r : kReserved) {
    if (name == r) return true;
  }
  return name.empty() || name[0] == '_';
}

Status CheckId(std::string_view id) {
  if (id.empty()) return Status::InvalidArgument("id is empty");
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument("id is " + std::to_string(id.size()) + " bytes, longer than the limit of " +
                                   std::to_string(kMaxIdBytes));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c > 0x20 && c != 0x7f) continue;
    const char* what = c == ' '    ? "a space"
                       : c == '\t' ? "a tab"
                       : c == '\n' ? "a newline"
                       : c == '\r' ? "a carriage return"
                       : c == 0    ? "a NUL byte"
                                   : "a control byte";
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", c);
    return Status::InvalidArgument("id \"" + std::string(id.substr(0, std::min<size_t>(i, 40))) + "...\" has " + what +
                                   " (" + hex + ") at byte " + std::to_string(i) +
                                   "; ids may not contain whitespace or control bytes");
  }
  return Status::OK();
}

}  // namespace hymir
