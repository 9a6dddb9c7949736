// Private: runs a single vector query on the calling thread alone.
//
// FAISS spreads its loops over an OpenMP team even for one query (the HNSW
// and inverted-list search loops, the query's normalisation): the other
// threads get no work but are woken, spin at the loop's barrier and keep
// spinning after it, taking a core from the caller. On a busy machine that
// made a single HNSW query several times slower. The guard sets the calling
// thread's own OpenMP thread count to one and restores it on exit, so
// concurrent callers and batches keep theirs.
//
// Thread-safety: the setting is per thread; a guard belongs to the thread
// that made it.
#ifndef HYMIR_INDEX_VECTOR_ONE_THREAD_H_
#define HYMIR_INDEX_VECTOR_ONE_THREAD_H_

#include <omp.h>

namespace hymir::index::internal {

class OneThreadForOneQuery {
 public:
  // Inactive (changes nothing) when `active` is false.
  explicit OneThreadForOneQuery(bool active) : saved_(active ? omp_get_max_threads() : 0) {
    if (saved_ > 1) omp_set_num_threads(1);
  }
  ~OneThreadForOneQuery() {
    if (saved_ > 1) omp_set_num_threads(saved_);
  }
  OneThreadForOneQuery(const OneThreadForOneQuery&) = delete;
  OneThreadForOneQuery& operator=(const OneThreadForOneQuery&) = delete;

 private:
  int saved_;
};

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_VECTOR_ONE_THREAD_H_
