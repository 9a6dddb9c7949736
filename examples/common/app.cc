#include "common/app.h"

#include <unistd.h>

#include <cstdio>

namespace hymir::app {

int Fail(const char* cmd, const Status& s, bool usage) {
  std::fprintf(stderr, "hymir %s: error: %s\n", cmd, s.ToString().c_str());
  if (usage || s.IsNotFound()) return kExitUsage;
  return kExitFailure;
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace hymir::app
