// Shared by the libFuzzer targets (scripts/fuzz.sh): the input written to a
// per-process temporary file, for readers that take a path.
#ifndef HYMIR_TESTS_FUZZ_FUZZ_UTIL_H_
#define HYMIR_TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace hymir::fuzz {

// Writes [data, data + size) to /tmp/hymir-fuzz-<pid>.<suffix> and returns
// the path (the same file for every input of one process).
inline std::string WriteInput(const uint8_t* data, size_t size, const char* suffix) {
  const std::string path = "/tmp/hymir-fuzz-" + std::to_string(getpid()) + "." + suffix;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  return path;
}

}  // namespace hymir::fuzz

#endif  // HYMIR_TESTS_FUZZ_FUZZ_UTIL_H_
