// hymir-query-bench: top-k throughput of the query language's phrases and
// conjunctions against hymir's plain bag-of-words BM25 on the same terms, on
// an existing index (see bench/README.md). Pairs of adjacent words are drawn
// from the index's own documents, so every phrase matches somewhere; each
// pair runs as
//   plain         t1 t2            (syntax plain: MaxScore over the bag of words)
//   plain-lucene  t1 t2            (syntax lucene: bare terms take the plain path)
//   phrase        "t1 t2"
//   sloppy        "t1 t2"~3
//   conjunction   +t1 +t2
// single-threaded, every set `--repeat` times after one warm-up pass.
// `--write-queries FILE` also writes the queries as BEIR jsonl with their
// kind ({"_id", "text", "kind"}; the plain ones as "terms", in the Lucene
// syntax), so that bench/java/LuceneStructured.java `bench` times the very
// same queries (bench/structured/speed.sh runs both).
//
// Output: one "# ..." header line, then one line per query kind,
// "hymir query <kind> qps=... cpu_qps=... ratio_to_plain=... mean_total=...":
// cpu_qps divides by the CPU time of the timing thread, which other load on
// a shared machine does not inflate as it does wall time.
//
// Exit codes: 0 OK, 1 the run failed, 2 usage.
#include <hymir/index/analyzer.h>
#include <hymir/index/searcher.h>
#include <hymir/index/text_query.h>
#include <hymir/query_language.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Kind {
  const char* name;
  hymir::QuerySyntax syntax;
  std::string (*make)(const std::string&, const std::string&);
};

// CPU seconds of the calling thread: robust to other load on a shared machine.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

bool Plain(const std::string& w) {
  return w.size() >= 2 &&
         std::all_of(w.begin(), w.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("hymir-query-bench: phrase and conjunction top-k QPS vs plain BM25 on the same terms");
  std::string dir;
  size_t n = 500, k = 10;
  int repeat = 3;
  unsigned seed = 1;
  std::string write_queries;
  std::vector<std::string> only;
  app.add_option("--index", dir, "Index directory (hymir index)")->required()->check(CLI::ExistingDirectory);
  app.add_option("--queries", n, "Word pairs drawn from the documents")->capture_default_str();
  app.add_option("--k", k, "Hits per query")->capture_default_str();
  app.add_option("--repeat", repeat, "Timed passes over each query set")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--seed", seed, "Random seed of the pairs")->capture_default_str();
  app.add_option("--kinds", only, "Time only these kinds (default: all)")->delimiter(',');
  app.add_option("--write-queries", write_queries,
                 "Also write every query as BEIR jsonl with its kind (for the Java Lucene bench)");
  CLI11_PARSE(app, argc, argv);

  auto searcher = hymir::index::Searcher::Open(dir);
  if (!searcher.ok()) {
    std::fprintf(stderr, "hymir-query-bench: %s\n", searcher.status().ToString().c_str());
    return 1;
  }
  const hymir::index::Searcher& s = **searcher;
  auto ids = s.DocumentIds();
  if (!ids.ok() || ids->empty()) {
    std::fprintf(stderr, "hymir-query-bench: %s\n", ids.ok() ? "empty index" : ids.status().ToString().c_str());
    return 1;
  }
  // Adjacent word pairs, each word analysing to one term.
  std::mt19937 rng(seed);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t tries = 0; pairs.size() < n && tries < n * 50; ++tries) {
    auto doc = s.GetDocument((*ids)[rng() % ids->size()]);
    if (!doc.ok()) continue;
    std::istringstream in(doc->text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.size() < 2) continue;
    const size_t at = rng() % (words.size() - 1);
    const std::string &a = words[at], &b = words[at + 1];
    if (!Plain(a) || !Plain(b)) continue;
    if (hymir::index::Analyze(s.analyzer(), a).size() != 1 || hymir::index::Analyze(s.analyzer(), b).size() != 1)
      continue;
    pairs.push_back({a, b});
  }
  if (pairs.empty()) {
    std::fprintf(stderr, "hymir-query-bench: found no word pairs in the documents\n");
    return 1;
  }
  const std::vector<Kind> kinds = {
      {"plain", hymir::QuerySyntax::kPlain, [](const std::string& a, const std::string& b) { return a + " " + b; }},
      {"plain-lucene", hymir::QuerySyntax::kLucene,
       [](const std::string& a, const std::string& b) { return a + " " + b; }},
      {"phrase", hymir::QuerySyntax::kLucene,
       [](const std::string& a, const std::string& b) { return "\"" + a + " " + b + "\""; }},
      {"sloppy", hymir::QuerySyntax::kLucene,
       [](const std::string& a, const std::string& b) { return "\"" + a + " " + b + "\"~3"; }},
      {"conjunction", hymir::QuerySyntax::kLucene,
       [](const std::string& a, const std::string& b) { return "+" + a + " +" + b; }},
  };
  if (!write_queries.empty()) {
    std::ofstream out(write_queries);
    size_t qid = 0;
    for (const Kind& kind : kinds) {
      if (kind.syntax == hymir::QuerySyntax::kPlain) continue;  // the same text as plain-lucene
      const std::string name = std::string(kind.name) == "plain-lucene" ? "terms" : kind.name;
      for (const auto& [a, b] : pairs) {
        out << nlohmann::json{{"_id", "q" + std::to_string(qid++)}, {"text", kind.make(a, b)}, {"kind", name}}.dump()
            << "\n";
      }
    }
    if (!out.flush()) {
      std::fprintf(stderr, "hymir-query-bench: %s: cannot write\n", write_queries.c_str());
      return 1;
    }
  }
  std::printf("# hymir-query-bench index=%s docs=%llu pairs=%zu k=%zu repeat=%d seed=%u\n", dir.c_str(),
              static_cast<unsigned long long>(s.NumDocs()), pairs.size(), k, repeat, seed);
  double plain_qps = 0;
  for (const Kind& kind : kinds) {
    if (!only.empty() && std::find(only.begin(), only.end(), kind.name) == only.end()) continue;
    std::vector<hymir::index::TextQuery> qs;
    for (const auto& [a, b] : pairs) {
      hymir::index::TextQuery q;
      q.text = kind.make(a, b);
      q.syntax = kind.syntax;
      q.k = k;
      qs.push_back(std::move(q));
    }
    double total = 0;
    for (const auto& q : qs) {  // warm-up (decoded postings cache), and the match counts
      auto c = s.Count(q);
      auto h = s.Search(q);
      if (!c.ok() || !h.ok()) {
        std::fprintf(stderr, "hymir-query-bench: %s: %s\n", q.text.c_str(),
                     (c.ok() ? h.status() : c.status()).ToString().c_str());
        return 1;
      }
      total += static_cast<double>(*c);
    }
    const auto start = Clock::now();
    const double cpu_start = ThreadCpuSeconds();
    size_t hits = 0;
    for (int r = 0; r < repeat; ++r) {
      for (const auto& q : qs) hits += s.Search(q)->size();
    }
    const double cpu = ThreadCpuSeconds() - cpu_start;
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    const double n_run = static_cast<double>(qs.size()) * repeat;
    const double qps = n_run / secs;
    if (plain_qps == 0) plain_qps = qps;
    std::printf("hymir query %-12s qps=%.0f cpu_qps=%.0f ratio_to_plain=%.3f mean_total=%.1f mean_hits=%.2f\n",
                kind.name, qps, n_run / cpu, qps / plain_qps, total / static_cast<double>(qs.size()),
                static_cast<double>(hits) / static_cast<double>(qs.size() * static_cast<size_t>(repeat)));
    std::fflush(stdout);
  }
  return 0;
}
