// LivePipeline: views of an index swapped in as its commits arrive.
#include "hymir/live_pipeline.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "hymir/index/index_writer.h"

namespace hymir {
namespace {

// One view: an engine on one commit, the re-ranker over it, and the pipeline
// composing them with the shared KG. `base` (the first view, which owns the
// KG and the loaded model) lives as long as any later view.
struct View {
  std::shared_ptr<const Pipeline> base;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Reranker> reranker;
  std::unique_ptr<Pipeline> pipeline;
};

}  // namespace

struct LivePipeline::State {
  PipelineOptions options;
  LiveOptions live;
  std::shared_ptr<const Pipeline> base;

  mutable std::mutex mu;
  std::shared_ptr<const Pipeline> current;  // GUARDED_BY(mu)
  uint64_t generation = 0;                  // GUARDED_BY(mu)
  uint64_t reloads = 0;                     // GUARDED_BY(mu)

  std::mutex reload_mu;  // one Reload() at a time

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop = false;  // GUARDED_BY(stop_mu)
  std::thread watcher;

  // A view of the newest commit, reopened from `from`'s engine (sharing
  // what did not change).
  Result<std::shared_ptr<const Pipeline>> OpenView(const Pipeline& from) const {
    auto view = std::make_shared<View>();
    view->base = base;
    HYMIR_ASSIGN_OR_RETURN(view->engine, from.engine().Reopen());
    if (const Reranker* r = base->reranker()) {
      HYMIR_ASSIGN_OR_RETURN(view->reranker, Reranker::Create(*view->engine, r->model(), base->kg()));
    }
    view->pipeline = Pipeline::FromParts(*view->engine, base->kg(), view->reranker.get(), options);
    const Pipeline* p = view->pipeline.get();
    return std::shared_ptr<const Pipeline>(std::move(view), p);
  }

  void Watch() {
    std::unique_lock<std::mutex> lock(stop_mu);
    while (!stop_cv.wait_for(lock, live.poll_interval, [&] { return stop; })) {
      lock.unlock();
      uint64_t before = 0;
      {
        std::lock_guard<std::mutex> g(mu);
        before = generation;
      }
      Status s = Reload();
      uint64_t after = 0;
      {
        std::lock_guard<std::mutex> g(mu);
        after = generation;
      }
      if (live.on_reload && (!s.ok() || after != before)) live.on_reload(after, s);
      lock.lock();
    }
  }

  Status Reload() {
    std::lock_guard<std::mutex> one(reload_mu);
    HYMIR_ASSIGN_OR_RETURN(uint64_t g, index::LastCommitGeneration(options.index_dir));
    std::shared_ptr<const Pipeline> from;
    {
      std::lock_guard<std::mutex> l(mu);
      if (g == generation) return Status::OK();
      from = current;
    }
    HYMIR_ASSIGN_OR_RETURN(std::shared_ptr<const Pipeline> view, OpenView(*from));
    std::shared_ptr<const Pipeline> old;
    {
      std::lock_guard<std::mutex> l(mu);
      old = std::move(current);  // released outside the lock
      current = std::move(view);
      generation = g;
      ++reloads;
    }
    return Status::OK();
  }
};

Result<std::unique_ptr<LivePipeline>> LivePipeline::Open(const PipelineOptions& options, const LiveOptions& live) {
  auto state = std::make_unique<State>();
  state->options = options;
  state->live = live;
  // The generation first: a commit landing during the open is then seen as
  // new by the first poll (at worst one needless reload).
  HYMIR_ASSIGN_OR_RETURN(state->generation, index::LastCommitGeneration(options.index_dir));
  HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<Pipeline> first, Pipeline::Open(options));
  state->base = std::move(first);
  state->current = state->base;
  std::unique_ptr<LivePipeline> p(new LivePipeline(std::move(state)));
  if (live.poll_interval.count() > 0) {
    State* s = p->state_.get();
    s->watcher = std::thread([s] { s->Watch(); });
  }
  return p;
}

LivePipeline::LivePipeline(std::unique_ptr<State> state) : state_(std::move(state)) {}

LivePipeline::~LivePipeline() {
  {
    std::lock_guard<std::mutex> g(state_->stop_mu);
    state_->stop = true;
  }
  state_->stop_cv.notify_all();
  if (state_->watcher.joinable()) state_->watcher.join();
}

std::shared_ptr<const Pipeline> LivePipeline::Current() const {
  std::lock_guard<std::mutex> g(state_->mu);
  return state_->current;
}

Status LivePipeline::Reload() { return state_->Reload(); }

uint64_t LivePipeline::generation() const {
  std::lock_guard<std::mutex> g(state_->mu);
  return state_->generation;
}

uint64_t LivePipeline::reloads() const {
  std::lock_guard<std::mutex> g(state_->mu);
  return state_->reloads;
}

}  // namespace hymir
