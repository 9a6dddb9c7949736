// libFuzzer target: hymir's analysis chain (analysis_chain.h) against
// Lucene++'s for english, standard and whitespace. Any difference in terms,
// position increments or start offsets stops the run. The first byte picks
// how the rest becomes text: UTF-8 (through Lucene++'s decoder, which the
// index writer's DecodeUtf8 must equal), 16-bit units (every BMP value, lone surrogates too),
// 21-bit values (every code point), or bytes mapped onto characters of every
// tokenizer class (to reach the grammar's longer rules often).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "index/lucene/analysis.h"
#include "index/lucene/analysis_chain.h"
#include "index/lucene/lucene_util.h"

namespace {

namespace hi = hymir::index::internal;
using hymir::index::AnalyzerKind;

const wchar_t kAlphabet[] =
    L"aAbBsSzZ0123456789'.&@-_/, \t\r\n\f\x01\u00e9\u00df\u0130\u0391\u0e01\u0e31\u0e50\u0e5a"
    L"\u4e2d\u3042\u30a2\uac00\u0660\uff10\uff21\u2019\uff07\u0301\u00a0\u3000\u200b\U0001F600"
    L"\U00010400thenoaiuy";

Lucene::String Text(const uint8_t* data, size_t size) {
  if (size == 0) return {};
  const uint8_t mode = data[0] % 4;
  ++data;
  --size;
  Lucene::String s;
  switch (mode) {
    case 0: {  // the writer's fast decoder must equal Lucene++'s
      const std::string_view utf8(reinterpret_cast<const char*>(data), size);
      s = hi::Wide(utf8);
      if (hi::DecodeUtf8(utf8) != s) __builtin_trap();
      return s;
    }
    case 1:
      for (size_t i = 0; i + 1 < size; i += 2) s += static_cast<wchar_t>(data[i] | data[i + 1] << 8);
      return s;
    case 2:
      for (size_t i = 0; i + 2 < size; i += 3) {
        s += static_cast<wchar_t>((data[i] | data[i + 1] << 8 | data[i + 2] << 16) % 0x110000);
      }
      return s;
    default:
      for (size_t i = 0; i < size; ++i) s += kAlphabet[data[i] % (std::size(kAlphabet) - 1)];
      return s;
  }
}

bool Equal(const hi::TokenBuffer& a, const hi::TokenBuffer& b) {
  return a.chars == b.chars && a.ends == b.ends && a.increments == b.increments && a.starts == b.starts;
}

void Print(const char* who, const hi::TokenBuffer& b) {
  std::fprintf(stderr, "%s:", who);
  uint32_t begin = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    std::fprintf(stderr, " [%s +%d @%u]", hi::Utf8(Lucene::String(b.chars.data() + begin, b.ends[i] - begin)).c_str(),
                 b.increments[i], b.starts[i]);
    begin = b.ends[i];
  }
  std::fprintf(stderr, "\n");
}

}  // namespace

// Lucene++-contrib's Snowball analyzers keep their libstemmer environments
// for the life of the process (analysis.cc builds one of each kind once).
extern "C" const char* __lsan_default_suppressions() { return "leak:sb_stemmer_new\nleak:SN_create_env\n"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Lucene::AnalyzerPtr analyzers[] = {hi::MakeAnalyzer(AnalyzerKind::kEnglish),
                                                  hi::MakeAnalyzer(AnalyzerKind::kStandard),
                                                  hi::MakeAnalyzer(AnalyzerKind::kWhitespace)};
  constexpr AnalyzerKind kinds[] = {AnalyzerKind::kEnglish, AnalyzerKind::kStandard, AnalyzerKind::kWhitespace};
  const Lucene::String text = Text(data, size);
  for (size_t k = 0; k < std::size(kinds); ++k) {
    hi::TokenBuffer want, got;
    hi::AnalyzeInto(analyzers[k], text, &want);
    if (!hi::NativeAnalyzeInto(kinds[k], text, &got)) {
      // Refused (indexing then uses Lucene++'s chain): only for a NUL or a value outside Unicode.
      bool refusable = false;
      for (wchar_t c : text) refusable |= c == 0 || static_cast<uint32_t>(c) > 0x10FFFF;
      if (!refusable || got.size() != 0) __builtin_trap();
      continue;
    }
    if (!Equal(want, got)) {
      std::fprintf(stderr, "analysis_fuzz: %s differs\n", hymir::index::AnalyzerName(kinds[k]));
      Print("Lucene++", want);
      Print("hymir", got);
      __builtin_trap();
    }
  }
  return 0;
}
