// Text analysis: how title, text, text fields of a schema and query strings
// become index terms.
//
//   english     StandardTokenizer (Lucene 3.0 grammar) -> possessive removal
//               ('s) -> lower case -> Lucene's 33 English stop words (with
//               position increments) -> Porter stemmer. Equal in behaviour to
//               Java Lucene's EnglishAnalyzer except where Lucene++'s 3.0
//               tokenizer differs from Java's UAX#29 one (see docs/architecture.md).
//   english-lucenepp30
//               the same chain with Lucene++ 3.0.8's PorterStemFilter, which
//               compares and replaces suffixes only in part ("brains" ->
//               "brai", "users" and "using" -> "us"). Indexes of format 1 and
//               2 were built with it and record it as "english"; it stays for
//               them, and can still be chosen for a new index.
//   standard    StandardTokenizer -> lower case -> the same stop words.
//   whitespace  split on whitespace only; case kept.
//
// The other analyzers are Lucene++'s own, as it ships them (core and
// liblucene++-contrib, Lucene 3.0 behaviour): simple, stop, keyword; the
// language analyzers arabic, brazilian, cjk, chinese, czech, dutch, french,
// german, greek, persian, russian; and snowball-LANG, StandardTokenizer ->
// lower case -> the Snowball stemmer of LANG (danish, dutch, english,
// finnish, french, german, hungarian, italian, norwegian, porter,
// portuguese, romanian, russian, spanish, swedish, turkish), without stop
// words. docs/structured_fields.md has a table of what each one does.
//
// The choice is recorded in the index at creation (for title and text, and
// per text field of the schema) and reused at query time (see
// docs/compatibility.md).
//
// Thread-safety: all functions are safe to call concurrently.
#ifndef HYMIR_INDEX_ANALYZER_H_
#define HYMIR_INDEX_ANALYZER_H_

#include <string>
#include <string_view>
#include <vector>

#include "hymir/index/schema.h"
#include "hymir/query_language.h"
#include "hymir/result.h"

namespace hymir::index {

// The numeric values are stored in files (LSA models): append only.
enum class AnalyzerKind {
  kEnglish,
  kStandard,
  kWhitespace,
  kEnglishLegacy,
  kSimple,
  kStop,
  kKeyword,
  kArabic,
  kBrazilian,
  kCjk,
  kChinese,
  kCzech,
  kDutch,
  kFrench,
  kGerman,
  kGreek,
  kPersian,
  kRussian,
  kSnowballDanish,
  kSnowballDutch,
  kSnowballEnglish,
  kSnowballFinnish,
  kSnowballFrench,
  kSnowballGerman,
  kSnowballHungarian,
  kSnowballItalian,
  kSnowballNorwegian,
  kSnowballPorter,
  kSnowballPortuguese,
  kSnowballRomanian,
  kSnowballRussian,
  kSnowballSpanish,
  kSnowballSwedish,
  kSnowballTurkish,
};

inline constexpr AnalyzerKind kAllAnalyzerKinds[] = {AnalyzerKind::kEnglish,
                                                     AnalyzerKind::kStandard,
                                                     AnalyzerKind::kWhitespace,
                                                     AnalyzerKind::kEnglishLegacy,
                                                     AnalyzerKind::kSimple,
                                                     AnalyzerKind::kStop,
                                                     AnalyzerKind::kKeyword,
                                                     AnalyzerKind::kArabic,
                                                     AnalyzerKind::kBrazilian,
                                                     AnalyzerKind::kCjk,
                                                     AnalyzerKind::kChinese,
                                                     AnalyzerKind::kCzech,
                                                     AnalyzerKind::kDutch,
                                                     AnalyzerKind::kFrench,
                                                     AnalyzerKind::kGerman,
                                                     AnalyzerKind::kGreek,
                                                     AnalyzerKind::kPersian,
                                                     AnalyzerKind::kRussian,
                                                     AnalyzerKind::kSnowballDanish,
                                                     AnalyzerKind::kSnowballDutch,
                                                     AnalyzerKind::kSnowballEnglish,
                                                     AnalyzerKind::kSnowballFinnish,
                                                     AnalyzerKind::kSnowballFrench,
                                                     AnalyzerKind::kSnowballGerman,
                                                     AnalyzerKind::kSnowballHungarian,
                                                     AnalyzerKind::kSnowballItalian,
                                                     AnalyzerKind::kSnowballNorwegian,
                                                     AnalyzerKind::kSnowballPorter,
                                                     AnalyzerKind::kSnowballPortuguese,
                                                     AnalyzerKind::kSnowballRomanian,
                                                     AnalyzerKind::kSnowballRussian,
                                                     AnalyzerKind::kSnowballSpanish,
                                                     AnalyzerKind::kSnowballSwedish,
                                                     AnalyzerKind::kSnowballTurkish};

// AnalyzerName(kind) -> kind; InvalidArgument listing the valid names for
// any other name.
Result<AnalyzerKind> ParseAnalyzerKind(std::string_view name);
// "english", "standard", "whitespace", "english-lucenepp30", "simple",
// "stop", "keyword", "arabic", ..., "snowball-german", ... (see above).
const char* AnalyzerName(AnalyzerKind kind);
// Every analyzer name, comma-separated, in kAllAnalyzerKinds order.
std::string AnalyzerNames();

// The terms `kind` produces for `text`, in order (UTF-8).
std::vector<std::string> Analyze(AnalyzerKind kind, std::string_view text);

// The same terms with their positions (the sum of position increments less
// one: a removed stop word leaves a gap), as indexed. The query language's
// tokenizer (query_language.h).
std::vector<QueryToken> AnalyzePositions(AnalyzerKind kind, std::string_view text);

// `text` normalised as a prefix or range bound is (Lucene's
// Analyzer.normalize): lower-cased (Lucene++'s case folding) by every
// analyzer but whitespace and keyword, which keep it as it is. Not
// tokenized, stemmed or stopped.
std::string NormalizeTerm(AnalyzerKind kind, std::string_view text);

// ParseQuery + AnalyzeQuery (query_language.h) with `kind`: leaves on the
// default or a text field (title, text, all) analysed and normalised as
// above, leaves on other fields (exact values) kept as written.
Result<QueryNode> AnalyzeLuceneQuery(AnalyzerKind kind, std::string_view text);

// The same for an index with a schema: leaves on a text field of `schema`
// go through that field's analyzer (FieldSpec::analyzer), leaves on the
// default, title, text or all fields through `kind`, leaves on other fields
// are kept as written.
Result<QueryNode> AnalyzeLuceneQuery(AnalyzerKind kind, std::string_view text, const Schema& schema);

}  // namespace hymir::index

#endif  // HYMIR_INDEX_ANALYZER_H_
