// hymir::Document: the unit of indexing.
//
// A document has a unique string id, a title and a text (both analysed and
// searchable), an optional domain and optional extra string fields. The domain
// and the extra fields are stored and filterable by exact value (for example
// `domain:med`); they are not analysed. Vectors go to the index's vector
// fields.
//
// Thread-safety: a plain value type.
#ifndef HYMIR_DOCUMENT_H_
#define HYMIR_DOCUMENT_H_

#include <cstddef>
#include <map>
#include <string_view>
#include <optional>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "hymir/status.h"

namespace hymir {

// Longest document id, in bytes. Longer ids are refused (InvalidArgument):
// Lucene++ silently drops terms of 16,384 characters or more, so such a
// document would read back with an empty id and could never be replaced.
inline constexpr size_t kMaxIdBytes = 4096;

// One value of a typed field, as the corpus JSON gives it: a string (keyword
// fields, and dates in ISO 8601), an integer, a floating-point number or a
// boolean. The index's schema says which a field accepts (a double field
// also takes integers; a date field also takes epoch milliseconds).
using FieldValue = std::variant<std::string, int64_t, double, bool>;

struct Document {
  // Unique within an index; non-empty, at most kMaxIdBytes bytes, no
  // whitespace or control bytes (CheckId); an upsert by id replaces.
  std::string id;
  std::string title;                  // may be empty
  std::string text;                   // may be empty
  std::optional<std::string> domain;  // filterable as field "domain"
  // Extra stored fields, filterable by exact value. Names must not collide with
  // the reserved names: _id, id, title, text, all, domain, vectors.
  std::map<std::string, std::string> fields;
  // Vectors by vector-field name (see index/vector_field.h). A field with an
  // embedder is filled from title + text when absent here.
  std::map<std::string, std::vector<float>> vectors;
  // Last, so that {id, title, text, domain, fields, vectors} initialisers
  // keep their meaning.
  // Typed values by field name: several for a multi-valued keyword field,
  // one otherwise. Used by indexes with a schema, for the fields it declares
  // (a declared field absent here is read from `fields` as text); ignored by
  // indexes without one. The corpus reader fills it with every extra
  // top-level key (arrays of scalars included).
  std::map<std::string, std::vector<FieldValue>> values;

  friend bool operator==(const Document&, const Document&) = default;
};

// True when `name` is reserved by hymir and cannot be an extra field name.
bool IsReservedFieldName(const std::string& name);

// OK when `id` can be a document or query id: non-empty, at most kMaxIdBytes
// bytes, and free of whitespace and control bytes (space, tab, newline, NUL,
// bytes below 0x20 and 0x7f): run files and qrels separate columns by
// whitespace, and C strings end at NUL. InvalidArgument otherwise, saying
// which byte and where (the caller adds the file and line).
Status CheckId(std::string_view id);

}  // namespace hymir

#endif  // HYMIR_DOCUMENT_H_
