// libFuzzer target: WordNet database files (wndb(5WN) data lines) through
// hymir::kg::LoadWordNet, the input written as <dir>/data.noun, into an
// in-memory store. A file loads or fails with InvalidArgument naming
// "path:line", never a crash or an allocation the file's counts ask for;
// skipping bad lines, every synset line gives its aliases, no empty term is
// stored, and a reload adds nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "hymir/kg/loader.h"
#include "tests/fuzz/memory_triple_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = "/tmp/hymir-fuzz-" + std::to_string(getpid()) + ".wordnet";
  static const bool made = mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST;
  if (!made) __builtin_trap();
  const std::string path = dir + "/data.noun";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size)) __builtin_trap();
  std::fclose(f);
  hymir::kg::LoadOptions o;
  o.batch_size = 5;
  {
    hymir::fuzz::MemoryTripleStore store;
    auto strict = hymir::kg::LoadWordNet(store, dir, o);
    if (!strict.ok() &&
        (!strict.status().IsInvalidArgument() || strict.status().message().find(path + ":") == std::string::npos)) {
      __builtin_trap();
    }
  }
  o.skip_bad = true;
  hymir::fuzz::MemoryTripleStore store;
  auto stats = hymir::kg::LoadWordNet(store, dir, o);
  if (!stats.ok()) __builtin_trap();
  if (stats->bad_lines > stats->lines || stats->entities + stats->bad_lines > stats->lines ||
      stats->triples < stats->entities || stats->added != *store.Count()) {
    __builtin_trap();
  }
  auto again = hymir::kg::LoadWordNet(store, dir, o);
  if (!again.ok() || again->added != 0) __builtin_trap();
  return 0;
}
