// IndexWriter: adds, replaces and deletes documents of an index directory and
// makes the changes durable with Commit().
//
// Durability: changes become visible to searchers and survive a crash only
// after Commit() returns OK. A crash (even SIGKILL) before that loses only the
// uncommitted changes; the directory then reopens at the last commit.
// Destroying a writer without Commit() discards uncommitted changes.
//
// One writer per index directory: Open() takes an exclusive lock on
// <dir>/LOCK and fails with Status::Busy while another writer (in this or any
// other process) holds it. The lock dies with its process.
//
// Text, vectors, the forward index (each document's analysed terms, read
// back by Searcher::GetAnalysed) and the typed values of an index with a
// schema commit together: the Lucene++ commit point names the generation of
// the vector files, the forward index and the values file (see docs/format.md,
// On-disk layout), so a crash at any point leaves all three at the last
// commit. Every commit writes a new generation.
//
// Thread-safety: every method may be called from any thread. Upsert() and
// Delete() run concurrently with each other (analysis and embedding run on
// the calling thread); Commit() and Rollback() wait for in-flight upserts and
// block new ones while they run.
#ifndef HYMIR_INDEX_INDEX_WRITER_H_
#define HYMIR_INDEX_INDEX_WRITER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/document.h"
#include "hymir/index/analyzer.h"
#include "hymir/index/schema.h"
#include "hymir/index/vector_field.h"
#include "hymir/result.h"

namespace hymir::index {

struct IndexWriterOptions {
  // Analyzer for a new index. For an existing index, nullopt means "use the
  // recorded one"; a different value is an InvalidArgument error (an index of
  // format 1 or 2 that says "english" uses english-lucenepp30).
  // Default: nullopt (english for a new index; english-lucenepp30 with
  // format_version 1 or 2).
  std::optional<AnalyzerKind> analyzer;
  // Analyse documents with Lucene++'s token streams rather than hymir's own
  // chain for the english, standard and whitespace analyzers (other
  // analyzers always use Lucene++'s). Both give the same terms, positions
  // and offsets, so the same index; hymir's is faster. Default: false.
  bool lucenepp_analysis = false;
  // Build the first commit of a new index with Lucene++'s IndexWriter
  // rather than hymir's own inverter. hymir's writes the same segment files
  // byte for byte (docs/format.md, "Segments written by hymir") faster; it
  // buffers the documents of a new index until its first commit and hands
  // them to Lucene++ (one segment added to its writer) when a document
  // replaces or deletes one of them, holds text it does not write, or when
  // they take more memory than ram_buffer_mb or 1 GiB, whichever is larger
  // (then everything continues as with this option). Later commits always go
  // through Lucene++. Default: false.
  bool lucenepp_writer = false;
  // Create the directory and an empty index when absent. Default: true.
  bool create_if_missing = true;
  // Memory for buffered documents before Lucene++ flushes a segment, in MiB.
  // Default: 128.
  double ram_buffer_mb = 128.0;
  // Vector fields of a new index. For an existing index, empty means "as
  // recorded"; anything else must equal the recorded schema. Default: none.
  std::vector<VectorFieldSpec> vector_fields;
  // Trained models of the vector fields that declare a built-in embedder
  // (VectorFieldSpec::embedder = "lsa"), by field name: the path of a model
  // file written by TrainLsaOnCorpus() or LsaEmbedder::Save(). Open() checks
  // it (readable, the field's dimension) before creating anything and copies
  // it into the index, which keeps it from then on. Required for such a field
  // of a new index (InvalidArgument otherwise); for an existing index a model
  // is used only when the index has none for that field. Default: none.
  std::map<std::string, std::string> embedder_models;
  // A vector field is rebuilt without its deleted vectors at commit once
  // they exceed this share of its stored vectors. Default: 0.3.
  double max_dead_vector_fraction = 0.3;
  // On-disk format of a new index: 3 (the current one), 2 or 1, for hymir
  // builds that read only up to that version. 2 has 3's layout (the combined
  // "all" field derived from title and text at search time); 1 indexes "all"
  // as a field of its own (the same answers, about 1.4x the indexing time and
  // more postings on disk). Formats 1 and 2 cannot record the english
  // analyzer: they get english-lucenepp30, which those builds call
  // "english", and analyzer = english with them is InvalidArgument. 0 means
  // the current one. An existing index keeps its format; a different non-zero
  // value is InvalidArgument. Default: 0.
  int format_version = 0;
  // Typed fields of a new index (hymir/index/schema.h), recorded in it. For
  // an existing index, nullopt means "as recorded"; anything else must equal
  // the recorded schema (InvalidArgument otherwise, as for the analyzer).
  // Default: nullopt (no typed fields: extra fields are exact strings).
  std::optional<Schema> schema;
};

class IndexWriter {
 public:
  static Result<std::unique_ptr<IndexWriter>> Open(const std::string& dir, const IndexWriterOptions& options = {});

  virtual ~IndexWriter() = default;

  // Adds `doc`, replacing any document with the same id (text and vectors).
  // InvalidArgument for an empty id, a reserved extra field name, an unknown
  // vector field or a vector of the wrong dimension (message names the
  // document, the field, expected and actual dimension), and, in an index
  // with a schema, a typed value of the wrong type (naming the field). Vector fields with an
  // embedder are filled from title + text when the document brings none.
  virtual Status Upsert(const Document& doc) = 0;
  // Deletes the document with `id` (no error when absent).
  virtual Status Delete(std::string_view id) = 0;
  // Makes every change so far durable and visible to Searcher::Refresh().
  virtual Status Commit() = 0;
  // Discards changes since the last commit.
  virtual Status Rollback() = 0;

  virtual AnalyzerKind analyzer() const = 0;
  // Documents in the index including uncommitted changes (live docs).
  virtual Result<uint64_t> NumDocs() = 0;
  virtual const std::string& dir() const = 0;
  virtual const std::vector<VectorFieldSpec>& vector_fields() const = 0;
  virtual const Schema& schema() const = 0;
};

// The analyzer IndexWriter::Open(dir, options) works with: the one recorded
// in the index at `dir`, or, without an index there yet, the one a new index
// gets from `options`. For preparing what must analyse text as the index does
// (an LSA embedder, an entity linker) before opening the writer. Corruption
// when the index metadata is unreadable.
Result<AnalyzerKind> IndexAnalyzer(const std::string& dir, const IndexWriterOptions& options = {});

// The generation of the last commit of the index at `dir`: 0 for an index
// never committed to, and larger after every commit. Cheap (one small file
// read), for watching an index for new commits (a service reopening its
// searcher). NotFound when `dir` holds no index, Corruption when its commit
// point cannot be read.
Result<uint64_t> LastCommitGeneration(const std::string& dir);

// Writes `contents` to <dir>/<name>, a file beside the index that changes
// its answers ("pipeline.json" or "fusion.json"; InvalidArgument for any
// other name), atomically, and records its size and checksum in the index's
// commit manifest, so that opening the index reports it as Corruption when
// it is later damaged or deleted. A null `contents` removes the file and its
// record. Busy while an IndexWriter is open on `dir` (close it first).
// Safe to call from any thread; it takes the index's writer lock.
Status WriteRecordedIndexFile(const std::string& dir, const std::string& name, const std::string* contents);

}  // namespace hymir::index

#endif  // HYMIR_INDEX_INDEX_WRITER_H_
