// BM25 as Java Lucene 8 computes it, with exact document lengths:
//
//   score(q, d) = sum over query terms t (with multiplicity) of
//                 w_f * idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
//   idf(t)      = ln(1 + (N - df + 0.5) / (df + 0.5))
//
// N is the number of live documents with a non-empty value in the field,
// df the number of those containing t, dl the document's exact token count in
// the field and avgdl the field's total token count / N (Lucene 8
// BM25Similarity; no (k1 + 1) factor). Lucene stores dl as a lossy byte;
// hymir stores it exactly.
//
// Thread-safety: pure functions and a value type.
#ifndef HYMIR_INDEX_BM25_H_
#define HYMIR_INDEX_BM25_H_

#include <cmath>
#include <cstdint>

namespace hymir::index {

struct Bm25Params {
  // Term-frequency saturation. Default: 0.9 (Anserini's BEIR setting).
  double k1 = 0.9;
  // Length normalisation strength in [0, 1]. Default: 0.4.
  double b = 0.4;
};

inline double Bm25Idf(uint64_t doc_count, uint64_t doc_freq) {
  const double n = static_cast<double>(doc_count), df = static_cast<double>(doc_freq);
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

// The saturated term frequency tf / (tf + k1 * (1 - b + b * dl / avgdl)).
inline double Bm25Tf(double tf, double dl, double avgdl, const Bm25Params& p) {
  const double norm = avgdl > 0 ? dl / avgdl : 0.0;
  return tf / (tf + p.k1 * (1.0 - p.b + p.b * norm));
}

}  // namespace hymir::index

#endif  // HYMIR_INDEX_BM25_H_
