// The internal interface of FeatureExtractor: a query's features
// are computed by feature families, each filling its own columns of the
// pair rows and the query vector from one shared, read-only QueryContext.
//
//   family           pair features                          query features
//   lexical          bm25_{all,title,text,all_rel},          -
//                    bm25_k12_b75, bm25_k20_b30, coverage,
//                    idf_coverage, title_coverage,
//                    log_doc_len, log_title_len
//   proximity        window_density, bigram_match            -
//   retrieval        bm25_rrank, bm25_present, dense_rrank,  -
//                    fused_score, fused_rrank
//   dense            dense_sim, dense_gap                    q_emb_<i>
//   feedback (PRF)   prf_dense, prf_lex                      -
//   query            -                                       q_len, q_idf_*, q_oov,
//                                                            q_top_bm25, q_bm25_gap
//   domain           -                                       q_domain_share:<d>, q_domain_best:<d>
//   kg               KnowledgeContext::PairFeatureNames()    KnowledgeContext::QueryFeatureNames()
//   kg_fusion        kgf_shared, kgf_shared_rel,             kgf_q_entities, kgf_q_linked,
//                    kgf_shared:<source>, kgf_near,          kgf_q_source:<source>, kgf_q_specific,
//                    kgf_def, kgf_def_rel, kgf_emb           kgf_q_multiword, kgf_q_defined
//   sentence         sent_idf_coverage, sent_dense           -
//   vector field     vf_sim:<F>, vf_rrank:<F>                q_has_text, q_vf:<F>
//
// The schema's column order is FeatureExtractor's (models store it); a
// family never sees it: FeatureExtractor::Create maps each family's names to
// schema columns once (FamilyColumns), and the family writes through them.
//
// Thread-safety: a family is immutable after construction; Compute() runs
// concurrently from many threads (per-thread scratch is thread_local).
#ifndef HYMIR_SRC_ENGINE_FEATURES_FAMILY_H_
#define HYMIR_SRC_ENGINE_FEATURES_FAMILY_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hymir/engine.h"
#include "hymir/features.h"
#include "hymir/index/bm25.h"
#include "hymir/index/collection_statistics.h"
#include "hymir/index/searcher.h"
#include "hymir/status.h"

namespace hymir::internal {

// A candidate document as the features read it: analysed once (from the
// forward index, or its stored text re-analysed) and cached by the extractor.
struct AnalysedDoc {
  std::vector<std::string> title, text;
  std::vector<uint32_t> ids;                         // title then text terms as ids of the extractor's dictionary
  std::vector<std::vector<uint32_t>> sentences;      // analysed (ids), with FeatureConfig::sentence_features
  std::vector<std::vector<float>> sentence_vectors;  // embedded, the same (when the index has an embedder)
  std::string domain;
  std::vector<float> embedding;       // empty when the index has no embedder
  std::vector<std::string> entities;  // linked KG entities (only with a KG)
};

// Cosine of two vectors of float or double; 0 when empty, of different
// sizes, or one is zero.
template <typename A, typename B>
double Cosine(const A& a, const B& b) {
  if (a.empty() || a.size() != b.size()) return 0.0;
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

// A per-thread table from term id to a small value (a query slot), all -1
// outside the ids set through it; Clear() resets only those.
class SlotTable {
 public:
  void Reserve(size_t n) {
    if (slot_.size() < n) slot_.resize(n, -1);
  }
  void Set(uint32_t id, int v) {
    if (slot_[id] < 0) touched_.push_back(id);
    slot_[id] = v;
  }
  int operator[](uint32_t id) const { return slot_[id]; }
  void Clear() {
    for (uint32_t id : touched_) slot_[id] = -1;
    touched_.clear();
  }

 private:
  std::vector<int> slot_;
  std::vector<uint32_t> touched_;
};

// What every family may read about one query and its candidates, computed
// once per Extract() call (BuildQueryContext in context.cc). Read-only to
// the families.
struct QueryContext {
  const HybridQuery* query = nullptr;
  const std::vector<SearchHit>* hits = nullptr;  // n candidates, rank order
  const ExtractSources* sources = nullptr;       // may be null
  const index::Searcher* searcher = nullptr;
  const index::CollectionStatistics* stats = nullptr;  // the sources' or the searcher's
  index::Bm25Params bm25;                              // the query's BM25 parameters

  // The analysed query: its terms in order, the distinct terms sorted (slot
  // k is unique[k]) and each term's slot.
  std::vector<std::string> terms, unique;
  std::vector<int> term_slot;
  std::vector<std::array<double, 3>> idf;  // per slot: idf in fields all, title, text
  std::vector<double> idf_all;             // per slot: idf[k][0]
  double total_idf = 0;                    // sum of idf_all
  size_t oov = 0;                          // slots with document frequency 0 in "all"
  double avgdl[3] = {0, 0, 0};             // average length of all, title, text
  std::vector<float> qvec;                 // the query's vector in the extractor's embedded field (may be empty)
  // The extractor's embedded vector field, "" when none.
  const std::string* vector_field = nullptr;

  std::vector<std::shared_ptr<const AnalysedDoc>> docs;  // per candidate
  const SlotTable* slot_of = nullptr;                    // term id -> query slot (-1: not a query term)
  size_t dict_size = 0;                                  // every candidate's term ids are below this

  // Per candidate i: term frequencies tf[i * q + k] = {title, text} of slot k,
  // and the query-term occurrences occ[occ_begin[i] .. occ_begin[i + 1]) as
  // (position in title-then-text, slot), in position order.
  std::vector<std::array<uint32_t, 2>> tf;
  std::vector<std::pair<uint32_t, int>> occ;
  std::vector<size_t> occ_begin;
  // Per candidate: BM25 of field "all" (the query's parameters, repeated
  // query terms counted repeatedly), and its maximum over the list.
  std::vector<double> bm25_all;
  double best_bm25 = 0;

  size_t size() const { return docs.size(); }
  size_t slots() const { return unique.size(); }
  const AnalysedDoc& doc(size_t i) const { return *docs[i]; }
  const SearchHit& hit(size_t i) const { return (*hits)[i]; }
  const std::array<uint32_t, 2>* tf_of(size_t i) const { return tf.data() + i * unique.size(); }
};

// The schema columns of one family's features: pair[k] is the column of its
// k-th pair name in a pair row, query[k] that of its k-th query name.
struct FamilyColumns {
  std::vector<size_t> pair, query;
};

// Where a family writes: the n x d row-major pair matrix and the query vector.
struct FeatureOutput {
  double* pair = nullptr;
  size_t d = 0;
  double* query = nullptr;
  double& Pair(size_t i, size_t col) const { return pair[i * d + col]; }
};

class FeatureFamily {
 public:
  virtual ~FeatureFamily() = default;
  // A short name ("lexical"), for messages.
  virtual const char* name() const = 0;
  // The features this family fills, in the order of its columns.
  virtual std::vector<std::string> PairNames() const = 0;
  virtual std::vector<std::string> QueryNames() const = 0;
  // Fills the family's columns of every candidate's row and of the query
  // vector (both zero on entry).
  virtual Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const = 0;
};

// Fills the analysed query of `ctx` (terms .. qvec) from its query,
// searcher, stats and vector_field.
void AnalyseQuery(QueryContext* ctx);
// Fills tf, occ, occ_begin, bm25_all and best_bm25 of `ctx` from its docs
// (one per hit) and slot_of (set for the query's terms).
void FillQueryMatches(QueryContext* ctx);

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_FAMILY_H_
