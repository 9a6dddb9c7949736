// Private: the typed values of an index with a schema (hymir/index/schema.h),
// column by column, for range filters, sorting and facets. Keyed, like the
// forward index (forward_index.h), by the documents' string ids in byte
// order, so that Lucene++ merges (which renumber docids) never touch it; a
// Snapshot maps its docids to rows once, by id.
//
// File (one per commit generation, named in vectors/MANIFEST.g<N>.json under
// "values", listed in the commit manifest):
//   <index>/vectors/values.g<N>.dv
// A commit whose changes since the last full file are few writes them as a
// delta (version 2, named with its base under "values_base"): the rows put
// since the base in version 1's layout, then the ids deleted since as
//   u64 t | (t + 1) x u64 offsets | the ids' bytes, strictly increasing
//   | padding
// A searcher merges the delta into the base in memory at open (column by
// column, what a full commit writes), so everything downstream reads one
// file's columns; the commit itself costs what changed. A full file is
// written again when the changes reach 1/kValuesDeltaFraction of the base's
// rows.
// Layout, every section starting at a multiple of 8 bytes, integers
// little-endian:
//   header (64 bytes): magic "HYMIRDV1" | u32 version (1) | u32 fields
//            | u64 rows | u64 file size | u32 crc32 of every byte after the
//            header | u32 crc32 of the header with this field zero | 24 zero
//   ids    : (rows + 1) x u64 offsets into the id bytes | id bytes, strictly
//            increasing in byte order (row r = the r-th id) | padding
//   per field, in name order:
//            u64 name length | name | padding | u64 type (FieldType)
//     int64, double, date, bool (one value per document):
//            ((rows + 63) / 64) x u64 presence bits | rows x i64 keys (0 when
//            absent; schema.h ValueKey) | u64 m (documents with a value)
//            | m x i64 keys ascending | m x u32 rows (ties by row) | padding
//            The (key, row) pairs are the points: a range is two binary
//            searches and a walk over the rows it admits.
//     keyword (several values per document):
//            u64 v | (v + 1) x u64 offsets | the values' bytes, strictly
//            increasing (ordinal = position) | padding | (rows + 1) x u64
//            offsets into the ordinals | ordinals as u32, strictly increasing
//            within a row | padding
// Open checks the size, both checksums, and then every invariant above
// (offsets in bounds and in order, ids and values sorted, ordinals below
// v, points sorted and equal to the keys they index, m = the presence
// count), so no later read can leave the file or disagree with it; any
// failure is Corruption naming the file.
//
// Thread-safety: DocValuesReader is immutable after Open (any number of
// threads); DocValues (the writer's) needs external synchronisation.
#ifndef HYMIR_INDEX_LUCENE_DOC_VALUES_H_
#define HYMIR_INDEX_LUCENE_DOC_VALUES_H_

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/document.h"
#include "hymir/index/schema.h"
#include "hymir/result.h"
#include "index/vector/vector_store.h"  // FileInfo
#include "src/core/mapped_file.h"

namespace hymir::index::internal {

inline constexpr uint32_t kDocValuesVersion = 1;       // full files
inline constexpr uint32_t kDocValuesDeltaVersion = 2;  // deltas over a full file
inline constexpr uint64_t kValuesDeltaFraction = 16;

// The typed values of one generation: `file`, and when it is a delta, the
// full file it applies to.
struct ValuesFiles {
  FileInfo file;
  FileInfo base;  // empty name: `file` is a full file
};
inline constexpr size_t kDocValuesHeaderBytes = 64;

// One document's typed values, by field position in the schema (name
// order): keys for numeric fields (0 or 1), sorted unique strings for
// keyword fields.
struct TypedRow {
  std::vector<std::vector<int64_t>> keys;
  std::vector<std::vector<std::string>> keywords;
};

// The fields of `schema` the values file holds: all but the text fields
// (those live in Lucene++ fields t.<name>, index_layout.h).
Schema ValuesSchema(const Schema& schema);

// `doc`'s typed values under `schema` (Document::values, else
// Document::fields as text). InvalidArgument naming the document and the
// field for a value of the wrong type or several values in a one-valued
// field.
Result<TypedRow> MakeTypedRow(const Schema& schema, const Document& doc);

inline int64_t LoadI64(const char* p, uint64_t i) {
  int64_t v;
  std::memcpy(&v, p + i * 8, 8);
  return v;
}
inline uint64_t LoadU64(const char* p, uint64_t i) {
  uint64_t v;
  std::memcpy(&v, p + i * 8, 8);
  return v;
}
inline uint32_t LoadU32(const char* p, uint64_t i) {
  uint32_t v;
  std::memcpy(&v, p + i * 4, 4);
  return v;
}

// One field's column, pointing into the mapped file (checked by Open).
struct ValueColumn {
  std::string name;
  FieldType type = FieldType::kKeyword;
  uint64_t rows = 0;
  // Numeric types.
  const char* present = nullptr;  // bits
  const char* keys = nullptr;     // rows x i64
  uint64_t points = 0;
  const char* point_keys = nullptr;  // points x i64, ascending
  const char* point_rows = nullptr;  // points x u32
  // Keyword.
  uint64_t values = 0;
  const char* value_offsets = nullptr;  // (values + 1) x u64
  const char* value_bytes = nullptr;
  const char* ord_offsets = nullptr;  // (rows + 1) x u64
  const char* ords = nullptr;         // u32

  bool numeric() const { return type != FieldType::kKeyword; }
  bool Has(uint64_t row) const { return (LoadU64(present, row >> 6) >> (row & 63)) & 1U; }
  int64_t Key(uint64_t row) const { return LoadI64(keys, row); }
  std::string_view Value(uint64_t ord) const {
    const uint64_t b = LoadU64(value_offsets, ord), e = LoadU64(value_offsets, ord + 1);
    return {value_bytes + b, e - b};
  }
  uint64_t OrdBegin(uint64_t row) const { return LoadU64(ord_offsets, row); }
  uint64_t OrdEnd(uint64_t row) const { return LoadU64(ord_offsets, row + 1); }
  uint32_t Ord(uint64_t i) const { return LoadU32(ords, i); }
  // Points [*begin, *end) whose keys lie in [lo, hi] (both inclusive).
  void PointRange(int64_t lo, int64_t hi, uint64_t* begin, uint64_t* end) const;
  // The ordinal of `value`, or -1.
  int64_t FindValue(std::string_view value) const;
};

class DocValuesReader {
 public:
  // Maps and checks <vectors_dir>/<expected.name> against `expected` and
  // `schema` (its columns must be the schema's fields with their types).
  static Result<std::unique_ptr<DocValuesReader>> Open(const std::string& vectors_dir, const FileInfo& expected,
                                                       const Schema& schema);
  // A generation's values: a full file, or a delta merged into its base in
  // memory (Corruption naming the delta when it does not apply).
  static Result<std::unique_ptr<DocValuesReader>> Open(const std::string& vectors_dir, const ValuesFiles& files,
                                                       const Schema& schema);
  // The delta <vectors_dir>/<delta.name> merged into `base` (opened from the
  // delta's base file), in memory.
  static Result<std::unique_ptr<DocValuesReader>> Merge(const DocValuesReader& base, const std::string& vectors_dir,
                                                        const FileInfo& delta, const Schema& schema);
  // Checks `bytes` (which must outlive the reader) as Open does, errors
  // naming `where`; for tests and the fuzz target.
  static Result<std::unique_ptr<DocValuesReader>> FromBytes(std::string_view bytes, const Schema& schema,
                                                            const std::string& where);
  // The same for a delta (version 2), whose deleted ids tombstone(i) gives.
  static Result<std::unique_ptr<DocValuesReader>> DeltaFromBytes(std::string_view bytes, const Schema& schema,
                                                                 const std::string& where);

  uint64_t rows() const { return rows_; }
  std::string_view id(uint64_t row) const;
  // The row of `id`, or rows() when absent.
  uint64_t Find(std::string_view id) const;
  // The column of `field`, or nullptr.
  const ValueColumn* column(std::string_view field) const;
  const std::vector<ValueColumn>& columns() const { return columns_; }
  // Row `row` decoded.
  TypedRow Row(uint64_t row) const;
  const std::string& path() const { return path_; }
  // A delta's deleted ids, strictly increasing (none in a full file).
  uint64_t tombstones() const { return tombstones_; }
  std::string_view tombstone(uint64_t i) const;

 private:
  DocValuesReader() = default;
  static Result<std::unique_ptr<DocValuesReader>> OpenFile(const std::string& vectors_dir, const FileInfo& expected,
                                                           const Schema& schema, bool delta);
  // Checks `bytes` and points the columns into them; `verify` false skips
  // the checksums and the O(rows) checks (for bytes this process encoded
  // from checked files).
  Status Parse(std::string_view bytes, const Schema& schema, bool delta = false, bool verify = true);
  friend class DocValues;

  std::string path_;
  std::unique_ptr<hymir::internal::MappedFile> file_;
  std::string owned_;  // a merged base and delta (no file)
  uint64_t tombstones_ = 0;
  const char* tombstone_offsets_ = nullptr;
  const char* tombstone_bytes_ = nullptr;
  uint64_t rows_ = 0;
  const char* id_offsets_ = nullptr;
  const char* id_bytes_ = nullptr;
  std::vector<ValueColumn> columns_;
};

// The writer's typed values: the last committed file as a base plus the
// rows put and the ids deleted since.
class DocValues {
 public:
  explicit DocValues(Schema schema) : schema_(std::move(schema)) {}
  // Opens the committed file as the base (Corruption as DocValuesReader).
  static Result<std::unique_ptr<DocValues>> Load(const std::string& vectors_dir, const FileInfo& expected,
                                                 const Schema& schema);
  // A generation's files: the base, and the delta's rows and deleted ids as
  // changes since it.
  static Result<std::unique_ptr<DocValues>> Load(const std::string& vectors_dir, const ValuesFiles& files,
                                                 const Schema& schema);

  void Put(const std::string& id, TypedRow row);
  void Delete(const std::string& id);
  // Writes values.g<generation>.dv (temp + fsync + rename), a delta over the
  // base or a full file, and describes it in *files (files->base empty for a
  // full file).
  Status Save(const std::string& vectors_dir, uint64_t generation, ValuesFiles* files) const;

 private:
  Schema schema_;
  std::unique_ptr<DocValuesReader> base_;
  FileInfo base_info_;
  std::map<std::string, TypedRow> puts_;
  std::set<std::string, std::less<>> deleted_;
};

// The file bytes of `rows` (by id, in id order) under `schema`; what Save
// writes (tests and fuzz seeds use it directly).
std::string EncodeDocValues(const Schema& schema, const std::vector<std::pair<std::string, TypedRow>>& rows);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_DOC_VALUES_H_
