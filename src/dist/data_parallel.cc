// Data-parallel MoE training over MPI: the all-reduce and the group exchange.
#include "hymir/dist/data_parallel.h"

#include <set>

#include "src/core/binary_io.h"

namespace hymir::dist {
namespace {

void Encode(internal::BinaryWriter& w, const ranking::QueryGroup& g) {
  w.Str(g.query_id);
  w.Pods(g.query_features);
  w.Strings(g.doc_ids);
  w.Pods(g.pair_features);
  w.Pods(g.labels);
  w.U32(static_cast<uint32_t>(g.domain));
  w.Raw(&g.weight, sizeof g.weight);
}

bool Decode(internal::BinaryReader& r, ranking::QueryGroup* g) {
  uint32_t domain = 0;
  if (!r.Str(&g->query_id) || !r.Pods(&g->query_features) || !r.Strings(&g->doc_ids) || !r.Pods(&g->pair_features) ||
      !r.Pods(&g->labels) || !r.U32(&domain) || !r.Raw(&g->weight, sizeof g->weight))
    return false;
  g->domain = static_cast<int>(domain);
  return true;
}

}  // namespace

ranking::DataParallel DataParallelTraining(const Cluster& cluster) {
  ranking::DataParallel dp;
  dp.workers = cluster.size();
  dp.worker = cluster.rank();
  dp.all_reduce = [&cluster](std::vector<double>& values) { return cluster.SumInPlace(values); };
  return dp;
}

Result<std::vector<ranking::QueryGroup>> AllGatherGroups(const Cluster& cluster,
                                                         const std::vector<ranking::QueryGroup>& mine) {
  internal::BinaryWriter w;
  w.U64(mine.size());
  for (const auto& g : mine) Encode(w, g);
  HYMIR_ASSIGN_OR_RETURN(auto parts, cluster.AllGather(w.out()));
  std::vector<std::vector<ranking::QueryGroup>> by_rank(parts.size());
  size_t total = 0;
  for (size_t r = 0; r < parts.size(); ++r) {
    internal::BinaryReader reader(parts[r]);
    uint64_t n = 0;
    if (!reader.U64(&n) || n > parts[r].size())
      return Status::Internal("damaged groups from rank " + std::to_string(r));
    by_rank[r].resize(n);
    for (auto& g : by_rank[r])
      if (!Decode(reader, &g)) return Status::Internal("damaged groups from rank " + std::to_string(r));
    total += n;
  }
  // Round-robin back into the original order: item i came from rank i % size.
  std::vector<ranking::QueryGroup> out;
  out.reserve(total);
  const size_t size = parts.size();
  for (size_t i = 0; i < total; ++i) {
    auto& from = by_rank[i % size];
    const size_t at = i / size;
    if (at >= from.size())
      return Status::InvalidArgument("groups are not a round-robin split (item " + std::to_string(i) + ")");
    out.push_back(std::move(from[at]));
  }
  return out;
}

void DataParallelRerankerTraining(const Cluster& cluster, TrainRerankerOptions* options) {
  options->part = {cluster.rank(), cluster.size()};
  options->gather_groups = [&cluster](const std::vector<ranking::QueryGroup>& mine) {
    return AllGatherGroups(cluster, mine);
  };
  options->gather_domains = [&cluster](const std::vector<std::string>& mine) -> Result<std::vector<std::string>> {
    std::string joined;
    for (const auto& d : mine) joined += d + '\n';
    HYMIR_ASSIGN_OR_RETURN(auto all, cluster.AllGather(joined));
    std::set<std::string> united;
    for (const auto& part : all) {
      size_t b = 0;
      for (size_t e; (e = part.find('\n', b)) != std::string::npos; b = e + 1) united.insert(part.substr(b, e - b));
    }
    return std::vector<std::string>(united.begin(), united.end());
  };
  options->agree = [&cluster](const Status& local) { return cluster.Agree(local); };
  options->train.parallel = DataParallelTraining(cluster);
}

}  // namespace hymir::dist
