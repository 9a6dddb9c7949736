// Ranking data for learned re-rankers: one query's candidate list with a
// feature vector per (query, document) pair, the query's own feature vector
// (what a gate reads) and, for training, graded judgements.
//
// Thread-safety: plain value types.
#ifndef HYMIR_RANKING_RANKING_DATA_H_
#define HYMIR_RANKING_RANKING_DATA_H_

#include <cstddef>
#include <string>
#include <vector>

#include "hymir/ranking/qrels.h"
#include "hymir/status.h"

namespace hymir::ranking {

// Names of the features, in order. A model stores the schema it was trained
// with and refuses groups built with another one.
struct FeatureSchema {
  std::vector<std::string> pair_features;   // per (query, document)
  std::vector<std::string> query_features;  // per query (the gate's input)

  size_t pair_dim() const { return pair_features.size(); }
  size_t query_dim() const { return query_features.size(); }
  friend bool operator==(const FeatureSchema&, const FeatureSchema&) = default;
};

struct QueryGroup {
  std::string query_id;
  std::vector<double> query_features;  // query_dim values
  std::vector<std::string> doc_ids;    // the candidates, in retrieval order
  std::vector<double> pair_features;   // doc_ids.size() * pair_dim, row-major
  // Graded relevance per candidate (training and evaluation); empty at
  // inference.
  std::vector<double> labels;
  // Training only: the query's domain as an index in [0, domains) for the
  // optional supervised routing loss; -1 when unknown. Never read at
  // inference.
  int domain = -1;
  // Training only: the weight of this query's ranking loss. Default: 1.
  double weight = 1.0;

  size_t size() const { return doc_ids.size(); }
  // The pair features of candidate `i`.
  const double* row(size_t i, size_t pair_dim) const { return pair_features.data() + i * pair_dim; }
};

// OK when `group`'s sizes agree with `schema` (and labels, when present, with
// the candidates); InvalidArgument naming the query and the mismatch otherwise.
Status ValidateGroup(const QueryGroup& group, const FeatureSchema& schema);

// Sets group.labels from `qrels` (grade, negative grades as 0; unjudged
// candidates 0). Returns the number of relevant candidates.
size_t LabelGroup(QueryGroup& group, const Qrels& qrels);

// nDCG@k of the ordering given by `scores` (descending; ties: earlier
// candidate first) against the group's labels, with gain 2^label - 1 and the
// ideal DCG taken over the candidates. 0 when no candidate is relevant.
double GroupNdcg(const QueryGroup& group, const std::vector<double>& scores, size_t k = 10);

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_RANKING_DATA_H_
