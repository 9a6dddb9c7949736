// Private: filters, sorting and facets on the typed fields of a Snapshot
// (schema.h, doc_values.h), and the hook a query-language evaluator calls
// for `field:value` and `field:[a TO b]` clauses on typed fields.
//
// A range walks the field's points between two binary searches and maps
// each row to its live Lucene docid (Snapshot::DocByRow): its cost is the
// number of documents admitted, not the number of documents. Keyword values
// are Lucene++ untokenized terms (f.<name>), read through their postings.
//
// Thread-safety: free functions over an immutable Snapshot.
#ifndef HYMIR_INDEX_LUCENE_TYPED_SEARCH_H_
#define HYMIR_INDEX_LUCENE_TYPED_SEARCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "hymir/index/searcher.h"
#include "hymir/index/text_query.h"
#include "hymir/result.h"
#include "index/lucene/bm25_scorer.h"
#include "index/lucene/snapshot.h"

namespace hymir::index::internal {

// The hook for a query-language evaluator: the live Lucene docids of `snap`
// whose `field` equals `value` (typed by the schema: "5", "2021-03-04",
// "true", a keyword; a field outside the schema is matched as an exact
// string field), as a bitset of snap.max_doc() bits (bit d of word d / 64).
// InvalidArgument naming the field when it is unknown or the value does not
// parse as its type.
Result<DocFilter> MatchTypedValue(const Snapshot& snap, const std::string& field, const std::string& value);
// The same for a range clause (`field:[a TO b]`, `field:>=a`, ...) on a
// numeric, date or bool field, or on a keyword field (byte order of the
// values).
Result<DocFilter> MatchTypedRange(const Snapshot& snap, const RangeFilter& range);

// The intersection of every filter and range (empty = every document);
// `where` prefixes errors.
Status BuildTypedFilter(const Snapshot& snap, const std::vector<FieldFilter>& filters,
                        const std::vector<RangeFilter>& ranges, const std::string& where, DocFilter* out);

// The first `limit` live documents `filter` admits (score 0), in docid
// order; with `total`, also their number (all of them, not only the first
// `limit`).
std::vector<ScoredDoc> AllAdmitted(const Snapshot& snap, const DocFilter& filter, size_t limit = SIZE_MAX,
                                   uint64_t* total = nullptr);

// Orders `matches` by `sort` (ties: score descending, then id ascending;
// empty `sort`: score descending, then docid) and keeps the first `n`.
Status SortMatches(const Snapshot& snap, const std::vector<SortField>& sort, size_t n, std::vector<ScoredDoc>* matches);

// The values document `doc` sorts by under `sort` (one per key; see
// SortValue). `sort` was checked by SortMatches.
std::vector<SortValue> SortValuesOf(const Snapshot& snap, const std::vector<SortField>& sort, int32_t doc);

// The facet counts of `request` over `matches`.
Result<FacetResult> CountFacet(const Snapshot& snap, const FacetRequest& request,
                               const std::vector<ScoredDoc>& matches);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_TYPED_SEARCH_H_
