// hymir pretrain: pre-train the MoE re-ranker on the index's own documents,
// no judgements needed (hymir/pretrain.h).
#include <hymir/pipeline.h>
#include <hymir/pretrain.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "commands.h"
#include "common/app.h"
#include "common/pretrain_flags.h"
#include "common/recorded.h"

namespace hymir::cli {
namespace {

// The training copy's directory, for the signal handler (set before it is
// installed, never changed after).
char g_work_dir[4096];
char g_owner_file[4200];  // <work dir>/.hymir-pretrain-owner
char g_owner[32];         // what it holds while this process owns the copy

// SIGINT, SIGTERM, SIGHUP: remove the training copy when this process made
// it (with async-signal-safe calls only: open, read, fork, exec rm, wait),
// then die of the signal as before.
void RemoveWorkDirAndDie(int sig) {
  char got[sizeof g_owner] = {0};
  const int fd = ::open(g_owner_file, O_RDONLY);
  const ssize_t n = fd >= 0 ? ::read(fd, got, sizeof got - 1) : -1;
  if (fd >= 0) ::close(fd);
  bool mine = n > 0;
  for (ssize_t i = 0; mine && i <= n; ++i) mine = got[i] == g_owner[i];
  const pid_t pid = mine ? ::fork() : -1;
  if (pid == 0) {
    ::execl("/bin/rm", "rm", "-rf", "--", g_work_dir, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

int RunPretrain(const app::PretrainFlags& f) {
  auto o = f.Resolve();
  if (!o.ok()) return app::Fail("pretrain", o.status(), true);
  if (o->work_dir.empty()) {
    // A temporary copy the signal handler can name (a SIGKILLed run's copy
    // is removed by the next run instead).
    std::mt19937_64 r(std::random_device{}());
    o->work_dir = (std::filesystem::temp_directory_path() /
                   ("hymir-pretrain-" + std::to_string(::getpid()) + "-" + std::to_string(r())))
                      .string();
  }
  if (!o->keep_work_dir && o->work_dir.size() < sizeof g_work_dir) {
    std::snprintf(g_work_dir, sizeof g_work_dir, "%s", o->work_dir.c_str());
    std::snprintf(g_owner_file, sizeof g_owner_file, "%s/.hymir-pretrain-owner", o->work_dir.c_str());
    std::snprintf(g_owner, sizeof g_owner, "%d\n", static_cast<int>(::getpid()));
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, RemoveWorkDirAndDie);
  }
  auto pipeline = Pipeline::Open(f.pipeline_options());
  if (!pipeline.ok()) return app::Fail("pretrain", pipeline.status());
  o->progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  PretrainReport report;
  auto model = Pretrain((*pipeline)->engine(), f.index, *o, (*pipeline)->kg(), &report);
  if (!model.ok()) return app::Fail("pretrain", model.status());
  if (Status s = model->Save(f.model); !s.ok()) return app::Fail("pretrain", s);
  if (f.record) {
    if (Status s = app::RecordModel(f.index, f.model, ""); !s.ok()) return app::Fail("pretrain", s);
  }
  app::PrintPretrainSummary(f.model, *model, report);
  return app::kExitOk;
}

}  // namespace

void AddPretrainCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<app::PretrainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "pretrain", "Pre-train the MoE re-ranker on pseudo-queries from the index's own documents (no judgements)");
  app::AddPretrainFlags(*cmd, *f);
  cmd->callback([f, exit_code] { *exit_code = RunPretrain(*f); });
}

}  // namespace hymir::cli
