// Private: the on-disk layout of a hymir index directory (see README,
// "On-disk layout") and its metadata file.
//
//   <dir>/hymir.json   {"format": "hymir-index", "format_version": 1, "analyzer": "english",
//                       "vector_fields": [{name, dimension, metric, index, ...}]}
//   <dir>/vectors/     vector files by commit generation (index/vector/manifest.h)
//   <dir>/LOCK         flock()ed by the one IndexWriter
//   <dir>/text/        Lucene++ index
//
// Lucene++ fields of every document:
//   _id                 NOT_ANALYZED, stored: the document id
//   title, text         stored (raw) + indexed from replayed tokens, no norms
//   all                 indexed only: title tokens then text tokens
//   _len.title/_len.text/_len.all  NOT_ANALYZED_NO_NORMS: exact token counts
//   f.<name>            NOT_ANALYZED_NO_NORMS, stored: domain and extra fields
#ifndef HYMIR_INDEX_LUCENE_INDEX_LAYOUT_H_
#define HYMIR_INDEX_LUCENE_INDEX_LAYOUT_H_

#include <array>
#include <string>
#include <string_view>

#include <vector>

#include "hymir/index/analyzer.h"
#include "hymir/index/vector_field.h"
#include "hymir/result.h"

namespace hymir::index::internal {

inline constexpr int kFormatVersion = 1;
inline constexpr const char* kMetaFile = "hymir.json";
inline constexpr const char* kLockFile = "LOCK";
inline constexpr const char* kTextDir = "text";

inline constexpr const wchar_t* kIdField = L"_id";
inline constexpr int kNumTextFields = 3;
// Searchable text fields, by index: 0 title, 1 text, 2 all.
inline constexpr std::array<const char*, kNumTextFields> kTextFieldNames = {"title", "text", "all"};
inline constexpr std::array<const wchar_t*, kNumTextFields> kTextFieldsW = {L"title", L"text", L"all"};
inline constexpr std::array<const wchar_t*, kNumTextFields> kLenFieldsW = {L"_len.title", L"_len.text", L"_len.all"};
inline constexpr const char* kFilterPrefix = "f.";
// Bound on a stored field length (tokens) read back from disk: Lucene 3.0
// positions are int32, so no longer field can have been indexed.
inline constexpr uint64_t kMaxFieldLength = uint64_t{1} << 31;

// Index of a text field name, or -1.
inline int TextFieldIndex(std::string_view name) {
  for (int i = 0; i < kNumTextFields; ++i) {
    if (name == kTextFieldNames[i]) return i;
  }
  return -1;
}

struct IndexMeta {
  int format_version = kFormatVersion;
  AnalyzerKind analyzer = AnalyzerKind::kEnglish;
  std::vector<VectorFieldSpec> vector_fields;
};

// The field named `name`, or nullptr.
const VectorFieldSpec* FindVectorField(const IndexMeta& meta, std::string_view name);

// NotFound when <dir>/hymir.json is absent; Corruption when unreadable.
Result<IndexMeta> ReadMeta(const std::string& dir);
Status WriteMeta(const std::string& dir, const IndexMeta& meta);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_INDEX_LAYOUT_H_
