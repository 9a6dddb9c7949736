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
  auto bad = ParseAnalyzerKind("klingon");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("klingon"), std::string::npos);
  EXPECT_STREQ(AnalyzerName(AnalyzerKind::kStandard), "standard");
}

}  // namespace
}  // namespace hymir::index
