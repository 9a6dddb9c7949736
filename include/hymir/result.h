// hymir::Result<T>: a value of type T or the Status explaining why there is none.
//
// Thread-safety: a value type; same rules as Status.
#ifndef HYMIR_RESULT_H_
#define HYMIR_RESULT_H_

#include <cassert>
#include <optional>
#include <utility>

#include "hymir/status.h"

namespace hymir {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit from a value (success) or from a non-OK Status (failure).
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result constructed from an OK Status without a value");
    if (status_.ok()) status_ = Status::Internal("Result constructed from OK status without a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // Precondition: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` on failure.
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace hymir

// Internal helpers for implementations and examples: propagate a failure.
#define HYMIR_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::hymir::Status hymir_status_ = (expr);        \
    if (!hymir_status_.ok()) return hymir_status_; \
  } while (0)

#define HYMIR_CONCAT_INNER_(a, b) a##b
#define HYMIR_CONCAT_(a, b) HYMIR_CONCAT_INNER_(a, b)
#define HYMIR_ASSIGN_OR_RETURN(lhs, expr) \
  HYMIR_ASSIGN_OR_RETURN_IMPL_(HYMIR_CONCAT_(hymir_result_, __LINE__), lhs, expr)
#define HYMIR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

#endif  // HYMIR_RESULT_H_
