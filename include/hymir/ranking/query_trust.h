// QueryTrust: how far one query should be served by a fine-tuned re-ranker
// rather than by the pre-trained model it was fine-tuned from.
//
// Fine-tuning on judgements helps queries that resemble the judged ones and
// can hurt queries from regions the judgements do not cover (a domain with no
// judged query: docs/training.md, "trust"). QueryTrust keeps the judged
// queries' analysed terms as unit tf-idf vectors (idf over the judged queries
// themselves, so it needs nothing from the index) and, per judged query, the
// out-of-fold gain of fine-tuning over the pre-trained model (nDCG@10 of a
// model fine-tuned without that query's fold minus the pre-trained model's).
// For a query q with neighbours N = the `neighbours` judged queries of
// largest cosine c_j:
//
//   coverage(q) = clamp((mean_{j in N} c_j - floor) / width, 0, 1)
//   gain(q)     = sum_{j in N} c_j g_j / (sum_{j in N} c_j + gain_shrink)
//   trust(q)    = coverage(q) * (gain_scale > 0 ? clamp(gain(q) / gain_scale, 0, 1) : 1)
//
// A query sharing no term with any judged query has trust 0. MoeModel
// serves z(pre-trained) + trust (z(fine-tuned) - z(pre-trained)), z
// standardising within the candidate list (MoeModel::set_trust).
//
// Thread-safety: const methods may run concurrently.
#ifndef HYMIR_RANKING_QUERY_TRUST_H_
#define HYMIR_RANKING_QUERY_TRUST_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hymir/result.h"

namespace hymir::ranking {

// Defaults chosen on mixed's train split only (leave-one-domain-out and
// three-fold cross-validation, notes/trust.md): the nearest judged query
// alone, trust from cosine 0.3 to full at 0.7, no gain term (the
// out-of-fold gain variants were within 0.0002 of it).
struct QueryTrustConfig {
  int neighbours = 1;        // judged queries averaged (>= 1)
  double floor = 0.3;        // mean cosine at which trust starts
  double width = 0.4;        // mean cosine above floor at which coverage is full (> 0)
  double gain_scale = 0.0;   // 0: coverage only; > 0: neighbourhood gain at which trust is full
  double gain_shrink = 0.0;  // added to the cosine sum of the gain's denominator (>= 0)
  friend bool operator==(const QueryTrustConfig&, const QueryTrustConfig&) = default;
};

class QueryTrust {
 public:
  QueryTrust() = default;
  // `judged`: each judged query's analysed terms; `gains`: one out-of-fold
  // gain per judged query, or empty (then config.gain_scale must be 0).
  // InvalidArgument for a bad config or mismatched sizes.
  static Result<QueryTrust> Build(const std::vector<std::vector<std::string>>& judged, std::vector<double> gains,
                                  const QueryTrustConfig& config);

  bool empty() const { return judged_.empty(); }
  size_t size() const { return judged_.size(); }
  const QueryTrustConfig& config() const { return config_; }
  const std::vector<double>& gains() const { return gains_; }
  // Mean cosine of the `neighbours` nearest judged queries (0 when empty).
  double Similarity(const std::vector<std::string>& terms) const;
  // trust(q) in [0, 1] for a query's analysed terms; 0 when empty().
  double Trust(const std::vector<std::string>& terms) const;

  // Flat form for the model file (MoeModel::Save/Load).
  struct Stored {
    std::vector<std::string> vocabulary;
    std::vector<double> idf;        // per vocabulary term
    std::vector<uint32_t> offsets;  // judged query i: entries [offsets[i], offsets[i + 1])
    std::vector<uint32_t> term_ids;
    std::vector<double> weights;  // unit tf-idf weight per entry
    std::vector<double> gains;
    std::vector<double> config;  // neighbours, floor, width, gain_scale, gain_shrink
  };
  Stored ToStored() const;
  static Result<QueryTrust> FromStored(Stored s);

 private:
  std::vector<std::pair<uint32_t, double>> Vectorise(const std::vector<std::string>& terms) const;
  void Neighbours(const std::vector<std::string>& terms, std::vector<std::pair<double, uint32_t>>& top) const;

  QueryTrustConfig config_;
  std::vector<std::string> vocabulary_;  // sorted
  std::vector<double> idf_;
  double oov_idf_ = 0.0;  // idf of a term no judged query has: log((n + 1) / 0.5)
  std::vector<std::vector<std::pair<uint32_t, double>>> judged_;  // sorted by term id
  std::vector<std::vector<uint32_t>> postings_;                   // term id -> judged queries
  std::vector<double> gains_;
};

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_QUERY_TRUST_H_
