// How `hymir serve` runs cpp-httplib so that slow or idle clients cannot stop
// the service: timeouts, a keep-alive cap, a payload cap, and a worker pool
// that grows with the open connections (cpp-httplib gives each connection a
// worker for its whole life, so a fixed pool of N is taken by N idle
// keep-alive or slow-loris connections and every other request waits).
//
// What cpp-httplib 0.11.4 (Debian 12) answers by itself: 414 for a request
// line over 8,192 bytes (CPPHTTPLIB_REQUEST_URI_MAX_LENGTH, fixed when the
// library was built), 400 for a malformed request line or headers, 413 for a
// body over ServerOptions::max_payload_bytes. SearchService's error handler
// keeps those statuses and gives them a JSON body.
//
// Thread-safety: ConfigureServer before listen; ElasticTaskQueue is
// thread-safe (cpp-httplib calls it from its accept thread).
#ifndef HYMIR_EXAMPLES_SERVE_HTTP_SERVER_H_
#define HYMIR_EXAMPLES_SERVE_HTTP_SERVER_H_

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace hymir::serve {

struct ServerOptions {
  // Longest wait for each read / write on a connection, in seconds (a
  // per-operation timeout: a client trickling bytes keeps its worker, which
  // is why the pool grows). Default: 5 / 5.
  int read_timeout_s = 5;
  int write_timeout_s = 5;
  // An idle keep-alive connection is closed after this many seconds.
  // Default: 2.
  int keep_alive_timeout_s = 2;
  // Requests served on one keep-alive connection before it is closed.
  // Default: 100.
  size_t keep_alive_max_requests = 100;
  // Workers kept when idle, and the most that run at once (one per open
  // connection up to this; later connections queue). Default: 4 and 2048.
  size_t min_threads = 4;
  size_t max_threads = 2048;
  // Largest request body, in bytes (the API is GET only); larger: 413.
  // Default: 64 KiB.
  size_t max_payload_bytes = 64 << 10;
};

// A TaskQueue that starts a worker whenever a task arrives and none is idle,
// up to max_threads; workers above min_threads exit after 10 s idle.
class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  ElasticTaskQueue(size_t min_threads, size_t max_threads);
  ~ElasticTaskQueue() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void Work();

  const size_t min_threads_, max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;       // tasks or shutdown
  std::condition_variable exited_;   // a worker ended
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  size_t threads_ = 0;                       // GUARDED_BY(mu_)
  size_t idle_ = 0;                          // GUARDED_BY(mu_)
  bool shutdown_ = false;                    // GUARDED_BY(mu_)
};

// Applies `options` to `server` (timeouts, caps and the ElasticTaskQueue).
void ConfigureServer(httplib::Server& server, const ServerOptions& options);

}  // namespace hymir::serve

#endif  // HYMIR_EXAMPLES_SERVE_HTTP_SERVER_H_
