// IngestMedia: builds a media index from a MediaCollection in one commit.
//
// Per image: decode (OpenCV), colour histogram and gradient patches; then the
// visual vocabulary is learnt on the patches of every decoded image (FAISS
// k-means), each image encoded with it, and every document upserted through
// hymir's ingest (hymir::IngestDocuments, hymir/ingest.h, as `hymir index`):
//   id = item id, title = caption (BM25-searchable), domain = category,
//   fields {subcategory, path, and sound + has_sound = "yes" with a sound},
//   vectors {colour, texture, and sound when the item has a sound}.
// Files that fail (unreadable, undecodable, SVG, no opaque pixel; a silent or
// undecodable sound) are reported and skipped; an image whose sound fails is
// indexed without it. The index is committed once, at the end: a failure
// or a crash before that leaves no index behind (nothing committed half).
//
// Thread-safety: IngestMedia may run concurrently for different directories;
// it uses `threads` threads itself.
#ifndef HYMIR_MEDIA_MEDIA_INGEST_H_
#define HYMIR_MEDIA_MEDIA_INGEST_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "hymir/media/media_collection.h"
#include "hymir/media/media_describer.h"
#include "hymir/result.h"

namespace hymir::media {

struct IngestOptions {
  // Threads decoding, describing and encoding images, and upserting them
  // (hymir::IngestDocuments' workers), >= 1. Default: 1.
  int threads = 1;
  MediaDescriptorOptions descriptors;
  // Progress after each image of the decode pass (done of total). Called
  // from the ingest threads, one call at a time (serialised). Default: none.
  std::function<void(size_t done, size_t total)> progress;
};

struct IngestReport {
  size_t indexed = 0;
  std::vector<SkippedFile> failed;  // files reported and skipped
  size_t local_descriptors = 0;     // gradient patches pooled for the vocabulary
  size_t sounds = 0;                // indexed documents with a sound vector
  double decode_seconds = 0;        // decode + colour + patches (wall)
  double vocabulary_seconds = 0;    // k-means
  double index_seconds = 0;         // encode + upsert + commit
  double seconds = 0;               // everything
};

// Builds a new index at `dir`. AlreadyExists when `dir` exists and is not an
// empty directory; InvalidArgument when no image could be decoded.
Result<IngestReport> IngestMedia(const MediaCollection& collection, const std::string& dir,
                                 const IngestOptions& options = {});

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_MEDIA_INGEST_H_
