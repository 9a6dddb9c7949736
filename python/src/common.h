// Shared helpers of the Python bindings: turning a hymir::Status into a
// Python exception, running C++ without the GIL, and reading NumPy arrays.
#ifndef HYMIR_PYTHON_SRC_COMMON_H_
#define HYMIR_PYTHON_SRC_COMMON_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hymir/document.h"
#include "hymir/result.h"
#include "hymir/status.h"

namespace hymir::python {

namespace py = pybind11;

// A non-OK Status on its way to Python: the translator registered by
// RegisterErrors() raises the hymir.Error subclass of its code.
class StatusError : public std::exception {
 public:
  explicit StatusError(Status status) : status_(std::move(status)), what_(status_.ToString()) {}
  const Status& status() const { return status_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  Status status_;
  std::string what_;
};

// Throws StatusError for a non-OK status.
inline void Check(const Status& s) {
  if (!s.ok()) throw StatusError(s);
}
// The value of `r`, or StatusError.
template <typename T>
T Unwrap(Result<T>&& r) {
  if (!r.ok()) throw StatusError(std::move(r).status());
  return std::move(r).value();
}

// Runs `f` with the GIL released (the search, ingest and training calls):
// other Python threads run meanwhile. `f` must not touch Python objects.
template <typename F>
auto WithoutGil(F&& f) -> decltype(f()) {
  py::gil_scoped_release release;
  return f();
}

// Python exceptions raised by callbacks and iterators while the GIL is
// released: the first is kept and raised when the C++ call returns.
class PendingError {
 public:
  // Runs `f` with the GIL; keeps the Python error it raises. Call with the
  // GIL released.
  template <typename F>
  bool Run(F&& f) {
    py::gil_scoped_acquire gil;
    if (error_) return false;
    try {
      f();
      return true;
    } catch (py::error_already_set& e) {
      error_ = std::make_unique<py::error_already_set>(std::move(e));
    } catch (const std::exception& e) {
      error_ = std::make_unique<py::error_already_set>(
          (PyErr_SetString(PyExc_RuntimeError, e.what()), py::error_already_set()));
    }
    has_error_ = true;
    return false;
  }
  bool has_error() const { return has_error_.load(); }
  // With the GIL held.
  void RaiseIfAny() {
    if (error_) {
      auto e = std::move(error_);
      e->restore();
      throw py::error_already_set();
    }
  }
  ~PendingError() {
    if (error_) {
      py::gil_scoped_acquire gil;
      error_.reset();
    }
  }

 private:
  std::unique_ptr<py::error_already_set> error_;
  std::atomic<bool> has_error_{false};
};

// The stable name of a status code, as hymir.Error.code gives it
// ("InvalidArgument", "NotFound", ...).
const char* CodeId(Status::Code code);

// The floats of a 1-D float32 array (or any object with the buffer protocol
// or a sequence of numbers, converted once), as a borrowed span when it is a
// contiguous float32 buffer. `what` names the argument in errors.
class FloatView {
 public:
  FloatView(const py::handle& object, const char* what);
  std::span<const float> span() const { return span_; }
  std::vector<float> vector() const { return {span_.begin(), span_.end()}; }

 private:
  py::array_t<float, py::array::c_style | py::array::forcecast> array_;
  std::span<const float> span_;
};

// A 2-D row-major float32 matrix (n x d), borrowed when the array is already
// C-contiguous float32 (no copy), converted once otherwise.
class MatrixView {
 public:
  MatrixView(const py::handle& object, const char* what);
  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  std::span<const float> row(size_t i) const { return {data_ + i * cols_, cols_}; }
  const float* data() const { return data_; }

 private:
  py::array_t<float, py::array::c_style | py::array::forcecast> array_;
  const float* data_ = nullptr;
  size_t rows_ = 0, cols_ = 0;
};

// A new 1-D float32 NumPy array holding `v` (moved in, no copy).
py::array_t<float> ToArray(std::vector<float> v);

// None -> [], a str -> [it], an iterable of str -> its items; TypeError
// naming `what` otherwise (documents.cc).
std::vector<std::string> StringList(const py::handle& object, const char* what);

// Documents between Python dicts and hymir::Document (documents.cc).
Document DocumentFromDict(const py::handle& object);
py::dict DocumentToDict(const Document& doc);

// Registration of each concept's bindings (one file each).
void RegisterErrors(py::module_& m);
void RegisterDocuments(py::module_& m);
void RegisterIndex(py::module_& m);
void RegisterPipeline(py::module_& m);
void RegisterKg(py::module_& m);
void RegisterTraining(py::module_& m);
void RegisterEvaluation(py::module_& m);
void RegisterMedia(py::module_& m);
void RegisterBench(py::module_& m);

}  // namespace hymir::python

#endif  // HYMIR_PYTHON_SRC_COMMON_H_
