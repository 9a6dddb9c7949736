// Reading BEIR-format collections: corpus.jsonl and queries.jsonl.
//
// Corpus lines are JSON objects {"_id": str, "title": str, "text": str, ...};
// "domain" becomes Document::domain; other top-level string, number or boolean
// members become extra fields (Document::fields, as text) and typed values
// (Document::values); arrays of scalars become multi-valued typed values
// only. Object members ("metadata"), arrays of non-scalars and "vectors" are
// not fields. Numeric "_id" values are accepted and kept as
// their decimal text. Blank lines are skipped.
//
// Errors name "<file>:<line>" and the fault.
//
// Thread-safety: a CorpusReader is not thread-safe; use one per thread.
#ifndef HYMIR_BEIR_H_
#define HYMIR_BEIR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hymir/document.h"
#include "hymir/result.h"

namespace hymir {

// Longest corpus line read, in bytes; a longer line is refused naming
// file:line, and is never held in memory whole. Parsing, analysing and
// indexing a document takes 25 to 35 times its line in memory (an 8 MB line:
// 203 MB peak resident for `hymir index`). Default: 8 MiB.
inline constexpr size_t kMaxCorpusLineBytes = size_t{8} << 20;
// Longest queries line, and longest query text (ParseQueryParams' q), in
// bytes (a 1 MB query: 86 MB peak resident for `hymir search`, where a 50 MB
// one took 1.86 GB). Default: 1 MiB.
inline constexpr size_t kMaxQueryBytes = size_t{1} << 20;

class CorpusReader {
 public:
  // Opens `path` for streaming. NotFound / IOError when it cannot be read.
  static Result<std::unique_ptr<CorpusReader>> Open(const std::string& path);

  virtual ~CorpusReader() = default;

  // Reads the next document into *doc. Returns true on success, false at end
  // of file, or an InvalidArgument Status naming file:line for a malformed line
  // (the reader stays usable: the next call continues with the next line).
  virtual Result<bool> Next(Document* doc) = 0;

  // 1-based number of the line last returned or rejected by Next().
  virtual uint64_t line() const = 0;
  // Bytes consumed so far and the file size, for progress display.
  virtual uint64_t bytes_read() const = 0;
  virtual uint64_t file_size() const = 0;
  virtual const std::string& path() const = 0;
};

// Parses one corpus line. `where` (e.g. "corpus.jsonl:12") prefixes errors.
Result<Document> ParseCorpusLine(std::string_view line, const std::string& where);

struct QueryRecord {
  std::string id;
  std::string text;
  std::optional<std::string> domain;
  // Query vectors by vector-field name, from "vectors": {"<field>": [...]}
  // (for fields without an embedder: images, or text embedded elsewhere).
  std::map<std::string, std::vector<float>> vectors;
};

// Reads a whole queries.jsonl ({"_id", "text"[, "domain"][, "vectors"]} per
// line). A malformed vector is an error naming file:line, the query and the
// element; so is a line over kMaxQueryBytes and a query text with a NUL byte.
Result<std::vector<QueryRecord>> ReadQueries(const std::string& path);

}  // namespace hymir

#endif  // HYMIR_BEIR_H_
