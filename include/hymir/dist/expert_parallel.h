// Distributed pre-training of the MoE re-ranker over MPI (hymir-mpi
// pretrain): every rank generates the same pseudo-queries and builds its own
// training copy of the index; features are split round robin and exchanged;
// in the per-expert stage, expert x (routed, then shared) is trained only on
// rank x % size and the trained blocks are summed into every rank's model
// (expert-parallel); the joint stage is data-parallel (DataParallelTraining).
// The model equals one process's Pretrain up to the order of floating-point
// additions in the joint stage.
//
// Thread-safety: collective calls from one thread per rank.
#ifndef HYMIR_DIST_EXPERT_PARALLEL_H_
#define HYMIR_DIST_EXPERT_PARALLEL_H_

#include "hymir/dist/cluster.h"
#include "hymir/pretrain.h"

namespace hymir::dist {

// Sets `options`'s part, gather_groups, expert_filter, expert_gather and
// train.parallel for this rank; with PretrainOptions::work_dir set, each rank
// gets its own "<work_dir>.rank<R>". `cluster` must outlive the pre-training.
void ExpertParallelPretraining(const Cluster& cluster, PretrainOptions* options);

}  // namespace hymir::dist

#endif  // HYMIR_DIST_EXPERT_PARALLEL_H_
