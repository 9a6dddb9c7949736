// ShardedSearcher: search over a sharded index with one MPI rank per shard,
// through the same pipeline as Engine: BM25, vector or hybrid retrieval.
// For each batch of queries the ranks analyse the query terms and sum every
// shard's statistics of those terms (one all-reduce), so each shard scores
// BM25 exactly as one index of all documents would; each shard sends its
// candidate lists (BM25 and vector, each to its depth) to the root, which
// merges them into the global lists and fuses them as Engine does. Results
// equal one index's (built from the same documents, with the same embedder)
// up to the order of equal scores: ties keep shard order.
//
// Every shard must have the same vector fields and schema (typed fields); a
// field with the built-in embedder needs the same model in every shard
// (`hymir-mpi index --embed` trains one and gives it to every shard).
//
// Thread-safety: collective calls from one thread per rank.
#ifndef HYMIR_DIST_SHARDED_SEARCHER_H_
#define HYMIR_DIST_SHARDED_SEARCHER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hymir/dist/cluster.h"
#include "hymir/dist/global_statistics.h"
#include "hymir/dist/sharding.h"
#include "hymir/document.h"
#include "hymir/engine.h"
#include "hymir/reranker.h"
#include "hymir/result.h"

namespace hymir::dist {

class ShardedSearcher {
 public:
  // Collective. NotFound on every rank when `dir` is not a sharded index or
  // a shard is missing; InvalidArgument when the job's size differs from the
  // shard count, Corruption when the shards disagree on analyzer, vector
  // fields or schema (naming the first shard whose schema differs from
  // shard 0's).
  static Result<std::unique_ptr<ShardedSearcher>> Open(const Cluster& cluster, const std::string& dir);
  ~ShardedSearcher();

  // Collective; every rank passes the same queries. On the root: one hit list
  // per query, every stage's score and rank kept (SearchHit); on other ranks:
  // empty lists. A query's bm25.statistics is replaced by the global
  // statistics; fusion defaults to shard 0's default. A sorted query
  // (HybridQuery::sort) has each shard rank every match by the keys and send
  // its top offset + k with the values they sort by; the root merges them by
  // the same order (keys, then score, then id), so pages are slices of one
  // index's order. An error on any rank (e.g. an unknown filter field) is
  // returned on every rank.
  Result<std::vector<std::vector<SearchHit>>> SearchBatch(const std::vector<HybridQuery>& queries);

  // Collective: SearchBatch, then MoE re-ranking on the root with
  // `reranker` (required on the root, ignored elsewhere; open it on local(),
  // whose vector fields every shard shares). The ranks send the root the
  // documents of its top `options.depth` candidates that they hold, and the
  // statistics of every term the features look up are summed over the
  // shards (one extra all-reduce), so the features, and so the re-ranked
  // order, are one index's. On the root: one result per query; elsewhere:
  // none.
  Result<std::vector<RerankedResult>> SearchAndRerank(const std::vector<HybridQuery>& queries, const Reranker* reranker,
                                                      const RerankOptions& options = {});

  // Collective; every rank passes the same queries. On the root: per query,
  // the exact number of documents its BM25 query and filters match over all
  // shards (the sum of the shards' totals) and its facets (Engine::Count;
  // no hits); elsewhere: none. Facet counts are exact: every shard sends
  // the count of every value its matches hold (not only its top N), the
  // root sums them per value and ranks them as one index does; buckets are
  // summed bound by bound. An error on any rank (an unknown or
  // non-facetable field) is returned on every rank.
  Result<std::vector<index::SearchResults>> Count(const std::vector<HybridQuery>& queries);

  // Collective: the stored documents of `ids` (given on the root; ignored
  // elsewhere), from the shards that hold them, with their vectors when
  // `with_vectors`. On the root: by id, absent ids left out; elsewhere:
  // empty.
  Result<std::map<std::string, Document>> GetDocuments(const std::vector<std::string>& ids, bool with_vectors = false);

  // Collective: the global statistics of the analysed terms of `queries`.
  Result<GlobalStatistics> Statistics(const std::vector<HybridQuery>& queries);
  // Collective: live documents over all shards.
  Result<uint64_t> NumDocs();
  // Collective: moves every shard to its newest commit.
  Status Refresh();

  // This rank's shard.
  const Engine& local() const { return *local_; }
  const ShardLayout& layout() const { return layout_; }

 private:
  ShardedSearcher(const Cluster& cluster, ShardLayout layout, std::unique_ptr<Engine> local);
  // Collective: the statistics of `terms` (the same list on every rank)
  // summed over the shards.
  Result<GlobalStatistics> SumStatistics(const std::vector<std::string>& terms);
  const Cluster& cluster_;
  ShardLayout layout_;
  std::unique_ptr<Engine> local_;
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDED_SEARCHER_H_
