#include "index/lucene/forward_index.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "index/lucene/analysis.h"
#include "index/lucene/lucene_util.h"
#include "src/core/binary_io.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::index::internal {
namespace {

using hymir::internal::Crc32;
using hymir::internal::PutVarint;
using hymir::internal::PutVarintString;
using hymir::internal::VarintReader;

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'F', 'W', 'D'};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t reserved0;
  uint64_t terms;
  uint64_t docs;
  uint64_t payload_size;
  uint32_t payload_crc;
  uint32_t reserved1;
};
static_assert(sizeof(Header) == 48);

// Version 2's header: kForwardHeaderBytes bytes.
struct HeaderV2 {
  char magic[8];
  uint32_t version;
  uint32_t header_crc;  // crc32 of these 64 bytes with this field zero
  uint64_t terms;
  uint64_t docs;
  uint64_t dict_bytes;
  uint64_t records_bytes;
  uint32_t index_crc;  // crc32 of dict, term offsets and record offsets, in file order
  uint32_t reserved0;
  uint64_t compacted_terms;  // dictionary size at the last compaction (0: files before incremental saves)
};
constexpr size_t kForwardHeaderBytes = 64;
static_assert(sizeof(HeaderV2) == kForwardHeaderBytes);

uint32_t HeaderCrc(HeaderV2 h) {
  h.header_crc = 0;
  return Crc32(0, &h, sizeof h);
}

uint64_t LoadU64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A decoded record, with term ids (into the dictionary of the file or of the
// writer it came from).
struct Record {
  std::vector<uint32_t> title, text;
  std::vector<uint32_t> sentence_ends;
  std::optional<std::string> domain;
  std::map<std::string, std::string> fields;
};

void Encode(const Record& r, std::string* out) {
  PutVarint(out, r.title.size());
  for (uint32_t t : r.title) PutVarint(out, t);
  PutVarint(out, r.text.size());
  for (uint32_t t : r.text) PutVarint(out, t);
  PutVarint(out, r.sentence_ends.size());
  uint32_t prev = 0;
  for (uint32_t e : r.sentence_ends) {
    PutVarint(out, e - prev);
    prev = e;
  }
  PutVarint(out, r.domain ? 1 : 0);
  if (r.domain) PutVarintString(out, *r.domain);
  PutVarint(out, r.fields.size());
  for (const auto& [k, v] : r.fields) {
    PutVarintString(out, k);
    PutVarintString(out, v);
  }
}

// False when `bytes` is not a well-formed record over `num_terms` terms.
bool Decode(std::string_view bytes, uint64_t num_terms, Record* r) {
  VarintReader c(bytes);
  auto ids = [&](std::vector<uint32_t>* v) {
    uint64_t n;
    if (!c.Varint(&n) || n > c.left()) return false;  // every id takes a byte at least
    v->resize(n);
    for (auto& t : *v) {
      uint64_t x;
      if (!c.Varint(&x) || x >= num_terms) return false;
      t = static_cast<uint32_t>(x);
    }
    return true;
  };
  if (!ids(&r->title) || !ids(&r->text)) return false;
  uint64_t n;
  if (!c.Varint(&n) || n > c.left()) return false;
  r->sentence_ends.resize(n);
  uint64_t end = 0;
  for (auto& e : r->sentence_ends) {
    uint64_t d;
    // d > size - end, not end + d > size: a delta near 2^64 would wrap the
    // sum back into range and make the ends decrease.
    if (!c.Varint(&d) || d > r->text.size() - end) return false;
    end += d;
    e = static_cast<uint32_t>(end);
  }
  uint64_t flags;
  if (!c.Varint(&flags) || flags > 1) return false;
  if (flags & 1) {
    std::string_view d;
    if (!c.Bytes(&d)) return false;
    r->domain = std::string(d);
  }
  if (!c.Varint(&n) || n > c.left()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view k, v;
    if (!c.Bytes(&k) || !c.Bytes(&v)) return false;
    r->fields[std::string(k)] = std::string(v);
  }
  return c.AtEnd();
}

// Writes a version 2 or 3 file: header `h` (its magic, sizes and checksums
// filled here), then the sections, into <dir>/<name> (temp + fsync +
// rename), and describes it in *info.
Status WriteSections(const std::string& dir, const std::string& name, HeaderV2 h, std::string_view dict,
                     std::string_view term_offsets, std::string_view records, std::string_view record_offsets,
                     FileInfo* info) {
  std::memcpy(h.magic, kMagic, 8);
  h.dict_bytes = dict.size();
  h.records_bytes = records.size();
  uint32_t crc = Crc32(0, dict.data(), dict.size());
  crc = Crc32(crc, term_offsets.data(), term_offsets.size());
  h.index_crc = Crc32(crc, record_offsets.data(), record_offsets.size());
  h.header_crc = HeaderCrc(h);
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out.reserve(out.size() + dict.size() + records.size() + term_offsets.size() + record_offsets.size());
  out += dict;
  out += records;
  out += term_offsets;
  out += record_offsets;
  HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(dir + "/" + name, out));
  info->name = name;
  info->size = out.size();
  info->crc32 = Crc32(0, out.data(), out.size());
  return Status::OK();
}

// Appends one entry to the records section: varint id length, id, the
// record bytes `encode` appends, and the crc32 of those bytes; and its
// offset to `offsets`.
template <typename Encode>
void AppendEntry(std::string* records, hymir::internal::BinaryWriter* offsets, std::string_view id, Encode&& encode) {
  offsets->U64(records->size());
  const size_t begin = records->size();
  PutVarintString(records, id);
  encode();
  const uint32_t crc = Crc32(0, records->data() + begin, records->size() - begin);
  records->append(reinterpret_cast<const char*>(&crc), 4);
}

std::string FileName(uint64_t generation) { return "forward.g" + std::to_string(generation) + ".fwd"; }

}  // namespace

std::vector<uint32_t> SentenceEnds(std::wstring_view text, const std::vector<uint32_t>& starts) {
  std::vector<uint32_t> ends;
  size_t start = 0;
  size_t token = 0;  // tokens before the current cut
  auto is_space = [](wchar_t c) {
    return c == L' ' || c == L'\t' || c == L'\n' || c == L'\v' || c == L'\f' || c == L'\r';
  };
  auto emit = [&](size_t end) {
    bool blank = true;
    for (size_t i = start; i < end && blank; ++i) {
      const wchar_t c = text[i];
      blank = c == L' ' || c == L'\t' || c == L'\r' || c == L'\n';
    }
    while (token < starts.size() && starts[token] < end) ++token;
    if (!blank) ends.push_back(static_cast<uint32_t>(token));
    start = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const wchar_t c = text[i];
    if (c == L'\n') {
      emit(i + 1);
    } else if ((c == L'.' || c == L'!' || c == L'?') && (i + 1 == text.size() || is_space(text[i + 1]))) {
      emit(i + 1);
    }
  }
  if (start < text.size()) emit(text.size());
  return ends;
}

uint32_t ForwardIndex::TermId(const std::string& term) {
  // Look up first: emplace would build (and allocate) a node per call, and
  // almost every call finds its term (8.8 % of indexing time).
  auto it = term_ids_.find(term);
  if (it != term_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(terms_.size());
  term_ids_.emplace(term, id);
  terms_.push_back(term);
  return id;
}

uint32_t ForwardIndex::TermId(std::wstring_view token) {
  auto it = wide_ids_.find(token);
  if (it != wide_ids_.end()) return it->second;
  const uint32_t id = TermId(Utf8(Lucene::String(token)));
  wide_ids_.emplace(std::wstring(token), id);
  return id;
}

void ForwardIndex::Put(const Document& doc, const TokenBuffer& title, const TokenBuffer& text,
                       const std::vector<uint32_t>& sentence_ends) {
  Record r;
  auto terms = [&](const TokenBuffer& b, std::vector<uint32_t>* out) {
    out->reserve(b.size());
    uint32_t begin = 0;
    for (uint32_t end : b.ends) {
      out->push_back(TermId(std::wstring_view(b.chars.data() + begin, end - begin)));
      begin = end;
    }
  };
  terms(title, &r.title);
  terms(text, &r.text);
  r.sentence_ends = sentence_ends;
  r.domain = doc.domain;
  r.fields = doc.fields;
  std::string bytes;
  Encode(r, &bytes);
  records_[doc.id] = std::move(bytes);
  deleted_.erase(doc.id);
}

void ForwardIndex::Delete(const std::string& id) {
  records_.erase(id);
  if (base_file_) deleted_.insert(id);
}

size_t ForwardIndex::size() const {
  if (!base_file_) return records_.size();
  uint64_t n = base_.docs + records_.size();
  for (const auto& [id, rec] : records_) {
    if (base_.Find(id) < base_.docs) --n;  // replaces a base record
  }
  for (const auto& id : deleted_) {
    if (base_.Find(id) < base_.docs) --n;
  }
  return static_cast<size_t>(n);
}

template <typename Fn>
Status ForwardIndex::ForEachLive(const std::string& where, Fn&& fn) const {
  std::vector<const std::pair<const std::string, std::string>*> changed;
  changed.reserve(records_.size());
  for (const auto& kv : records_) changed.push_back(&kv);
  std::sort(changed.begin(), changed.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  std::vector<std::string_view> gone(deleted_.begin(), deleted_.end());
  std::sort(gone.begin(), gone.end());
  size_t j = 0, k = 0;
  std::string_view prev;
  for (uint64_t i = 0; base_file_ && i < base_.docs; ++i) {
    std::string_view id, rec;
    if (!base_.Record(i, &id, &rec) || (i > 0 && id <= prev)) {
      return Status::Corruption(base_path_ + ": record " + std::to_string(i) +
                                " fails its checksum or breaks the id order (while writing " + where + ")");
    }
    prev = id;
    // (string_view comparisons: clang 14 with libstdc++ 12 rejects string < string_view)
    for (; j < changed.size() && std::string_view(changed[j]->first) < id; ++j) {
      HYMIR_RETURN_IF_ERROR(fn(changed[j]->first, changed[j]->second, std::string_view()));
    }
    if (j < changed.size() && std::string_view(changed[j]->first) == id) continue;  // replaced: written from `changed`
    while (k < gone.size() && gone[k] < id) ++k;
    if (k < gone.size() && gone[k] == id) continue;  // deleted
    HYMIR_RETURN_IF_ERROR(fn(id, rec, base_.Entry(i)));
  }
  for (; j < changed.size(); ++j) HYMIR_RETURN_IF_ERROR(fn(changed[j]->first, changed[j]->second, std::string_view()));
  return Status::OK();
}

uint64_t ForwardIndex::ChangedBytes() const {
  uint64_t n = 0;
  for (const auto& [id, rec] : records_) n += id.size() + rec.size() + 6;
  for (const auto& id : deleted_) n += id.size() + 6;
  for (size_t t = base_file_ ? static_cast<size_t>(base_.terms) : 0; t < terms_.size(); ++t) n += terms_[t].size() + 8;
  return n;
}

Status ForwardIndex::Save(const std::string& vectors_dir, uint64_t generation, ForwardFiles* files) const {
  files->base = FileInfo();
  const bool compact = !base_file_ || terms_.size() > compacted_terms_ + compacted_terms_ / 2 + 1024;
  if (!compact && ChangedBytes() * kDeltaFraction < base_info_.size) return SaveDelta(vectors_dir, generation, files);
  FileInfo* info = &files->file;
  const std::string name = FileName(generation);
  const std::string where = vectors_dir + "/" + name;
  // Documents in byte order of their ids (Get's binary search).
  std::string records;
  hymir::internal::BinaryWriter record_offsets;
  auto append = [&](std::string_view id, const auto& encode) { AppendEntry(&records, &record_offsets, id, encode); };
  std::string dict;
  hymir::internal::BinaryWriter term_offsets;
  uint64_t num_terms = 0, compacted = 0;
  uint64_t docs = 0;
  if (compact) {
    // Every record decoded and its term ids renumbered in order of first
    // use, so the dictionary holds the live records' terms only.
    std::vector<uint32_t> remap(terms_.size(), UINT32_MAX);
    std::vector<uint32_t> used;
    auto map_ids = [&](std::vector<uint32_t>& v) {
      for (auto& t : v) {
        if (remap[t] == UINT32_MAX) {
          remap[t] = static_cast<uint32_t>(used.size());
          used.push_back(t);
        }
        t = remap[t];
      }
    };
    Record r;
    HYMIR_RETURN_IF_ERROR(
        ForEachLive(where, [&](std::string_view id, std::string_view rec, std::string_view) -> Status {
          r = Record();
          if (!Decode(rec, terms_.size(), &r)) {
            return Status::Corruption((base_file_ ? base_path_ : where) + ": record of \"" + std::string(id) +
                                      "\" does not decode");
          }
          map_ids(r.title);
          map_ids(r.text);
          append(id, [&] { Encode(r, &records); });
          ++docs;
          return Status::OK();
        }));
    for (uint32_t t : used) {
      term_offsets.U64(dict.size());
      dict += terms_[t];
    }
    num_terms = compacted = used.size();
  } else {
    // The base's records as they are, with the checksums ForEachLive just
    // verified (their term ids stay valid: new terms only ever get new
    // ids), the changed ones from memory.
    HYMIR_RETURN_IF_ERROR(
        ForEachLive(where, [&](std::string_view id, std::string_view rec, std::string_view base_entry) -> Status {
          if (base_entry.empty()) {
            append(id, [&] { records.append(rec); });
          } else {
            record_offsets.U64(records.size());
            records.append(base_entry);
          }
          ++docs;
          return Status::OK();
        }));
    for (const auto& t : terms_) {
      term_offsets.U64(dict.size());
      dict += t;
    }
    num_terms = terms_.size();
    compacted = compacted_terms_;
  }
  record_offsets.U64(records.size());
  term_offsets.U64(dict.size());
  HeaderV2 h{};
  h.version = kForwardVersion;
  h.terms = num_terms;
  h.docs = docs;
  h.compacted_terms = compacted;
  return WriteSections(vectors_dir, name, h, dict, term_offsets.out(), records, record_offsets.out(), info);
}

Status ForwardIndex::SaveDelta(const std::string& vectors_dir, uint64_t generation, ForwardFiles* files) const {
  // The documents put since the base and tombstones (an empty record) for
  // the base documents deleted since, in byte order of their ids.
  std::vector<std::pair<std::string_view, const std::string*>> changes;
  changes.reserve(records_.size() + deleted_.size());
  for (const auto& [id, rec] : records_) changes.emplace_back(id, &rec);
  for (const auto& id : deleted_) {
    if (base_.Find(id) < base_.docs) changes.emplace_back(id, nullptr);
  }
  std::sort(changes.begin(), changes.end());
  std::string records;
  hymir::internal::BinaryWriter record_offsets;
  for (const auto& [id, rec] : changes) {
    AppendEntry(&records, &record_offsets, id, [&, rec = rec] {
      if (rec != nullptr) records += *rec;
    });
  }
  record_offsets.U64(records.size());
  std::string dict;
  hymir::internal::BinaryWriter term_offsets;
  for (size_t t = static_cast<size_t>(base_.terms); t < terms_.size(); ++t) {
    term_offsets.U64(dict.size());
    dict += terms_[t];
  }
  term_offsets.U64(dict.size());
  HeaderV2 h{};
  h.version = kForwardDeltaVersion;
  h.terms = terms_.size() - base_.terms;
  h.docs = changes.size();
  h.compacted_terms = base_.terms;  // first_term
  h.reserved0 = base_info_.crc32;   // the base it applies to
  files->base = base_info_;
  return WriteSections(vectors_dir, FileName(generation), h, dict, term_offsets.out(), records, record_offsets.out(),
                       &files->file);
}

namespace {

// Checks a version 2 file's header, sections and offsets (not the records)
// and fills *v. `b` is the whole file. `delta`: a version 3 file, whose
// records may be empty (tombstones).
Status ParseV2(std::string_view b, const std::string& path, ForwardFileView* v, bool delta = false) {
  if (b.size() < kForwardHeaderBytes) return Status::Corruption(path + ": truncated header");
  HeaderV2 h;
  std::memcpy(&h, b.data(), sizeof h);
  if (HeaderCrc(h) != h.header_crc) return Status::Corruption(path + ": header checksum mismatch");
  const uint64_t body = b.size() - kForwardHeaderBytes;
  // Every term and record takes a byte at least, every offset 8: bound the
  // counts before multiplying them.
  if (h.terms > body / 8 || h.docs > body / 8 || h.dict_bytes > body || h.records_bytes > body ||
      h.dict_bytes + h.records_bytes + 8 * (h.terms + 1) + 8 * (h.docs + 1) != body) {
    return Status::Corruption(path + ": sections (" + std::to_string(h.terms) + " terms, " + std::to_string(h.docs) +
                              " documents) do not add up to the file's " + std::to_string(b.size()) + " bytes");
  }
  v->terms = h.terms;
  v->docs = h.docs;
  v->dict = b.data() + kForwardHeaderBytes;
  v->records = v->dict + h.dict_bytes;
  v->term_offsets = v->records + h.records_bytes;
  v->record_offsets = v->term_offsets + 8 * (h.terms + 1);
  const char* end = b.data() + b.size();
  uint32_t crc = Crc32(0, v->dict, h.dict_bytes);
  crc = Crc32(crc, v->term_offsets, static_cast<size_t>(end - v->term_offsets));
  if (crc != h.index_crc) return Status::Corruption(path + ": dictionary or offsets checksum mismatch");
  auto check_offsets = [&](const char* offsets, uint64_t n, uint64_t limit, uint64_t min_step,
                           const char* what) -> Status {
    uint64_t prev = LoadU64(offsets);
    if (prev != 0) return Status::Corruption(path + ": first " + what + " offset is not 0");
    for (uint64_t i = 1; i <= n; ++i) {
      const uint64_t o = LoadU64(offsets + 8 * i);
      if (o < prev + min_step || o > limit) {
        return Status::Corruption(path + ": " + what + " offset " + std::to_string(i) + " out of order or bounds");
      }
      prev = o;
    }
    if (prev != limit) return Status::Corruption(path + ": last " + what + " offset does not end the section");
    return Status::OK();
  };
  HYMIR_RETURN_IF_ERROR(check_offsets(v->term_offsets, h.terms, h.dict_bytes, 1, "term"));
  // A record holds an id (2 bytes at least), 5 counts and its crc; a
  // tombstone the id and the crc.
  return check_offsets(v->record_offsets, h.docs, h.records_bytes, delta ? 2 + 4 : 2 + 5 + 4, "record");
}

}  // namespace

std::string_view ForwardFileView::Term(uint64_t t) const {
  const uint64_t begin = LoadU64(term_offsets + 8 * t);
  return {dict + begin, static_cast<size_t>(LoadU64(term_offsets + 8 * (t + 1)) - begin)};
}

std::string_view ForwardFileView::IdUnchecked(uint64_t i) const {
  const uint64_t begin = LoadU64(record_offsets + 8 * i);
  const uint64_t end = LoadU64(record_offsets + 8 * (i + 1)) - 4;  // offsets are >= 11 bytes apart
  VarintReader c(std::string_view(records + begin, static_cast<size_t>(end - begin)));
  std::string_view id;
  return c.Bytes(&id) ? id : std::string_view();
}

std::string_view ForwardFileView::Entry(uint64_t i) const {
  const uint64_t begin = LoadU64(record_offsets + 8 * i);
  return {records + begin, static_cast<size_t>(LoadU64(record_offsets + 8 * (i + 1)) - begin)};
}

uint64_t ForwardFileView::Find(std::string_view id) const {
  // The first document whose id is not less than `id`.
  uint64_t lo = 0, hi = docs;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (IdUnchecked(mid) < id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < docs && IdUnchecked(lo) == id ? lo : docs;
}

bool ForwardFileView::Record(uint64_t i, std::string_view* id, std::string_view* record) const {
  const uint64_t begin = LoadU64(record_offsets + 8 * i);
  const uint64_t end = LoadU64(record_offsets + 8 * (i + 1)) - 4;
  std::string_view bytes(records + begin, static_cast<size_t>(end - begin));
  uint32_t crc;
  std::memcpy(&crc, records + end, 4);
  if (Crc32(0, bytes.data(), bytes.size()) != crc) return false;
  VarintReader c(bytes);
  if (!c.Bytes(id) || id->empty()) return false;
  *record = bytes.substr(bytes.size() - c.left());
  return true;
}

namespace {

// The document `record` decodes to, its term ids looked up by `term`.
template <typename TermFn>
Result<AnalysedDocument> ToAnalysed(std::string_view id, std::string_view record, uint64_t num_terms, TermFn&& term,
                                    const std::string& where) {
  Record r;
  if (!Decode(record, num_terms, &r)) {
    return Status::Corruption(where + ": forward record of \"" + std::string(id) + "\" does not decode");
  }
  AnalysedDocument a;
  a.id = std::string(id);
  a.title.reserve(r.title.size());
  for (uint32_t t : r.title) a.title.emplace_back(term(t));
  a.text.reserve(r.text.size());
  for (uint32_t t : r.text) a.text.emplace_back(term(t));
  a.sentence_ends = std::move(r.sentence_ends);
  a.domain = std::move(r.domain);
  a.fields = std::move(r.fields);
  return a;
}

// <path> memory-mapped, its size checked against the manifest's: Corruption
// naming it when missing or of another size.
Result<std::unique_ptr<hymir::internal::MappedFile>> MapCommitted(const std::string& path, const FileInfo& expected) {
  auto file = hymir::internal::MappedFile::Open(path);
  if (!file.ok()) {
    if (file.status().IsNotFound()) return Status::Corruption(path + ": named by the last commit but missing");
    return file.status();
  }
  if ((*file)->bytes().size() != expected.size) {
    return Status::Corruption(path + ": size " + std::to_string((*file)->bytes().size()) + " bytes, manifest says " +
                              std::to_string(expected.size));
  }
  return file;
}

// Document `id` of a version 2 file: NotFound when absent, Corruption naming
// `path` when its record fails its checksum or does not decode.
template <typename TermFn>
Result<AnalysedDocument> GetFromView(const ForwardFileView& view, std::string_view id, const std::string& path,
                                     TermFn&& term) {
  const uint64_t i = view.Find(id);
  if (i == view.docs) return Status::NotFound("no forward record of \"" + std::string(id) + "\"");
  std::string_view found, record;
  if (!view.Record(i, &found, &record) || found != id) {
    return Status::Corruption(path + ": record " + std::to_string(i) + " (\"" + std::string(id) +
                              "\") fails its checksum");
  }
  return ToAnalysed(id, record, view.terms, term, path);
}

// A delta's file checked whole against its manifest entry and parsed, with
// its first term and the crc32 of the base it applies to.
struct DeltaFile {
  std::unique_ptr<hymir::internal::MappedFile> file;
  ForwardFileView view;
  uint64_t first_term = 0;
  uint32_t base_crc = 0;
};

Result<DeltaFile> OpenDelta(const std::string& path, const FileInfo& expected) {
  DeltaFile d;
  auto file = MapCommitted(path, expected);
  if (!file.ok()) return file.status();
  const std::string_view b = (*file)->bytes();
  if (Crc32(0, b.data(), b.size()) != expected.crc32) return Status::Corruption(path + ": checksum mismatch");
  if (b.size() < kForwardHeaderBytes) return Status::Corruption(path + ": truncated header");
  HeaderV2 h;
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) return Status::Corruption(path + ": bad magic");
  if (h.version != kForwardDeltaVersion) {
    return Status::Corruption(path + ": format version " + std::to_string(h.version) + " where a delta (" +
                              std::to_string(kForwardDeltaVersion) + ") is named");
  }
  HYMIR_RETURN_IF_ERROR(ParseV2(b, path, &d.view, /*delta=*/true));
  d.first_term = h.compacted_terms;
  d.base_crc = h.reserved0;
  d.file = std::move(file).value();
  return d;
}

// Calls fn(index, id, record) for each record of the delta in order (an empty
// record marks a deletion), after checking its checksum and the id order.
template <typename Fn>
Status ForEachDeltaRecord(const DeltaFile& d, const std::string& path, Fn&& fn) {
  std::string_view prev;
  for (uint64_t i = 0; i < d.view.docs; ++i) {
    std::string_view id, rec;
    if (!d.view.Record(i, &id, &rec) || (i > 0 && id <= prev)) {
      return Status::Corruption(path + ": record " + std::to_string(i) + " fails its checksum or breaks the id order");
    }
    prev = id;
    HYMIR_RETURN_IF_ERROR(fn(i, id, rec));
  }
  return Status::OK();
}

Status CheckDeltaBase(const DeltaFile& d, const std::string& path, uint64_t base_terms, const FileInfo& base) {
  if (d.base_crc != base.crc32 || d.first_term != base_terms) {
    return Status::Corruption(path + ": written over another base than " + base.name);
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ForwardIndex>> ForwardIndex::Load(const std::string& vectors_dir, const ForwardFiles& files) {
  if (files.base.name.empty()) return Load(vectors_dir, files.file);
  auto f = Load(vectors_dir, files.base);
  if (!f.ok()) return f.status();
  if (!(*f)->base_file_)
    return Status::Corruption(vectors_dir + "/" + files.base.name + ": a delta's base must be a version 2 file");
  HYMIR_RETURN_IF_ERROR((*f)->ApplyDelta(vectors_dir, files.file));
  return f;
}

Status ForwardIndex::ApplyDelta(const std::string& vectors_dir, const FileInfo& delta) {
  const std::string path = vectors_dir + "/" + delta.name;
  HYMIR_ASSIGN_OR_RETURN(DeltaFile d, OpenDelta(path, delta));
  HYMIR_RETURN_IF_ERROR(CheckDeltaBase(d, path, base_.terms, base_info_));
  for (uint64_t t = 0; t < d.view.terms; ++t) HYMIR_RETURN_IF_ERROR(AddLoadedTerm(d.view.Term(t), path));
  return ForEachDeltaRecord(d, path, [&](uint64_t i, std::string_view id, std::string_view rec) -> Status {
    if (!rec.empty()) return AddLoadedRecord(id, rec, i, path);
    deleted_.emplace(id);
    return Status::OK();
  });
}

Status ForwardIndex::AddLoadedTerm(std::string_view term, const std::string& path) {
  const uint32_t id = static_cast<uint32_t>(terms_.size());
  // No analyzer yields an empty term, and version 2 cannot hold one (each
  // term takes a byte at least): a version 1 file with one is damaged.
  if (term.empty()) return Status::Corruption(path + ": term " + std::to_string(id) + " is empty");
  terms_.emplace_back(term);
  if (!term_ids_.emplace(terms_.back(), id).second) {
    return Status::Corruption(path + ": term " + std::to_string(id) + " repeats an earlier term");
  }
  return Status::OK();
}

Status ForwardIndex::AddLoadedRecord(std::string_view id, std::string_view record, uint64_t i,
                                     const std::string& path) {
  Record r;
  if (id.empty() || !Decode(record, terms_.size(), &r)) {
    return Status::Corruption(path + ": malformed record " + std::to_string(i) + " (\"" + std::string(id) + "\")");
  }
  if (!records_.emplace(std::string(id), std::string(record)).second) {
    return Status::Corruption(path + ": document \"" + std::string(id) + "\" recorded twice");
  }
  return Status::OK();
}

Result<std::unique_ptr<ForwardIndex>> ForwardIndex::Load(const std::string& vectors_dir, const FileInfo& expected) {
  const std::string path = vectors_dir + "/" + expected.name;
  auto file = MapCommitted(path, expected);
  if (!file.ok()) return file.status();
  const std::string_view b = (*file)->bytes();
  // Every byte, once: a save copies base records it does not decode.
  if (Crc32(0, b.data(), b.size()) != expected.crc32) return Status::Corruption(path + ": checksum mismatch");
  if (b.size() < sizeof(Header)) return Status::Corruption(path + ": truncated header");
  Header h;
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) return Status::Corruption(path + ": bad magic");
  auto f = std::make_unique<ForwardIndex>();
  if (h.version == 2) {
    HYMIR_RETURN_IF_ERROR(ParseV2(b, path, &f->base_));
    f->terms_.reserve(f->base_.terms);
    for (uint64_t i = 0; i < f->base_.terms; ++i) HYMIR_RETURN_IF_ERROR(f->AddLoadedTerm(f->base_.Term(i), path));
    HeaderV2 h2;
    std::memcpy(&h2, b.data(), sizeof h2);
    f->compacted_terms_ = h2.compacted_terms > 0 ? h2.compacted_terms : f->base_.terms;
    f->base_path_ = path;
    f->base_info_ = expected;
    f->base_file_ = std::move(file).value();
    return f;
  }
  if (h.version != 1) {
    return Status::NotSupported(path + ": format version " + std::to_string(h.version) + ", expected 1 or " +
                                std::to_string(kForwardVersion));
  }
  if (h.payload_size != b.size() - sizeof(Header)) return Status::Corruption(path + ": payload size mismatch");
  std::string_view payload(b.data() + sizeof(Header), h.payload_size);
  if (Crc32(0, payload.data(), payload.size()) != h.payload_crc) {
    return Status::Corruption(path + ": payload checksum mismatch");
  }
  if (h.terms > payload.size() || h.docs > payload.size()) {
    return Status::Corruption(path + ": " + std::to_string(h.terms) + " terms and " + std::to_string(h.docs) +
                              " documents cannot fit in " + std::to_string(payload.size()) + " bytes");
  }
  VarintReader c(payload);
  f->terms_.reserve(h.terms);
  for (uint64_t i = 0; i < h.terms; ++i) {
    std::string_view t;
    if (!c.Bytes(&t)) return Status::Corruption(path + ": truncated dictionary at term " + std::to_string(i));
    HYMIR_RETURN_IF_ERROR(f->AddLoadedTerm(t, path));
  }
  f->records_.reserve(h.docs);
  for (uint64_t i = 0; i < h.docs; ++i) {
    std::string_view id, rec;
    if (!c.Bytes(&id) || !c.Bytes(&rec)) {
      return Status::Corruption(path + ": truncated record " + std::to_string(i) + " of " + std::to_string(h.docs));
    }
    HYMIR_RETURN_IF_ERROR(f->AddLoadedRecord(id, rec, i, path));
  }
  if (!c.AtEnd()) return Status::Corruption(path + ": bytes after the last record");
  return f;
}

Result<AnalysedDocument> ForwardIndex::Get(std::string_view id) const {
  const std::string key(id);
  auto term = [&](uint32_t t) -> const std::string& { return terms_[t]; };
  auto it = records_.find(key);
  if (it != records_.end()) return ToAnalysed(id, it->second, terms_.size(), term, "forward index");
  if (!base_file_ || deleted_.count(key) != 0) return Status::NotFound("no forward record of \"" + key + "\"");
  return GetFromView(base_, id, base_path_, [&](uint32_t t) { return base_.Term(t); });
}

Result<std::unique_ptr<ForwardIndexReader>> ForwardIndexReader::Open(const std::string& vectors_dir,
                                                                     const FileInfo& expected) {
  const std::string path = vectors_dir + "/" + expected.name;
  auto file = MapCommitted(path, expected);
  if (!file.ok()) return file.status();
  const std::string_view b = (*file)->bytes();
  std::unique_ptr<ForwardIndexReader> r(new ForwardIndexReader());
  r->path_ = path;
  uint32_t version = 0;
  if (b.size() >= 12 && std::memcmp(b.data(), kMagic, 8) == 0) std::memcpy(&version, b.data() + 8, 4);
  if (version == kForwardDeltaVersion) return Status::Corruption(path + ": a delta named without its base");
  if (version != 2) {  // version 1 (or damage, which Load names): read whole
    (*file).reset();
    auto f = ForwardIndex::Load(vectors_dir, expected);
    if (!f.ok()) return f.status();
    r->v1_ = std::move(f).value();
    return r;
  }
  HYMIR_RETURN_IF_ERROR(ParseV2(b, path, &r->view_));
  r->file_ = std::move(file).value();
  return r;
}

Result<std::unique_ptr<ForwardIndexReader>> ForwardIndexReader::Open(const std::string& vectors_dir,
                                                                     const ForwardFiles& files) {
  if (files.base.name.empty()) return Open(vectors_dir, files.file);
  auto r = Open(vectors_dir, files.base);
  if (!r.ok()) return r.status();
  if ((*r)->v1_) return Status::Corruption((*r)->path_ + ": a delta's base must be a version 2 file");
  const std::string path = vectors_dir + "/" + files.file.name;
  HYMIR_ASSIGN_OR_RETURN(DeltaFile d, OpenDelta(path, files.file));
  HYMIR_RETURN_IF_ERROR(CheckDeltaBase(d, path, (*r)->view_.terms, files.base));
  // Every record checked now (a delta is small next to its base), and the
  // live documents counted.
  int64_t live = static_cast<int64_t>((*r)->view_.docs);
  HYMIR_RETURN_IF_ERROR(ForEachDeltaRecord(d, path, [&](uint64_t, std::string_view id, std::string_view rec) {
    const bool in_base = (*r)->view_.Find(id) < (*r)->view_.docs;
    if (rec.empty() && in_base) --live;
    if (!rec.empty() && !in_base) ++live;
    return Status::OK();
  }));
  (*r)->delta_path_ = path;
  (*r)->delta_ = d.view;
  (*r)->first_term_ = d.first_term;
  (*r)->delta_file_ = std::move(d.file);
  (*r)->size_ = static_cast<size_t>(live);
  return r;
}

size_t ForwardIndexReader::size() const {
  if (v1_) return v1_->size();
  return delta_file_ ? size_ : static_cast<size_t>(view_.docs);
}

Result<AnalysedDocument> ForwardIndexReader::Get(std::string_view id) const {
  if (v1_) return v1_->Get(id);
  if (delta_file_) {
    const uint64_t i = delta_.Find(id);
    if (i < delta_.docs) {
      std::string_view found, record;
      if (!delta_.Record(i, &found, &record) || found != id) {
        return Status::Corruption(delta_path_ + ": record " + std::to_string(i) + " (\"" + std::string(id) +
                                  "\") fails its checksum");
      }
      if (record.empty()) return Status::NotFound("no forward record of \"" + std::string(id) + "\"");
      return ToAnalysed(
          id, record, first_term_ + delta_.terms,
          [&](uint32_t t) { return t < first_term_ ? view_.Term(t) : delta_.Term(t - first_term_); }, delta_path_);
    }
  }
  return GetFromView(view_, id, path_, [&](uint32_t t) { return view_.Term(t); });
}

}  // namespace hymir::index::internal
