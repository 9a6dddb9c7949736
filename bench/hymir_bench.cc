// hymir-bench: end-to-end indexing and BM25 search throughput (a driver in the
// manner of leveldb's db_bench, not a test). See bench/README.md.
//
// Output: one "# ..." header line, then one line per figure, "hymir <what>
// key=value ...", parallel to the `lucene ...` lines of
// bench/java/LuceneBaseline.java (bench mode) so bench/compare.sh can put the
// two side by side.
//
// Exit codes: 0 OK, 1 the run failed (malformed corpus, I/O, index error),
// 2 usage (bad flags, missing input file).
#include <hymir/beir.h>
#include <hymir/document.h>
#include <hymir/index/analyzer.h>
#include <hymir/index/collection_statistics.h>
#include <hymir/index/index_writer.h>
#include <hymir/index/searcher.h>
#include <hymir/index/text_query.h>
#include <hymir/result.h>
#include <hymir/status.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <latch>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "percentile.h"
#include "synthetic_corpus.h"

#ifndef HYMIR_BENCH_VERSION
#define HYMIR_BENCH_VERSION "unknown"
#endif

namespace hymir::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using index::AnalyzerKind;
using index::Searcher;
using index::TextQuery;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the run failed: bad data, I/O, index error
constexpr int kExitUsage = 2;    // bad flags, missing input files

// Documents an indexing thread claims at a time.
constexpr size_t kIndexChunk = 64;
// The two result depths measured (top-10 for a results page, top-1000 for
// re-ranking / evaluation runs), as in the Java baseline.
constexpr size_t kDepths[] = {10, 1000};
// Queries up to which Search() is checked against SearchExhaustive() by default.
constexpr int kDefaultCheckQueries = 100;

struct Options {
  std::string corpus;
  std::string queries;
  std::string work;
  int threads = 1;
  double seconds = 5.0;
  double warmup = 1.0;
  int index_runs = 1;
  int format_version = 0;  // IndexWriterOptions::format_version of every index built
  int num_queries = 1000;
  uint64_t seed = 42;
  std::vector<std::string> hits = {"default", "exhaustive"};
  int check_queries = kDefaultCheckQueries;
  std::string write_queries;
  // --generate
  bool generate = false;
  SyntheticCorpusOptions synthetic;
  std::string keep_corpus;
  // --open: time Searcher::Open on an existing index only
  std::string open_index;
  int open_runs = 5;
  std::string open_query = "search";
};

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void Emit(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void Emit(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stdout, fmt, ap);
  va_end(ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);  // lines appear as they are measured, also through a pipe
}

// ---------------------------------------------------------------- workspace

// The scratch directory: a fresh temporary one (removed on exit) or --work
// (kept, so its indexes can be inspected).
class Workspace {
 public:
  static Result<Workspace> Create(const std::string& work) {
    std::error_code ec;
    if (!work.empty()) {
      fs::create_directories(work, ec);
      if (ec) return Status::IOError(work + ": cannot create --work directory: " + ec.message());
      if (!fs::is_directory(work, ec)) return Status::InvalidArgument(work + ": --work is not a directory");
      return Workspace(work, /*remove=*/false);
    }
    std::string tmpl = (fs::temp_directory_path(ec) / "hymir-bench-XXXXXX").string();
    if (ec) return Status::IOError("no temporary directory: " + ec.message());
    if (::mkdtemp(tmpl.data()) == nullptr) return Status::IOError(tmpl + ": mkdtemp failed");
    return Workspace(tmpl, /*remove=*/true);
  }

  Workspace(Workspace&& other) noexcept : path_(std::move(other.path_)), remove_(other.remove_) {
    other.remove_ = false;
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace() {
    if (remove_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }

  const std::string& path() const { return path_; }

  // A fresh (absent) index directory `name` inside the workspace. An existing
  // one is removed only when it is a hymir index (holds hymir.json) or empty.
  Result<std::string> FreshIndexDir(const std::string& name) const {
    const fs::path dir = fs::path(path_) / name;
    std::error_code ec;
    if (fs::exists(dir, ec)) {
      const bool is_index = fs::exists(dir / "hymir.json", ec);
      if (!is_index && !fs::is_empty(dir, ec)) {
        return Status::InvalidArgument(dir.string() + ": exists and is not a hymir index; not removing it");
      }
      fs::remove_all(dir, ec);
      if (ec) return Status::IOError(dir.string() + ": cannot remove old index: " + ec.message());
    }
    return dir.string();
  }

 private:
  Workspace(std::string path, bool remove) : path_(std::move(path)), remove_(remove) {}

  std::string path_;
  bool remove_;
};

uint64_t TreeBytes(const std::string& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec)) bytes += it->file_size(fec);
  }
  return bytes;
}

// The 1-minute load average ("na" where /proc is absent).
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string first;
  if (!(in >> first)) return "na";
  return first;
}

// ---------------------------------------------------------------- corpus

struct Corpus {
  std::vector<Document> docs;
  // UTF-8 bytes of title + " " + text over all documents: the text the Java
  // baseline indexes, so MB/s figures compare.
  uint64_t body_bytes = 0;
};

Result<Corpus> LoadCorpus(const std::string& path) {
  auto reader = CorpusReader::Open(path);
  if (!reader.ok()) return reader.status();
  Corpus corpus;
  Document doc;
  for (;;) {
    auto more = (*reader)->Next(&doc);
    if (!more.ok()) return more.status();
    if (!*more) break;
    corpus.body_bytes += doc.title.size() + 1 + doc.text.size();
    corpus.docs.push_back(std::move(doc));
    doc = Document();
  }
  if (corpus.docs.empty()) return Status::InvalidArgument(path + ": no documents");
  return corpus;
}

// ---------------------------------------------------------------- indexing

// Indexes all of `docs` into the fresh directory `dir` with `threads` threads
// calling Upsert() concurrently, then commits. Returns the seconds from
// opening the writer to the end of the commit.
Result<double> BuildIndex(const std::string& dir, const std::vector<Document>& docs, int threads, int format_version) {
  const Clock::time_point t0 = Clock::now();
  index::IndexWriterOptions options;
  options.format_version = format_version;
  auto opened = index::IndexWriter::Open(dir, options);
  if (!opened.ok()) return opened.status();
  index::IndexWriter& writer = **opened;

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;  // GUARDED_BY(mu)
  auto work = [&] {
    for (;;) {
      const size_t begin = next.fetch_add(kIndexChunk, std::memory_order_relaxed);
      if (begin >= docs.size() || failed.load(std::memory_order_relaxed)) return;
      const size_t end = std::min(docs.size(), begin + kIndexChunk);
      for (size_t i = begin; i < end; ++i) {
        Status s = writer.Upsert(docs[i]);
        if (!s.ok()) {
          std::lock_guard<std::mutex> g(mu);
          if (first_error.ok()) first_error = std::move(s);
          failed = true;
          return;
        }
      }
    }
  };
  if (threads == 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  }  // joined here
  if (!first_error.ok()) return first_error;
  Status s = writer.Commit();
  if (!s.ok()) return s;
  return SecondsSince(t0);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Indexes the corpus `runs` times with `threads` threads, prints the median,
// and returns the directory of the last index built.
Result<std::string> MeasureIndexing(const Workspace& ws, const Corpus& corpus, int threads, int runs,
                                    int format_version) {
  std::vector<double> secs;
  std::string dir;
  for (int r = 0; r < runs; ++r) {
    auto fresh = ws.FreshIndexDir("index-t" + std::to_string(threads));
    if (!fresh.ok()) return fresh.status();
    dir = *fresh;
    auto s = BuildIndex(dir, corpus.docs, threads, format_version);
    if (!s.ok()) return s.status();
    secs.push_back(*s);
  }
  const double med = Median(secs);
  const double best = *std::min_element(secs.begin(), secs.end());
  const double worst = *std::max_element(secs.begin(), secs.end());
  const double n = static_cast<double>(corpus.docs.size());
  const double mb = static_cast<double>(corpus.body_bytes) / 1e6;
  Emit(
      "hymir index threads=%d docs=%zu mb=%.1f runs=%d seconds=%.3f docs_per_s=%.0f mb_per_s=%.2f "
      "docs_per_s_best=%.0f docs_per_s_worst=%.0f index_bytes=%llu format=%s",
      threads, corpus.docs.size(), mb, runs, med, n / med, mb / med, n / best, n / worst,
      static_cast<unsigned long long>(TreeBytes(dir)),
      format_version == 0 ? "current" : std::to_string(format_version).c_str());
  return dir;
}

// ---------------------------------------------------------------- queries

struct QuerySet {
  std::vector<std::string> ids;
  std::vector<std::string> texts;
  std::string source;
  double avg_terms = 0;
};

std::vector<std::string> Distinct(const std::vector<std::string>& terms) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& t : terms) {
    if (seen.insert(t).second) out.push_back(t);
  }
  return out;
}

Result<QuerySet> LoadQueries(const std::string& path, AnalyzerKind kind) {
  auto records = ReadQueries(path);
  if (!records.ok()) return records.status();
  QuerySet qs;
  qs.source = path;
  size_t terms = 0;
  for (const QueryRecord& q : *records) {
    const size_t n = index::Analyze(kind, q.text).size();
    if (n == 0) continue;  // nothing to search for (the Java baseline skips these too)
    terms += n;
    qs.ids.push_back(q.id);
    qs.texts.push_back(q.text);
  }
  if (qs.texts.empty()) return Status::InvalidArgument(path + ": no query has a searchable term");
  qs.avg_terms = static_cast<double>(terms) / static_cast<double>(qs.texts.size());
  return qs;
}

// `count` queries of 2-3 distinct analysed terms of one random document each,
// with a fixed seed. Terms are kept only if analysing them again gives them
// back (the Porter stemmer is not idempotent), so each query term is an index
// term.
Result<QuerySet> SampleQueries(const std::vector<Document>& docs, AnalyzerKind kind, int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  QuerySet qs;
  qs.source = "random(seed=" + std::to_string(seed) + ",terms=2-3)";
  size_t terms = 0;
  uint64_t attempts = 0;
  while (static_cast<int>(qs.texts.size()) < count) {
    if (++attempts > static_cast<uint64_t>(count) * 1000) {
      return Status::InvalidArgument("corpus too small to sample " + std::to_string(count) + " queries");
    }
    const Document& d = docs[rng() % docs.size()];
    std::vector<std::string> distinct = Distinct(index::Analyze(kind, d.title + " " + d.text));
    const size_t want = 2 + rng() % 2;
    if (distinct.size() < want) continue;
    std::shuffle(distinct.begin(), distinct.end(), rng);
    std::string text;
    size_t picked = 0;
    for (const std::string& t : distinct) {
      if (picked == want) break;
      const std::vector<std::string> again = index::Analyze(kind, t);
      if (again.size() != 1 || again[0] != t) continue;
      if (picked > 0) text += ' ';
      text += t;
      ++picked;
    }
    if (picked < want) continue;
    terms += picked;
    qs.ids.push_back("r" + std::to_string(qs.texts.size()));
    qs.texts.push_back(std::move(text));
  }
  qs.avg_terms = static_cast<double>(terms) / static_cast<double>(qs.texts.size());
  return qs;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Writes the queries as BEIR queries.jsonl (for the Java baseline).
Status WriteQueries(const std::string& path, const QuerySet& qs) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IOError(path + ": cannot create");
  for (size_t i = 0; i < qs.texts.size(); ++i) {
    out << "{\"_id\": " << JsonString(qs.ids[i]) << ", \"text\": " << JsonString(qs.texts[i]) << "}\n";
  }
  out.close();
  if (!out) return Status::IOError(path + ": write failed");
  return Status::OK();
}

std::vector<TextQuery> MakeQueries(const QuerySet& qs, size_t k) {
  std::vector<TextQuery> out;
  out.reserve(qs.texts.size());
  for (const std::string& text : qs.texts) {
    TextQuery q;
    q.text = text;
    q.k = k;
    out.push_back(std::move(q));
  }
  return out;
}

// ---------------------------------------------------------------- pruning

// Postings an exhaustive evaluation scores: the sum of df over the distinct
// analysed query terms in the "all" field.
std::vector<uint64_t> ExhaustivePostings(const Searcher& searcher, const QuerySet& qs) {
  auto stats = searcher.Statistics();
  std::vector<uint64_t> out;
  out.reserve(qs.texts.size());
  for (const std::string& text : qs.texts) {
    uint64_t sum = 0;
    for (const std::string& t : Distinct(index::Analyze(searcher.analyzer(), text))) sum += stats->DocFreq("all", t);
    out.push_back(sum);
  }
  return out;
}

Status MeasurePruning(const Searcher& searcher, const QuerySet& qs, const std::vector<uint64_t>& exhaustive, size_t k) {
  uint64_t scored = 0, docs = 0, all = 0;
  for (size_t i = 0; i < qs.texts.size(); ++i) {
    TextQuery q;
    q.text = qs.texts[i];
    q.k = k;
    index::SearchStats st;
    auto hits = searcher.Search(q, &st);
    if (!hits.ok()) return hits.status().WithContext("query " + qs.ids[i]);
    scored += st.postings_scored;
    docs += st.docs_scored;
    all += exhaustive[i];
  }
  const double n = static_cast<double>(qs.texts.size());
  Emit(
      "hymir pruning k=%zu queries=%zu avg_postings_scored=%.0f avg_postings_exhaustive=%.0f "
      "scored_fraction=%.4f avg_docs_scored=%.0f",
      k, qs.texts.size(), static_cast<double>(scored) / n, static_cast<double>(all) / n,
      all == 0 ? 0.0 : static_cast<double>(scored) / static_cast<double>(all), static_cast<double>(docs) / n);
  return Status::OK();
}

// Compares Search() with SearchExhaustive() on the first `count` queries:
// equal lengths and equal scores rank by rank (ids may differ only among
// scores equal up to rounding).
Status CheckAgainstExhaustive(const Searcher& searcher, const QuerySet& qs, size_t k, int count) {
  const size_t n = std::min(qs.texts.size(), static_cast<size_t>(count));
  size_t score_mismatches = 0, id_mismatches = 0;
  for (size_t i = 0; i < n; ++i) {
    TextQuery q;
    q.text = qs.texts[i];
    q.k = k;
    auto fast = searcher.Search(q);
    if (!fast.ok()) return fast.status().WithContext("query " + qs.ids[i]);
    auto slow = searcher.SearchExhaustive(q);
    if (!slow.ok()) return slow.status().WithContext("query " + qs.ids[i]);
    bool score_bad = fast->size() != slow->size(), id_bad = score_bad;
    for (size_t r = 0; !score_bad && r < fast->size(); ++r) {
      const double a = (*fast)[r].score, b = (*slow)[r].score;
      if (std::abs(a - b) > 1e-9 * std::max(1.0, std::abs(b))) score_bad = true;
      if ((*fast)[r].id != (*slow)[r].id) id_bad = true;
    }
    score_mismatches += score_bad;
    id_mismatches += id_bad;
  }
  Emit("hymir check k=%zu queries=%zu score_mismatches=%zu id_mismatches=%zu", k, n, score_mismatches, id_mismatches);
  return Status::OK();
}

// ---------------------------------------------------------------- search timing

struct Timing {
  uint64_t queries = 0;
  double seconds = 0;
  std::vector<double> latency_ms;  // sorted ascending
};

// Runs `qs` on `threads` threads sharing `searcher` until `seconds` have
// passed and, when `full_pass`, at least qs.size() queries are done. Thread t
// starts at query t * n / threads and cycles through the list.
Result<Timing> TimedSearch(const Searcher& searcher, const std::vector<TextQuery>& qs, int threads, double seconds,
                           bool exhaustive, bool full_pass) {
  const size_t n = qs.size();
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  Status first_error;  // GUARDED_BY(mu)
  std::vector<std::vector<double>> latency(threads);
  std::latch go(1);
  Clock::time_point start, deadline;  // written before go.count_down()
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::vector<double>& lat = latency[t];
        lat.reserve(1 << 14);
        size_t i = static_cast<size_t>(t) * n / static_cast<size_t>(threads);
        go.wait();
        while (!stop.load(std::memory_order_relaxed)) {
          const Clock::time_point a = Clock::now();
          if (a >= deadline && (!full_pass || done.load(std::memory_order_relaxed) >= n)) break;
          auto hits = exhaustive ? searcher.SearchExhaustive(qs[i]) : searcher.Search(qs[i]);
          const Clock::time_point b = Clock::now();
          if (!hits.ok()) {
            std::lock_guard<std::mutex> g(mu);
            if (first_error.ok()) first_error = hits.status();
            stop = true;
            break;
          }
          lat.push_back(std::chrono::duration<double, std::milli>(b - a).count());
          done.fetch_add(1, std::memory_order_relaxed);
          if (++i == n) i = 0;
        }
      });
    }
    start = Clock::now();
    deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    go.count_down();
  }  // joined here
  Timing timing;
  timing.seconds = SecondsSince(start);
  if (!first_error.ok()) return first_error;
  for (auto& l : latency) timing.latency_ms.insert(timing.latency_ms.end(), l.begin(), l.end());
  std::sort(timing.latency_ms.begin(), timing.latency_ms.end());
  timing.queries = timing.latency_ms.size();
  return timing;
}

// Nearest-rank percentile (as the Java baseline), in ms; NaN for no values.
double Percentile(const std::vector<double>& sorted, double q) {
  return sorted.empty() ? NAN : bench::NearestRankPercentile(sorted, q);
}

Status MeasureSearch(const Searcher& searcher, const QuerySet& qs, const Options& o) {
  std::vector<int> thread_counts = {1};
  if (o.threads > 1) thread_counts.push_back(o.threads);
  // Warm-up: each (hits, k) shape once, untimed, so page cache, allocator and
  // the searcher's df cache are warm before anything is measured.
  for (const std::string& mode : o.hits) {
    for (size_t k : kDepths) {
      auto w = TimedSearch(searcher, MakeQueries(qs, k), 1, o.warmup, mode == "exhaustive", /*full_pass=*/false);
      if (!w.ok()) return w.status();
    }
  }
  for (const std::string& mode : o.hits) {
    for (size_t k : kDepths) {
      const std::vector<TextQuery> queries = MakeQueries(qs, k);
      for (int threads : thread_counts) {
        auto r = TimedSearch(searcher, queries, threads, o.seconds, mode == "exhaustive", /*full_pass=*/true);
        if (!r.ok()) return r.status();
        double mean = 0;
        for (double l : r->latency_ms) mean += l;
        mean /= std::max<double>(1, static_cast<double>(r->queries));
        Emit(
            "hymir search k=%zu threads=%d hits=%s qps=%.1f p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f queries=%llu "
            "seconds=%.2f",
            k, threads, mode.c_str(), static_cast<double>(r->queries) / r->seconds, Percentile(r->latency_ms, 0.50),
            Percentile(r->latency_ms, 0.99), mean, static_cast<unsigned long long>(r->queries), r->seconds);
      }
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------- main flow

int Fail(const Status& s, bool usage = false) {
  std::fprintf(stderr, "hymir-bench: error: %s\n", s.ToString().c_str());
  return usage || s.IsNotFound() ? kExitUsage : kExitFailure;
}

// Inputs are checked before any work, so a typo fails at once.
Status CheckInputFile(const std::string& path, const char* flag) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(path + ": no such file (" + flag + ")");
  if (fs::is_directory(path, ec)) return Status::NotFound(path + ": is a directory, expected a file (" + flag + ")");
  return Status::OK();
}

// Searcher::Open on an existing index, --open-runs times; then one query, so
// that the open is shown to have produced a searcher that answers.
int RunOpen(const Options& o) {
  Emit("# hymir-bench %s: Searcher::Open on an existing index (%d runs)", HYMIR_BENCH_VERSION, o.open_runs);
  Emit("hymir info version=%s loadavg=%s index=%s", HYMIR_BENCH_VERSION, LoadAverage().c_str(), o.open_index.c_str());
  std::vector<double> seconds;
  uint64_t docs = 0;
  for (int run = 0; run < o.open_runs; ++run) {
    const Clock::time_point t0 = Clock::now();
    auto searcher = Searcher::Open(o.open_index);
    if (!searcher.ok()) return Fail(searcher.status());
    seconds.push_back(SecondsSince(t0));
    docs = (*searcher)->NumDocs();
    TextQuery q;
    q.text = o.open_query;
    q.k = 10;
    const Clock::time_point t1 = Clock::now();
    auto hits = (*searcher)->Search(q);
    if (!hits.ok()) return Fail(hits.status());
    Emit("hymir open run=%d docs=%llu seconds=%.3f first_query_seconds=%.4f first_query_hits=%zu", run + 1,
         static_cast<unsigned long long>(docs), seconds.back(), SecondsSince(t1), hits->size());
  }
  std::sort(seconds.begin(), seconds.end());
  Emit("hymir open_summary docs=%llu runs=%d min_seconds=%.3f median_seconds=%.3f max_seconds=%.3f",
       static_cast<unsigned long long>(docs), o.open_runs, seconds.front(), seconds[seconds.size() / 2],
       seconds.back());
  return 0;
}

int Run(const Options& o) {
  if (!o.open_index.empty()) return RunOpen(o);
  const Clock::time_point t_start = Clock::now();
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  if (!o.generate) {
    Status s = CheckInputFile(o.corpus, "--corpus");
    if (!s.ok()) return Fail(s);
  }
  if (!o.queries.empty()) {
    Status s = CheckInputFile(o.queries, "--queries");
    if (!s.ok()) return Fail(s);
  }
  auto ws = Workspace::Create(o.work);
  if (!ws.ok()) return Fail(ws.status());

  std::string corpus_path = o.corpus;
  if (o.generate) {
    corpus_path = o.keep_corpus.empty() ? (fs::path(ws->path()) / "corpus.jsonl").string() : o.keep_corpus;
  }
  Emit(
      "# hymir-bench %s: indexing (IndexWriter, 1 and N threads) and BM25 search (Searcher, k=10/1000, "
      "1 and N threads); one figure per line, key=value",
      HYMIR_BENCH_VERSION);
  // Load average at the start: other work on the machine skews every figure.
  Emit("hymir info version=%s cpus=%u threads=%d seconds=%.1f warmup=%.1f loadavg=%s corpus=%s work=%s",
       HYMIR_BENCH_VERSION, cpus, o.threads, o.seconds, o.warmup, LoadAverage().c_str(), corpus_path.c_str(),
       ws->path().c_str());

  if (o.generate) {
    const Clock::time_point t0 = Clock::now();
    auto info = WriteSyntheticCorpus(corpus_path, o.synthetic);
    if (!info.ok()) return Fail(info.status(), info.status().IsInvalidArgument());
    Emit(
        "hymir generate docs=%llu vocab=%llu zipf=%.2f mean_doc_len=%.1f seed=%llu tokens=%llu file_mb=%.1f "
        "seconds=%.2f path=%s",
        static_cast<unsigned long long>(info->docs), static_cast<unsigned long long>(o.synthetic.vocab),
        o.synthetic.zipf, o.synthetic.mean_doc_len, static_cast<unsigned long long>(o.synthetic.seed),
        static_cast<unsigned long long>(info->tokens), static_cast<double>(info->bytes) / 1e6, SecondsSince(t0),
        corpus_path.c_str());
  }

  // Read everything first: indexing is timed from memory, as in the baseline.
  const Clock::time_point t_read = Clock::now();
  auto corpus = LoadCorpus(corpus_path);
  if (!corpus.ok()) return Fail(corpus.status());
  Emit("hymir corpus docs=%zu mb=%.1f read_seconds=%.2f", corpus->docs.size(),
       static_cast<double>(corpus->body_bytes) / 1e6, SecondsSince(t_read));

  // Indexing: 1 thread, then N threads (each into a fresh directory).
  auto dir = MeasureIndexing(*ws, *corpus, 1, o.index_runs, o.format_version);
  if (!dir.ok()) return Fail(dir.status());
  if (o.threads > 1) {
    std::error_code ec;
    if (o.work.empty()) fs::remove_all(*dir, ec);  // free the disk; the N-thread index is searched
    dir = MeasureIndexing(*ws, *corpus, o.threads, o.index_runs, o.format_version);
    if (!dir.ok()) return Fail(dir.status());
  }

  const Clock::time_point t_open = Clock::now();
  auto searcher = Searcher::Open(*dir);
  if (!searcher.ok()) return Fail(searcher.status());
  Emit("hymir open docs=%llu seconds=%.3f", static_cast<unsigned long long>((*searcher)->NumDocs()),
       SecondsSince(t_open));

  const AnalyzerKind kind = (*searcher)->analyzer();
  auto qs = o.queries.empty() ? SampleQueries(corpus->docs, kind, o.num_queries, o.seed) : LoadQueries(o.queries, kind);
  if (!qs.ok()) return Fail(qs.status());
  if (!o.write_queries.empty()) {
    Status s = WriteQueries(o.write_queries, *qs);
    if (!s.ok()) return Fail(s);
  }
  // The corpus text is no longer needed; give its memory back before searching.
  corpus = Corpus();

  const std::vector<uint64_t> exhaustive = ExhaustivePostings(**searcher, *qs);
  double avg_df_sum = 0;
  for (uint64_t e : exhaustive) avg_df_sum += static_cast<double>(e);
  Emit("hymir queries n=%zu source=%s avg_terms=%.2f avg_sum_df=%.0f", qs->texts.size(), qs->source.c_str(),
       qs->avg_terms, avg_df_sum / static_cast<double>(qs->texts.size()));

  for (size_t k : kDepths) {
    Status s = MeasurePruning(**searcher, *qs, exhaustive, k);
    if (!s.ok()) return Fail(s);
  }
  if (o.check_queries > 0) {
    for (size_t k : kDepths) {
      Status s = CheckAgainstExhaustive(**searcher, *qs, k, o.check_queries);
      if (!s.ok()) return Fail(s);
    }
  }
  Status s = MeasureSearch(**searcher, *qs, o);
  if (!s.ok()) return Fail(s);
  Emit("hymir done seconds=%.1f loadavg=%s", SecondsSince(t_start), LoadAverage().c_str());
  return kExitOk;
}

}  // namespace
}  // namespace hymir::bench

int main(int argc, char** argv) {
  using hymir::bench::Options;
  Options o;
  o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  CLI::App app{
      "hymir-bench: end-to-end indexing and BM25 search benchmark of hymir.\n"
      "Indexes a BEIR corpus (or a generated Zipfian one) with 1 and N threads, then measures\n"
      "query latency and throughput at k=10 and k=1000 with 1 and N threads sharing a Searcher.\n"
      "Prints one `hymir <what> key=value ...` line per figure.",
      "hymir-bench"};
  auto* corpus = app.add_option("--corpus", o.corpus, "BEIR corpus.jsonl to index (read into memory first)");
  auto* generate = app.add_option("--generate", o.synthetic.docs,
                                  "Generate this many synthetic documents instead of --corpus (Zipfian words)")
                       ->expected(0, 1)
                       ->default_str("1000000")
                       ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  corpus->excludes(generate);
  app.add_option("--queries", o.queries,
                 "BEIR queries.jsonl; default: --num-queries random 2-3-term queries from analysed documents");
  app.add_option("--work", o.work,
                 "Directory for indexes (kept afterwards); default: a temporary directory, removed at exit");
  app.add_option("--threads", o.threads, "Threads for the N-thread indexing and search runs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", o.seconds, "Seconds per search configuration (at least one pass over the queries)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "Untimed warm-up seconds per (hits, k) before the timed search runs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--index-runs", o.index_runs, "Indexing runs per thread count (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--format-version", o.format_version,
                 "On-disk format of the indexes built (1: \"all\" indexed, text stored raw; 2: current; 0: current)")
      ->capture_default_str()
      ->check(CLI::Range(0, 2));
  app.add_option("--num-queries", o.num_queries, "Random queries to sample when --queries is absent")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  app.add_option("--seed", o.seed, "Seed for query sampling")->capture_default_str();
  app.add_option("--hits", o.hits,
                 "Search modes, comma-separated: default (Search, MaxScore pruning), exhaustive (SearchExhaustive)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::IsMember({"default", "exhaustive"}));
  app.add_option("--check", o.check_queries, "Queries checked Search vs SearchExhaustive (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000000));
  app.add_option("--write-queries", o.write_queries,
                 "Write the queries used as BEIR queries.jsonl here (e.g. for the Java baseline)");
  app.add_option("--vocab", o.synthetic.vocab, "--generate: distinct words")
      ->capture_default_str()
      ->needs(generate)
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  app.add_option("--zipf", o.synthetic.zipf, "--generate: Zipf exponent s (P(rank r) ~ 1/r^s)")
      ->capture_default_str()
      ->needs(generate)
      ->check(CLI::NonNegativeNumber);
  app.add_option("--doc-len", o.synthetic.mean_doc_len, "--generate: mean document length in tokens")
      ->capture_default_str()
      ->needs(generate)
      ->check(CLI::Range(1.0, 1e6));
  app.add_option("--open", o.open_index,
                 "Only time Searcher::Open on this existing index (then one query per open), --open-runs times")
      ->excludes(corpus)
      ->excludes(generate);
  app.add_option("--open-query", o.open_query, "--open: the query run after each open")->capture_default_str();
  app.add_option("--open-runs", o.open_runs, "--open: number of opens")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--keep-corpus", o.keep_corpus, "--generate: write the corpus here and keep it")->needs(generate);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return hymir::bench::kExitUsage;
  }
  o.generate = generate->count() > 0;
  if (!o.generate && o.corpus.empty() && o.open_index.empty()) {
    std::fprintf(stderr, "hymir-bench: error: give --corpus FILE, --generate [N] or --open INDEX\n%s",
                 app.help().c_str());
    return hymir::bench::kExitUsage;
  }
  if (o.generate && o.synthetic.docs == 0) o.synthetic.docs = 1'000'000;
  try {
    return hymir::bench::Run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hymir-bench: error: %s\n", e.what());
    return hymir::bench::kExitFailure;
  }
}
