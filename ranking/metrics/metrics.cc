#include "hymir/ranking/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string_view>

namespace hymir::ranking {
namespace {

// Cutoffs of the reported metrics.
constexpr size_t kCut10 = 10;
constexpr size_t kCut100 = 100;
constexpr size_t kCut1000 = 1000;

// trec_eval's gain discount: the document at 0-based position i (rank i + 1)
// is divided by log2(i + 2) (m_ndcg_cut.c, "i+2 since doc i has rank i+1").
double Discount(size_t i) { return std::log2(static_cast<double>(i + 2)); }

// DCG over the first `cut` entries of `gains` (positions with gain <= 0 add
// nothing), accumulated in rank order as trec_eval does.
double Dcg(const std::vector<int>& gains, size_t cut) {
  double sum = 0.0;
  const size_t n = std::min(cut, gains.size());
  for (size_t i = 0; i < n; ++i) {
    if (gains[i] > 0) sum += static_cast<double>(gains[i]) / Discount(i);
  }
  return sum;
}

// Number of relevant documents among the first `cut` of `gains`.
uint64_t RelevantIn(const std::vector<int>& gains, size_t cut) {
  uint64_t n = 0;
  const size_t end = std::min(cut, gains.size());
  for (size_t i = 0; i < end; ++i) n += gains[i] > 0 ? 1 : 0;
  return n;
}

void Accumulate(const MetricValues& v, MetricValues* sum) {
  sum->ndcg_cut_10 += v.ndcg_cut_10;
  sum->ndcg_cut_100 += v.ndcg_cut_100;
  sum->recall_100 += v.recall_100;
  sum->recall_1000 += v.recall_1000;
  sum->map += v.map;
  sum->recip_rank_nocut += v.recip_rank_nocut;
  sum->recip_rank += v.recip_rank;
  sum->p_10 += v.p_10;
}

void Divide(double n, MetricValues* v) {
  v->ndcg_cut_10 /= n;
  v->ndcg_cut_100 /= n;
  v->recall_100 /= n;
  v->recall_1000 /= n;
  v->map /= n;
  v->recip_rank_nocut /= n;
  v->recip_rank /= n;
  v->p_10 /= n;
}

}  // namespace

std::vector<std::pair<std::string_view, double>> NamedValues(const MetricValues& v) {
  return {
      {"ndcg_cut_10", v.ndcg_cut_10},
      {"ndcg_cut_100", v.ndcg_cut_100},
      {"recall_100", v.recall_100},
      {"recall_1000", v.recall_1000},
      {"map", v.map},
      {"recip_rank", v.recip_rank},
      {"recip_rank_nocut", v.recip_rank_nocut},
      {"P_10", v.p_10},
  };
}

Result<QueryEvaluation> EvaluateQuery(const Qrels::Judgements& judgements, const ScoredDocs& retrieved) {
  for (const auto& [doc, score] : retrieved) {
    if (std::isnan(score)) return Status::InvalidArgument("document '" + doc + "' has a NaN score");
  }
  // trec_eval refuses a document retrieved twice (form_res_rels.c); so do we.
  {
    std::vector<std::string_view> ids;
    ids.reserve(retrieved.size());
    for (const auto& [doc, score] : retrieved) ids.push_back(doc);
    std::sort(ids.begin(), ids.end());
    auto dup = std::adjacent_find(ids.begin(), ids.end());
    if (dup != ids.end()) {
      return Status::InvalidArgument("document '" + std::string(*dup) + "' retrieved twice");
    }
  }

  // trec_eval's ranking (form_res_rels.c comp_sim_docno): score descending,
  // ties by document id descending. Ids are distinct, so the order is total.
  std::vector<size_t> order(retrieved.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& [doc_a, score_a] = retrieved[a];
    const auto& [doc_b, score_b] = retrieved[b];
    if (score_a != score_b) return score_a > score_b;
    return doc_a > doc_b;
  });

  // Grade of each retrieved document in rank order (0 when unjudged).
  std::vector<int> gains(order.size(), 0);
  for (size_t i = 0; i < order.size(); ++i) {
    auto it = judgements.find(retrieved[order[i]].first);
    if (it != judgements.end()) gains[i] = it->second;
  }
  // The ideal ranking: every relevant grade, best first.
  std::vector<int> ideal;
  for (const auto& [doc, grade] : judgements) {
    if (grade > 0) ideal.push_back(grade);
  }
  std::sort(ideal.begin(), ideal.end(), std::greater<int>());

  QueryEvaluation q;
  q.num_ret = gains.size();
  q.num_rel = ideal.size();
  q.num_rel_ret = RelevantIn(gains, gains.size());
  MetricValues& v = q.values;
  if (q.num_rel == 0) return q;  // every metric is 0, as in trec_eval
  const double num_rel = static_cast<double>(q.num_rel);

  const double idcg_10 = Dcg(ideal, kCut10), idcg_100 = Dcg(ideal, kCut100);
  v.ndcg_cut_10 = Dcg(gains, kCut10) / idcg_10;
  v.ndcg_cut_100 = Dcg(gains, kCut100) / idcg_100;
  v.recall_100 = static_cast<double>(RelevantIn(gains, kCut100)) / num_rel;
  v.recall_1000 = static_cast<double>(RelevantIn(gains, kCut1000)) / num_rel;
  v.p_10 = static_cast<double>(RelevantIn(gains, kCut10)) / static_cast<double>(kCut10);

  double precision_sum = 0.0;
  uint64_t rel_so_far = 0;
  for (size_t i = 0; i < gains.size(); ++i) {
    if (gains[i] <= 0) continue;
    ++rel_so_far;
    precision_sum += static_cast<double>(rel_so_far) / static_cast<double>(i + 1);
    if (rel_so_far == 1) {
      v.recip_rank_nocut = 1.0 / static_cast<double>(i + 1);
      if (i < kCut10) v.recip_rank = v.recip_rank_nocut;
    }
  }
  v.map = precision_sum / num_rel;
  return q;
}

Result<Evaluation> Evaluate(const Qrels& qrels, const Run& run) {
  static const ScoredDocs kNothingRetrieved;
  Evaluation eval;
  MetricValues sum;
  for (const auto& [qid, judgements] : qrels.queries()) {
    if (qrels.NumRelevant(qid) == 0) continue;  // not a judged query
    auto it = run.find(qid);
    // A judged query the run does not answer scores 0 everywhere (trec_eval -c).
    const ScoredDocs& retrieved = it == run.end() ? kNothingRetrieved : it->second;
    auto q = EvaluateQuery(judgements, retrieved);
    if (!q.ok()) return q.status().WithContext("query '" + qid + "'");
    // Sum in query-id order, as trec_eval does, so means agree to the last bit.
    Accumulate(q->values, &sum);
    eval.num_ret += q->num_ret;
    eval.num_rel += q->num_rel;
    eval.num_rel_ret += q->num_rel_ret;
    eval.per_query.emplace(qid, std::move(q).value());
  }
  for (const auto& [qid, docs] : run) {
    if (qrels.NumRelevant(qid) == 0) ++eval.num_unjudged_run_queries;
  }
  if (!eval.per_query.empty()) {
    Divide(static_cast<double>(eval.per_query.size()), &sum);
    eval.mean = sum;
  }
  return eval;
}

Result<Evaluation> EvaluateFiles(const std::string& qrels_path, const std::string& run_path) {
  HYMIR_ASSIGN_OR_RETURN(Qrels qrels, Qrels::Read(qrels_path));
  HYMIR_ASSIGN_OR_RETURN(Run run, ReadRun(run_path));
  return Evaluate(qrels, run);
}

}  // namespace hymir::ranking
