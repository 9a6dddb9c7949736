// Private: the on-disk layout of a hymir index directory (see docs/format.md,
// "On-disk layout") and its metadata file.
//
//   <dir>/hymir.json   {"format": "hymir-index", "format_version": 3, "analyzer": "english",
//                       "vector_fields": [{name, dimension, metric, index, ...}],
//                       "schema": {"fields": {...}} (hymir/index/schema.h; absent: none)}
//   <dir>/vectors/     vector files by commit generation (index/vector/manifest.h)
//   <dir>/LOCK         flock()ed by the one IndexWriter
//   <dir>/text/        Lucene++ index
//
// Lucene++ fields of every document:
//   _id                 NOT_ANALYZED, stored: the document id
//   title, text         stored (raw) + indexed from replayed tokens, no norms
//   all                 format 1 only, indexed only: title tokens then text
//                       tokens (format 2 derives its postings from title's
//                       and text's: tf = the sum, length = the sum)
//   _len.title/_len.text  NOT_ANALYZED_NO_NORMS: exact token counts (format 1
//                       also _len.all)
//   t.<name>            text fields of the schema: indexed from the tokens of
//                       the field's own analyzer (positions, no norms), and
//                       the raw values stored (when the field is stored)
//   _len.t.<name>       NOT_ANALYZED_NO_NORMS: exact token count of t.<name>
//   f.<name>            NOT_ANALYZED_NO_NORMS, stored: domain and extra fields;
//                       not stored for keyword fields of the schema (one
//                       term per value; the values live in the doc values,
//                       index/lucene/doc_values.h)
#ifndef HYMIR_INDEX_LUCENE_INDEX_LAYOUT_H_
#define HYMIR_INDEX_LUCENE_INDEX_LAYOUT_H_

#include <array>
#include <string>
#include <string_view>

#include <vector>

#include "hymir/index/analyzer.h"
#include "hymir/index/schema.h"
#include "hymir/index/vector_field.h"
#include "hymir/result.h"

namespace hymir::index::internal {

// The format new indexes get. Version 1 indexed "all" as a Lucene++ field of
// its own; version 2 derives it from "title" and "text" at search time (the
// same postings, lengths and statistics; half the postings written).
// Version 3 has version 2's layout; its "analyzer" names the analyzer
// exactly, where versions 1 and 2 call english-lucenepp30 (the only English
// analyzer then) "english". All three are read; a writer keeps an index's
// version.
inline constexpr int kFormatVersion = 3;
inline constexpr int kOldestFormatVersion = 1;
inline constexpr int kDerivedAllFormatVersion = 2;
inline constexpr int kExactAnalyzerNameFormatVersion = 3;
inline constexpr const char* kMetaFile = "hymir.json";
inline constexpr const char* kLockFile = "LOCK";
inline constexpr const char* kTextDir = "text";

inline constexpr const wchar_t* kIdField = L"_id";
inline constexpr int kNumTextFields = 3;
// Searchable text fields, by index: 0 title, 1 text, 2 all.
inline constexpr int kTitleField = 0;
inline constexpr int kTextField = 1;
inline constexpr int kAllField = 2;
inline constexpr std::array<const char*, kNumTextFields> kTextFieldNames = {"title", "text", "all"};
inline constexpr std::array<const wchar_t*, kNumTextFields> kTextFieldsW = {L"title", L"text", L"all"};
inline constexpr std::array<const wchar_t*, kNumTextFields> kLenFieldsW = {L"_len.title", L"_len.text", L"_len.all"};
inline constexpr const char* kFilterPrefix = "f.";
// Lucene++ fields of a text field of the schema: "t." + name (its terms,
// and its stored values) and "_len.t." + name (its exact lengths).
inline constexpr const char* kSchemaTextPrefix = "t.";
inline constexpr const char* kSchemaTextLengthPrefix = "_len.t.";
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
  Schema schema;  // typed fields; empty: none (string fields as before)
};

// The field named `name`, or nullptr.
const VectorFieldSpec* FindVectorField(const IndexMeta& meta, std::string_view name);

// The analyzer a new index of `format_version` gets when none is asked for:
// english, or english-lucenepp30 for versions 1 and 2 (all they can record).
AnalyzerKind DefaultAnalyzer(int format_version);
// InvalidArgument when an index of `format_version` cannot record `kind`
// (the english analyzer needs version 3).
Status CheckAnalyzerFormat(AnalyzerKind kind, int format_version);

// NotFound when <dir>/hymir.json is absent; Corruption when unreadable.
Result<IndexMeta> ReadMeta(const std::string& dir);
// InvalidArgument when meta.format_version cannot record meta.analyzer.
Status WriteMeta(const std::string& dir, const IndexMeta& meta);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_INDEX_LAYOUT_H_
