#include "kg/store/rocksdb_status.h"

#include <string>

namespace hymir::kg::internal {

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(context) + ": " + s.ToString();
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return Status::NotFound(std::move(msg));
    case rocksdb::Status::kCorruption:
      return Status::Corruption(std::move(msg));
    case rocksdb::Status::kInvalidArgument:
      return Status::InvalidArgument(std::move(msg));
    case rocksdb::Status::kNotSupported:
      return Status::NotSupported(std::move(msg));
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
      return Status::Busy(std::move(msg));
    case rocksdb::Status::kIOError:
      // RocksDB reports a LOCK file held by another opener as an IOError.
      if (s.ToString().find("lock") != std::string::npos) return Status::Busy(std::move(msg));
      return Status::IOError(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

}  // namespace hymir::kg::internal
