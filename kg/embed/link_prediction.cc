#include "kg/embed/link_prediction.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace hymir::kg::internal {
namespace {

// Queries per sgemm: the score block is kBlock * n floats (32 MB for n = 128k).
constexpr size_t kBlock = 64;

struct Accum {
  double rr = 0, hits = 0, frr = 0, fhits = 0;
  void Add(size_t raw_rank, size_t filtered_rank) {
    rr += 1.0 / static_cast<double>(raw_rank);
    hits += raw_rank <= 10 ? 1 : 0;
    frr += 1.0 / static_cast<double>(filtered_rank);
    fhits += filtered_rank <= 10 ? 1 : 0;
  }
  void Merge(const Accum& o) {
    rr += o.rr;
    hits += o.hits;
    frr += o.frr;
    fhits += o.fhits;
  }
};

// Ranks of `t` in `scores` (n entries, lower is better): raw, and with the
// other known tails of (h, r) left out.
void RankOne(const float* scores, size_t n, const IdTriple& q, const KnownTails& known, Accum* acc) {
  const float target = scores[q.t];
  size_t better = 0;
  for (size_t e = 0; e < n; ++e) better += scores[e] <= target ? 1 : 0;  // counts t itself once
  size_t filtered_out = 0;
  if (auto it = known.find(HeadRelationKey(q.h, q.r)); it != known.end()) {
    for (uint32_t e : it->second) {
      if (e != q.t && scores[e] <= target) ++filtered_out;
    }
  }
  acc->Add(better, better - filtered_out);
}

}  // namespace

RankFigures RankTails(std::span<const float> entities, std::span<const float> relations, int dim, TransENorm norm,
                      std::span<const IdTriple> test, const KnownTails& known, int threads) {
  RankFigures out;
  if (test.empty() || dim <= 0) return out;
  const size_t d = static_cast<size_t>(dim);
  const size_t n = entities.size() / d;
  Accum total;
  if (norm == TransENorm::kL2) {
    std::vector<float> enorm(n);
    for (size_t e = 0; e < n; ++e) {
      const float* v = &entities[e * d];
      enorm[e] = cblas_sdot(dim, v, 1, v, 1);
    }
    std::vector<float> q(kBlock * d), scores(kBlock * n);
    for (size_t start = 0; start < test.size(); start += kBlock) {
      const size_t b = std::min(kBlock, test.size() - start);
      for (size_t i = 0; i < b; ++i) {
        const IdTriple& t = test[start + i];
        for (size_t j = 0; j < d; ++j) q[i * d + j] = entities[t.h * d + j] + relations[t.r * d + j];
      }
      // scores = Q (b x d) * E^T (d x n)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(b), static_cast<int>(n), dim, 1.0f,
                  q.data(), dim, entities.data(), dim, 0.0f, scores.data(), static_cast<int>(n));
      for (size_t i = 0; i < b; ++i) {
        float* s = &scores[i * n];
        // ||q - e||^2 minus the constant ||q||^2: same order.
        for (size_t e = 0; e < n; ++e) s[e] = enorm[e] - 2.0f * s[e];
        RankOne(s, n, test[start + i], known, &total);
      }
    }
  } else {
    const size_t nt = static_cast<size_t>(std::max(1, threads));
    std::vector<Accum> parts(nt);
    auto work = [&](size_t w) {
      std::vector<float> q(d), s(n);
      for (size_t i = w; i < test.size(); i += nt) {
        const IdTriple& t = test[i];
        for (size_t j = 0; j < d; ++j) q[j] = entities[t.h * d + j] + relations[t.r * d + j];
        for (size_t e = 0; e < n; ++e) {
          const float* v = &entities[e * d];
          float sum = 0;
          for (size_t j = 0; j < d; ++j) sum += std::fabs(q[j] - v[j]);
          s[e] = sum;
        }
        RankOne(s.data(), n, t, known, &parts[w]);
      }
    };
    std::vector<std::thread> pool;
    for (size_t w = 1; w < nt; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& th : pool) th.join();
    for (const Accum& a : parts) total.Merge(a);
  }
  const double k = static_cast<double>(test.size());
  out.mrr = total.rr / k;
  out.hits_at_10 = total.hits / k;
  out.filtered_mrr = total.frr / k;
  out.filtered_hits_at_10 = total.fhits / k;
  return out;
}

}  // namespace hymir::kg::internal
