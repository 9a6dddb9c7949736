// ProximityFeatures: the densest window and adjacent query bigrams.
#include "src/engine/features/proximity.h"

#include <algorithm>
#include <cstdint>

namespace hymir::internal {

double WindowDensity(const std::pair<uint32_t, int>* occ, size_t n_occ, int matched, std::vector<int>* count) {
  if (matched <= 1) return matched;
  int have = 0;
  size_t best = SIZE_MAX, left = 0;
  std::vector<int>& c = *count;
  for (size_t right = 0; right < n_occ; ++right) {
    if (c[occ[right].second]++ == 0) ++have;
    while (have == matched) {
      best = std::min<size_t>(best, occ[right].first - occ[left].first + 1);
      if (--c[occ[left].second] == 0) --have;
      ++left;
    }
  }
  for (size_t k = left; k < n_occ; ++k) c[occ[k].second] = 0;  // the window's remainder
  return static_cast<double>(matched) / static_cast<double>(best);
}

Status ProximityFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const size_t q = ctx.slots();
  std::vector<int> count(q, 0);
  std::vector<uint8_t> doc_bigram(q * q);  // (slot, slot) adjacent in the document
  for (size_t i = 0; i < ctx.size(); ++i) {
    const std::pair<uint32_t, int>* occ = ctx.occ.data() + ctx.occ_begin[i];
    const size_t n_occ = ctx.occ_begin[i + 1] - ctx.occ_begin[i];
    const std::array<uint32_t, 2>* tf = ctx.tf_of(i);
    int matched = 0;
    for (size_t k = 0; k < q; ++k) matched += tf[k][0] + tf[k][1] > 0;
    out.Pair(i, cols.pair[0]) = WindowDensity(occ, n_occ, matched, &count);
    if (ctx.terms.size() < 2) continue;
    std::fill(doc_bigram.begin(), doc_bigram.end(), 0);
    for (size_t e = 1; e < n_occ; ++e)  // adjacent tokens, both query terms (across title and text too)
      if (occ[e].first == occ[e - 1].first + 1)
        doc_bigram[static_cast<size_t>(occ[e - 1].second) * q + occ[e].second] = 1;
    size_t bigrams = 0, bigram_hits = 0;
    for (size_t j = 0; j + 1 < ctx.terms.size(); ++j) {
      ++bigrams;
      if (doc_bigram[static_cast<size_t>(ctx.term_slot[j]) * q + ctx.term_slot[j + 1]]) ++bigram_hits;
    }
    out.Pair(i, cols.pair[1]) = static_cast<double>(bigram_hits) / bigrams;
  }
  return Status::OK();
}

}  // namespace hymir::internal
