// Private: the commit manifest, hymir's checksums for the files Lucene++ 3.0
// does not checksum. At every IndexWriter commit, <index>/MANIFEST is
// replaced atomically (temp file + fsync + rename + directory fsync) by a
// list of every file the commit consists of, relative to the index
// directory, with its size and CRC-32 (zlib):
//
//   hymir-commit-manifest 1
//   segments segments_<N>            the Lucene++ commit it describes
//   file <size> <crc32 hex> <name>   one per file: hymir.json, text/<every
//                                    file of the commit and segments.gen>,
//                                    vectors/<the generation's files, its
//                                    MANIFEST.g<N>.json and the .lsa models>,
//                                    BLOCKS_<N> (block_checksums.h), and the
//                                    files that change answers when present:
//                                    pipeline.json, fusion.json
//   crc32 <hex>                      CRC-32 of every byte above this line
//
// Readers verify it before they open Lucene++ (sizes of every file,
// checksums of files up to kChecksumOnOpenBytes, and the block checksums of
// larger text/ files, which a VerifyingDirectory then checks block by block
// as queries read them; a larger file without block checksums, as in an
// index written before them, is checksummed whole at open); `hymir check`
// verifies every byte and every block checksum. A last commit newer than the
// manifest (a crash between the Lucene++ commit and the manifest write, or a
// writer committing while a reader opens) or an index without a manifest
// (written before manifests existed) opens unverified; the next
// IndexWriter::Open records it. `hymir check` then checksums the files the
// manifest still covers and names the commit as unrecorded (it is durable:
// not damage).
//
// Thread-safety: free functions, safe to call concurrently; the writer is the
// only caller of WriteCommitManifest (it holds the index lock).
#ifndef HYMIR_INDEX_LUCENE_COMMIT_MANIFEST_H_
#define HYMIR_INDEX_LUCENE_COMMIT_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>

#include "hymir/result.h"
#include "index/lucene/block_checksums.h"

namespace hymir::index::internal {

inline constexpr const char* kCommitManifestFile = "MANIFEST";
inline constexpr int kCommitManifestVersion = 1;
// Files up to this size are checksummed on every open and refresh; larger
// ones only have their size checked (Default: 4 MiB; about 1 ms of CRC).
inline constexpr uint64_t kChecksumOnOpenBytes = uint64_t{4} << 20;

// Records the last Lucene++ commit of <dir>/text (and the vector generation
// it names) in <dir>/MANIFEST. Checksums of unchanged segment files are taken
// from the previous manifest (segment files are write-once).
Status WriteCommitManifest(const std::string& dir);

enum class VerifyLevel {
  kOpen,  // sizes of all files, checksums of small ones; no manifest = unverified
  kFull,  // every byte; a missing manifest is an error; one a commit behind
          // (a crash between commit and manifest write): every byte it still
          // covers, the rest reported as unrecorded
};

struct VerifyStats {
  bool verified = false;          // a manifest covered the last commit
  bool unrecorded = false;        // kFull: the last commit is newer than the manifest
  uint64_t unrecorded_files = 0;  // its files the manifest does not cover (not checksummed)
  uint64_t files = 0;             // files whose size was checked
  uint64_t bytes_checksummed = 0;
  bool blocks = false;          // the manifest lists block checksums
  uint64_t files_by_block = 0;  // files left to block-by-block verification
};

// Files of the vector directory (written once per generation, under names no
// later commit reuses: forward, values and vector files) a reader has
// checksummed whole, by name, with the size and crc32 they matched. A reader
// that verified one need not read it again while the next commit's manifest
// still lists it with the same size and crc32 (a reopen then costs what the
// commit changed; a forward file a delta applies to can be large).
// Thread-compatible.
using VerifiedFiles = std::map<std::string, std::pair<uint64_t, uint32_t>>;

// Verifies <dir> against its MANIFEST. Corruption names the damaged file.
// `tables` (optional) receives the block checksums of the files that were
// not checksummed whole, for a VerifyingDirectory: a reader that drops them
// reads those files unverified. `verified` (optional; kOpen only): files in
// it are checked by size only, and the files checksummed whole are added.
Status VerifyCommitManifest(const std::string& dir, VerifyLevel level, VerifyStats* stats = nullptr,
                            BlockTables* tables = nullptr, VerifiedFiles* verified = nullptr);

// Files next to the index that change its answers and are recorded in the
// manifest when present.
inline constexpr const char* kRecordedSideFiles[] = {"pipeline.json", "fusion.json"};

// Writes <dir>/<name> (one of kRecordedSideFiles) atomically and records it
// in the manifest of the last commit (when `contents` is null, removes the
// file and its record). Takes the index lock: Busy while an IndexWriter is
// open on <dir>.
Status WriteRecordedSideFile(const std::string& dir, const std::string& name, const std::string* contents);

// Checks the headers of the term dictionaries (.tis, .tii) in <dir>/text
// against their file sizes, before Lucene++ allocates what they claim (a
// flipped .tii header makes Lucene++ allocate until the process is killed).
Status CheckTermDictionaryHeaders(const std::string& dir);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_COMMIT_MANIFEST_H_
