// Text analysis: how title, text and query strings become index terms.
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
// The choice is recorded in the index at creation and reused at query time
// (see docs/compatibility.md).
//
// Thread-safety: all functions are safe to call concurrently.
#ifndef HYMIR_INDEX_ANALYZER_H_
#define HYMIR_INDEX_ANALYZER_H_

#include <string>
#include <string_view>
#include <vector>

#include "hymir/query_language.h"
#include "hymir/result.h"

namespace hymir::index {

// The numeric values are stored in files (LSA models): append only.
enum class AnalyzerKind { kEnglish, kStandard, kWhitespace, kEnglishLegacy };

inline constexpr AnalyzerKind kAllAnalyzerKinds[] = {AnalyzerKind::kEnglish, AnalyzerKind::kStandard,
                                                     AnalyzerKind::kWhitespace, AnalyzerKind::kEnglishLegacy};

// AnalyzerName(kind) -> kind; InvalidArgument for any other name.
Result<AnalyzerKind> ParseAnalyzerKind(std::string_view name);
// "english", "standard", "whitespace" or "english-lucenepp30".
const char* AnalyzerName(AnalyzerKind kind);

// The terms `kind` produces for `text`, in order (UTF-8).
std::vector<std::string> Analyze(AnalyzerKind kind, std::string_view text);

// The same terms with their positions (the sum of position increments less
// one: a removed stop word leaves a gap), as indexed. The query language's
// tokenizer (query_language.h).
std::vector<QueryToken> AnalyzePositions(AnalyzerKind kind, std::string_view text);

// `text` normalised as a prefix or range bound is (Lucene's
// Analyzer.normalize): lower-cased by english and standard (Lucene++'s case
// folding), unchanged by whitespace. Not tokenized, stemmed or stopped.
std::string NormalizeTerm(AnalyzerKind kind, std::string_view text);

// ParseQuery + AnalyzeQuery (query_language.h) with `kind`: leaves on the
// default or a text field (title, text, all) analysed and normalised as
// above, leaves on other fields (exact values) kept as written.
Result<QueryNode> AnalyzeLuceneQuery(AnalyzerKind kind, std::string_view text);

}  // namespace hymir::index

#endif  // HYMIR_INDEX_ANALYZER_H_
