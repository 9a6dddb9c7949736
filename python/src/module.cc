// hymir._native: the Python bindings of hymir (python/hymir/__init__.py
// re-exports them). One file per concept registers its part.
#include "hymir/version.h"
#include "python/src/common.h"

PYBIND11_MODULE(_native, m) {
  namespace hp = hymir::python;
  m.doc() = "hymir's C++ library bound for Python (import hymir instead).";
  m.attr("__version__") = hymir::VersionString();
  hp::RegisterErrors(m);
  hp::RegisterDocuments(m);
  hp::RegisterIndex(m);
  hp::RegisterPipeline(m);
  hp::RegisterKg(m);
  hp::RegisterTraining(m);
  hp::RegisterEvaluation(m);
  hp::RegisterMedia(m);
  hp::RegisterBench(m);
}
