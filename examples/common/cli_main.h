// The end of a subcommand program's main(): parse the command line (which
// runs the chosen subcommand's callback) and map CLI11's outcomes to exit
// codes.
#ifndef HYMIR_EXAMPLES_COMMON_CLI_MAIN_H_
#define HYMIR_EXAMPLES_COMMON_CLI_MAIN_H_

#include <CLI/CLI.hpp>

namespace hymir::app {

// Ignores SIGXFSZ, so that a write past the file-size limit (ulimit -f) fails
// with EFBIG and is reported like any write error instead of killing the
// process without a message. ParseAndRun calls it.
void IgnoreFileSizeSignal();

// Parses `argc`/`argv` into `app` (after IgnoreFileSizeSignal()); help exits 0, a parse error prints it and
// gives kExitUsage, otherwise `exit_code` as the subcommand's callback left it.
int ParseAndRun(CLI::App& app, int argc, char** argv, const int& exit_code);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_CLI_MAIN_H_
