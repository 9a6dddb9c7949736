// Private file helpers: atomic replace of small files, directory fsync and an
// advisory process lock. Included as "src/core/file_util.h".
#ifndef HYMIR_SRC_CORE_FILE_UTIL_H_
#define HYMIR_SRC_CORE_FILE_UTIL_H_

#include <memory>
#include <string>

#include "hymir/result.h"

namespace hymir::internal {

// Reads a whole file. NotFound when absent.
Result<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` atomically: temp file in the same directory,
// fsync, rename over `path`, fsync the directory. A crash leaves either the old
// or the new contents, never a mix.
Status WriteFileAtomic(const std::string& path, const std::string& contents);

Status SyncDirectory(const std::string& dir);

// An exclusive advisory lock (flock) on `path`, held until destruction. The
// kernel releases it when the process dies, so a SIGKILLed writer never leaves
// a stale lock behind.
class FileLock {
 public:
  // Busy when another process or another FileLock in this process holds it.
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_CORE_FILE_UTIL_H_
