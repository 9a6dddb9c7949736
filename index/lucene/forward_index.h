// Private: the forward index, each live document as analysed at index time
// (term ids of title and text in order, sentence boundaries of the text,
// domain and extra fields), keyed by the document's string id so that
// Lucene++ merges, which renumber docids, never touch it.
//
// File (one per commit generation, next to the vector files and named in the
// generation's vectors/MANIFEST.g<N>.json; layout in README, "On-disk
// layout"):
//   <index>/vectors/forward.g<N>.fwd
//   header  : magic "HYMIRFWD" | u32 version | u32 reserved | u64 terms | u64 docs
//             | u64 payload bytes | u32 payload crc32 | u32 reserved
//   payload : terms x (varint len, UTF-8 bytes)             term id = position
//             docs  x (varint id len, id, varint record len, record)
//   record  : varint title terms, term ids | varint text terms, term ids
//             | varint sentences, sentence ends delta-coded
//             | varint flags (1: has domain) [, varint len, domain]
//             | varint fields x (varint len, name, varint len, value)
// Integers in the header are little-endian; varints are LEB128.
//
// Commit: the writer rewrites the whole file under the next generation before
// the Lucene++ commit names that generation (as the vector stores do), so
// text, vectors and forward index switch in one segments_N write. The
// dictionary is rebuilt from the live records at every save, so terms of
// deleted documents do not accumulate.
//
// Thread-safety: Put/Delete need external synchronisation; const methods may
// run concurrently with each other but not with mutations.
#ifndef HYMIR_INDEX_LUCENE_FORWARD_INDEX_H_
#define HYMIR_INDEX_LUCENE_FORWARD_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hymir/document.h"
#include "hymir/index/analysed_document.h"
#include "hymir/result.h"
#include "index/vector/vector_store.h"  // FileInfo

namespace hymir::index::internal {

struct TokenBuffer;  // index/lucene/analysis.h

inline constexpr uint32_t kForwardVersion = 1;

// Token counts at which the sentences of `text` end, with `starts` the
// token start offsets (in wchar_t of `text`): the cuts of
// src/engine/sentences.h's SplitSentences applied to the wide string (its
// rule only looks at ASCII characters, which UTF-8 and UTF-32 both keep as
// single units).
std::vector<uint32_t> SentenceEnds(std::wstring_view text, const std::vector<uint32_t>& starts);

class ForwardIndex {
 public:
  ForwardIndex() = default;
  // Reads and verifies <vectors_dir>/<expected.name> (size and crc32 as the
  // manifest says, then the header, then every record's bounds): Corruption
  // naming the file on any mismatch.
  static Result<std::unique_ptr<ForwardIndex>> Load(const std::string& vectors_dir, const FileInfo& expected);

  // Records `doc` analysed into `title` and `text` (their tokens), with the
  // text's sentence ends (SentenceEnds). Replaces a previous record.
  void Put(const Document& doc, const TokenBuffer& title, const TokenBuffer& text,
           const std::vector<uint32_t>& sentence_ends);
  void Delete(const std::string& id);

  // Writes forward.g<generation>.fwd into `vectors_dir` (temp + fsync +
  // rename) and describes it in *info.
  Status Save(const std::string& vectors_dir, uint64_t generation, FileInfo* info) const;

  // The record of `id`; NotFound when absent.
  Result<AnalysedDocument> Get(std::string_view id) const;
  size_t size() const { return records_.size(); }

 private:
  uint32_t TermId(const std::string& term);

  std::vector<std::string> terms_;
  std::unordered_map<std::string, uint32_t> term_ids_;
  std::unordered_map<std::string, std::string> records_;  // id -> encoded record
};

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_FORWARD_INDEX_H_
