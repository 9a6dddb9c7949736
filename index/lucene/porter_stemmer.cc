#include "index/lucene/porter_stemmer.h"

namespace hymir::index::internal {

int32_t PorterStemmer::Stem(wchar_t* buf, int32_t length) {
  b_ = buf;
  k_ = length - 1;
  j_ = 0;
  if (k_ <= 1) return length;  // words of one or two characters stay as they are
  Step1();
  Step2();
  Step3();
  Step4();
  Step5();
  Step6();
  return k_ + 1;
}

bool PorterStemmer::Consonant(int32_t i) const {
  switch (b_[i]) {
    case L'a':
    case L'e':
    case L'i':
    case L'o':
    case L'u':
      return false;
    case L'y':
      return i == 0 || !Consonant(i - 1);
    default:
      return true;
  }
}

// m() of the paper: the n in [C](VC)^n[V] for b_[0, j_].
int32_t PorterStemmer::Measure() const {
  int32_t n = 0;
  int32_t i = 0;
  while (i <= j_ && Consonant(i)) ++i;  // the leading consonants
  while (true) {
    while (i <= j_ && !Consonant(i)) ++i;  // a run of vowels ...
    if (i > j_) return n;
    while (i <= j_ && Consonant(i)) ++i;  // ... closed by consonants
    ++n;
    if (i > j_) return n;
  }
}

bool PorterStemmer::VowelInStem() const {
  for (int32_t i = 0; i <= j_; ++i) {
    if (!Consonant(i)) return true;
  }
  return false;
}

bool PorterStemmer::DoubleConsonant(int32_t i) const { return i >= 1 && b_[i] == b_[i - 1] && Consonant(i); }

// consonant-vowel-consonant ending at i, the last not w, x or y: where a
// final e is restored or kept (hop(e), fil(e)).
bool PorterStemmer::Cvc(int32_t i) const {
  if (i < 2 || !Consonant(i) || Consonant(i - 1) || !Consonant(i - 2)) return false;
  const wchar_t c = b_[i];
  return c != L'w' && c != L'x' && c != L'y';
}

bool PorterStemmer::Ends(std::string_view suffix) {
  const auto n = static_cast<int32_t>(suffix.size());
  const int32_t start = k_ - n + 1;
  if (start < 0) return false;
  for (int32_t i = n - 1; i >= 0; --i) {  // from the end: most suffixes fail on their last letter
    if (b_[start + i] != static_cast<wchar_t>(suffix[i])) return false;
  }
  j_ = k_ - n;
  return true;
}

void PorterStemmer::SetTo(std::string_view s) {
  const auto n = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < n; ++i) b_[j_ + 1 + i] = static_cast<wchar_t>(s[i]);
  k_ = j_ + n;
}

void PorterStemmer::ReplaceIfMeasured(std::string_view s) {
  if (Measure() > 0) SetTo(s);
}

void PorterStemmer::Step1() {
  if (b_[k_] == L's') {
    if (Ends("sses")) {
      k_ -= 2;
    } else if (Ends("ies")) {
      SetTo("i");
    } else if (b_[k_ - 1] != L's') {
      --k_;
    }
  }
  if (Ends("eed")) {
    if (Measure() > 0) --k_;
  } else if ((Ends("ed") || Ends("ing")) && VowelInStem()) {
    k_ = j_;
    if (Ends("at")) {
      SetTo("ate");
    } else if (Ends("bl")) {
      SetTo("ble");
    } else if (Ends("iz")) {
      SetTo("ize");
    } else if (DoubleConsonant(k_)) {
      const wchar_t c = b_[k_];
      if (c != L'l' && c != L's' && c != L'z') --k_;
    } else if (Measure() == 1 && Cvc(k_)) {
      SetTo("e");
    }
  }
}

void PorterStemmer::Step2() {
  if (Ends("y") && VowelInStem()) b_[k_] = L'i';
}

void PorterStemmer::Step3() {
  if (k_ == 0) return;
  // Suffixes by their penultimate letter; the first that matches decides.
  struct Rule {
    std::string_view from;
    std::string_view to;
  };
  static constexpr Rule kA[] = {{"ational", "ate"}, {"tional", "tion"}};
  static constexpr Rule kC[] = {{"enci", "ence"}, {"anci", "ance"}};
  static constexpr Rule kE[] = {{"izer", "ize"}};
  static constexpr Rule kL[] = {{"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"}};
  static constexpr Rule kO[] = {{"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"}};
  static constexpr Rule kS[] = {{"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"}, {"ousness", "ous"}};
  static constexpr Rule kT[] = {{"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"}};
  static constexpr Rule kG[] = {{"logi", "log"}};
  auto apply = [this](const auto& rules) {
    for (const Rule& r : rules) {
      if (Ends(r.from)) {
        ReplaceIfMeasured(r.to);
        return;
      }
    }
  };
  switch (b_[k_ - 1]) {
    case L'a':
      apply(kA);
      break;
    case L'c':
      apply(kC);
      break;
    case L'e':
      apply(kE);
      break;
    case L'l':
      apply(kL);
      break;
    case L'o':
      apply(kO);
      break;
    case L's':
      apply(kS);
      break;
    case L't':
      apply(kT);
      break;
    case L'g':
      apply(kG);
      break;
    default:
      break;
  }
}

void PorterStemmer::Step4() {
  switch (b_[k_]) {
    case L'e':
      if (Ends("icate")) {
        ReplaceIfMeasured("ic");
      } else if (Ends("ative")) {
        ReplaceIfMeasured("");
      } else if (Ends("alize")) {
        ReplaceIfMeasured("al");
      }
      break;
    case L'i':
      if (Ends("iciti")) ReplaceIfMeasured("ic");
      break;
    case L'l':
      if (Ends("ical")) {
        ReplaceIfMeasured("ic");
      } else if (Ends("ful")) {
        ReplaceIfMeasured("");
      }
      break;
    case L's':
      if (Ends("ness")) ReplaceIfMeasured("");
      break;
    default:
      break;
  }
}

void PorterStemmer::Step5() {
  if (k_ == 0) return;
  bool found = false;
  switch (b_[k_ - 1]) {
    case L'a':
      found = Ends("al");
      break;
    case L'c':
      found = Ends("ance") || Ends("ence");
      break;
    case L'e':
      found = Ends("er");
      break;
    case L'i':
      found = Ends("ic");
      break;
    case L'l':
      found = Ends("able") || Ends("ible");
      break;
    case L'n':
      found = Ends("ant") || Ends("ement") || Ends("ment") || Ends("ent");
      break;
    case L'o':
      // -ion only after s or t; otherwise -ou (-ous lost its s in step 1).
      found = (Ends("ion") && j_ >= 0 && (b_[j_] == L's' || b_[j_] == L't')) || Ends("ou");
      break;
    case L's':
      found = Ends("ism");
      break;
    case L't':
      found = Ends("ate") || Ends("iti");
      break;
    case L'u':
      found = Ends("ous");
      break;
    case L'v':
      found = Ends("ive");
      break;
    case L'z':
      found = Ends("ize");
      break;
    default:
      break;
  }
  if (found && Measure() > 1) k_ = j_;
}

void PorterStemmer::Step6() {
  j_ = k_;
  if (b_[k_] == L'e') {
    const int32_t m = Measure();
    if (m > 1 || (m == 1 && !Cvc(k_ - 1))) --k_;
  }
  if (b_[k_] == L'l' && DoubleConsonant(k_) && Measure() > 1) --k_;
}

}  // namespace hymir::index::internal
