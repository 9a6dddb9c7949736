// hymir: index, search and evaluate from the command line.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "common/app.h"
#include "common/cli_main.h"

int main(int argc, char** argv) {
  CLI::App app{"hymir: hybrid retrieval (BM25 on Lucene++) from the command line", "hymir"};
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::help);
  int exit_code = 0;
  hymir::cli::AddIndexCommand(app, &exit_code);
  hymir::cli::AddSearchCommand(app, &exit_code);
  hymir::cli::AddEvalCommand(app, &exit_code);
  hymir::cli::AddTuneCommand(app, &exit_code);
  hymir::cli::AddKgCommand(app, &exit_code);
  hymir::cli::AddTrainCommand(app, &exit_code);
  hymir::cli::AddPretrainCommand(app, &exit_code);
  hymir::cli::AddServeCommand(app, &exit_code);
  hymir::cli::AddCheckCommand(app, &exit_code);
  return hymir::app::ParseAndRun(app, argc, argv, exit_code);
}
