// hymir's Porter stemmer against the stems Java Lucene 8.8's PorterStemFilter
// gives (collected with bench/java/StemWords.java), and against Porter's
// paper for the steps they exercise.
#include "index/lucene/porter_stemmer.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace hymir::index::internal {
namespace {

std::wstring Stem(const std::wstring& word) {
  std::wstring buf = word;
  PorterStemmer stemmer;
  const int32_t n = stemmer.Stem(buf.data(), static_cast<int32_t>(buf.size()));
  return buf.substr(0, static_cast<size_t>(n));
}

TEST(PorterStemmerTest, StemsAsJavaLucene) {
  const std::vector<std::pair<std::wstring, std::wstring>> java = {
      {L"brains", L"brain"},
      {L"brain", L"brain"},
      {L"regulation", L"regul"},
      {L"regulate", L"regul"},
      {L"regulatory", L"regulatori"},
      {L"running", L"run"},
      {L"users", L"user"},
      {L"using", L"us"},
      {L"ponies", L"poni"},
      {L"caresses", L"caress"},
      {L"relational", L"relat"},
      {L"generalization", L"gener"},
      {L"rating", L"rate"},
      {L"hoping", L"hope"},
      {L"digitizing", L"digit"},
      {L"conditional", L"condit"},
      {L"hopeful", L"hope"},
      {L"sky", L"sky"},
      {L"possibly", L"possibl"},
      {L"ion", L"ion"},
      {L"cars", L"car"},
      {L"the", L"the"},
  };
  for (const auto& [word, stem] : java) EXPECT_EQ(Stem(word), stem) << std::string(word.begin(), word.end());
}

TEST(PorterStemmerTest, FollowsEachStepOfThePaper) {
  // Step 1a/1b (plurals, -ed/-ing and their repairs), 1c (y -> i).
  EXPECT_EQ(Stem(L"caress"), L"caress");
  EXPECT_EQ(Stem(L"cats"), L"cat");
  EXPECT_EQ(Stem(L"feed"), L"feed");
  EXPECT_EQ(Stem(L"agreed"), L"agre");
  EXPECT_EQ(Stem(L"plastered"), L"plaster");
  EXPECT_EQ(Stem(L"motoring"), L"motor");
  EXPECT_EQ(Stem(L"sing"), L"sing");
  EXPECT_EQ(Stem(L"conflated"), L"conflat");
  EXPECT_EQ(Stem(L"troubled"), L"troubl");
  EXPECT_EQ(Stem(L"sized"), L"size");
  EXPECT_EQ(Stem(L"hopping"), L"hop");
  EXPECT_EQ(Stem(L"falling"), L"fall");
  EXPECT_EQ(Stem(L"hissing"), L"hiss");
  EXPECT_EQ(Stem(L"filing"), L"file");
  EXPECT_EQ(Stem(L"happy"), L"happi");
  // Steps 2 to 5.
  EXPECT_EQ(Stem(L"conditional"), L"condit");
  EXPECT_EQ(Stem(L"valenci"), L"valenc");
  EXPECT_EQ(Stem(L"digitizer"), L"digit");
  EXPECT_EQ(Stem(L"vietnamization"), L"vietnam");
  EXPECT_EQ(Stem(L"decisiveness"), L"decis");
  EXPECT_EQ(Stem(L"sensibiliti"), L"sensibl");
  EXPECT_EQ(Stem(L"triplicate"), L"triplic");
  EXPECT_EQ(Stem(L"electrical"), L"electr");
  EXPECT_EQ(Stem(L"goodness"), L"good");
  EXPECT_EQ(Stem(L"revival"), L"reviv");
  EXPECT_EQ(Stem(L"adoption"), L"adopt");
  EXPECT_EQ(Stem(L"homologous"), L"homolog");
  // Step 5 of the paper (final e, -ll).
  EXPECT_EQ(Stem(L"probate"), L"probat");
  EXPECT_EQ(Stem(L"rate"), L"rate");
  EXPECT_EQ(Stem(L"cease"), L"ceas");
  EXPECT_EQ(Stem(L"controll"), L"control");
  EXPECT_EQ(Stem(L"roll"), L"roll");
}

TEST(PorterStemmerTest, LeavesShortAndNonLatinWordsAlone) {
  EXPECT_EQ(Stem(L"as"), L"as");
  EXPECT_EQ(Stem(L"s"), L"s");
  EXPECT_EQ(Stem(L""), L"");
  EXPECT_EQ(Stem(L"\x65e5\x672c\x8a9e"), L"\x65e5\x672c\x8a9e");
  EXPECT_EQ(Stem(L"42nd"), L"42nd");
}

TEST(PorterStemmerTest, ReadsAndWritesOnlyTheWord) {
  // The stemmer sees the word's length, not the buffer's: what follows the
  // word (a previous, longer word's characters) changes nothing and is not
  // written to.
  std::wstring buf = L"brainsXXXXregulation";
  PorterStemmer stemmer;
  const int32_t n = stemmer.Stem(buf.data(), 6);
  EXPECT_EQ(buf.substr(0, static_cast<size_t>(n)), L"brain");
  EXPECT_EQ(buf.substr(6), L"XXXXregulation");
}

}  // namespace
}  // namespace hymir::index::internal
