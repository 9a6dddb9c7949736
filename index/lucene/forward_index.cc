#include "index/lucene/forward_index.h"

#include <cstring>

#include "index/lucene/analysis.h"
#include "index/lucene/lucene_util.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::index::internal {
namespace {

using hymir::internal::Crc32;

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

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

// Bounds-checked reader over one byte range; every getter returns false on
// a short or malformed input.
class Cursor {
 public:
  explicit Cursor(std::string_view b) : b_(b) {}
  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return false;
      const auto c = static_cast<uint8_t>(b_[pos_++]);
      r |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool Bytes(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n) || n > b_.size() - pos_) return false;
    *s = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t left() const { return b_.size() - pos_; }
  bool AtEnd() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

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
  if (r.domain) PutString(out, *r.domain);
  PutVarint(out, r.fields.size());
  for (const auto& [k, v] : r.fields) {
    PutString(out, k);
    PutString(out, v);
  }
}

// False when `bytes` is not a well-formed record over `num_terms` terms.
bool Decode(std::string_view bytes, uint64_t num_terms, Record* r) {
  Cursor c(bytes);
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
    if (!c.Varint(&d)) return false;
    end += d;
    if (end > r->text.size()) return false;
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

std::string FileName(uint64_t generation) { return "forward.g" + std::to_string(generation) + ".fwd"; }

}  // namespace

std::vector<uint32_t> SentenceEnds(std::wstring_view text, const std::vector<uint32_t>& starts) {
  std::vector<uint32_t> ends;
  size_t start = 0;
  size_t token = 0;  // tokens before the current cut
  auto is_space = [](wchar_t c) { return c == L' ' || c == L'\t' || c == L'\n' || c == L'\v' || c == L'\f' || c == L'\r'; };
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
  auto [it, added] = term_ids_.emplace(term, static_cast<uint32_t>(terms_.size()));
  if (added) terms_.push_back(term);
  return it->second;
}

void ForwardIndex::Put(const Document& doc, const TokenBuffer& title, const TokenBuffer& text,
                       const std::vector<uint32_t>& sentence_ends) {
  Record r;
  auto terms = [&](const TokenBuffer& b, std::vector<uint32_t>* out) {
    out->reserve(b.size());
    uint32_t begin = 0;
    for (uint32_t end : b.ends) {
      out->push_back(TermId(Utf8(Lucene::String(b.chars.data() + begin, end - begin))));
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
}

void ForwardIndex::Delete(const std::string& id) { records_.erase(id); }

Status ForwardIndex::Save(const std::string& vectors_dir, uint64_t generation, FileInfo* info) const {
  // Dictionary of the live records only, ids in order of first use.
  std::vector<uint32_t> remap(terms_.size(), UINT32_MAX);
  std::vector<uint32_t> used;
  std::string docs;
  Record r;
  std::string rec;
  auto map_ids = [&](std::vector<uint32_t>& v) {
    for (auto& t : v) {
      if (remap[t] == UINT32_MAX) {
        remap[t] = static_cast<uint32_t>(used.size());
        used.push_back(t);
      }
      t = remap[t];
    }
  };
  for (const auto& [id, bytes] : records_) {
    r = Record();
    if (!Decode(bytes, terms_.size(), &r)) {
      return Status::Corruption(vectors_dir + "/" + FileName(generation) + ": record of \"" + id +
                                "\" does not decode (internal error)");
    }
    map_ids(r.title);
    map_ids(r.text);
    rec.clear();
    Encode(r, &rec);
    PutString(&docs, id);
    PutString(&docs, rec);
  }
  std::string payload;
  for (uint32_t t : used) PutString(&payload, terms_[t]);
  payload += docs;
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kForwardVersion;
  h.terms = used.size();
  h.docs = records_.size();
  h.payload_size = payload.size();
  h.payload_crc = Crc32(0, payload.data(), payload.size());
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out += payload;
  const std::string name = FileName(generation);
  HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(vectors_dir + "/" + name, out));
  info->name = name;
  info->size = out.size();
  info->crc32 = Crc32(0, out.data(), out.size());
  return Status::OK();
}

Result<std::unique_ptr<ForwardIndex>> ForwardIndex::Load(const std::string& vectors_dir, const FileInfo& expected) {
  const std::string path = vectors_dir + "/" + expected.name;
  auto bytes = hymir::internal::ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) return Status::Corruption(path + ": named by the last commit but missing");
    return bytes.status();
  }
  const std::string& b = *bytes;
  if (b.size() != expected.size) {
    return Status::Corruption(path + ": size " + std::to_string(b.size()) + " bytes, manifest says " +
                              std::to_string(expected.size));
  }
  if (Crc32(0, b.data(), b.size()) != expected.crc32) return Status::Corruption(path + ": checksum mismatch");
  if (b.size() < sizeof(Header)) return Status::Corruption(path + ": truncated header");
  Header h;
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) return Status::Corruption(path + ": bad magic");
  if (h.version != kForwardVersion) {
    return Status::NotSupported(path + ": format version " + std::to_string(h.version) + ", expected " +
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
  auto f = std::make_unique<ForwardIndex>();
  Cursor c(payload);
  f->terms_.reserve(h.terms);
  for (uint64_t i = 0; i < h.terms; ++i) {
    std::string_view t;
    if (!c.Bytes(&t)) return Status::Corruption(path + ": truncated dictionary at term " + std::to_string(i));
    f->terms_.emplace_back(t);
    if (!f->term_ids_.emplace(f->terms_.back(), static_cast<uint32_t>(i)).second) {
      return Status::Corruption(path + ": term " + std::to_string(i) + " repeats an earlier term");
    }
  }
  f->records_.reserve(h.docs);
  Record r;
  for (uint64_t i = 0; i < h.docs; ++i) {
    std::string_view id, rec;
    if (!c.Bytes(&id) || !c.Bytes(&rec)) {
      return Status::Corruption(path + ": truncated record " + std::to_string(i) + " of " + std::to_string(h.docs));
    }
    r = Record();
    if (id.empty() || !Decode(rec, h.terms, &r)) {
      return Status::Corruption(path + ": malformed record " + std::to_string(i) + " (\"" + std::string(id) + "\")");
    }
    if (!f->records_.emplace(std::string(id), std::string(rec)).second) {
      return Status::Corruption(path + ": document \"" + std::string(id) + "\" recorded twice");
    }
  }
  if (!c.AtEnd()) return Status::Corruption(path + ": bytes after the last record");
  return f;
}

Result<AnalysedDocument> ForwardIndex::Get(std::string_view id) const {
  auto it = records_.find(std::string(id));
  if (it == records_.end()) return Status::NotFound("no forward record of \"" + std::string(id) + "\"");
  Record r;
  if (!Decode(it->second, terms_.size(), &r)) {
    return Status::Corruption("forward record of \"" + std::string(id) + "\" does not decode");
  }
  AnalysedDocument a;
  a.id = std::string(id);
  a.title.reserve(r.title.size());
  for (uint32_t t : r.title) a.title.push_back(terms_[t]);
  a.text.reserve(r.text.size());
  for (uint32_t t : r.text) a.text.push_back(terms_[t]);
  a.sentence_ends = std::move(r.sentence_ends);
  a.domain = std::move(r.domain);
  a.fields = std::move(r.fields);
  return a;
}

}  // namespace hymir::index::internal
