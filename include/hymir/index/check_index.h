// CheckIndex: verify every byte of a committed index, as Lucene's CheckIndex
// does, and name the damaged file.
//
// Lucene++ 3.0 files carry no checksums; hymir records the size and CRC-32 of
// every file of each commit in <index>/MANIFEST (docs/format.md).
// CheckIndex re-reads every file listed there, then opens the index and reads
// every stored document, so damage anywhere is reported as Corruption naming
// the file (never a crash or a quiet success).
//
// Thread-safety: a free function; it only reads the index and may run while a
// writer or searchers have it open (a commit racing the check is retried).
#ifndef HYMIR_INDEX_CHECK_INDEX_H_
#define HYMIR_INDEX_CHECK_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "hymir/result.h"

namespace hymir::index {

struct CheckIndexReport {
  uint64_t files = 0;      // files listed in the manifest and verified
  uint64_t bytes = 0;      // bytes checksummed
  uint64_t documents = 0;  // live documents read back
  // The last commit is newer than the manifest: a writer was killed between
  // its commit and the manifest write. The commit is durable; its files the
  // manifest does not cover (`unrecorded_files`) had the structural checks
  // only. Opening an IndexWriter records it.
  bool unrecorded_commit = false;
  uint64_t unrecorded_files = 0;
  // Per-segment caches of ids and lengths (derived data outside the
  // manifest): compared in full with the segments they describe. Ignored
  // ones (damaged or stale) cost searchers a walk of the segment until the
  // next writer rewrites them; one a searcher would trust but that differs
  // from its segment is Corruption naming it.
  uint64_t segments = 0;
  uint64_t caches_sound = 0;
  std::vector<std::string> caches_ignored;  // segment names
  std::vector<std::string> caches_absent;   // segment names
};

// OK when every file the manifest covers matches it and every document reads
// back (including the state a crash between a commit and its manifest
// leaves: see unrecorded_commit). Corruption (naming the file) otherwise,
// including a missing manifest.
Result<CheckIndexReport> CheckIndex(const std::string& dir);

}  // namespace hymir::index

#endif  // HYMIR_INDEX_CHECK_INDEX_H_
