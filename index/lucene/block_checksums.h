// Private: per-block checksums of the large Lucene++ files of a commit, and a
// Lucene++ Directory that verifies each block the first time a query reads it.
//
// Lucene++ 3.0 files carry no checksums, and checksumming every byte of a
// large index at each open would cost about a second per GB. So at each
// commit the writer records, for every file of <index>/text larger than
// kChecksumOnOpenBytes, the CRC-32 (zlib) of each kBlockBytes block in a side
// file named after the commit and listed in the commit manifest:
//
//   <index>/BLOCKS_<N>   (N: the generation suffix of text/segments_<N>)
//   header : magic "HYMIRBLK" | u32 version (1) | u32 block bytes | u64 files
//   files  : per file: u32 name bytes | name (relative to the index
//            directory, "text/_0.frq") | u64 size | u32 crc32 of the whole
//            file | u64 blocks (= ceil(size / block bytes)) | blocks x u32
//            crc32 of each block
//   trailer: u32 crc32 of every byte above
// Integers little-endian.
//
// Readers open Lucene++ through a VerifyingDirectory holding the tables: a
// file with a table is memory-mapped, and each of its blocks is checksummed
// the first time any read touches it (one bit per block, shared by every
// IndexInput of that file, so the steady state costs a bit test per buffer
// refill). A mismatch throws CorruptIndexException naming the file and the
// block, which Guard turns into Status::Corruption. Files without a table
// (small ones, checksummed whole at open; or those of a commit the manifest
// does not cover) are read as SimpleFSDirectory reads them.
//
// Thread-safety: BlockTables are immutable; a VerifyingDirectory may be used
// from any number of threads (AddTables and openInput lock; reads of one
// file share an atomic bitmap).
#ifndef HYMIR_INDEX_LUCENE_BLOCK_CHECKSUMS_H_
#define HYMIR_INDEX_LUCENE_BLOCK_CHECKSUMS_H_

#include <lucene++/LuceneHeaders.h>
#include <lucene++/SimpleFSDirectory.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/result.h"

namespace hymir::index::internal {

inline constexpr uint32_t kBlockChecksumsVersion = 1;
// Block size of the tables this build writes (Default: 32 KiB: about 10 us of
// CRC on a block's first read, and 4 bytes of table per block).
inline constexpr uint32_t kBlockBytes = uint32_t{32} << 10;
inline constexpr const char* kBlockChecksumsPrefix = "BLOCKS_";

// The recorded checksums of one file.
struct FileBlocks {
  uint64_t size = 0;
  uint32_t crc = 0;  // of the whole file
  uint32_t block_bytes = 0;
  std::vector<uint32_t> blocks;  // crc32 of each block, the last one short
};

// By name relative to the index directory ("text/_0.frq").
using BlockTables = std::map<std::string, std::shared_ptr<const FileBlocks>>;

// "BLOCKS_<N>" for the commit "segments_<N>".
std::string BlockChecksumsName(const std::string& segments_file);

// Reads `path` whole, computing its crc32 and, when `blocks` is not null,
// the crc32 of each block of `block_bytes`.
Status ChecksumFile(const std::string& path, uint32_t block_bytes, uint32_t* crc, uint64_t* size,
                    std::vector<uint32_t>* blocks);

std::string SerializeBlockTables(const BlockTables& tables);
// Parses a side file; Corruption naming `path` when it is malformed (every
// count is bounded by the bytes left before anything is allocated).
Result<BlockTables> ParseBlockTables(const std::string& path, std::string_view bytes);

// A SimpleFSDirectory on <index>/text that verifies the blocks of the files
// it has tables for as they are read. Create with Lucene::newLucene.
class VerifyingDirectory : public Lucene::SimpleFSDirectory {
 public:
  // `text_dir`: the directory's path; tables are keyed as BlockTables
  // (with the "text/" prefix).
  explicit VerifyingDirectory(const std::string& text_dir);
  ~VerifyingDirectory() override;

  // Adds (or replaces) the tables of files; Refresh() adds those of a new
  // commit. Files already open keep the table they were opened with.
  void AddTables(const BlockTables& tables);

  Lucene::IndexInputPtr openInput(const Lucene::String& name) override;
  Lucene::IndexInputPtr openInput(const Lucene::String& name, int32_t buffer_size) override;

  struct MappedBlocks;  // one mapped file and its verified-block bitmap

 private:
  const std::string text_dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const FileBlocks>> tables_;  // GUARDED_BY(mu_), by file name
  std::map<std::string, std::weak_ptr<MappedBlocks>> open_;          // GUARDED_BY(mu_)
};

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_LUCENE_BLOCK_CHECKSUMS_H_
