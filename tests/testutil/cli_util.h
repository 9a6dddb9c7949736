// Runs the built programs for tests: `hymir` with stdout+stderr combined
// (Hymir), or any shell command with them apart (Shell).
#ifndef HYMIR_TESTS_TESTUTIL_CLI_UTIL_H_
#define HYMIR_TESTS_TESTUTIL_CLI_UTIL_H_

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
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

// A command's exit code and its stdout and stderr, kept apart.
struct Ran {
  int exit_code;
  std::string out;
  std::string err;
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `command` through the shell, capturing stdout and stderr.
inline Ran Shell(const std::string& command) {
  TempDir tmp;
  std::string cmd = command + " >" + tmp.Sub("out") + " 2>" + tmp.Sub("err");
  int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, Slurp(tmp.Sub("out")), Slurp(tmp.Sub("err"))};
}

}  // namespace hymir::testing

#endif  // HYMIR_TESTS_TESTUTIL_CLI_UTIL_H_
