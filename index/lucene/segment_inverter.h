// Private: an inverter of hymir's own that writes one Lucene++ 3.0.8 segment
// (field infos .fnm, stored fields .fdt/.fdx, term dictionary .tis/.tii,
// frequencies .frq with their skip lists, positions .prx, norms .nrm) and
// the commit point that names it (segments_N, segments.gen), byte for byte
// as Lucene++'s IndexWriter writes them for the same documents added in the
// same order and flushed at once (one segment, no compound file, no
// deletions). Lucene++ opens, searches and merges the result as its own.
//
// What it covers is what hymir's index writer gives Lucene++: stored string
// and binary fields, untokenized indexed fields and tokenized fields given
// as hymir's token buffers, every indexed field without norms, with
// positions, without payloads or term vectors. Anything else (an indexed
// field with norms, text with characters whose bytes hymir does not
// reproduce: surrogates, values above U+10FFFF, U+FFFF) makes the inverter refuse the document
// (AddDocument returns an error and leaves the segment as it was), so the
// caller can give such input to Lucene++'s IndexWriter instead.
//
// Design notes in docs/format.md ("Segments written by hymir").
//
// Thread-safety: none; one inverter is used by one thread at a time.
#ifndef HYMIR_INDEX_LUCENE_SEGMENT_INVERTER_H_
#define HYMIR_INDEX_LUCENE_SEGMENT_INVERTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/result.h"
#include "hymir/status.h"
#include "index/lucene/analysis.h"

namespace hymir::index::internal {

// One field of a document, as a Lucene++ Field would be built.
struct InvertField {
  enum class Kind {
    kStoredString,  // STORE_YES, INDEX_NO, a string value
    kStoredBinary,  // STORE_YES, a binary value (bytes in `value`)
    kKeyword,       // INDEX_NOT_ANALYZED_NO_NORMS, stored when `stored`
    kTokens,        // a token stream without norms (not stored): `tokens` in sequence
  };
  Kind kind = Kind::kStoredString;
  std::wstring_view name;
  std::wstring_view text;                  // kStoredString, kKeyword
  std::string_view value;                  // kStoredBinary
  bool stored = false;                     // kKeyword
  std::vector<const TokenBuffer*> tokens;  // kTokens
};

// The same fields as a Lucene++ Document, for Lucene++'s IndexWriter (the
// token buffers must outlive its indexing of the document).
Lucene::DocumentPtr ToLuceneDocument(const std::vector<InvertField>& fields);

// The commit point's description of one segment.
struct SegmentDesc {
  std::string name;  // "_0"
  int32_t doc_count = 0;
  bool has_prox = true;
};

class SegmentInverter {
 public:
  SegmentInverter();
  ~SegmentInverter();
  SegmentInverter(const SegmentInverter&) = delete;
  SegmentInverter& operator=(const SegmentInverter&) = delete;

  // Adds one document: its fields in the order Lucene++'s Document would
  // hold them. On error (input this inverter does not write as Lucene++
  // would, see above) nothing of the document is kept.
  Status AddDocument(const std::vector<InvertField>& fields);

  int32_t num_docs() const { return num_docs_; }

  // About the memory the documents added take (stored fields, postings,
  // terms), in bytes.
  size_t bytes_used() const { return bytes_used_; }

  // Writes the segment files `dir`/`segment`.* (segment: "_0", ...) and
  // returns its description. The inverter is empty afterwards.
  Result<SegmentDesc> Flush(const std::string& dir, const std::string& segment);

 private:
  struct Field;
  struct Posting;
  Field* FieldFor(std::wstring_view name, bool indexed, bool omit_norms);

  std::vector<std::unique_ptr<Field>> fields_;  // by number
  std::map<std::wstring, Field*, std::less<>> by_name_;
  std::string fdt_, fdx_;  // stored fields as written
  int32_t num_docs_ = 0;
  size_t bytes_used_ = 0;
  size_t postings_bytes_ = 0;  // about 3 per token
};

// Writes the commit point `dir`/segments_`generation` naming `segments` with
// `user_data` (the commit's user data), then segments.gen, as Lucene++'s
// SegmentInfos::commit does. `version`: the commit's version (Lucene++
// starts from the time in milliseconds and adds one per commit); `counter`:
// the next segment number.
Status WriteCommitPoint(const std::string& dir, int64_t generation, int64_t version, int32_t counter,
                        const std::vector<SegmentDesc>& segments,
                        const std::vector<std::pair<std::wstring, std::wstring>>& user_data);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_SEGMENT_INVERTER_H_
