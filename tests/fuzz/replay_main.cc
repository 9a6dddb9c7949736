// Replays inputs through a libFuzzer target's entry point without libFuzzer
// or clang: the ctest fuzz_replay_<target> links this main with
// tests/fuzz/<target>_fuzz.cc in the normal (gcc) build and runs every seed
// (tests/fuzz/seeds/<target>/) and every input that once failed
// (tests/fuzz/regressions/<target>/), so a fixed crash stays fixed. A
// harness reports a broken property with __builtin_trap(), which fails the
// test; a sanitizer build (scripts/sanitize.sh) also catches memory errors.
//   fuzz_replay_<target> FILE_OR_DIR...
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (const auto& e : fs::directory_iterator(argv[i])) {
        if (e.is_regular_file() && e.path().filename() != "README.md") inputs.push_back(e.path());
      }
    } else if (fs::is_regular_file(argv[i], ec)) {
      inputs.push_back(argv[i]);
    }  // an absent directory (no regressions yet) replays nothing
  }
  std::sort(inputs.begin(), inputs.end());
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (const auto& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replay %s (%zu bytes)\n", p.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  // The harnesses' scratch files: /tmp/hymir-fuzz-<pid>.*
  const std::string prefix = "hymir-fuzz-" + std::to_string(getpid()) + ".";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/tmp", ec)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(e.path(), ec);
  }
  std::printf("%zu inputs replayed\n", inputs.size());
  return inputs.empty() ? 1 : 0;
}
