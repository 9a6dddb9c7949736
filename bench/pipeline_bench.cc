// hymir-pipeline-bench: the whole search path per query -- KG
// expansion, hybrid retrieval, MoE re-ranking of the top `depth` -- against
// hybrid retrieval alone, in the same run on the same queries, one thread.
// A benchmark program, not a test.
//
//   hymir-pipeline-bench --index IDX --queries queries.jsonl --kg KG --model M
//                        [--depth 100] [--k 10] [--max-queries N] [--passes 2]
//
// Every query runs each configuration back to back (interleaved, so machine
// load hits all alike): hybrid alone; hybrid + KG expansion; hybrid + KG
// expansion + re-ranking. No stored documents or snippets are fetched (the
// same for all three). Each pass goes over all queries; the re-ranker's
// document cache is empty at the start of the first pass only.
#include <hymir/beir.h>
#include <hymir/engine.h>
#include <hymir/pipeline.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/percentile.h"

namespace {

using namespace hymir;
using Clock = std::chrono::steady_clock;

using bench::Latency;
using bench::Percentiles;

int Run(const std::string& index, const std::string& queries_file, const std::string& kg, const std::string& model,
        size_t depth, size_t k, size_t max_queries, int passes) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "hymir-pipeline-bench: %s\n", s.ToString().c_str());
    return 1;
  };
  const auto t_open = Clock::now();
  auto engine = Engine::Open(index);
  if (!engine.ok()) return fail(engine.status());
  PipelineOptions options;
  options.kg_dir = kg;
  options.rerank_model = model;
  options.rerank_depth = depth;
  options.threads = 1;
  auto pipeline = Pipeline::Open(**engine, options);
  if (!pipeline.ok()) return fail(pipeline.status());
  const double open_s = std::chrono::duration<double>(Clock::now() - t_open).count();
  auto records = ReadQueries(queries_file);
  if (!records.ok()) return fail(records.status());
  std::vector<HybridQuery> queries;
  for (const auto& r : *records) {
    if (queries.size() == max_queries) break;
    QuerySpec spec;
    spec.id = r.id;
    spec.text = r.text;
    spec.k = k;
    auto q = BuildQuery(spec, **engine);
    if (!q.ok()) return fail(q.status());
    queries.push_back(std::move(q).value());
  }
  std::printf("index %s: %llu docs; KG %s; model %s; opened in %.2f s\n", index.c_str(),
              static_cast<unsigned long long>((*engine)->searcher().NumDocs()), kg.c_str(), model.c_str(), open_s);
  std::printf("%zu queries, top %zu shown, re-ranking depth %zu, 1 thread, %d passes\n", queries.size(), k, depth,
              passes);
  const char* names[3] = {"hybrid alone", "hybrid + KG expansion", "hybrid + KG expansion + MoE re-ranking"};
  StageOptions stages[3];
  for (int m = 0; m < 3; ++m) {
    stages[m].expand = m >= 1;
    stages[m].rerank = m == 2;
    stages[m].fetch_documents = false;
    stages[m].snippet_chars = 0;
  }
  for (int pass = 1; pass <= passes; ++pass) {
    std::vector<double> ms[3];
    size_t expanded = 0;
    for (const auto& q : queries) {
      for (int m = 0; m < 3; ++m) {
        const auto t0 = Clock::now();
        auto r = (*pipeline)->Search(q, stages[m]);
        ms[m].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!r.ok()) return fail(r.status());
        if (m == 1 && !r->expansions.empty()) ++expanded;
      }
    }
    Latency l[3];
    for (int m = 0; m < 3; ++m) l[m] = Percentiles(ms[m]);
    std::printf("pass %d (%zu of %zu queries expanded by the KG):\n", pass, expanded, queries.size());
    for (int m = 0; m < 3; ++m)
      std::printf("  %-40s p50 %7.2f ms  p99 %7.2f ms  mean %7.2f ms\n", names[m], l[m].p50, l[m].p99, l[m].mean);
    std::printf("  full pipeline / hybrid alone: p50 %.2fx  p99 %.2fx  mean %.2fx\n", l[2].p50 / l[0].p50,
                l[2].p99 / l[0].p99, l[2].mean / l[0].mean);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hymir-pipeline-bench: KG expansion + hybrid + MoE re-ranking vs hybrid alone, same run"};
  std::string index, queries, kg, model;
  size_t depth = 100, k = 10, max_queries = 1000000;
  int passes = 2;
  app.add_option("--index", index, "Index directory")->required()->check(CLI::ExistingDirectory);
  app.add_option("--queries", queries, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  app.add_option("--kg", kg, "Knowledge graph directory (hymir kg load)")->required()->check(CLI::ExistingDirectory);
  app.add_option("--model", model, "MoE model (hymir train)")->required()->check(CLI::ExistingFile);
  app.add_option("--depth", depth, "Candidates re-ranked per query (default 100)");
  app.add_option("--k", k, "Hits returned per query (default 10)");
  app.add_option("--max-queries", max_queries, "Use at most this many queries");
  app.add_option("--passes", passes, "Passes over the queries (default 2)")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  return Run(index, queries, kg, model, depth, k, max_queries, passes);
}
