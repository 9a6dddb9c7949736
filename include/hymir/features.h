// FeatureExtractor: the (query, document) and query features a learned
// re-ranker reads, built by the engine from a query's retrieved candidates.
//
// Pair features (per candidate): exact BM25 of title, text and both (from the
// document's terms as analysed at index time -- the forward index, or its
// stored text re-analysed for indexes written before -- and the index's
// collection statistics, so they equal the retriever's scores), BM25 relative
// to the list's best, dense cosine (LSA) and its gap to the best, each
// retriever's reciprocal rank, the fused score and reciprocal rank, query-term
// coverage (plain, IDF-weighted, title), the densest window covering the
// matched query terms, adjacent query-bigram matches, document and title
// length, when a knowledge graph is attached, the KG features, and with
// FeatureConfig::vector_field_features each vector field's similarity and rank.
//
// Query features (the gate's input, never a domain label): analysed length,
// IDF mean/max/min/spread, the share of terms unknown to the collection, the
// first components of the query embedding, and per corpus domain (values of
// the documents' `domain` field named in the config) the share of the top-20
// candidates from that domain and that domain's best BM25 relative to the
// list's best -- a retrieval-based estimate of which domain's term
// statistics the query matches.
//
// The feature list is named by a FeatureConfig and recorded as a
// ranking::FeatureSchema in every model; an extractor can be rebuilt from a
// model's schema (ConfigFromSchema), which fails when the schema names
// features this build does not know.
//
// Thread-safety: Extract() may run concurrently from many threads (an
// internal cache of analysed documents is guarded by a mutex).
#ifndef HYMIR_FEATURES_H_
#define HYMIR_FEATURES_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hymir/document.h"
#include "hymir/engine.h"
#include "hymir/index/collection_statistics.h"
#include "hymir/ranking/qrels.h"
#include "hymir/ranking/ranking_data.h"
#include "hymir/result.h"

namespace hymir {

class KnowledgeContext;  // hymir/knowledge.h

struct FeatureConfig {
  // Leading query-embedding components fed to the gate (0 = none; clipped to
  // the vector field's dimension). Default: 16.
  int query_embedding_dims = 16;
  // Corpus domains for the per-domain gate features; empty = none.
  std::vector<std::string> domains;
  // Add the KG count features (needs a KnowledgeContext at extraction).
  bool kg = false;
  // Add the knowledge-fusion pair features (entities the candidate shares
  // with the query, per KG source; graph nearness; definition-text match;
  // TransE similarity; all in [0, 1], 0 without knowledge). Needs a
  // KnowledgeContext. Default: false (KgUses turns it on with a KG).
  bool kg_fusion = false;
  // Add the query's knowledge as gate inputs (how many entities, the share
  // from each KG source, how specific, how many defined). Needs a
  // KnowledgeContext. Default: false (KgUses turns it on with a KG).
  bool kg_gate = false;
  // True when some feature needs a KnowledgeContext.
  bool UsesKg() const { return kg || kg_fusion || kg_gate; }
  // Also copy the query features (all but the embedding components) into
  // every pair row as "x_<name>", so the experts see them too, not only the
  // gate. Default: false.
  bool pair_query_features = false;
  // Sentence features of the document text (split at . ! ? before
  // whitespace and at line breaks): the best sentence's idf-weighted
  // query-term coverage ("sent_idf_coverage") and, with an embedder, the
  // best sentence's cosine to the query embedding ("sent_dense"). A claim is
  // often supported by one sentence of an abstract. Costs one analysis and
  // one embedding per sentence when a document enters the cache. Off by
  // default: in cross-validation on the train splits it lowered the MoE
  // (mixed macro nDCG@10 0.4824 vs 0.4906; scifact 0.6893 vs 0.6904).
  bool sentence_features = false;
  // Read each candidate's analysed title and text, sentence boundaries,
  // domain and KG entities from the index's forward index
  // (Searcher::GetAnalysed) instead of re-analysing its stored text; the
  // features are the same either way (a test checks it). Documents the
  // forward index lacks (indexes written before it) take the stored-text
  // path. Not part of the schema. Default: true.
  bool use_forward_index = true;
  // Features of every vector field of the index (multimedia: one field per
  // descriptor). Per field F, pair features "vf_sim:F" (the similarity of
  // the query's vector for F to the candidate's stored vector, in F's metric:
  // inner product, cosine, or negated squared L2; 0 when either is missing)
  // and "vf_rrank:F" (1 / the candidate's rank in F's list, 0 when absent);
  // query features "q_has_text" (1 when the query has a term after analysis)
  // and "q_vf:F" (1 when the query has a vector for F), so that the gate can
  // tell image, text and combined queries apart. The query's vector for F is
  // HybridQuery::vector (for its vector_field) or a more_vectors clause.
  // Default: false.
  bool vector_field_features = false;
};

// Where Extract() reads documents and collection statistics when they are
// not the engine's own: a sharded index (hymir::dist) gathers the candidates'
// documents from their shards and sums the statistics over the shards. An
// empty member falls back to the engine. Documents from here are not cached.
struct ExtractSources {
  // Used for every BM25 idf and average length, and the feedback terms'
  // document frequencies.
  const index::CollectionStatistics* statistics = nullptr;
  // The stored document with `id` (NotFound when absent).
  std::function<Result<Document>(const std::string& id)> document;
  // Document `id`'s vector in vector field `field` (the extractor's; NotFound:
  // re-embedded).
  std::function<Result<std::vector<float>>(const std::string& field, const std::string& id)> vector;
};

class FeatureExtractor {
 public:
  // `engine` (and `kg`, when config.kg) must outlive the extractor.
  // InvalidArgument when config.kg is set without a KnowledgeContext.
  static Result<std::unique_ptr<FeatureExtractor>> Create(const Engine& engine, FeatureConfig config,
                                                          const KnowledgeContext* kg = nullptr);
  // The config that produces `schema`; InvalidArgument naming the first
  // feature this build cannot compute.
  static Result<FeatureConfig> ConfigFromSchema(const ranking::FeatureSchema& schema);

  ~FeatureExtractor();
  const ranking::FeatureSchema& schema() const;
  const FeatureConfig& config() const;

  // Features of `hits` (a result of engine.Search for `query`, in rank order).
  // Labels are left empty. NotFound when a hit's document vanished.
  // `sources` (optional) supplies documents and statistics from elsewhere.
  Result<ranking::QueryGroup> Extract(const HybridQuery& query, const std::vector<SearchHit>& hits,
                                      const ExtractSources* sources = nullptr) const;

  // Extract() for many queries on `threads` threads (0 = hardware concurrency).
  Result<std::vector<ranking::QueryGroup>> ExtractBatch(const std::vector<HybridQuery>& queries,
                                                        const std::vector<std::vector<SearchHit>>& hits,
                                                        int threads = 0) const;

  // Distinct `domain` values of the documents in `hits` lists (sorted), to
  // fill FeatureConfig::domains when training.
  static Result<std::vector<std::string>> DomainsOf(const Engine& engine,
                                                    const std::vector<std::vector<SearchHit>>& hits);

 private:
  struct Impl;
  explicit FeatureExtractor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The top `depth` hits of every query (engine.SearchBatch in bounded chunks;
// each query's retriever, fusion and filters are kept, its offset and k are
// replaced by 0 and `depth`).
Result<std::vector<std::vector<SearchHit>>> RetrieveCandidates(const Engine& engine,
                                                               const std::vector<HybridQuery>& queries, size_t depth);

// RetrieveCandidates, then the features of the hits: one group per query,
// unlabelled. `hits_out` (optional) receives the hit lists.
Result<std::vector<ranking::QueryGroup>> RetrieveAndExtract(const Engine& engine, const FeatureExtractor& features,
                                                            const std::vector<HybridQuery>& queries, size_t depth,
                                                            int threads = 0,
                                                            std::vector<std::vector<SearchHit>>* hits_out = nullptr);

// Prepares extracted groups for training: labels from `qrels`
// (ranking::LabelGroup) and each group's domain index, query_domains[i]
// (the query's `domain`, "" when none) looked up in `corpus_domains` (the
// extractor's FeatureConfig::domains; -1 when absent). Returns the number
// of groups with a relevant candidate.
size_t LabelForTraining(std::vector<ranking::QueryGroup>& groups, const ranking::Qrels& qrels,
                        const std::vector<std::string>& query_domains, const std::vector<std::string>& corpus_domains);

}  // namespace hymir

#endif  // HYMIR_FEATURES_H_
