#include "hymir/status.h"

namespace hymir {

const char* Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "Invalid argument";
    case Code::kNotFound:
      return "Not found";
    case Code::kCorruption:
      return "Corruption";
    case Code::kIOError:
      return "IO error";
    case Code::kBusy:
      return "Busy";
    case Code::kNotSupported:
      return "Not supported";
    case Code::kAlreadyExists:
      return "Already exists";
    case Code::kInternal:
      return "Internal error";
  }
  return "Unknown";
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = CodeName(code_);
  out += ": ";
  out += message_;
  return out;
}

}  // namespace hymir
