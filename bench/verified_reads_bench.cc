// hymir-verified-reads-bench: what verifying every byte a query reads costs,
// and whether damage in what queries read ever gives a silent wrong answer
// (see bench/README.md).
//
// Cost (default): the index is copied once without its block checksums (its
// manifest rewritten without the BLOCKS_ line, as an index written before
// them: its large files are then read as Lucene++ reads them, unverified,
// after one whole-file checksum at open). The two copies are then opened in
// turn, `--rounds` times: open time, the first query after open, the first
// pass over all queries (every term read for the first time), then BM25 QPS
// at top 10 and top 1000 after a warm-up pass. Ratios are verified / unverified
// from the same run.
//
// Damage (--damage N): N trials on a copy of the index, each a one-bit flip at
// a random byte inside the postings (.frq) or positions (.prx) of a random
// query term, or inside the stored record (.fdt) of a random hit, then the
// term's top 10 and top 1000, a sloppy phrase with it, and the stored text of
// its top hits, compared with the undamaged index. Each trial is an error
// naming the file, answers identical to the undamaged ones, or a silent wrong
// answer (counted and printed).
//
// Links Lucene++ directly (as hymir-ann-bench links FAISS for its baseline),
// only to find where a term's postings lie in the segment files.
//
// Exit codes: 0 OK, 1 the run failed or a silent wrong answer, 2 usage.
#include <hymir/index/analyzer.h>
#include <hymir/index/searcher.h>
#include <hymir/index/text_query.h>
#include <hymir/beir.h>
#include <lucene++/LuceneHeaders.h>
#include <lucene++/SegmentReader.h>
#include <lucene++/SegmentTermEnum.h>
#include <zlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A copy of `dir` whose manifest lists no block checksums (docs/format.md).
bool CopyWithoutBlockChecksums(const std::string& dir, const std::string& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::copy(dir, to, fs::copy_options::recursive, ec);
  if (ec) return false;
  std::istringstream in(Slurp(to + "/MANIFEST"));
  std::string body, line;
  while (std::getline(in, line)) {
    if (line.find(" BLOCKS_") != std::string::npos || line.rfind("crc32 ", 0) == 0) continue;
    body += line + "\n";
  }
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08lx", ::crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size()));
  std::ofstream(to + "/MANIFEST", std::ios::trunc | std::ios::binary) << body << "crc32 " << crc << "\n";
  for (const auto& e : fs::directory_iterator(to)) {
    if (e.path().filename().string().rfind("BLOCKS_", 0) == 0) fs::remove(e.path(), ec);
  }
  return true;
}

struct Cost {
  double open = 0, first = 0, cold_pass = 0, qps10 = 0, qps1000 = 0;
};

double Qps(const hymir::index::Searcher& s, const std::vector<std::string>& queries, size_t k, double seconds) {
  size_t n = 0;
  const auto t0 = Clock::now();
  do {
    for (const auto& q : queries) {
      hymir::index::TextQuery tq;
      tq.text = q;
      tq.k = k;
      if (!s.Search(tq).ok()) return -1;
      ++n;
    }
  } while (Seconds(t0, Clock::now()) < seconds);
  return n / Seconds(t0, Clock::now());
}

bool Measure(const std::string& dir, const std::vector<std::string>& queries, size_t first, double seconds, Cost* c) {
  const auto t0 = Clock::now();
  auto s = hymir::index::Searcher::Open(dir);
  const auto t1 = Clock::now();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
    return false;
  }
  hymir::index::TextQuery tq;
  tq.text = queries[first % queries.size()];
  tq.k = 10;
  if (!(*s)->Search(tq).ok()) return false;
  const auto t2 = Clock::now();
  for (const auto& q : queries) {
    tq.text = q;
    if (!(*s)->Search(tq).ok()) return false;
  }
  const auto t3 = Clock::now();
  c->open = Seconds(t0, t1);
  c->first = Seconds(t1, t2);
  c->cold_pass = Seconds(t2, t3);
  Qps(**s, queries, 1000, 0);  // warm-up at both depths
  c->qps10 = Qps(**s, queries, 10, seconds);
  c->qps1000 = Qps(**s, queries, 1000, seconds);
  return c->qps10 > 0 && c->qps1000 > 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// ---- damage ----

struct Range {
  std::string file;  // relative to <index>/text
  int64_t begin = 0, end = 0;
};

std::wstring Wide(const std::string& s) { return Lucene::StringUtils::toUnicode(s); }

// The .frq and .prx ranges of `term` in field "text" of every segment.
std::vector<Range> TermRanges(const Lucene::IndexReaderPtr& reader, const std::string& term, bool prx) {
  std::vector<Range> out;
  Lucene::Collection<Lucene::IndexReaderPtr> subs = reader->getSequentialSubReaders();
  std::vector<Lucene::IndexReaderPtr> segs;
  if (subs) {
    for (auto it = subs.begin(); it != subs.end(); ++it) segs.push_back(*it);
  } else {
    segs.push_back(reader);
  }
  for (const auto& r : segs) {
    auto seg = boost::dynamic_pointer_cast<Lucene::SegmentReader>(r);
    if (!seg) continue;
    auto terms = r->terms(Lucene::newLucene<Lucene::Term>(L"text", Wide(term)));
    auto e = boost::dynamic_pointer_cast<Lucene::SegmentTermEnum>(terms);
    if (e && e->term() && e->term()->field() == L"text" && e->term()->text() == Wide(term)) {
      Range x;
      x.file = Lucene::StringUtils::toUTF8(seg->getSegmentName()) + (prx ? ".prx" : ".frq");
      x.begin = prx ? e->proxPointer() : e->freqPointer();
      if (e->next()) {
        x.end = prx ? e->proxPointer() : e->freqPointer();
        if (x.end > x.begin) out.push_back(x);
      }
    }
    terms->close();
  }
  return out;
}

void FlipBit(const std::string& path, int64_t at, int bit) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ (1 << bit));
  f.seekp(at);
  f.write(&c, 1);
}

// What the trial compares: the term's hits at two depths, a sloppy phrase
// with a second term, and the stored text of `docs`.
hymir::Result<std::string> Answers(const std::string& dir, const std::string& term, const std::string& other,
                                   const std::vector<std::string>& docs) {
  auto s = hymir::index::Searcher::Open(dir);
  if (!s.ok()) return s.status();
  std::ostringstream out;
  for (size_t k : {size_t{10}, size_t{1000}}) {
    hymir::index::TextQuery tq;
    tq.text = term;
    tq.k = k;
    auto hits = (*s)->Search(tq);
    if (!hits.ok()) return hits.status();
    for (const auto& h : *hits) out << h.id << ":" << h.score << " ";
    out << "\n";
  }
  hymir::index::TextQuery phrase;
  phrase.text = "\"" + term + " " + other + "\"~20";
  phrase.syntax = hymir::QuerySyntax::kLucene;
  phrase.k = 100;
  auto hits = (*s)->Search(phrase);
  if (!hits.ok()) return hits.status();
  for (const auto& h : *hits) out << h.id << ":" << h.score << " ";
  out << "\n";
  for (const auto& id : docs) {
    auto d = (*s)->GetDocument(id);
    if (!d.ok()) return d.status();
    out << d->title << "|" << d->text << "\n";
  }
  return out.str();
}

int Damage(const std::string& dir, const std::vector<std::string>& terms, int trials, unsigned seed) {
  const std::string copy = dir + ".damage";
  std::error_code ec;
  fs::remove_all(copy, ec);
  fs::copy(dir, copy, fs::copy_options::recursive, ec);
  if (ec) {
    std::fprintf(stderr, "cannot copy %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  auto directory = Lucene::FSDirectory::open(Wide(copy + "/text"));
  auto reader = Lucene::IndexReader::open(directory, true);
  std::mt19937 rng(seed);
  int errors = 0, identical = 0, silent = 0, done = 0;
  std::map<std::string, int> by_kind;
  while (done < trials) {
    const std::string term = terms[rng() % terms.size()];
    const std::string other = terms[rng() % terms.size()];
    const int kind = static_cast<int>(rng() % 3);  // 0 .frq, 1 .prx, 2 .fdt
    // The stored text of the term's top hits is part of every answer.
    std::vector<std::string> docs;
    std::string expected;
    {
      auto s = hymir::index::Searcher::Open(copy);
      if (!s.ok()) return 1;
      hymir::index::TextQuery tq;
      tq.text = term;
      tq.k = 3;
      auto hits = (*s)->Search(tq);
      if (!hits.ok() || hits->empty()) continue;
      for (const auto& h : *hits) docs.push_back(h.id);
    }
    Range r;
    if (kind < 2) {
      auto ranges = TermRanges(reader, term, kind == 1);
      if (ranges.empty()) continue;
      r = ranges[rng() % ranges.size()];
    } else {
      // The stored record of the term's first hit, from the segment's .fdx.
      auto td = reader->termDocs(Lucene::newLucene<Lucene::Term>(L"_id", Wide(docs[0])));
      if (!td->next()) continue;
      int32_t doc = td->doc();
      td->close();
      Lucene::Collection<Lucene::IndexReaderPtr> subs = reader->getSequentialSubReaders();
      std::string segment;
      for (auto it = subs.begin(); it != subs.end() && segment.empty(); ++it) {
        if (doc < (*it)->maxDoc()) {
          segment =
              Lucene::StringUtils::toUTF8(boost::dynamic_pointer_cast<Lucene::SegmentReader>(*it)->getSegmentName());
        } else {
          doc -= (*it)->maxDoc();
        }
      }
      const std::string fdx = Slurp(copy + "/text/" + segment + ".fdx");
      auto at = [&](size_t p) {
        uint64_t v = 0;
        for (size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(fdx[p + i]);
        return static_cast<int64_t>(v);
      };
      if (fdx.size() < 4 + 8 * (size_t(doc) + 2)) continue;
      r.file = segment + ".fdt";
      r.begin = at(4 + 8 * size_t(doc));
      r.end = at(4 + 8 * (size_t(doc) + 1));
      if (r.end <= r.begin) continue;
    }
    auto before = Answers(copy, term, other, docs);
    if (!before.ok()) {
      std::fprintf(stderr, "undamaged copy fails: %s\n", before.status().ToString().c_str());
      return 1;
    }
    const int64_t pos = r.begin + static_cast<int64_t>(rng() % static_cast<uint64_t>(r.end - r.begin));
    const int bit = static_cast<int>(rng() % 8);
    const std::string path = copy + "/text/" + r.file;
    FlipBit(path, pos, bit);
    auto got = Answers(copy, term, other, docs);
    FlipBit(path, pos, bit);
    ++done;
    const char* outcome;
    if (!got.ok()) {
      const bool named = got.status().message().find(r.file) != std::string::npos;
      outcome = named ? "error" : "error-unnamed";
      if (named) {
        ++errors;
      } else {
        ++silent;  // an error that does not name the file counts against the bar
      }
    } else if (*got == *before) {
      outcome = "identical";
      ++identical;
    } else {
      outcome = "SILENT";
      ++silent;
    }
    ++by_kind[r.file.substr(r.file.rfind('.')) + " " + outcome];
    std::printf("hymir damage trial=%d term=%s file=%s byte=%lld bit=%d range=%lld outcome=%s%s%s\n", done,
                term.c_str(), r.file.c_str(), static_cast<long long>(pos), bit, static_cast<long long>(r.end - r.begin),
                outcome, got.ok() ? "" : " message=", got.ok() ? "" : got.status().message().substr(0, 160).c_str());
    std::fflush(stdout);
  }
  reader->close();
  directory->close();
  fs::remove_all(copy, ec);
  for (const auto& [k, n] : by_kind) std::printf("hymir damage-summary %s=%d\n", k.c_str(), n);
  std::printf("hymir damage trials=%d errors_naming_the_file=%d identical=%d silent_wrong=%d\n", done, errors,
              identical, silent);
  return silent == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("hymir-verified-reads-bench: cost of verified reads, and a one-bit damage campaign");
  std::string dir, queries_path;
  int rounds = 3, damage = 0;
  double seconds = 3;
  size_t max_queries = 500;
  unsigned seed = 1;
  app.add_option("--index", dir, "Index directory (hymir index)")->required()->check(CLI::ExistingDirectory);
  app.add_option("--queries", queries_path, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  app.add_option("--max-queries", max_queries, "Queries used")->capture_default_str();
  app.add_option("--rounds", rounds, "Open/measure rounds per copy, interleaved")->capture_default_str();
  app.add_option("--seconds", seconds, "Seconds per QPS measurement")->capture_default_str();
  app.add_option("--damage", damage, "Run this many damage trials instead of the cost measurement");
  app.add_option("--seed", seed, "Damage trials' seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto records = hymir::ReadQueries(queries_path);
  if (!records.ok()) {
    std::fprintf(stderr, "%s\n", records.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> queries;
  for (const auto& r : *records) {
    if (queries.size() == max_queries) break;
    queries.push_back(r.text);
  }
  if (queries.empty()) return 2;
  if (damage > 0) {
    auto s = hymir::index::Searcher::Open(dir);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      return 1;
    }
    std::set<std::string> terms;
    for (const auto& q : queries) {
      for (auto& t : hymir::index::Analyze((*s)->analyzer(), q)) terms.insert(t);
    }
    return Damage(dir, std::vector<std::string>(terms.begin(), terms.end()), damage, seed);
  }

  const std::string unverified = dir + ".unverified";
  if (!CopyWithoutBlockChecksums(dir, unverified)) {
    std::fprintf(stderr, "cannot copy %s\n", dir.c_str());
    return 1;
  }
  std::printf("# hymir-verified-reads-bench index=%s queries=%zu rounds=%d seconds=%.1f\n", dir.c_str(), queries.size(),
              rounds, seconds);
  std::vector<double> open_r, first_r, cold_r, q10_r, q1000_r;
  for (int round = 0; round < rounds; ++round) {
    Cost before, after;
    // Alternate which copy goes first.
    for (int i = 0; i < 2; ++i) {
      const bool verified = (i + round) % 2 == 0;
      if (!Measure(verified ? dir : unverified, queries, static_cast<size_t>(round), seconds,
                   verified ? &after : &before)) {
        return 1;
      }
    }
    for (const auto& [name, c] : {std::pair<const char*, Cost>{"unverified", before}, {"verified", after}}) {
      std::printf(
          "hymir round=%d copy=%s open_ms=%.2f first_query_ms=%.3f cold_pass_ms=%.1f qps_top10=%.0f "
          "qps_top1000=%.0f\n",
          round, name, c.open * 1e3, c.first * 1e3, c.cold_pass * 1e3, c.qps10, c.qps1000);
    }
    open_r.push_back(after.open / before.open);
    first_r.push_back(after.first / before.first);
    cold_r.push_back(after.cold_pass / before.cold_pass);
    q10_r.push_back(after.qps10 / before.qps10);
    q1000_r.push_back(after.qps1000 / before.qps1000);
  }
  std::printf(
      "hymir ratio verified/unverified (median of %d rounds): open=%.3f first_query=%.3f cold_pass=%.3f "
      "qps_top10=%.3f qps_top1000=%.3f\n",
      rounds, Median(open_r), Median(first_r), Median(cold_r), Median(q10_r), Median(q1000_r));
  std::error_code ec;
  fs::remove_all(unverified, ec);
  return 0;
}
