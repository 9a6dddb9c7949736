#include "common/cli_main.h"

#include <csignal>
#include <string>

#include "common/app.h"
#include "hymir/version.h"

namespace hymir::app {

void IgnoreFileSizeSignal() {
  // Past `ulimit -f` the kernel sends SIGXFSZ, which kills silently (exit
  // 153); ignored, the write fails with EFBIG and becomes an error naming
  // the file, like a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
}

int ParseAndRun(CLI::App& app, int argc, char** argv, const int& exit_code) {
  IgnoreFileSizeSignal();
  app.set_version_flag("--version", std::string(app.get_name()) + " " + VersionString(), "Print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace hymir::app
