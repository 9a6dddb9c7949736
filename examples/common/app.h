// Shared helpers of the example programs (library hymir_app): exit codes and
// error printing.
#ifndef HYMIR_EXAMPLES_COMMON_APP_H_
#define HYMIR_EXAMPLES_COMMON_APP_H_

#include <hymir/status.h>

namespace hymir::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the operation failed (bad data, I/O, corruption)
inline constexpr int kExitUsage = 2;    // bad flags, missing files

// Prints "hymir <cmd>: <status>" to stderr and returns the exit code for it:
// kExitUsage for NotFound (a missing input file) and InvalidArgument that the
// caller marks as usage, kExitFailure otherwise.
int Fail(const char* cmd, const Status& s, bool usage = false);

// True when stderr is a terminal (progress bars vs plain progress lines).
bool StderrIsTerminal();

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_APP_H_
