// Private: the KG's commit record, hymir's own account of a closed KG, so that
// damage RocksDB accepts (a MANIFEST cut at a record boundary reads as an
// older, shorter MANIFEST) is refused before RocksDB recovers or compacts
// anything. <kg>/HYMIR-KG-COMMIT is replaced atomically (temp file + fsync +
// rename + directory fsync):
//
//   hymir-kg-commit 1
//   state clean | writing            clean: written by a writer's Close();
//                                    writing: a writer has the KG open (or
//                                    was killed with it open)
//   counts <triples> <terms> <subjects> <relations> <alias triples>   clean only
//   current <CURRENT's contents without the newline>                  clean only
//   file <size> <crc32 hex> <name>   clean only: the MANIFEST CURRENT names,
//                                    every .sst and .log file after the close
//   crc32 <hex>                      CRC-32 (zlib) of every byte above this line
//
// A clean record is verified before RocksDB opens the KG (every byte of every
// file it names); a KG whose record says `writing`, or that has no record (a
// KG written before records existed), is verified by a full scan instead
// (VerifyByScan in rocksdb_triple_store.cc).
//
// Thread-safety: free functions; the writer (holding the KG's lock) is the
// only caller of WriteCommitRecord.
#ifndef HYMIR_KG_STORE_COMMIT_RECORD_H_
#define HYMIR_KG_STORE_COMMIT_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hymir/result.h"
#include "hymir/status.h"

namespace hymir::kg::internal {

inline constexpr const char* kCommitRecordFile = "HYMIR-KG-COMMIT";
inline constexpr int kCommitRecordVersion = 1;

// What a full scan counts; equal to the record's counts in a clean KG.
struct KgCounts {
  uint64_t triples = 0;
  uint64_t terms = 0;
  uint64_t subjects = 0;
  uint64_t relations = 0;
  uint64_t alias_triples = 0;

  friend bool operator==(const KgCounts&, const KgCounts&) = default;
};

struct CommitRecord {
  struct File {
    std::string name;  // relative to the KG directory
    uint64_t size = 0;
    uint32_t crc = 0;
  };
  bool clean = false;
  KgCounts counts;      // clean only
  std::string current;  // clean only: CURRENT's contents (the MANIFEST's name)
  std::vector<File> files;
};

// The record of `dir`; std::nullopt when there is none. Corruption naming the
// record file when it is damaged.
Result<std::optional<CommitRecord>> ReadCommitRecord(const std::string& dir);

// Replaces the record atomically.
Status WriteCommitRecord(const std::string& dir, const CommitRecord& record);

// A clean record of `dir` as it is on disk now (no process may have the KG
// open): CURRENT, the MANIFEST it names, every .sst and .log file.
Result<CommitRecord> RecordDirectory(const std::string& dir, const KgCounts& counts);

// Checks a clean record against the files: CURRENT's contents, then size and
// CRC-32 of every file it names. Corruption naming the first file that
// differs and how.
Status VerifyCommitRecord(const std::string& dir, const CommitRecord& record);

}  // namespace hymir::kg::internal

#endif  // HYMIR_KG_STORE_COMMIT_RECORD_H_
