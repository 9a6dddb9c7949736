// ParallelFor on a Boost.Asio thread pool (private to the engine).
#ifndef HYMIR_SRC_ENGINE_PARALLEL_H_
#define HYMIR_SRC_ENGINE_PARALLEL_H_

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "hymir/status.h"

namespace hymir::internal {

// Runs fn(i) for i in [0, n) on `threads` workers (0 = hardware concurrency)
// and returns the failure of the smallest failing i, or OK.
inline Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<Status> status(n);
  if (threads == 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) status[i] = fn(i);
  } else {
    std::atomic<size_t> next{0};
    boost::asio::thread_pool pool(static_cast<size_t>(std::min<size_t>(threads, n)));
    for (int t = 0; t < threads; ++t) {
      boost::asio::post(pool, [&] {
        for (size_t i = next++; i < n; i = next++) status[i] = fn(i);
      });
    }
    pool.join();
  }
  for (auto& s : status)
    if (!s.ok()) return s;
  return Status::OK();
}

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_PARALLEL_H_
