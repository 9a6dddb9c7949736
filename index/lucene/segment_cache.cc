#include "index/lucene/segment_cache.h"

#include <lucene++/NoLockFactory.h>
#include <lucene++/SegmentReader.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "index/lucene/lucene_util.h"
#include "src/core/binary_io.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"
#include "src/core/mapped_file.h"

namespace hymir::index::internal {
namespace {

using hymir::internal::Crc32;

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'S', 'E', 'G'};
constexpr uint32_t kVersion = 1;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_crc;
  uint64_t max_doc;
  uint64_t id_bytes;
  uint32_t body_crc;
  uint32_t reserved0;
  uint64_t reserved1;
};
static_assert(sizeof(Header) == 48);

uint32_t HeaderCrc(Header h) {
  h.header_crc = 0;
  return Crc32(0, &h, sizeof h);
}

uint64_t BodyBytes(uint64_t max_doc, uint64_t id_bytes) {
  return id_bytes + 8 * (max_doc + 1) + 4 * kNumTextFields * max_doc;
}

std::string CachePath(const std::string& dir, const std::string& segment) {
  return dir + "/" + kSegmentCacheDir + "/" + segment + ".seg";
}

// Walks `field`'s terms in segment `r` with their live postings; a doc id out
// of bounds (a damaged .tis/.frq: Lucene 3.0 files carry no checksums) names
// the segment's files instead of indexing past an array.
template <typename Fn>
Status ForEachTerm(const std::string& dir, const Lucene::IndexReaderPtr& r, int32_t seg_max,
                   const Lucene::String& field, Fn&& fn) {
  Lucene::TermEnumPtr terms = r->terms(Lucene::newLucene<Lucene::Term>(field, L""));
  Lucene::TermDocsPtr docs = r->termDocs();
  Status st;
  do {
    Lucene::TermPtr t = terms->term();
    if (!t || t->field() != field) break;
    docs->seek(terms);  // by enum: reuses its term info, no dictionary lookup
    while (st.ok() && docs->next()) {
      const int32_t d = docs->doc();
      if (d < 0 || d >= seg_max) {
        std::string name = SegmentName(r);
        if (name.empty()) name = "?";
        st = Status::Corruption(dir + "/" + kTextDir + "/" + name + ".tis or " + name + ".frq: doc id " +
                                std::to_string(d) + " of field \"" + Utf8(field) + "\" outside [0, " +
                                std::to_string(seg_max) + ") (a damaged index file)");
      } else {
        st = fn(t->text(), d);
      }
    }
  } while (st.ok() && terms->next());
  docs->close();
  terms->close();
  return st;
}

Status Walk(const std::string& dir, const Lucene::IndexReaderPtr& r, int32_t seg_max, const SegmentSlice& out) {
  HYMIR_RETURN_IF_ERROR(ForEachTerm(dir, r, seg_max, kIdField, [&](const Lucene::String& text, int32_t doc) {
    out.ids[doc] = Utf8(text);
    return Status::OK();
  }));
  // "all" is title then text (format 1 also wrote _len.all, the same sum).
  for (int f = 0; f < kAllField; ++f) {
    uint32_t* lens = out.lengths[f];
    HYMIR_RETURN_IF_ERROR(
        ForEachTerm(dir, r, seg_max, kLenFieldsW[f], [&](const Lucene::String& text, int32_t doc) -> Status {
          // A length is a decimal token count written by hymir; anything else is damage.
          uint64_t v = 0;
          bool good = !text.empty() && text.size() <= 10;
          for (wchar_t c : text) {
            if (c < L'0' || c > L'9') good = false;
            v = v * 10 + static_cast<uint64_t>(c - L'0');
          }
          if (!good || v > kMaxFieldLength) {
            return Status::Corruption(dir + "/" + kTextDir + ": field " + Utf8(kLenFieldsW[f]) + " of doc " +
                                      std::to_string(doc) + " holds \"" + Utf8(text) +
                                      "\", not a token count (a damaged .tis file)");
          }
          lens[doc] = static_cast<uint32_t>(v);
          return Status::OK();
        }));
  }
  for (int32_t d = 0; d < seg_max; ++d) {
    const uint64_t sum = uint64_t{out.lengths[kTitleField][d]} + out.lengths[kTextField][d];
    if (sum > kMaxFieldLength) {
      return Status::Corruption(dir + "/" + kTextDir + ": doc " + std::to_string(d) +
                                "'s title and text lengths sum past Lucene's limit (a damaged .tis file)");
    }
    out.lengths[kAllField][d] = static_cast<uint32_t>(sum);
  }
  return Status::OK();
}

// The cache of segment `r` into `out`; false when absent, damaged or stale.
bool ReadCache(const std::string& dir, const Lucene::IndexReaderPtr& r, int32_t seg_max, const SegmentSlice& out) {
  const std::string name = SegmentName(r);
  if (name.empty()) return false;
  auto file = hymir::internal::MappedFile::Open(CachePath(dir, name));
  if (!file.ok()) return false;
  const std::string_view b = (*file)->bytes();
  if (b.size() < sizeof(Header)) return false;
  Header h;
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0 || h.version != kVersion || HeaderCrc(h) != h.header_crc ||
      h.max_doc != static_cast<uint64_t>(seg_max) || h.id_bytes > b.size() ||
      b.size() - sizeof(Header) != BodyBytes(h.max_doc, h.id_bytes)) {
    return false;
  }
  const char* body = b.data() + sizeof(Header);
  if (Crc32(0, body, b.size() - sizeof(Header)) != h.body_crc) return false;
  const char* offsets = body + h.id_bytes;
  const char* lengths = offsets + 8 * (h.max_doc + 1);
  uint64_t prev = 0;
  for (int32_t d = 0; d < seg_max; ++d) {
    uint64_t end;
    std::memcpy(&end, offsets + 8 * (static_cast<uint64_t>(d) + 1), 8);
    if (end < prev || end > h.id_bytes) return false;
    out.ids[d].assign(body + prev, static_cast<size_t>(end - prev));
    prev = end;
  }
  for (int f = 0; f < kNumTextFields; ++f) {
    std::memcpy(out.lengths[f], lengths + 4 * static_cast<uint64_t>(f) * h.max_doc, 4 * h.max_doc);
    for (int32_t d = 0; d < seg_max; ++d) {
      if (out.lengths[f][d] > kMaxFieldLength) return false;
    }
  }
  // Stale (an index recreated under the same segment names)? The ids of a
  // few live documents must map back to the same docids.
  const int32_t samples[] = {0, seg_max / 3, static_cast<int32_t>((2 * static_cast<int64_t>(seg_max)) / 3),
                             seg_max - 1};
  for (int32_t d : samples) {
    if (d < 0 || d >= seg_max || out.ids[d].empty() || r->isDeleted(d)) continue;
    Lucene::TermDocsPtr td = r->termDocs(Lucene::newLucene<Lucene::Term>(kIdField, Wide(out.ids[d])));
    const bool same = td->next() && td->doc() == d;
    td->close();
    if (!same) return false;
  }
  return true;
}

Status WriteCache(const std::string& dir, const Lucene::IndexReaderPtr& r, const std::string& name) {
  const int32_t seg_max = r->maxDoc();
  std::vector<std::string> ids(static_cast<size_t>(seg_max));
  std::array<std::vector<uint32_t>, kNumTextFields> lens;
  SegmentSlice slice{ids.data(), {}};
  for (int f = 0; f < kNumTextFields; ++f) {
    lens[f].assign(static_cast<size_t>(seg_max), 0);
    slice.lengths[f] = lens[f].data();
  }
  HYMIR_RETURN_IF_ERROR(Walk(dir, r, seg_max, slice));
  hymir::internal::BinaryWriter body;
  hymir::internal::BinaryWriter offsets;
  offsets.U64(0);
  for (const auto& id : ids) {
    body.Raw(id.data(), id.size());
    offsets.U64(body.out().size());
  }
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.max_doc = static_cast<uint64_t>(seg_max);
  h.id_bytes = body.out().size();
  body.Raw(offsets.out().data(), offsets.out().size());
  for (const auto& l : lens) body.Raw(l.data(), 4 * l.size());
  h.body_crc = Crc32(0, body.out().data(), body.out().size());
  h.header_crc = HeaderCrc(h);
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out += body.out();
  return hymir::internal::WriteFileAtomic(CachePath(dir, name), out);
}

// One segment's ids and lengths in arrays of their own, with the slice over them.
struct SegmentArrays {
  explicit SegmentArrays(int32_t seg_max)
      : ids(static_cast<size_t>(seg_max)), lens(static_cast<size_t>(seg_max) * kNumTextFields) {
    slice.ids = ids.data();
    for (int f = 0; f < kNumTextFields; ++f) slice.lengths[f] = lens.data() + static_cast<size_t>(f) * seg_max;
  }
  SegmentArrays(const SegmentArrays&) = delete;
  SegmentArrays& operator=(const SegmentArrays&) = delete;

  std::vector<std::string> ids;
  std::vector<uint32_t> lens;  // kNumTextFields blocks of max_doc
  SegmentSlice slice{};
};

// True when segment `r`'s cache reads back whole and current (checked as a
// reader checks it, so that a damaged or stale cache is written again).
bool CacheIsSound(const std::string& dir, const Lucene::IndexReaderPtr& r) {
  SegmentArrays a(r->maxDoc());
  return ReadCache(dir, r, r->maxDoc(), a.slice);
}

}  // namespace

std::string SegmentName(const Lucene::IndexReaderPtr& r) {
  auto sr = boost::dynamic_pointer_cast<Lucene::SegmentReader>(r);
  return sr ? Utf8(sr->getSegmentName()) : std::string();
}

std::vector<Lucene::IndexReaderPtr> SegmentReaders(const Lucene::IndexReaderPtr& reader) {
  std::vector<Lucene::IndexReaderPtr> segments;
  Lucene::Collection<Lucene::IndexReaderPtr> subs = reader->getSequentialSubReaders();
  if (subs) {
    for (auto it = subs.begin(); it != subs.end(); ++it) segments.push_back(*it);
  } else {
    segments.push_back(reader);
  }
  return segments;
}

Status VerifySegmentCache(const std::string& dir, const Lucene::IndexReaderPtr& segment, CacheState* state) {
  const int32_t seg_max = segment->maxDoc();
  SegmentArrays walked(seg_max), loaded(seg_max);
  HYMIR_RETURN_IF_ERROR(Walk(dir, segment, seg_max, walked.slice));
  const std::string name = SegmentName(segment);
  std::error_code ec;
  if (name.empty() || !std::filesystem::exists(CachePath(dir, name), ec)) {
    *state = CacheState::kAbsent;
    return Status::OK();
  }
  // What a searcher would load: the cache, with documents deleted since dropped.
  bool from_cache = false;
  HYMIR_RETURN_IF_ERROR(LoadSegment(dir, segment, loaded.slice, &from_cache));
  if (!from_cache) {
    *state = CacheState::kIgnored;
    return Status::OK();
  }
  for (int32_t d = 0; d < seg_max; ++d) {
    bool same = loaded.ids[d] == walked.ids[d];
    for (int f = 0; f < kNumTextFields && same; ++f) same = loaded.slice.lengths[f][d] == walked.slice.lengths[f][d];
    if (!same) {
      return Status::Corruption(CachePath(dir, name) + ": document " + std::to_string(d) + " (\"" + walked.ids[d] +
                                "\") differs from segment " + name +
                                " though the cache passes its checks; delete the file (the next writer rebuilds it)");
    }
  }
  *state = CacheState::kSound;
  return Status::OK();
}

Status LoadSegment(const std::string& dir, const Lucene::IndexReaderPtr& segment, const SegmentSlice& out,
                   bool* from_cache) {
  const int32_t seg_max = segment->maxDoc();
  auto blank = [&](int32_t d) {
    out.ids[d].clear();
    for (int f = 0; f < kNumTextFields; ++f) out.lengths[f][d] = 0;
  };
  *from_cache = ReadCache(dir, segment, seg_max, out);
  if (!*from_cache) {  // a rejected cache may have filled part of `out`
    for (int32_t d = 0; d < seg_max; ++d) blank(d);
    return Walk(dir, segment, seg_max, out);
  }
  if (segment->hasDeletions()) {  // deleted since the cache was written
    for (int32_t d = 0; d < seg_max; ++d) {
      if (segment->isDeleted(d)) blank(d);
    }
  }
  return Status::OK();
}

Status UpdateSegmentCaches(const std::string& dir, std::set<std::string>* sound) {
  namespace fs = std::filesystem;
  return Guard(dir + ": segment caches", [&]() -> Status {
    auto directory = Lucene::FSDirectory::open(Wide(dir + "/" + kTextDir), Lucene::NoLockFactory::getNoLockFactory());
    Lucene::IndexReaderPtr reader = Lucene::IndexReader::open(directory, /*readOnly=*/true);
    const std::vector<Lucene::IndexReaderPtr> segments = SegmentReaders(reader);
    std::error_code ec;
    fs::create_directories(dir + "/" + kSegmentCacheDir, ec);
    if (ec) return Status::IOError(dir + "/" + kSegmentCacheDir + ": " + ec.message());
    std::set<std::string> live;
    Status st;
    for (const auto& r : segments) {
      const std::string name = SegmentName(r);
      if (name.empty()) continue;
      live.insert(name + ".seg");
      if (sound != nullptr && sound->count(name)) continue;
      Status w = CacheIsSound(dir, r) ? Status::OK() : WriteCache(dir, r, name);
      if (w.ok() && sound != nullptr) sound->insert(name);
      if (st.ok() && !w.ok()) st = w;
    }
    reader->close();
    std::vector<fs::path> stale;  // caches of merged-away segments, temp files of crashed writes
    for (const auto& e : fs::directory_iterator(dir + "/" + kSegmentCacheDir, ec)) {
      if (!live.count(e.path().filename().string())) stale.push_back(e.path());
    }
    for (const auto& p : stale) fs::remove(p, ec);
    if (sound != nullptr) {  // forget merged-away segments
      for (auto it = sound->begin(); it != sound->end();) {
        it = live.count(*it + ".seg") ? std::next(it) : sound->erase(it);
      }
    }
    return st;
  });
}

}  // namespace hymir::index::internal
