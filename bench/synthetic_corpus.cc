#include "synthetic_corpus.h"

#include <hymir/index/analyzer.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>

namespace hymir::bench {
namespace {

// Syllables are consonant + vowel. No 'e' (Porter strips a final e), no 'y'
// (Porter turns a final y into i) and no 's' (plural stripping), so most
// candidates survive the stemmer unchanged; the rest are rejected by checking.
constexpr char kConsonants[] = "bdfgklmnprtvz";
constexpr char kVowels[] = "aiou";
constexpr uint64_t kNumConsonants = sizeof(kConsonants) - 1;
constexpr uint64_t kNumVowels = sizeof(kVowels) - 1;
constexpr uint64_t kNumSyllables = kNumConsonants * kNumVowels;  // 52
constexpr int kMaxSyllables = 5;                                 // 52^5 ~ 3.8e8 candidates

std::string Spell(uint64_t index, int syllables) {
  std::string w;
  w.reserve(2 * syllables);
  for (int i = 0; i < syllables; ++i) {
    const uint64_t s = index % kNumSyllables;
    index /= kNumSyllables;
    w.push_back(kConsonants[s / kNumVowels]);
    w.push_back(kVowels[s % kNumVowels]);
  }
  return w;
}

// A uniform double in [0, 1) from 53 random bits (portable, unlike
// std::uniform_real_distribution whose algorithm is unspecified).
inline double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

class FileCloser {
 public:
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

}  // namespace

Result<std::vector<std::string>> MakeVocabulary(uint64_t n) {
  std::vector<std::string> words;
  words.reserve(n);
  for (int syllables = 1; syllables <= kMaxSyllables && words.size() < n; ++syllables) {
    uint64_t m = 1;
    for (int i = 0; i < syllables; ++i) m *= kNumSyllables;
    // Visit all m spellings in a scrambled order (i -> a*i + b mod m with a
    // coprime to m) so that neighbouring ranks do not share their prefix.
    uint64_t a = 0x9E3779B97F4A7C15ull % m;
    if (a == 0) a = 1;
    while (std::gcd(a, m) != 1) ++a;
    const uint64_t b = 0x632BE59BD9B4E019ull % m;
    for (uint64_t i = 0; i < m && words.size() < n; ++i) {
      std::string w = Spell((a * i + b) % m, syllables);
      const std::vector<std::string> terms = index::Analyze(index::AnalyzerKind::kEnglish, w);
      if (terms.size() == 1 && terms[0] == w) words.push_back(std::move(w));
    }
  }
  if (words.size() < n) {
    return Status::InvalidArgument("vocabulary of " + std::to_string(n) + " words requested; at most " +
                                   std::to_string(words.size()) + " can be generated");
  }
  return words;
}

Result<SyntheticCorpusInfo> WriteSyntheticCorpus(const std::string& path, const SyntheticCorpusOptions& o) {
  if (o.docs == 0) return Status::InvalidArgument("--generate: need at least one document");
  if (o.vocab == 0) return Status::InvalidArgument("--vocab: need at least one word");
  if (!(o.zipf >= 0) || !std::isfinite(o.zipf)) {
    return Status::InvalidArgument("--zipf: exponent must be a finite number >= 0");
  }
  if (!(o.mean_doc_len >= 1) || !std::isfinite(o.mean_doc_len)) {
    return Status::InvalidArgument("--doc-len: mean document length must be >= 1");
  }
  auto vocab = MakeVocabulary(o.vocab);
  if (!vocab.ok()) return vocab.status();

  // Cumulative Zipf weights; a draw is a binary search for u * total.
  std::vector<double> cdf(o.vocab);
  double total = 0;
  for (uint64_t r = 0; r < o.vocab; ++r) cdf[r] = (total += std::pow(static_cast<double>(r + 1), -o.zipf));

  std::unique_ptr<std::FILE, FileCloser> out(std::fopen(path.c_str(), "wb"));
  if (!out) return Status::IOError(path + ": cannot create: " + std::strerror(errno));
  std::setvbuf(out.get(), nullptr, _IOFBF, 1 << 20);

  std::mt19937_64 rng(o.seed);
  std::mt19937_64 typed_rng(o.seed ^ 0x7479706564ull);  // "typed": a stream of its own
  constexpr double kSigma = 0.5;                        // log-normal spread of document lengths
  std::lognormal_distribution<double> doc_len(std::log(o.mean_doc_len) - kSigma * kSigma / 2, kSigma);
  SyntheticCorpusInfo info;
  std::string line;
  for (uint64_t d = 0; d < o.docs; ++d) {
    const uint64_t len = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(doc_len(rng))));
    line.clear();
    line += "{\"_id\": \"d";
    line += std::to_string(d);
    line += "\", \"title\": \"\", \"text\": \"";
    for (uint64_t t = 0; t < len; ++t) {
      const double u = Uniform(rng) * total;
      const size_t r = std::min<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin(), o.vocab - 1);
      if (t > 0) line.push_back(' ');
      line += (*vocab)[r];
    }
    line += '"';
    if (o.typed_fields) {
      constexpr uint64_t kSections = 50;
      const uint64_t size = typed_rng() % 1'000'000;
      // Skewed: the product of two uniforms puts most mass on low sections.
      const uint64_t a = typed_rng() % 1000, b = typed_rng() % 1000;
      const uint64_t section = std::min<uint64_t>(kSections - 1, a * b / 20000);
      line += ", \"size\": " + std::to_string(size) + ", \"section\": \"s" + std::to_string(section) + '"';
    }
    line += "}\n";
    if (std::fwrite(line.data(), 1, line.size(), out.get()) != line.size()) {
      return Status::IOError(path + ": write failed: " + std::strerror(errno));
    }
    info.tokens += len;
    info.bytes += line.size();
    ++info.docs;
  }
  if (std::fflush(out.get()) != 0 || std::ferror(out.get())) {
    return Status::IOError(path + ": write failed: " + std::strerror(errno));
  }
  if (std::fclose(out.release()) != 0) return Status::IOError(path + ": close failed: " + std::strerror(errno));
  return info;
}

}  // namespace hymir::bench
