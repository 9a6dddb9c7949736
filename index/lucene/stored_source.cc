#include "index/lucene/stored_source.h"

#include <zstd.h>

#include <cstring>
#include <new>

#include "index/lucene/lucene_util.h"
#include "src/core/binary_io.h"
#include "src/core/crc32.h"

namespace hymir::index::internal {
namespace {

constexpr char kRaw = 0;
constexpr char kZstd = 1;
// zstd's fastest standard level: most of the ratio of level 3 at several
// times its speed on short English documents.
constexpr int kLevel = 1;

struct CCtx {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  CCtx() {
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, kLevel);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);  // damage is detected, not decoded
  }
  ~CCtx() { ZSTD_freeCCtx(c); }
};

struct DCtx {
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~DCtx() { ZSTD_freeDCtx(d); }
};

bool Split(std::string_view raw, std::string* title, std::string* text) {
  hymir::internal::VarintReader r(raw);
  std::string_view t;
  if (!r.Bytes(&t)) return false;
  title->assign(t);
  text->assign(raw.substr(raw.size() - r.left()));
  return true;
}

}  // namespace

std::string EncodeSource(std::string_view title, std::string_view text) {
  std::string raw(1, kRaw);
  raw.reserve(title.size() + text.size() + 16);
  hymir::internal::PutVarintString(&raw, title);
  raw.append(text);
  const std::string_view body = std::string_view(raw).substr(1);
  thread_local CCtx ctx;
  if (ctx.c == nullptr) throw std::bad_alloc();
  std::string out(1 + ZSTD_compressBound(body.size()), '\0');
  out[0] = kZstd;
  const size_t n = ZSTD_compress2(ctx.c, out.data() + 1, out.size() - 1, body.data(), body.size());
  if (ZSTD_isError(n)) throw std::bad_alloc();  // only out of memory: the bound is exact
  if (body.size() <= kMaxSourceRatio * n) {
    out.resize(1 + n);
    return out;
  }
  const uint32_t crc = hymir::internal::Crc32(0, body.data(), body.size());
  raw.append(reinterpret_cast<const char*>(&crc), 4);
  return raw;
}

bool DecodeSource(std::string_view stored, std::string* title, std::string* text) {
  if (stored.empty()) return false;
  const std::string_view body = stored.substr(1);
  if (stored[0] == kRaw) {
    if (body.size() < 4) return false;
    const std::string_view raw = body.substr(0, body.size() - 4);
    uint32_t crc;
    std::memcpy(&crc, body.data() + raw.size(), 4);
    return crc == hymir::internal::Crc32(0, raw.data(), raw.size()) && Split(raw, title, text);
  }
  if (stored[0] != kZstd) return false;
  const unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size > kMaxSourceBytes + 16 ||
      size > kMaxSourceRatio * body.size()) {
    return false;
  }
  // One frame exactly: trailing bytes are damage too.
  if (ZSTD_findFrameCompressedSize(body.data(), body.size()) != body.size()) return false;
  thread_local DCtx ctx;
  if (ctx.d == nullptr) throw std::bad_alloc();
  std::string raw(static_cast<size_t>(size), '\0');
  const size_t n = ZSTD_decompressDCtx(ctx.d, raw.data(), raw.size(), body.data(), body.size());
  if (ZSTD_isError(n) || n != size) return false;  // includes a checksum mismatch
  return Split(raw, title, text);
}

bool ReadStoredText(const Lucene::DocumentPtr& doc, std::string* title, std::string* text) {
  Lucene::FieldablePtr src = doc->getFieldable(kSourceField);
  if (!src) {
    *title = Utf8(doc->get(L"title"));
    *text = Utf8(doc->get(L"text"));
    return true;
  }
  if (!src->isBinary()) return false;
  Lucene::ByteArray bytes = src->getBinaryValue();
  const int32_t offset = src->getBinaryOffset();
  const int32_t length = src->getBinaryLength();
  if (!bytes || offset < 0 || length < 0 || static_cast<int64_t>(offset) + length > bytes.size()) return false;
  return DecodeSource(
      std::string_view(reinterpret_cast<const char*>(bytes.get()) + offset, static_cast<size_t>(length)), title, text);
}

}  // namespace hymir::index::internal
