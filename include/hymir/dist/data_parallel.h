// Data-parallel training of the MoE re-ranker over MPI: the ranks share the
// training queries' feature groups and run ranking::TrainMoe together, each
// computing the gradient of its share of every batch; one all-reduce per
// batch sums them, and every rank takes the same step (see
// ranking::DataParallel). The result equals one process's training up to the
// order of floating-point additions.
//
// Thread-safety: collective calls from one thread per rank.
#ifndef HYMIR_DIST_DATA_PARALLEL_H_
#define HYMIR_DIST_DATA_PARALLEL_H_

#include <vector>

#include "hymir/dist/cluster.h"
#include "hymir/ranking/moe_trainer.h"
#include "hymir/ranking/ranking_data.h"
#include "hymir/result.h"
#include "hymir/train_reranker.h"

namespace hymir::dist {

// The ranking::DataParallel of this rank: worker = rank, workers = size, and
// an all-reduce that sums over the ranks. `cluster` must outlive training.
ranking::DataParallel DataParallelTraining(const Cluster& cluster);

// Collective. `mine` are this rank's groups of a round-robin split of a list
// (rank r holds the items r, r + size, r + 2 size, ...); returns the whole
// list, in its original order, on every rank.
Result<std::vector<ranking::QueryGroup>> AllGatherGroups(const Cluster& cluster,
                                                         const std::vector<ranking::QueryGroup>& mine);

// Sets `options`'s part, gather_groups, gather_domains, agree and
// train.parallel for this rank (hymir-mpi train): rank r expands, retrieves
// and featurises the judged queries r, r + size, ...; the corpus domains
// and the labelled groups are exchanged, a failure on one rank becomes the
// same error on all, and training is data-parallel. The model equals one
// process's TrainReranker up to the order of floating-point additions.
// `cluster` must outlive the training.
void DataParallelRerankerTraining(const Cluster& cluster, TrainRerankerOptions* options);

}  // namespace hymir::dist

#endif  // HYMIR_DIST_DATA_PARALLEL_H_
