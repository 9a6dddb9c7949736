// FillQueryMatches: the query-term matches every lexical family reads.
#include <algorithm>

#include "src/engine/features/family.h"

namespace hymir::internal {

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
