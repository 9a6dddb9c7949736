#include "index/lucene/analysis_chain.h"

#include <lucene++/LuceneHeaders.h>
#include <lucene++/CharFolder.h>
#include <lucene++/UnicodeUtils.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "index/lucene/lucene_util.h"
#include "index/lucene/porter_stemmer.h"

namespace hymir::index::internal {

namespace {

// StandardTokenizer's character classes: the sets its grammar is written
// over, made disjoint.
enum CharClass : uint8_t {
  kOther,
  kLetter,  // [:letter:] but not CJ
  kDigit,   // [:digit:]
  kThai,    // U+0E00..U+0E59, neither letter nor digit
  kCj,      // Chinese and Japanese
  kApostrophe,
  kDot,
  kAmpersand,
  kAt,
  kHyphen,
  kUnderscore,
  kSlashComma,
  kNumClasses
};

struct ClassRange {
  uint16_t first;
  uint16_t last;
  CharClass cls;
};

constexpr ClassRange kClassRanges[] = {
#include "index/lucene/standard_char_classes.inc"
};

// The grammar's rules in its order: on matches of equal length the earlier
// rule wins (JFlex). kIgnore matches any one character.
enum Rule : int8_t {
  kAlphanumRule,
  kApostropheRule,
  kAcronymRule,
  kCompanyRule,
  kEmailRule,
  kHostRule,
  kNumRule,
  kCjRule,
  kAcronymDepRule,
  kIgnoreRule,
};

// StandardAnalyzer::DEFAULT_MAX_TOKEN_LENGTH (also CharTokenizer::MAX_WORD_LEN):
// longer StandardTokenizer matches are dropped (their position counts), longer
// runs of non-space characters are split.
constexpr size_t kMaxTokenLength = 255;

// A Thompson NFA over character classes, built from the grammar, then made
// deterministic by the subset construction.
class NfaBuilder {
 public:
  struct Frag {
    int start;
    int end;  // a state without transitions yet
  };

  Frag Chars(std::initializer_list<CharClass> classes) {
    const int s = NewState(), e = NewState();
    for (CharClass c : classes) states_[s].mask |= 1u << c;
    states_[s].next = e;
    return {s, e};
  }
  Frag Cat(Frag a, Frag b) {
    states_[a.end].eps.push_back(b.start);
    return {a.start, b.end};
  }
  template <class... More>
  Frag Cat(Frag a, Frag b, More... more) {
    return Cat(Cat(a, b), more...);
  }
  Frag Alt(std::initializer_list<Frag> frags) {
    const int s = NewState(), e = NewState();
    for (const Frag& f : frags) {
      states_[s].eps.push_back(f.start);
      states_[f.end].eps.push_back(e);
    }
    return {s, e};
  }
  Frag Plus(Frag a) {
    const int e = NewState();
    states_[a.end].eps.push_back(a.start);
    states_[a.end].eps.push_back(e);
    return {a.start, e};
  }
  Frag Star(Frag a) {
    const int s = NewState(), e = NewState();
    states_[s].eps = {a.start, e};
    states_[a.end].eps.push_back(a.start);
    states_[a.end].eps.push_back(e);
    return {s, e};
  }
  void Accept(Frag f, Rule rule) { states_[f.end].accept = rule; }
  int NewState() {
    states_.emplace_back();
    return static_cast<int>(states_.size()) - 1;
  }
  void Epsilon(int from, int to) { states_[from].eps.push_back(to); }

  // The DFA: next[state * kNumClasses + class] (-1: no transition) and the
  // rule each state accepts (-1: none); state 0 is the start.
  void Determinize(int start, std::vector<int16_t>* next, std::vector<int8_t>* accept) const {
    std::map<std::vector<int>, int> ids;
    std::vector<std::vector<int>> sets;
    auto id_of = [&](std::vector<int> set) {
      auto [it, fresh] = ids.emplace(set, static_cast<int>(sets.size()));
      if (fresh) sets.push_back(std::move(set));
      return it->second;
    };
    id_of(Closure({start}));
    for (size_t d = 0; d < sets.size(); ++d) {
      int best = -1;
      for (int s : sets[d]) {
        if (states_[s].accept >= 0 && (best < 0 || states_[s].accept < best)) best = states_[s].accept;
      }
      accept->push_back(static_cast<int8_t>(best));
      for (int c = 0; c < kNumClasses; ++c) {
        std::vector<int> moved;
        for (int s : sets[d]) {
          if (states_[s].mask & (1u << c)) moved.push_back(states_[s].next);
        }
        next->push_back(moved.empty() ? int16_t{-1} : static_cast<int16_t>(id_of(Closure(moved))));
      }
    }
  }

 private:
  struct State {
    uint32_t mask = 0;  // classes of the one character transition
    int next = -1;
    std::vector<int> eps;
    int accept = -1;
  };

  std::vector<int> Closure(std::vector<int> todo) const {
    std::vector<bool> seen(states_.size());
    std::vector<int> out;
    while (!todo.empty()) {
      const int s = todo.back();
      todo.pop_back();
      if (seen[s]) continue;
      seen[s] = true;
      out.push_back(s);
      for (int e : states_[s].eps) todo.push_back(e);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<State> states_;
};

struct Tables {
  std::array<uint8_t, 0x10000> classes{};      // CharClass of each BMP character
  std::vector<int16_t> next;                   // DFA transitions
  std::vector<int8_t> accept;                  // DFA accepting rules
  std::array<wchar_t, 0x10000> lower{};        // CharFolder::toLower of each BMP character
  std::array<uint64_t, 0x10000 / 64> space{};  // UnicodeUtil::isSpace, one bit per BMP character
  std::vector<std::wstring> stop_words;        // StopAnalyzer::ENGLISH_STOP_WORDS_SET
  size_t max_stop_length = 0;
};

void BuildDfa(Tables* t) {
  NfaBuilder b;
  using F = NfaBuilder::Frag;
  auto alphanum = [&] { return b.Plus(b.Chars({kLetter, kThai, kDigit})); };
  auto alpha = [&] { return b.Plus(b.Chars({kLetter})); };
  // HAS_DIGIT: ({LETTER}|[:digit:])* [:digit:] ({LETTER}|[:digit:])*
  auto has_digit = [&] {
    return b.Cat(b.Star(b.Chars({kLetter, kDigit})), b.Chars({kDigit}), b.Star(b.Chars({kLetter, kDigit})));
  };
  auto p = [&] { return b.Chars({kUnderscore, kHyphen, kSlashComma, kDot}); };
  const int start = b.NewState();
  auto rule = [&](F f, Rule r) {
    b.Accept(f, r);
    b.Epsilon(start, f.start);
  };
  rule(alphanum(), kAlphanumRule);
  rule(b.Cat(alpha(), b.Plus(b.Cat(b.Chars({kApostrophe}), alpha()))), kApostropheRule);
  rule(b.Cat(b.Chars({kLetter}), b.Chars({kDot}), b.Plus(b.Cat(b.Chars({kLetter}), b.Chars({kDot})))), kAcronymRule);
  rule(b.Cat(alpha(), b.Chars({kAmpersand, kAt}), alpha()), kCompanyRule);
  rule(b.Cat(alphanum(), b.Star(b.Cat(b.Chars({kDot, kHyphen, kUnderscore}), alphanum())), b.Chars({kAt}), alphanum(),
             b.Plus(b.Cat(b.Chars({kDot, kHyphen}), alphanum()))),
       kEmailRule);
  rule(b.Cat(alphanum(), b.Plus(b.Cat(b.Chars({kDot}), alphanum()))), kHostRule);
  rule(b.Alt({
           b.Cat(alphanum(), p(), has_digit()),
           b.Cat(has_digit(), p(), alphanum()),
           b.Cat(alphanum(), b.Plus(b.Cat(p(), has_digit(), p(), alphanum()))),
           b.Cat(has_digit(), b.Plus(b.Cat(p(), alphanum(), p(), has_digit()))),
           b.Cat(alphanum(), p(), has_digit(), b.Plus(b.Cat(p(), alphanum(), p(), has_digit()))),
           b.Cat(has_digit(), p(), alphanum(), b.Plus(b.Cat(p(), has_digit(), p(), alphanum()))),
       }),
       kNumRule);
  rule(b.Chars({kCj}), kCjRule);
  rule(b.Cat(alphanum(), b.Chars({kDot}), b.Plus(b.Cat(alphanum(), b.Chars({kDot})))), kAcronymDepRule);
  rule(b.Chars({kOther, kLetter, kDigit, kThai, kCj, kApostrophe, kDot, kAmpersand, kAt, kHyphen, kUnderscore,
                kSlashComma}),
       kIgnoreRule);
  b.Determinize(start, &t->next, &t->accept);
}

const Tables& GetTables() {
  static const std::unique_ptr<Tables> tables = [] {
    auto t = std::make_unique<Tables>();
    for (const ClassRange& r : kClassRanges) {
      std::fill(t->classes.begin() + r.first, t->classes.begin() + r.last + 1, r.cls);
    }
    t->classes[L'\''] = kApostrophe;
    t->classes[L'.'] = kDot;
    t->classes[L'&'] = kAmpersand;
    t->classes[L'@'] = kAt;
    t->classes[L'-'] = kHyphen;
    t->classes[L'_'] = kUnderscore;
    t->classes[L'/'] = kSlashComma;
    t->classes[L','] = kSlashComma;
    BuildDfa(t.get());
    for (uint32_t c = 0; c < 0x10000; ++c) {
      t->lower[c] = Lucene::CharFolder::toLower(static_cast<wchar_t>(c));
      if (Lucene::UnicodeUtil::isSpace(static_cast<wchar_t>(c))) t->space[c / 64] |= uint64_t{1} << (c % 64);
    }
    // MakeAnalyzer first fills Lucene++'s analysis statics on one thread
    // (analysis.cc), the stop word set among them.
    MakeAnalyzer(AnalyzerKind::kStandard);
    for (const Lucene::String& w : Lucene::StopAnalyzer::ENGLISH_STOP_WORDS_SET()) {
      t->stop_words.push_back(w);
      t->max_stop_length = std::max(t->max_stop_length, w.size());
    }
    return t;
  }();
  return *tables;
}

inline uint8_t ClassOf(const Tables& t, wchar_t c) {
  // Lucene++ maps every value above U+FFFF to the class of 'A'.
  return static_cast<uint32_t>(c) < 0x10000 ? t.classes[c] : uint8_t{kLetter};
}

inline bool IsSpace(const Tables& t, wchar_t c) {
  if (static_cast<uint32_t>(c) < 0x10000) return (t.space[c / 64] >> (c % 64)) & 1;
  return Lucene::UnicodeUtil::isSpace(c);
}

inline wchar_t ToLower(const Tables& t, wchar_t c) {
  return static_cast<uint32_t>(c) < 0x10000 ? t.lower[c] : Lucene::CharFolder::toLower(c);
}

bool IsStopWord(const Tables& t, const wchar_t* w, size_t n) {
  if (n > t.max_stop_length) return false;
  for (const std::wstring& s : t.stop_words) {
    if (s.size() == n && std::equal(s.begin(), s.end(), w)) return true;
  }
  return false;
}

void Emit(const wchar_t* w, size_t n, int32_t increment, size_t start, TokenBuffer* out) {
  out->chars.insert(out->chars.end(), w, w + n);
  out->ends.push_back(static_cast<uint32_t>(out->chars.size()));
  out->increments.push_back(increment);
  out->starts.push_back(static_cast<uint32_t>(start));
}

// WhitespaceTokenizer (CharTokenizer): runs of non-space characters, cut
// every kMaxTokenLength characters.
void Whitespace(const Tables& t, std::wstring_view text, TokenBuffer* out) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    while (i < n && IsSpace(t, text[i])) ++i;
    if (i == n) break;
    const size_t start = i;
    while (i < n && i - start < kMaxTokenLength && !IsSpace(t, text[i])) ++i;
    Emit(text.data() + start, i - start, 1, start, out);
  }
}

// StandardTokenizer -> StandardFilter [-> possessive] -> LowerCaseFilter ->
// StopFilter (position increments on) [-> Porter stemmer].
void Standard(const Tables& t, bool english, std::wstring_view text, TokenBuffer* out) {
  const wchar_t* s = text.data();
  const size_t n = text.size();
  const int16_t* next = t.next.data();
  const int8_t* accept = t.accept.data();
  PorterStemmer stemmer;
  wchar_t buf[kMaxTokenLength];
  int32_t increment = 1;  // StandardTokenizer's: 1 plus the positions of dropped long tokens
  int32_t skipped = 0;    // StopFilter's: the increments of the stop words since the last token
  size_t pos = 0;
  while (pos < n) {
    // The longest match from pos (kIgnore matches any one character).
    int state = 0;
    int rule = kIgnoreRule;
    size_t end = pos + 1;
    for (size_t i = pos; i < n; ++i) {
      const int to = next[state * kNumClasses + ClassOf(t, s[i])];
      if (to < 0) break;
      state = to;
      if (accept[state] >= 0) {
        rule = accept[state];
        end = i + 1;
      }
    }
    const size_t start = pos;
    pos = end;
    if (rule == kIgnoreRule) continue;
    size_t len = end - start;
    if (len > kMaxTokenLength) {  // dropped by StandardTokenizer; its position stays
      ++increment;
      continue;
    }
    std::copy(s + start, s + end, buf);
    if (rule == kAcronymDepRule) {  // typed HOST, without the final dot
      --len;
    } else if (rule == kApostropheRule) {  // StandardFilter: remove 's
      if (len >= 2 && buf[len - 2] == L'\'' && (buf[len - 1] == L's' || buf[len - 1] == L'S')) len -= 2;
    } else if (rule == kAcronymRule) {  // StandardFilter: remove the dots
      size_t kept = 0;
      for (size_t i = 0; i < len; ++i) {
        if (buf[i] != L'.') buf[kept++] = buf[i];
      }
      len = kept;
    }
    if (english && len >= 2) {  // the possessive filter (analysis.cc)
      const wchar_t last = buf[len - 1], quote = buf[len - 2];
      if ((last == L's' || last == L'S') && (quote == L'\'' || quote == 0x2019 || quote == 0xFF07)) len -= 2;
    }
    for (size_t i = 0; i < len; ++i) buf[i] = ToLower(t, buf[i]);
    if (IsStopWord(t, buf, len)) {  // StopFilter: its positions go to the next token
      skipped += increment;
      increment = 1;
      continue;
    }
    if (english) len = static_cast<size_t>(stemmer.Stem(buf, static_cast<int32_t>(len)));
    Emit(buf, len, increment + skipped, start, out);
    increment = 1;
    skipped = 0;
  }
}

}  // namespace

bool HasNativeChain(AnalyzerKind kind) {
  return kind == AnalyzerKind::kEnglish || kind == AnalyzerKind::kStandard || kind == AnalyzerKind::kWhitespace;
}

bool NativeAnalyzeInto(AnalyzerKind kind, std::wstring_view text, TokenBuffer* out) {
  if (!HasNativeChain(kind)) return false;
  for (wchar_t c : text) {
    if (c == 0 || static_cast<uint32_t>(c) > 0x10FFFF) return false;  // left to Lucene++ (see the header)
  }
  const Tables& t = GetTables();
  if (kind == AnalyzerKind::kWhitespace) {
    Whitespace(t, text, out);
  } else {
    Standard(t, kind == AnalyzerKind::kEnglish, text, out);
  }
  return true;
}

Lucene::String DecodeUtf8(std::string_view utf8) {
  Lucene::String out(utf8.size(), L'\0');  // one character at most per byte
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const size_t n = utf8.size();
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    uint32_t cp = p[i];
    if (cp < 0x80) {
      out[o++] = static_cast<wchar_t>(cp);
      ++i;
      continue;
    }
    size_t len;
    if ((cp & 0xE0) == 0xC0) {
      len = 2;
      cp &= 0x1F;
    } else if ((cp & 0xF0) == 0xE0) {
      len = 3;
      cp &= 0x0F;
    } else if ((cp & 0xF8) == 0xF0) {
      len = 4;
      cp &= 0x07;
    } else {
      return Wide(utf8);
    }
    if (n - i < len) return Wide(utf8);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return Wide(utf8);
      cp = cp << 6 | (p[i + k] & 0x3F);
    }
    constexpr uint32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};  // below: an overlong form
    if (cp < kShortest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) {
      return Wide(utf8);
    }
    out[o++] = static_cast<wchar_t>(cp);
    i += len;
  }
  out.resize(o);
  return out;
}

TextAnalysis::TextAnalysis(AnalyzerKind kind, bool lucenepp_only)
    : kind_(kind),
      lucenepp_only_(lucenepp_only),
      native_(!lucenepp_only && HasNativeChain(kind)),
      lucenepp_(MakeAnalyzer(kind)) {}

Lucene::String TextAnalysis::Decode(std::string_view utf8) const {
  return lucenepp_only_ ? Wide(utf8) : DecodeUtf8(utf8);
}

void TextAnalysis::AnalyzeInto(const Lucene::String& text, TokenBuffer* out) const {
  if (native_ && NativeAnalyzeInto(kind_, text, out)) return;
  internal::AnalyzeInto(lucenepp_, text, out);
}

int StandardCharClass(wchar_t c) { return ClassOf(GetTables(), c); }

}  // namespace hymir::index::internal
