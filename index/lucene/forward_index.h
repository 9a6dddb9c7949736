// Private: the forward index, each live document as analysed at index time
// (term ids of title and text in order, sentence boundaries of the text,
// domain and extra fields), keyed by the document's string id so that
// Lucene++ merges, which renumber docids, never touch it.
//
// File (one per commit generation, next to the vector files and named in the
// generation's vectors/MANIFEST.g<N>.json; layout in docs/format.md, "On-disk
// layout", "Forward index"):
//   <index>/vectors/forward.g<N>.fwd
// Version 2 (the current one), read through a
// memory map without decoding anything at open:
//   header  : 64 bytes, see kForwardHeaderBytes in forward_index.cc
//   dict    : the terms' UTF-8 bytes, concatenated (term id = position)
//   records : per document, in increasing byte order of its id:
//             varint id len, id, record, u32 crc32 of those bytes
//   term offsets   : (terms + 1) x u64 into dict
//   record offsets : (docs + 1) x u64 into records
//   record  : varint title terms, term ids | varint text terms, term ids
//             | varint sentences, sentence ends delta-coded
//             | varint flags (1: has domain) [, varint len, domain]
//             | varint fields x (varint len, name, varint len, value)
// Version 1 (still read): header, then one crc'd payload of the dictionary as
// (varint len, bytes) and the documents as (varint id len, id, varint record
// len, record), decoded whole at open.
// Integers in headers and offset arrays are little-endian; varints LEB128.
//
// Version 3, a delta: the same layout over the changes since a base file
// (version 2): its dictionary holds the terms added since the base (term id
// t >= first_term is its term t - first_term), its records the documents put
// since the base, and an empty record (id and checksum only) marks a base
// document deleted. The header's `compacted_terms` field holds first_term,
// which must equal the base's term count, and `reserved0` the base file's
// crc32, so a delta read against another base is Corruption.
//
// Commit: the writer writes a file under the next generation before the
// Lucene++ commit names that generation (as the vector stores do), so text,
// vectors and forward index switch in one segments_N write. It works from
// the last full file, memory-mapped (its base: only the dictionary is read
// at open), plus the records put and the ids deleted since. Most commits
// write only those changes, as a delta named with its base in the
// generation's manifest (the base file stays, named by every generation
// that reads it): a commit costs what changed since the base, not the size
// of the index. A full save runs when the changes outgrow 1/16 of the base
// (kDeltaFraction) or the dictionary grows past 1.5x the terms of the last
// compaction: it copies the base's untouched records byte for byte and
// appends new terms to the base's dictionary, so term ids never change
// between compactions. A compaction (every record decoded, the dictionary
// rebuilt from the live records, ids renumbered) runs on that dictionary
// growth, so terms of deleted documents cannot accumulate beyond it.
//
// Thread-safety: ForwardIndex::Put/Delete need external synchronisation; its
// const methods may run concurrently with each other but not with mutations.
// ForwardIndexReader is immutable after Open: any number of threads may Get.
#ifndef HYMIR_INDEX_LUCENE_FORWARD_INDEX_H_
#define HYMIR_INDEX_LUCENE_FORWARD_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hymir/document.h"
#include "hymir/index/analysed_document.h"
#include "hymir/result.h"
#include "index/vector/vector_store.h"  // FileInfo
#include "src/core/mapped_file.h"

namespace hymir::index::internal {

struct TokenBuffer;  // index/lucene/analysis.h

inline constexpr uint32_t kForwardVersion = 2;       // full files written; 1 and 2 are read
inline constexpr uint32_t kForwardDeltaVersion = 3;  // delta files over a version 2 base
// A commit writes a delta while the changes since the base hold fewer bytes
// than the base's records divided by this.
inline constexpr uint64_t kDeltaFraction = 16;

// The files of one generation's forward index: `file`, and when `file` is a
// delta, the full file it applies to.
struct ForwardFiles {
  FileInfo file;
  FileInfo base;  // empty name: `file` is a full file
};

// Token counts at which the sentences of `text` end, with `starts` the
// token start offsets (in wchar_t of `text`): the cuts of
// src/engine/sentences.h's SplitSentences applied to the wide string (its
// rule only looks at ASCII characters, which UTF-8 and UTF-32 both keep as
// single units).
std::vector<uint32_t> SentenceEnds(std::wstring_view text, const std::vector<uint32_t>& starts);

// The sections of a version 2 file, checked (see ForwardIndexReader).
struct ForwardFileView {
  uint64_t terms = 0, docs = 0;
  const char* dict = nullptr;
  const char* records = nullptr;
  const char* term_offsets = nullptr;    // terms + 1 little-endian u64 into dict
  const char* record_offsets = nullptr;  // docs + 1 little-endian u64 into records

  std::string_view Term(uint64_t t) const;
  // Document i's id and encoded record, after checking its checksum; false
  // when it does not match or the id prefix is malformed.
  bool Record(uint64_t i, std::string_view* id, std::string_view* record) const;
  // The id of document i, unchecked (for the binary search only).
  std::string_view IdUnchecked(uint64_t i) const;
  // Document i's whole entry: id, record and checksum as stored, unchecked.
  std::string_view Entry(uint64_t i) const;
  // The index of the document whose id is `id` (binary search), or docs.
  uint64_t Find(std::string_view id) const;
};

// The writer's forward index: the last committed file (version 2) as a
// memory-mapped base, and the changes since in memory; a version 1 file is
// decoded whole into memory instead.
class ForwardIndex {
 public:
  ForwardIndex() = default;
  // Opens <vectors_dir>/<expected.name> and verifies it: size and crc32 of
  // every byte as the manifest says, then the header, the dictionary and the
  // offsets (version 2: records are decoded when read or compacted, their
  // checksums checked when copied), or every record (version 1). Corruption
  // naming the file on any mismatch.
  static Result<std::unique_ptr<ForwardIndex>> Load(const std::string& vectors_dir, const FileInfo& expected);
  // The same for a generation's files: the base, then the delta's every
  // record (its changes are held in memory again, as before the commit).
  static Result<std::unique_ptr<ForwardIndex>> Load(const std::string& vectors_dir, const ForwardFiles& files);

  // Records `doc` analysed into `title` and `text` (their tokens), with the
  // text's sentence ends (SentenceEnds). Replaces a previous record.
  void Put(const Document& doc, const TokenBuffer& title, const TokenBuffer& text,
           const std::vector<uint32_t>& sentence_ends);
  void Delete(const std::string& id);

  // Writes forward.g<generation>.fwd into `vectors_dir` (temp + fsync +
  // rename), a delta over the base or a full file (see the file comment),
  // and describes it in *files (files->base empty for a full file).
  // Corruption naming the base file when a base record copied fails its
  // checksum or breaks the id order.
  Status Save(const std::string& vectors_dir, uint64_t generation, ForwardFiles* files) const;
  // The bytes a delta of the changes since the base would take (about).
  uint64_t ChangedBytes() const;

  // The record of `id`; NotFound when absent, Corruption when its base
  // record is damaged.
  Result<AnalysedDocument> Get(std::string_view id) const;
  size_t size() const;

 private:
  uint32_t TermId(const std::string& term);
  // The same for an analysed token as Lucene++ gives it (no UTF-8
  // conversion once a token has been seen).
  uint32_t TermId(std::wstring_view token);
  // Load's steps, shared by both format versions: the next dictionary term
  // (Corruption when it repeats one), then record `i` (Corruption when it
  // does not decode against the dictionary or its id repeats).
  Status AddLoadedTerm(std::string_view term, const std::string& path);
  Status AddLoadedRecord(std::string_view id, std::string_view record, uint64_t i, const std::string& path);
  // Applies the delta <vectors_dir>/<delta.name> to a loaded base.
  Status ApplyDelta(const std::string& vectors_dir, const FileInfo& delta);
  Status SaveDelta(const std::string& vectors_dir, uint64_t generation, ForwardFiles* files) const;

  std::vector<std::string> terms_;
  std::unordered_map<std::string, uint32_t> term_ids_;
  struct WideHash {
    using is_transparent = void;
    size_t operator()(std::wstring_view v) const { return std::hash<std::wstring_view>{}(v); }
  };
  std::unordered_map<std::wstring, uint32_t, WideHash, std::equal_to<>> wide_ids_;  // tokens seen by Put
  // Calls fn(id, encoded record, base entry) for every live document in
  // increasing byte order of ids: the base's (checksums and order checked;
  // base entry = its stored bytes, ForwardFileView::Entry) merged with the
  // changes (base entry empty).
  template <typename Fn>
  Status ForEachLive(const std::string& where, Fn&& fn) const;

  std::unordered_map<std::string, std::string> records_;    // id -> encoded record, put since the base
  std::unordered_set<std::string> deleted_;                 // ids deleted since the base (and not put again)
  std::unique_ptr<hymir::internal::MappedFile> base_file_;  // null: no base
  std::string base_path_;
  FileInfo base_info_;  // the base file as its manifest describes it
  ForwardFileView base_{};
  uint64_t compacted_terms_ = 0;  // dictionary size at the last compaction
};

// The searcher's forward index. Version 2 files are memory-mapped: Open checks
// the file size against the manifest, the header's checksum and the checksum
// of the dictionary and offset arrays (not the records, most of the bytes:
// `hymir check` verifies every byte through the commit manifest), and that
// every offset is in bounds and in order. Get finds the id by binary search
// and verifies the record's own checksum (which covers its id) before
// decoding it, so a damaged record is Corruption and a damaged id at worst
// NotFound (the features then analyse the stored text, as for an index
// without a forward index). A version 1 file is read whole into a
// ForwardIndex, as before.
class ForwardIndexReader {
 public:
  static Result<std::unique_ptr<ForwardIndexReader>> Open(const std::string& vectors_dir, const FileInfo& expected);
  // A generation's files: a full file alone, or a delta over its base (the
  // delta's every record checked at open; it holds the changes since the
  // base, a small part of it).
  static Result<std::unique_ptr<ForwardIndexReader>> Open(const std::string& vectors_dir, const ForwardFiles& files);

  // The record of `id`; NotFound when absent, Corruption naming the file when
  // its record is damaged.
  Result<AnalysedDocument> Get(std::string_view id) const;
  size_t size() const;

 private:
  ForwardIndexReader() = default;

  std::string path_;
  std::unique_ptr<ForwardIndex> v1_;
  std::unique_ptr<hymir::internal::MappedFile> file_;
  ForwardFileView view_;
  // A delta over view_ (delta_file_ null: none), and the live documents.
  std::string delta_path_;
  std::unique_ptr<hymir::internal::MappedFile> delta_file_;
  ForwardFileView delta_{};
  uint64_t first_term_ = 0;
  size_t size_ = 0;
};

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_FORWARD_INDEX_H_
