// Prints index/lucene/standard_char_classes.inc's ranges: the class of every
// Basic Multilingual Plane character in Lucene++ 3.0.8's StandardTokenizer,
// read off the installed library's behaviour (its tables are not exported).
// A character alone is no token (other), a CJ token or an ALPHANUM; among the
// ALPHANUMs "x-c" is one NUM token only for a digit, and "x'c" one APOSTROPHE
// token only for a letter (else it is Thai, in ALPHANUM only). The ASCII
// punctuation of the grammar is classified in analysis_chain.cc.
//   c++ -std=c++20 -O1 scripts/standard_char_classes.cc -llucene++ -lboost_system -o /tmp/classes
//   (cat header; /tmp/classes) > index/lucene/standard_char_classes.inc
#include <lucene++/LuceneHeaders.h>
#include <lucene++/TermAttribute.h>
#include <lucene++/TypeAttribute.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

std::vector<Lucene::String> TokenTypes(const Lucene::String& s) {
  static Lucene::TokenizerPtr tokenizer;
  Lucene::ReaderPtr reader = Lucene::newLucene<Lucene::StringReader>(s);
  if (!tokenizer) {
    tokenizer = Lucene::newLucene<Lucene::StandardTokenizer>(Lucene::LuceneVersion::LUCENE_30, reader);
  } else {
    tokenizer->reset(reader);
  }
  auto type = tokenizer->addAttribute<Lucene::TypeAttribute>();
  std::vector<Lucene::String> out;
  while (tokenizer->incrementToken()) out.push_back(type->type());
  return out;
}

const char* ClassOf(wchar_t c) {
  const Lucene::String s(1, c);
  const auto alone = TokenTypes(s);
  if (alone.empty()) return nullptr;
  if (alone[0] == L"<CJ>") return "kCj";
  if (TokenTypes(L"x-" + s).size() == 1) return "kDigit";
  if (TokenTypes(L"x'" + s).size() == 1) return "kLetter";
  return "kThai";
}

}  // namespace

int main() {
  const std::wstring punctuation = L"'.&@-_/,";
  const char* open = nullptr;
  unsigned first = 0;
  for (unsigned c = 0; c <= 0x10000; ++c) {
    const char* cls = c < 0x10000 && punctuation.find(static_cast<wchar_t>(c)) == std::wstring::npos
                          ? ClassOf(static_cast<wchar_t>(c))
                          : nullptr;
    if (cls == open) continue;
    if (open != nullptr) std::printf("    {0x%04X, 0x%04X, %s},\n", first, c - 1, open);
    open = cls;
    first = c;
  }
}
