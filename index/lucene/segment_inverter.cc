// Lucene++ 3.0.8's segment files written by hymir (see segment_inverter.h).
// Each step names the Lucene++ class whose bytes it reproduces.
#include "index/lucene/segment_inverter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "src/core/crc32.h"

namespace hymir::index::internal {
namespace {

// IndexOutput's encodings: big-endian ints and longs, 7-bit variable ints.
class Out {
 public:
  void Byte(uint8_t b) { buf_.push_back(static_cast<char>(b)); }
  void Int(int32_t v) {
    const uint32_t u = static_cast<uint32_t>(v);
    char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
                 static_cast<char>(u)};
    buf_.append(b, 4);
  }
  void Long(int64_t v) {
    Int(static_cast<int32_t>(static_cast<uint64_t>(v) >> 32));
    Int(static_cast<int32_t>(v));
  }
  void VInt(int32_t v) { VLong(static_cast<uint32_t>(v)); }
  void VLong(uint64_t u) {
    while (u & ~uint64_t{0x7f}) {
      Byte(static_cast<uint8_t>((u & 0x7f) | 0x80));
      u >>= 7;
    }
    Byte(static_cast<uint8_t>(u));
  }
  void Bytes(std::string_view b) { buf_.append(b); }
  void String(std::string_view utf8) {  // writeString: byte length, UTF-8
    VInt(static_cast<int32_t>(utf8.size()));
    Bytes(utf8);
  }
  int64_t pos() const { return static_cast<int64_t>(buf_.size()); }
  std::string& buf() { return buf_; }
  void Clear() { buf_.clear(); }

 private:
  std::string buf_;
};

// Appends the UTF-8 of `s` as Lucene++'s StringUtils::toUTF8 writes it.
// Refuses surrogates, values outside Unicode and U+FFFF, where hymir does
// not claim Lucene++'s bytes (Lucene++ 3.0.8 writes a term holding U+FFFF
// as an empty term, out of order in its dictionary).
bool AppendUtf8(std::wstring_view s, std::string* out) {
  for (wchar_t wc : s) {
    uint32_t c = static_cast<uint32_t>(wc);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF || c == 0xFFFF) return false;
    if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    }
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return true;
}

// IndexFileNames::fileNameFromGeneration: the generation in base 36.
std::string Base36(int64_t v) {
  std::string s;
  do {
    s.insert(s.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
    v /= 36;
  } while (v > 0);
  return s;
}

// Out::VInt onto a string, for the per-token paths.
inline void AppendVInt(std::string* s, uint32_t u) {
  while (u & ~0x7fu) {
    s->push_back(static_cast<char>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  s->push_back(static_cast<char>(u));
}

std::string Hex(uint32_t c) {
  char b[16];
  std::snprintf(b, sizeof b, "U+%04X", c);
  return b;
}

Status WriteFile(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Status::IOError(path + ": cannot create");
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok) return Status::IOError(path + ": write failed");
  return Status::OK();
}

// Lucene++'s constants (IndexWriter, TermInfosWriter, DocumentsWriter).
constexpr int32_t kTermIndexInterval = 128;
constexpr int32_t kSkipInterval = 16;
constexpr int32_t kMaxSkipLevels = 10;
constexpr size_t kMaxTermChars = 16383;  // longer terms are skipped (CHAR_BLOCK_SIZE - 1)

}  // namespace

// One term's postings in one field, encoded as .frq/.prx will hold them.
struct SegmentInverter::Posting {
  int32_t df = 0;
  int32_t last_doc = -1;
  int32_t prev_doc = 0;  // the document before last_doc (its delta base)
  int32_t freq = 0;      // of last_doc
  int32_t last_pos = 0;  // of last_doc
  std::string frq, prx;  // complete but for last_doc's entry in frq
  struct Skip {
    int32_t doc;
    uint32_t frq, prx;
  };
  std::vector<Skip> skips;  // every 16th document: where its entry starts

  void CloseDoc() {  // FormatPostingsDocsWriter::addDoc's frq entry of last_doc
    const uint32_t delta = static_cast<uint32_t>(last_doc - prev_doc);
    if (freq == 1) {
      AppendVInt(&frq, (delta << 1) | 1);
    } else {
      AppendVInt(&frq, delta << 1);
      AppendVInt(&frq, static_cast<uint32_t>(freq));
    }
  }
  void Add(int32_t doc, int32_t position) {
    if (doc != last_doc) {
      if (last_doc >= 0) {
        CloseDoc();
        prev_doc = last_doc;
      }
      if (++df % kSkipInterval == 0) {
        skips.push_back(
            {last_doc < 0 ? 0 : last_doc, static_cast<uint32_t>(frq.size()), static_cast<uint32_t>(prx.size())});
      }
      last_doc = doc;
      freq = 0;
      last_pos = 0;
    }
    ++freq;
    AppendVInt(&prx, static_cast<uint32_t>(position - last_pos));
    last_pos = position;
  }
};

struct SegmentInverter::Field {
  std::wstring name;
  int32_t number = 0;
  bool indexed = false;
  bool omit_norms = true;
  std::vector<Posting> postings;   // in order of first occurrence
  std::vector<std::string> terms;  // postings[i]'s term, UTF-8
  // Open addressing over the terms' hashes: index + 1 into postings (0:
  // empty), at most half full.
  std::vector<uint32_t> slots = std::vector<uint32_t>(1024);

  Posting& PostingOf(const std::string& term) {
    const size_t mask = slots.size() - 1;
    size_t i = Hash(term) & mask;
    while (slots[i] != 0) {
      if (terms[slots[i] - 1] == term) return postings[slots[i] - 1];
      i = (i + 1) & mask;
    }
    slots[i] = static_cast<uint32_t>(postings.size() + 1);
    terms.push_back(term);
    postings.emplace_back();
    if (postings.size() * 2 > slots.size()) Grow();
    return postings.back();
  }
  static uint64_t Hash(std::string_view t) {  // FNV-1a, then mixed
    uint64_t h = 1469598103934665603ull;
    for (char c : t) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    return h ^ (h >> 29);
  }
  void Grow() {
    std::vector<uint32_t> bigger(slots.size() * 2);
    const size_t mask = bigger.size() - 1;
    for (uint32_t k = 0; k < terms.size(); ++k) {
      size_t i = Hash(terms[k]) & mask;
      while (bigger[i] != 0) i = (i + 1) & mask;
      bigger[i] = k + 1;
    }
    slots.swap(bigger);
  }
  // Per document: where the next token goes (DocInverterPerField's state).
  int32_t doc = -1;
  int32_t position = 0;
  int32_t length = 0;
};

SegmentInverter::SegmentInverter() = default;
SegmentInverter::~SegmentInverter() = default;

SegmentInverter::Field* SegmentInverter::FieldFor(std::wstring_view name, bool indexed, bool omit_norms) {
  auto it = by_name_.find(name);
  if (it != by_name_.end()) {  // FieldInfo::update
    Field* f = it->second;
    if (indexed) {
      f->indexed = true;
      if (f->omit_norms != omit_norms) f->omit_norms = false;
    }
    return f;
  }
  auto f = std::make_unique<Field>();
  f->name = std::wstring(name);
  f->number = static_cast<int32_t>(fields_.size());
  f->indexed = indexed;
  f->omit_norms = indexed ? omit_norms : true;
  Field* raw = f.get();
  by_name_.emplace(f->name, raw);
  fields_.push_back(std::move(f));
  return raw;
}

Status SegmentInverter::AddDocument(const std::vector<InvertField>& fields) {
  // Checked first: a refused document leaves nothing behind.
  std::vector<std::string> utf8(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    const InvertField& f = fields[i];
    std::string name;
    if (!AppendUtf8(f.name, &name)) return Status::NotSupported("field name with a surrogate or U+FFFF");
    const bool string_value = f.kind == InvertField::Kind::kStoredString || f.kind == InvertField::Kind::kKeyword;
    if (string_value && !AppendUtf8(f.text, &utf8[i])) {
      for (wchar_t c : f.text) {
        const uint32_t u = static_cast<uint32_t>(c);
        if ((u >= 0xD800 && u <= 0xDFFF) || u > 0x10FFFF || u == 0xFFFF) {
          return Status::NotSupported("field \"" + name + "\": character " + Hex(u) +
                                      " (Lucene++'s encoding of it is not reproduced)");
        }
      }
    }
    if (f.kind == InvertField::Kind::kTokens) {
      for (const TokenBuffer* t : f.tokens) {
        for (wchar_t c : t->chars) {
          const uint32_t u = static_cast<uint32_t>(c);
          if ((u >= 0xD800 && u <= 0xDFFF) || u > 0x10FFFF || u == 0xFFFF) {
            return Status::NotSupported("field \"" + name + "\": token character " + Hex(u));
          }
        }
      }
    }
  }
  const int32_t doc = num_docs_;
  // Stored fields, in the document's order (StoredFieldsWriter, FieldsWriter).
  Out stored;
  int32_t num_stored = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    const InvertField& f = fields[i];
    const bool indexed = f.kind == InvertField::Kind::kKeyword || f.kind == InvertField::Kind::kTokens;
    Field* field = FieldFor(f.name, indexed, /*omit_norms=*/true);
    switch (f.kind) {
      case InvertField::Kind::kStoredString:
        stored.VInt(field->number);
        stored.Byte(0);
        stored.String(utf8[i]);
        ++num_stored;
        break;
      case InvertField::Kind::kStoredBinary:
        stored.VInt(field->number);
        stored.Byte(0x2);  // FIELD_IS_BINARY
        stored.VInt(static_cast<int32_t>(f.value.size()));
        stored.Bytes(f.value);
        ++num_stored;
        break;
      case InvertField::Kind::kKeyword:
        if (f.stored) {
          stored.VInt(field->number);
          stored.Byte(0);
          stored.String(utf8[i]);
          ++num_stored;
        }
        break;
      case InvertField::Kind::kTokens:
        break;
    }
  }
  {
    Out fdx;
    fdx.Long(static_cast<int64_t>(fdt_.size()) + 4);  // after the format
    fdx_ += fdx.buf();
    Out head;
    head.VInt(num_stored);
    fdt_ += head.buf();
    fdt_ += stored.buf();
  }
  // Inversion (DocInverterPerField): positions run on across a field's
  // instances in one document (position increment gap 0).
  std::string term;
  for (size_t i = 0; i < fields.size(); ++i) {
    const InvertField& f = fields[i];
    if (f.kind != InvertField::Kind::kKeyword && f.kind != InvertField::Kind::kTokens) continue;
    Field* field = by_name_.find(f.name)->second;
    if (field->doc != doc) {
      field->doc = doc;
      field->position = 0;
      field->length = 0;
    }
    if (f.kind == InvertField::Kind::kKeyword) {
      if (f.text.size() <= kMaxTermChars) {
        term.clear();
        AppendUtf8(f.text, &term);
        field->PostingOf(term).Add(doc, field->position);
        postings_bytes_ += 3;
      }
      ++field->position;
      ++field->length;
      continue;
    }
    for (const TokenBuffer* t : f.tokens) {
      uint32_t begin = 0;
      for (size_t k = 0; k < t->size(); ++k) {
        const uint32_t end = t->ends[k];
        field->position += t->increments[k];
        if (field->position > 0) --field->position;
        if (end - begin <= kMaxTermChars) {
          term.clear();
          AppendUtf8(std::wstring_view(t->chars.data() + begin, end - begin), &term);
          field->PostingOf(term).Add(doc, field->position);
          postings_bytes_ += 3;
        }
        ++field->position;
        ++field->length;
        begin = end;
      }
    }
  }
  ++num_docs_;
  size_t terms = 0;
  for (const auto& f : fields_) terms += f->postings.size();
  bytes_used_ = fdt_.size() + fdx_.size() + postings_bytes_ + terms * (sizeof(Posting) + sizeof(std::string) + 16);
  return Status::OK();
}

Result<SegmentDesc> SegmentInverter::Flush(const std::string& dir, const std::string& segment) {
  const std::string base = dir + "/" + segment;
  SegmentDesc desc;
  desc.name = segment;
  desc.doc_count = num_docs_;
  desc.has_prox = false;
  for (const auto& f : fields_) desc.has_prox |= f->indexed;
  for (const auto& f : fields_) {
    if (f->indexed && !f->omit_norms) return Status::NotSupported(segment + ": an indexed field with norms");
  }

  // Field infos (FieldInfos::write): format -2, then name and flags by number.
  {
    Out fnm;
    fnm.VInt(-2);
    fnm.VInt(static_cast<int32_t>(fields_.size()));
    for (const auto& f : fields_) {
      std::string name;
      AppendUtf8(f->name, &name);
      fnm.String(name);
      uint8_t bits = 0;
      if (f->indexed) bits |= 0x1;
      if (f->omit_norms) bits |= 0x10;
      fnm.Byte(bits);
    }
    HYMIR_RETURN_IF_ERROR(WriteFile(base + ".fnm", fnm.buf()));
  }
  // Stored fields (FieldsWriter: format 2 in both files).
  {
    Out head;
    head.Int(2);
    HYMIR_RETURN_IF_ERROR(WriteFile(base + ".fdx", head.buf() + fdx_));
    HYMIR_RETURN_IF_ERROR(WriteFile(base + ".fdt", head.buf() + fdt_));
    std::string().swap(fdx_);
    std::string().swap(fdt_);
  }

  // Postings (FreqProxTermsWriter::flush): fields by name, terms by code
  // point (the UTF-8 bytes' order), through FormatPostings*Writer,
  // DefaultSkipListWriter and TermInfosWriter.
  Out frq, prx, tis, tii;
  for (Out* o : {&tis, &tii}) {
    o->Int(-4);  // FORMAT_VERSION_UTF8_LENGTH_IN_BYTES
    o->Long(0);  // the term count, set below
    o->Int(kTermIndexInterval);
    o->Int(kSkipInterval);
    o->Int(kMaxSkipLevels);
  }
  // Lucene++ 3.0.8's MultiLevelSkipListWriter takes the max of the levels
  // the document count asks for and maxSkipLevels (Lucene's min): always at
  // least ten levels.
  const int32_t levels =
      std::max(num_docs_ == 0 ? 0
                              : static_cast<int32_t>(std::floor(std::log(static_cast<double>(num_docs_)) /
                                                                std::log(static_cast<double>(kSkipInterval)))),
               kMaxSkipLevels);
  std::vector<Out> skip(levels);
  std::vector<int32_t> last_skip_doc(levels);
  std::vector<int64_t> last_skip_frq(levels), last_skip_prx(levels);

  struct TermInfo {
    int32_t df = 0;
    int64_t frq = 0, prx = 0;
    int32_t skip = 0;
  };
  // TermInfosWriter state of the .tis (main) and .tii (index) writers.
  struct TermWriter {
    Out* out = nullptr;
    std::string last_term;
    int32_t last_field = -1;
    TermInfo last_ti;
    int64_t size = 0;
    int64_t last_index_pointer = 0;
  };
  TermWriter main_w, index_w;
  main_w.out = &tis;
  index_w.out = &tii;
  auto write_term = [](TermWriter& w, int32_t field, const std::string& term, const TermInfo& ti) {
    size_t start = 0;
    const size_t limit = std::min(term.size(), w.last_term.size());
    while (start < limit && term[start] == w.last_term[start]) ++start;
    w.out->VInt(static_cast<int32_t>(start));
    w.out->VInt(static_cast<int32_t>(term.size() - start));
    w.out->Bytes(std::string_view(term).substr(start));
    w.out->VInt(field);
    w.out->VInt(ti.df);
    w.out->VLong(static_cast<uint64_t>(ti.frq - w.last_ti.frq));
    w.out->VLong(static_cast<uint64_t>(ti.prx - w.last_ti.prx));
    if (ti.df >= kSkipInterval) w.out->VInt(ti.skip);
    w.last_term = term;
    w.last_field = field;
    w.last_ti = ti;
    ++w.size;
  };
  auto add_term = [&](int32_t field, const std::string& term, const TermInfo& ti) {
    if (main_w.size % kTermIndexInterval == 0) {
      write_term(index_w, main_w.last_field, main_w.last_term, main_w.last_ti);
      index_w.out->VLong(static_cast<uint64_t>(tis.pos() - index_w.last_index_pointer));
      index_w.last_index_pointer = tis.pos();
    }
    write_term(main_w, field, term, ti);
  };

  std::vector<Field*> by_name;
  for (const auto& f : fields_) {
    if (f->indexed && !f->postings.empty()) by_name.push_back(f.get());
  }
  std::sort(by_name.begin(), by_name.end(), [](const Field* a, const Field* b) { return a->name < b->name; });
  for (Field* field : by_name) {
    std::vector<std::pair<const std::string*, Posting*>> terms;
    terms.reserve(field->postings.size());
    for (size_t k = 0; k < field->postings.size(); ++k) terms.emplace_back(&field->terms[k], &field->postings[k]);
    std::sort(terms.begin(), terms.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (auto& [t, p] : terms) {
      p->CloseDoc();
      const int64_t frq_start = frq.pos(), prx_start = prx.pos();
      frq.Bytes(p->frq);
      prx.Bytes(p->prx);
      // Skip list (MultiLevelSkipListWriter::bufferSkip and writeSkip).
      for (int32_t l = 0; l < levels; ++l) {
        skip[l].Clear();
        last_skip_doc[l] = 0;
        last_skip_frq[l] = frq_start;
        last_skip_prx[l] = prx_start;
      }
      for (size_t k = 0; k < p->skips.size(); ++k) {
        const Posting::Skip& s = p->skips[k];
        int32_t df = static_cast<int32_t>((k + 1) * kSkipInterval);
        int32_t num_levels = 0;
        for (; df % kSkipInterval == 0 && num_levels < levels; df /= kSkipInterval) ++num_levels;
        int64_t child = 0;
        const int64_t fp = frq_start + s.frq, pp = prx_start + s.prx;
        for (int32_t l = 0; l < num_levels; ++l) {
          skip[l].VInt(s.doc - last_skip_doc[l]);
          skip[l].VInt(static_cast<int32_t>(fp - last_skip_frq[l]));
          skip[l].VInt(static_cast<int32_t>(pp - last_skip_prx[l]));
          last_skip_doc[l] = s.doc;
          last_skip_frq[l] = fp;
          last_skip_prx[l] = pp;
          const int64_t next_child = skip[l].pos();
          if (l != 0) skip[l].VLong(static_cast<uint64_t>(child));
          child = next_child;
        }
      }
      const int64_t skip_pointer = frq.pos();
      for (int32_t l = levels - 1; l > 0; --l) {
        if (skip[l].pos() > 0) {
          frq.VLong(static_cast<uint64_t>(skip[l].pos()));
          frq.Bytes(skip[l].buf());
        }
      }
      if (levels > 0) frq.Bytes(skip[0].buf());
      add_term(field->number, *t,
               TermInfo{p->df, frq_start, prx_start, static_cast<int32_t>(skip_pointer - frq_start)});
    }
    std::vector<Posting>().swap(field->postings);
    std::vector<std::string>().swap(field->terms);
    std::vector<uint32_t>(1024).swap(field->slots);
  }
  for (TermWriter* w : {&main_w, &index_w}) {  // TermInfosWriter::close: the count after the format
    Out n;
    n.Long(w->size);
    w->out->buf().replace(4, 8, n.buf());
  }
  HYMIR_RETURN_IF_ERROR(WriteFile(base + ".tis", tis.buf()));
  HYMIR_RETURN_IF_ERROR(WriteFile(base + ".tii", tii.buf()));
  HYMIR_RETURN_IF_ERROR(WriteFile(base + ".frq", frq.buf()));
  if (desc.has_prox) HYMIR_RETURN_IF_ERROR(WriteFile(base + ".prx", prx.buf()));
  // Norms (NormsWriter): the header only, every indexed field omits them.
  HYMIR_RETURN_IF_ERROR(WriteFile(base + ".nrm", std::string("NRM\xff", 4)));

  fields_.clear();
  by_name_.clear();
  num_docs_ = 0;
  bytes_used_ = postings_bytes_ = 0;
  return desc;
}

Lucene::DocumentPtr ToLuceneDocument(const std::vector<InvertField>& fields) {
  auto doc = Lucene::newLucene<Lucene::Document>();
  for (const InvertField& f : fields) {
    const Lucene::String name(f.name);
    switch (f.kind) {
      case InvertField::Kind::kStoredString:
        doc->add(Lucene::newLucene<Lucene::Field>(name, Lucene::String(f.text), Lucene::Field::STORE_YES,
                                                  Lucene::Field::INDEX_NO));
        break;
      case InvertField::Kind::kStoredBinary: {
        Lucene::ByteArray bytes = Lucene::ByteArray::newInstance(static_cast<int32_t>(f.value.size()));
        if (!f.value.empty()) std::memcpy(bytes.get(), f.value.data(), f.value.size());
        doc->add(Lucene::newLucene<Lucene::Field>(name, bytes, Lucene::Field::STORE_YES));
        break;
      }
      case InvertField::Kind::kKeyword:
        doc->add(Lucene::newLucene<Lucene::Field>(name, Lucene::String(f.text),
                                                  f.stored ? Lucene::Field::STORE_YES : Lucene::Field::STORE_NO,
                                                  Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
        break;
      case InvertField::Kind::kTokens: {
        auto field = Lucene::newLucene<Lucene::Field>(name, MakeReplayStream(f.tokens));
        field->setOmitNorms(true);
        doc->add(field);
        break;
      }
    }
  }
  return doc;
}

Status WriteCommitPoint(const std::string& dir, int64_t generation, int64_t version, int32_t counter,
                        const std::vector<SegmentDesc>& segments,
                        const std::vector<std::pair<std::wstring, std::wstring>>& user_data) {
  auto utf8 = [](std::wstring_view s) {
    std::string out;
    AppendUtf8(s, &out);
    return out;
  };
  // SegmentInfos::write, SegmentInfo::write.
  Out o;
  o.Int(-9);  // CURRENT_FORMAT
  o.Long(version);
  o.Int(counter);
  o.Int(static_cast<int32_t>(segments.size()));
  for (const SegmentDesc& s : segments) {
    o.String(s.name);
    o.Int(s.doc_count);
    o.Long(-1);    // delGen: no deletions
    o.Int(-1);     // docStoreOffset: the segment's own stored fields
    o.Byte(1);     // hasSingleNormFile
    o.Int(-1);     // normGen: none
    o.Byte(0xFF);  // isCompoundFile: NO (-1)
    o.Int(0);      // delCount
    o.Byte(s.has_prox ? 1 : 0);
    // Diagnostics of a flushed segment, in the order Lucene++'s hash map
    // iterates them.
    o.Int(3);
    o.String("source");
    o.String("flush");
    o.String("lucene.version");
    o.String("3.0.8");
    o.String("os");
    o.String("Linux");
  }
  o.Int(static_cast<int32_t>(user_data.size()));
  for (const auto& [k, v] : user_data) {
    o.String(utf8(k));
    o.String(utf8(v));
  }
  o.Long(static_cast<int64_t>(hymir::internal::Crc32(0, o.buf().data(), o.buf().size())));
  HYMIR_RETURN_IF_ERROR(WriteFile(dir + "/segments_" + Base36(generation), o.buf()));
  Out gen;
  gen.Int(-2);  // FORMAT_LOCKLESS
  gen.Long(generation);
  gen.Long(generation);
  return WriteFile(dir + "/segments.gen", gen.buf());
}

}  // namespace hymir::index::internal
