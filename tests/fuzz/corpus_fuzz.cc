// libFuzzer target: BEIR corpus and queries files (JSONL). Any input must give
// documents or errors naming file:line, never a crash; a document that parses
// has a non-empty id.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hymir/beir.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (text.find('\n') == std::string_view::npos) {
    auto doc = hymir::ParseCorpusLine(text, "fuzz:1");
    if (doc.ok() && doc->id.empty()) __builtin_trap();
  }
  const std::string path = hymir::fuzz::WriteInput(data, size, "jsonl");
  if (auto reader = hymir::CorpusReader::Open(path); reader.ok()) {
    hymir::Document d;
    for (int guard = 0; guard < 100000; ++guard) {
      auto more = (*reader)->Next(&d);
      if (more.ok() && !*more) break;
      if (more.ok() && d.id.empty()) __builtin_trap();
    }
  }
  (void)hymir::ReadQueries(path);
  return 0;
}
