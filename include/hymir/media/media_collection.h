// MediaCollection: finds the images of a directory tree and what describes
// them, for ingest. Made for the Tux Paint stamp layout
// (/usr/share/tuxpaint/stamps, Debian package tuxpaint-stamps-default):
//   DIR/<category>/<sub>/.../<name>.png   the image (or .svg, .jpg, ...)
//   DIR/<category>/<sub>/.../<name>.txt   first line: the English caption
//   DIR/<category>/<sub>/.../<name>.ogg   the stamp's sound effect (optional)
// but any tree of images works (caption from the file name then).
//
// One item per image stem in a folder: when a stem has several formats, a
// raster one (png, jpg, jpeg, bmp, tif, tiff, webp) wins over svg; Tux Paint's
// "<name>_mirror" / "<name>_flip" variants of an existing "<name>" are left
// out (reported as skipped).
//
// Thread-safety: pure functions over the file system.
#ifndef HYMIR_MEDIA_MEDIA_COLLECTION_H_
#define HYMIR_MEDIA_MEDIA_COLLECTION_H_

#include <string>
#include <vector>

#include "hymir/result.h"

namespace hymir::media {

struct MediaItem {
  // The path below DIR without extension, '/'-separated ("animals/birds/owl"),
  // each space or control byte replaced by '_' ("my owl.png" -> "my_owl").
  std::string id;
  std::string path;         // the image file
  std::string caption;      // .txt first line, else the stem with '_' as ' '
  std::string category;     // first folder below DIR ("animals"); "uncategorised" for files in DIR
  std::string subcategory;  // every folder below DIR ("animals/birds")
  // A sound of the same stem in the same folder (.ogg, .wav or .flac, in that
  // order; Tux Paint's sound effects), or "". "<name>_desc.ogg" (a spoken
  // caption) is not the stamp's sound.
  std::string sound;
};

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct MediaCollection {
  std::vector<MediaItem> items;      // sorted by id
  std::vector<SkippedFile> skipped;  // variants left out
};

// NotFound when `dir` is not a directory; IOError when it cannot be listed.
Result<MediaCollection> ScanMediaDirectory(const std::string& dir);

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_MEDIA_COLLECTION_H_
