// ShardedPipeline: the root's KG expansion shared with every rank, then
// ShardedSearcher's retrieval (and re-ranking on the root).
#include "hymir/dist/sharded_pipeline.h"

#include <utility>

#include "src/core/binary_io.h"

namespace hymir::dist {

ShardedPipeline::~ShardedPipeline() = default;

Result<std::unique_ptr<ShardedPipeline>> ShardedPipeline::Open(const Cluster& cluster, const PipelineOptions& options) {
  HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<ShardedSearcher> searcher, ShardedSearcher::Open(cluster, options.index_dir));
  std::unique_ptr<ShardedPipeline> p(new ShardedPipeline(cluster, options, std::move(searcher)));
  if (p->has_kg() || p->has_reranker()) {
    Status opened;
    if (cluster.is_root()) {
      auto root = Pipeline::Open(p->local(), options);
      if (root.ok()) p->root_ = std::move(root).value();
      opened = root.status();
    }
    HYMIR_RETURN_IF_ERROR(cluster.Agree(opened));
  }
  return p;
}

Status ShardedPipeline::ShareExpansions(std::vector<PipelineResult>& results) {
  internal::BinaryWriter out;
  Status s;
  if (cluster_.is_root()) {
    for (PipelineResult& r : results) {
      auto added = root_->Expand(&r.query);
      if (!added.ok()) {
        s = added.status().WithContext("query " + r.query.id);
        break;
      }
      r.expansions = std::move(added).value();
      r.expanded = true;
      out.U32(static_cast<uint32_t>(r.query.bm25.expansions.size()));
      for (const index::WeightedText& e : r.query.bm25.expansions) {
        out.Raw(&e.weight, sizeof e.weight);
        out.Str(e.text);
      }
    }
  }
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(s));
  HYMIR_RETURN_IF_ERROR(cluster_.Broadcast(out.out()));
  if (cluster_.is_root()) return Status::OK();
  internal::BinaryReader in(out.out());
  for (PipelineResult& r : results) {
    uint32_t n = 0;
    if (!in.U32(&n) || n > out.out().size()) return Status::Internal("damaged expansion message");
    r.query.bm25.expansions.resize(n);
    for (index::WeightedText& e : r.query.bm25.expansions) {
      if (!in.Raw(&e.weight, sizeof e.weight) || !in.Str(&e.text)) return Status::Internal("damaged expansion message");
    }
    r.expanded = true;
  }
  return Status::OK();
}

Result<std::vector<PipelineResult>> ShardedPipeline::SearchBatch(const std::vector<HybridQuery>& queries,
                                                                 const StageOptions& stages) {
  // The plan depends on the options only, so every rank makes the same one.
  const bool expand = stages.expand.value_or(has_kg());
  if (expand && !has_kg())
    return Status::InvalidArgument("KG expansion asked for, but the pipeline has no knowledge graph");
  const bool rerank = stages.rerank.value_or(has_reranker());
  if (rerank && !has_reranker()) return Status::InvalidArgument("re-ranking asked for, but the pipeline has no model");

  std::vector<PipelineResult> results(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) results[i].query = queries[i];
  if (expand) HYMIR_RETURN_IF_ERROR(ShareExpansions(results));
  std::vector<HybridQuery> run;
  run.reserve(results.size());
  for (const PipelineResult& r : results) run.push_back(r.query);

  std::vector<std::vector<SearchHit>> hits;
  std::vector<RerankedResult> reranked;
  if (rerank) {
    RerankOptions ro;
    ro.depth = options_.rerank_depth;
    HYMIR_ASSIGN_OR_RETURN(reranked, searcher_->SearchAndRerank(run, root_ ? root_->reranker() : nullptr, ro));
  } else {
    HYMIR_ASSIGN_OR_RETURN(hits, searcher_->SearchBatch(run));
  }
  if (!cluster_.is_root()) return std::vector<PipelineResult>();
  for (size_t i = 0; i < results.size(); ++i) {
    PipelineResult& r = results[i];
    r.retriever = local().ResolveRetriever(r.query);
    r.fusion = r.query.fusion ? *r.query.fusion : local().default_fusion();
    std::vector<SearchHit> page;
    if (rerank) {
      r.reranked = true;
      r.routing = std::move(reranked[i].routing);
      page = std::move(reranked[i].hits);
    } else {
      page = std::move(hits[i]);
    }
    r.hits.reserve(page.size());
    for (SearchHit& h : page) {
      PipelineHit ph;
      ph.hit = std::move(h);
      r.hits.push_back(std::move(ph));
    }
  }
  return results;
}

}  // namespace hymir::dist
