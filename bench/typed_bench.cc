// hymir-typed-bench: typed fields on a synthetic index (default 1,000,000
// documents) -- a 1 %-selective range filter and keyword facet counts over
// the matches of a common term, each against a scan baseline in the same
// run, printed as ratios.
//
//   range, kernel:     the points of the doc values file (two binary searches,
//                      then the admitted rows) vs a scan of the field's
//                      column (every row's presence bit and key)
//   range, end to end: Searcher::SearchStructured counting the documents a
//                      1 % range admits (no text)
//   facets, kernel:    counting ordinals of the matches' rows vs counting
//                      their values' strings in a hash map
//   facets, end to end: SearchStructured with a facet on "section" minus the
//                      same without it, vs reading each match's stored
//                      values (Searcher::GetDocument), the scan a reader
//                      without doc values does
//
// With --compare, on an index of a corpus that Java Lucene 8.8 indexes too
// (bench/structured/speed.sh: --write-corpus writes a synthetic one with the
// typed fields "size" and "section"), it instead times what
// bench/java/LuceneStructured.java's `range` and `facets` modes time, each
// for --seconds after --warmup seconds, and prints "hymir typed step=..."
// lines with the QPS of:
//   range_count            documents in the range (SearchStructured, k 0)
//   range_top10            the range's first 10 (SearchStructured, k 10)
//   query_filtered_top10   top 10 by BM25 of --query within the range (Search)
//   query_filtered_count   matches of --query within the range (Count)
//   facet_count            --facet-field's top 10 values over the matches of
//                          --facet-query, with its exact total (k 0)
//   facet_top10            the same with the top 10 hits (k 10)
//
// Includes the private index/lucene/doc_values.h for the kernels (the
// repository root is on its include path, as for hymir-pipeline-bench).
#include <hymir/index/index_writer.h>
#include <hymir/index/searcher.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "index/lucene/doc_values.h"
#include "src/core/file_util.h"
#include "synthetic_corpus.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a) { return std::chrono::duration<double, std::milli>(Clock::now() - a).count(); }

constexpr int kSections = 50;

std::string Section(int i) { return "s" + std::to_string(i); }

hymir::Status Build(const std::string& dir, uint64_t n, int threads) {
  auto schema = hymir::index::ParseSchemaJson(R"({"fields": {
      "size": {"type": "int64", "sort": true, "facet": true},
      "section": {"type": "keyword", "facet": true, "sort": true}}})");
  if (!schema.ok()) return schema.status();
  hymir::index::IndexWriterOptions o;
  o.schema = *schema;
  auto w = hymir::index::IndexWriter::Open(dir, o);
  if (!w.ok()) return w.status();
  std::vector<std::thread> workers;
  std::vector<hymir::Status> errors(threads);
  const char* words[] = {"alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta", "zeta", "lambda"};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      for (uint64_t i = t; i < n; i += threads) {
        hymir::Document d;
        char id[16];
        std::snprintf(id, sizeof id, "d%07llu", static_cast<unsigned long long>(i));
        d.id = id;
        // "alpha" in about 30 % of the documents: the common term.
        d.text = (rng() % 10 < 3 ? "alpha " : "") + std::string(words[1 + rng() % 9]) + " " + words[1 + rng() % 9] +
                 " w" + std::to_string(rng() % 5000);
        d.values["size"] = {static_cast<int64_t>(rng() % 1'000'000)};
        // Skewed sections: s0 most frequent.
        const int s = static_cast<int>(std::min<uint64_t>(kSections - 1, (rng() % 1000) * (rng() % 1000) / 20000));
        d.values["section"] = {Section(s)};
        if (auto st = (*w)->Upsert(d); !st.ok()) {
          errors[t] = st;
          return;
        }
      }
    });
  }
  for (auto& th : workers) th.join();
  for (const auto& e : errors) HYMIR_RETURN_IF_ERROR(e);
  return (*w)->Commit();
}

// The doc values file of the index's last generation.
hymir::Result<std::unique_ptr<hymir::index::internal::DocValuesReader>> OpenValues(const std::string& dir,
                                                                                   const hymir::index::Schema& schema) {
  namespace fs = std::filesystem;
  uint64_t best = 0;
  std::string manifest;
  for (const auto& e : fs::directory_iterator(dir + "/vectors")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("MANIFEST.g", 0) != 0) continue;
    const uint64_t g = std::stoull(name.substr(10));
    if (g >= best) best = g, manifest = e.path().string();
  }
  auto text = hymir::internal::ReadFile(manifest);
  if (!text.ok()) return text.status();
  const auto j = nlohmann::json::parse(*text);
  hymir::index::internal::FileInfo info;
  info.name = j["values"]["name"];
  info.size = j["values"]["size"];
  info.crc32 = j["values"]["crc32"];
  return hymir::index::internal::DocValuesReader::Open(dir + "/vectors", info, schema);
}

template <typename Fn>
double BestOf(int reps, Fn&& fn) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t = Clock::now();
    fn();
    best = std::min(best, Ms(t));
  }
  return best;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Rates {
  double qps, cpu_qps, mean_ms;
};

// Runs `fn` for `warmup` seconds, then for at least `seconds` (and at least
// once): queries per second of wall time and of the thread's CPU time (which
// other load on a shared machine does not inflate), and mean milliseconds.
template <typename Fn>
Rates Rate(double warmup, double seconds, Fn&& fn) {
  for (auto t = Clock::now(); std::chrono::duration<double>(Clock::now() - t).count() < warmup;) fn();
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  uint64_t n = 0;
  double secs = 0;
  do {
    fn();
    ++n;
    secs = std::chrono::duration<double>(Clock::now() - start).count();
  } while (secs < seconds);
  const double cpu = ThreadCpuSeconds() - cpu_start;
  return {static_cast<double>(n) / secs, static_cast<double>(n) / cpu, 1000 * secs / static_cast<double>(n)};
}

struct CompareOptions {
  std::string range_field, from, to, query, facet_field, facet_query;
  double seconds = 3, warmup = 1;
};

int Compare(const hymir::index::Searcher& s, const CompareOptions& o) {
  auto fail = [](const hymir::Status& st) {
    std::fprintf(stderr, "hymir-typed-bench: %s\n", st.ToString().c_str());
    return 1;
  };
  auto report = [&](const char* step, Rates r, uint64_t total) {
    std::printf("hymir typed step=%s qps=%.1f cpu_qps=%.1f mean_ms=%.3f total=%llu\n", step, r.qps, r.cpu_qps,
                r.mean_ms, static_cast<unsigned long long>(total));
    std::fflush(stdout);
  };
  std::printf("hymir typed info docs=%llu seconds=%.1f warmup=%.1f\n", static_cast<unsigned long long>(s.NumDocs()),
              o.seconds, o.warmup);
  if (!o.range_field.empty()) {
    hymir::index::TextQuery rq;
    rq.ranges = {hymir::index::RangeFilter{o.range_field, o.from, o.to}};
    rq.k = 0;
    auto first = s.SearchStructured(rq);
    if (!first.ok()) return fail(first.status());
    uint64_t total = first->total;
    std::printf("hymir typed range field=%s from=%s to=%s matched=%llu\n", o.range_field.c_str(), o.from.c_str(),
                o.to.c_str(), static_cast<unsigned long long>(total));
    Rates r = Rate(o.warmup, o.seconds, [&] { total = s.SearchStructured(rq)->total; });
    report("range_count", r, total);
    rq.k = 10;
    r = Rate(o.warmup, o.seconds, [&] { total = s.SearchStructured(rq)->hits.size(); });
    report("range_top10", r, total);
    if (!o.query.empty()) {
      rq.text = o.query;
      auto c = s.Count(rq);
      if (!c.ok()) return fail(c.status());
      r = Rate(o.warmup, o.seconds, [&] { total = s.Search(rq)->size(); });
      report("query_filtered_top10", r, total);
      report("query_filtered_count", Rate(o.warmup, o.seconds, [&] { total = *s.Count(rq); }), *c);
    }
  }
  if (!o.facet_field.empty()) {
    hymir::index::TextQuery fq;
    fq.text = o.facet_query;
    fq.k = 0;
    fq.facets = {{o.facet_field, 10, {}}};
    auto first = s.SearchStructured(fq);
    if (!first.ok()) return fail(first.status());
    std::printf("hymir typed facets query=%s field=%s total=%llu values=%zu\n", o.facet_query.c_str(),
                o.facet_field.c_str(), static_cast<unsigned long long>(first->total),
                first->facets.empty() ? size_t{0} : first->facets[0].counts.size());
    for (const auto& c : first->facets[0].counts)
      std::printf("  %s\t%llu\n", c.value.c_str(), static_cast<unsigned long long>(c.count));
    uint64_t total = 0;
    Rates r = Rate(o.warmup, o.seconds, [&] { total = s.SearchStructured(fq)->total; });
    report("facet_count", r, total);
    fq.k = 10;
    r = Rate(o.warmup, o.seconds, [&] { total = s.SearchStructured(fq)->total; });
    report("facet_top10", r, total);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("hymir-typed-bench: range filters and facets on typed fields vs scans");
  std::string dir = "/tmp/hymir-typed-bench";
  uint64_t docs = 1'000'000;
  int threads = 2, reps = 5;
  bool rebuild = false;
  app.add_option("--index", dir, "Index directory (built when absent)");
  app.add_option("--docs", docs, "Documents of a new index (default 1,000,000)");
  app.add_option("--threads", threads, "Indexing threads (default 2)");
  app.add_option("--reps", reps, "Repetitions; the best time is reported (default 5)");
  app.add_flag("--rebuild", rebuild, "Delete and rebuild the index");
  std::string write_corpus, write_schema;
  app.add_option("--write-corpus", write_corpus,
                 "Only write a synthetic corpus of --docs documents with the typed fields size and section (and "
                 "--write-schema), print its common term, and exit");
  app.add_option("--write-schema", write_schema, "With --write-corpus: write the schema of its typed fields here");
  bool compare = false;
  CompareOptions co;
  app.add_flag("--compare", compare,
               "Time the steps of LuceneStructured.java's range and facets modes on the existing --index");
  app.add_option("--range-field", co.range_field, "--compare: int64 field of the range");
  app.add_option("--from", co.from, "--compare: range lower bound (inclusive)");
  app.add_option("--to", co.to, "--compare: range upper bound (inclusive)");
  app.add_option("--query", co.query, "--compare: query filtered by the range");
  app.add_option("--facet-field", co.facet_field, "--compare: keyword field to count");
  app.add_option("--facet-query", co.facet_query, "--compare: query whose matches are counted");
  app.add_option("--seconds", co.seconds, "--compare: timed seconds per step (default 3)");
  app.add_option("--warmup", co.warmup, "--compare: warm-up seconds per step (default 1)");
  CLI11_PARSE(app, argc, argv);
  if (!write_corpus.empty()) {
    hymir::bench::SyntheticCorpusOptions so;
    so.docs = docs;
    so.typed_fields = true;
    auto info = hymir::bench::WriteSyntheticCorpus(write_corpus, so);
    if (!info.ok()) {
      std::fprintf(stderr, "hymir-typed-bench: %s\n", info.status().ToString().c_str());
      return 1;
    }
    if (!write_schema.empty()) {
      if (auto st = hymir::internal::WriteFileAtomic(write_schema, hymir::bench::kSyntheticTypedSchema); !st.ok()) {
        std::fprintf(stderr, "hymir-typed-bench: %s\n", st.ToString().c_str());
        return 1;
      }
    }
    // The 10th most frequent word: in about a quarter of the documents.
    auto vocab = hymir::bench::MakeVocabulary(std::min<uint64_t>(so.vocab, 10));
    std::printf("corpus=%s docs=%llu tokens=%llu common_term=%s\n", write_corpus.c_str(),
                static_cast<unsigned long long>(info->docs), static_cast<unsigned long long>(info->tokens),
                vocab.ok() ? vocab->back().c_str() : "");
    return 0;
  }
  if (compare) {
    auto searcher = hymir::index::Searcher::Open(dir);
    if (!searcher.ok()) {
      std::fprintf(stderr, "hymir-typed-bench: %s\n", searcher.status().ToString().c_str());
      return 1;
    }
    return Compare(**searcher, co);
  }
  if (rebuild) std::filesystem::remove_all(dir);
  if (!std::filesystem::exists(dir + "/hymir.json")) {
    const auto t = Clock::now();
    if (auto s = Build(dir, docs, threads); !s.ok()) {
      std::fprintf(stderr, "hymir-typed-bench: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("indexed %llu documents in %.1f s\n", static_cast<unsigned long long>(docs), Ms(t) / 1000);
  }
  auto searcher = hymir::index::Searcher::Open(dir);
  if (!searcher.ok()) {
    std::fprintf(stderr, "hymir-typed-bench: %s\n", searcher.status().ToString().c_str());
    return 1;
  }
  const hymir::index::Searcher& s = **searcher;
  auto values = OpenValues(dir, s.schema());
  if (!values.ok()) {
    std::fprintf(stderr, "hymir-typed-bench: %s\n", values.status().ToString().c_str());
    return 1;
  }
  const auto& v = **values;
  const auto* size = v.column("size");
  const auto* section = v.column("section");
  std::printf("index: %llu documents, doc values %llu rows\n", static_cast<unsigned long long>(s.NumDocs()),
              static_cast<unsigned long long>(v.rows()));

  // --- Range: 1 % of the value space [0, 1e6).
  const int64_t lo = 400'000, hi = 409'999;
  std::vector<uint64_t> bits((v.rows() + 63) / 64);
  uint64_t admitted_points = 0, admitted_scan = 0;
  const double points_ms = BestOf(reps, [&] {
    std::fill(bits.begin(), bits.end(), 0);
    uint64_t b, e;
    size->PointRange(lo, hi, &b, &e);
    for (uint64_t i = b; i < e; ++i) {
      const uint32_t row = hymir::index::internal::LoadU32(size->point_rows, i);
      bits[row >> 6] |= uint64_t{1} << (row & 63);
    }
    admitted_points = e - b;
  });
  const double scan_ms = BestOf(reps, [&] {
    std::fill(bits.begin(), bits.end(), 0);
    uint64_t n = 0;
    for (uint64_t row = 0; row < v.rows(); ++row) {
      if (size->Has(row)) {
        const int64_t k = size->Key(row);
        if (k >= lo && k <= hi) {
          bits[row >> 6] |= uint64_t{1} << (row & 63);
          ++n;
        }
      }
    }
    admitted_scan = n;
  });
  hymir::index::TextQuery rq;
  rq.ranges = {hymir::index::RangeFilter{"size", std::to_string(lo), std::to_string(hi)}};
  rq.k = 10;
  uint64_t total = 0;
  (void)s.SearchStructured(rq);  // maps docids to rows once (first use)
  const double e2e_ms = BestOf(reps, [&] { total = s.SearchStructured(rq)->total; });
  std::printf("range size:[%lld TO %lld] admits %llu (%.2f %%; scan %llu, search total %llu)\n",
              static_cast<long long>(lo), static_cast<long long>(hi), static_cast<unsigned long long>(admitted_points),
              100.0 * admitted_points / std::max<uint64_t>(1, v.rows()), static_cast<unsigned long long>(admitted_scan),
              static_cast<unsigned long long>(total));
  std::printf("  kernel: points %.3f ms, column scan %.3f ms: scan/points = %.1fx\n", points_ms, scan_ms,
              scan_ms / points_ms);
  std::printf("  end to end: SearchStructured (count + top 10 of the range) %.3f ms\n", e2e_ms);

  // --- Facets over the matches of a common term.
  hymir::index::TextQuery fq;
  fq.text = "alpha";
  fq.k = 10;
  auto plain = s.SearchStructured(fq);
  if (!plain.ok()) return 1;
  const double without_ms = BestOf(reps, [&] { (void)s.SearchStructured(fq); });
  fq.facets = {{"section", 10, {}}};
  hymir::index::SearchResults faceted;
  const double with_ms = BestOf(reps, [&] { faceted = *s.SearchStructured(fq); });
  std::printf("facet section over \"alpha\": %llu matches, top value %s (%llu)\n",
              static_cast<unsigned long long>(faceted.total), faceted.facets[0].counts[0].value.c_str(),
              static_cast<unsigned long long>(faceted.facets[0].counts[0].count));
  // Kernels over the same rows: every row holding "alpha" is not known here,
  // so both count the rows of the first `total` ids (the same work per row).
  const uint64_t m = std::min<uint64_t>(faceted.total, v.rows());
  std::vector<uint64_t> counts(section->values);
  const double ord_ms = BestOf(reps, [&] {
    std::fill(counts.begin(), counts.end(), 0);
    for (uint64_t row = 0; row < m; ++row) {
      for (uint64_t i = section->OrdBegin(row); i < section->OrdEnd(row); ++i) ++counts[section->Ord(i)];
    }
  });
  std::unordered_map<std::string_view, uint64_t> by_string;
  const double hash_ms = BestOf(reps, [&] {
    by_string.clear();
    for (uint64_t row = 0; row < m; ++row) {
      for (uint64_t i = section->OrdBegin(row); i < section->OrdEnd(row); ++i)
        ++by_string[section->Value(section->Ord(i))];
    }
  });
  // Stored values of every match: a sample of 20,000 documents, scaled.
  hymir::index::TextQuery all = fq;
  all.facets.clear();
  all.k = static_cast<size_t>(faceted.total);
  auto hits = s.SearchStructured(all);
  const size_t sample = std::min<size_t>(20000, hits->hits.size());
  std::unordered_map<std::string, uint64_t> stored_counts;
  const auto t = Clock::now();
  for (size_t i = 0; i < sample; ++i) {
    auto d = s.GetDocument(hits->hits[i * (hits->hits.size() / sample)].id);
    for (const auto& val : d->values["section"]) ++stored_counts[std::get<std::string>(val)];
  }
  const double stored_ms = Ms(t) * static_cast<double>(hits->hits.size()) / static_cast<double>(sample);
  std::printf("  kernel over %llu rows: ordinals %.3f ms, string hash map %.3f ms: hash/ordinals = %.1fx\n",
              static_cast<unsigned long long>(m), ord_ms, hash_ms, hash_ms / ord_ms);
  std::printf("  end to end: search %.2f ms without the facet, %.2f ms with it: facet cost %.2f ms\n", without_ms,
              with_ms, with_ms - without_ms);
  std::printf(
      "  stored-values scan of the matches (GetDocument each, from a %zu sample): %.0f ms: scan/facet = %.0fx\n",
      sample, stored_ms, stored_ms / std::max(1e-3, with_ms - without_ms));
  return 0;
}
