// FeedbackFeatures: pseudo-relevance feedback from the top candidates.
#include "src/engine/features/feedback.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <tuple>
#include <unordered_map>

namespace hymir::internal {

Status FeedbackFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const size_t n = ctx.size();
  const size_t top = std::min<size_t>(n, kPrfDocs);
  const SlotTable& slot_of = *ctx.slot_of;
  std::vector<double> centroid;
  for (size_t i = 0; i < top; ++i) {
    const auto& e = ctx.doc(i).embedding;
    if (e.empty()) continue;
    if (centroid.empty()) centroid.assign(e.size(), 0.0);
    if (e.size() != centroid.size()) continue;
    double norm = 0;
    for (float x : e) norm += static_cast<double>(x) * x;
    norm = norm > 0 ? std::sqrt(norm) : 1.0;
    for (size_t k = 0; k < e.size(); ++k) centroid[k] += e[k] / norm;
  }
  // Feedback weight of each non-query term, with its string (owned by the
  // document that holds it; ctx.docs keeps them alive).
  struct Fb {
    double w = 0;
    const std::string* term = nullptr;
  };
  std::unordered_map<uint32_t, Fb> fb;
  std::unordered_map<uint32_t, std::pair<int, const std::string*>> doc_tf;
  for (size_t i = 0; i < top; ++i) {
    const AnalysedDoc& a = ctx.doc(i);
    const double len = static_cast<double>(a.title.size() + a.text.size());
    if (len == 0) continue;
    doc_tf.clear();
    for (size_t p = 0; p < a.ids.size(); ++p) {
      auto& e = doc_tf[a.ids[p]];
      if (e.first++ == 0) e.second = p < a.title.size() ? &a.title[p] : &a.text[p - a.title.size()];
    }
    for (const auto& [id, e] : doc_tf) {
      if (slot_of[id] >= 0) continue;
      Fb& f = fb[id];
      f.w += e.first / len;
      f.term = e.second;
    }
  }
  std::vector<std::tuple<double, const std::string*, uint32_t>> ranked_terms;
  ranked_terms.reserve(fb.size());
  const uint64_t ndocs = ctx.stats->DocCount("all");
  // Terms by feedback weight, highest first; a term's idf is at most that of
  // df = 2 (idf falls with df), so once w * idf(2) is below the kPrfTerms-th
  // best weight found, no later term can enter the top and their document
  // frequencies are never looked up. The top is exact. Statistics from
  // `sources` are asked for every term: hymir::dist records the terms a dry
  // run looks up (with made-up frequencies, under which the pruning would
  // stop elsewhere) and gathers only those.
  const bool prune = ctx.sources == nullptr || ctx.sources->statistics == nullptr;
  std::vector<std::pair<double, uint32_t>> by_w;
  by_w.reserve(fb.size());
  for (const auto& [id, f] : fb) by_w.push_back({f.w, id});
  std::sort(by_w.begin(), by_w.end(), std::greater<>());
  const double idf_cap = index::Bm25Idf(ndocs, 2);
  std::priority_queue<double, std::vector<double>, std::greater<>> best;  // the kPrfTerms largest weights
  for (const auto& [w, id] : by_w) {
    if (prune && best.size() == kPrfTerms && w * idf_cap < best.top()) break;
    const Fb& f = fb[id];
    const uint64_t df = ctx.stats->DocFreq("all", *f.term);
    if (df < 2) continue;  // terms of one document say nothing about the topic
    const double weight = f.w * index::Bm25Idf(ndocs, df);
    ranked_terms.push_back({weight, f.term, id});
    best.push(weight);
    if (best.size() > kPrfTerms) best.pop();
  }
  const size_t keep = std::min<size_t>(ranked_terms.size(), kPrfTerms);
  std::partial_sort(ranked_terms.begin(), ranked_terms.begin() + keep, ranked_terms.end(),
                    [](const auto& a, const auto& b) {
                      return std::get<0>(a) > std::get<0>(b) ||
                             (std::get<0>(a) == std::get<0>(b) && *std::get<1>(a) < *std::get<1>(b));
                    });
  // The feedback terms' ids -> their rank, in a per-thread table.
  thread_local SlotTable weight_of;
  struct ClearTable {
    ~ClearTable() { weight_of.Clear(); }
  } clear_table;
  weight_of.Reserve(ctx.dict_size);
  std::vector<double> weights(keep);
  for (size_t k = 0; k < keep; ++k) {
    weights[k] = std::get<0>(ranked_terms[k]);
    const uint32_t id = std::get<2>(ranked_terms[k]);
    weight_of.Set(id, static_cast<int>(k));
  }
  std::vector<double> lex(n, 0.0);
  std::vector<int> wtf(keep);
  for (size_t i = 0; i < n; ++i) {
    const AnalysedDoc& a = ctx.doc(i);
    std::fill(wtf.begin(), wtf.end(), 0);
    if (keep > 0) {
      for (uint32_t id : a.ids) {
        const int k = weight_of[id];
        if (k >= 0) ++wtf[k];
      }
    }
    const double len = static_cast<double>(a.title.size() + a.text.size());
    for (size_t k = 0; k < keep; ++k)
      if (wtf[k] > 0) lex[i] += weights[k] * index::Bm25Tf(wtf[k], len, ctx.avgdl[0], ctx.bm25);
  }
  const double best_lex = n ? *std::max_element(lex.begin(), lex.end()) : 0.0;
  for (size_t i = 0; i < n; ++i) {
    out.Pair(i, cols.pair[0]) = Cosine(centroid, ctx.doc(i).embedding);
    out.Pair(i, cols.pair[1]) = best_lex > 0 ? lex[i] / best_lex : 0.0;
  }
  return Status::OK();
}

}  // namespace hymir::internal
