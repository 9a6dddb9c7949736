#include "hymir/index/analyzer.h"

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace hymir::index {
namespace {

using V = std::vector<std::string>;

TEST(AnalyzerTest, EnglishStemsLowercasesAndDropsStopWords) {
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglish, "The quick brown Foxes are jumping over the lazy dogs"),
            (V{"quick", "brown", "fox", "jump", "over", "lazi", "dog"}));
}

TEST(AnalyzerTest, EnglishStemsAsJavaLuceneEnglishAnalyzer) {
  // Java Lucene 8.8 EnglishAnalyzer's terms for the same text.
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglish,
                    "Brains, regulation and regulate; running users using ponies' caresses: relational "
                    "generalization"),
            (V{"brain", "regul", "regul", "run", "user", "us", "poni", "caress", "relat", "gener"}));
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglish, "the brain is here")[0], Analyze(AnalyzerKind::kEnglish, "brains")[0]);
}

TEST(AnalyzerTest, EnglishStemDoesNotDependOnThePreviousToken) {
  // A long term, then shorter ones: each is stemmed as if alone.
  const std::vector<std::string> words = {"internationalization", "brains", "ies", "using", "users", "sses", "at"};
  std::string text;
  V alone;
  for (const auto& w : words) {
    text += w + " ";
    for (auto& t : Analyze(AnalyzerKind::kEnglish, w)) alone.push_back(t);
  }
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglish, text), alone);
  EXPECT_EQ(alone, (V{"internation", "brain", "i", "us", "user", "ss"}));  // Java Lucene's; "at" is a stop word
}

TEST(AnalyzerTest, EnglishLucenepp30KeepsTheStemsOfFormat2Indexes) {
  // Lucene++ 3.0.8's PorterStemFilter, as indexes of format 1 and 2 hold its
  // terms: these are the wrong stems it gives, kept on purpose.
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglishLegacy, "brains users using regulation regulate relational rating"),
            (V{"brai", "us", "us", "regulati", "regul", "relati", "rati"}));
  // Apart from the stemmer, the chain is english's.
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglishLegacy, "The John's Dogs of I.B.M."), (V{"john", "dog", "ibm"}));
}

TEST(AnalyzerTest, EnglishRemovesPossessives) {
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglish, "John's cars"), (V{"john", "car"}));
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglish, "JOHN'S"), (V{"john"}));
}

TEST(AnalyzerTest, EnglishRemovesAllThirtyThreeLuceneStopWords) {
  const char* stop =
      "a an and are as at be but by for if in into is it no not of on or such that the their then there "
      "these they this to was will with";
  EXPECT_TRUE(Analyze(AnalyzerKind::kEnglish, stop).empty());
  // Words that are not in Lucene's list survive.
  EXPECT_EQ(Analyze(AnalyzerKind::kEnglish, "we from"), (V{"we", "from"}));
}

TEST(AnalyzerTest, StandardDoesNotStem) {
  EXPECT_EQ(Analyze(AnalyzerKind::kStandard, "The Running Dogs"), (V{"running", "dogs"}));
}

TEST(AnalyzerTest, WhitespaceKeepsCaseAndPunctuation) {
  EXPECT_EQ(Analyze(AnalyzerKind::kWhitespace, "The  Running, dogs"), (V{"The", "Running,", "dogs"}));
}

TEST(AnalyzerTest, HandlesUtf8) {
  EXPECT_EQ(Analyze(AnalyzerKind::kStandard, "Caf\xC3\xA9 na\xC3\xAFve"), (V{"caf\xC3\xA9", "na\xC3\xAFve"}));
}

TEST(AnalyzerTest, ParsesNames) {
  EXPECT_EQ(*ParseAnalyzerKind("english"), AnalyzerKind::kEnglish);
  EXPECT_EQ(*ParseAnalyzerKind("whitespace"), AnalyzerKind::kWhitespace);
  EXPECT_EQ(*ParseAnalyzerKind("english-lucenepp30"), AnalyzerKind::kEnglishLegacy);
  for (AnalyzerKind kind : kAllAnalyzerKinds) EXPECT_EQ(*ParseAnalyzerKind(AnalyzerName(kind)), kind);
  // The numeric values are stored in LSA model files.
  EXPECT_EQ(static_cast<int>(AnalyzerKind::kEnglish), 0);
  EXPECT_EQ(static_cast<int>(AnalyzerKind::kWhitespace), 2);
  EXPECT_EQ(static_cast<int>(AnalyzerKind::kEnglishLegacy), 3);
  auto bad = ParseAnalyzerKind("klingon");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("klingon"), std::string::npos);
  EXPECT_STREQ(AnalyzerName(AnalyzerKind::kStandard), "standard");
}

}  // namespace
}  // namespace hymir::index
