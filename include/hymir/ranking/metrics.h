// hymir::ranking::Evaluate: retrieval quality of a run against qrels, computed
// as trec_eval 9.0.x computes it (usnistgov/trec_eval; relevance level 1, i.e.
// grade > 0 is relevant).
//
// Per query, the retrieved documents are ranked by score descending, ties
// broken by document id descending (byte-wise); the run's rank column and line
// order are ignored (trec_eval form_res_rels.c). With rank i = 1, 2, ... and R
// the number of relevant documents judged for the query:
//
//   ndcg_cut_k   DCG@k / IDCG@k. DCG@k = sum over i <= k with grade_i > 0 of
//                grade_i / log2(i + 1); the gain is the qrels grade itself.
//                IDCG@k is the DCG@k of all the query's grades > 0 sorted
//                descending, retrieved or not. (m_ndcg_cut.c)
//   recall_k     relevant documents in the top k / R. (m_recall.c)
//   P_k          relevant documents in the top k / k, even when fewer than k
//                were retrieved. (m_P.c)
//   map          sum over relevant retrieved documents of precision at their
//                rank, / R: relevant documents not retrieved add 0. (m_map.c)
//   recip_rank   1 / rank of the first relevant document within the top 10,
//                0 if none (MRR@10, as BEIR and MS MARCO report it, and as
//                hymir's CLI contract defines it); equals
//                `trec_eval -M 10 -m recip_rank`.
//   recip_rank_nocut
//                the same without the cutoff: trec_eval's own recip_rank
//                (m_recip_rank.c). Not a trec_eval measure name.
//
// Which queries are averaged: every query in the qrels with at least one
// relevant document (the "judged" queries). A judged query missing from the run
// scores 0 on every metric, like `trec_eval -c`. Run queries that are not
// judged are ignored. (trec_eval -c would also average in qrels queries whose
// judgements are all non-relevant, scoring 0; hymir leaves them out.)
//
// Thread-safety: pure functions over value types; safe to call concurrently.
#ifndef HYMIR_RANKING_METRICS_H_
#define HYMIR_RANKING_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hymir/ranking/qrels.h"
#include "hymir/ranking/run.h"
#include "hymir/result.h"

namespace hymir::ranking {

// The metric values of one query, or their means over queries.
struct MetricValues {
  double ndcg_cut_10 = 0.0;
  double ndcg_cut_100 = 0.0;
  double recall_100 = 0.0;
  double recall_1000 = 0.0;
  double map = 0.0;
  double recip_rank_nocut = 0.0;
  double recip_rank = 0.0;
  double p_10 = 0.0;  // trec_eval "P_10"
};

// (trec_eval name, value) for every field of `v`, in hymir's printing order:
// ndcg_cut_10, ndcg_cut_100, recall_100, recall_1000, map, recip_rank_nocut,
// recip_rank, P_10.
std::vector<std::pair<std::string_view, double>> NamedValues(const MetricValues& v);

struct QueryEvaluation {
  MetricValues values;
  uint64_t num_ret = 0;      // documents retrieved (trec_eval num_ret)
  uint64_t num_rel = 0;      // relevant documents judged (num_rel)
  uint64_t num_rel_ret = 0;  // relevant documents retrieved (num_rel_ret)
};

struct Evaluation {
  // Every judged query, ordered by query id (trec_eval -q values).
  std::map<std::string, QueryEvaluation> per_query;
  // Arithmetic means over per_query; all 0 when there is no judged query.
  MetricValues mean;
  // Sums over per_query, as trec_eval prints them on its "all" lines.
  uint64_t num_ret = 0;
  uint64_t num_rel = 0;
  uint64_t num_rel_ret = 0;
  // Run queries left out because the qrels have no relevant document for them.
  size_t num_unjudged_run_queries = 0;

  // The number of queries averaged (trec_eval num_q).
  size_t num_queries() const { return per_query.size(); }
};

// Evaluates one query's retrieved documents against its judgements.
// InvalidArgument when a document id repeats or a score is NaN.
Result<QueryEvaluation> EvaluateQuery(const Qrels::Judgements& judgements, const ScoredDocs& retrieved);

// Evaluates an in-memory run. Errors as EvaluateQuery, prefixed with the query
// id.
Result<Evaluation> Evaluate(const Qrels& qrels, const Run& run);

// Qrels::Read + ReadRun + Evaluate.
Result<Evaluation> EvaluateFiles(const std::string& qrels_path, const std::string& run_path);

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_METRICS_H_
