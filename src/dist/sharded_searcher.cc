// ShardedSearcher: global BM25 statistics by one all-reduce, every shard's
// candidate lists to the root, merged and fused there as Engine does.
#include "hymir/dist/sharded_searcher.h"

#include <algorithm>
#include <set>

#include "hymir/index/analyzer.h"
#include "src/core/binary_io.h"

namespace hymir::dist {
namespace {

// A fingerprint of the shard's vector fields (every shard must agree).
uint64_t FieldsFingerprint(const std::vector<index::VectorFieldSpec>& fields) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL;
  };
  for (const auto& f : fields) {
    mix(f.name);
    mix(std::to_string(f.dimension));
    mix(index::VectorMetricName(f.metric));
    mix(f.embedder);
  }
  return h;
}

// The candidates of rank `r`'s message for one query: BM25 list, then vector list.
bool ReadLists(internal::BinaryReader& r, int shard, std::vector<std::vector<std::pair<ranking::Candidate, int>>>& lists) {
  for (auto& list : lists) {
    uint32_t n = 0;
    if (!r.U32(&n)) return false;
    for (uint32_t i = 0; i < n; ++i) {
      ranking::Candidate c;
      if (!r.Str(&c.id) || !r.Raw(&c.score, sizeof c.score)) return false;
      list.push_back({std::move(c), shard});
    }
  }
  return true;
}

}  // namespace

ShardedSearcher::ShardedSearcher(const Cluster& cluster, ShardLayout layout, std::unique_ptr<Engine> local)
    : cluster_(cluster), layout_(layout), local_(std::move(local)) {}

ShardedSearcher::~ShardedSearcher() = default;

Result<std::unique_ptr<ShardedSearcher>> ShardedSearcher::Open(const Cluster& cluster, const std::string& dir) {
  auto layout = ReadShardLayout(dir);
  Status s = layout.status();
  if (s.ok() && layout->shards != cluster.size())
    s = Status::InvalidArgument(dir + " has " + std::to_string(layout->shards) + " shards; run it with " +
                                std::to_string(layout->shards) + " ranks, not " + std::to_string(cluster.size()));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  const std::string shard_dir = ShardDir(dir, cluster.rank());
  auto local = Engine::Open(shard_dir);
  s = local.status();
  if (s.ok() && (*local)->searcher().analyzer() != layout->analyzer)
    s = Status::Corruption(shard_dir + ": analyzer " + index::AnalyzerName((*local)->searcher().analyzer()) +
                           " differs from the layout's " + index::AnalyzerName(layout->analyzer));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  const uint64_t mine = FieldsFingerprint((*local)->searcher().vector_fields());
  std::vector<uint64_t> check = {mine, ~mine};
  HYMIR_RETURN_IF_ERROR(cluster.MaxInPlace(check));
  if (check[0] != mine || check[1] != ~mine)
    s = Status::Corruption(shard_dir + ": its vector fields differ from another shard's");
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  return std::unique_ptr<ShardedSearcher>(new ShardedSearcher(cluster, *layout, std::move(local).value()));
}

Result<GlobalStatistics> ShardedSearcher::Statistics(const std::vector<HybridQuery>& queries) {
  // Every rank analyses the same texts with the same analyzer, so the term
  // lists agree; a fingerprint of the list guards that assumption.
  std::set<std::string> unique;
  for (const auto& q : queries) {
    for (auto& t : index::Analyze(layout_.analyzer, q.text)) unique.insert(std::move(t));
    for (const auto& e : q.bm25.expansions)
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
    return Status::Internal("ranks analysed the queries into different terms");  // the same on every rank
  auto stats = local_->searcher().Statistics();
  std::vector<uint64_t> values = GlobalStatistics::ToVector(*stats, terms);
  HYMIR_RETURN_IF_ERROR(cluster_.SumInPlace(values));
  return GlobalStatistics::FromVector(terms, values);
}

Result<std::vector<std::vector<SearchHit>>> ShardedSearcher::SearchBatch(const std::vector<HybridQuery>& queries) {
  HYMIR_ASSIGN_OR_RETURN(GlobalStatistics global, Statistics(queries));
  std::vector<HybridQuery> local = queries;
  for (auto& q : local) q.bm25.statistics = &global;
  // This shard's candidate lists, each to the depth Engine uses.
  auto lists = local_->Candidates(local);
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(lists.status()));
  internal::BinaryWriter w;
  for (const auto& query_lists : *lists) {
    for (const auto& list : query_lists) {
      w.U32(static_cast<uint32_t>(list.size()));
      for (const auto& c : list) {
        w.Str(c.id);
        w.Raw(&c.score, sizeof c.score);
      }
    }
  }
  HYMIR_ASSIGN_OR_RETURN(auto parts, cluster_.Gather(w.out()));
  std::vector<std::vector<SearchHit>> out(cluster_.is_root() ? queries.size() : 0);
  if (!cluster_.is_root()) return out;
  std::vector<internal::BinaryReader> readers;
  for (const auto& p : parts) readers.emplace_back(p);
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    // Each list merged over the shards: by score, equal scores in shard
    // order (then the shard's own order), cut at the length one index's
    // list would have.
    std::vector<std::vector<std::pair<ranking::Candidate, int>>> merged(2);
    for (int r = 0; r < static_cast<int>(readers.size()); ++r)
      if (!ReadLists(readers[r], r, merged)) return Status::Internal("damaged candidate lists from rank " + std::to_string(r));
    std::vector<std::vector<ranking::Candidate>> global_lists(2);
    for (size_t l = 0; l < 2; ++l) {
      auto& m = merged[l];
      std::stable_sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.first.score > b.first.score; });
      for (auto& c : m) global_lists[l].push_back(std::move(c.first));
    }
    // One index would have returned at most the depth each shard was asked for.
    const HybridQuery& q = local[qi];
    const size_t window = q.offset + q.k;
    const Retriever r = local_->ResolveRetriever(q);
    const size_t bm25_depth = r == Retriever::kBm25 ? window : std::max(q.bm25_depth, window);
    const size_t vector_depth = r == Retriever::kVector ? window : std::max(q.vector_depth, window);
    if (global_lists[0].size() > bm25_depth) global_lists[0].resize(bm25_depth);
    if (global_lists[1].size() > vector_depth) global_lists[1].resize(vector_depth);
    HYMIR_ASSIGN_OR_RETURN(out[qi], local_->HitsFromCandidates(q, global_lists));
  }
  return out;
}

Result<uint64_t> ShardedSearcher::NumDocs() {
  std::vector<uint64_t> v = {local_->searcher().NumDocs()};
  HYMIR_RETURN_IF_ERROR(cluster_.SumInPlace(v));
  return v[0];
}

Status ShardedSearcher::Refresh() { return cluster_.Agree(local_->Refresh()); }

}  // namespace hymir::dist
