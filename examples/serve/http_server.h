// How `hymir serve` runs cpp-httplib so that slow, idle, pipelining or too
// many clients cannot stop the service: timeouts (per read, per request and
// per idle keep-alive wait), a keep-alive cap, a request-size cap, a cap on
// open connections, a listen backlog that holds a burst of connects, and a
// worker pool that grows with the open connections (cpp-httplib gives each
// connection a worker for its whole life, so a fixed pool of N is taken by N
// idle keep-alive or slow-loris connections and every other request waits).
//
// HttpServer replaces cpp-httplib 0.11.4's connection loop (its
// process_and_close_socket), keeping its request parsing and routing:
//  - One read buffer per connection, not per request: 0.11.4 reads a
//    pipelined request's bytes into the previous request's buffer and drops
//    them, then waits for the keep-alive timeout. Here pipelined requests are
//    answered in order.
//  - A request must arrive whole within request_timeout_s of its first byte
//    and within max_request_bytes (a slow-loris client trickling a byte a
//    second is cut off; 0.11.4 reads a request line or header of any length
//    into memory before judging it).
//  - The idle keep-alive wait sleeps in poll() (0.11.4 wakes every ~11 ms per
//    connection, which 1,000 idle connections turn into a busy CPU).
//  - Beyond max_connections open connections, a new one gets 503 with
//    `Connection: close` at once and is closed (0.11.4 queues it forever).
//  - At most max_active_requests requests run their handler at once; the
//    others wait in arrival order (a request is admitted once it has been
//    read, so slow clients never hold a slot). One thread per connection
//    otherwise lets hundreds of CPU-bound searches share 2 cores in whatever
//    order the scheduler picks: under wrk -c 256 with re-ranking some waited
//    over 2 s while others finished; in arrival order every request waits
//    about as long as the queue ahead of it.
//  - Handlers run their OpenMP regions on their own thread (each worker
//    sets omp_set_num_threads(1)): the parallelism is across requests, at
//    most max_active_requests at once. With libgomp's default every thread
//    that opens a region gets a team of its own, and FAISS opens one per
//    query vector (fvec_renorm_L2, cosine fields): under wrk -c 256 that was
//    515 threads instead of 259, and each search waited at the region's
//    barrier for a second thread while holding its slot; on a loaded machine
//    throughput fell to 88 searches/s in its worst second (226 without the
//    teams) and 0.8-1.8 % of requests took over 2 s.
//  - stats(): request counts, peaks, and per request the time from its
//    arrival (the kernel's receive time) to its handler, the part waiting for
//    a slot, and the time in the handler (`hymir serve` prints them at exit).
//
//  - Beyond max_connections_per_ip open connections from one address, a new
//    one from it gets the same 503.
//  - A Content-Length that is not a decimal number (negative, signed,
//    malformed, given twice with different values) is 400 and the connection
//    closed (cpp-httplib ignores it on a GET and misreads it on a POST).
//
// What cpp-httplib answers by itself: 414 for a request line over 8,192
// bytes (CPPHTTPLIB_REQUEST_URI_MAX_LENGTH, fixed when the library was
// built), 400 for a malformed request line or headers, 413 for a body over
// ServerOptions::max_payload_bytes. SearchService's error handler keeps those
// statuses and gives them a JSON body.
//
// Thread-safety: construct and Bind before listen_after_bind(); stop() may be
// called from any thread. ElasticTaskQueue is thread-safe (cpp-httplib calls
// it from its accept thread).
#ifndef HYMIR_EXAMPLES_SERVE_HTTP_SERVER_H_
#define HYMIR_EXAMPLES_SERVE_HTTP_SERVER_H_

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace hymir::serve {

struct ServerOptions {
  // Longest wait for each read / write on a connection, in seconds. Default:
  // 5 / 5.
  int read_timeout_s = 5;
  int write_timeout_s = 5;
  // A request (line, headers and body) must arrive whole within this many
  // seconds of its first byte; otherwise the connection gets 400 (while in
  // the headers) or is closed. Default: 10.
  int request_timeout_s = 10;
  // An idle keep-alive connection (also a new one that sends nothing) is
  // closed after this many seconds. Default: 2.
  int keep_alive_timeout_s = 2;
  // Requests served on one keep-alive connection before it is closed.
  // Default: 100.
  size_t keep_alive_max_requests = 100;
  // Open connections served at once; a connection beyond them gets 503 with
  // `Connection: close` and is closed. Default: 2048.
  size_t max_connections = 2048;
  // Open connections from one client address (IPv4 or IPv6) at once; a
  // connection beyond them gets 503 with `Connection: close` and is closed,
  // so one client cannot take every slot from the others. 0 = no cap.
  // Default: 512.
  size_t max_connections_per_ip = 512;
  // Workers kept when idle, and the most that run at once (one per open
  // connection up to this; connections beyond it, up to max_connections,
  // wait for a worker). Default: 4 and 2048.
  size_t min_threads = 4;
  size_t max_threads = 2048;
  // Requests whose handlers run at once; the rest wait in arrival order.
  // 0 = the number of cores. Default: 0.
  size_t max_active_requests = 0;
  // Largest request body, in bytes (the API is GET only); larger: 413.
  // Default: 64 KiB.
  size_t max_payload_bytes = 64 << 10;
  // Largest request line plus headers, in bytes (the request line alone is
  // capped at 8,192 by cpp-httplib: 414); larger: 400 and the connection is
  // closed. Default: 64 KiB.
  size_t max_header_bytes = 64 << 10;
  // Pending connections the kernel holds before accept (listen(2) backlog;
  // cpp-httplib 0.11.4 uses 5, which drops the SYNs of a burst of connects).
  // Default: 1024.
  int listen_backlog = 1024;
};

// Latencies in milliseconds, in buckets 2 % wide (1 µs to hours), for
// percentiles of a long-running server in fixed memory. Thread-safe.
class LatencyHistogram {
 public:
  void Add(double ms);
  uint64_t count() const;
  // The p-quantile (0 <= p <= 1), as its bucket's upper bound; 0 when empty.
  double Quantile(double p) const;
  double max() const;

 private:
  static constexpr size_t kBuckets = 1400;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_ = std::vector<uint64_t>(kBuckets);  // GUARDED_BY(mu_)
  uint64_t n_ = 0;                                                  // GUARDED_BY(mu_)
  double max_ = 0;                                                  // GUARDED_BY(mu_)
};

// What the server did since it started (HttpServer::stats()).
struct ServerStats {
  uint64_t requests = 0;        // requests whose handler ran
  uint64_t connections = 0;     // connections served (not refused)
  uint64_t refused = 0;         // connections refused with 503 (max_connections)
  uint64_t refused_per_ip = 0;  // connections refused with 503 (max_connections_per_ip)
  size_t peak_connections = 0;  // open connections at once
  size_t peak_threads = 0;      // connection threads at once
  size_t peak_waiting = 0;      // requests read and waiting for a handler slot at once
  // Handlers started per wall-clock second, fewest and most over the whole
  // seconds between the first and the last start (under a steady load: the
  // worst and best second's throughput).
  uint64_t fewest_per_second = 0, most_per_second = 0;
  // Per request, in ms: `queued` from its first byte's arrival (the kernel's
  // receive time) until its handler starts (reading, parsing and waiting for
  // a slot); `gate` the part of that spent waiting for a slot; `handler`
  // from the start of the handler until the answer was written.
  struct Quantiles {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
  };
  // `handoff`: from a slot's release until the waiter it was handed to ran.
  Quantiles queued, gate, handler, handoff;
};

// A TaskQueue that starts a worker whenever a task arrives and none is idle,
// up to max_threads; workers above min_threads exit after 10 s idle. Beyond
// max_tasks tasks queued or running, a task is run on a short-lived refusal
// thread with HttpServer::refusing() true (at most 64 of those at once; more
// are run the same way on a later refusal thread).
class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  // `peak_threads` and `peak_tasks` (may be null): the most threads and
  // tasks (queued or running) at once, updated as they grow.
  ElasticTaskQueue(size_t min_threads, size_t max_threads, size_t max_tasks,
                   std::atomic<size_t>* peak_threads = nullptr, std::atomic<size_t>* peak_tasks = nullptr);
  ~ElasticTaskQueue() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void Work();
  void Refuse();

  const size_t min_threads_, max_threads_, max_tasks_;
  std::atomic<size_t>* const peak_threads_;
  std::atomic<size_t>* const peak_tasks_;
  std::mutex mu_;
  std::condition_variable cv_;                 // tasks or shutdown
  std::condition_variable exited_;             // a worker ended
  std::deque<std::function<void()>> tasks_;    // GUARDED_BY(mu_)
  std::deque<std::function<void()>> refused_;  // GUARDED_BY(mu_)
  size_t threads_ = 0;                         // GUARDED_BY(mu_)
  size_t idle_ = 0;                            // GUARDED_BY(mu_)
  size_t active_ = 0;                          // tasks queued or running; GUARDED_BY(mu_)
  size_t refusers_ = 0;                        // refusal threads; GUARDED_BY(mu_)
  bool shutdown_ = false;                      // GUARDED_BY(mu_)
};

// A semaphore that admits its waiters in arrival order. Thread-safe.
class FifoGate {
 public:
  // `handoff` (may be null): per slot handed to a waiter, the ms from the
  // hand-over until the waiter ran.
  explicit FifoGate(size_t slots, LatencyHistogram* handoff = nullptr)
      : slots_(std::max<size_t>(1, slots)), handoff_(handoff) {}
  void Acquire();
  void Release();

 private:
  struct Waiter {
    std::condition_variable cv;
    bool go = false;
    std::chrono::steady_clock::time_point handed;
  };
  const size_t slots_;
  LatencyHistogram* const handoff_;
  std::mutex mu_;
  size_t running_ = 0;         // GUARDED_BY(mu_)
  std::deque<Waiter*> queue_;  // GUARDED_BY(mu_)
};

// cpp-httplib's Server with hymir's connection handling (above) and options.
class HttpServer final : public httplib::Server {
 public:
  explicit HttpServer(const ServerOptions& options = {});

  // Binds `host`:`port` (0: any free port) with options().listen_backlog.
  // Returns the port, or -1 when it cannot.
  int Bind(const std::string& host, int port);

  const ServerOptions& options() const { return options_; }
  // Counters and latency quantiles since the start (thread-safe).
  ServerStats stats() const;
  // True on a thread that is refusing a connection (ElasticTaskQueue).
  static bool refusing();

 private:
  bool process_and_close_socket(socket_t sock) override;
  void RefuseConnection(socket_t sock, const std::string& why) const;
  // Counts a connection from the peer of `sock`; false (not counted) when
  // that address already has max_connections_per_ip open. *peer: its key.
  bool AdmitPeer(socket_t sock, std::string* peer);
  void ReleasePeer(const std::string& peer);

  const ServerOptions options_;
  // stats()
  std::atomic<uint64_t> requests_{0}, connections_{0}, refused_{0}, refused_per_ip_{0};
  std::mutex peers_mu_;
  std::unordered_map<std::string, size_t> peers_;  // open connections by address; GUARDED_BY(peers_mu_)
  std::atomic<size_t> peak_connections_{0}, peak_threads_{0}, peak_waiting_{0}, waiting_{0};
  LatencyHistogram queued_, gate_wait_, handler_, handoff_;
  static constexpr size_t kSeconds = 4096;  // ring of per-second handler starts
  const std::chrono::steady_clock::time_point born_ = std::chrono::steady_clock::now();
  mutable std::mutex seconds_mu_;
  std::vector<uint32_t> per_second_ = std::vector<uint32_t>(kSeconds);  // GUARDED_BY(seconds_mu_)
  int64_t first_second_ = -1, last_second_ = -1;                        // GUARDED_BY(seconds_mu_)
  FifoGate gate_;
};

}  // namespace hymir::serve

#endif  // HYMIR_EXAMPLES_SERVE_HTTP_SERVER_H_
