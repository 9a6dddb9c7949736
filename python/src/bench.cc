// hymir._native._bench: the C++ side of bench/python_bench.py, timed in the
// same process as the Python calls it is compared with. Not a public API.
#include <chrono>
#include <string>
#include <vector>

#include "hymir/index/index_writer.h"
#include "hymir/ingest.h"
#include "python/src/common.h"
#include "python/src/holders.h"

namespace hymir::python {
namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Documents "<prefix><i>" with row i of an n x d matrix in `field`.
class MatrixSource : public DocumentSource {
 public:
  MatrixSource(std::string field, const std::vector<float>& data, size_t rows, size_t cols)
      : field_(std::move(field)), data_(data), rows_(rows), cols_(cols) {}
  Result<bool> Next(Document* doc) override {
    if (i_ == rows_) return false;
    *doc = Document();
    doc->id = "d" + std::to_string(i_);
    doc->vectors[field_].assign(data_.begin() + i_ * cols_, data_.begin() + (i_ + 1) * cols_);
    ++i_;
    return true;
  }
  std::string Where() const override { return "row " + std::to_string(i_); }

 private:
  std::string field_;
  const std::vector<float>& data_;
  size_t rows_, cols_, i_ = 0;
};

}  // namespace

void RegisterBench(py::module_& m) {
  py::module_ b = m.def_submodule("_bench", "The C++ side of bench/python_bench.py (not a public API).");
  b.def(
      "search_loop",
      [](const PyPipeline& p, const std::vector<std::string>& texts, size_t k, int rounds,
         const std::string& retriever) {
        return WithoutGil([&] {
          const auto t0 = std::chrono::steady_clock::now();
          for (int r = 0; r < rounds; ++r) {
            for (const std::string& text : texts) {
              QuerySpec spec = p.defaults;
              spec.text = text;
              spec.k = k;
              spec.retriever = retriever;
              auto q = p.pipeline->MakeQuery(spec);
              Check(q.status());
              auto res = p.pipeline->Search(*q, StageOptions{});
              Check(res.status());
            }
          }
          return Seconds(t0);
        });
      },
      py::arg("pipeline"), py::arg("texts"), py::arg("k") = 10, py::arg("rounds") = 1, py::arg("retriever") = "auto",
      "Seconds for `rounds` passes of Pipeline::Search over `texts` in C++ (default stages).");
  b.def(
      "ingest_loop",
      [](const std::string& dir, const std::string& field_spec, const std::string& field, const py::object& vectors,
         int threads) {
        MatrixView mv(vectors, "vectors");
        const std::vector<float> data(mv.data(), mv.data() + mv.rows() * mv.cols());  // C++'s own copy
        return WithoutGil([&] {
          const auto t0 = std::chrono::steady_clock::now();
          index::IndexWriterOptions o;
          o.vector_fields = {Unwrap(index::ParseVectorFieldSpec(field_spec))};
          auto writer = Unwrap(index::IndexWriter::Open(dir, o));
          MatrixSource source(field, data, mv.rows(), mv.cols());
          IngestOptions io;
          io.threads = threads;
          Unwrap(IngestDocuments(source, *writer, io));
          Check(writer->Commit());
          return Seconds(t0);
        });
      },
      py::arg("index_dir"), py::arg("field_spec"), py::arg("field"), py::arg("vectors"), py::arg("threads") = 1,
      "Seconds to open a new index with one vector field, ingest an n x d matrix (ids 'd0', 'd1', ...) through "
      "IngestDocuments and commit, in C++.");
}

}  // namespace hymir::python
