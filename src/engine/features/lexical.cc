// LexicalFeatures: per-field BM25, its variants, coverage and lengths.
#include "src/engine/features/lexical.h"

#include <algorithm>
#include <cmath>

namespace hymir::internal {

std::vector<std::string> LexicalFeatures::PairNames() const {
  return {"bm25_all",       "bm25_title",  "bm25_text",     "bm25_all_rel", "coverage",    "idf_coverage",
          "title_coverage", "log_doc_len", "log_title_len", "bm25_k12_b75", "bm25_k20_b30"};
}

Status LexicalFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  // The variants' parameters: Lucene's defaults, and a flatter, less
  // length-normalised setting.
  static const index::Bm25Params kVariants[2] = {{1.2, 0.75}, {2.0, 0.3}};
  const size_t q = ctx.slots();
  const double u = static_cast<double>(std::max<size_t>(q, 1));
  for (size_t i = 0; i < ctx.size(); ++i) {
    const AnalysedDoc& a = ctx.doc(i);
    const std::array<uint32_t, 2>* tf = ctx.tf_of(i);
    const double len[3] = {static_cast<double>(a.title.size() + a.text.size()), static_cast<double>(a.title.size()),
                           static_cast<double>(a.text.size())};
    double score[3] = {0, 0, 0};
    double variant[2] = {0, 0};
    for (size_t j = 0; j < ctx.terms.size(); ++j) {  // repeated query terms count repeatedly, as in retrieval
      const size_t k = static_cast<size_t>(ctx.term_slot[j]);
      if (tf[k][0] + tf[k][1] == 0) continue;
      const double f[3] = {static_cast<double>(tf[k][0] + tf[k][1]), static_cast<double>(tf[k][0]),
                           static_cast<double>(tf[k][1])};
      for (int x = 0; x < 3; ++x)
        if (f[x] > 0) score[x] += ctx.idf[k][x] * index::Bm25Tf(f[x], len[x], ctx.avgdl[x], ctx.bm25);
      for (int v = 0; v < 2; ++v) variant[v] += ctx.idf[k][0] * index::Bm25Tf(f[0], len[0], ctx.avgdl[0], kVariants[v]);
    }
    size_t matched = 0, title_matched = 0;
    double idf_matched = 0;
    for (size_t k = 0; k < q; ++k) {
      if (tf[k][0] + tf[k][1] == 0) continue;
      ++matched;
      idf_matched += ctx.idf[k][0];
      if (tf[k][0] > 0) ++title_matched;
    }
    const double values[11] = {score[0],           score[1],
                               score[2],           ctx.best_bm25 > 0 ? ctx.bm25_all[i] / ctx.best_bm25 : 0.0,
                               matched / u,        ctx.total_idf > 0 ? idf_matched / ctx.total_idf : 0.0,
                               title_matched / u,  std::log1p(len[0]),
                               std::log1p(len[1]), variant[0],
                               variant[1]};
    for (size_t c = 0; c < 11; ++c) out.Pair(i, cols.pair[c]) = values[c];
  }
  return Status::OK();
}

}  // namespace hymir::internal
