#include "hymir/version.h"

#define HYMIR_STR2(x) #x
#define HYMIR_STR(x) HYMIR_STR2(x)

namespace hymir {

const char* VersionString() {
  return HYMIR_STR(HYMIR_VERSION_MAJOR) "." HYMIR_STR(HYMIR_VERSION_MINOR) "." HYMIR_STR(HYMIR_VERSION_PATCH);
}

}  // namespace hymir
