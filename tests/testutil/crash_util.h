// Runs tests/testutil/crash_writer in a child process and kills it with
// SIGKILL after it reported at least `min_committed` committed documents.
#ifndef HYMIR_TESTS_TESTUTIL_CRASH_UTIL_H_
#define HYMIR_TESTS_TESTUTIL_CRASH_UTIL_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/testutil/testutil.h"

namespace hymir::testing {

struct CrashResult {
  bool killed = false;  // the child died of SIGKILL (not an early exit)
  int committed = 0;    // the last committed count it reported
  int exit_code = -1;
};

inline CrashResult RunAndKillWriter(const std::string& dir, int every, bool vectors, int min_committed,
                                    int extra_usec) {
  CrashResult r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  const std::string bin = BinDir() + "/crash_writer";
  const std::string every_s = std::to_string(every);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(bin.c_str(), "crash_writer", dir.c_str(), every_s.c_str(), vectors ? "vectors" : "text",
            static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  FILE* in = ::fdopen(fds[0], "r");
  int v = 0;
  while (r.committed < min_committed && std::fscanf(in, "%d", &v) == 1) r.committed = v;
  ::usleep(extra_usec);
  ::kill(pid, SIGKILL);
  while (std::fscanf(in, "%d", &v) == 1) r.committed = v;
  std::fclose(in);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

}  // namespace hymir::testing

#endif  // HYMIR_TESTS_TESTUTIL_CRASH_UTIL_H_
