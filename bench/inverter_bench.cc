// hymir-inverter-bench: the inverted-index part of indexing (what Lucene++'s
// DocumentsWriter does), hymir's segment inverter against Lucene++'s
// IndexWriter, in the same run. The corpus is analysed once beforehand with
// hymir's chain and laid out as hymir's index writer lays out a document
// (_id, _src, title and text tokens, _len terms); each pass then writes one
// segment and its commit into a fresh directory: Lucene++ through
// IndexWriter (as hymir opens it, one flush: a RAM buffer of --ram-mb), hymir
// through SegmentInverter. CPU time per pass, the two alternated ROUNDS
// times, fastest pass of each and their ratio. After the passes the two
// directories are compared file by file (byte-identical when Lucene++ made
// one segment).
//
//   hymir-inverter-bench --corpus CORPUS.jsonl [--copies 1] [--rounds 3] [--dir /tmp/x]
#include <lucene++/LuceneHeaders.h>
#include <lucene++/SerialMergeScheduler.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "hymir/beir.h"
#include "index/lucene/analysis.h"
#include "index/lucene/analysis_chain.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/segment_inverter.h"
#include "index/lucene/stored_source.h"
#include "index/vector/manifest.h"

namespace {

namespace hi = hymir::index::internal;
namespace fs = std::filesystem;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Doc {
  std::wstring id, len_title, len_text;
  std::string src;
  hi::TokenBuffer title, text;
  std::vector<hi::InvertField> fields;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hymir-inverter-bench: hymir's segment inverter against Lucene++'s IndexWriter, same run"};
  std::string corpus, dir = (fs::temp_directory_path() / "hymir-inverter-bench").string();
  int rounds = 3, copies = 1;
  double ram_mb = 1900;
  app.add_option("--corpus", corpus, "BEIR corpus.jsonl")->required();
  app.add_option("--copies", copies, "the corpus this many times over, ids suffixed -0, -1, ... (default 1)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--rounds", rounds, "passes of each writer, alternating; the fastest counts (default 3)")
      ->check(CLI::Range(1, 100));
  app.add_option("--ram-mb", ram_mb, "Lucene++'s RAM buffer (default 1900, the most it takes: one flush)");
  app.add_option("--dir", dir, "scratch directory (emptied)");
  CLI11_PARSE(app, argc, argv);
  auto reader = hymir::CorpusReader::Open(corpus);
  if (!reader.ok()) {
    std::fprintf(stderr, "hymir-inverter-bench: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  std::vector<hymir::Document> raw;
  for (hymir::Document doc;;) {
    auto more = (*reader)->Next(&doc);
    if (!more.ok()) {
      std::fprintf(stderr, "hymir-inverter-bench: %s\n", more.status().ToString().c_str());
      return 1;
    }
    if (!*more) break;
    raw.push_back(doc);
  }
  const hi::TextAnalysis analysis(hymir::index::AnalyzerKind::kEnglish, false);
  std::deque<Doc> docs;
  size_t bytes = 0;
  for (int c = 0; c < copies; ++c) {
    for (const hymir::Document& r : raw) {
      Doc& d = docs.emplace_back();
      d.id = hi::Wide(copies == 1 ? r.id : r.id + "-" + std::to_string(c));
      d.src = hi::EncodeSource(r.title, r.text);
      analysis.AnalyzeInto(analysis.Decode(r.title), &d.title);
      analysis.AnalyzeInto(analysis.Decode(r.text), &d.text);
      d.len_title = std::to_wstring(d.title.size());
      d.len_text = std::to_wstring(d.text.size());
      bytes += r.title.size() + r.text.size();
      using K = hi::InvertField::Kind;
      hi::InvertField f;
      f.kind = K::kKeyword, f.name = hi::kIdField, f.text = d.id, f.stored = true;
      d.fields.push_back(f);
      f = {}, f.kind = K::kStoredBinary, f.name = hi::kSourceField, f.value = d.src;
      d.fields.push_back(f);
      f = {}, f.kind = K::kTokens, f.name = hi::kTextFieldsW[0], f.tokens = {&d.title};
      d.fields.push_back(f);
      f = {}, f.kind = K::kKeyword, f.name = hi::kLenFieldsW[0], f.text = d.len_title;
      d.fields.push_back(f);
      f = {}, f.kind = K::kTokens, f.name = hi::kTextFieldsW[1], f.tokens = {&d.text};
      d.fields.push_back(f);
      f = {}, f.kind = K::kKeyword, f.name = hi::kLenFieldsW[1], f.text = d.len_text;
      d.fields.push_back(f);
    }
  }
  const std::string a = dir + "/lucenepp", b = dir + "/hymir";
  double best[2] = {1e300, 1e300};
  int64_t version = 0;
  for (int r = 0; r < rounds; ++r) {
    for (int c = 0; c < 2; ++c) {
      const std::string out = c == 0 ? a : b;
      fs::remove_all(out);
      fs::create_directories(out);
      const double t0 = CpuSeconds();
      if (c == 0) {
        auto directory = Lucene::FSDirectory::open(hi::Wide(out));
        auto writer = Lucene::newLucene<Lucene::IndexWriter>(directory, Lucene::newLucene<Lucene::WhitespaceAnalyzer>(),
                                                             true, Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
        writer->setMergeScheduler(Lucene::newLucene<Lucene::SerialMergeScheduler>());
        writer->setRAMBufferSizeMB(ram_mb);
        writer->setUseCompoundFile(false);
        for (const Doc& d : docs) {
          writer->updateDocument(Lucene::newLucene<Lucene::Term>(hi::kIdField, d.id), hi::ToLuceneDocument(d.fields));
        }
        Lucene::MapStringString data = Lucene::MapStringString::newInstance();
        data.put(hi::kGenerationKey, L"1");
        writer->commit(data);
        writer->close();
        directory->close();
      } else {
        hi::SegmentInverter inverter;
        for (const Doc& d : docs) {
          if (hymir::Status s = inverter.AddDocument(d.fields); !s.ok()) {
            std::fprintf(stderr, "hymir-inverter-bench: %s\n", s.ToString().c_str());
            return 1;
          }
        }
        auto seg = inverter.Flush(out, "_0");
        if (!seg.ok() || !hi::WriteCommitPoint(out, 2, version, 1, {seg.value()}, {{hi::kGenerationKey, L"1"}}).ok()) {
          std::fprintf(stderr, "hymir-inverter-bench: flush failed\n");
          return 1;
        }
      }
      best[c] = std::min(best[c], CpuSeconds() - t0);
      if (c == 0) {  // the next commit of hymir's gets Lucene++'s version
        const std::string seg = ReadAll(fs::path(a) / "segments_2");
        version = 0;
        for (int i = 4; i < 12 && i < static_cast<int>(seg.size()); ++i) version = (version << 8) | uint8_t(seg[i]);
      }
    }
  }
  size_t same = 0, differ = 0, size_a = 0, size_b = 0;
  for (const auto& e : fs::directory_iterator(b)) {
    const std::string n = e.path().filename().string();
    const std::string y = ReadAll(e.path()), x = ReadAll(fs::path(a) / n);
    size_b += y.size();
    (x == y ? same : differ)++;
    if (x != y) std::printf("differs: %s\n", n.c_str());
  }
  for (const auto& e : fs::directory_iterator(a)) size_a += fs::file_size(e.path());
  std::printf("corpus %s x%d: %zu docs, %.1f MB; fastest of %d passes, CPU time\n", corpus.c_str(), copies, docs.size(),
              bytes / 1e6, rounds);
  for (int c = 0; c < 2; ++c) {
    std::printf("%-9s %8.3f s  %9.0f docs/s  %6.1f MB on disk\n", c == 0 ? "lucene++" : "hymir", best[c],
                docs.size() / best[c], (c == 0 ? size_a : size_b) / 1e6);
  }
  std::printf("ratio hymir/lucene++ (docs/s): %.2fx; files: %zu identical, %zu differ\n", best[0] / best[1], same,
              differ);
  fs::remove_all(dir);
  return differ == 0 ? 0 : 3;
}
