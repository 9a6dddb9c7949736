// libFuzzer target: OBO ontology files through hymir::kg::LoadObo (stanzas,
// quoted strings, escapes, comments and modifiers) into an in-memory store.
// Every file loads or fails with InvalidArgument naming "path:line", never a
// crash; skipping bad lines, no empty term is stored, terms never outnumber
// lines, the store holds exactly the new triples, and a reload adds nothing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "hymir/kg/loader.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/memory_triple_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = hymir::fuzz::WriteInput(data, size, "obo");
  hymir::kg::LoadOptions o;
  o.batch_size = 3;  // several atomic batches per input
  {
    hymir::fuzz::MemoryTripleStore store;
    auto strict = hymir::kg::LoadObo(store, path, o);
    if (!strict.ok() &&
        (!strict.status().IsInvalidArgument() || strict.status().message().find(path + ":") == std::string::npos)) {
      __builtin_trap();
    }
  }
  o.skip_bad = true;
  hymir::fuzz::MemoryTripleStore store;
  auto stats = hymir::kg::LoadObo(store, path, o);
  if (!stats.ok()) __builtin_trap();
  if (stats->bad_lines > stats->lines || stats->entities > stats->lines || stats->added > stats->triples ||
      stats->added != *store.Count() || stats->errors.size() > stats->bad_lines) {
    __builtin_trap();
  }
  auto again = hymir::kg::LoadObo(store, path, o);
  if (!again.ok() || again->added != 0 || again->entities != stats->entities) __builtin_trap();
  return 0;
}
