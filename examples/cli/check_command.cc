// hymir check: verify every byte of an index against its commit manifest.
#include <hymir/index/check_index.h>

#include <cstdio>

#include "commands.h"
#include "common/app.h"

namespace hymir::cli {
namespace {

int RunCheck(const std::string& dir) {
  auto report = index::CheckIndex(dir);
  if (!report.ok()) {
    // Damage is a runtime failure (exit 1), even when a file is missing.
    std::fprintf(stderr, "hymir check: error: %s\n", report.status().ToString().c_str());
    return app::kExitFailure;
  }
  if (report->unrecorded_commit) {
    std::fprintf(stderr,
                 "hymir check: note: the last commit is newer than MANIFEST (a writer was killed between its commit "
                 "and the manifest write); its %llu files the manifest does not cover had the structural checks "
                 "only; the next writer (e.g. hymir index) records it\n",
                 static_cast<unsigned long long>(report->unrecorded_files));
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
  };
  if (!report->caches_ignored.empty()) {
    std::fprintf(stderr,
                 "hymir check: note: the caches of segments %s are damaged or stale and ignored (searchers walk "
                 "those segments at open; the next writer rewrites them)\n",
                 list(report->caches_ignored).c_str());
  }
  if (!report->caches_absent.empty()) {
    std::fprintf(stderr, "hymir check: note: segments %s have no cache (the next writer writes them)\n",
                 list(report->caches_absent).c_str());
  }
  std::printf(
      "index %s is intact: %llu files, %llu bytes checksummed, %llu documents read, %llu of %llu segment caches "
      "equal to their segments\n",
      dir.c_str(), static_cast<unsigned long long>(report->files), static_cast<unsigned long long>(report->bytes),
      static_cast<unsigned long long>(report->documents), static_cast<unsigned long long>(report->caches_sound),
      static_cast<unsigned long long>(report->segments));
  return app::kExitOk;
}

}  // namespace

void AddCheckCommand(CLI::App& app, int* exit_code) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("check",
                                     "Verify every byte of an index against its commit manifest; exit 1 "
                                     "naming the damaged file");
  cmd->add_option("--index", *dir, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->callback([dir, exit_code] { *exit_code = RunCheck(*dir); });
}

}  // namespace hymir::cli
