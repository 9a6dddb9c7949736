// Cluster: the processes of one MPI job (MPI_COMM_WORLD) as hymir's sharded
// index and search see them: a rank, a size, and collective operations that
// agree on errors, so that a failure on one rank becomes the same error on
// every rank instead of a deadlock.
//
// One Cluster per process: Init() initialises MPI (with thread support
// MPI_THREAD_FUNNELED) unless it already is, and the destructor finalises it
// when Init() initialised it. hymir's collective calls (ShardedWriter,
// ShardedSearcher) must be made by every rank, in the same order.
//
// Thread-safety: not thread-safe; make collective calls from one thread.
#ifndef HYMIR_DIST_CLUSTER_H_
#define HYMIR_DIST_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hymir/result.h"

namespace hymir::dist {

class Cluster {
 public:
  // `argc`/`argv` may be null. FailedPrecondition when MPI was already
  // finalised in this process.
  static Result<std::unique_ptr<Cluster>> Init(int* argc, char*** argv);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // --- Collectives (every rank calls them, in the same order). ---

  // OK on every rank when `local` is OK on every rank; otherwise every rank
  // returns the error of the lowest failing rank, prefixed "rank R: ".
  Status Agree(const Status& local) const;
  // Element-wise sum of `values` over the ranks, in place (same length on
  // every rank; InvalidArgument on every rank otherwise).
  Status SumInPlace(std::vector<uint64_t>& values) const;
  // Element-wise sum of doubles, in place; same contract.
  Status SumInPlace(std::vector<double>& values) const;
  // Element-wise maximum, in place; same contract as SumInPlace.
  Status MaxInPlace(std::vector<uint64_t>& values) const;
  // `bytes` of the root, on every rank.
  Status Broadcast(std::string& bytes) const;
  // Every rank's `bytes`, on the root (in rank order); empty elsewhere.
  Result<std::vector<std::string>> Gather(const std::string& bytes) const;
  // Every rank's `bytes`, on every rank (in rank order).
  Result<std::vector<std::string>> AllGather(const std::string& bytes) const;
  // Every rank sends outgoing[r] to rank r and gets what each rank sent it
  // (incoming[r] from rank r). `outgoing` has size() entries.
  Result<std::vector<std::string>> Exchange(const std::vector<std::string>& outgoing) const;
  void Barrier() const;

 private:
  Cluster(int rank, int size, bool owns_mpi) : rank_(rank), size_(size), owns_mpi_(owns_mpi) {}
  int rank_ = 0;
  int size_ = 1;
  bool owns_mpi_ = false;
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_CLUSTER_H_
