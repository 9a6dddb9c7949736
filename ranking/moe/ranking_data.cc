// ValidateGroup and GroupNdcg.
#include "hymir/ranking/ranking_data.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hymir::ranking {

Status ValidateGroup(const QueryGroup& group, const FeatureSchema& schema) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("query '" + group.query_id + "': " + what);
  };
  if (group.query_features.size() != schema.query_dim())
    return bad(std::to_string(group.query_features.size()) + " query features, the schema has " +
               std::to_string(schema.query_dim()));
  if (group.pair_features.size() != group.size() * schema.pair_dim())
    return bad(std::to_string(group.pair_features.size()) + " pair feature values for " + std::to_string(group.size()) +
               " candidates x " + std::to_string(schema.pair_dim()) + " features");
  if (!group.labels.empty() && group.labels.size() != group.size())
    return bad(std::to_string(group.labels.size()) + " labels for " + std::to_string(group.size()) + " candidates");
  for (double v : group.pair_features)
    if (!std::isfinite(v)) return bad("a pair feature is not finite");
  for (double v : group.query_features)
    if (!std::isfinite(v)) return bad("a query feature is not finite");
  return Status::OK();
}

size_t LabelGroup(QueryGroup& group, const Qrels& qrels) {
  group.labels.assign(group.size(), 0.0);
  size_t relevant = 0;
  const Qrels::Judgements* j = qrels.Find(group.query_id);
  if (!j) return 0;
  for (size_t i = 0; i < group.size(); ++i) {
    auto it = j->find(group.doc_ids[i]);
    if (it != j->end() && it->second > 0) {
      group.labels[i] = it->second;
      ++relevant;
    }
  }
  return relevant;
}

double GroupNdcg(const QueryGroup& group, const std::vector<double>& scores, size_t k) {
  const size_t n = std::min(group.size(), scores.size());
  if (group.labels.size() < n) return 0.0;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double dcg = 0;
  for (size_t r = 0; r < std::min(k, n); ++r) dcg += (std::pow(2.0, group.labels[order[r]]) - 1.0) / std::log2(r + 2.0);
  std::vector<double> ideal(group.labels.begin(), group.labels.begin() + n);
  std::sort(ideal.rbegin(), ideal.rend());
  double idcg = 0;
  for (size_t r = 0; r < std::min(k, n); ++r) idcg += (std::pow(2.0, ideal[r]) - 1.0) / std::log2(r + 2.0);
  return idcg > 0 ? dcg / idcg : 0.0;
}

}  // namespace hymir::ranking
