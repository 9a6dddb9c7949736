// Private: a document's title and text as stored in a format 2 index (the
// binary stored field `_src`), compressed with zstd.
//
//   byte 0 : 1 = zstd, 0 = raw (other values are reserved)
//   zstd   : one zstd frame, level 1, with its content size and checksum, of
//            varint title bytes | title | text   (UTF-8)
//   raw    : varint title bytes | title | text | crc32 of those bytes (u32 LE),
//            for a document that compresses more than kMaxSourceRatio times
//            (a long run of one character, say)
//
// Decoding bounds every length before allocating (a frame's content size by
// kMaxSourceBytes and by kMaxSourceRatio times the stored bytes) and checks
// the checksum, so a damaged .fdt is an error, never a large allocation or a
// wrong text.
//
// Thread-safety: free functions, safe to call concurrently.
#ifndef HYMIR_INDEX_LUCENE_STORED_SOURCE_H_
#define HYMIR_INDEX_LUCENE_STORED_SOURCE_H_

#include <lucene++/LuceneHeaders.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace hymir::index::internal {

inline constexpr const wchar_t* kSourceField = L"_src";
// Longest title + text a document may have (bytes, UTF-8): IndexWriter
// refuses longer documents, so a longer decoded size is damage.
inline constexpr uint64_t kMaxSourceBytes = uint64_t{1} << 30;
// Largest ratio of decoded to stored bytes of a compressed document.
inline constexpr uint64_t kMaxSourceRatio = 64;

// The stored form of `title` and `text`.
std::string EncodeSource(std::string_view title, std::string_view text);

// Splits a stored form back; false when it is damaged (wrong tag, bad frame,
// size above kMaxSourceBytes or not as recorded, checksum, lengths).
bool DecodeSource(std::string_view stored, std::string* title, std::string* text);

// The title and text stored in `doc`: its `_src` field (format 2) or its
// stored `title` and `text` strings (format 1). False when `_src` is damaged.
bool ReadStoredText(const Lucene::DocumentPtr& doc, std::string* title, std::string* text);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_STORED_SOURCE_H_
