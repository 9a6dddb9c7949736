// Expert-parallel pre-training: the hooks of PretrainOptions over MPI.
#include "hymir/dist/expert_parallel.h"

#include <algorithm>

#include "hymir/dist/data_parallel.h"

namespace hymir::dist {

void ExpertParallelPretraining(const Cluster& cluster, PretrainOptions* options) {
  const int size = cluster.size(), rank = cluster.rank();
  options->part = {rank, size};
  options->gather_groups = [&cluster](const std::vector<ranking::QueryGroup>& mine) {
    return AllGatherGroups(cluster, mine);
  };
  options->expert_filter = [size, rank](int expert) { return expert % size == rank; };
  // Each expert block from the rank that trained it; the rest of the vector
  // (the gate, identical on every rank) from rank 0. One sum does both.
  const int experts = options->train.model.routed_experts + options->train.model.shared_experts;
  options->expert_gather = [&cluster, size, rank, experts](std::vector<double>& params, size_t block) -> Status {
    std::vector<double> mine(params.size(), 0.0);
    for (int x = 0; x < experts; ++x)
      if (x % size == rank)
        std::copy(params.begin() + x * block, params.begin() + (x + 1) * block, mine.begin() + x * block);
    if (rank == 0) std::copy(params.begin() + experts * block, params.end(), mine.begin() + experts * block);
    HYMIR_RETURN_IF_ERROR(cluster.SumInPlace(mine));
    params = std::move(mine);
    return Status::OK();
  };
  options->train.parallel = DataParallelTraining(cluster);
  if (!options->work_dir.empty() && size > 1) options->work_dir += ".rank" + std::to_string(rank);
}

}  // namespace hymir::dist
