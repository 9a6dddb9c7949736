// hymir-serve-bench: what the HTTP service costs on top of the library.
// Runs a queries file through Engine::Search on T threads (the baseline),
// then through the same engine behind SearchService over HTTP on loopback
// with T client threads (keep-alive connections), and prints throughput,
// p50/p99 latency and the ratios, all measured in the same run.
//
//   build/bin/hymir-serve-bench --index IDX --queries queries.jsonl [--threads 2] [--seconds 5] [--k 10]
#include <hymir/beir.h>
#include <hymir/engine.h>
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "serve/search_service.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Run {
  double qps = 0, p50_ms = 0, p99_ms = 0;
  size_t queries = 0, failures = 0;
};

// Calls `one(i)` for query indices from `threads` threads for `seconds`
// (at least one pass over `n` queries), timing each call.
template <typename F>
Run Measure(size_t n, int threads, double seconds, F one) {
  std::atomic<size_t> next{0};
  std::atomic<size_t> failures{0};
  std::vector<std::vector<double>> lat(threads);
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (true) {
        const size_t i = next.fetch_add(1);
        if (i >= n && Clock::now() >= until) break;
        const auto t0 = Clock::now();
        if (!one(t, i % n)) ++failures;
        lat[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Run r;
  r.queries = all.size();
  r.failures = failures;
  r.qps = all.size() / elapsed;
  if (!all.empty()) {
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string index, queries_path;
  int threads = 2;
  double seconds = 5;
  size_t k = 10;
  CLI::App app{"hymir-serve-bench: Engine::Search vs the same searches over hymir serve's HTTP API",
               "hymir-serve-bench"};
  app.add_option("--index", index, "Index directory")->required()->check(CLI::ExistingDirectory);
  app.add_option("--queries", queries_path, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  app.add_option("--threads", threads, "Client threads (and server threads)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--seconds", seconds, "Seconds per measurement (at least one pass)")->capture_default_str();
  app.add_option("--k", k, "Hits per query")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto engine = hymir::Engine::Open(index);
  if (!engine.ok()) return std::fprintf(stderr, "%s\n", engine.status().ToString().c_str()), 1;
  auto queries = hymir::ReadQueries(queries_path);
  if (!queries.ok()) return std::fprintf(stderr, "%s\n", queries.status().ToString().c_str()), 1;
  const size_t n = queries->size();
  std::vector<std::string> targets;
  for (const auto& q : *queries)
    targets.push_back("/api/search?k=" + std::to_string(k) + "&q=" + httplib::detail::encode_query_param(q.text));

  hymir::serve::SearchService service(**engine, nullptr, nullptr);
  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);  // as hymir serve does (no Nagle delay on small replies)
  service.Mount(server);
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) return std::fprintf(stderr, "cannot listen on loopback\n"), 1;
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  hymir::HybridQuery probe;
  probe.text = "x";
  std::printf("hymir-serve-bench index=%s queries=%zu threads=%d k=%zu retriever=%s seconds=%.1f\n", index.c_str(), n,
              threads, k, hymir::RetrieverName((*engine)->ResolveRetriever(probe)), seconds);
  // Warm-up: one pass through each path.
  for (size_t i = 0; i < n; ++i) {
    hymir::HybridQuery q;
    q.text = (*queries)[i].text;
    q.k = k;
    (void)(*engine)->Search(q);
  }
  const Run direct = Measure(n, threads, seconds, [&](int, size_t i) {
    hymir::HybridQuery q;
    q.text = (*queries)[i].text;
    q.k = k;
    return (*engine)->Search(q).ok();
  });
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int t = 0; t < threads; ++t) {
    clients.push_back(std::make_unique<httplib::Client>("127.0.0.1", port));
    clients.back()->set_keep_alive(true);
    clients.back()->set_tcp_nodelay(true);
  }
  const Run http = Measure(n, threads, seconds, [&](int t, size_t i) {
    auto res = clients[t]->Get(targets[i].c_str());
    return res && res->status == 200;
  });
  server.stop();
  listener.join();

  auto row = [](const char* name, const Run& r, const Run& base) {
    std::printf("%-34s qps=%9.1f (%.2fx)  p50_ms=%7.3f (%.2fx)  p99_ms=%7.3f (%.2fx)  queries=%zu failures=%zu\n", name,
                r.qps, r.qps / base.qps, r.p50_ms, r.p50_ms / base.p50_ms, r.p99_ms, r.p99_ms / base.p99_ms, r.queries,
                r.failures);
  };
  row("Engine::Search (baseline)", direct, direct);
  row("hymir serve /api/search (HTTP)", http, direct);
  return http.failures == 0 ? 0 : 1;
}
