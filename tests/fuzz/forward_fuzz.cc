// libFuzzer target: the forward index file (<index>/vectors/forward.g<N>.fwd,
// formats 1 and 2) and the per-segment cache (<index>/cache/<segment>.seg).
// The input's first byte picks the reader and the fix-ups, the rest is the
// file:
//   bit 0 clear: a forward file, read by ForwardIndexReader::Open (format 2
//                memory-mapped, format 1 read whole, format 3 as a delta
//                over the harness's own format 2 file) with Get of every id
//                the file names and a few it does not, and by the writer's
//                ForwardIndex::Load (whose Get must answer the same), and
//                saved again from what the writer loaded;
//   bit 0 set:   the cache of the one segment of a small real Lucene++ index
//                the harness writes once (text/ through Lucene++ the way
//                hymir's IndexWriter writes its fields, the cache by
//                UpdateSegmentCaches, then one document deleted), read by
//                LoadSegment;
//   bits 1-3 all set (one input in eight): no fix-ups; otherwise the harness
//                fixes up the checksums (and the size fields they depend
//                on) so the fuzzer reaches what lies behind them.
// The manifest's size and crc32 of the forward file are always those of the
// bytes written. A damaged forward file is Corruption or NotSupported naming
// it, never a crash, a hang or an allocation its counts ask for; a record
// that decodes is well formed (sentence ends non-decreasing, within the
// text) and reads the same through both readers. A damaged cache is ignored
// (the segment is walked: the answer equals the walk's) or accepted only if
// its sampled ids map back to their documents, and LoadSegment itself always
// succeeds on the sound segment.
#include <sys/stat.h>
#include <unistd.h>

#include <lucene++/LuceneHeaders.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "index/lucene/analysis.h"
#include "index/lucene/forward_index.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/segment_cache.h"
#include "src/core/binary_io.h"
#include "src/core/crc32.h"

namespace {

namespace hi = hymir::index::internal;
using hymir::internal::Crc32;

constexpr size_t kFwdHeader = 64;    // format 2
constexpr size_t kFwdHeaderV1 = 48;  // format 1
constexpr size_t kSegHeader = 48;
constexpr int kMaxIds = 64;  // ids looked up per input, at most

uint64_t U64(const std::string& b, size_t at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}
uint32_t U32(const std::string& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
void Put64(std::string* b, size_t at, uint64_t v) { std::memcpy(b->data() + at, &v, 8); }
void Put32(std::string* b, size_t at, uint32_t v) { std::memcpy(b->data() + at, &v, 4); }

// crc32 of a header of `n` bytes with its crc field (at 12) zero.
uint32_t HeaderCrc(const std::string& b, size_t n) {
  std::string h = b.substr(0, n);
  Put32(&h, 12, 0);
  return Crc32(0, h.data(), n);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

using hymir::internal::PutVarint;
using hymir::internal::PutVarintString;

// LEB128 string at b[*pos, end): false when it does not fit.
bool GetString(const std::string& b, size_t* pos, size_t end, std::string* s) {
  if (*pos >= end || *pos >= b.size()) return false;
  const std::string_view range = std::string_view(b).substr(*pos, end - *pos);
  hymir::internal::VarintReader r(range);
  std::string_view v;
  if (!r.Bytes(&v)) return false;
  *s = v;
  *pos += range.size() - r.left();
  return true;
}

// A format 2 file's section bounds, when its header's counts add up to its size.
struct V2Layout {
  uint64_t terms, docs, dict_bytes, records_bytes;
  size_t dict, records, term_offsets, record_offsets;
};
bool LayoutV2(const std::string& b, V2Layout* l) {
  if (b.size() < kFwdHeader) return false;
  const uint64_t body = b.size() - kFwdHeader;
  l->terms = U64(b, 16);
  l->docs = U64(b, 24);
  l->dict_bytes = U64(b, 32);
  l->records_bytes = U64(b, 40);
  if (l->terms > body / 8 || l->docs > body / 8 || l->dict_bytes > body || l->records_bytes > body ||
      l->dict_bytes + l->records_bytes + 8 * (l->terms + 1) + 8 * (l->docs + 1) != body) {
    return false;
  }
  l->dict = kFwdHeader;
  l->records = l->dict + l->dict_bytes;
  l->term_offsets = l->records + l->records_bytes;
  l->record_offsets = l->term_offsets + 8 * (l->terms + 1);
  return true;
}

// Record i of a format 2 file as [begin, end) of its id and record bytes
// (its crc32 follows), when its offsets are in bounds.
bool RecordV2(const std::string& b, const V2Layout& l, uint64_t i, size_t* begin, size_t* end) {
  const uint64_t from = U64(b, l.record_offsets + 8 * i), to = U64(b, l.record_offsets + 8 * (i + 1));
  if (to > l.records_bytes || to < 4 || from > to - 4) return false;
  *begin = l.records + from;
  *end = l.records + to - 4;
  return true;
}

// The fix-ups of a forward file: format 2's record, index and header
// checksums; format 1's payload size and checksum.
void FixForward(std::string* b) {
  if (b->size() < 12 || b->compare(0, 8, "HYMIRFWD") != 0) return;
  const uint32_t version = U32(*b, 8);
  if (version == 2 && b->size() >= kFwdHeader) {
    V2Layout l;
    if (LayoutV2(*b, &l)) {
      for (uint64_t i = 0; i < l.docs; ++i) {
        size_t begin, end;
        if (RecordV2(*b, l, i, &begin, &end)) Put32(b, end, Crc32(0, b->data() + begin, end - begin));
      }
      uint32_t crc = Crc32(0, b->data() + l.dict, l.dict_bytes);
      crc = Crc32(crc, b->data() + l.term_offsets, b->size() - l.term_offsets);
      Put32(b, 48, crc);
    }
    Put32(b, 12, HeaderCrc(*b, kFwdHeader));
  } else if (version == 1 && b->size() >= kFwdHeaderV1) {
    Put64(b, 32, b->size() - kFwdHeaderV1);
    Put32(b, 40, Crc32(0, b->data() + kFwdHeaderV1, b->size() - kFwdHeaderV1));
  }
}

// The ids a forward file names (as far as they parse), at most kMaxIds.
std::vector<std::string> ForwardIds(const std::string& b) {
  std::vector<std::string> ids;
  if (b.size() < 12 || b.compare(0, 8, "HYMIRFWD") != 0) return ids;
  const uint32_t version = U32(b, 8);
  V2Layout l;
  if (version == 2 && LayoutV2(b, &l)) {
    for (uint64_t i = 0; i < l.docs && ids.size() < kMaxIds; ++i) {
      size_t begin, end;
      std::string id;
      if (RecordV2(b, l, i, &begin, &end) && GetString(b, &begin, end, &id)) ids.push_back(id);
    }
  } else if (version == 1 && b.size() >= kFwdHeaderV1) {
    size_t pos = kFwdHeaderV1;
    const uint64_t terms = U64(b, 16);
    std::string s, id, rec;
    for (uint64_t i = 0; i < terms; ++i) {
      if (!GetString(b, &pos, b.size(), &s)) return ids;
    }
    while (ids.size() < kMaxIds && GetString(b, &pos, b.size(), &id) && GetString(b, &pos, b.size(), &rec)) {
      ids.push_back(id);
    }
  }
  return ids;
}

// A decoded record's own promises (AnalysedDocument): its id, and sentences
// that slice its text.
void CheckRecord(const hymir::index::AnalysedDocument& a, std::string_view id) {
  if (a.id != id) __builtin_trap();
  uint32_t prev = 0;
  for (uint32_t e : a.sentence_ends) {
    if (e < prev || e > a.text.size()) __builtin_trap();
    prev = e;
  }
}

bool Same(const hymir::index::AnalysedDocument& a, const hymir::index::AnalysedDocument& b) {
  return a.id == b.id && a.title == b.title && a.text == b.text && a.sentence_ends == b.sentence_ends &&
         a.domain == b.domain && a.fields == b.fields;
}

// Corruption or NotSupported naming `path`.
void CheckRefusal(const hymir::Status& s, const std::string& path) {
  if (!(s.IsCorruption() || s.code() == hymir::Status::Code::kNotSupported) || s.message().rfind(path, 0) != 0) {
    __builtin_trap();
  }
}

struct Doc {
  const char* id;
  const char* title;
  const char* text;
};
// The documents of the fixture's index and forward file.
const Doc kDocs[] = {
    {"d0", "alpha", "alpha beta. gamma"},
    {"d1", "", "beta beta delta"},
    {"caf\xc3\xa9", "gamma delta", "epsilon.\nzeta eta theta"},  // a non-ASCII id
    {"d3", "eta", "alpha alpha alpha alpha"},
    {"d4", "theta theta", "deleted after the cache was written"},
    {"d5", "zeta", "zeta? eta! theta."},
    {"d6", "beta alpha", ""},
};
constexpr int kNumDocs = sizeof kDocs / sizeof kDocs[0];
constexpr const char* kDeleted = "d4";

int Count(const char* s) {  // whitespace-separated tokens
  int n = 0;
  bool in = false;
  for (; *s; ++s) {
    const bool sp = *s == ' ' || *s == '\n';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

struct Fixture {
  std::string dir;   // the index
  std::string vdir;  // its vectors/
  std::string cache_path;
  std::string cache;  // the cache UpdateSegmentCaches wrote
  Lucene::IndexReaderPtr reader;
  Lucene::IndexReaderPtr segment;
  int32_t seg_max = 0;
  std::vector<std::string> ids;                       // walked: the truth
  std::vector<uint32_t> lengths[hi::kNumTextFields];  // walked
  std::string v2;                                     // a forward file ForwardIndex::Save wrote
  std::string v1;                                     // a format 1 file, byte by byte
  std::string v3;                                     // a delta over v2 ForwardIndex::Save wrote
};

Lucene::DocumentPtr LuceneDoc(const Doc& d) {
  auto doc = Lucene::newLucene<Lucene::Document>();
  doc->add(Lucene::newLucene<Lucene::Field>(hi::kIdField, hi::Wide(d.id), Lucene::Field::STORE_YES,
                                            Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
  const std::string all = std::string(d.title) + " " + d.text;
  const int lens[hi::kNumTextFields] = {Count(d.title), Count(d.text), Count(all.c_str())};
  const char* values[hi::kNumTextFields] = {d.title, d.text, all.c_str()};
  for (int f = 0; f < hi::kNumTextFields; ++f) {
    doc->add(Lucene::newLucene<Lucene::Field>(hi::kTextFieldsW[f], hi::Wide(values[f]), Lucene::Field::STORE_NO,
                                              Lucene::Field::INDEX_ANALYZED));
    doc->add(Lucene::newLucene<Lucene::Field>(hi::kLenFieldsW[f], std::to_wstring(lens[f]), Lucene::Field::STORE_NO,
                                              Lucene::Field::INDEX_NOT_ANALYZED_NO_NORMS));
  }
  return doc;
}

// Tokens split at spaces, as TokenBuffer (the analyser's output) holds them.
hi::TokenBuffer Tokens(std::string_view s) {
  hi::TokenBuffer b;
  const Lucene::String w = hi::Wide(s);
  size_t i = 0;
  while (i < w.size()) {
    while (i < w.size() && (w[i] == L' ' || w[i] == L'\n')) ++i;
    const size_t start = i;
    while (i < w.size() && w[i] != L' ' && w[i] != L'\n') b.chars.push_back(w[i++]);
    if (i > start) {
      b.ends.push_back(static_cast<uint32_t>(b.chars.size()));
      b.starts.push_back(static_cast<uint32_t>(start));
      b.increments.push_back(1);
    }
  }
  return b;
}

// Format 1 as docs/format.md describes it: two documents over three terms.
std::string Version1File() {
  std::string payload;
  for (const char* t : {"alpha", "beta", "gamma"}) PutVarintString(&payload, t);
  std::string a;  // title [alpha], text [alpha beta | gamma], domain bio, field k=v
  for (int v : {1, 0, 3, 0, 1, 2, 2, 2, 1, 1}) PutVarint(&a, v);
  PutVarintString(&a, "bio");
  PutVarint(&a, 1);
  PutVarintString(&a, "k");
  PutVarintString(&a, "v");
  std::string b;  // empty title, text [gamma], one sentence, no domain, no fields
  for (int v : {0, 1, 2, 1, 1, 0, 0}) PutVarint(&b, v);
  PutVarintString(&payload, "d0");
  PutVarintString(&payload, a);
  PutVarintString(&payload, "d1");
  PutVarintString(&payload, b);
  std::string h(kFwdHeaderV1, '\0');
  std::memcpy(h.data(), "HYMIRFWD", 8);
  Put32(&h, 8, 1);
  Put64(&h, 16, 3);
  Put64(&h, 24, 2);
  Put64(&h, 32, payload.size());
  Put32(&h, 40, Crc32(0, payload.data(), payload.size()));
  return h + payload;
}

void MakeFixture(Fixture* x) {
  namespace fs = std::filesystem;
  x->dir = "/tmp/hymir-fuzz-" + std::to_string(getpid()) + ".forward";
  x->vdir = x->dir + "/vectors";
  fs::remove_all(x->dir);
  fs::create_directories(x->vdir);
  auto directory = Lucene::FSDirectory::open(hi::Wide(x->dir + "/" + hi::kTextDir));
  auto analyzer = Lucene::newLucene<Lucene::WhitespaceAnalyzer>();
  auto w =
      Lucene::newLucene<Lucene::IndexWriter>(directory, analyzer, true, Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
  for (const Doc& d : kDocs) w->addDocument(LuceneDoc(d));
  w->commit();
  w->close();
  if (!hi::UpdateSegmentCaches(x->dir).ok()) __builtin_trap();
  w = Lucene::newLucene<Lucene::IndexWriter>(directory, analyzer, false, Lucene::IndexWriter::MaxFieldLengthUNLIMITED);
  w->deleteDocuments(Lucene::newLucene<Lucene::Term>(hi::kIdField, hi::Wide(kDeleted)));
  w->commit();
  w->close();
  x->reader = Lucene::IndexReader::open(directory, /*readOnly=*/true);
  const auto segments = hi::SegmentReaders(x->reader);
  if (segments.size() != 1) __builtin_trap();
  x->segment = segments[0];
  x->seg_max = x->segment->maxDoc();
  if (x->seg_max != kNumDocs || !x->segment->hasDeletions()) __builtin_trap();
  x->cache_path = x->dir + "/" + hi::kSegmentCacheDir + "/_0.seg";
  x->cache = Slurp(x->cache_path);
  if (x->cache.size() <= kSegHeader) __builtin_trap();

  // The truth: the segment walked (no cache), then read from its real cache.
  std::filesystem::remove(x->cache_path);
  x->ids.assign(kNumDocs, "");
  hi::SegmentSlice slice{x->ids.data(), {}};
  for (int f = 0; f < hi::kNumTextFields; ++f) {
    x->lengths[f].assign(kNumDocs, 0);
    slice.lengths[f] = x->lengths[f].data();
  }
  bool from_cache = true;
  if (!hi::LoadSegment(x->dir, x->segment, slice, &from_cache).ok() || from_cache) __builtin_trap();
  for (int d = 0; d < kNumDocs; ++d) {
    const bool deleted = std::string(kDocs[d].id) == kDeleted;
    if (x->ids[d] != (deleted ? "" : kDocs[d].id)) __builtin_trap();
  }
  std::ofstream(x->cache_path, std::ios::binary) << x->cache;
  std::vector<std::string> ids(kNumDocs);
  std::vector<uint32_t> lens(3 * kNumDocs);
  slice = {ids.data(), {lens.data(), lens.data() + kNumDocs, lens.data() + 2 * kNumDocs}};
  if (!hi::LoadSegment(x->dir, x->segment, slice, &from_cache).ok() || !from_cache || ids != x->ids) __builtin_trap();
  for (int f = 0; f < hi::kNumTextFields; ++f) {
    if (!std::equal(x->lengths[f].begin(), x->lengths[f].end(), lens.begin() + f * kNumDocs)) __builtin_trap();
  }

  // A format 2 file through the writer's own Put and Save.
  hi::ForwardIndex fwd;
  for (const Doc& d : kDocs) {
    hymir::Document doc;
    doc.id = d.id;
    doc.title = d.title;
    doc.text = d.text;
    if (d.id[0] == 'd' && d.id[1] % 2 == 1) doc.domain = "odd";
    if (d.id[0] == 'c') doc.fields["kg_entities"] = "Q1 Q2";
    const hi::TokenBuffer title = Tokens(d.title), text = Tokens(d.text);
    fwd.Put(doc, title, text, hi::SentenceEnds(hi::Wide(d.text), text.starts));
  }
  hi::ForwardFiles info;
  if (!fwd.Save(x->vdir, 1, &info).ok()) __builtin_trap();
  x->v2 = Slurp(x->vdir + "/" + info.file.name);
  x->v1 = Version1File();
  // A delta over it (small next to its base, or the save writes a full
  // file): one document replaced by a shorter text, one deleted.
  auto base = hi::ForwardIndex::Load(x->vdir, info.file);
  if (!base.ok()) __builtin_trap();
  {
    hymir::Document doc;
    doc.id = kDocs[0].id;
    doc.text = "alpha";
    const hi::TokenBuffer title = Tokens(""), text = Tokens(doc.text);
    (*base)->Put(doc, title, text, hi::SentenceEnds(hi::Wide(doc.text), text.starts));
  }
  (*base)->Delete(kDocs[1].id);
  hi::ForwardFiles delta;
  if (!(*base)->Save(x->vdir, 2, &delta).ok() || delta.base.name.empty()) __builtin_trap();
  x->v3 = Slurp(x->vdir + "/" + delta.file.name);
}

const Fixture& GetFixture() {
  static Fixture* f = [] {
    auto* x = new Fixture();  // never destroyed: Lucene++'s objects may outlive main's statics
    MakeFixture(x);
    return x;
  }();
  return *f;
}

void FuzzForward(const Fixture& f, std::string bytes, bool fix) {
  if (fix) FixForward(&bytes);
  // A format 3 input is a delta over the harness's format 2 file.
  uint32_t version = 0;
  if (bytes.size() >= 12) std::memcpy(&version, bytes.data() + 8, 4);
  hi::ForwardFiles expected;
  if (version == hi::kForwardDeltaVersion) {
    expected.base = {"forward.g1.fwd", f.v2.size(), Crc32(0, f.v2.data(), f.v2.size())};
    std::ofstream(f.vdir + "/" + expected.base.name, std::ios::binary | std::ios::trunc) << f.v2;
    expected.file = {"forward.g2.fwd", bytes.size(), Crc32(0, bytes.data(), bytes.size())};
  } else {
    expected.file = {"forward.g1.fwd", bytes.size(), Crc32(0, bytes.data(), bytes.size())};
  }
  const std::string path = f.vdir + "/" + expected.file.name;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) __builtin_trap();
  }
  auto reader = hi::ForwardIndexReader::Open(f.vdir, expected);
  auto loaded = hi::ForwardIndex::Load(f.vdir, expected);
  if (!reader.ok()) CheckRefusal(reader.status(), path);
  if (!loaded.ok()) CheckRefusal(loaded.status(), path);
  // The writer's loader checks everything the searcher's open does, and more.
  if (loaded.ok() && !reader.ok()) __builtin_trap();
  if (loaded.ok() && (*reader)->size() != (*loaded)->size()) __builtin_trap();
  // The harness's own files (the seeds) read whole, every id found.
  const bool pristine = bytes == f.v2 || bytes == f.v1 || bytes == f.v3;
  if (pristine && !loaded.ok()) __builtin_trap();
  if (!reader.ok()) return;
  std::vector<std::string> ids = ForwardIds(bytes);
  if (pristine) {
    for (const std::string& id : ids) {
      if (!(*reader)->Get(id).ok()) __builtin_trap();
    }
  }
  for (const char* id : {"", "d0", "d4", "caf\xc3\xa9", "zzzz"}) ids.emplace_back(id);
  for (const std::string& id : ids) {
    auto r = (*reader)->Get(id);
    if (r.ok()) {
      CheckRecord(*r, id);
    } else if (!r.status().IsNotFound() && !(r.status().IsCorruption() && r.status().message().rfind(path, 0) == 0)) {
      __builtin_trap();
    }
    if (!loaded.ok()) continue;
    // The writer's loader reads a version 2 file's records lazily, as the
    // searcher's reader does: the same answer for every id.
    auto l = (*loaded)->Get(id);
    if (l.ok()) {
      CheckRecord(*l, id);
      if (!r.ok() || !Same(*r, *l)) __builtin_trap();
    } else if (r.ok() || (l.status().IsNotFound() != r.status().IsNotFound()) ||
               !(l.status().IsNotFound() || (l.status().IsCorruption() && l.status().message().rfind(path, 0) == 0))) {
      __builtin_trap();
    }
  }
  if (!loaded.ok()) return;
  // Saved again (a commit that changed nothing): the same documents, or
  // Corruption naming the file when a record it copies is damaged.
  hi::ForwardFiles saved;
  const hymir::Status st = (*loaded)->Save(f.vdir, 3, &saved);
  if (!st.ok()) {
    if (!st.IsCorruption() || st.message().rfind(path, 0) != 0) __builtin_trap();
    return;
  }
  auto again = hi::ForwardIndexReader::Open(f.vdir, saved);
  if (!again.ok() || (*again)->size() != (*reader)->size()) __builtin_trap();
  for (const std::string& id : ids) {
    auto r = (*reader)->Get(id);
    auto a = (*again)->Get(id);
    if (r.ok() != a.ok() || (r.ok() && !Same(*r, *a))) __builtin_trap();
  }
}

// The fix-ups of a segment cache: its id section size (from the body's size
// and the header's max_doc), body and header checksums.
void FixCache(std::string* b) {
  if (b->size() < kSegHeader) return;
  const uint64_t body = b->size() - kSegHeader;
  const uint64_t max_doc = U64(*b, 16);
  if (max_doc < body / 8) {
    const uint64_t fixed = 8 * (max_doc + 1) + 4 * hi::kNumTextFields * max_doc;
    if (fixed <= body) Put64(b, 24, body - fixed);
  }
  Put32(b, 32, Crc32(0, b->data() + kSegHeader, body));
  Put32(b, 12, HeaderCrc(*b, kSegHeader));
}

void FuzzCache(const Fixture& f, std::string bytes, bool fix) {
  if (fix) FixCache(&bytes);
  {
    std::ofstream out(f.cache_path, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) __builtin_trap();
  }
  // Stale values in the caller's arrays, which LoadSegment must overwrite.
  std::vector<std::string> ids(f.seg_max, "stale");
  std::vector<uint32_t> lens[hi::kNumTextFields];
  hi::SegmentSlice slice{ids.data(), {}};
  for (int k = 0; k < hi::kNumTextFields; ++k) {
    lens[k].assign(f.seg_max, 12345);
    slice.lengths[k] = lens[k].data();
  }
  bool from_cache = false;
  const hymir::Status s = hi::LoadSegment(f.dir, f.segment, slice, &from_cache);
  if (!s.ok()) __builtin_trap();  // the segment itself is sound: a bad cache only means a walk
  if (bytes == f.cache && !from_cache) __builtin_trap();
  if (!from_cache) {
    if (ids != f.ids) __builtin_trap();
    for (int k = 0; k < hi::kNumTextFields; ++k) {
      if (lens[k] != f.lengths[k]) __builtin_trap();
    }
    return;
  }
  // Accepted: deleted documents blank, lengths in bounds, and the sampled
  // live documents (ReadCache's staleness check) carry their own ids.
  for (int32_t d = 0; d < f.seg_max; ++d) {
    for (int k = 0; k < hi::kNumTextFields; ++k) {
      if (lens[k][d] > hi::kMaxFieldLength) __builtin_trap();
    }
    if (f.segment->isDeleted(d)) {
      if (!ids[d].empty()) __builtin_trap();
      for (int k = 0; k < hi::kNumTextFields; ++k) {
        if (lens[k][d] != 0) __builtin_trap();
      }
    }
  }
  for (int32_t d : {0, f.seg_max / 3, 2 * f.seg_max / 3, f.seg_max - 1}) {
    if (!f.segment->isDeleted(d) && !ids[d].empty() && ids[d] != f.ids[d]) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const Fixture& f = GetFixture();
  if (const char* dir = std::getenv("HYMIR_FUZZ_SEED_DIR")) {
    // Selector byte 0: forward file, fixed up; 1: segment cache, fixed up;
    // 14 and 15: the same, not fixed up.
    const std::string d(dir);
    std::ofstream(d + "/forward-v2", std::ios::binary) << '\0' << f.v2;
    std::ofstream(d + "/forward-v2-unfixed", std::ios::binary) << '\x0e' << f.v2;
    std::ofstream(d + "/forward-v1", std::ios::binary) << '\0' << f.v1;
    std::ofstream(d + "/forward-delta", std::ios::binary) << '\0' << f.v3;
    std::ofstream(d + "/segment-cache", std::ios::binary) << '\1' << f.cache;
    std::ofstream(d + "/segment-cache-unfixed", std::ios::binary) << '\x0f' << f.cache;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Fixture& f = GetFixture();
  const bool cache = data[0] & 1;
  const bool fix = ((data[0] >> 1) & 7) != 7;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (cache) {
    FuzzCache(f, std::move(bytes), fix);
  } else {
    FuzzForward(f, std::move(bytes), fix);
  }
  return 0;
}
