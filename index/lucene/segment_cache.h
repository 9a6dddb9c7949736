// Private: per-segment caches of what Snapshot::Load needs by Lucene docid
// (document ids and exact field lengths), so that opening a searcher does not
// walk a million `_id` terms (0.40 s of the 0.53 s of opening a
// 1M-document index went to that walk).
//
// File: <index>/cache/<segment>.seg, one per Lucene++ segment, written by
// IndexWriter after each commit for the committed segments that lack one
// (Lucene++ segments are write-once, and their names are never reused within
// an index), and removed once its segment is no longer committed:
//   header : magic "HYMIRSEG" | u32 version | u32 header crc32 (of the 48
//            header bytes with this field zero) | u64 max_doc | u64 id bytes
//            | u32 body crc32 | u32 reserved | u64 reserved
//   body   : ids (concatenated UTF-8; "" for a document deleted when the
//            cache was written) | (max_doc + 1) x u64 offsets into them
//            | per text field (title, text, all) max_doc x u32 exact lengths
// Integers little-endian. A cache is derived data outside the commit
// manifest: a missing, damaged or stale one (wrong size, checksum, max_doc,
// or an id that the segment's `_id` terms do not map to the same docid, for
// a few sampled documents) is ignored and the segment walked as before.
//
// Thread-safety: free functions; concurrent readers are safe; one writer
// (the IndexWriter, under its lock) writes and removes caches.
#ifndef HYMIR_INDEX_LUCENE_SEGMENT_CACHE_H_
#define HYMIR_INDEX_LUCENE_SEGMENT_CACHE_H_

#include <lucene++/LuceneHeaders.h>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "hymir/result.h"
#include "index/lucene/index_layout.h"

namespace hymir::index::internal {

inline constexpr const char* kSegmentCacheDir = "cache";

// Where one segment's ids and lengths go: `ids` and each `lengths[f]` point at
// max_doc entries of the snapshot's arrays (the segment's docid 0 first).
struct SegmentSlice {
  std::string* ids;
  std::array<uint32_t*, kNumTextFields> lengths;
};

// The segment readers of `reader` in docid order (`reader` itself when it has
// no sub-readers).
std::vector<Lucene::IndexReaderPtr> SegmentReaders(const Lucene::IndexReaderPtr& reader);

// The name of segment reader `r` ("_0", ...), or "" when it is not one.
std::string SegmentName(const Lucene::IndexReaderPtr& r);

// Fills `out` for segment reader `segment` of index `dir` from its cache,
// or by walking its `_id` and `_len.*` terms when the cache is absent or
// unusable. Documents deleted in `segment` get "" and length 0 either way.
// Corruption names the segment's files when the walk meets a doc id or a
// length out of bounds. *from_cache says which way it went.
Status LoadSegment(const std::string& dir, const Lucene::IndexReaderPtr& segment, const SegmentSlice& out,
                   bool* from_cache);

// What VerifySegmentCache found for one segment.
enum class CacheState {
  kAbsent,   // no cache file: readers walk the segment
  kIgnored,  // damaged or stale, so readers ignore it and walk the segment
  kSound,    // readers use it, and it equals the walk of the segment's terms
};

// For `hymir check`: reads segment `segment`'s cache as a reader would and,
// when a reader would use it, compares every id and length with the walk of
// the segment's terms. Corruption naming the cache file when they differ (a
// reader would trust it); the walk's own Corruption when the segment is
// damaged; OK with *state otherwise.
Status VerifySegmentCache(const std::string& dir, const Lucene::IndexReaderPtr& segment, CacheState* state);

// Writes the caches missing for the segments of the last commit of <dir> and
// removes the caches of segments it no longer has. `sound` (optional, kept
// by the caller across commits) holds the segments whose caches this writer
// already wrote or checked, so that each cache is read back once per writer
// rather than at every commit. A cache is an optimisation: callers may
// ignore a failure.
Status UpdateSegmentCaches(const std::string& dir, std::set<std::string>* sound = nullptr);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_SEGMENT_CACHE_H_
