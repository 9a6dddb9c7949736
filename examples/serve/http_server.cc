#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <omp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace hymir::serve {
namespace {

using Clock = std::chrono::steady_clock;

thread_local bool t_refusing = false;

constexpr size_t kMaxRefusalThreads = 64;

// poll(2) for `events` on one socket, at most `ms` milliseconds; > 0 ready.
int PollOne(socket_t sock, short events, int ms) {
  pollfd p{sock, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, std::max(ms, 0));
  } while (r < 0 && errno == EINTR);
  return r;
}

// Raises `peak` to `v` if it is below.
void RaisePeak(std::atomic<size_t>* peak, size_t v) {
  if (!peak) return;
  size_t cur = peak->load(std::memory_order_relaxed);
  while (cur < v && !peak->compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// CLOCK_REALTIME in ns: the clock of the kernel's receive timestamps.
int64_t RealtimeNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int MsUntil(Clock::time_point t) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count());
}

// Reads and drops what the peer sends until it closes or `ms` pass.
void Drain(socket_t sock, int ms) {
  const auto end = Clock::now() + std::chrono::milliseconds(ms);
  char buf[4096];
  while (true) {
    const int left = MsUntil(end);
    if (left <= 0 || PollOne(sock, POLLIN, left) <= 0) return;
    const ssize_t n = ::recv(sock, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return;
  }
}

// Ends a connection without losing the last response: stop sending, let the
// peer read and close (closing with unread input would send a reset, which
// can destroy the response in the peer's buffer), then close.
void CloseGracefully(socket_t sock, int drain_ms) {
  ::shutdown(sock, SHUT_WR);
  Drain(sock, drain_ms);
  ::close(sock);
}

void Address(const sockaddr_storage& addr, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

// One connection's stream, kept across its requests so that bytes read past
// the end of one request (a pipelined request) are the start of the next.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(socket_t sock, const ServerOptions& o)
      : sock_(sock),
        read_ms_(o.read_timeout_s * 1000),
        write_ms_(o.write_timeout_s * 1000),
        request_ms_(o.request_timeout_s * 1000),
        max_header_bytes_(o.max_header_bytes),
        max_body_bytes_(o.max_payload_bytes + 4096) {}  // chunk sizes, trailers

  // The kernel's receive time (CLOCK_REALTIME ns) of the bytes that began
  // the current request; 0 when unknown (no request byte read yet).
  int64_t arrival_ns() const { return arrival_ns_; }

  // A new request starts: its clock and byte count.
  void BeginRequest() {
    arrival_ns_ = 0;
    deadline_ = Clock::now() + std::chrono::milliseconds(request_ms_);
    request_bytes_ = 0;
    max_request_bytes_ = max_header_bytes_;
    wrote_ = timed_out_ = too_big_ = false;
  }
  // Whether this request wrote anything, ran out of time or of bytes.
  bool wrote() const { return wrote_; }
  bool timed_out() const { return timed_out_; }
  bool too_big() const { return too_big_; }
  bool Buffered() const { return off_ < len_; }
  // The request line and headers are in: the body may follow.
  void AllowBody() { max_request_bytes_ = max_header_bytes_ + max_body_bytes_; }

  bool is_readable() const override { return Buffered() || PollOne(sock_, POLLIN, ReadWaitMs()) > 0; }
  bool is_writable() const override { return PollOne(sock_, POLLOUT, write_ms_) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (request_bytes_ >= max_request_bytes_) {
      too_big_ = true;
      return -1;
    }
    size = std::min(size, max_request_bytes_ - request_bytes_);
    if (!Buffered()) {
      const int wait = ReadWaitMs();
      if (wait <= 0 || PollOne(sock_, POLLIN, wait) <= 0) {
        timed_out_ = true;
        return -1;
      }
      ssize_t n;
      do {
        n = Receive();
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      off_ = 0;
      len_ = static_cast<size_t>(n);
    }
    if (request_bytes_ == 0) arrival_ns_ = rx_ns_ ? rx_ns_ : RealtimeNs();
    const size_t n = std::min(size, len_ - off_);
    std::memcpy(ptr, buf_ + off_, n);
    off_ += n;
    request_bytes_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    wrote_ = true;
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) Address(addr, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) Address(addr, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  int ReadWaitMs() const { return std::min(read_ms_, MsUntil(deadline_)); }

  // recv(2) into buf_, noting the kernel's receive time of the first byte
  // (SO_TIMESTAMPNS, set by HttpServer on the socket) in rx_ns_.
  ssize_t Receive() {
    iovec iov{buf_, sizeof buf_};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(sock_, &msg, 0);
    rx_ns_ = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        rx_ns_ = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
      }
    }
    return n;
  }

  const socket_t sock_;
  const int read_ms_, write_ms_, request_ms_;
  const size_t max_header_bytes_, max_body_bytes_;
  size_t max_request_bytes_ = 0;
  Clock::time_point deadline_ = Clock::now();
  size_t request_bytes_ = 0;
  bool wrote_ = false, timed_out_ = false, too_big_ = false;
  char buf_[16384];
  size_t off_ = 0, len_ = 0;
  int64_t rx_ns_ = 0;       // receive time of the bytes in buf_
  int64_t arrival_ns_ = 0;  // of the current request's first byte
};

}  // namespace

namespace {
constexpr double kBucketRatio = 1.02;
// Bucket i holds (1 µs * 1.02^(i-1), 1 µs * 1.02^i]; bucket 0 up to 1 µs.
size_t BucketOf(double ms, size_t buckets) {
  const double us = ms * 1000;
  if (!(us > 1)) return 0;
  return std::min(buckets - 1, static_cast<size_t>(std::ceil(std::log(us) / std::log(kBucketRatio))));
}
// A request's Content-Length headers: absent, or decimal digits only (no
// sign, at most 18 digits), all equal.
bool ValidContentLength(const httplib::Request& req) {
  const size_t n = req.get_header_value_count("Content-Length");
  std::string first;
  for (size_t i = 0; i < n; ++i) {
    const std::string v = req.get_header_value("Content-Length", i);
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) return false;
    if (i == 0) first = v;
    if (v != first) return false;
  }
  return true;
}

}  // namespace

void LatencyHistogram::Add(double ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[BucketOf(ms, kBuckets)];
  ++n_;
  max_ = std::max(max_, ms);
}

uint64_t LatencyHistogram::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return n_;
}

double LatencyHistogram::max() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_;
}

double LatencyHistogram::Quantile(double p) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (n_ == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * n_)));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(max_, std::pow(kBucketRatio, static_cast<double>(i)) / 1000);
  }
  return max_;
}

ElasticTaskQueue::ElasticTaskQueue(size_t min_threads, size_t max_threads, size_t max_tasks,
                                   std::atomic<size_t>* peak_threads, std::atomic<size_t>* peak_tasks)
    : min_threads_(std::max<size_t>(1, min_threads)),
      max_threads_(std::max(min_threads_, max_threads)),
      max_tasks_(std::max<size_t>(1, max_tasks)),
      peak_threads_(peak_threads),
      peak_tasks_(peak_tasks) {}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
  if (active_ >= max_tasks_) {
    refused_.push_back(std::move(fn));
    if (refusers_ < kMaxRefusalThreads) {
      ++refusers_;
      std::thread([this] { Refuse(); }).detach();
    }
    return;
  }
  ++active_;
  RaisePeak(peak_tasks_, active_);
  tasks_.push_back(std::move(fn));
  if (idle_ < tasks_.size() && threads_ < max_threads_) {
    ++threads_;
    RaisePeak(peak_threads_, threads_);
    ++idle_;  // counted idle until it takes a task
    std::thread([this] { Work(); }).detach();
  }
  cv_.notify_one();
}

void ElasticTaskQueue::Work() {
  // This thread's handlers run their OpenMP regions (FAISS opens one per
  // query vector, in fvec_renorm_L2) on this thread alone. The server's
  // parallelism is across requests (max_active_requests, one per core);
  // with libgomp's default, every worker thread that enters a region gets a
  // team of its own: one more thread per connection (515 threads at 256
  // connections) and a barrier per query on a thread the scheduler may not
  // run for milliseconds while the handler holds its slot.
  omp_set_num_threads(1);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const bool got = cv_.wait_for(lock, std::chrono::seconds(10), [&] { return shutdown_ || !tasks_.empty(); });
    if (!tasks_.empty()) {
      std::function<void()> fn = std::move(tasks_.front());
      tasks_.pop_front();
      --idle_;
      lock.unlock();
      fn();
      lock.lock();
      --active_;
      ++idle_;
      continue;
    }
    if (shutdown_ || (!got && threads_ > min_threads_)) break;
  }
  --idle_;
  --threads_;
  exited_.notify_all();
}

void ElasticTaskQueue::Refuse() {
  t_refusing = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (!refused_.empty()) {
    std::function<void()> fn = std::move(refused_.front());
    refused_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
  --refusers_;
  exited_.notify_all();
}

void ElasticTaskQueue::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
  // Workers finish the queued connections first (as httplib::ThreadPool does).
  exited_.wait(lock, [&] { return threads_ == 0 && refusers_ == 0; });
}

void FifoGate::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  if (running_ < slots_ && queue_.empty()) {
    ++running_;
    return;
  }
  Waiter w;
  queue_.push_back(&w);
  w.cv.wait(lock, [&] { return w.go; });  // the releaser handed its slot over
  const auto handed = w.handed;
  lock.unlock();
  if (handoff_) handoff_->Add(std::chrono::duration<double, std::milli>(Clock::now() - handed).count());
}

void FifoGate::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty()) {
    --running_;
    return;
  }
  Waiter* w = queue_.front();
  queue_.pop_front();
  w->go = true;
  w->handed = Clock::now();
  w->cv.notify_one();
}

HttpServer::HttpServer(const ServerOptions& options)
    : options_(options),
      gate_(
          options.max_active_requests ? options.max_active_requests : std::max(1u, std::thread::hardware_concurrency()),
          &handoff_) {
  set_read_timeout(options.read_timeout_s, 0);
  set_write_timeout(options.write_timeout_s, 0);
  set_keep_alive_timeout(options.keep_alive_timeout_s);
  set_keep_alive_max_count(std::max<size_t>(1, options.keep_alive_max_requests));
  set_payload_max_length(options.max_payload_bytes);
  const size_t min_threads = options.min_threads, max_threads = options.max_threads,
               max_connections = options.max_connections;
  // Before routing (and before cpp-httplib reads a body by it): a bad
  // Content-Length is 400.
  set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (ValidContentLength(req)) return HandlerResponse::Unhandled;
    res.status = 400;
    res.set_header("Connection", "close");
    res.set_content("{\"error\": \"malformed Content-Length: " + req.get_header_value("Content-Length") +
                        " (a decimal number of bytes)\"}",
                    "application/json");
    return HandlerResponse::Handled;
  });
  new_task_queue = [this, min_threads, max_threads, max_connections] {
    return new ElasticTaskQueue(min_threads, max_threads, max_connections, &peak_threads_, &peak_connections_);
  };
}

int HttpServer::Bind(const std::string& host, int port) {
  if (port == 0) {
    port = bind_to_any_port(host);
    if (port < 0) return -1;
  } else if (!bind_to_port(host, port)) {
    return -1;
  }
  // A second listen(2) on a listening socket sets its backlog (Linux).
  ::listen(svr_sock_.load(), std::max(options_.listen_backlog, 1));
  return port;
}

bool HttpServer::refusing() { return t_refusing; }

ServerStats HttpServer::stats() const {
  ServerStats s;
  s.requests = requests_.load();
  s.connections = connections_.load();
  s.refused = refused_.load();
  s.refused_per_ip = refused_per_ip_.load();
  s.peak_connections = peak_connections_.load();
  s.peak_threads = peak_threads_.load();
  s.peak_waiting = peak_waiting_.load();
  {
    std::lock_guard<std::mutex> lock(seconds_mu_);
    const int64_t from = std::max(first_second_ + 1, last_second_ - static_cast<int64_t>(kSeconds) + 1);
    for (int64_t sec = from; first_second_ >= 0 && sec < last_second_; ++sec) {
      const uint64_t n = per_second_[sec % kSeconds];
      s.fewest_per_second = sec == from ? n : std::min(s.fewest_per_second, n);
      s.most_per_second = std::max(s.most_per_second, n);
    }
  }
  auto quantiles = [](const LatencyHistogram& h) {
    return ServerStats::Quantiles{h.Quantile(0.5), h.Quantile(0.9), h.Quantile(0.99), h.max()};
  };
  s.queued = quantiles(queued_);
  s.gate = quantiles(gate_wait_);
  s.handler = quantiles(handler_);
  s.handoff = quantiles(handoff_);
  return s;
}

bool HttpServer::AdmitPeer(socket_t sock, std::string* peer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  peer->clear();
  if (options_.max_connections_per_ip == 0 || ::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return true;
  }
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host, sizeof host);
  } else {
    return true;  // a Unix socket: no address to count by
  }
  std::lock_guard<std::mutex> lock(peers_mu_);
  size_t& n = peers_[host];
  if (n >= options_.max_connections_per_ip) {
    if (n == 0) peers_.erase(host);
    return false;
  }
  ++n;
  *peer = host;
  return true;
}

void HttpServer::ReleasePeer(const std::string& peer) {
  if (peer.empty()) return;
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(peer);
  if (it != peers_.end() && --it->second == 0) peers_.erase(it);
}

void HttpServer::RefuseConnection(socket_t sock, const std::string& why) const {
  // Read what the client sent so far (the request, usually), so that the
  // close does not turn into a reset that destroys the 503 unread.
  if (PollOne(sock, POLLIN, 20) > 0) {
    char buf[4096];
    for (int i = 0; i < 16 && ::recv(sock, buf, sizeof buf, MSG_DONTWAIT) > 0; ++i) {
    }
  }
  const std::string body = "{\"error\": \"" + why + "; try again\"}";
  const std::string reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body;
  [[maybe_unused]] ssize_t n = ::send(sock, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  CloseGracefully(sock, 200);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  if (t_refusing) {
    ++refused_;
    RefuseConnection(sock, "too many open connections (at most " + std::to_string(options_.max_connections) + ")");
    return true;
  }
  std::string peer;
  if (!AdmitPeer(sock, &peer)) {
    ++refused_per_ip_;
    RefuseConnection(sock, "too many open connections from your address (at most " +
                               std::to_string(options_.max_connections_per_ip) + ")");
    return true;
  }
  struct PeerRelease {
    HttpServer* server;
    const std::string& peer;
    ~PeerRelease() { server->ReleasePeer(peer); }
  } release{this, peer};
  ++connections_;
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_TIMESTAMPNS, &yes, sizeof yes);  // arrival times for stats()
  ConnectionStream strm(sock, options_);
  bool ret = false;
  for (size_t left = std::max<size_t>(1, options_.keep_alive_max_requests); left > 0; --left) {
    // Wait for the next request: at once when pipelined bytes are buffered;
    // otherwise in slices, so that stop() ends idle connections quickly.
    bool ready = strm.Buffered();
    const auto end = Clock::now() + std::chrono::seconds(options_.keep_alive_timeout_s);
    while (!ready && svr_sock_ != INVALID_SOCKET) {
      const int left_ms = MsUntil(end);
      if (left_ms <= 0) break;
      const int r = PollOne(sock, POLLIN, std::min(left_ms, 250));
      if (r < 0) break;
      ready = r > 0;
    }
    if (!ready || svr_sock_ == INVALID_SOCKET) break;
    strm.BeginRequest();
    bool connection_closed = false;
    bool parsed = false, keep = false, admitted = false;
    Clock::time_point started;
    ret = process_request(strm, /*close_connection=*/left == 1, connection_closed, [&](httplib::Request& req) {
      // Called once the request line and headers parsed (not for a 400 or
      // 414 from cpp-httplib, after which the stream's position is unknown).
      parsed = true;
      strm.AllowBody();
      // The API is GET only. cpp-httplib reads a body only for POST, PUT,
      // PATCH, PRI and DELETE (413 past max_payload_bytes, leaving the rest
      // unread); another method's body would be parsed as the next request.
      // So a connection is kept only after a request without a body.
      keep = (req.method == "GET" || req.method == "HEAD") && !req.has_header("Transfer-Encoding") &&
             ValidContentLength(req) && std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) == 0;
      // Read: wait for a slot to run the handler (released once answered).
      const auto read_at = Clock::now();
      RaisePeak(&peak_waiting_, ++waiting_);
      gate_.Acquire();
      --waiting_;
      started = Clock::now();
      admitted = true;
      {
        const int64_t second = std::chrono::duration_cast<std::chrono::seconds>(started - born_).count();
        std::lock_guard<std::mutex> lock(seconds_mu_);
        if (first_second_ < 0) first_second_ = last_second_ = second;
        for (; last_second_ < second; ++last_second_) per_second_[(last_second_ + 1) % kSeconds] = 0;
        ++per_second_[second % kSeconds];
      }
      if (strm.arrival_ns()) queued_.Add(static_cast<double>(RealtimeNs() - strm.arrival_ns()) / 1e6);
      gate_wait_.Add(std::chrono::duration<double, std::milli>(started - read_at).count());
    });
    if (admitted) {
      gate_.Release();
      ++requests_;
      handler_.Add(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
    }
    if (!parsed && !strm.wrote() && (strm.timed_out() || strm.too_big())) {
      // cpp-httplib gives up without an answer while in the request line
      // (in the headers it answers 400 itself).
      const bool slow = strm.timed_out();
      const std::string body =
          slow ? "{\"error\": \"the request did not arrive in time\"}" : "{\"error\": \"request line too long\"}";
      const std::string reply = std::string(slow ? "HTTP/1.1 408 Request Timeout" : "HTTP/1.1 414 URI Too Long") +
                                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\nConnection: close\r\n\r\n" + body;
      [[maybe_unused]] ssize_t n = strm.write(reply.data(), reply.size());
    }
    if (!ret || connection_closed || !parsed || !keep) break;
  }
  CloseGracefully(sock, 100);
  return ret;
}

}  // namespace hymir::serve
