#include "serve/http_server.h"

#include <chrono>
#include <thread>

namespace hymir::serve {

ElasticTaskQueue::ElasticTaskQueue(size_t min_threads, size_t max_threads)
    : min_threads_(std::max<size_t>(1, min_threads)), max_threads_(std::max(min_threads_, max_threads)) {}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
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
      ++idle_;
      continue;
    }
    if (shutdown_ || (!got && threads_ > min_threads_)) break;
  }
  --idle_;
  --threads_;
  exited_.notify_all();
}

void ElasticTaskQueue::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
  // Workers finish the queued connections first (as httplib::ThreadPool does).
  exited_.wait(lock, [&] { return threads_ == 0; });
}

void ConfigureServer(httplib::Server& server, const ServerOptions& options) {
  server.set_read_timeout(options.read_timeout_s, 0);
  server.set_write_timeout(options.write_timeout_s, 0);
  server.set_keep_alive_timeout(options.keep_alive_timeout_s);
  server.set_keep_alive_max_count(options.keep_alive_max_requests);
  server.set_payload_max_length(options.max_payload_bytes);
  const size_t min_threads = options.min_threads, max_threads = options.max_threads;
  server.new_task_queue = [min_threads, max_threads] { return new ElasticTaskQueue(min_threads, max_threads); };
}

}  // namespace hymir::serve
