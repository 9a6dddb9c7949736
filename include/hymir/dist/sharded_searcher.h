// ShardedSearcher: BM25 search over a sharded index with one MPI rank per
// shard and global collection statistics. For each batch of queries the
// ranks analyse the query terms, sum every shard's statistics of those terms
// (one all-reduce), score their own shard with the sums (so every score
// equals the score one index of all documents would give), and send their
// top offset + k to the root, which merges them. Results match a single
// index's up to the order of equal scores (ties: lower shard first, then the
// shard's own order).
//
// Vector fields are not part of sharded indexes yet; queries are BM25
// TextQuerys (fields, weights, expansions, filters, k1/b, pagination).
//
// Thread-safety: collective calls from one thread per rank.
#ifndef HYMIR_DIST_SHARDED_SEARCHER_H_
#define HYMIR_DIST_SHARDED_SEARCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hymir/dist/cluster.h"
#include "hymir/dist/global_statistics.h"
#include "hymir/dist/sharding.h"
#include "hymir/index/searcher.h"
#include "hymir/index/text_query.h"
#include "hymir/result.h"

namespace hymir::dist {

struct ShardHit {
  std::string id;
  double score = 0.0;
  uint32_t rank = 0;  // 1-based, counting from the top of the merged ranking
  int shard = 0;
};

class ShardedSearcher {
 public:
  // Collective. NotFound on every rank when `dir` is not a sharded index or
  // a shard is missing; InvalidArgument when the job's size differs from the
  // shard count.
  static Result<std::unique_ptr<ShardedSearcher>> Open(const Cluster& cluster, const std::string& dir);
  ~ShardedSearcher();

  // Collective; every rank passes the same queries. On the root: one merged
  // hit list per query; on other ranks: empty lists. A query's `statistics`
  // member is ignored (the global statistics are used). An error on any rank
  // (e.g. an unknown filter field) is returned on every rank.
  Result<std::vector<std::vector<ShardHit>>> SearchBatch(const std::vector<index::TextQuery>& queries);

  // Collective: the global statistics of the analysed terms of `queries`.
  Result<GlobalStatistics> Statistics(const std::vector<index::TextQuery>& queries);
  // Collective: live documents over all shards.
  Result<uint64_t> NumDocs();
  // Collective: moves every shard to its newest commit.
  Status Refresh();

  const index::Searcher& local() const { return *local_; }
  const ShardLayout& layout() const { return layout_; }

 private:
  ShardedSearcher(const Cluster& cluster, ShardLayout layout, std::unique_ptr<index::Searcher> local);
  const Cluster& cluster_;
  ShardLayout layout_;
  std::unique_ptr<index::Searcher> local_;
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_SHARDED_SEARCHER_H_
