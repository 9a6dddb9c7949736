// Private: document-at-a-time BM25 top-k with MaxScore over Lucene++ postings,
// and the exhaustive oracle it is tested against.
#ifndef HYMIR_INDEX_LUCENE_BM25_SCORER_H_
#define HYMIR_INDEX_LUCENE_BM25_SCORER_H_

#include <lucene++/LuceneHeaders.h>

#include <cstdint>
#include <vector>

#include "hymir/index/bm25.h"
#include "hymir/index/searcher.h"
#include "index/lucene/snapshot.h"

namespace hymir::index::internal {

// One scored (field, term) pair: contribution = weight * tf / (tf + K(dl)),
// weight = field weight * query-term multiplicity * idf.
struct ScoredTerm {
  int field = 0;
  Lucene::String term;
  double weight = 0.0;
  double avgdl = 0.0;
};

struct ScoredDoc {
  int32_t doc;
  double score;
};

// Admitted documents by Lucene docid; empty = all documents admitted.
using DocFilter = std::vector<uint64_t>;

inline bool Admits(const DocFilter& f, int32_t doc) {
  return f.empty() || ((f[static_cast<size_t>(doc) >> 6] >> (doc & 63)) & 1U);
}

// The first document >= `from` that `filter` admits (empty: every one), or
// INT32_MAX when none below `max_doc` is.
int32_t NextAdmitted(const DocFilter& filter, int32_t from, int32_t max_doc);

// The number of documents in any of `lists` that `filter` admits. A filter
// with fewer documents than an eighth of the lists' postings is walked and
// its documents looked up in the lists; otherwise every posting is marked.
uint64_t CountAdmitted(const std::vector<std::shared_ptr<const DecodedPostings>>& lists, const DocFilter& filter,
                       int32_t max_doc);

// Top `n` documents, best first (score desc, docid asc).
std::vector<ScoredDoc> TopKMaxScore(const Snapshot& snap, const std::vector<ScoredTerm>& terms,
                                    const Bm25Params& params, const DocFilter& filter, size_t n, SearchStats* stats);

// Every document matching a term and admitted by `filter`, with its score,
// in docid order. Up to `max_merged_terms` terms, their postings are merged
// by docid; more are summed into an array over every document (the same
// matches and scores either way; the parameter is for tests).
std::vector<ScoredDoc> AllMatches(const Snapshot& snap, const std::vector<ScoredTerm>& terms, const Bm25Params& params,
                                  const DocFilter& filter, size_t max_merged_terms = 8);

std::vector<ScoredDoc> TopKExhaustive(const Snapshot& snap, const std::vector<ScoredTerm>& terms,
                                      const Bm25Params& params, const DocFilter& filter, size_t n);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_BM25_SCORER_H_
