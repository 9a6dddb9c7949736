#include "src/core/file_util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

namespace hymir::internal {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

// flock() locks are per open file description, so two FileLocks in one process
// on the same path would both succeed; track held paths to refuse that too.
std::mutex& HeldMutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& HeldPaths() {
  static std::set<std::string> s;
  return s;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": " + ErrnoText());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return ss.str();
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::IOError(dir + ": open for fsync: " + ErrnoText());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError(dir + ": fsync: " + ErrnoText());
  return Status::OK();
}

Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Status::IOError(tmp + ": " + ErrnoText());
  size_t off = 0;
  while (off < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string err = ErrnoText();
      ::close(fd);
      return Status::IOError(tmp + ": write: " + err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string err = ErrnoText();
    ::close(fd);
    return Status::IOError(tmp + ": fsync: " + err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError(path + ": rename: " + ErrnoText());
  }
  return SyncDirectory(DirName(path));
}

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path) {
  {
    std::lock_guard<std::mutex> g(HeldMutex());
    if (HeldPaths().count(path)) {
      return Status::Busy(path + ": already locked by this process (one writer per index directory)");
    }
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd < 0) return Status::IOError(path + ": " + ErrnoText());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) {
      return Status::Busy(path + ": locked by another process (one writer per index directory)");
    }
    return Status::IOError(path + ": flock: " + std::strerror(e));
  }
  std::lock_guard<std::mutex> g(HeldMutex());
  if (!HeldPaths().insert(path).second) {
    ::close(fd);
    return Status::Busy(path + ": already locked by this process (one writer per index directory)");
  }
  return std::unique_ptr<FileLock>(new FileLock(fd, path));
}

FileLock::~FileLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  std::lock_guard<std::mutex> g(HeldMutex());
  HeldPaths().erase(path_);
}

}  // namespace hymir::internal
