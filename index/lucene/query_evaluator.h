// Private: evaluation of an analysed query-language tree (query_language.h)
// over one Snapshot with hymir's exact BM25: document-at-a-time iterators
// over Lucene++ postings (conjunctions and phrases leapfrog to the largest
// current doc; positions are read only for documents every phrase term is
// in, from positions decoded once per snapshot, unless their masks settle
// the document), exhaustive over the matches so that the total is exact
// unless EvaluationOptions::exact_total is off.
#ifndef HYMIR_INDEX_LUCENE_QUERY_EVALUATOR_H_
#define HYMIR_INDEX_LUCENE_QUERY_EVALUATOR_H_

#include <functional>
#include <optional>
#include <vector>

#include "hymir/index/bm25.h"
#include "hymir/index/collection_statistics.h"
#include "hymir/query_language.h"
#include "index/lucene/bm25_scorer.h"
#include "index/lucene/snapshot.h"

namespace hymir::index::internal {

// The documents a leaf on a field that is not a text field admits (scored
// as a constant, the leaf's boost), or nullopt when that field is unknown
// here too (then the query is InvalidArgument naming the field). The hook
// typed fields (numbers, dates) plug into. Called on the searching thread.
using FieldLeafHook = std::function<Result<std::optional<DocFilter>>(const QueryNode& leaf)>;

struct EvaluationOptions {
  // The fields an unfielded leaf searches: (text field index, weight); the
  // leaf scores the sum over them, as a Lucene MultiFieldQueryParser query.
  std::vector<std::pair<int, double>> default_fields = {{kAllField, 1.0}};
  Bm25Params bm25;
  // Statistics to score with (global ones on a shard). Required.
  const CollectionStatistics* statistics = nullptr;
  // Admitted documents (FieldFilter); empty = all.
  const DocFilter* filter = nullptr;
  // Terms a prefix or a range may expand to; more is InvalidArgument naming
  // the leaf. Default: 65536 (Lucene's constant-score rewrite has no bound;
  // one keeps a query like a* from reading every posting of the index).
  size_t max_expansions = 65536;
  FieldLeafHook field_hook;
  // Phrases read positions from the snapshot's decoded-positions cache
  // (Snapshot::Positions); false reads them through Lucene++ TermPositions
  // for the candidates only (the same matches and scores; for tests).
  // Default: true.
  bool cached_positions = true;
  // Whether Evaluation::total must count every match. false lets a
  // conjunction skip blocks of postings that cannot reach the top n
  // (block-max, from each term's largest tf and shortest document per
  // block), and a phrase skip documents whose terms' tfs bound it below the
  // n-th hit; `top` is the same, `total` then a lower bound. Default: true.
  bool exact_total = true;
};

struct Evaluation {
  std::vector<ScoredDoc> top;  // best first (score desc, docid asc)
  uint64_t total = 0;          // matching admitted documents (see exact_total)
};

// The top `n` matches of `query` and the number of matches. InvalidArgument
// for a leaf on an unknown field or an over-long expansion.
Result<Evaluation> Evaluate(const Snapshot& snap, const QueryNode& query, const EvaluationOptions& options, size_t n);

// The documents matching `query`'s required and excluded top-level clauses
// (its MUST and MUST_NOT ones; a query with neither constrains nothing and
// gives nullopt), as a DocFilter: what a vector candidate of the query must
// satisfy.
Result<std::optional<DocFilter>> Constraints(const Snapshot& snap, const QueryNode& query,
                                             const EvaluationOptions& options);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_QUERY_EVALUATOR_H_
