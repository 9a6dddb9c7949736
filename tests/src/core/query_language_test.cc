// The query language's parser and analysis. Expected strings are Lucene
// 8.8's: QueryParser("all", analyzer).parse(q).toString("all"), printed by
// tests/src/core/lucene_reference/ParseReference.java with
// WhitespaceAnalyzer (the tokenizer below behaves as it does).
#include "hymir/query_language.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hymir {
namespace {

std::vector<QueryToken> Whitespace(std::string_view, std::string_view text) {
  std::vector<QueryToken> out;
  size_t i = 0;
  int32_t pos = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) out.push_back({std::string(text.substr(i, j - i)), pos++});
    i = j;
  }
  return out;
}

// An analyzer with stop words "the", "of" and "a", lower-casing, and "-"
// splitting words (as english does with wi-fi).
std::vector<QueryToken> Stopping(std::string_view, std::string_view text) {
  std::vector<QueryToken> out;
  int32_t pos = -1;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    ++pos;
    if (word != "the" && word != "of" && word != "a") out.push_back({word, pos});
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '-') {
      flush();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  flush();
  return out;
}

std::string Same(std::string_view, std::string_view text) { return std::string(text); }
std::string Lower(std::string_view, std::string_view text) {
  std::string s(text);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Lucene(const std::string& q, const QueryTokenizer& tok = Whitespace, const QueryNormalizer& norm = Same) {
  auto raw = ParseQuery(q);
  if (!raw.ok()) return "ERROR " + raw.status().message();
  return QueryToString(AnalyzeQuery(*raw, tok, norm));
}

TEST(QueryLanguageTest, ToStringMatchesLuceneClassicParser) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a b", "a b"},
      {"a AND b OR c", "+a +b c"},
      {"a OR b AND c", "a +b +c"},
      {"a AND b AND c OR d", "+a +b +c d"},
      {"a OR b OR c AND d", "a b +c +d"},
      {"+a b -c", "+a b -c"},
      {"NOT a", "-a"},
      {"a NOT b", "a -b"},
      {"a AND NOT b", "+a -b"},
      {"!a b", "-a b"},
      {"a && b || c", "+a +b c"},
      {"a ! b", "a ! b"},
      {"(a b)^2", "(a b)^2.0"},
      {"a^2", "(a)^2.0"},
      {"\"a b\"^2", "(\"a b\")^2.0"},
      {"\"a b\"~2^3", "(\"a b\"~2)^3.0"},
      {"\"a b\"~2", "\"a b\"~2"},
      {"title:a", "title:a"},
      {"title:(a b) c", "(title:a title:b) c"},
      {"title:\"a b\"", "title:\"a b\""},
      {"foo*", "foo*"},
      {"FOO*", "FOO*"},
      {"title:[a TO b]", "title:[a TO b]"},
      {"title:{a TO b}", "title:{a TO b}"},
      {"title:[a TO b}", "title:[a TO b}"},
      {"title:[* TO b]", "title:[* TO b]"},
      {"title:[a TO *]", "title:[a TO *]"},
      {"a\\+b", "a+b"},
      {"a\\:b", "a:b"},
      {"\"a \\\"b\\\" c\"", "\"a \"b\" c\""},
      {"a + b", "a + b"},
      {"a - b", "a - b"},
      {"(a)", "a"},
      {"((a))", "a"},
      {"(a OR b) AND c", "+(a b) +c"},
      {"-a -b", "-a -b"},
      {"a (-b)", "a (-b)"},
      {"title:a^2 text:b", "(title:a)^2.0 text:b"},
      {"[a TO b]", "[a TO b]"},
      {"ANDROID ORB", "ANDROID ORB"},
      {"a&&b", "a&&b"},
      {"a||b", "a||b"},
      {"a-b", "a-b"},
      {"a+b", "a+b"},
      {"+(a b) -(c d)", "+(a b) -(c d)"},
      {"a AND (b OR c) AND NOT d", "+a +(b c) -d"},
      {"a^2.5", "(a)^2.5"},
      {"a^0.5 b", "(a)^0.5 b"},
      {"\"a\"", "a"},
      {"\"a\"~3", "a"},
      {"\"\"", ""},
      {"x AND \"\"", "x"},
  };
  for (const auto& [q, want] : cases) EXPECT_EQ(Lucene(q), want) << q;
}

// Stop words and words analysing to several tokens, as Lucene 8.8 gives
// them with EnglishAnalyzer (the "Stopping" analyzer mimics it here).
TEST(QueryLanguageTest, AnalysisDropsStopWordsAndGroupsSplitWords) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"the heart", "heart"},
      {"\"heart of the attack\"", "\"heart ? ? attack\""},
      {"\"the heart\"", "heart"},
      {"the", ""},
      {"the AND a", ""},
      {"+heart the", "+heart"},
      {"title:wi-fi", "title:wi title:fi"},
      {"wi-fi attack", "wi fi attack"},
      {"\"wi-fi attack\"", "\"wi fi attack\""},
      {"+wi-fi", "+(wi fi)"},
      {"Heart Attack", "heart attack"},
      {"HEART*", "heart*"},
      {"title:[Apple TO Banana]", "title:[apple TO banana]"},
      {"title:(the)", ""},
      {"-the a", ""},
      {"a OR the AND b", "+b"},
      {"the AND a OR b", "b"},
      {"x:(a AND b)", "+x:b"},
      {"x the AND b", "+x +b"},
      {"x wi-fi AND y", "x +(wi fi) +y"},
      {"wi-fi x AND y", "(wi fi) +x +y"},
      {"+z wi-fi x", "+z wi fi x"},
      {"x (wi-fi)", "x (wi fi)"},
      {"x title:wi-fi", "x (title:wi title:fi)"},
      {"x AND the", "x"},
      {"heart the AND attack", "+heart +attack"},
      {"(heart the) AND attack", "+heart +attack"},
      {"x wi-fi \"c\"", "x wi fi c"},
      {"x wi-fi OR c", "x (wi fi) c"},
      {"x wi-fi^2", "x (wi fi)^2.0"},
      {"x wi-fi && c", "x +(wi fi) +c"},
      {"x wi-fi y AND z", "x wi fi +y +z"},
      {"x y wi-fi AND z", "x y +(wi fi) +z"},
      {"wi-fi y^2", "(wi fi) (y)^2.0"},
  };
  for (const auto& [q, want] : cases) EXPECT_EQ(Lucene(q, Stopping, Lower), want) << q;
}

TEST(QueryLanguageTest, ComparisonRangesOnAField) {
  EXPECT_EQ(Lucene("title:>=b"), "title:[b TO *]");
  EXPECT_EQ(Lucene("title:>b"), "title:{b TO *]");
  EXPECT_EQ(Lucene("title:<=b"), "title:[* TO b]");
  EXPECT_EQ(Lucene("title:<b"), "title:[* TO b}");
  EXPECT_EQ(Lucene(">b"), ">b");                // no field: a term, as in Lucene
  EXPECT_EQ(Lucene("title:\\>b"), "title:>b");  // escaped: a term
}

TEST(QueryLanguageTest, TreeShapeOfPrecedence) {
  auto raw = ParseQuery("a AND b OR c -d");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  QueryNode q = AnalyzeQuery(*raw, Whitespace, Same);
  ASSERT_EQ(q.kind, QueryNode::Kind::kBoolean);
  ASSERT_EQ(q.clauses.size(), 4u);
  EXPECT_EQ(q.clauses[0].occur, Occur::kMust);
  EXPECT_EQ(q.clauses[1].occur, Occur::kMust);
  EXPECT_EQ(q.clauses[2].occur, Occur::kShould);
  EXPECT_EQ(q.clauses[3].occur, Occur::kMustNot);
  EXPECT_EQ(q.clauses[3].node.text, "d");

  raw = ParseQuery("\"heart of the attack\"~3^2");
  ASSERT_TRUE(raw.ok());
  q = AnalyzeQuery(*raw, Stopping, Lower);
  ASSERT_EQ(q.kind, QueryNode::Kind::kPhrase);
  EXPECT_EQ(q.terms, (std::vector<std::string>{"heart", "attack"}));
  EXPECT_EQ(q.positions, (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(q.slop, 3);
  EXPECT_EQ(q.boost, 2.0);
}

TEST(QueryLanguageTest, SyntaxErrorsNameTheColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"(a", "syntax error at column 3: expected ')'"},
      {"a)", "syntax error at column 2: unmatched ')'"},
      {"\"a", "syntax error at column 1: unterminated quote"},
      {"a^", "syntax error at column 3: expected a number after '^'"},
      {"title:", "syntax error at column 7: expected a term"},
      {"AND a", "syntax error at column 1:"},
      {"a AND", "syntax error at column 6:"},
      {"a OR OR b", "syntax error at column 6:"},
      {"a:b:c", "syntax error at column 4:"},
      {"a~", "syntax error at column 2: fuzzy terms"},
      {"te?t", "syntax error at column 1: wildcards"},
      {"te*t", "syntax error at column 1: wildcards"},
      {"*", "syntax error at column 1:"},
      {"*:*", "syntax error at column 1:"},
      {"/ab/", "syntax error at column 1: regular expressions"},
      {"[a TO b", "syntax error at column 8: expected ']' or '}'"},
      {"[a b]", "syntax error at column 4: expected 'TO'"},
      {"a\\", "syntax error at column 2:"},
      {"", "syntax error at column 1: empty query"},
      {"été (", "syntax error at column 6:"},  // columns count characters, not bytes
      {"a ]", "syntax error at column 3:"},
      {"+", "syntax error at column 2:"},
      {"a -", "syntax error at column 4:"},
  };
  for (const auto& [q, want] : cases) {
    auto r = ParseQuery(q);
    ASSERT_FALSE(r.ok()) << q;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << q;
    EXPECT_EQ(r.status().message().rfind(want, 0), 0u) << q << ": " << r.status().message();
  }
}

TEST(QueryLanguageTest, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string deep(100000, '(');
  auto r = ParseQuery(deep + "a" + std::string(100000, ')'), {64, 1 << 20});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested deeper than 64"), std::string::npos);
  EXPECT_TRUE(ParseQuery(std::string(64, '(') + "a" + std::string(64, ')')).ok());
}

TEST(QueryLanguageTest, BareTermsAreRecognised) {
  EXPECT_TRUE(IsBareTerms("heart attack"));
  EXPECT_TRUE(IsBareTerms("wi-fi U.S. a&&b"));
  EXPECT_TRUE(IsBareTerms(""));
  EXPECT_FALSE(IsBareTerms("heart AND attack"));
  EXPECT_FALSE(IsBareTerms("\"heart attack\""));
  EXPECT_FALSE(IsBareTerms("-aspirin heart"));
  EXPECT_FALSE(IsBareTerms("title:heart"));
  EXPECT_FALSE(IsBareTerms("heart^2"));
  EXPECT_FALSE(IsBareTerms("hea*"));
  EXPECT_FALSE(IsBareTerms("a\\+b"));
  EXPECT_FALSE(IsBareTerms("a + b"));
  EXPECT_FALSE(IsBareTerms("what?"));
}

TEST(QueryLanguageTest, FreeTextLeavesOutExcludedClausesPrefixesAndRanges) {
  auto raw =
      ParseQuery("\"heart attack\" +aspirin -(ibuprofen OR naproxen) NOT warfarin cardi* text:[a TO b] title:risk");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(FreeText(*raw), "heart attack aspirin risk");
}

TEST(QueryLanguageTest, QueryTermsCollectsTermAndPhraseLeaves) {
  auto raw = ParseQuery("\"b c\" a -d e* title:[x TO y]");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(QueryTerms(AnalyzeQuery(*raw, Whitespace, Same)), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(QueryLanguageTest, SyntaxNames) {
  EXPECT_EQ(*ParseQuerySyntax("lucene"), QuerySyntax::kLucene);
  EXPECT_EQ(*ParseQuerySyntax("plain"), QuerySyntax::kPlain);
  EXPECT_FALSE(ParseQuerySyntax("sql").ok());
}

}  // namespace
}  // namespace hymir
