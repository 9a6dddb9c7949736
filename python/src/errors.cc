// hymir::Status errors as Python exceptions: each code raises its subclass of
// hymir.Error (python/hymir/errors.py), which keeps the code and the message.
#include "python/src/common.h"

namespace hymir::python {

const char* CodeId(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kBusy:
      return "Busy";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kAlreadyExists:
      return "AlreadyExists";
    case Status::Code::kInternal:
      return "Internal";
  }
  return "Internal";
}

void RegisterErrors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      const char* code = CodeId(e.status().code());
      py::object cls = py::module_::import("hymir.errors").attr("error_class")(code);
      py::object error = cls(code, e.status().message());
      PyErr_SetObject(cls.ptr(), error.ptr());
    }
  });
  m.def(
      "_raise_status",
      [](const std::string& code, const std::string& message) {
        for (int c = 1; c <= static_cast<int>(Status::Code::kInternal); ++c) {
          if (code == CodeId(static_cast<Status::Code>(c))) {
            switch (static_cast<Status::Code>(c)) {
              case Status::Code::kInvalidArgument:
                Check(Status::InvalidArgument(message));
                break;
              case Status::Code::kNotFound:
                Check(Status::NotFound(message));
                break;
              case Status::Code::kCorruption:
                Check(Status::Corruption(message));
                break;
              case Status::Code::kIOError:
                Check(Status::IOError(message));
                break;
              case Status::Code::kBusy:
                Check(Status::Busy(message));
                break;
              case Status::Code::kNotSupported:
                Check(Status::NotSupported(message));
                break;
              case Status::Code::kAlreadyExists:
                Check(Status::AlreadyExists(message));
                break;
              default:
                Check(Status::Internal(message));
            }
          }
        }
        throw py::value_error("unknown status code " + code);
      },
      py::arg("code"), py::arg("message"),
      "Raises the hymir.Error of a C++ Status with this code and message (for tests of the translation).");
}

}  // namespace hymir::python
