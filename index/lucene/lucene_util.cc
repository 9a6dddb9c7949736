#include "index/lucene/lucene_util.h"

namespace hymir::index::internal {

Status FromLucene(const Lucene::LuceneException& e, const std::string& where) {
  std::string msg = where + ": " + Utf8(e.getError());
  using T = Lucene::LuceneException;
  switch (e.getType()) {
    case T::CorruptIndex:
    case T::FieldReader:
    case T::Compression:
      return Status::Corruption(msg);
    case T::FileNotFound:
    case T::NoSuchDirectory:
      return Status::NotFound(msg);
    case T::IO:
      // Lucene++ reports truncated or garbled files as IO errors ("read past EOF").
      if (msg.find("ead past EOF") != std::string::npos) {  // "Read past EOF" / "read past EOF"
        return Status::Corruption(msg + " (a truncated or damaged index file)");
      }
      return Status::IOError(msg);
    case T::LockObtainFailed:
      return Status::Busy(msg);
    case T::IllegalArgument:
    case T::NumberFormat:
      return Status::InvalidArgument(msg);
    default:
      return Status::Internal(msg);
  }
}

}  // namespace hymir::index::internal
