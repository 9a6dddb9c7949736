// hymir index: build or update an index from a BEIR corpus.jsonl.
#include <hymir/beir.h>
#include <hymir/index/index_writer.h>
#include <hymir/index/lsa_embedder.h>
#include <hymir/knowledge.h>

#include <filesystem>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "examples/cli/commands.h"
#include "examples/common/app.h"
#include "examples/common/embed.h"

namespace hymir::cli {
namespace {

struct IndexFlags {
  std::string corpus;
  std::string index;
  std::string analyzer;
  std::vector<std::string> vector_fields;  // NAME:DIM[:METRIC[:INDEX]]
  std::string embed;                       // lsa:DIM
  std::string kg;                          // link documents against this KG
  std::string embed_index = "flat";
  int embed_power_iterations = -1;  // -1: LsaOptions default
  int threads = 1;
  bool skip_bad = false;
  uint64_t commit_every = 0;
};

// Progress on stderr: a redrawn bar on a terminal, a plain line every 10 % otherwise.
class Progress {
 public:
  explicit Progress(uint64_t total_bytes) : total_(total_bytes), tty_(app::StderrIsTerminal()) {}

  void Update(uint64_t bytes, uint64_t docs, double seconds) {
    const double frac = total_ ? static_cast<double>(bytes) / static_cast<double>(total_) : 1.0;
    const double rate = seconds > 0 ? docs / seconds : 0.0;
    if (tty_) {
      const int width = 30, filled = static_cast<int>(frac * width);
      std::fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %llu docs  %.0f docs/s", filled,
                   "##############################", width - filled, "", frac * 100,
                   static_cast<unsigned long long>(docs), rate);
      std::fflush(stderr);
    } else {
      const int decile = static_cast<int>(frac * 10);
      if (decile > last_decile_) {
        last_decile_ = decile;
        std::fprintf(stderr, "progress: %3d%%  %llu docs  %.0f docs/s\n", decile * 10,
                     static_cast<unsigned long long>(docs), rate);
      }
    }
  }
  void Finish() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  uint64_t total_;
  bool tty_;
  int last_decile_ = 0;
};

// Trains the LSA embedder on the corpus (first pass) and stores it inside the
// new index, returning the vector field it fills.
Result<index::VectorFieldSpec> PrepareEmbedder(const IndexFlags& flags, index::AnalyzerKind analyzer) {
  const app::EmbedFlags f{flags.embed, flags.embed_index, flags.embed_power_iterations, flags.skip_bad};
  HYMIR_ASSIGN_OR_RETURN(index::VectorFieldSpec spec, app::LsaFieldSpec(f));
  const std::string path = flags.index + "/vectors/lsa.lsa";
  if (std::filesystem::exists(path)) return spec;  // an existing index keeps its embedder
  HYMIR_RETURN_IF_ERROR(app::TrainLsa(flags.corpus, f, spec, analyzer, path, "hymir index"));
  return spec;
}

int RunIndex(const IndexFlags& flags) {
  index::IndexWriterOptions options;
  if (!flags.analyzer.empty()) {
    auto kind = index::ParseAnalyzerKind(flags.analyzer);
    if (!kind.ok()) return app::Fail("index", kind.status(), /*usage=*/true);
    options.analyzer = *kind;
  }
  if (flags.threads < 1) return app::Fail("index", Status::InvalidArgument("--threads must be >= 1"), true);
  for (const std::string& spec : flags.vector_fields) {
    auto f = index::ParseVectorFieldSpec(spec);
    if (!f.ok()) return app::Fail("index", f.status(), /*usage=*/true);
    options.vector_fields.push_back(*f);
  }
  if (!flags.embed.empty()) {
    auto f = PrepareEmbedder(flags, options.analyzer.value_or(index::AnalyzerKind::kEnglish));
    if (!f.ok()) return app::Fail("index", f.status(), f.status().IsInvalidArgument());
    options.vector_fields.push_back(*f);
  }
  // Entity linking at index time: the linked entity ids go to the
  // document's kg_entities field, where the KG re-ranking features read them.
  std::unique_ptr<KnowledgeContext> kg;
  if (!flags.kg.empty()) {
    auto k = KnowledgeContext::Open(flags.kg, options.analyzer.value_or(index::AnalyzerKind::kEnglish));
    if (!k.ok()) return app::Fail("index", k.status());
    kg = std::move(k).value();
  }
  auto reader_or = CorpusReader::Open(flags.corpus);
  if (!reader_or.ok()) return app::Fail("index", reader_or.status());
  auto& reader = *reader_or;
  auto writer_or = index::IndexWriter::Open(flags.index, options);
  if (!writer_or.ok()) return app::Fail("index", writer_or.status());
  auto& writer = *writer_or;

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  Progress progress(reader->file_size());

  // Workers analyse and add documents; the main thread parses. In-flight
  // documents are bounded so memory stays flat on big corpora.
  boost::asio::thread_pool pool(static_cast<size_t>(flags.threads));
  std::mutex mu;
  std::condition_variable cv;
  size_t in_flight = 0;
  const size_t max_in_flight = static_cast<size_t>(flags.threads) * 2;
  Status first_error;  // GUARDED_BY(mu)
  std::atomic<uint64_t> added{0};
  uint64_t skipped = 0, since_commit = 0;

  auto wait_idle = [&] {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return in_flight == 0; });
  };
  auto failed = [&] {
    std::lock_guard<std::mutex> lk(mu);
    return !first_error.ok();
  };

  Status fatal;
  // Documents travel to the workers in batches to keep synchronisation off
  // the per-document path.
  constexpr size_t kBatch = 128;
  struct Item {
    Document doc;
    uint64_t line;
  };
  std::vector<Item> batch;
  auto flush_batch = [&]() -> bool {
    if (batch.empty()) return true;
    {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait(lk, [&] { return in_flight < max_in_flight; });
      if (!first_error.ok()) return false;
      ++in_flight;
    }
    boost::asio::post(pool, [&, docs = std::move(batch)]() {
      Status s;
      uint64_t n = 0;
      for (const Item& item : docs) {
        if (kg) {
          Document linked = item.doc;
          std::string ids;
          for (const auto& e : kg->LinkEntities(linked.title + "\n" + linked.text)) ids += (ids.empty() ? "" : " ") + e;
          linked.fields[kKgEntitiesField] = std::move(ids);
          s = writer->Upsert(linked);
        } else {
          s = writer->Upsert(item.doc);
        }
        if (!s.ok()) {
          s = s.WithContext(flags.corpus + ":" + std::to_string(item.line));
          break;
        }
        ++n;
      }
      added.fetch_add(n, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lk(mu);
      if (!s.ok() && first_error.ok()) first_error = s;
      --in_flight;
      cv.notify_all();
    });
    batch = std::vector<Item>();
    batch.reserve(kBatch);
    return true;
  };
  Document doc;
  uint64_t parsed = 0;
  while (true) {
    auto next = reader->Next(&doc);
    if (!next.ok()) {
      if (flags.skip_bad && next.status().IsInvalidArgument()) {
        std::fprintf(stderr, "hymir index: skipped %s\n", next.status().message().c_str());
        ++skipped;
        continue;
      }
      fatal = next.status();
      break;
    }
    if (!*next) break;
    batch.push_back({std::move(doc), reader->line()});
    doc = Document();
    ++parsed;
    if (batch.size() >= kBatch && !flush_batch()) break;
    if ((parsed & 1023) == 0) progress.Update(reader->bytes_read(), added.load(), elapsed());
    if (flags.commit_every > 0 && ++since_commit >= flags.commit_every) {
      if (!flush_batch()) break;
      wait_idle();
      if (failed()) break;
      Status c = writer->Commit();
      if (!c.ok()) {
        fatal = c;
        break;
      }
      // Durable from here on: a crash keeps at least these documents.
      std::fprintf(stderr, "hymir index: committed %llu documents\n", static_cast<unsigned long long>(added.load()));
      since_commit = 0;
    }
  }
  if (fatal.ok()) flush_batch();
  wait_idle();
  pool.join();
  progress.Update(reader->bytes_read(), added.load(), elapsed());
  progress.Finish();
  {
    std::lock_guard<std::mutex> lk(mu);
    if (fatal.ok() && !first_error.ok()) fatal = first_error;
  }
  if (!fatal.ok()) {
    Status rb = writer->Rollback();
    std::fprintf(stderr, "hymir index: error: %s\n", fatal.ToString().c_str());
    std::fprintf(stderr, "hymir index: nothing since the last commit was kept%s\n",
                 rb.ok() ? "" : (" (rollback failed: " + rb.ToString() + ")").c_str());
    return app::kExitFailure;
  }
  Status c = writer->Commit();
  if (!c.ok()) return app::Fail("index", c);
  std::fprintf(stderr, "hymir index: committed %llu documents\n", static_cast<unsigned long long>(added.load()));
  const double secs = elapsed();
  auto live = writer->NumDocs();
  std::printf("indexed %llu docs (%llu skipped) from %s in %.2f s, %.0f docs/s; index %s holds %llu docs\n",
              static_cast<unsigned long long>(added.load()), static_cast<unsigned long long>(skipped),
              flags.corpus.c_str(), secs, secs > 0 ? added.load() / secs : 0.0, flags.index.c_str(),
              static_cast<unsigned long long>(live.value_or(0)));
  return app::kExitOk;
}

}  // namespace

void AddIndexCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<IndexFlags>();
  CLI::App* cmd = app.add_subcommand("index", "Index a BEIR corpus.jsonl (upsert by _id) and commit");
  cmd->add_option("--corpus", flags->corpus, "Corpus file, one JSON object per line")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--index", flags->index, "Index directory (created when absent)")->required();
  cmd->add_option("--analyzer", flags->analyzer, "english | standard | whitespace (new index; default english)")
      ->check(CLI::IsMember({"english", "standard", "whitespace"}));
  cmd->add_option("--threads", flags->threads, "Indexing threads")->check(CLI::Range(1, 256));
  cmd->add_flag("--skip-bad", flags->skip_bad, "Report malformed lines and continue (default: stop, keep nothing)");
  cmd->add_option("--vector-field", flags->vector_fields,
                  "Declare a vector field of a new index: NAME:DIM[:METRIC[:INDEX]], METRIC ip|l2|cosine, "
                  "INDEX flat|hnswM|FAISS factory string (repeatable)");
  cmd->add_option("--embed", flags->embed,
                  "Train the built-in embedder on this corpus and fill vector field \"lsa\": lsa:DIM (e.g. lsa:256)");
  cmd->add_option("--kg", flags->kg, "Link documents against this knowledge graph (entity ids stored in field "
                                     "kg_entities, read by the KG re-ranking features)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--embed-index", flags->embed_index, "ANN index of the embedded field (default flat)");
  cmd->add_option("--embed-power-iterations", flags->embed_power_iterations,
                  "Power iterations of the LSA randomized SVD (default 0: best retrieval on train splits)")
      ->check(CLI::Range(0, 20));
  cmd->add_option("--commit-every", flags->commit_every,
                  "Commit after every N documents (default 0: one commit at the end)");
  cmd->callback([flags, exit_code] { *exit_code = RunIndex(*flags); });
}

}  // namespace hymir::cli
