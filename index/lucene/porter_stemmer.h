// Private: the Porter stemming algorithm as Java Lucene's PorterStemmer
// (org.apache.lucene.analysis.en, Lucene 3 to 9) applies it, for the
// "english" analyzer.
//
// M.F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980,
// with the departures of Porter's own reference implementation that Lucene
// keeps: words of one or two characters are left alone, step 2 maps "bli" to
// "ble" (not "abli" to "able") and adds "logi" -> "log".
//
// Lucene++ 3.0.8 ships the same algorithm, but its suffix test and its
// replacement pass character counts to memcmp/memmove, which take bytes
// (wchar_t is 4 bytes), so only part of each suffix is compared or written:
// "brains" -> "brai", "users" -> "us", "regulation" -> "regulati". That
// stemmer stays only in the english-lucenepp30 analyzer (see analyzer.h).
//
// Thread-safety: Stem() touches only the buffer it is given; the object holds
// per-call state, so use one object per thread (one per token stream).
#ifndef HYMIR_INDEX_LUCENE_PORTER_STEMMER_H_
#define HYMIR_INDEX_LUCENE_PORTER_STEMMER_H_

#include <cstdint>
#include <string_view>

namespace hymir::index::internal {

class PorterStemmer {
 public:
  // Stems the lower-case word buf[0, length) in place and returns its new
  // length (<= length: no step lengthens the word beyond its input). Any
  // character other than a, e, i, o, u (and y after a consonant) counts as a
  // consonant, as in Java, which works on UTF-16 code units: a word with a
  // character outside the BMP can get a different measure there.
  int32_t Stem(wchar_t* buf, int32_t length);

 private:
  bool Consonant(int32_t i) const;
  int32_t Measure() const;  // m(): VC sequences in b_[0, j_]
  bool VowelInStem() const;
  bool DoubleConsonant(int32_t i) const;
  bool Cvc(int32_t i) const;
  // True when b_[0, k_] ends with `suffix` (ASCII); then j_ = k_ - |suffix|.
  bool Ends(std::string_view suffix);
  // Replaces b_[j_ + 1, k_] by `s`.
  void SetTo(std::string_view s);
  void ReplaceIfMeasured(std::string_view s);  // SetTo(s) when Measure() > 0

  void Step1();  // plurals and -ed/-ing
  void Step2();  // terminal y -> i
  void Step3();  // double suffixes: -ational -> -ate, ...
  void Step4();  // -ic-, -full, -ness, ...
  void Step5();  // -ant, -ence, ... in <c>vcvc<v>
  void Step6();  // final -e, -ll

  wchar_t* b_ = nullptr;
  int32_t k_ = 0;  // index of the last character of the current word
  int32_t j_ = 0;  // a general offset into b_
};

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_PORTER_STEMMER_H_
