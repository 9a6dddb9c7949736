// libFuzzer target: the query language's parser (hymir::ParseQuery) and
// analysis. Any input is parsed into a tree or refused with InvalidArgument
// "syntax error at column N: ..." where N is within the text, never a crash
// or a stack overflow; an accepted tree analyses, prints (QueryToString) and
// yields its free text; a text of bare terms always parses (it is what the
// plain syntax means).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hymir/query_language.h"

namespace {

std::vector<hymir::QueryToken> Split(std::string_view, std::string_view text) {
  std::vector<hymir::QueryToken> out;
  int32_t pos = -1;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    ++pos;
    if (word != "the") out.push_back({word, pos});  // a stop word leaves a gap
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '-' || c == '\t' || c == '\n') {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

std::string Same(std::string_view, std::string_view text) { return std::string(text); }

size_t Characters(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = hymir::ParseQuery(text);
  if (!parsed.ok()) {
    const std::string& m = parsed.status().message();
    if (!parsed.status().IsInvalidArgument()) __builtin_trap();
    const std::string prefix = "syntax error at column ";
    if (m.rfind(prefix, 0) != 0) __builtin_trap();
    const size_t column = std::stoul(m.substr(prefix.size()));
    if (column < 1 || column > Characters(text) + 1) __builtin_trap();
    if (hymir::IsBareTerms(text) && text.find_first_not_of(" \t\r\n") != std::string::npos) __builtin_trap();
    return 0;
  }
  const hymir::QueryNode analysed = hymir::AnalyzeQuery(*parsed, Split, Same);
  const std::string printed = hymir::QueryToString(analysed);
  if (hymir::QueryToString(hymir::AnalyzeQuery(*parsed, Split, Same)) != printed) __builtin_trap();
  (void)hymir::FreeText(*parsed);
  (void)hymir::QueryTerms(analysed);
  return 0;
}
