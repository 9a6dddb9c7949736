// Ingest: documents into an index, as `hymir index`, `hymir-mpi index` and
// `hymir-media ingest` run it: a BEIR corpus file (IngestCorpus) or any
// DocumentSource (IngestDocuments). The calling thread reads; `threads`
// workers analyse, embed (the writer's embedders), link entities (a
// KnowledgeContext, into the kg_entities field) and upsert, in batches, with at most 2 * threads batches
// in flight so that memory stays flat on big corpora. The documents go to an
// IngestSink: an index::IndexWriter, or a sharded writer (hymir::dist's
// IngestCorpus, one share of the corpus per process).
//
// Thread-safety: IngestCorpus() and IngestDocuments() may run beside other writers' work only as
// the sink allows (IndexWriter: one writer per directory); its callbacks are
// called on the calling thread, one at a time, so they need not be
// thread-safe.
#ifndef HYMIR_INGEST_H_
#define HYMIR_INGEST_H_

#include <cstdint>
#include <functional>
#include <string>

#include "hymir/document.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/knowledge.h"
#include "hymir/result.h"

namespace hymir {

struct IngestProgress {
  uint64_t bytes_read = 0;   // of the corpus file
  uint64_t total_bytes = 0;  // the corpus file's size
  uint64_t added = 0;        // documents upserted so far
  uint64_t skipped = 0;      // malformed lines skipped (skip_bad)
  double seconds = 0;        // since IngestCorpus() started
};

struct IngestOptions {
  // Workers that link, analyse, embed and upsert; >= 1. Default: 1.
  int threads = 1;
  // Documents handed to a worker at a time. Default: 128.
  size_t batch_size = 128;
  // Commit after every this many parsed documents (every part's, see
  // part_count); 0 = no commit inside IngestCorpus (the caller commits).
  // Default: 0.
  uint64_t commit_every = 0;
  // Upsert only the parsed documents i (0-based, malformed lines skipped not
  // counted) with i % part_count == part: the share of one of part_count
  // processes that read the same corpus (dist::IngestCorpus). Documents of
  // other parts are neither linked nor upserted. Default: 0 of 1 (all).
  uint64_t part = 0;
  uint64_t part_count = 1;
  // Skip a malformed corpus line, or a document the writer refuses as
  // InvalidArgument (a typed value of the wrong type, say), reported through
  // on_skip, instead of stopping. Default: false.
  bool skip_bad = false;
  // Link each document's title and text against this KG and store the
  // entity ids in kKgEntitiesField (KnowledgeContext::LinkDocument);
  // nullptr = no linking. Borrowed; must outlive the call. Default: nullptr.
  const KnowledgeContext* kg = nullptr;
  // Called every 1024 parsed documents and once at the end.
  std::function<void(const IngestProgress&)> on_progress;
  // Called for each skipped line, with its error (naming file and line);
  // from worker threads too (calls are serialised).
  std::function<void(const Status&)> on_skip;
  // Called after each commit made for commit_every, with the documents added.
  std::function<void(uint64_t added)> on_commit;
};

struct IngestReport {
  uint64_t added = 0;    // documents upserted (this part's)
  uint64_t skipped = 0;  // malformed lines skipped
  double seconds = 0;
  uint64_t parsed = 0;  // documents read (every part's)
};

// Where IngestCorpus puts documents.
class IngestSink {
 public:
  virtual ~IngestSink() = default;
  // Called from the worker threads, concurrently when IngestOptions::threads
  // > 1 (then it must be thread-safe); documents of one worker arrive in
  // corpus order.
  virtual Status Upsert(const Document& doc) = 0;
  // Called on the calling thread, with no Upsert running, every
  // commit_every documents.
  virtual Status Commit() = 0;
};

// Where IngestDocuments reads documents from: a corpus file (IngestCorpus),
// or any producer of Documents (the multimedia pipeline's described images).
// Called on the calling thread only.
class DocumentSource {
 public:
  virtual ~DocumentSource() = default;
  // The next document into `doc`; false at the end. InvalidArgument for a
  // malformed record, which IngestOptions::skip_bad skips (the source must
  // then be able to go on); any other error stops the ingest.
  virtual Result<bool> Next(Document* doc) = 0;
  // Where the document last read came from, for errors ("corpus.jsonl:12",
  // a file path).
  virtual std::string Where() const = 0;
  // Progress in bytes (IngestProgress); 0 when the source does not know.
  virtual uint64_t bytes_read() const { return 0; }
  virtual uint64_t total_bytes() const { return 0; }
};

// Upserts every document of `source` into `sink`, with the batching, worker
// threads, entity linking, parts, periodic commits and callbacks of
// `options`; an upsert failure names source.Where() of its document. Like
// IngestCorpus (below, which is this over a corpus file) it never commits at
// the end and never rolls back.
Result<IngestReport> IngestDocuments(DocumentSource& source, IngestSink& sink, const IngestOptions& options = {});
// The same into an index::IndexWriter.
Result<IngestReport> IngestDocuments(DocumentSource& source, index::IndexWriter& writer,
                                     const IngestOptions& options = {});

// Reads `corpus` (one JSON document per line, see beir.h) and upserts every
// document through `writer`. Stops at the first error and returns it: a
// malformed line (unless skip_bad), an upsert failure (naming corpus:line) or
// a failed commit. It never commits at the end and never rolls back: on OK
// the caller's Commit() makes the rest durable; on an error, Rollback()
// keeps the last commit.
Result<IngestReport> IngestCorpus(const std::string& corpus, index::IndexWriter& writer,
                                  const IngestOptions& options = {});
// The same into any sink (the sink's Commit() for commit_every).
Result<IngestReport> IngestCorpus(const std::string& corpus, IngestSink& sink, const IngestOptions& options = {});

// Trains the built-in LSA embedder on every document of `corpus` (title and
// text, in file order; malformed lines skipped when `skip_bad`) and saves it
// at `path` (directories created). `log` (optional) receives a line when
// training starts and one when it ends.
Status TrainLsaOnCorpus(const std::string& corpus, const index::LsaOptions& lsa, const std::string& path,
                        bool skip_bad = false, const std::function<void(const std::string&)>& log = {});

}  // namespace hymir

#endif  // HYMIR_INGEST_H_
