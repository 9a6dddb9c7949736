// ShardedSearcher: global BM25 statistics by one all-reduce, local top-k, merge on the root.
#include "hymir/dist/sharded_searcher.h"

#include <algorithm>
#include <set>

#include "hymir/index/analyzer.h"
#include "src/core/binary_io.h"

namespace hymir::dist {

ShardedSearcher::ShardedSearcher(const Cluster& cluster, ShardLayout layout, std::unique_ptr<index::Searcher> local)
    : cluster_(cluster), layout_(layout), local_(std::move(local)) {}

ShardedSearcher::~ShardedSearcher() = default;

Result<std::unique_ptr<ShardedSearcher>> ShardedSearcher::Open(const Cluster& cluster, const std::string& dir) {
  auto layout = ReadShardLayout(dir);
  Status s = layout.status();
  if (s.ok() && layout->shards != cluster.size())
    s = Status::InvalidArgument(dir + " has " + std::to_string(layout->shards) + " shards; run it with " +
                                std::to_string(layout->shards) + " ranks, not " + std::to_string(cluster.size()));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  auto local = index::Searcher::Open(ShardDir(dir, cluster.rank()));
  s = local.status();
  if (s.ok() && (*local)->analyzer() != layout->analyzer)
    s = Status::Corruption(ShardDir(dir, cluster.rank()) + ": analyzer " + index::AnalyzerName((*local)->analyzer()) +
                           " differs from the layout's " + index::AnalyzerName(layout->analyzer));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  return std::unique_ptr<ShardedSearcher>(new ShardedSearcher(cluster, *layout, std::move(local).value()));
}

Result<GlobalStatistics> ShardedSearcher::Statistics(const std::vector<index::TextQuery>& queries) {
  // Every rank analyses the same texts with the same analyzer, so the term
  // lists agree; a checksum of the list guards that assumption.
  std::set<std::string> unique;
  for (const auto& q : queries) {
    for (auto& t : index::Analyze(layout_.analyzer, q.text)) unique.insert(std::move(t));
    for (const auto& e : q.expansions)
      for (auto& t : index::Analyze(layout_.analyzer, e.text)) unique.insert(std::move(t));
  }
  std::vector<std::string> terms(unique.begin(), unique.end());
  uint64_t h = 1469598103934665603ULL;
  for (const auto& t : terms) {
    for (unsigned char c : t) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL;
  }
  std::vector<uint64_t> check = {h, ~h};
  HYMIR_RETURN_IF_ERROR(cluster_.MaxInPlace(check));
  if (check[0] != h || check[1] != ~h)
    return Status::Internal("ranks analysed the queries into different terms");  // same on every rank
  auto stats = local_->Statistics();
  std::vector<uint64_t> values = GlobalStatistics::ToVector(*stats, terms);
  HYMIR_RETURN_IF_ERROR(cluster_.SumInPlace(values));
  return GlobalStatistics::FromVector(terms, values);
}

Result<std::vector<std::vector<ShardHit>>> ShardedSearcher::SearchBatch(const std::vector<index::TextQuery>& queries) {
  HYMIR_ASSIGN_OR_RETURN(GlobalStatistics global, Statistics(queries));
  // Local top offset + k of every query, scored with the global statistics.
  internal::BinaryWriter w;
  Status s;
  for (const auto& query : queries) {
    index::TextQuery q = query;
    q.k = query.offset + query.k;
    q.offset = 0;
    q.statistics = &global;
    auto hits = local_->Search(q);
    if (!hits.ok()) {
      s = hits.status();
      break;
    }
    w.U32(static_cast<uint32_t>(hits->size()));
    for (const auto& h : *hits) {
      w.Str(h.id);
      w.Raw(&h.score, sizeof h.score);
    }
  }
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(s));
  HYMIR_ASSIGN_OR_RETURN(auto parts, cluster_.Gather(w.out()));
  std::vector<std::vector<ShardHit>> out(cluster_.is_root() ? queries.size() : 0);
  if (!cluster_.is_root()) return out;
  std::vector<internal::BinaryReader> readers;
  for (const auto& p : parts) readers.emplace_back(p);
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    std::vector<ShardHit> all;
    for (int r = 0; r < static_cast<int>(readers.size()); ++r) {
      uint32_t n = 0;
      if (!readers[r].U32(&n)) return Status::Internal("damaged hit list from rank " + std::to_string(r));
      for (uint32_t i = 0; i < n; ++i) {
        ShardHit h;
        h.shard = r;
        if (!readers[r].Str(&h.id) || !readers[r].Raw(&h.score, sizeof h.score))
          return Status::Internal("damaged hit list from rank " + std::to_string(r));
        all.push_back(std::move(h));
      }
    }
    // Stable: equal scores keep shard order, then the shard's own order.
    std::stable_sort(all.begin(), all.end(), [](const ShardHit& a, const ShardHit& b) { return a.score > b.score; });
    const size_t begin = std::min(all.size(), queries[qi].offset);
    const size_t end = std::min(all.size(), queries[qi].offset + queries[qi].k);
    for (size_t i = begin; i < end; ++i) {
      all[i].rank = static_cast<uint32_t>(i + 1);
      out[qi].push_back(std::move(all[i]));
    }
  }
  return out;
}

Result<uint64_t> ShardedSearcher::NumDocs() {
  std::vector<uint64_t> v = {local_->NumDocs()};
  HYMIR_RETURN_IF_ERROR(cluster_.SumInPlace(v));
  return v[0];
}

Status ShardedSearcher::Refresh() { return cluster_.Agree(local_->Refresh()); }

}  // namespace hymir::dist
