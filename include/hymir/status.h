// hymir::Status: the outcome of an operation, returned by every fallible call in
// the public API. No exception crosses the API; backend exceptions are converted
// to a Status whose message names the place (path, line, field, document id).
//
// Thread-safety: a Status is a value type. Distinct objects may be used from
// different threads; const methods on one object may be called concurrently.
#ifndef HYMIR_STATUS_H_
#define HYMIR_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace hymir {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument,  // bad input from the caller: malformed line, unknown field
    kNotFound,         // a file, document or key that does not exist
    kCorruption,       // stored data fails validation (checksum, format, parse)
    kIOError,          // the operating system refused a read, write or sync
    kBusy,             // a resource is held by someone else (index write lock)
    kNotSupported,     // valid request the implementation cannot serve
    kAlreadyExists,    // creating something that already exists
    kInternal,         // a bug or an unexpected backend failure
  };

  // The default Status is OK.
  Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status NotSupported(std::string msg) { return Status(Code::kNotSupported, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  // "OK" or "<Code name>: <message>".
  std::string ToString() const;

  static const char* CodeName(Code code);

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace hymir

#endif  // HYMIR_STATUS_H_
