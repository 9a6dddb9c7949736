// The lexical family: per-field BM25 and query-term coverage of a candidate.
#ifndef HYMIR_SRC_ENGINE_FEATURES_LEXICAL_H_
#define HYMIR_SRC_ENGINE_FEATURES_LEXICAL_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Pair features, from the candidate's analysed title and text and the
// collection statistics (equal to the retriever's scores):
//   bm25_all, bm25_title, bm25_text  BM25 of field all (title then text),
//                                    title, text, the query's k1 and b
//   bm25_all_rel                     bm25_all / the list's best (0 if none > 0)
//   coverage                         matched distinct query terms / distinct terms
//   idf_coverage                     idf("all") of the matched / of all distinct terms
//   title_coverage                   distinct terms in the title / distinct terms
//   log_doc_len, log_title_len       ln(1 + length) of all, of title
//   bm25_k12_b75, bm25_k20_b30       bm25_all with k1 = 1.2, b = 0.75 and 2.0, 0.3
class LexicalFeatures final : public FeatureFamily {
 public:
  const char* name() const override { return "lexical"; }
  std::vector<std::string> PairNames() const override;
  std::vector<std::string> QueryNames() const override { return {}; }
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_LEXICAL_H_
