#include "index/lucene/doc_values.h"

#include <algorithm>
#include <bit>
#include <numeric>

#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::index::internal {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'D', 'V', '1'};

std::string FileName(uint64_t generation) { return "values.g" + std::to_string(generation) + ".dv"; }

void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }
void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
void Pad8(std::string* out) { out->append((8 - out->size() % 8) % 8, '\0'); }

// A bounds-checked walk over the body; every getter fails on a short input.
class Cursor {
 public:
  Cursor(std::string_view b, size_t pos) : b_(b), pos_(pos) {}
  bool U64(uint64_t* v) {
    if (b_.size() - pos_ < 8) return false;
    *v = LoadU64(b_.data() + pos_, 0);
    pos_ += 8;
    return true;
  }
  // `n` items of `size` bytes; *p points at them.
  bool Take(uint64_t n, uint64_t size, const char** p) {
    if (size != 0 && n > (b_.size() - pos_) / size) return false;
    *p = b_.data() + pos_;
    pos_ += n * size;
    return true;
  }
  bool Align() {
    const size_t pad = (8 - pos_ % 8) % 8;
    if (b_.size() - pos_ < pad) return false;
    for (size_t i = 0; i < pad; ++i) {
      if (b_[pos_ + i] != '\0') return false;
    }
    pos_ += pad;
    return true;
  }
  bool AtEnd() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  size_t pos_;
};

// Offsets (n + 1 u64) ascending from 0 to `total`.
bool OffsetsSound(const char* offsets, uint64_t n, uint64_t total) {
  if (LoadU64(offsets, 0) != 0 || LoadU64(offsets, n) != total) return false;
  for (uint64_t i = 0; i < n; ++i) {
    if (LoadU64(offsets, i) > LoadU64(offsets, i + 1)) return false;
  }
  return true;
}

}  // namespace

Schema ValuesSchema(const Schema& schema) {
  Schema out;
  for (const auto& [name, spec] : schema.fields) {
    if (spec.type != FieldType::kText) out.fields.emplace(name, spec);
  }
  return out;
}

Result<TypedRow> MakeTypedRow(const Schema& schema, const Document& doc) {
  TypedRow row;
  row.keys.resize(schema.fields.size());
  row.keywords.resize(schema.fields.size());
  size_t i = 0;
  for (const auto& [name, spec] : schema.fields) {
    const std::string at = "document \"" + doc.id + "\": ";
    std::vector<FieldValue> given;
    if (auto it = doc.values.find(name); it != doc.values.end()) {
      given = it->second;
    } else if (auto f = doc.fields.find(name); f != doc.fields.end()) {
      given.push_back(f->second);
    }
    if (spec.type == FieldType::kKeyword) {
      auto& out = row.keywords[i];
      for (const FieldValue& v : given) {
        const auto* s = std::get_if<std::string>(&v);
        if (!s) {
          return Status::InvalidArgument(at + "field \"" + name + "\" is keyword, got " +
                                         (std::holds_alternative<bool>(v) ? "a boolean" : "a number"));
        }
        out.push_back(*s);
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
    } else {
      if (given.size() > 1) {
        return Status::InvalidArgument(at + "field \"" + name + "\" is " + FieldTypeName(spec.type) +
                                       " and takes one value, got " + std::to_string(given.size()));
      }
      for (const FieldValue& v : given) {
        // A text value (Document::fields) is read as a filter bound is.
        Result<int64_t> key = std::holds_alternative<std::string>(v) && spec.type != FieldType::kDate
                                  ? TextKey(name, spec, std::get<std::string>(v))
                                  : ValueKey(name, spec, v);
        if (!key.ok()) return key.status().WithContext("document \"" + doc.id + "\"");
        row.keys[i].push_back(*key);
      }
    }
    ++i;
  }
  return row;
}

}  // namespace hymir::index::internal

namespace hymir::index {

Status CheckDocumentValues(const Schema& schema, const Document& doc) {
  HYMIR_RETURN_IF_ERROR(internal::MakeTypedRow(internal::ValuesSchema(schema), doc).status());
  for (const auto& [name, spec] : schema.fields) {
    if (spec.type != FieldType::kText) continue;
    auto it = doc.values.find(name);
    if (it == doc.values.end()) continue;
    for (const FieldValue& v : it->second) {
      if (!std::holds_alternative<std::string>(v)) {
        return Status::InvalidArgument("document \"" + doc.id + "\": field \"" + name + "\" is text, got " +
                                       (std::holds_alternative<bool>(v) ? "a boolean" : "a number"));
      }
    }
  }
  return Status::OK();
}

}  // namespace hymir::index

namespace hymir::index::internal {

void ValueColumn::PointRange(int64_t lo, int64_t hi, uint64_t* begin, uint64_t* end) const {
  auto lower = [&](int64_t key, bool upper) {
    uint64_t a = 0, b = points;  // first point with key >= `key` (> when upper)
    while (a < b) {
      const uint64_t mid = a + (b - a) / 2;
      const int64_t k = LoadI64(point_keys, mid);
      if (upper ? k <= key : k < key) {
        a = mid + 1;
      } else {
        b = mid;
      }
    }
    return a;
  };
  *begin = lower(lo, false);
  *end = lo > hi ? *begin : std::max(*begin, lower(hi, true));
}

int64_t ValueColumn::FindValue(std::string_view value) const {
  uint64_t a = 0, b = values;
  while (a < b) {
    const uint64_t mid = a + (b - a) / 2;
    if (Value(mid) < value) {
      a = mid + 1;
    } else {
      b = mid;
    }
  }
  return a < values && Value(a) == value ? static_cast<int64_t>(a) : -1;
}

namespace {
using RowList = std::vector<std::pair<std::string_view, const TypedRow*>>;
std::string EncodeMerged(const Schema& schema, const DocValuesReader* base, const RowList& puts,
                         const std::set<std::string, std::less<>>& deleted,
                         const std::vector<std::string_view>* tombstones = nullptr);
}  // namespace

Result<std::unique_ptr<DocValuesReader>> DocValuesReader::Open(const std::string& vectors_dir, const FileInfo& expected,
                                                               const Schema& schema) {
  return OpenFile(vectors_dir, expected, schema, /*delta=*/false);
}

Result<std::unique_ptr<DocValuesReader>> DocValuesReader::Open(const std::string& vectors_dir, const ValuesFiles& files,
                                                               const Schema& schema) {
  if (files.base.name.empty()) return Open(vectors_dir, files.file, schema);
  HYMIR_ASSIGN_OR_RETURN(auto base, Open(vectors_dir, files.base, schema));
  return Merge(*base, vectors_dir, files.file, schema);
}

Result<std::unique_ptr<DocValuesReader>> DocValuesReader::Merge(const DocValuesReader& base,
                                                                const std::string& vectors_dir,
                                                                const FileInfo& delta_file, const Schema& schema) {
  HYMIR_ASSIGN_OR_RETURN(auto delta, OpenFile(vectors_dir, delta_file, schema, /*delta=*/true));
  std::vector<std::pair<std::string, TypedRow>> rows;
  rows.reserve(delta->rows());
  for (uint64_t r = 0; r < delta->rows(); ++r) rows.emplace_back(std::string(delta->id(r)), delta->Row(r));
  RowList list;
  list.reserve(rows.size());
  for (const auto& [id, row] : rows) list.emplace_back(id, &row);
  std::set<std::string, std::less<>> deleted;
  for (uint64_t i = 0; i < delta->tombstones(); ++i) deleted.emplace(delta->tombstone(i));
  std::unique_ptr<DocValuesReader> r(new DocValuesReader());
  r->path_ = delta->path();
  r->owned_ = EncodeMerged(schema, &base, list, deleted);
  HYMIR_RETURN_IF_ERROR(r->Parse(r->owned_, schema, /*delta=*/false, /*verify=*/false));
  return r;
}

Result<std::unique_ptr<DocValuesReader>> DocValuesReader::OpenFile(const std::string& vectors_dir,
                                                                   const FileInfo& expected, const Schema& schema,
                                                                   bool delta) {
  const std::string path = vectors_dir + "/" + expected.name;
  auto file = hymir::internal::MappedFile::Open(path);
  if (!file.ok()) {
    if (file.status().IsNotFound()) return Status::Corruption(path + ": named by the commit but missing");
    return file.status();
  }
  const std::string_view bytes = (*file)->bytes();
  if (bytes.size() != expected.size) {
    return Status::Corruption(path + ": " + std::to_string(bytes.size()) + " bytes, the manifest says " +
                              std::to_string(expected.size));
  }
  std::unique_ptr<DocValuesReader> r(new DocValuesReader());
  r->path_ = path;
  r->file_ = std::move(file).value();
  HYMIR_RETURN_IF_ERROR(r->Parse(bytes, schema, delta));
  return r;
}

Result<std::unique_ptr<DocValuesReader>> DocValuesReader::FromBytes(std::string_view bytes, const Schema& schema,
                                                                    const std::string& where) {
  std::unique_ptr<DocValuesReader> r(new DocValuesReader());
  r->path_ = where;
  HYMIR_RETURN_IF_ERROR(r->Parse(bytes, schema));
  return r;
}

Result<std::unique_ptr<DocValuesReader>> DocValuesReader::DeltaFromBytes(std::string_view bytes, const Schema& schema,
                                                                         const std::string& where) {
  std::unique_ptr<DocValuesReader> r(new DocValuesReader());
  r->path_ = where;
  HYMIR_RETURN_IF_ERROR(r->Parse(bytes, schema, /*delta=*/true));
  return r;
}

std::string_view DocValuesReader::tombstone(uint64_t i) const {
  const uint64_t b = LoadU64(tombstone_offsets_, i), e = LoadU64(tombstone_offsets_, i + 1);
  return {tombstone_bytes_ + b, e - b};
}

Status DocValuesReader::Parse(std::string_view bytes, const Schema& schema, bool delta, bool verify) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption(path_ + ": " + what + " (a damaged values file)");
  };
  if (bytes.size() < kDocValuesHeaderBytes) return bad("shorter than its header");
  const char* h = bytes.data();
  if (std::memcmp(h, kMagic, 8) != 0) return bad("not a hymir values file");
  std::string header(h, kDocValuesHeaderBytes);
  const uint32_t header_crc = LoadU32(h, 9);
  std::memset(header.data() + 36, 0, 4);
  if (hymir::internal::Crc32(0, header.data(), header.size()) != header_crc) return bad("header checksum mismatch");
  const uint32_t version = LoadU32(h, 2), nfields = LoadU32(h, 3);
  rows_ = LoadU64(h, 2);
  if (!delta && version == kDocValuesDeltaVersion) return bad("a delta (version 2) named without its base");
  if (version != (delta ? kDocValuesDeltaVersion : kDocValuesVersion)) return bad("version " + std::to_string(version));
  if (LoadU64(h, 3) != bytes.size()) return bad("size differs from its header");
  if (verify && hymir::internal::Crc32(0, bytes.data() + kDocValuesHeaderBytes, bytes.size() - kDocValuesHeaderBytes) !=
                    LoadU32(h, 8)) {
    return bad("body checksum mismatch");
  }
  if (rows_ >= (uint64_t{1} << 32)) return bad("row count out of range");
  if (nfields != schema.fields.size()) {
    return bad(std::to_string(nfields) + " columns for a schema of " + std::to_string(schema.fields.size()) +
               " fields");
  }
  Cursor c(bytes, kDocValuesHeaderBytes);
  const char* p;
  if (!c.Take(rows_ + 1, 8, &id_offsets_)) return bad("truncated ids");
  const uint64_t id_total = LoadU64(id_offsets_, rows_);
  if (!c.Take(id_total, 1, &id_bytes_) || !OffsetsSound(id_offsets_, rows_, id_total) || !c.Align()) {
    return bad("malformed ids");
  }
  for (uint64_t r = 0; verify && r < rows_; ++r) {
    if (id(r).empty() || (r > 0 && !(id(r - 1) < id(r))))
      return bad("ids not strictly increasing at row " + std::to_string(r));
  }
  const uint64_t words = (rows_ + 63) / 64;
  auto spec_it = schema.fields.begin();
  for (uint32_t f = 0; f < nfields; ++f, ++spec_it) {
    ValueColumn col;
    col.rows = rows_;
    uint64_t name_len, type;
    if (!c.U64(&name_len) || !c.Take(name_len, 1, &p) || !c.Align() || !c.U64(&type)) return bad("truncated column");
    col.name.assign(p, name_len);
    if (col.name != spec_it->first || type != static_cast<uint64_t>(spec_it->second.type)) {
      return bad("column " + std::to_string(f) + " is \"" + col.name + "\", the schema's is \"" + spec_it->first +
                 "\" (" + FieldTypeName(spec_it->second.type) + ")");
    }
    col.type = spec_it->second.type;
    const std::string at = "column \"" + col.name + "\": ";
    if (col.numeric()) {
      if (!c.Take(words, 8, &col.present) || !c.Take(rows_, 8, &col.keys) || !c.U64(&col.points) ||
          col.points > rows_ || !c.Take(col.points, 8, &col.point_keys) || !c.Take(col.points, 4, &col.point_rows) ||
          !c.Align()) {
        return bad(at + "truncated");
      }
      if (!verify) {
        columns_.push_back(std::move(col));
        continue;
      }
      uint64_t present = 0;
      for (uint64_t w = 0; w < words; ++w) present += static_cast<uint64_t>(std::popcount(LoadU64(col.present, w)));
      if (rows_ % 64 != 0 && words > 0 && (LoadU64(col.present, words - 1) >> (rows_ % 64)) != 0) {
        return bad(at + "presence bits beyond the last row");
      }
      if (present != col.points) return bad(at + "point count differs from the documents with a value");
      for (uint64_t i = 0; i < col.points; ++i) {
        const int64_t k = LoadI64(col.point_keys, i);
        const uint32_t row = LoadU32(col.point_rows, i);
        if (row >= rows_ || !col.Has(row) || col.Key(row) != k)
          return bad(at + "point " + std::to_string(i) + " disagrees with its row");
        if (i > 0) {
          const int64_t pk = LoadI64(col.point_keys, i - 1);
          if (pk > k || (pk == k && LoadU32(col.point_rows, i - 1) >= row)) return bad(at + "points out of order");
        }
      }
    } else {
      if (!c.U64(&col.values) || col.values >= (uint64_t{1} << 32) || !c.Take(col.values + 1, 8, &col.value_offsets)) {
        return bad(at + "truncated dictionary");
      }
      const uint64_t total = LoadU64(col.value_offsets, col.values);
      if (!c.Take(total, 1, &col.value_bytes) || !OffsetsSound(col.value_offsets, col.values, total) || !c.Align()) {
        return bad(at + "malformed dictionary");
      }
      for (uint64_t v = 1; verify && v < col.values; ++v) {
        if (!(col.Value(v - 1) < col.Value(v))) return bad(at + "dictionary not strictly increasing");
      }
      if (!c.Take(rows_ + 1, 8, &col.ord_offsets)) return bad(at + "truncated ordinals");
      const uint64_t nords = LoadU64(col.ord_offsets, rows_);
      if (!c.Take(nords, 4, &col.ords) || !OffsetsSound(col.ord_offsets, rows_, nords) || !c.Align()) {
        return bad(at + "malformed ordinals");
      }
      for (uint64_t r = 0; verify && r < rows_; ++r) {
        for (uint64_t i = col.OrdBegin(r); i < col.OrdEnd(r); ++i) {
          if (col.Ord(i) >= col.values || (i > col.OrdBegin(r) && col.Ord(i - 1) >= col.Ord(i))) {
            return bad(at + "ordinals of row " + std::to_string(r) + " out of order or range");
          }
        }
      }
    }
    columns_.push_back(std::move(col));
  }
  if (delta) {
    if (!c.U64(&tombstones_) || tombstones_ >= (uint64_t{1} << 32) ||
        !c.Take(tombstones_ + 1, 8, &tombstone_offsets_)) {
      return bad("truncated deleted ids");
    }
    const uint64_t total = LoadU64(tombstone_offsets_, tombstones_);
    if (!c.Take(total, 1, &tombstone_bytes_) || !OffsetsSound(tombstone_offsets_, tombstones_, total) || !c.Align()) {
      return bad("malformed deleted ids");
    }
    for (uint64_t i = 0; i < tombstones_; ++i) {
      if (tombstone(i).empty() || (i > 0 && !(tombstone(i - 1) < tombstone(i))))
        return bad("deleted ids not strictly increasing at " + std::to_string(i));
    }
  }
  if (!c.AtEnd()) return bad("trailing bytes");
  return Status::OK();
}

std::string_view DocValuesReader::id(uint64_t row) const {
  const uint64_t b = LoadU64(id_offsets_, row), e = LoadU64(id_offsets_, row + 1);
  return {id_bytes_ + b, e - b};
}

uint64_t DocValuesReader::Find(std::string_view key) const {
  uint64_t a = 0, b = rows_;
  while (a < b) {
    const uint64_t mid = a + (b - a) / 2;
    if (id(mid) < key) {
      a = mid + 1;
    } else {
      b = mid;
    }
  }
  return a < rows_ && id(a) == key ? a : rows_;
}

const ValueColumn* DocValuesReader::column(std::string_view field) const {
  for (const auto& c : columns_) {
    if (c.name == field) return &c;
  }
  return nullptr;
}

TypedRow DocValuesReader::Row(uint64_t row) const {
  TypedRow out;
  out.keys.resize(columns_.size());
  out.keywords.resize(columns_.size());
  for (size_t f = 0; f < columns_.size(); ++f) {
    const ValueColumn& c = columns_[f];
    if (c.numeric()) {
      if (c.Has(row)) out.keys[f].push_back(c.Key(row));
    } else {
      for (uint64_t i = c.OrdBegin(row); i < c.OrdEnd(row); ++i) out.keywords[f].emplace_back(c.Value(c.Ord(i)));
    }
  }
  return out;
}

namespace {

// The file bytes of `base`'s rows (null: none) merged with `puts` (replacing
// base rows of the same id), without the base rows whose ids are in
// `deleted`. Works column by column over the base's mapped columns, never
// decoding a base row, so a commit over a large base copies and remaps
// arrays instead of rebuilding every row; the bytes equal those of encoding
// the merged rows one by one (what EncodeDocValues does with no base).
std::string EncodeMerged(const Schema& schema, const DocValuesReader* base, const RowList& puts,
                         const std::set<std::string, std::less<>>& deleted,
                         const std::vector<std::string_view>* tombstones) {
  // The merged rows: a base row (index) or a put (index into `puts`).
  struct Source {
    bool from_base;
    uint64_t index;
  };
  std::vector<Source> rows;
  const uint64_t base_rows = base ? base->rows() : 0;
  rows.reserve(base_rows + puts.size());
  std::vector<uint32_t> new_row(base_rows, UINT32_MAX);  // base row -> merged row (UINT32_MAX: dropped)
  size_t p = 0;
  for (uint64_t r = 0; r < base_rows; ++r) {
    const std::string_view id = base->id(r);
    for (; p < puts.size() && puts[p].first < id; ++p) rows.push_back({false, p});
    if (p < puts.size() && puts[p].first == id) {
      rows.push_back({false, p++});  // replaced by a put
      continue;
    }
    if (!deleted.empty() && deleted.count(id)) continue;
    new_row[r] = static_cast<uint32_t>(rows.size());
    rows.push_back({true, r});
  }
  for (; p < puts.size(); ++p) rows.push_back({false, p});
  const uint64_t n = rows.size();
  auto id_of = [&](const Source& s) { return s.from_base ? base->id(s.index) : puts[s.index].first; };

  std::string out(kDocValuesHeaderBytes, '\0');
  uint64_t off = 0;
  PutU64(&out, 0);
  for (const Source& s : rows) PutU64(&out, off += id_of(s).size());
  for (const Source& s : rows) out += id_of(s);
  Pad8(&out);
  size_t f = 0;
  for (const auto& [name, spec] : schema.fields) {
    const ValueColumn* col = base ? &base->columns()[f] : nullptr;
    PutU64(&out, name.size());
    out += name;
    Pad8(&out);
    PutU64(&out, static_cast<uint64_t>(spec.type));
    if (spec.type != FieldType::kKeyword) {
      std::vector<uint64_t> bits((n + 63) / 64, 0);
      std::vector<int64_t> keys(n, 0);
      std::vector<std::pair<int64_t, uint32_t>> put_points;
      for (uint64_t i = 0; i < n; ++i) {
        const Source& s = rows[i];
        bool has = false;
        if (s.from_base) {
          has = col->Has(s.index);
          if (has) keys[i] = col->Key(s.index);
        } else if (!puts[s.index].second->keys[f].empty()) {
          has = true;
          keys[i] = puts[s.index].second->keys[f][0];
          put_points.push_back({keys[i], static_cast<uint32_t>(i)});
        }
        if (has) bits[i >> 6] |= uint64_t{1} << (i & 63);
      }
      for (uint64_t w : bits) PutU64(&out, w);
      for (int64_t k : keys) PutU64(&out, static_cast<uint64_t>(k));
      // The base's points, sorted by (key, row), stay sorted under the
      // order-keeping row renumbering; the puts' are merged in.
      std::sort(put_points.begin(), put_points.end());
      std::vector<std::pair<int64_t, uint32_t>> points;
      points.reserve((col ? col->points : 0) + put_points.size());
      size_t q = 0;
      for (uint64_t i = 0; col && i < col->points; ++i) {
        const uint32_t r = new_row[LoadU32(col->point_rows, i)];
        if (r == UINT32_MAX) continue;
        const std::pair<int64_t, uint32_t> pt{LoadI64(col->point_keys, i), r};
        for (; q < put_points.size() && put_points[q] < pt; ++q) points.push_back(put_points[q]);
        points.push_back(pt);
      }
      points.insert(points.end(), put_points.begin() + static_cast<ptrdiff_t>(q), put_points.end());
      PutU64(&out, points.size());
      for (const auto& pt : points) PutU64(&out, static_cast<uint64_t>(pt.first));
      for (const auto& pt : points) PutU32(&out, pt.second);
      Pad8(&out);
    } else {
      // The values the merged rows hold: the base's that a kept row uses,
      // and the puts', in byte order.
      std::vector<char> used(col ? col->values : 0, 0);
      for (const Source& s : rows) {
        if (!s.from_base) continue;
        for (uint64_t i = col->OrdBegin(s.index); i < col->OrdEnd(s.index); ++i) used[col->Ord(i)] = 1;
      }
      std::vector<std::string_view> put_values;
      for (const auto& [id, row] : puts)
        put_values.insert(put_values.end(), row->keywords[f].begin(), row->keywords[f].end());
      std::sort(put_values.begin(), put_values.end());
      put_values.erase(std::unique(put_values.begin(), put_values.end()), put_values.end());
      std::vector<std::string_view> dict;
      std::vector<uint32_t> new_ord(used.size(), UINT32_MAX);
      size_t q = 0;
      for (uint64_t o = 0; o < used.size(); ++o) {
        if (!used[o]) continue;
        const std::string_view v = col->Value(o);
        for (; q < put_values.size() && put_values[q] < v; ++q) dict.push_back(put_values[q]);
        if (q < put_values.size() && put_values[q] == v) ++q;
        new_ord[o] = static_cast<uint32_t>(dict.size());
        dict.push_back(v);
      }
      dict.insert(dict.end(), put_values.begin() + static_cast<ptrdiff_t>(q), put_values.end());
      PutU64(&out, dict.size());
      uint64_t voff = 0;
      PutU64(&out, 0);
      for (auto v : dict) PutU64(&out, voff += v.size());
      for (auto v : dict) out.append(v);
      Pad8(&out);
      uint64_t ooff = 0;
      PutU64(&out, 0);
      for (const Source& s : rows) {
        ooff += s.from_base ? col->OrdEnd(s.index) - col->OrdBegin(s.index) : puts[s.index].second->keywords[f].size();
        PutU64(&out, ooff);
      }
      for (const Source& s : rows) {
        if (s.from_base) {
          for (uint64_t i = col->OrdBegin(s.index); i < col->OrdEnd(s.index); ++i) PutU32(&out, new_ord[col->Ord(i)]);
        } else {
          for (const auto& v : puts[s.index].second->keywords[f]) {
            PutU32(&out, static_cast<uint32_t>(std::lower_bound(dict.begin(), dict.end(), std::string_view(v)) -
                                               dict.begin()));
          }
        }
      }
      Pad8(&out);
    }
    ++f;
  }
  if (tombstones) {
    PutU64(&out, tombstones->size());
    uint64_t toff = 0;
    PutU64(&out, 0);
    for (auto id : *tombstones) PutU64(&out, toff += id.size());
    for (auto id : *tombstones) out.append(id);
    Pad8(&out);
  }
  std::memcpy(out.data(), kMagic, 8);
  const uint32_t version = tombstones ? kDocValuesDeltaVersion : kDocValuesVersion;
  const uint32_t nfields = static_cast<uint32_t>(schema.fields.size());
  const uint64_t size = out.size();
  std::memcpy(out.data() + 8, &version, 4);
  std::memcpy(out.data() + 12, &nfields, 4);
  std::memcpy(out.data() + 16, &n, 8);
  std::memcpy(out.data() + 24, &size, 8);
  const uint32_t body =
      hymir::internal::Crc32(0, out.data() + kDocValuesHeaderBytes, out.size() - kDocValuesHeaderBytes);
  std::memcpy(out.data() + 32, &body, 4);
  const uint32_t head = hymir::internal::Crc32(0, out.data(), kDocValuesHeaderBytes);
  std::memcpy(out.data() + 36, &head, 4);
  return out;
}

}  // namespace

std::string EncodeDocValues(const Schema& schema, const std::vector<std::pair<std::string, TypedRow>>& rows) {
  RowList list;
  list.reserve(rows.size());
  for (const auto& [id, row] : rows) list.emplace_back(id, &row);
  return EncodeMerged(schema, nullptr, list, {});
}

Result<std::unique_ptr<DocValues>> DocValues::Load(const std::string& vectors_dir, const FileInfo& expected,
                                                   const Schema& schema) {
  auto r = DocValuesReader::Open(vectors_dir, expected, schema);
  if (!r.ok()) return r.status();
  auto dv = std::make_unique<DocValues>(schema);
  dv->base_ = std::move(r).value();
  dv->base_info_ = expected;
  return dv;
}

Result<std::unique_ptr<DocValues>> DocValues::Load(const std::string& vectors_dir, const ValuesFiles& files,
                                                   const Schema& schema) {
  if (files.base.name.empty()) return Load(vectors_dir, files.file, schema);
  HYMIR_ASSIGN_OR_RETURN(auto dv, Load(vectors_dir, files.base, schema));
  HYMIR_ASSIGN_OR_RETURN(auto delta, DocValuesReader::OpenFile(vectors_dir, files.file, schema, /*delta=*/true));
  for (uint64_t r = 0; r < delta->rows(); ++r) dv->puts_[std::string(delta->id(r))] = delta->Row(r);
  for (uint64_t i = 0; i < delta->tombstones(); ++i) dv->deleted_.emplace(delta->tombstone(i));
  return dv;
}

void DocValues::Put(const std::string& id, TypedRow row) {
  deleted_.erase(id);
  puts_[id] = std::move(row);
}

void DocValues::Delete(const std::string& id) {
  puts_.erase(id);
  deleted_.insert(id);
}

Status DocValues::Save(const std::string& vectors_dir, uint64_t generation, ValuesFiles* files) const {
  RowList puts;
  puts.reserve(puts_.size());
  for (const auto& [id, row] : puts_) puts.emplace_back(id, &row);
  files->base = FileInfo();
  std::string bytes;
  if (base_ && (puts_.size() + deleted_.size()) * kValuesDeltaFraction < base_->rows()) {
    // A delta: the rows put since the base, and the base rows deleted since.
    std::vector<std::string_view> gone;
    for (const auto& id : deleted_) {
      if (base_->Find(id) < base_->rows()) gone.push_back(id);
    }
    bytes = EncodeMerged(schema_, nullptr, puts, {}, &gone);
    files->base = base_info_;
  } else {
    bytes = EncodeMerged(schema_, base_.get(), puts, deleted_);
  }
  files->file.name = FileName(generation);
  files->file.size = bytes.size();
  files->file.crc32 = hymir::internal::Crc32(0, bytes.data(), bytes.size());
  return hymir::internal::WriteFileAtomic(vectors_dir + "/" + files->file.name, bytes);
}

}  // namespace hymir::index::internal
