// Runs the built `hymir` CLI for tests: exit code and combined stdout+stderr.
#ifndef HYMIR_TESTS_TESTUTIL_CLI_UTIL_H_
#define HYMIR_TESTS_TESTUTIL_CLI_UTIL_H_

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "tests/testutil/testutil.h"

namespace hymir::testing {

struct CliRun {
  int exit_code = -1;
  std::string out;
};

// `build/bin/hymir ARGS 2>&1` through the shell.
inline CliRun Hymir(const std::string& args) {
  CliRun r;
  std::string cmd = BinDir() + "/hymir " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace hymir::testing

#endif  // HYMIR_TESTS_TESTUTIL_CLI_UTIL_H_
