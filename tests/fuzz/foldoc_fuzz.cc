// libFuzzer target: FOLDOC's dictd files through hymir::kg::LoadFoldoc. The
// input up to its first NUL byte is foldoc.index, the rest foldoc.dict (no
// NUL: the whole input is the index of an empty dictionary). Every pair loads
// or fails with InvalidArgument naming "foldoc.index:line", never a crash or
// a read outside the dictionary; skipping bad lines, no empty term is stored,
// entries never outnumber index lines, and a reload adds nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "hymir/kg/loader.h"
#include "tests/fuzz/memory_triple_store.h"

namespace {

void Write(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size)) __builtin_trap();
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = "/tmp/hymir-fuzz-" + std::to_string(getpid()) + ".foldoc";
  static const bool made = mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST;
  if (!made) __builtin_trap();
  size_t split = 0;
  while (split < size && data[split] != 0) ++split;
  Write(dir + "/foldoc.index", data, split);
  Write(dir + "/foldoc.dict", data + (split < size ? split + 1 : size), split < size ? size - split - 1 : 0);
  const std::string index = dir + "/foldoc.index";
  hymir::kg::LoadOptions o;
  o.batch_size = 3;
  {
    hymir::fuzz::MemoryTripleStore store;
    auto strict = hymir::kg::LoadFoldoc(store, dir, o);
    if (!strict.ok() &&
        (!strict.status().IsInvalidArgument() || strict.status().message().find(index + ":") == std::string::npos)) {
      __builtin_trap();
    }
  }
  o.skip_bad = true;
  hymir::fuzz::MemoryTripleStore store;
  auto stats = hymir::kg::LoadFoldoc(store, dir, o);
  if (!stats.ok()) __builtin_trap();
  if (stats->bad_lines > stats->lines || stats->entities > stats->lines || stats->added > stats->triples ||
      stats->added != *store.Count()) {
    __builtin_trap();
  }
  auto again = hymir::kg::LoadFoldoc(store, dir, o);
  if (!again.ok() || again->added != 0) __builtin_trap();
  return 0;
}
