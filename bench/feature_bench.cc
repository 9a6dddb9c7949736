// hymir-feature-bench: feature extraction for the top-`depth`
// candidates of each query, read from the forward index vs re-analysed from
// stored text, in the same run on the same hits, and the index size with and
// without the forward index. A benchmark program, not a test.
//
//   hymir-feature-bench --index IDX --queries queries.jsonl [--depth 100]
//                       [--max-queries N] [--sentence-features] [--kg DIR]
//                       [--pair-query-features] [--vector-field-features]
//                       [--dump FILE]
//
// Each mode is timed twice per query list, on its own freshly opened engine:
// a fresh extractor (its document cache empty: every candidate is looked up
// or analysed once) and the same extractor again (documents cached). One
// thread; the hits are retrieved once, before any timing.
#include <hymir/beir.h>
#include <hymir/engine.h>
#include <hymir/features.h>
#include <hymir/knowledge.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "percentile.h"

namespace {

using namespace hymir;
using Clock = std::chrono::steady_clock;

using bench::Latency;
using bench::Percentiles;

Result<Latency> Time(const FeatureExtractor& fx, const std::vector<HybridQuery>& queries,
                     const std::vector<std::vector<SearchHit>>& hits) {
  std::vector<double> ms;
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto t0 = Clock::now();
    auto g = fx.Extract(queries[i], hits[i]);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!g.ok()) return g.status();
  }
  return Percentiles(std::move(ms));
}

struct Flags {
  bool sentences = false, pair_query = false, vector_fields = false;
  std::string kg, dump;
};

int Run(const std::string& index, const std::string& queries_file, size_t depth, size_t max_queries,
        const Flags& flags) {
  const bool sentences = flags.sentences;
  const std::string& dump = flags.dump;
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "hymir-feature-bench: %s\n", s.ToString().c_str());
    return 1;
  };
  auto engine = Engine::Open(index);
  if (!engine.ok()) return fail(engine.status());
  auto records = ReadQueries(queries_file);
  if (!records.ok()) return fail(records.status());
  std::vector<HybridQuery> queries;
  for (const auto& r : *records) {
    if (queries.size() == max_queries) break;
    HybridQuery q;
    q.id = r.id;
    q.text = r.text;
    queries.push_back(q);
  }
  auto hits = RetrieveCandidates(**engine, queries, depth);
  if (!hits.ok()) return fail(hits.status());
  FeatureConfig config;
  config.sentence_features = sentences;
  config.pair_query_features = flags.pair_query;
  config.vector_field_features = flags.vector_fields;
  std::unique_ptr<KnowledgeContext> kg;  // the KG features, with --kg
  if (!flags.kg.empty()) {
    auto k = KnowledgeContext::Open(flags.kg, (*engine)->searcher().analyzer());
    if (!k.ok()) return fail(k.status());
    kg = std::move(k).value();
    config.kg = true;
  }
  auto domains = FeatureExtractor::DomainsOf(**engine, *hits);
  if (!domains.ok()) return fail(domains.status());
  config.domains = *domains;

  // Index size: every file, and the forward index of the current generation
  // (the newest forward.g<N>.fwd; the previous one is kept one commit longer).
  namespace fs = std::filesystem;
  uint64_t total = 0, forward = 0, forward_gen = 0, kept = 0;
  static const std::regex kFwd(R"(forward\.g([0-9]+)\.fwd)");
  for (const auto& e : fs::recursive_directory_iterator(index)) {
    if (!e.is_regular_file()) continue;
    const uint64_t size = e.file_size();
    total += size;
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, kFwd)) {
      kept += size;
      const uint64_t g = std::stoull(m[1].str());
      if (g >= forward_gen) {
        forward_gen = g;
        forward = size;
      }
    }
  }
  std::printf("index %s: %llu docs\n", index.c_str(), static_cast<unsigned long long>((*engine)->searcher().NumDocs()));
  std::printf("  size with the forward index     %9.2f MB (forward.g%llu.fwd %.2f MB, %.1f %%)\n",
              static_cast<double>(total - (kept - forward)) / 1e6, static_cast<unsigned long long>(forward_gen),
              static_cast<double>(forward) / 1e6,
              100.0 * static_cast<double>(forward) / static_cast<double>(total - (kept - forward)));
  std::printf("  size without it                 %9.2f MB\n", static_cast<double>(total - kept) / 1e6);
  if (!(*engine)->searcher().HasForwardIndex()) std::printf("  (no forward index: both modes re-analyse)\n");

  std::printf(
      "feature extraction per query (FeatureExtractor::Extract), top-%zu hits given, 1 thread, %zu queries%s:\n", depth,
      queries.size(), sentences ? ", sentence features" : "");
  if (kg || flags.pair_query || flags.vector_fields)
    std::printf("  with%s%s%s\n", kg ? " KG features" : "", flags.pair_query ? " pair-query copies" : "",
                flags.vector_fields ? " vector-field features" : "");
  Latency res[2][2];
  for (int mode = 0; mode < 2; ++mode) {  // 0: stored text, 1: forward index
    // A fresh engine per mode: nothing cached by the other mode's run (the
    // snapshot's document-frequency cache, Lucene++'s term cache).
    auto own = Engine::Open(index);
    if (!own.ok()) return fail(own.status());
    config.use_forward_index = mode == 1;
    auto fx = FeatureExtractor::Create(**own, config, kg.get());
    if (!fx.ok()) return fail(fx.status());
    auto cold = Time(**fx, queries, *hits);
    if (!cold.ok()) return fail(cold.status());
    auto warm = Time(**fx, queries, *hits);
    if (!warm.ok()) return fail(warm.status());
    res[mode][0] = *cold;
    res[mode][1] = *warm;
  }
  if (!dump.empty()) {  // every feature value of both modes, to compare builds
    std::FILE* out = std::fopen(dump.c_str(), "w");
    if (!out) return fail(Status::IOError(dump + ": cannot write"));
    for (int mode = 0; mode < 2; ++mode) {
      config.use_forward_index = mode == 1;
      auto fx = FeatureExtractor::Create(**engine, config, kg.get());
      if (!fx.ok()) return fail(fx.status());
      for (size_t i = 0; i < queries.size(); ++i) {
        auto g = (*fx)->Extract(queries[i], (*hits)[i]);
        if (!g.ok()) return fail(g.status());
        std::fprintf(out, "%d %s", mode, queries[i].id.c_str());
        for (double v : g->pair_features) std::fprintf(out, " %.17g", v);
        for (double v : g->query_features) std::fprintf(out, " %.17g", v);
        std::fprintf(out, "\n");
      }
    }
    std::fclose(out);
  }
  const char* names[2] = {"stored text re-analysed", "forward index"};
  for (int mode = 0; mode < 2; ++mode) {
    std::printf("  %-24s cache empty  p50 %7.2f ms  p99 %7.2f ms  mean %7.2f ms\n", names[mode], res[mode][0].p50,
                res[mode][0].p99, res[mode][0].mean);
    std::printf("  %-24s cached       p50 %7.2f ms  p99 %7.2f ms  mean %7.2f ms\n", names[mode], res[mode][1].p50,
                res[mode][1].p99, res[mode][1].mean);
  }
  std::printf("  forward / stored ratio: cache empty p50 %.2fx p99 %.2fx; cached p50 %.2fx p99 %.2fx\n",
              res[1][0].p50 / res[0][0].p50, res[1][0].p99 / res[0][0].p99, res[1][1].p50 / res[0][1].p50,
              res[1][1].p99 / res[0][1].p99);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hymir-feature-bench: feature extraction from the forward index vs stored text"};
  std::string index, queries;
  size_t depth = 100, max_queries = 1000000;
  Flags flags;
  app.add_option("--index", index, "Index directory")->required()->check(CLI::ExistingDirectory);
  app.add_option("--queries", queries, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  app.add_option("--depth", depth, "Candidates per query (default 100)");
  app.add_option("--max-queries", max_queries, "Use at most this many queries");
  app.add_flag("--sentence-features", flags.sentences, "Also compute the sentence features");
  app.add_option("--kg", flags.kg, "Also compute the KG features with this knowledge graph")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--pair-query-features", flags.pair_query, "Also copy the query features into the pair rows");
  app.add_flag("--vector-field-features", flags.vector_fields, "Also compute the per-vector-field features");
  app.add_option("--dump", flags.dump, "Also write every feature value of both modes to this file");
  CLI11_PARSE(app, argc, argv);
  return Run(index, queries, depth, max_queries, flags);
}
