// Schema: the typed fields of an index, declared when the index is created
// and recorded in it (hymir.json). A typed field takes its values from
// Document::values (or, as text, from Document::fields) and can be filtered
// by value or range, sorted on and counted in facets (see
// docs/structured_fields.md).
//
// Types: keyword (exact strings, several per document), text (analysed with
// the field's own analyzer, hymir/index/analyzer.h, and searched with BM25
// by the query language's field:... clauses; one or several strings per
// document), int64, double, date (ISO 8601 "2021-03-04" or
// "2021-03-04T05:06:07Z", with optional fraction and +hh:mm offset; kept as
// epoch milliseconds UTC) and bool (one value per document).
//
// Thread-safety: plain value types and pure functions.
#ifndef HYMIR_INDEX_SCHEMA_H_
#define HYMIR_INDEX_SCHEMA_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/document.h"
#include "hymir/result.h"

namespace hymir::index {

enum class FieldType { kKeyword, kText, kInt64, kDouble, kDate, kBool };

// "keyword", "text", "int64", "double", "date", "bool".
const char* FieldTypeName(FieldType t);
Result<FieldType> ParseFieldType(std::string_view name);

struct FieldSpec {
  FieldType type = FieldType::kKeyword;
  // Filterable by value (keyword, all types) and by range (numeric, date,
  // bool). Default: true.
  bool indexed = true;
  // Returned by Searcher::GetDocument in Document::values. Default: true.
  bool stored = true;
  // Usable as a sort key (TextQuery::sort). Default: false.
  bool sortable = false;
  // Usable in facet requests (TextQuery::facets). Default: false.
  bool facetable = false;
  // Analyzer of a text field: an AnalyzerName() ("german", "cjk",
  // "snowball-french", ...). Empty for the other types. Default for a text
  // field: "standard" (ParseSchemaJson fills it in).
  std::string analyzer;

  friend bool operator==(const FieldSpec&, const FieldSpec&) = default;
};

struct Schema {
  std::map<std::string, FieldSpec> fields;  // by field name

  bool empty() const { return fields.empty(); }
  // The spec of `name`, or nullptr.
  const FieldSpec* Find(std::string_view name) const;
  friend bool operator==(const Schema&, const Schema&) = default;
};

// Parses {"fields": {"NAME": {"type": T, "indexed": b, "stored": b, "sort": b,
// "facet": b, "analyzer": A}, ...}}. InvalidArgument naming the field and the
// key for malformed JSON, an unknown type or flag, a non-boolean flag, a
// reserved field name (see IsReservedFieldName), an unknown analyzer (the
// message lists the valid names), an analyzer on a field that is not text,
// or a text field that asks to be sorted or faceted.
Result<Schema> ParseSchemaJson(std::string_view json);
// The same from a file; errors name the path.
Result<Schema> ReadSchemaFile(const std::string& path);
// The JSON ParseSchemaJson reads back to `schema`.
std::string SchemaToJson(const Schema& schema);

// A value as one field of `spec`'s type holds it, as an order-preserving
// 64-bit key: int64 as is, date as epoch ms, bool as 0/1, double mapped so
// that signed key order is numeric order (-0.0 taken as 0.0). Keywords have
// no key. InvalidArgument naming the field for a value of the wrong type
// (a double for an int64 field, NaN, a string that is no date, ...).
Result<int64_t> ValueKey(const std::string& field, const FieldSpec& spec, const FieldValue& value);
// The same for a value written as text (a filter bound: "42", "2.5",
// "2021-03-04", "true").
Result<int64_t> TextKey(const std::string& field, const FieldSpec& spec, std::string_view text);
// The FieldValue a key of `type` stands for (int64, double, date as its ISO
// text "2021-03-04T05:06:07Z" (with .mmm when not whole seconds), bool).
FieldValue KeyValue(FieldType type, int64_t key);
// The text of a key of `type` (numbers as JSON writes them, dates as above).
std::string KeyText(FieldType type, int64_t key);

// OK when the typed values of `doc` (Document::values, or Document::fields
// read as text) suit `schema`: the check IndexWriter::Upsert makes before
// writing anything. InvalidArgument naming the document and the field
// otherwise (a value of the wrong type, two values in a one-value field, a
// number in a text field). Lets a router refuse a document before sending it
// to the index that holds it.
Status CheckDocumentValues(const Schema& schema, const Document& doc);

// ISO 8601 date or date-time to epoch milliseconds (UTC); InvalidArgument
// naming the text when it is none.
Result<int64_t> ParseDate(std::string_view text);
std::string FormatDate(int64_t epoch_ms);

}  // namespace hymir::index

#endif  // HYMIR_INDEX_SCHEMA_H_
