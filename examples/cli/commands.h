// Subcommands of the `hymir` CLI. Each Add*Command registers one subcommand on
// `app`; when that subcommand runs, its callback stores the process exit code
// in *exit_code (0 success, 1 runtime failure, 2 usage error or missing input).
#ifndef HYMIR_EXAMPLES_CLI_COMMANDS_H_
#define HYMIR_EXAMPLES_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace hymir::cli {

void AddIndexCommand(CLI::App& app, int* exit_code);
void AddSearchCommand(CLI::App& app, int* exit_code);
void AddEvalCommand(CLI::App& app, int* exit_code);
void AddTuneCommand(CLI::App& app, int* exit_code);
void AddKgCommand(CLI::App& app, int* exit_code);
void AddTrainCommand(CLI::App& app, int* exit_code);
void AddPretrainCommand(CLI::App& app, int* exit_code);
void AddServeCommand(CLI::App& app, int* exit_code);
void AddCheckCommand(CLI::App& app, int* exit_code);

}  // namespace hymir::cli

#endif  // HYMIR_EXAMPLES_CLI_COMMANDS_H_
