#include "index/lucene/analysis.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>

#include <lucene++/ArabicAnalyzer.h>
#include <lucene++/BrazilianAnalyzer.h>
#include <lucene++/CJKAnalyzer.h>
#include <lucene++/CharFolder.h>
#include <lucene++/ChineseAnalyzer.h>
#include <lucene++/CzechAnalyzer.h>
#include <lucene++/DutchAnalyzer.h>
#include <lucene++/FrenchAnalyzer.h>
#include <lucene++/GermanAnalyzer.h>
#include <lucene++/GreekAnalyzer.h>
#include <lucene++/PersianAnalyzer.h>
#include <lucene++/RussianAnalyzer.h>
#include <lucene++/SnowballAnalyzer.h>
#include <lucene++/OffsetAttribute.h>
#include <lucene++/PositionIncrementAttribute.h>
#include <lucene++/TermAttribute.h>

#include "index/lucene/analysis_chain.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/porter_stemmer.h"

// Lucene++ class macros need their classes inside namespace Lucene.
namespace Lucene {

// Removes a trailing possessive 's (ASCII, right single quotation mark or
// fullwidth apostrophe), as Java Lucene's EnglishPossessiveFilter does.
// Lucene++'s StandardFilter already strips ASCII 's from APOSTROPHE tokens;
// this catches the other quote marks.
class HymirPossessiveFilter : public TokenFilter {
 public:
  explicit HymirPossessiveFilter(const TokenStreamPtr& input) : TokenFilter(input) {
    term_ = addAttribute<TermAttribute>();
  }
  LUCENE_CLASS(HymirPossessiveFilter);

  bool incrementToken() override {
    if (!input->incrementToken()) return false;
    int32_t len = term_->termLength();
    if (len >= 2) {
      const wchar_t* buf = term_->termBufferArray();
      wchar_t last = buf[len - 1];
      wchar_t quote = buf[len - 2];
      if ((last == L's' || last == L'S') && (quote == L'\'' || quote == 0x2019 || quote == 0xFF07)) {
        term_->setTermLength(len - 2);
      }
    }
    return true;
  }

 private:
  TermAttributePtr term_;
};

// Porter stemming of each term as Java Lucene's PorterStemFilter does it
// (see porter_stemmer.h); Lucene++'s PorterStemFilter garbles suffixes.
class HymirPorterStemFilter : public TokenFilter {
 public:
  explicit HymirPorterStemFilter(const TokenStreamPtr& input) : TokenFilter(input) {
    term_ = addAttribute<TermAttribute>();
  }
  LUCENE_CLASS(HymirPorterStemFilter);

  bool incrementToken() override {
    if (!input->incrementToken()) return false;
    term_->setTermLength(stemmer_.Stem(term_->termBufferArray(), term_->termLength()));
    return true;
  }

 private:
  TermAttributePtr term_;
  hymir::index::internal::PorterStemmer stemmer_;
};

// Java Lucene EnglishAnalyzer, as far as Lucene++ 3.0.8 allows:
// StandardTokenizer(3.0) -> StandardFilter -> possessive -> LowerCase ->
// StopFilter(33 English words, position increments) -> Porter stemmer: hymir's
// (Java's algorithm), or with `lucenepp_stemmer` Lucene++'s PorterStemFilter,
// for indexes built with it (AnalyzerKind::kEnglishLegacy).
class HymirEnglishAnalyzer : public Analyzer {
 public:
  explicit HymirEnglishAnalyzer(bool lucenepp_stemmer) : lucenepp_stemmer_(lucenepp_stemmer) {}
  LUCENE_CLASS(HymirEnglishAnalyzer);

  TokenStreamPtr tokenStream(const String& field, const ReaderPtr& reader) override { return Build(reader).back(); }

  TokenStreamPtr reusableTokenStream(const String& field, const ReaderPtr& reader) override {
    auto saved = boost::dynamic_pointer_cast<Streams>(getPreviousTokenStream());
    if (!saved) {
      saved = newLucene<Streams>();
      auto chain = Build(reader);
      saved->tokenizer = boost::dynamic_pointer_cast<Tokenizer>(chain.front());
      saved->result = chain.back();
      setPreviousTokenStream(saved);
    } else {
      saved->tokenizer->reset(reader);
    }
    return saved->result;
  }

 private:
  class Streams : public LuceneObject {
   public:
    LUCENE_CLASS(Streams);
    TokenizerPtr tokenizer;
    TokenStreamPtr result;
  };

  std::vector<TokenStreamPtr> Build(const ReaderPtr& reader) const {
    std::vector<TokenStreamPtr> chain;
    chain.push_back(newLucene<StandardTokenizer>(LuceneVersion::LUCENE_30, reader));
    chain.push_back(newLucene<StandardFilter>(chain.back()));
    chain.push_back(newLucene<HymirPossessiveFilter>(chain.back()));
    chain.push_back(newLucene<LowerCaseFilter>(chain.back()));
    chain.push_back(newLucene<StopFilter>(true, chain.back(), StopAnalyzer::ENGLISH_STOP_WORDS_SET()));
    if (lucenepp_stemmer_) {
      chain.push_back(newLucene<PorterStemFilter>(chain.back()));
    } else {
      chain.push_back(newLucene<HymirPorterStemFilter>(chain.back()));
    }
    return chain;
  }

  const bool lucenepp_stemmer_;
};

// Replays pre-analysed tokens (see TokenBuffer).
class HymirReplayStream : public TokenStream {
 public:
  explicit HymirReplayStream(std::vector<const hymir::index::internal::TokenBuffer*> parts) : parts_(std::move(parts)) {
    term_ = addAttribute<TermAttribute>();
    pos_ = addAttribute<PositionIncrementAttribute>();
  }
  LUCENE_CLASS(HymirReplayStream);

  bool incrementToken() override {
    while (part_ < parts_.size() && token_ >= parts_[part_]->size()) {
      ++part_;
      token_ = 0;
    }
    if (part_ >= parts_.size()) return false;
    clearAttributes();
    const auto* buf = parts_[part_];
    uint32_t begin = token_ == 0 ? 0 : buf->ends[token_ - 1];
    uint32_t end = buf->ends[token_];
    term_->setTermBuffer(buf->chars.data(), static_cast<int32_t>(begin), static_cast<int32_t>(end - begin));
    pos_->setPositionIncrement(buf->increments[token_]);
    ++token_;
    return true;
  }

  void reset() override {
    part_ = 0;
    token_ = 0;
  }

 private:
  std::vector<const hymir::index::internal::TokenBuffer*> parts_;
  size_t part_ = 0;
  size_t token_ = 0;
  TermAttributePtr term_;
  PositionIncrementAttributePtr pos_;
};

}  // namespace Lucene

namespace hymir::index {

namespace {

// Names by AnalyzerKind value; a Snowball kind's name is "snowball-" and
// its libstemmer language (lower case, as Lucene++ wants it).
constexpr const char* kAnalyzerNames[] = {"english",
                                          "standard",
                                          "whitespace",
                                          "english-lucenepp30",
                                          "simple",
                                          "stop",
                                          "keyword",
                                          "arabic",
                                          "brazilian",
                                          "cjk",
                                          "chinese",
                                          "czech",
                                          "dutch",
                                          "french",
                                          "german",
                                          "greek",
                                          "persian",
                                          "russian",
                                          "snowball-danish",
                                          "snowball-dutch",
                                          "snowball-english",
                                          "snowball-finnish",
                                          "snowball-french",
                                          "snowball-german",
                                          "snowball-hungarian",
                                          "snowball-italian",
                                          "snowball-norwegian",
                                          "snowball-porter",
                                          "snowball-portuguese",
                                          "snowball-romanian",
                                          "snowball-russian",
                                          "snowball-spanish",
                                          "snowball-swedish",
                                          "snowball-turkish"};
static_assert(std::size(kAnalyzerNames) == std::size(kAllAnalyzerKinds));
constexpr const char kSnowballPrefix[] = "snowball-";

}  // namespace

Result<AnalyzerKind> ParseAnalyzerKind(std::string_view name) {
  for (AnalyzerKind kind : kAllAnalyzerKinds) {
    if (name == AnalyzerName(kind)) return kind;
  }
  return Status::InvalidArgument("unknown analyzer \"" + std::string(name) + "\" (expected one of: " + AnalyzerNames() +
                                 ")");
}

const char* AnalyzerName(AnalyzerKind kind) {
  const auto i = static_cast<size_t>(kind);
  return i < std::size(kAnalyzerNames) ? kAnalyzerNames[i] : "unknown";
}

std::string AnalyzerNames() {
  std::string out;
  for (AnalyzerKind kind : kAllAnalyzerKinds) out += (out.empty() ? "" : ", ") + std::string(AnalyzerName(kind));
  return out;
}

namespace {

// One shared analyzer per kind (Lucene++ analyzers allow concurrent use).
const Lucene::AnalyzerPtr& SharedAnalyzer(AnalyzerKind kind) {
  static const auto analyzers = [] {
    std::array<Lucene::AnalyzerPtr, std::size(kAllAnalyzerKinds)> a;
    for (AnalyzerKind k : kAllAnalyzerKinds) a[static_cast<size_t>(k)] = internal::MakeAnalyzer(k);
    return a;
  }();
  return analyzers.at(static_cast<size_t>(kind));
}

// The tokens of `text`: hymir's chain where it takes the text, else
// Lucene++'s (the same tokens; analysis_chain.h).
void AnalyzeUtf8(AnalyzerKind kind, std::string_view text, internal::TokenBuffer* buf) {
  const Lucene::String wide = internal::DecodeUtf8(text);
  if (!internal::NativeAnalyzeInto(kind, wide, buf)) internal::AnalyzeInto(SharedAnalyzer(kind), wide, buf);
}

// This thread's token buffer, emptied: short texts (queries) are analysed
// without allocating one each time.
internal::TokenBuffer& ScratchTokens() {
  thread_local internal::TokenBuffer buf;
  buf.Clear();
  return buf;
}

// A token as UTF-8: ASCII directly, anything else through Lucene++.
std::string TokenUtf8(const wchar_t* chars, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<uint32_t>(chars[i]) >= 0x80) return internal::Utf8(Lucene::String(chars, n));
    out[i] = static_cast<char>(chars[i]);
  }
  return out;
}

}  // namespace

std::vector<std::string> Analyze(AnalyzerKind kind, std::string_view text) {
  internal::TokenBuffer& buf = ScratchTokens();
  AnalyzeUtf8(kind, text, &buf);
  std::vector<std::string> out;
  out.reserve(buf.size());
  uint32_t begin = 0;
  for (uint32_t end : buf.ends) {
    out.push_back(TokenUtf8(buf.chars.data() + begin, end - begin));
    begin = end;
  }
  return out;
}

std::vector<QueryToken> AnalyzePositions(AnalyzerKind kind, std::string_view text) {
  internal::TokenBuffer& buf = ScratchTokens();
  AnalyzeUtf8(kind, text, &buf);
  std::vector<QueryToken> out;
  out.reserve(buf.size());
  uint32_t begin = 0;
  int32_t position = -1;
  for (size_t i = 0; i < buf.size(); ++i) {
    const uint32_t end = buf.ends[i];
    position += buf.increments[i];
    out.push_back({TokenUtf8(buf.chars.data() + begin, end - begin), position});
    begin = end;
  }
  return out;
}

std::string NormalizeTerm(AnalyzerKind kind, std::string_view text) {
  if (kind == AnalyzerKind::kWhitespace || kind == AnalyzerKind::kKeyword) return std::string(text);
  Lucene::String w = internal::Wide(text);
  Lucene::CharFolder::toLower(w.begin(), w.end());
  return internal::Utf8(w);
}

Result<QueryNode> AnalyzeLuceneQuery(AnalyzerKind kind, std::string_view text) {
  HYMIR_ASSIGN_OR_RETURN(QueryNode raw, ParseQuery(text));
  QueryTokenizer tokenize = [kind](std::string_view field, std::string_view t) {
    if (field.empty() || internal::TextFieldIndex(field) >= 0) return AnalyzePositions(kind, t);
    return std::vector<QueryToken>{{std::string(t), 0}};
  };
  QueryNormalizer normalize = [kind](std::string_view field, std::string_view t) {
    if (field.empty() || internal::TextFieldIndex(field) >= 0) return NormalizeTerm(kind, t);
    return std::string(t);
  };
  return AnalyzeQuery(raw, tokenize, normalize);
}

Result<QueryNode> AnalyzeLuceneQuery(AnalyzerKind kind, std::string_view text, const Schema& schema) {
  HYMIR_ASSIGN_OR_RETURN(QueryNode raw, ParseQuery(text));
  // The analyzer of each text field of the schema (checked when the schema
  // was read; an unknown name here means the field is not analysed).
  std::map<std::string, AnalyzerKind, std::less<>> by_field;
  for (const auto& [name, spec] : schema.fields) {
    if (spec.type != FieldType::kText) continue;
    auto k = ParseAnalyzerKind(spec.analyzer);
    if (!k.ok()) return k.status().WithContext("text field \"" + name + "\"");
    by_field.emplace(name, *k);
  }
  auto analyzer_of = [kind, &by_field](std::string_view field) -> std::optional<AnalyzerKind> {
    if (field.empty() || internal::TextFieldIndex(field) >= 0) return kind;
    auto it = by_field.find(field);
    if (it != by_field.end()) return it->second;
    return std::nullopt;
  };
  QueryTokenizer tokenize = [&analyzer_of](std::string_view field, std::string_view t) {
    if (auto k = analyzer_of(field)) return AnalyzePositions(*k, t);
    return std::vector<QueryToken>{{std::string(t), 0}};
  };
  QueryNormalizer normalize = [&analyzer_of](std::string_view field, std::string_view t) {
    if (auto k = analyzer_of(field)) return NormalizeTerm(*k, t);
    return std::string(t);
  };
  return AnalyzeQuery(raw, tokenize, normalize);
}

namespace internal {

namespace {

Lucene::AnalyzerPtr NewAnalyzer(AnalyzerKind kind) {
  using Lucene::newLucene;
  constexpr auto v = Lucene::LuceneVersion::LUCENE_30;
  switch (kind) {
    case AnalyzerKind::kEnglish:
      return newLucene<Lucene::HymirEnglishAnalyzer>(false);
    case AnalyzerKind::kEnglishLegacy:
      return newLucene<Lucene::HymirEnglishAnalyzer>(true);
    case AnalyzerKind::kStandard:
      return newLucene<Lucene::StandardAnalyzer>(v);
    case AnalyzerKind::kWhitespace:
      return newLucene<Lucene::WhitespaceAnalyzer>();
    case AnalyzerKind::kSimple:
      return newLucene<Lucene::SimpleAnalyzer>();
    case AnalyzerKind::kStop:
      return newLucene<Lucene::StopAnalyzer>(v);
    case AnalyzerKind::kKeyword:
      return newLucene<Lucene::KeywordAnalyzer>();
    case AnalyzerKind::kArabic:
      return newLucene<Lucene::ArabicAnalyzer>(v);
    case AnalyzerKind::kBrazilian:
      return newLucene<Lucene::BrazilianAnalyzer>(v);
    case AnalyzerKind::kCjk:
      return newLucene<Lucene::CJKAnalyzer>(v);
    case AnalyzerKind::kChinese:
      return newLucene<Lucene::ChineseAnalyzer>();
    case AnalyzerKind::kCzech:
      return newLucene<Lucene::CzechAnalyzer>(v);
    case AnalyzerKind::kDutch:
      return newLucene<Lucene::DutchAnalyzer>(v);
    case AnalyzerKind::kFrench:
      return newLucene<Lucene::FrenchAnalyzer>(v);
    case AnalyzerKind::kGerman:
      return newLucene<Lucene::GermanAnalyzer>(v);
    case AnalyzerKind::kGreek:
      return newLucene<Lucene::GreekAnalyzer>(v);
    case AnalyzerKind::kPersian:
      return newLucene<Lucene::PersianAnalyzer>(v);
    case AnalyzerKind::kRussian:
      return newLucene<Lucene::RussianAnalyzer>(v);
    default:
      break;
  }
  // The Snowball kinds: their name after "snowball-" is the stemmer's language.
  const std::string_view name = AnalyzerName(kind);
  if (name.rfind(kSnowballPrefix, 0) == 0) {
    return newLucene<Lucene::SnowballAnalyzer>(v, Wide(name.substr(std::size(kSnowballPrefix) - 1)));
  }
  return nullptr;
}

// Lucene++ 3.0.8 fills some statics on first use without synchronisation
// (`static X x; if (!x) x = ...`: StandardTokenizer::TOKEN_TYPES(),
// StandardFilter::APOSTROPHE_TYPE() and ACRONYM_TYPE(),
// StopAnalyzer::ENGLISH_STOP_WORDS_SET()), so two threads analysing their
// first texts at once race on them: ThreadSanitizer saw an ingest worker free
// the token type list another had just built. Every analyzer comes from
// MakeAnalyzer, which first runs each kind once, on one thread.
void InitLuceneAnalysisStatics() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (AnalyzerKind kind : kAllAnalyzerKinds) {
      TokenBuffer tokens;
      AnalyzeInto(NewAnalyzer(kind), L"O'Neil's I.B.M. tests the 42 widgets", &tokens);
    }
  });
}

}  // namespace

Lucene::AnalyzerPtr MakeAnalyzer(AnalyzerKind kind) {
  InitLuceneAnalysisStatics();
  return NewAnalyzer(kind);
}

void AnalyzeInto(const Lucene::AnalyzerPtr& analyzer, const Lucene::String& text, TokenBuffer* out) {
  static const Lucene::String kField = L"all";
  Lucene::TokenStreamPtr ts = analyzer->reusableTokenStream(kField, Lucene::newLucene<Lucene::StringReader>(text));
  auto term = ts->addAttribute<Lucene::TermAttribute>();
  auto pos = ts->addAttribute<Lucene::PositionIncrementAttribute>();
  auto offset = ts->addAttribute<Lucene::OffsetAttribute>();
  ts->reset();
  while (ts->incrementToken()) {
    const wchar_t* b = term->termBufferArray();
    out->chars.insert(out->chars.end(), b, b + term->termLength());
    out->ends.push_back(static_cast<uint32_t>(out->chars.size()));
    out->increments.push_back(pos->getPositionIncrement());
    out->starts.push_back(static_cast<uint32_t>(std::max<int32_t>(offset->startOffset(), 0)));
  }
  ts->end();
}

Lucene::TokenStreamPtr MakeReplayStream(std::vector<const TokenBuffer*> parts) {
  return Lucene::newLucene<Lucene::HymirReplayStream>(std::move(parts));
}

}  // namespace internal
}  // namespace hymir::index
