// The end of a subcommand program's main(): parse the command line (which
// runs the chosen subcommand's callback) and map CLI11's outcomes to exit
// codes.
#ifndef HYMIR_EXAMPLES_COMMON_CLI_MAIN_H_
#define HYMIR_EXAMPLES_COMMON_CLI_MAIN_H_

#include <CLI/CLI.hpp>

namespace hymir::app {

// Parses `argc`/`argv` into `app`; help exits 0, a parse error prints it and
// gives kExitUsage, otherwise `exit_code` as the subcommand's callback left it.
int ParseAndRun(CLI::App& app, int argc, char** argv, const int& exit_code);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_CLI_MAIN_H_
