// Private: a whole file mapped read-only into memory. Included as
// "src/core/mapped_file.h".
//
// hymir replaces files by writing a new one and renaming it over the old
// (WriteFileAtomic), never by rewriting in place, so a mapping stays valid
// (it keeps the old inode) for as long as it lives. A file truncated in place
// by someone else while mapped would raise SIGBUS on access past its end;
// that is outside what hymir's guarantees cover.
//
// Thread-safety: immutable after Open; any number of threads may read.
#ifndef HYMIR_SRC_CORE_MAPPED_FILE_H_
#define HYMIR_SRC_CORE_MAPPED_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "hymir/result.h"

namespace hymir::internal {

class MappedFile {
 public:
  // Maps `path`; NotFound when absent, IOError otherwise. An empty file maps
  // to an empty view.
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(void* data, size_t size, std::string path) : data_(data), size_(size), path_(std::move(path)) {}
  void* data_;
  size_t size_;
  std::string path_;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_CORE_MAPPED_FILE_H_
