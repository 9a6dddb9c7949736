#include "hymir/index/check_index.h"

#include <lucene++/LuceneHeaders.h>
#include <lucene++/NoLockFactory.h>

#include "hymir/index/searcher.h"
#include "index/lucene/commit_manifest.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/segment_cache.h"
#include "index/lucene/stored_source.h"

namespace hymir::index {

Result<CheckIndexReport> CheckIndex(const std::string& dir) {
  internal::VerifyStats stats;
  HYMIR_RETURN_IF_ERROR(internal::VerifyCommitManifest(dir, internal::VerifyLevel::kFull, &stats));
  CheckIndexReport report;
  report.files = stats.files;
  report.bytes = stats.bytes_checksummed;
  report.unrecorded_commit = stats.unrecorded;
  report.unrecorded_files = stats.unrecorded_files;
  // Structure: the searcher bounds every id, length and doc id it loads.
  auto searcher = Searcher::Open(dir);
  if (!searcher.ok()) return searcher.status();
  HYMIR_RETURN_IF_ERROR(internal::Guard(dir + "/" + internal::kTextDir, [&]() -> Status {
    auto directory = Lucene::FSDirectory::open(internal::Wide(dir + "/" + internal::kTextDir),
                                               Lucene::NoLockFactory::getNoLockFactory());
    Lucene::IndexReaderPtr reader = Lucene::IndexReader::open(directory, /*readOnly=*/true);
    for (const auto& segment : internal::SegmentReaders(reader)) {
      internal::CacheState state;
      const Status st = internal::VerifySegmentCache(dir, segment, &state);
      if (!st.ok()) {
        reader->close();
        return st;
      }
      ++report.segments;
      const std::string name = internal::SegmentName(segment);
      if (state == internal::CacheState::kSound) ++report.caches_sound;
      if (state == internal::CacheState::kIgnored) report.caches_ignored.push_back(name);
      if (state == internal::CacheState::kAbsent) report.caches_absent.push_back(name);
    }
    const int32_t max_doc = reader->maxDoc();
    for (int32_t d = 0; d < max_doc; ++d) {
      if (reader->isDeleted(d)) continue;
      Lucene::DocumentPtr doc = reader->document(d);
      if (doc->get(internal::kIdField).empty()) {
        reader->close();
        return Status::Corruption(dir + "/" + internal::kTextDir + ": document " + std::to_string(d) +
                                  " has no stored _id (a damaged .fdt/.fdx file)");
      }
      std::string title, text;
      if (!internal::ReadStoredText(doc, &title, &text)) {
        reader->close();
        return Status::Corruption(dir + "/" + internal::kTextDir + ": document " + std::to_string(d) +
                                  "'s stored title and text do not decode (a damaged .fdt file)");
      }
      ++report.documents;
    }
    reader->close();
    return Status::OK();
  }));
  return report;
}

}  // namespace hymir::index
