// NormalizeAlias: the form under which aliases are looked up. Apart from the
// RocksDB store so that the loaders (and their fuzz targets) can check an
// alias without linking RocksDB.
#include <cctype>
#include <string>
#include <string_view>

#include "hymir/kg/triple_store.h"

namespace hymir::kg {

std::string NormalizeAlias(std::string_view alias) {
  std::string out;
  out.reserve(alias.size());
  bool pending_space = false;
  for (char c : alias) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '_' || (u < 0x80 && std::isspace(u))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(u < 0x80 ? static_cast<char>(std::tolower(u)) : c);
  }
  return out;
}

}  // namespace hymir::kg
