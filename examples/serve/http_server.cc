#include "serve/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

  // A new request starts: its clock and byte count.
  void BeginRequest() {
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
        n = ::recv(sock_, buf_, sizeof buf_, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      off_ = 0;
      len_ = static_cast<size_t>(n);
    }
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

  const socket_t sock_;
  const int read_ms_, write_ms_, request_ms_;
  const size_t max_header_bytes_, max_body_bytes_;
  size_t max_request_bytes_ = 0;
  Clock::time_point deadline_ = Clock::now();
  size_t request_bytes_ = 0;
  bool wrote_ = false, timed_out_ = false, too_big_ = false;
  char buf_[16384];
  size_t off_ = 0, len_ = 0;
};

}  // namespace

ElasticTaskQueue::ElasticTaskQueue(size_t min_threads, size_t max_threads, size_t max_tasks)
    : min_threads_(std::max<size_t>(1, min_threads)),
      max_threads_(std::max(min_threads_, max_threads)),
      max_tasks_(std::max<size_t>(1, max_tasks)) {}

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
  tasks_.push_back(std::move(fn));
  if (idle_ < tasks_.size() && threads_ < max_threads_) {
    ++threads_;
    ++idle_;  // counted idle until it takes a task
    std::thread([this] { Work(); }).detach();
  }
  cv_.notify_one();
}

void ElasticTaskQueue::Work() {
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
  w->cv.notify_one();
}

HttpServer::HttpServer(const ServerOptions& options)
    : options_(options),
      gate_(options.max_active_requests ? options.max_active_requests
                                        : std::max(1u, std::thread::hardware_concurrency())) {
  set_read_timeout(options.read_timeout_s, 0);
  set_write_timeout(options.write_timeout_s, 0);
  set_keep_alive_timeout(options.keep_alive_timeout_s);
  set_keep_alive_max_count(std::max<size_t>(1, options.keep_alive_max_requests));
  set_payload_max_length(options.max_payload_bytes);
  const size_t min_threads = options.min_threads, max_threads = options.max_threads,
               max_connections = options.max_connections;
  new_task_queue = [min_threads, max_threads, max_connections] {
    return new ElasticTaskQueue(min_threads, max_threads, max_connections);
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

void HttpServer::RefuseConnection(socket_t sock) const {
  // Read what the client sent so far (the request, usually), so that the
  // close does not turn into a reset that destroys the 503 unread.
  if (PollOne(sock, POLLIN, 20) > 0) {
    char buf[4096];
    for (int i = 0; i < 16 && ::recv(sock, buf, sizeof buf, MSG_DONTWAIT) > 0; ++i) {
    }
  }
  const std::string body = "{\"error\": \"too many open connections (at most " +
                           std::to_string(options_.max_connections) + "); try again\"}";
  const std::string reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body;
  [[maybe_unused]] ssize_t n = ::send(sock, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  CloseGracefully(sock, 200);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  if (t_refusing) {
    RefuseConnection(sock);
    return true;
  }
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
             std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) == 0;
      // Read: wait for a slot to run the handler (released once answered).
      gate_.Acquire();
      admitted = true;
    });
    if (admitted) gate_.Release();
    if (!parsed && !strm.wrote() && (strm.timed_out() || strm.too_big())) {
      // cpp-httplib gives up without an answer while in the request line
      // (in the headers it answers 400 itself).
      const bool slow = strm.timed_out();
      const std::string body = slow ? "{\"error\": \"the request did not arrive in time\"}"
                                    : "{\"error\": \"request line too long\"}";
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
