// Ingest: the parse -> (link, analyse, embed, upsert) loop of `hymir index`.
#include "hymir/ingest.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "hymir/beir.h"

namespace hymir {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Item {
  Document doc;
  std::string where;  // DocumentSource::Where() of the document
};

// Workers taking batches from a bounded queue; the first error stops the
// producer.
class Workers {
 public:
  Workers(int threads, std::function<Status(const std::vector<Item>&)> work)
      : work_(std::move(work)), max_in_flight_(static_cast<size_t>(threads) * 2) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Workers() { Join(); }

  // Queues `batch` once fewer than 2 * threads batches are in flight; false
  // (and `batch` dropped) after a worker failed.
  bool Post(std::vector<Item> batch) {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return in_flight_ < max_in_flight_; });
    if (!first_error_.ok()) return false;
    ++in_flight_;
    queue_.push_back(std::move(batch));
    work_cv_.notify_one();
    return true;
  }
  void WaitIdle() {
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return in_flight_ == 0; });
  }
  Status first_error() {
    std::lock_guard<std::mutex> lk(mu_);
    return first_error_;
  }
  void Join() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      closing_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  void Run() {
    while (true) {
      std::vector<Item> batch;
      {
        std::unique_lock<std::mutex> lk(mu_);
        work_cv_.wait(lk, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
      Status s = work_(batch);
      std::lock_guard<std::mutex> lk(mu_);
      if (!s.ok() && first_error_.ok()) first_error_ = s;
      --in_flight_;
      done_cv_.notify_all();
    }
  }

  std::function<Status(const std::vector<Item>&)> work_;
  const size_t max_in_flight_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::vector<Item>> queue_;  // GUARDED_BY(mu_)
  size_t in_flight_ = 0;                 // GUARDED_BY(mu_): queued or running
  bool closing_ = false;                 // GUARDED_BY(mu_)
  Status first_error_;                   // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

Status CheckOptions(const IngestOptions& options) {
  if (options.threads < 1) return Status::InvalidArgument("ingest: threads must be >= 1");
  if (options.batch_size < 1) return Status::InvalidArgument("ingest: batch_size must be >= 1");
  if (options.part_count < 1 || options.part >= options.part_count)
    return Status::InvalidArgument("ingest: part " + std::to_string(options.part) + " of " +
                                   std::to_string(options.part_count) + " is out of range");
  return Status::OK();
}

// A BEIR corpus file as a DocumentSource.
class CorpusSource : public DocumentSource {
 public:
  CorpusSource(std::string path, std::unique_ptr<CorpusReader> reader)
      : path_(std::move(path)), reader_(std::move(reader)) {}
  Result<bool> Next(Document* doc) override { return reader_->Next(doc); }
  std::string Where() const override { return path_ + ":" + std::to_string(reader_->line()); }
  uint64_t bytes_read() const override { return reader_->bytes_read(); }
  uint64_t total_bytes() const override { return reader_->file_size(); }

 private:
  const std::string path_;
  std::unique_ptr<CorpusReader> reader_;
};

class WriterSink : public IngestSink {
 public:
  explicit WriterSink(index::IndexWriter& writer) : writer_(writer) {}
  Status Upsert(const Document& doc) override { return writer_.Upsert(doc); }
  Status Commit() override { return writer_.Commit(); }

 private:
  index::IndexWriter& writer_;
};

}  // namespace

Result<IngestReport> IngestCorpus(const std::string& corpus, index::IndexWriter& writer, const IngestOptions& options) {
  WriterSink sink(writer);
  return IngestCorpus(corpus, sink, options);
}

Result<IngestReport> IngestCorpus(const std::string& corpus, IngestSink& sink, const IngestOptions& options) {
  HYMIR_RETURN_IF_ERROR(CheckOptions(options));  // before the file, as always
  HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<CorpusReader> reader, CorpusReader::Open(corpus));
  CorpusSource source(corpus, std::move(reader));
  return IngestDocuments(source, sink, options);
}

Result<IngestReport> IngestDocuments(DocumentSource& source, index::IndexWriter& writer, const IngestOptions& options) {
  WriterSink sink(writer);
  return IngestDocuments(source, sink, options);
}

Result<IngestReport> IngestDocuments(DocumentSource& source, IngestSink& writer, const IngestOptions& options) {
  HYMIR_RETURN_IF_ERROR(CheckOptions(options));
  const auto start = Clock::now();
  std::atomic<uint64_t> added{0};
  uint64_t skipped = 0;
  auto progress = [&] {
    if (options.on_progress)
      options.on_progress({source.bytes_read(), source.total_bytes(), added.load(), skipped, Since(start)});
  };
  std::atomic<uint64_t> refused{0};  // refused by the writer under skip_bad
  std::mutex skip_mu;                // serialises on_skip calls from workers
  Workers workers(options.threads, [&](const std::vector<Item>& docs) {
    Status s;
    uint64_t n = 0;
    for (const Item& item : docs) {
      if (options.kg) {
        Document linked = item.doc;
        options.kg->LinkDocument(&linked);
        s = writer.Upsert(linked);
      } else {
        s = writer.Upsert(item.doc);
      }
      if (!s.ok()) {
        s = s.WithContext(item.where);
        // A document the writer refuses as invalid (a value of the wrong
        // type for the schema, say) is a bad line like a malformed one.
        if (options.skip_bad && s.IsInvalidArgument()) {
          if (options.on_skip) {
            std::lock_guard<std::mutex> g(skip_mu);
            options.on_skip(s);
          }
          refused.fetch_add(1, std::memory_order_relaxed);
          s = Status::OK();
          continue;
        }
        break;
      }
      ++n;
    }
    added.fetch_add(n, std::memory_order_relaxed);
    return s;
  });

  Status fatal;
  std::vector<Item> batch;
  batch.reserve(options.batch_size);
  auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    std::vector<Item> full = std::move(batch);
    batch = std::vector<Item>();
    batch.reserve(options.batch_size);
    return workers.Post(std::move(full));
  };
  Document doc;
  uint64_t parsed = 0, since_commit = 0;
  while (true) {
    auto next = source.Next(&doc);
    if (!next.ok()) {
      if (options.skip_bad && next.status().IsInvalidArgument()) {
        if (options.on_skip) options.on_skip(next.status());
        ++skipped;
        continue;
      }
      fatal = next.status();
      break;
    }
    if (!*next) break;
    const bool mine = parsed++ % options.part_count == options.part;
    if (mine) batch.push_back({std::move(doc), source.Where()});
    doc = Document();
    if (mine && batch.size() >= options.batch_size && !flush()) break;
    if ((parsed & 1023) == 0) progress();
    if (options.commit_every > 0 && ++since_commit >= options.commit_every) {
      if (!flush()) break;
      workers.WaitIdle();
      if (!workers.first_error().ok()) break;
      if (Status c = writer.Commit(); !c.ok()) {
        fatal = c;
        break;
      }
      // Durable from here on: a crash keeps at least these documents.
      if (options.on_commit) options.on_commit(added.load());
      since_commit = 0;
    }
  }
  if (fatal.ok()) flush();
  workers.WaitIdle();
  workers.Join();
  progress();
  if (fatal.ok()) fatal = workers.first_error();
  if (!fatal.ok()) return fatal;
  return IngestReport{added.load(), skipped + refused.load(), Since(start), parsed};
}

Status TrainLsaOnCorpus(const std::string& corpus, const index::LsaOptions& lsa, const std::string& path, bool skip_bad,
                        const std::function<void(const std::string&)>& log) {
  HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<CorpusReader> reader, CorpusReader::Open(corpus));
  std::vector<std::string> texts;
  Document doc;
  while (true) {
    auto next = reader->Next(&doc);
    if (!next.ok()) {
      if (skip_bad && next.status().IsInvalidArgument()) continue;
      return next.status();
    }
    if (!*next) break;
    texts.push_back(doc.title + " " + doc.text);
  }
  const auto start = Clock::now();
  char line[160];
  if (log) {
    std::snprintf(line, sizeof line, "training lsa:%zu on %zu documents", lsa.dimension, texts.size());
    log(line);
  }
  HYMIR_ASSIGN_OR_RETURN(auto embedder, index::LsaEmbedder::Train(texts, lsa));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  HYMIR_RETURN_IF_ERROR(embedder->Save(path));
  if (log) {
    std::snprintf(line, sizeof line, "trained lsa:%zu in %.1f s", lsa.dimension, Since(start));
    log(line);
  }
  return Status::OK();
}

}  // namespace hymir
