// The QueryContext every feature family reads: the analysed query
// (AnalyseQuery) and its terms' matches in the candidates (FillQueryMatches).
#include <algorithm>
#include <numeric>

#include "hymir/index/analyzer.h"

#include "src/engine/features/family.h"

namespace hymir::internal {

void AnalyseQuery(QueryContext* ctx) {
  const index::Searcher& s = *ctx->searcher;
  const HybridQuery& query = *ctx->query;
  ctx->terms = index::Analyze(s.analyzer(), query.text);
  ctx->unique = ctx->terms;
  std::sort(ctx->unique.begin(), ctx->unique.end());
  ctx->unique.erase(std::unique(ctx->unique.begin(), ctx->unique.end()), ctx->unique.end());
  // Per-field idf of each distinct term; slot k is unique[k].
  const char* fields[3] = {"all", "title", "text"};
  const size_t q = ctx->unique.size();
  ctx->idf.resize(q);
  ctx->idf_all.reserve(q);
  for (size_t k = 0; k < q; ++k) {
    for (int f = 0; f < 3; ++f)
      ctx->idf[k][f] = index::Bm25Idf(ctx->stats->DocCount(fields[f]), ctx->stats->DocFreq(fields[f], ctx->unique[k]));
    ctx->idf_all.push_back(ctx->idf[k][0]);
    if (ctx->stats->DocFreq("all", ctx->unique[k]) == 0) ++ctx->oov;
  }
  ctx->total_idf = std::accumulate(ctx->idf_all.begin(), ctx->idf_all.end(), 0.0);
  ctx->term_slot.resize(ctx->terms.size());
  for (size_t j = 0; j < ctx->terms.size(); ++j)
    ctx->term_slot[j] =
        static_cast<int>(std::lower_bound(ctx->unique.begin(), ctx->unique.end(), ctx->terms[j]) - ctx->unique.begin());
  for (int f = 0; f < 3; ++f) ctx->avgdl[f] = ctx->stats->AverageFieldLength(fields[f]);
  const std::string& field = *ctx->vector_field;
  if (!field.empty()) {
    if (!query.vector.empty() && (query.vector_field.empty() || query.vector_field == field)) {
      ctx->qvec = query.vector;
    } else {
      auto e = s.EmbedText(field, query.text);
      if (e.ok()) ctx->qvec = std::move(e).value();
    }
  }
}

void FillQueryMatches(QueryContext* ctx) {
  const size_t n = ctx->size(), q = ctx->slots();
  const SlotTable& slot_of = *ctx->slot_of;
  ctx->tf.assign(n * q, std::array<uint32_t, 2>{0, 0});
  ctx->occ.clear();
  ctx->occ_begin.assign(n + 1, 0);
  ctx->bm25_all.assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const AnalysedDoc& a = ctx->doc(i);
    std::array<uint32_t, 2>* tf = ctx->tf.data() + i * q;
    const size_t title_len = a.title.size();
    ctx->occ_begin[i] = ctx->occ.size();
    for (size_t p = 0; p < a.ids.size(); ++p) {  // title then text, as one token sequence
      const int k = slot_of[a.ids[p]];
      if (k < 0) continue;
      tf[k][p < title_len ? 0 : 1]++;
      ctx->occ.push_back({static_cast<uint32_t>(p), k});
    }
    const double len = static_cast<double>(a.title.size() + a.text.size());
    double score = 0;
    for (size_t j = 0; j < ctx->terms.size(); ++j) {  // repeated query terms count repeatedly, as in retrieval
      const size_t k = static_cast<size_t>(ctx->term_slot[j]);
      const uint32_t f = tf[k][0] + tf[k][1];
      if (f == 0) continue;
      score += ctx->idf[k][0] * index::Bm25Tf(static_cast<double>(f), len, ctx->avgdl[0], ctx->bm25);
    }
    ctx->bm25_all[i] = score;
  }
  ctx->occ_begin[n] = ctx->occ.size();
  ctx->best_bm25 = n ? *std::max_element(ctx->bm25_all.begin(), ctx->bm25_all.end()) : 0.0;
}

}  // namespace hymir::internal
