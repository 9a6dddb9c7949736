// ShardedPipeline: the root's KG expansion shared with every rank, then
// ShardedSearcher's retrieval (and re-ranking on the root).
#include "hymir/dist/sharded_pipeline.h"

#include <map>
#include <set>
#include <utility>

#include "hymir/snippet.h"
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
  // A sort fixes the order: a sorted query is not re-ranked (as Pipeline::Search).
  for (const HybridQuery& q : queries)
    if (!q.sort.empty() && stages.rerank.value_or(false))
      return Status::InvalidArgument("a sorted query cannot be re-ranked");
  std::vector<PipelineResult> results(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) results[i].query = queries[i];
  // Totals and facets, of the query before expansion (as Pipeline::Search).
  std::vector<HybridQuery> counted;
  std::vector<size_t> counted_at;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (!stages.count && queries[i].facets.empty()) continue;
    counted.push_back(queries[i]);
    counted_at.push_back(i);
  }
  if (!counted.empty()) {
    HYMIR_ASSIGN_OR_RETURN(std::vector<index::SearchResults> counts, searcher_->Count(counted));
    for (size_t j = 0; j < counts.size(); ++j) {  // the root only
      results[counted_at[j]].total = counts[j].total;
      results[counted_at[j]].facets = std::move(counts[j].facets);
    }
  }
  if (expand) HYMIR_RETURN_IF_ERROR(ShareExpansions(results));
  // Re-ranked and plain (or sorted) queries, each group in one collective call.
  std::vector<HybridQuery> to_rerank, to_search;
  std::vector<size_t> rerank_at, search_at;
  for (size_t i = 0; i < results.size(); ++i) {
    if (rerank && results[i].query.sort.empty()) {
      to_rerank.push_back(results[i].query);
      rerank_at.push_back(i);
    } else {
      to_search.push_back(results[i].query);
      search_at.push_back(i);
    }
  }
  std::vector<std::vector<SearchHit>> pages(results.size());
  if (!to_rerank.empty()) {
    RerankOptions ro;
    ro.depth = options_.rerank_depth;
    HYMIR_ASSIGN_OR_RETURN(std::vector<RerankedResult> reranked,
                           searcher_->SearchAndRerank(to_rerank, root_ ? root_->reranker() : nullptr, ro));
    for (size_t j = 0; j < reranked.size(); ++j) {  // the root only
      PipelineResult& r = results[rerank_at[j]];
      r.reranked = true;
      r.routing = std::move(reranked[j].routing);
      pages[rerank_at[j]] = std::move(reranked[j].hits);
    }
  }
  if (!to_search.empty()) {
    HYMIR_ASSIGN_OR_RETURN(auto hits, searcher_->SearchBatch(to_search));
    for (size_t j = 0; j < hits.size(); ++j) pages[search_at[j]] = std::move(hits[j]);  // the root only
  }
  // The page's documents, from the shards that hold them.
  std::map<std::string, Document> documents;
  if (stages.fetch_documents) {
    std::set<std::string> ids;
    for (const auto& page : pages)
      for (const SearchHit& h : page) ids.insert(h.id);
    HYMIR_ASSIGN_OR_RETURN(documents, searcher_->GetDocuments(std::vector<std::string>(ids.begin(), ids.end())));
  }
  if (!cluster_.is_root()) return std::vector<PipelineResult>();
  for (size_t i = 0; i < results.size(); ++i) {
    PipelineResult& r = results[i];
    r.retriever = local().ResolveRetriever(r.query);
    r.fusion = r.query.fusion ? *r.query.fusion : local().default_fusion();
    r.hits.reserve(pages[i].size());
    for (SearchHit& h : pages[i]) {
      PipelineHit ph;
      if (auto it = documents.find(h.id); it != documents.end()) {
        if (stages.snippet_chars > 0) ph.snippet = Snippet(it->second.text, stages.snippet_chars);
        ph.document = it->second;
      }
      ph.hit = std::move(h);
      r.hits.push_back(std::move(ph));
    }
  }
  return results;
}

}  // namespace hymir::dist
