// libFuzzer target: N-Triples lines. Every line is a triple, a blank or
// comment line, or a fault with a message, never a crash; a triple has
// non-empty terms.
#include <cstddef>
#include <cstdint>
#include <string>

#include "hymir/kg/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    hymir::kg::Triple t;
    bool is_triple = false;
    std::string fault;
    const bool ok = hymir::kg::ParseNTriplesLine(text.substr(start, end - start), &t, &is_triple, &fault);
    if (!ok && fault.empty()) __builtin_trap();
    if (ok && is_triple && (t.subject.empty() || t.relation.empty() || t.object.empty())) __builtin_trap();
    start = end + 1;
  }
  return 0;
}
