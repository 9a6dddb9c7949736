// hymir-analysis-bench: the analysis an index writer runs on every document
// (title and text of a BEIR corpus), hymir's chain against Lucene++'s token
// streams, in the same run: CPU time per pass over the corpus, alternating
// the two chains ROUNDS times and keeping each one's fastest pass, and their
// ratio. The texts are decoded to UTF-32 once beforehand (both chains read
// that); each pass also checks that both chains made the same number of
// tokens and characters.
//
//   hymir-analysis-bench --corpus CORPUS.jsonl [--analyzer english] [--rounds 5]
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "hymir/beir.h"
#include "index/lucene/analysis.h"
#include "index/lucene/analysis_chain.h"
#include "index/lucene/lucene_util.h"

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  namespace hi = hymir::index::internal;
  CLI::App app{"hymir-analysis-bench: hymir's analysis chain against Lucene++'s, same run"};
  std::string corpus, name = "english";
  int rounds = 5;
  app.add_option("--corpus", corpus, "BEIR corpus.jsonl")->required();
  app.add_option("--analyzer", name, "english | standard | whitespace (default english)");
  app.add_option("--rounds", rounds, "passes of each chain, alternating; the fastest counts (default 5)")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  auto kind = hymir::index::ParseAnalyzerKind(name);
  if (!kind.ok() || !hi::HasNativeChain(*kind)) {
    std::fprintf(stderr, "hymir-analysis-bench: --analyzer: english, standard or whitespace\n");
    return 2;
  }
  auto reader = hymir::CorpusReader::Open(corpus);
  if (!reader.ok()) {
    std::fprintf(stderr, "hymir-analysis-bench: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  std::vector<Lucene::String> texts;
  size_t bytes = 0, docs = 0;
  for (hymir::Document doc;;) {
    auto more = (*reader)->Next(&doc);
    if (!more.ok()) {
      std::fprintf(stderr, "hymir-analysis-bench: %s\n", more.status().ToString().c_str());
      return 1;
    }
    if (!*more) break;
    ++docs;
    bytes += doc.title.size() + doc.text.size();
    texts.push_back(hi::Wide(doc.title));
    texts.push_back(hi::Wide(doc.text));
  }
  const hi::TextAnalysis lucenepp(*kind, /*lucenepp_only=*/true), native(*kind, /*lucenepp_only=*/false);
  double best[2] = {1e300, 1e300};
  size_t tokens[2] = {0, 0}, chars[2] = {0, 0};
  hi::TokenBuffer buf;
  for (int r = 0; r < rounds; ++r) {
    for (int c = 0; c < 2; ++c) {
      const hi::TextAnalysis& a = c == 0 ? lucenepp : native;
      tokens[c] = chars[c] = 0;
      const double t0 = CpuSeconds();
      for (const Lucene::String& t : texts) {
        buf.Clear();
        a.AnalyzeInto(t, &buf);
        tokens[c] += buf.size();
        chars[c] += buf.chars.size();
      }
      best[c] = std::min(best[c], CpuSeconds() - t0);
    }
  }
  if (tokens[0] != tokens[1] || chars[0] != chars[1]) {
    std::fprintf(stderr, "hymir-analysis-bench: the chains differ (%zu/%zu tokens, %zu/%zu characters)\n", tokens[0],
                 tokens[1], chars[0], chars[1]);
    return 1;
  }
  std::printf("corpus %s: %zu docs, %.1f MB, %zu tokens; analyzer %s; fastest of %d passes, CPU time\n", corpus.c_str(),
              docs, bytes / 1e6, tokens[0], name.c_str(), rounds);
  for (int c = 0; c < 2; ++c) {
    std::printf("%-9s %8.3f s  %9.0f docs/s  %7.1f MB/s\n", c == 0 ? "lucene++" : "hymir", best[c], docs / best[c],
                bytes / 1e6 / best[c]);
  }
  std::printf("ratio hymir/lucene++ (docs/s): %.2fx\n", best[0] / best[1]);
  return 0;
}
