#include "hymir/document.h"

#include <array>

namespace hymir {

bool IsReservedFieldName(const std::string& name) {
  static const std::array<const char*, 7> kReserved = {"_id", "id", "title", "text", "all", "domain", "vectors"};
  for (const char* r : kReserved) {
    if (name == r) return true;
  }
  return name.empty() || name[0] == '_';
}

}  // namespace hymir
