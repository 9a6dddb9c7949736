// Query language: a subset of Lucene's classic QueryParser syntax parsed into
// a query tree, and the tree's analysis into index terms. The grammar, the
// semantics and every known difference from Lucene 8.8 are in
// docs/query_language.md.
//
//   "heart attack"~2 +aspirin -title:(review OR survey) cardi* text:[a TO c}
//
// ParseQuery() gives the syntax tree with raw (unanalysed) text; operators
// are resolved as Lucene's classic parser resolves them with default operator
// OR (`a AND b OR c` is `+a +b c`). AnalyzeQuery() turns the raw tree into
// index terms with the caller's analyzer (the index's): a term analysing to
// several tokens becomes a SHOULD group of them, a phrase keeps the position
// gaps of removed stop words, prefixes and range bounds are only normalised
// (lower-cased by the english and standard analyzers), and clauses analysing
// to nothing are dropped. The parser itself knows no index.
//
// Thread-safety: value types and pure functions; the analyzer callbacks are
// called on the calling thread only.
#ifndef HYMIR_QUERY_LANGUAGE_H_
#define HYMIR_QUERY_LANGUAGE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/result.h"

namespace hymir {

// How a query's text is read: a bag of words (every token scored, operators
// are plain characters) or the query language of this header.
enum class QuerySyntax { kPlain, kLucene };

Result<QuerySyntax> ParseQuerySyntax(std::string_view name);  // plain | lucene
const char* QuerySyntaxName(QuerySyntax syntax);

enum class Occur {
  kMust,     // "+a", "a AND b": the document must match; scores
  kShould,   // "a": optional when a MUST clause exists (then it only adds
             // score), else at least one SHOULD clause must match
  kMustNot,  // "-a", "NOT a": the document must not match; never scores
};

struct QueryClause;

// One node of a query tree.
struct QueryNode {
  enum class Kind {
    kBoolean,  // clauses
    kTerm,     // text
    kPhrase,   // raw: text; analysed: terms, positions, slop
    kPrefix,   // text (without the '*')
    kRange,    // lower, upper (nullopt = open), include_lower/upper
  };
  Kind kind = Kind::kBoolean;
  // The field of a leaf; "" = the query's default fields.
  std::string field;
  // Multiplies the node's score (Lucene's BoostQuery). Default: 1.
  double boost = 1.0;

  // kTerm, kPrefix, and a raw kPhrase's quoted text (escapes removed).
  std::string text;
  // An analysed kPhrase: its terms and their positions (ascending, from 0;
  // a gap is a removed stop word). Within `slop` moves (Lucene's
  // PhraseQuery slop).
  std::vector<std::string> terms;
  std::vector<int32_t> positions;
  int32_t slop = 0;

  // kRange.
  std::optional<std::string> lower, upper;
  bool include_lower = true;
  bool include_upper = true;

  // kBoolean. An empty boolean matches nothing, as does one with MUST_NOT
  // clauses only.
  std::vector<QueryClause> clauses;

  // Raw trees only (ParseQuery), for AnalyzeQuery's faithful reproduction of
  // Lucene's clause handling; ignored on analysed trees.
  struct Raw {
    int conjunction = 0;       // of a clause: 0 none, 1 AND, 2 OR
    int modifier = 0;          // of a clause: 0 none, 1 '+', 2 '-' / NOT / '!'
    bool run = false;          // a kTerm of several bare terms analysed together
    bool first_query = false;  // kBoolean: clause 0 is Lucene's "firstQuery"
  } raw;
};

struct QueryClause {
  Occur occur = Occur::kShould;
  QueryNode node;
};

struct QueryParseOptions {
  // Largest nesting of parentheses accepted (deeper is InvalidArgument, not
  // a stack overflow). Default: 64.
  size_t max_depth = 64;
  // Longest query text accepted, in bytes. Default: 64 KiB.
  size_t max_length = 64 * 1024;
};

// Parses `text`. InvalidArgument "syntax error at column N: ..." (N counts
// characters from 1) for text that is not in the language, and for Lucene
// syntax hymir does not evaluate (wildcards other than a trailing '*', fuzzy
// terms, regular expressions, `*:*`), never a guess.
Result<QueryNode> ParseQuery(std::string_view text, const QueryParseOptions& options = {});

// One analysed token: its term and position (Lucene's position increments
// summed; stop words leave gaps).
struct QueryToken {
  std::string term;
  int32_t position = 0;
};
// The tokens of `text` in `field` ("" = the default field). Must be pure.
using QueryTokenizer = std::function<std::vector<QueryToken>(std::string_view field, std::string_view text)>;
// The normalised form of a prefix or range bound (Lucene's
// Analyzer.normalize: lower-casing for english and standard, nothing for
// whitespace). Must be pure.
using QueryNormalizer = std::function<std::string(std::string_view field, std::string_view text)>;

// The analysed tree of raw tree `raw` (from ParseQuery): every leaf in index
// terms, clause occurrences resolved, clauses analysing to nothing dropped.
// A query with nothing left is an empty boolean (it matches nothing).
QueryNode AnalyzeQuery(const QueryNode& raw, const QueryTokenizer& tokenize, const QueryNormalizer& normalize);

// Lucene's Query.toString() of the analysed tree with no default field
// ("+heart \"attack ? aspirin\"~2 (title:a)^2.0 text:[a TO c}").
std::string QueryToString(const QueryNode& node);

// Whether the text of a raw tree was bare terms only (no operator, quote,
// field, parenthesis, escape, boost, prefix or range): such a query means
// what the plain syntax means, and is run by the plain path.
bool IsBareTerms(std::string_view text);

// The terms of an analysed tree's term and phrase leaves (every field,
// excluded clauses too), sorted and unique: the terms whose statistics its
// BM25 scores need.
std::vector<std::string> QueryTerms(const QueryNode& node);

// The positive free text of a raw tree (ParseQuery): the text of its terms
// and phrases outside excluded clauses (-a, NOT a, and everything under
// them), space-separated, for the vector side of hybrid retrieval and KG
// linking. Prefixes and ranges are not free text.
std::string FreeText(const QueryNode& raw);

}  // namespace hymir

#endif  // HYMIR_QUERY_LANGUAGE_H_
