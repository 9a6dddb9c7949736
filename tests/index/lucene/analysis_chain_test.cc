// hymir's analysis chain against Lucene++'s, token for token (text, position
// increment, start offset): on every character of the Basic Multilingual
// Plane, on strings chosen for the tokenizer's rules, on seeded random
// strings, on every shared collection and on the installed packages'
// descriptions.
#include "index/lucene/analysis_chain.h"

#include <gtest/gtest.h>

#include <lucene++/LuceneHeaders.h>
#include <lucene++/TermAttribute.h>
#include <lucene++/TypeAttribute.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hymir/beir.h"
#include "index/lucene/analysis.h"
#include "index/lucene/lucene_util.h"
#include "tests/testutil/testutil.h"

namespace hymir::index::internal {
namespace {

constexpr AnalyzerKind kNativeKinds[] = {AnalyzerKind::kEnglish, AnalyzerKind::kStandard, AnalyzerKind::kWhitespace};

std::string Describe(const TokenBuffer& b) {
  std::ostringstream out;
  uint32_t begin = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    out << " [" << Utf8(Lucene::String(b.chars.data() + begin, b.ends[i] - begin)) << " +" << b.increments[i] << " @"
        << b.starts[i] << "]";
    begin = b.ends[i];
  }
  return out.str();
}

std::string Printable(const Lucene::String& text) {
  std::ostringstream out;
  for (wchar_t c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out << static_cast<char>(c);
    } else {
      out << "\\u{" << std::hex << static_cast<uint32_t>(c) << std::dec << "}";
    }
  }
  return out.str();
}

// Lucene++'s analyzers, one per kind (a thread's reusable streams).
const Lucene::AnalyzerPtr& Reference(AnalyzerKind kind) {
  static const std::vector<Lucene::AnalyzerPtr> analyzers = [] {
    std::vector<Lucene::AnalyzerPtr> a;
    for (AnalyzerKind k : kNativeKinds) a.push_back(MakeAnalyzer(k));
    return a;
  }();
  for (size_t i = 0; i < std::size(kNativeKinds); ++i) {
    if (kNativeKinds[i] == kind) return analyzers[i];
  }
  return analyzers[0];
}

// Empty when both chains agree on `text`, else both token lists.
std::string Difference(AnalyzerKind kind, const Lucene::String& text) {
  TokenBuffer want, got;
  AnalyzeInto(Reference(kind), text, &want);
  if (!NativeAnalyzeInto(kind, text, &got)) return "the native chain refused the input";
  if (got.chars == want.chars && got.ends == want.ends && got.increments == want.increments &&
      got.starts == want.starts) {
    return "";
  }
  return std::string(AnalyzerName(kind)) + " on \"" + Printable(text) + "\"\n  Lucene++:" + Describe(want) +
         "\n  hymir:   " + Describe(got);
}

// Checks every native kind on `text`; returns false (after one failure
// message) on the first difference.
bool Same(const Lucene::String& text) {
  for (AnalyzerKind kind : kNativeKinds) {
    const std::string d = Difference(kind, text);
    if (!d.empty()) {
      ADD_FAILURE() << d;
      return false;
    }
  }
  return true;
}

// Lone UTF-16 surrogates as UTF-32 values (no literal can hold them), with
// letters around them.
Lucene::String Surrogates() {
  Lucene::String s = L"a b";
  for (uint32_t c : {0xD800u, 0xDC00u, 0xD83Du, 0xDE00u, 0xDFFFu}) {
    s.insert(1, 1, static_cast<wchar_t>(c));
    s += static_cast<wchar_t>(c);
  }
  return s;
}

struct RawToken {
  Lucene::String text;
  Lucene::String type;
};

// Lucene++'s StandardTokenizer alone.
std::vector<RawToken> RawTokens(const Lucene::String& s) {
  static Lucene::TokenizerPtr tokenizer;
  Lucene::ReaderPtr reader = Lucene::newLucene<Lucene::StringReader>(s);
  if (!tokenizer) {
    tokenizer = Lucene::newLucene<Lucene::StandardTokenizer>(Lucene::LuceneVersion::LUCENE_30, reader);
  } else {
    tokenizer->reset(reader);
  }
  auto term = tokenizer->addAttribute<Lucene::TermAttribute>();
  auto type = tokenizer->addAttribute<Lucene::TypeAttribute>();
  std::vector<RawToken> out;
  while (tokenizer->incrementToken()) out.push_back({term->term(), type->type()});
  return out;
}

// The class of c as Lucene++'s tokenizer shows it (StandardCharClass's
// numbering for classes 0 to 4): alone it is no token (other), a CJ token or
// an ALPHANUM; "x-c" is one NUM token only for a digit; "x'c" one APOSTROPHE
// token only for a letter.
int ObservedClass(wchar_t c) {
  const Lucene::String s(1, c);
  const auto alone = RawTokens(s);
  if (alone.empty()) return 0;
  if (alone[0].type == L"<CJ>") return 4;
  if (RawTokens(L"x-" + s).size() == 1) return 2;
  if (RawTokens(L"x'" + s).size() == 1) return 1;
  return 3;
}

TEST(AnalysisChainTest, CharacterClassesMatchLuceneppOnTheWholeBmp) {
  const std::wstring punctuation = L"'.&@-_/,";
  int wrong = 0;
  for (uint32_t c = 0; c < 0x10000 && wrong < 10; ++c) {
    if (punctuation.find(static_cast<wchar_t>(c)) != std::wstring::npos) continue;
    const int want = ObservedClass(static_cast<wchar_t>(c));
    if (StandardCharClass(static_cast<wchar_t>(c)) != want) {
      ADD_FAILURE() << "U+" << std::hex << c << ": class " << StandardCharClass(static_cast<wchar_t>(c))
                    << ", Lucene++'s " << want;
      ++wrong;
    }
  }
  // The grammar's punctuation, each in a class of its own but / and ,.
  std::vector<int> classes;
  for (wchar_t c : punctuation) classes.push_back(StandardCharClass(c));
  EXPECT_EQ(classes, (std::vector<int>{5, 6, 7, 8, 9, 10, 11, 11}));
  EXPECT_EQ(StandardCharClass(0x10000), 1);  // above the BMP: a letter, as Lucene++ has it
  EXPECT_EQ(StandardCharClass(0x10FFFF), 1);
}

TEST(AnalysisChainTest, EveryBmpCharacterInContextMatchesLucenepp) {
  for (uint32_t c = 1; c < 0x10000; ++c) {
    const Lucene::String s(1, static_cast<wchar_t>(c));
    for (const Lucene::String& text : {s, L"ab" + s + L"cd", L"x1" + s + L"2y", L"A" + s + L".B.", L"o'" + s + L"'s",
                                       s + L"@x.com", s + s + L" " + s + L"S"}) {
      if (!Same(text)) return;
    }
  }
}

TEST(AnalysisChainTest, TrickyStringsMatchLucenepp) {
  const std::vector<Lucene::String> tricky = {
      L"",
      L" ",
      L"The quick brown Foxes are jumping over the lazy dogs",
      L"O'Neil's I.B.M. tests the 42 widgets",
      L"John's JOHN'S o'reilly's rock'n'roll 'quoted' it's a'b'c's ''s",
      L"U.S.A. u.s.a U.S.A I.B.M.. A.B A. a.b.c.d. 1.2.3. a1.b2.c3. x.y. www.apache.org. e.g. i.e.",
      L"AT&T at&t Excite@Home a&b&c a@b a@b.c a@b.c.d first.last@mail.example.com x_y-z.w@host-name.org a@b_c.d",
      L"user@@host @home me@ @ & && .. -- __ // ,,",
      L"www.apache.org 192.168.0.1 1.2 1,2 1/2 1-2 1_2 a-1 1-a a-b a_b a/b a,b 3.14159 2006-12-31 x1-y2-z3 "
      L"ab12-cd-34 12-ab-cd-34 a1/b/c2/d a-b-1 1-a-b-2-c",
      L"tab\there\nnew\r\nline\fform\vvertical\x01\x02\x7f\x1b[0m",
      L"Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c9COLE stra\u00dfe \u0130stanbul \u03a3\u03bf\u03c6\u03af\u03b1 "
      L"\u041c\u043e\u0441\u043a\u0432\u0430 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea",
      L"\u4e2d\u6587\u5b57 \u65e5\u672c\u8a9e\u3072\u3089\u304c\u306a\u30ab\u30bf\u30ab\u30ca \ud55c\uad6d\uc5b4 "
      L"\uff8a\uff9d\uff76\uff78 abc\u4e2ddef \u3042a1",
      L"\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22 \u0e51\u0e52\u0e53 \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
      L"\u0660\u0661\u0662 \u0966\u0967 \uff11\uff12\uff13 \uff21\uff22\uff23 \u00b2\u00b3 \u2160\u2161 \u00bd",
      L"e\u0301te\u0301 a\u0308o\u0308 n\u0303 \u0915\u093f\u0924\u093e\u092c \u200b\u200c\u200d\u2060\ufeff",
      L"\U0001F600 smile\U0001F600face \U00010400\U00010428 \U0002070E\U00020731 \U0001D400bold "
      L"\U000E0001tag \U0010FFFF",
      Surrogates(),
      L"\u2019s John\u2019s JOHN\u2019S Mary\uff07s x\u02bcs \u2018quoted\u2019 don\u2019t",
      L"\u00a0nbsp\u00a0 \u2002en\u2003em \u3000ideographic\u3000 \u2028line\u2029para \u0085nel \u1680ogham",
      L"THE AND a an are as at be but by for if in into is it no not of on or such that their then there these "
      L"they this to was will with",
      L"the I.B.M. the www.x.org the 1.2 the a@b.c the running",
      L"don't won't can't shouldn't y'all ma'am",
      L"\u0130I\u0131i \u1e9e\u00df \u01c5\u01c4\u01c6 \u1f88 \u2126\u212a\u212b \u03a3\u03c2",
  };
  for (const Lucene::String& text : tricky) {
    if (!Same(text)) return;
  }
}

TEST(AnalysisChainTest, LongTokensAndLongInputsMatchLucenepp) {
  for (size_t n : {1u, 2u, 254u, 255u, 256u, 257u, 300u, 510u, 511u, 600u, 5000u, 20000u}) {
    const Lucene::String letters(n, L'a');
    const Lucene::String mixed = [&] {
      Lucene::String s;
      for (size_t i = 0; i < n; ++i) s += (i % 2) ? L'.' : L'b';
      return s;
    }();
    for (const Lucene::String& text : {letters, L"the " + letters + L" the x", letters + L" " + letters,
                                       L"the the " + letters + L" the", mixed, letters + L"." + letters + L"."}) {
      if (!Same(text)) return;
    }
  }
  // Past Lucene++'s 4096- and 16384-character read buffers, tokens across them.
  Lucene::String text;
  for (int i = 0; text.size() < 70000; ++i) {
    text += L"w" + std::to_wstring(i) + (i % 7 == 0 ? L".x " : L" ") + (i % 11 == 0 ? L"the " : L"");
  }
  EXPECT_TRUE(Same(text));
}

TEST(AnalysisChainTest, SeededRandomStringsMatchLucenepp) {
  // Characters from every class, mixed at random.
  const std::wstring alphabet =
      L"aAzZ09'.&@-_/,  \t\n\r\x01sS\u00e9\u00df\u0130\u0391\u0e01\u0e31\u0e50\u0e5a\u4e2d\u3042\u30a2\uac00"
      L"\u0660\uff10\uff21\u2019\uff07\u0301\u00a0\u3000\u200b\U0001F600\U00010400" +
      Surrogates();
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const size_t n = rng() % 40;
    Lucene::String s;
    for (size_t j = 0; j < n; ++j) s += alphabet[rng() % alphabet.size()];
    if (!Same(s)) return;
  }
}

TEST(AnalysisChainTest, LeavesNulAndValuesOutsideUnicodeToLucenepp) {
  TokenBuffer out;
  out.chars = {L'x'};
  out.ends = {1};
  out.increments = {1};
  out.starts = {0};
  const wchar_t bad[] = {L'a', static_cast<wchar_t>(0x110000), L'b'};
  EXPECT_FALSE(NativeAnalyzeInto(AnalyzerKind::kEnglish, std::wstring_view(bad, 3), &out));
  EXPECT_EQ(out.size(), 1u);  // left as it was
  const wchar_t nul[] = {L'a', L' ', 0, L'b'};
  EXPECT_FALSE(NativeAnalyzeInto(AnalyzerKind::kStandard, std::wstring_view(nul, 4), &out));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_FALSE(NativeAnalyzeInto(AnalyzerKind::kSimple, L"abc", &out));
  EXPECT_TRUE(NativeAnalyzeInto(AnalyzerKind::kWhitespace, L"abc", &out));
  EXPECT_EQ(out.size(), 2u);  // appended
}

TEST(AnalysisChainTest, DecodeUtf8EqualsLuceneppsDecoder) {
  const std::vector<std::string> texts = {"",
                                          "plain ascii",
                                          "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
                                          std::string("a\0b", 3),
                                          "\xef\xbf\xbe",  // U+FFFE: Lucene++ refuses it
                                          "\xef\xbf\xbf",
                                          "\xef\xbf\xbd",      // U+FFFF refused, U+FFFD kept
                                          "\xf0\x9f\xbf\xbf",  // U+1FFFF
                                          "ab\xff",
                                          "\xc3",
                                          "\xc3(",
                                          "\xc0\xaf",
                                          "\xe0\x80\xaf",
                                          "\xed\xa0\x80",
                                          "\xf4\x90\x80\x80",
                                          "\xf8\x88\x80\x80\x80",
                                          "\x80",
                                          "x\xe4\xb8"};
  for (const std::string& t : texts) {
    EXPECT_TRUE(DecodeUtf8(t) == Wide(t)) << Printable(Wide(t));
  }
  std::mt19937 rng(11);
  const std::string pieces[] = {"a",    " ",    "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80",
                                "\x80", "\xc3", "\xff",     "\xef\xbf\xbe", "\xed\xb0\x80"};
  for (int i = 0; i < 20000; ++i) {
    std::string t;
    for (size_t j = rng() % 12; j > 0; --j) t += pieces[rng() % std::size(pieces)];
    ASSERT_TRUE(DecodeUtf8(t) == Wide(t)) << i;
  }
}

TEST(AnalysisChainTest, SharedCollectionsMatchLucenepp) {
  bool any = false;
  for (const char* name : {"cacm", "cisi", "cranfield", "med", "mixed", "scifact"}) {
    const std::string dir = testing::SharedDataDir(name);
    if (dir.empty()) continue;
    any = true;
    ASSERT_OK_AND_ASSIGN(auto reader, CorpusReader::Open(dir + "/corpus.jsonl"));
    Document doc;
    size_t docs = 0;
    while (true) {
      ASSERT_OK_AND_ASSIGN(bool more, reader->Next(&doc));
      if (!more) break;
      ++docs;
      if (!Same(Wide(doc.title)) || !Same(Wide(doc.text))) return;
    }
    ASSERT_OK_AND_ASSIGN(auto queries, ReadQueries(dir + "/queries.jsonl"));
    for (const QueryRecord& q : queries) {
      if (!Same(Wide(q.text))) return;
    }
    EXPECT_GT(docs, 0u) << name;
  }
  if (!any) GTEST_SKIP() << "no shared collections in " << HYMIR_SHARED_DATA_DIR;
}

TEST(AnalysisChainTest, PackageDescriptionsMatchLucenepp) {
  std::ifstream in("/var/lib/dpkg/status");
  if (!in) GTEST_SKIP() << "no /var/lib/dpkg/status";
  std::string line, paragraph;
  size_t paragraphs = 0;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      paragraph += line + "\n";
      continue;
    }
    ++paragraphs;
    if (!Same(Wide(paragraph))) return;
    paragraph.clear();
  }
  EXPECT_GT(paragraphs, 0u);
}

}  // namespace
}  // namespace hymir::index::internal
