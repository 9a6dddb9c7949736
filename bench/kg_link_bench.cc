// hymir-kg-link-bench: EntityLinker build time and per-query linking latency.
//
//   hymir-kg-link-bench --kg /tmp/wn --queries ../shared/data/mixed/queries.jsonl
//
// Builds the linker over every alias of the KG (once per --analyzer), then
// links the text of every query --repeat times and prints build seconds, the
// alias counts, and p50/p99/max latency per Link() call (tokenization
// included), plus the linking rate (queries with a mention, mentions/query)
// and, for comparison, the latency of tokenization alone from the same run.
#include <hymir/beir.h>
#include <hymir/index/analyzer.h>
#include <hymir/kg/entity_linker.h>
#include <hymir/kg/triple_store.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

hymir::kg::TokenizeFn Tokenizer(const std::string& name) {
  if (name == "simple") return hymir::kg::SimpleTokenize;
  auto parsed = hymir::index::ParseAnalyzerKind(name);
  auto kind = parsed.ok() ? *parsed : hymir::index::AnalyzerKind::kStandard;
  return [kind](std::string_view text) { return hymir::index::Analyze(kind, text); };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hymir-kg-link-bench: EntityLinker build time and Link() latency over BEIR queries"};
  std::string kg_dir, queries_path;
  std::vector<std::string> analyzers = {"simple", "english"};
  int repeat = 5;
  app.add_option("--kg", kg_dir, "KG directory (e.g. from `hymir kg load --wordnet`)")->required();
  app.add_option("--queries", queries_path, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  app.add_option("--analyzer", analyzers, "Tokenizers to measure: simple, english, standard (default: simple english)")
      ->check(CLI::IsMember({"simple", "english", "standard", "english-lucenepp30"}));
  app.add_option("--repeat", repeat, "Passes over the queries (default 5)")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  hymir::kg::TripleStoreOptions store_options;
  store_options.create_if_missing = false;
  auto store = hymir::kg::TripleStore::Open(kg_dir, store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "hymir-kg-link-bench: %s\n", store.status().ToString().c_str());
    return 1;
  }
  auto queries = hymir::ReadQueries(queries_path);
  if (!queries.ok()) {
    std::fprintf(stderr, "hymir-kg-link-bench: %s\n", queries.status().ToString().c_str());
    return 1;
  }
  std::printf("kg %s, %zu queries from %s, %d passes\n", kg_dir.c_str(), queries->size(), queries_path.c_str(), repeat);

  for (const std::string& name : analyzers) {
    auto linker = hymir::kg::EntityLinker::Build(**store, Tokenizer(name));
    if (!linker.ok()) {
      std::fprintf(stderr, "hymir-kg-link-bench: %s\n", linker.status().ToString().c_str());
      return 1;
    }
    const hymir::kg::LinkerStats& st = (*linker)->stats();
    std::vector<double> link_us, tok_us;
    size_t mentions = 0, linked_queries = 0, sink = 0;
    for (int pass = 0; pass < repeat; ++pass) {
      for (const hymir::QueryRecord& q : *queries) {
        auto t0 = Clock::now();
        auto tokens = (*linker)->Tokenize(q.text);
        auto t1 = Clock::now();
        auto m = (*linker)->Link(q.text);
        auto t2 = Clock::now();
        tok_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        link_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
        sink += tokens.size();
        if (pass == 0) {
          mentions += m.size();
          linked_queries += !m.empty();
        }
      }
    }
    std::printf("\n[%s]\n", name.c_str());
    std::printf("build          %.2f s\n", st.build_seconds);
    std::printf("alias triples  %zu (indexed sequences %zu, skipped %zu)\n", st.alias_triples, st.indexed_aliases,
                st.skipped_aliases);
    std::printf("entities       %zu, tokens %zu, trie nodes %zu\n", st.entities, st.tokens, st.trie_nodes);
    std::printf("link latency   p50 %.1f us, p99 %.1f us, max %.1f us (%zu calls, tokenization included)\n",
                Percentile(link_us, 0.5), Percentile(link_us, 0.99), Percentile(link_us, 1.0), link_us.size());
    const double tok50 = Percentile(tok_us, 0.5);
    std::printf("tokenize only  p50 %.1f us, p99 %.1f us (link/tokenize p50 ratio %.2f)\n", tok50,
                Percentile(tok_us, 0.99), tok50 > 0 ? Percentile(link_us, 0.5) / tok50 : 0.0);
    std::printf("linked         %zu/%zu queries with a mention, %.2f mentions/query\n", linked_queries, queries->size(),
                queries->empty() ? 0.0 : static_cast<double>(mentions) / queries->size());
    if (sink == 0) std::printf("(no tokens)\n");
  }
  return 0;
}
