// ShardedPipeline: hymir::Pipeline (hymir/pipeline.h) over a sharded index,
// one MPI rank per shard, as `hymir-mpi search` runs it: KG expansion ->
// sharded retrieval with global BM25 statistics -> fusion -> MoE re-ranking,
// one PipelineResult per query on the root.
//
// The knowledge graph (a RocksDB directory one process reads) and the
// re-ranker live on the root, in a Pipeline over its shard's engine (whose
// analyzer and vector fields every shard shares). The root expands each
// query and sends the expansion terms to the other ranks, so that every
// shard searches the same queries; re-ranking gathers the candidates'
// documents and term statistics to the root (ShardedSearcher::
// SearchAndRerank), so the re-ranked order is one index's.
//
// What a sharded result carries: each hit's id, final score and every
// stage's score and rank, the query as run with its expansions, the
// retriever and fusion, the gate's routing, and with StageOptions::count
// (or facets asked for) the exact total and facets over all shards
// (ShardedSearcher::Count). With StageOptions::fetch_documents (the
// default), the page's documents (without vectors) and snippets are
// gathered from the shards that hold them. Re-ranker explanations are not:
// StageOptions::explain is ignored and PipelineHit::moe stays empty. Sorted
// queries are not re-ranked (as in Pipeline).
//
// Thread-safety: collective calls from one thread per rank (the thread that
// initialised MPI); every rank makes the same calls with the same arguments.
#ifndef HYMIR_DIST_SHARDED_PIPELINE_H_
#define HYMIR_DIST_SHARDED_PIPELINE_H_

#include <memory>
#include <vector>

#include "hymir/dist/cluster.h"
#include "hymir/dist/sharded_searcher.h"
#include "hymir/engine.h"
#include "hymir/pipeline.h"
#include "hymir/result.h"

namespace hymir::dist {

class ShardedPipeline {
 public:
  // Collective. Opens the sharded index options.index_dir (ShardedSearcher::
  // Open), then on the root the KG (options.kg_dir) and the re-ranker
  // (options.rerank_model, options.rerank_prior) over its shard's engine.
  // options.rerank_depth applies; options.threads is not used (re-ranking
  // runs on the root's thread). The same status on every rank: the
  // searcher's, or Pipeline::Open's on the root.
  static Result<std::unique_ptr<ShardedPipeline>> Open(const Cluster& cluster, const PipelineOptions& options);
  ~ShardedPipeline();

  // Collective; every rank passes the same queries and stages. Runs the
  // stages StageOptions names (expansion by default when options.kg_dir was
  // given, re-ranking when options.rerank_model was); asking for a stage the
  // pipeline lacks is InvalidArgument on every rank. On the root: one result
  // per query, in query order; on the other ranks: an empty vector. An error
  // on any rank is returned on every rank.
  Result<std::vector<PipelineResult>> SearchBatch(const std::vector<HybridQuery>& queries,
                                                  const StageOptions& stages = {});

  // BuildQuery() on this rank's shard (the same on every rank).
  Result<HybridQuery> MakeQuery(const QuerySpec& spec) const { return BuildQuery(spec, local()); }
  ShardedSearcher& searcher() { return *searcher_; }
  const Engine& local() const { return searcher_->local(); }
  // The root's pipeline over its shard (KG and re-ranker); null on the other
  // ranks and when options name neither.
  const Pipeline* root() const { return root_.get(); }
  bool has_kg() const { return !options_.kg_dir.empty(); }
  bool has_reranker() const { return !options_.rerank_model.empty(); }
  const PipelineOptions& options() const { return options_; }

 private:
  ShardedPipeline(const Cluster& cluster, PipelineOptions options, std::unique_ptr<ShardedSearcher> searcher)
      : cluster_(cluster), options_(std::move(options)), searcher_(std::move(searcher)) {}
  // The root's expansion of every query, sent to every rank.
  Status ShareExpansions(std::vector<PipelineResult>& results);

  const Cluster& cluster_;
  PipelineOptions options_;
  std::unique_ptr<ShardedSearcher> searcher_;
  std::unique_ptr<Pipeline> root_;
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDED_PIPELINE_H_
