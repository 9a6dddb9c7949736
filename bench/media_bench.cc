// hymir-media-bench: the media pipeline's speed on a real image tree, with
// the baselines in the same run. Ingest throughput (images/s) at 1 and 2
// threads; query latency p50/p99 of query by example through the Engine
// (colour + texture lists fused, and colour alone) against a raw FAISS flat
// inner-product search of the same vectors; and the cost of describing a
// query image read from its file. A benchmark program, not a test.
//
//   build/bin/hymir-media-bench [--dir /usr/share/tuxpaint/stamps] [--queries 300] [--k 10] [--depth 100]
#include <faiss/IndexFlat.h>
#include <hymir/engine.h>
#include <hymir/media/media_collection.h>
#include <hymir/media/media_describer.h>
#include <hymir/media/media_ingest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "percentile.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

int Die(const hymir::Status& s) {
  std::fprintf(stderr, "hymir-media-bench: %s\n", s.ToString().c_str());
  return 1;
}

struct Latency {
  std::vector<double> ms;
  void Print(const char* what, double baseline_p50 = 0) {
    std::sort(ms.begin(), ms.end());
    const double p50 = hymir::bench::NearestRankPercentile(ms, 0.5),
                 p99 = hymir::bench::NearestRankPercentile(ms, 0.99);
    std::printf("  %-52s p50 %7.3f ms  p99 %7.3f ms", what, p50, p99);
    if (baseline_p50 > 0) std::printf("  (%.1fx raw FAISS p50)", p50 / baseline_p50);
    std::printf("\n");
  }
  double p50() {
    std::sort(ms.begin(), ms.end());
    return hymir::bench::NearestRankPercentile(ms, 0.5);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/usr/share/tuxpaint/stamps";
  size_t num_queries = 300, k = 10, depth = 100;
  int words = 256;
  CLI::App app{"hymir-media-bench: media ingest throughput and query latency vs raw FAISS", "hymir-media-bench"};
  app.add_option("--dir", dir, "Image tree")->check(CLI::ExistingDirectory);
  app.add_option("--queries", num_queries, "Query documents (even sample)");
  app.add_option("--k", k, "Hits per query");
  app.add_option("--depth", depth, "Candidates per vector list before fusion");
  app.add_option("--words", words, "Visual words");
  CLI11_PARSE(app, argc, argv);

  auto collection = hymir::media::ScanMediaDirectory(dir);
  if (!collection.ok()) return Die(collection.status());
  char tmpl[] = "/tmp/hymir_media_bench_XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Die(hymir::Status::IOError("mkdtemp"));
  const std::string work = tmpl;
  std::printf("ingest of %zu image files under %s (%d visual words):\n", collection->items.size(), dir.c_str(), words);
  std::string index;
  for (int threads : {1, 2}) {
    index = work + "/idx" + std::to_string(threads);
    hymir::media::IngestOptions o;
    o.threads = threads;
    o.descriptors.vocabulary.words = words;
    auto r = hymir::media::IngestMedia(*collection, index, o);
    if (!r.ok()) return Die(r.status());
    std::printf(
        "  %d thread(s): %zu images in %.2f s = %.1f images/s; decode+describe %.2f s (%.1f images/s), "
        "vocabulary %.2f s, encode+index+commit %.2f s; %zu bad files\n",
        threads, r->indexed, r->seconds, r->indexed / r->seconds, r->decode_seconds,
        (r->indexed + r->failed.size()) / r->decode_seconds, r->vocabulary_seconds, r->index_seconds, r->failed.size());
  }

  auto engine = hymir::Engine::Open(index);
  if (!engine.ok()) return Die(engine.status());
  auto describer = hymir::media::MediaDescriber::Load(index);
  if (!describer.ok()) return Die(describer.status());
  const auto& searcher = (*engine)->searcher();
  auto ids = searcher.DocumentIds();
  if (!ids.ok()) return Die(ids.status());
  // The same vectors for raw FAISS (exact inner product, as hymir's flat fields).
  const size_t dc = describer->FieldSpecs()[0].dimension, dt = describer->FieldSpecs()[1].dimension;
  faiss::IndexFlatIP colour(static_cast<faiss::Index::idx_t>(dc)), texture(static_cast<faiss::Index::idx_t>(dt));
  std::vector<std::vector<float>> qc, qt;
  std::vector<std::string> qpath;
  for (const auto& id : *ids) {
    auto c = searcher.GetVector(hymir::media::kColourField, id);
    auto t = searcher.GetVector(hymir::media::kTextureField, id);
    if (!c.ok()) return Die(c.status());
    if (!t.ok()) return Die(t.status());
    colour.add(1, c->data());
    texture.add(1, t->data());
  }
  const size_t n = ids->size();
  num_queries = std::min(num_queries, n);
  std::vector<size_t> chosen;
  for (size_t i = 0; i < num_queries; ++i) chosen.push_back(i * n / num_queries);
  for (size_t i : chosen) {
    qc.push_back(*searcher.GetVector(hymir::media::kColourField, (*ids)[i]));
    qt.push_back(*searcher.GetVector(hymir::media::kTextureField, (*ids)[i]));
    auto doc = searcher.GetDocument((*ids)[i]);
    if (!doc.ok()) return Die(doc.status());
    qpath.push_back(doc->fields["path"]);
  }
  std::printf("query by example, %zu queries over %zu images, k %zu, one query per call:\n", num_queries, n, k);
  Latency raw_single, raw_two, hymir_single, hymir_fused, describe;
  std::vector<float> dist(std::max(k, depth));
  std::vector<faiss::Index::idx_t> labels(std::max(k, depth));
  for (int pass = 0; pass < 2; ++pass) {  // the first pass warms caches and is not recorded
    for (size_t j = 0; j < num_queries; ++j) {
      auto t0 = Clock::now();
      colour.search(1, qc[j].data(), static_cast<faiss::Index::idx_t>(k), dist.data(), labels.data());
      if (pass) raw_single.ms.push_back(Ms(t0));
      t0 = Clock::now();
      colour.search(1, qc[j].data(), static_cast<faiss::Index::idx_t>(depth), dist.data(), labels.data());
      texture.search(1, qt[j].data(), static_cast<faiss::Index::idx_t>(depth), dist.data(), labels.data());
      if (pass) raw_two.ms.push_back(Ms(t0));

      hymir::HybridQuery single;
      single.vector_field = hymir::media::kColourField;
      single.vector = qc[j];
      single.k = k;
      t0 = Clock::now();
      auto h1 = (*engine)->Search(single);
      if (pass) hymir_single.ms.push_back(Ms(t0));
      if (!h1.ok()) return Die(h1.status());

      hymir::HybridQuery fused = single;
      fused.more_vectors = {{hymir::media::kTextureField, qt[j]}};
      fused.vector_depth = depth;
      hymir::ranking::FusionOptions minmax;
      minmax.method = hymir::ranking::FusionMethod::kMinMax;
      fused.fusion = minmax;
      t0 = Clock::now();
      auto h2 = (*engine)->Search(fused);
      if (pass) hymir_fused.ms.push_back(Ms(t0));
      if (!h2.ok()) return Die(h2.status());

      t0 = Clock::now();
      auto image = hymir::media::ReadImage(qpath[j]);
      if (!image.ok()) return Die(image.status());
      auto v = describer->Describe(*image);
      if (pass) describe.ms.push_back(Ms(t0));
      if (!v.ok()) return Die(v.status());
    }
  }
  const double base1 = raw_single.p50(), base2 = raw_two.p50();
  raw_single.Print("raw FAISS IndexFlatIP, colour, top k");
  hymir_single.Print("hymir Engine::Search, colour, top k", base1);
  raw_two.Print("raw FAISS, colour + texture, top depth each");
  hymir_fused.Print("hymir Engine::Search, colour + texture fused (minmax)", base2);
  describe.Print("query image: read + decode + describe (both)");
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  return 0;
}
