// hymir-live-bench: a live index under a steady stream of upserts. A writer
// upserts `--rate` documents per second and commits every `--commit-ms`; a
// LivePipeline (what `hymir serve` runs) follows the commits; a reader
// searches all the time. Printed, from the same run: search latency idle and
// under the stream (and their ratio), each commit's duration, and how long
// after a commit returned its documents were visible to new searches.
//
//   hymir-live-bench --dir /tmp/live --docs 1000000 --rate 100 --seconds 30
#include <hymir/index/index_writer.h>
#include <hymir/ingest.h>
#include <hymir/live_pipeline.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "percentile.h"
#include "synthetic_corpus.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Flags {
  std::string dir = "/tmp/hymir-live-bench";
  uint64_t docs = 1'000'000;
  double rate = 100;
  int seconds = 30;
  int idle_seconds = 10;
  int commit_ms = 1000;
  int reload_ms = 100;
  bool typed = false;
};

int Fail(const hymir::Status& s) {
  std::fprintf(stderr, "hymir-live-bench: %s\n", s.ToString().c_str());
  return 1;
}

// Searches random two-word queries until `stop`, recording each latency;
// with `typed`, every query also keeps a range of `size` and counts the
// `section` facet.
void Search(const hymir::LivePipeline& live, const std::vector<std::string>& words, bool typed,
            const std::atomic<bool>& stop, std::vector<double>* latencies, std::atomic<uint64_t>* failures) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> pick(0, std::min<size_t>(words.size(), 2000) - 1);
  hymir::StageOptions stages;
  stages.fetch_documents = false;
  while (!stop) {
    hymir::QuerySpec spec;
    spec.text = words[pick(rng)] + " " + words[pick(rng)];
    spec.retriever = "bm25";
    if (typed) {
      spec.filters = {"size:[0 TO 500000]"};
      spec.facets = {"section:5"};
    }
    const auto t0 = Clock::now();
    std::shared_ptr<const hymir::Pipeline> p = live.Current();
    auto q = p->MakeQuery(spec);
    if (!q.ok() || !p->Search(*q, stages).ok()) ++*failures;
    latencies->push_back(Ms(Clock::now() - t0));
  }
}

void Print(const char* what, const std::vector<double>& values) {
  const hymir::bench::Latency l = hymir::bench::Percentiles(values);
  std::printf("%-34s n=%-7zu p50 %8.2f  p99 %8.2f  mean %8.2f ms\n", what, l.n, l.p50, l.p99, l.mean);
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"hymir-live-bench: search latency and commit visibility under a stream of upserts"};
  app.add_option("--dir", f.dir, "Index directory (built from a synthetic corpus when absent)")->capture_default_str();
  app.add_option("--docs", f.docs, "Documents of the synthetic corpus")->capture_default_str();
  app.add_option("--rate", f.rate, "Upserts per second")->capture_default_str();
  app.add_option("--seconds", f.seconds, "Length of the upsert stream")->capture_default_str();
  app.add_option("--idle-seconds", f.idle_seconds, "Length of the idle baseline")->capture_default_str();
  app.add_option("--commit-ms", f.commit_ms, "Milliseconds between commits")->capture_default_str();
  app.add_option("--reload-ms", f.reload_ms, "LivePipeline poll interval")->capture_default_str();
  app.add_flag("--typed", f.typed,
               "Index `size` (int64) and `section` (keyword) as typed fields; queries filter and facet on them");
  CLI11_PARSE(app, argc, argv);

  auto words = hymir::bench::MakeVocabulary(100'000);
  if (!words.ok()) return Fail(words.status());
  if (!std::filesystem::exists(f.dir + "/hymir.json")) {
    const std::string corpus = f.dir + ".corpus.jsonl";
    hymir::bench::SyntheticCorpusOptions co;
    co.docs = f.docs;
    co.typed_fields = f.typed;
    if (auto info = hymir::bench::WriteSyntheticCorpus(corpus, co); !info.ok()) return Fail(info.status());
    hymir::index::IndexWriterOptions wo;
    if (f.typed) {
      auto schema = hymir::index::ParseSchemaJson(
          R"({"fields": {"size": {"type": "int64", "sort": true, "facet": true},
                         "section": {"type": "keyword", "facet": true}}})");
      if (!schema.ok()) return Fail(schema.status());
      wo.schema = *schema;
    }
    auto w = hymir::index::IndexWriter::Open(f.dir, wo);
    if (!w.ok()) return Fail(w.status());
    hymir::IngestOptions io;
    io.threads = 2;
    const auto t0 = Clock::now();
    if (auto r = hymir::IngestCorpus(corpus, **w, io); !r.ok()) return Fail(r.status());
    if (hymir::Status s = (*w)->Commit(); !s.ok()) return Fail(s);
    std::printf("built %s: %llu documents in %.1f s\n", f.dir.c_str(), static_cast<unsigned long long>(f.docs),
                Ms(Clock::now() - t0) / 1000);
    std::filesystem::remove(corpus);
  }

  hymir::PipelineOptions po;
  po.index_dir = f.dir;
  std::mutex seen_mu;
  std::vector<std::pair<uint64_t, Clock::time_point>> seen;  // generation, when it was swapped in
  hymir::LiveOptions lo;
  lo.poll_interval = std::chrono::milliseconds(f.reload_ms);
  lo.on_reload = [&](uint64_t g, const hymir::Status& s) {
    if (!s.ok()) return;
    std::lock_guard<std::mutex> l(seen_mu);
    seen.emplace_back(g, Clock::now());
  };
  auto live = hymir::LivePipeline::Open(po, lo);
  if (!live.ok()) return Fail(live.status());

  std::atomic<uint64_t> failures{0};
  std::vector<double> idle, loaded;
  {
    std::atomic<bool> stop{false};
    std::thread reader(Search, std::cref(**live), std::cref(*words), f.typed, std::cref(stop), &idle, &failures);
    std::this_thread::sleep_for(std::chrono::seconds(f.idle_seconds));
    stop = true;
    reader.join();
  }

  auto writer = hymir::index::IndexWriter::Open(f.dir);
  if (!writer.ok()) return Fail(writer.status());
  std::vector<double> commit_ms;
  std::vector<std::pair<uint64_t, Clock::time_point>> committed;  // generation, when Commit() returned
  uint64_t upserts = 0;
  {
    std::atomic<bool> stop{false};
    std::thread reader(Search, std::cref(**live), std::cref(*words), f.typed, std::cref(stop), &loaded, &failures);
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<size_t> pick(0, words->size() - 1);
    const auto start = Clock::now(), end = start + std::chrono::seconds(f.seconds);
    auto next_commit = start + std::chrono::milliseconds(f.commit_ms);
    const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / f.rate));
    auto next_upsert = start;
    while (Clock::now() < end) {
      std::this_thread::sleep_until(std::min(next_upsert, next_commit));
      if (Clock::now() >= next_commit) {
        const auto t0 = Clock::now();
        if (hymir::Status s = (*writer)->Commit(); !s.ok()) return Fail(s);
        const auto t1 = Clock::now();
        commit_ms.push_back(Ms(t1 - t0));
        auto g = hymir::index::LastCommitGeneration(f.dir);
        if (!g.ok()) return Fail(g.status());
        committed.emplace_back(*g, t1);
        next_commit = t1 + std::chrono::milliseconds(f.commit_ms);
        continue;
      }
      hymir::Document d;
      d.id = "live" + std::to_string(upserts % 5000);  // upserts replace as well as add
      d.text = (*words)[pick(rng)] + " " + (*words)[pick(rng)] + " " + (*words)[pick(rng)];
      if (f.typed) {
        d.values["size"] = {static_cast<int64_t>(pick(rng) * 10)};
        d.values["section"] = {std::string("s") + std::to_string(upserts % 50)};
      }
      if (hymir::Status s = (*writer)->Upsert(d); !s.ok()) return Fail(s);
      ++upserts;
      next_upsert += gap;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3 * f.reload_ms + 2000));
    stop = true;
    reader.join();
  }

  // Visibility: from a commit's return to the swap-in of its generation (or a later one).
  std::vector<double> visible;
  size_t never = 0;
  {
    std::lock_guard<std::mutex> l(seen_mu);
    for (const auto& [g, at] : committed) {
      auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first >= g && s.second >= at; });
      if (it == seen.end()) {
        ++never;
      } else {
        visible.push_back(Ms(it->second - at));
      }
    }
  }
  std::printf(
      "index %s, %llu documents at the start; %.0f upserts/s asked, %.1f done; commit every %d ms; "
      "reload poll %d ms\n",
      f.dir.c_str(), static_cast<unsigned long long>(f.docs), f.rate, upserts / double(f.seconds), f.commit_ms,
      f.reload_ms);
  Print("search, idle", idle);
  Print("search, during upserts", loaded);
  Print("commit", commit_ms);
  Print("commit return -> visible", visible);
  const double idle_p99 = hymir::bench::Percentiles(idle).p99, loaded_p99 = hymir::bench::Percentiles(loaded).p99;
  std::printf("p99 during upserts / idle p99: %.2fx; commits never seen: %zu; failed searches: %llu\n",
              idle_p99 > 0 ? loaded_p99 / idle_p99 : 0.0, never, static_cast<unsigned long long>(failures.load()));
  return failures == 0 && never == 0 ? 0 : 1;
}
