// hymir-ann-bench: vector search through hymir vs raw FAISS on the same index
// and queries in the same run, and recall@k against exact search, unfiltered
// and filtered at several selectivities. A benchmark program, not a test.
//
//   build/bin/hymir-ann-bench [--n 50000] [--dim 128] [--queries 1000] [--k 10] [--work DIR]
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <hymir/index/index_writer.h>
#include <hymir/index/searcher.h>
#include <omp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Embedding-like data: a 16-d latent factor plus noise, L2-normalised.
std::vector<float> Generate(size_t n, size_t d, uint32_t seed, const std::vector<float>& basis) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> out(n * d, 0.0f);
  for (size_t i = 0; i < n; ++i) {
    float* v = &out[i * d];
    for (int l = 0; l < 16; ++l) {
      const float z = g(rng);
      for (size_t j = 0; j < d; ++j) v[j] += z * basis[l * d + j];
    }
    for (size_t j = 0; j < d; ++j) v[j] += 0.5f * g(rng);
  }
  faiss::fvec_renorm_L2(d, n, out.data());
  return out;
}

// Domain of document i: "p50" for half, "p10" for a tenth, "p1" for 1 %; a
// document can be in several (i % 100 decides).
std::vector<std::string> Domains(size_t i) {
  const size_t r = i % 100;
  std::vector<std::string> d;
  if (r < 50) d.push_back("p50");
  if (r >= 50 && r < 60) d.push_back("p10");
  if (r == 60) d.push_back("p1");
  return d;
}

double Recall(const std::vector<faiss::Index::idx_t>& got, const std::vector<faiss::Index::idx_t>& want, size_t k) {
  std::set<faiss::Index::idx_t> w(want.begin(), want.begin() + k);
  size_t hit = 0;
  for (size_t i = 0; i < k; ++i) hit += w.count(got[i]);
  return static_cast<double>(hit) / k;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hymir-ann-bench: hymir vector search vs raw FAISS, recall vs exact by filter selectivity"};
  size_t n = 50000, d = 128, nq = 1000, k = 10;
  std::string work;
  app.add_option("--n", n, "Vectors");
  app.add_option("--dim", d, "Dimension");
  app.add_option("--queries", nq, "Queries");
  app.add_option("--k", k, "Neighbours");
  app.add_option("--work", work, "Work directory (default: a temp dir, removed)");
  CLI11_PARSE(app, argc, argv);
  const bool keep = !work.empty();
  if (work.empty())
    work = (std::filesystem::temp_directory_path() / ("hymir-ann-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(work);
  std::printf("hymir-ann info cpus=%u n=%zu dim=%zu queries=%zu k=%zu\n", std::thread::hardware_concurrency(), n, d, nq,
              k);

  std::mt19937 rng(7);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> basis(16 * d);
  for (auto& x : basis) x = g(rng);
  const std::vector<float> base = Generate(n, d, 1, basis);
  const std::vector<float> queries = Generate(nq, d, 2, basis);

  // hymir index with one HNSW32 vector field.
  hymir::index::IndexWriterOptions opts;
  hymir::index::VectorFieldSpec spec;
  spec.name = "emb";
  spec.dimension = d;
  spec.metric = hymir::index::VectorMetric::kCosine;
  spec.index = "hnsw32";
  opts.vector_fields = {spec};
  auto t0 = Clock::now();
  {
    auto w = hymir::index::IndexWriter::Open(work, opts);
    if (!w.ok()) return std::fprintf(stderr, "%s\n", w.status().ToString().c_str()), 1;
    for (size_t i = 0; i < n; ++i) {
      hymir::Document doc;
      doc.id = "v" + std::to_string(i);
      auto dom = Domains(i);
      doc.domain = dom.empty() ? "none" : dom[0];
      doc.vectors["emb"].assign(base.begin() + i * d, base.begin() + (i + 1) * d);
      if (auto s = (*w)->Upsert(doc); !s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
    }
    if (auto s = (*w)->Commit(); !s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  }
  std::printf("hymir-ann build docs=%zu seconds=%.1f docs_per_s=%.0f\n", n, Since(t0), n / Since(t0));
  auto searcher = hymir::index::Searcher::Open(work);
  if (!searcher.ok()) return std::fprintf(stderr, "%s\n", searcher.status().ToString().c_str()), 1;

  // The very FAISS index hymir wrote: strip hymir's 36-byte header.
  std::string faiss_path;
  for (const auto& e : std::filesystem::directory_iterator(work + "/vectors")) {
    if (e.path().extension() == ".faiss") faiss_path = e.path().string();
  }
  std::ifstream in(faiss_path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin() + 36, bytes.end());
  std::unique_ptr<faiss::Index> raw(faiss::read_index(&reader));
  auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(raw.get());
  hnsw->hnsw.efSearch = spec.ef_search;
  // Exact reference.
  faiss::IndexFlatIP flat(d);
  flat.add(n, base.data());
  std::vector<float> dist(nq * k);
  std::vector<faiss::Index::idx_t> exact(nq * k), got(nq * k);
  flat.search(nq, queries.data(), k, dist.data(), exact.data());

  auto ids_to_labels = [&](const std::vector<hymir::index::Hit>& hits, faiss::Index::idx_t* out) {
    for (size_t i = 0; i < k; ++i) out[i] = i < hits.size() ? std::stol(hits[i].id.substr(1)) : -1;
  };

  for (int threads : {1, static_cast<int>(std::thread::hardware_concurrency())}) {
    omp_set_num_threads(threads);
    // Batched: all queries in one call.
    double best_raw = 1e9, best_hymir = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
      auto t = Clock::now();
      raw->search(nq, queries.data(), k, dist.data(), got.data());
      best_raw = std::min(best_raw, Since(t));
      hymir::index::VectorQuery q;
      q.field = "emb";
      q.k = k;
      t = Clock::now();
      auto r = (*searcher)->SearchVectorBatch(q, queries);
      best_hymir = std::min(best_hymir, Since(t));
      if (!r.ok()) return std::fprintf(stderr, "%s\n", r.status().ToString().c_str()), 1;
    }
    std::printf("hymir-ann batched threads=%d faiss_qps=%.0f hymir_qps=%.0f ratio=%.3f\n", threads, nq / best_raw,
                nq / best_hymir, best_raw / best_hymir);
    // One query per call.
    auto t = Clock::now();
    for (size_t i = 0; i < nq; ++i) raw->search(1, &queries[i * d], k, dist.data(), got.data());
    const double raw_single = Since(t);
    t = Clock::now();
    for (size_t i = 0; i < nq; ++i) {
      hymir::index::VectorQuery q;
      q.field = "emb";
      q.k = k;
      q.vector.assign(queries.begin() + i * d, queries.begin() + (i + 1) * d);
      auto r = (*searcher)->SearchVector(q);
      if (!r.ok()) return 1;
    }
    const double hymir_single = Since(t);
    std::printf("hymir-ann single threads=%d faiss_qps=%.0f hymir_qps=%.0f ratio=%.3f\n", threads, nq / raw_single,
                nq / hymir_single, raw_single / hymir_single);
  }
  omp_set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));

  // Recall@k against exact search, unfiltered and filtered.
  {
    raw->search(nq, queries.data(), k, dist.data(), got.data());
    double rec = 0;
    for (size_t q = 0; q < nq; ++q)
      rec += Recall({got.begin() + q * k, got.begin() + (q + 1) * k},
                    {exact.begin() + q * k, exact.begin() + (q + 1) * k}, k);
    std::printf("hymir-ann recall filter=none hnsw_ef=%d recall_at_%zu=%.4f\n", spec.ef_search, k, rec / nq);
  }
  for (const char* dom : {"p50", "p10", "p1"}) {
    // Exact filtered reference and the admitted set.
    std::vector<uint8_t> bitmap((n + 7) / 8, 0);
    std::vector<faiss::Index::idx_t> admitted;
    for (size_t i = 0; i < n; ++i) {
      auto ds = Domains(i);
      if (std::find(ds.begin(), ds.end(), dom) != ds.end()) {
        bitmap[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
        admitted.push_back(static_cast<faiss::Index::idx_t>(i));
      }
    }
    faiss::IDSelectorBitmap sel(bitmap.size(), bitmap.data());
    faiss::SearchParameters exact_params;
    exact_params.sel = &sel;
    std::vector<faiss::Index::idx_t> fexact(nq * k);
    flat.search(nq, queries.data(), k, dist.data(), fexact.data(), &exact_params);
    // Raw FAISS HNSW with the selector (what hymir avoids below 5 %).
    faiss::SearchParametersHNSW hp;
    hp.efSearch = spec.ef_search;
    hp.sel = &sel;
    auto t = Clock::now();
    raw->search(nq, queries.data(), k, dist.data(), got.data(), &hp);
    const double raw_s = Since(t);
    double raw_rec = 0;
    for (size_t q = 0; q < nq; ++q)
      raw_rec += Recall({got.begin() + q * k, got.begin() + (q + 1) * k},
                        {fexact.begin() + q * k, fexact.begin() + (q + 1) * k}, k);
    // hymir with the same filter through the public API.
    hymir::index::VectorQuery q;
    q.field = "emb";
    q.k = k;
    q.filters = {{"domain", {dom}}};
    t = Clock::now();
    auto r = (*searcher)->SearchVectorBatch(q, queries);
    const double hymir_s = Since(t);
    if (!r.ok()) return std::fprintf(stderr, "%s\n", r.status().ToString().c_str()), 1;
    double hymir_rec = 0;
    for (size_t qi = 0; qi < nq; ++qi) {
      std::vector<faiss::Index::idx_t> labels(k);
      ids_to_labels((*r)[qi], labels.data());
      hymir_rec += Recall(labels, {fexact.begin() + qi * k, fexact.begin() + (qi + 1) * k}, k);
    }
    std::printf(
        "hymir-ann recall filter=%s selectivity=%.3f faiss_hnsw_recall=%.4f faiss_qps=%.0f hymir_recall=%.4f "
        "hymir_qps=%.0f\n",
        dom, static_cast<double>(admitted.size()) / n, raw_rec / nq, nq / raw_s, hymir_rec / nq, nq / hymir_s);
  }
  if (!keep) std::filesystem::remove_all(work);
  return 0;
}
