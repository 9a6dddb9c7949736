// Test helper process: indexes generated documents forever, committing every
// --every documents and printing the committed count after each commit, until
// killed. Used by the SIGKILL crash tests (a fresh process: forking a test
// process that already runs OpenMP threads would deadlock the child).
//   crash_writer DIR EVERY [vectors]
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "hymir/index/index_writer.h"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string dir = argv[1];
  const int every = std::atoi(argv[2]);
  const bool vectors = argc > 3 && std::string(argv[3]) == "vectors";
  hymir::index::IndexWriterOptions options;
  if (vectors) {
    hymir::index::VectorFieldSpec spec;
    spec.name = "emb";
    spec.dimension = 16;
    spec.index = "hnsw16";
    options.vector_fields = {spec};
  }
  auto w = hymir::index::IndexWriter::Open(dir, options);
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
    return 3;
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0, 1);
  for (int i = 0;; ++i) {
    hymir::Document d;
    d.id = "doc" + std::to_string(i);
    d.title = "title " + std::to_string(i);
    d.text = "body of document " + std::to_string(i) + " with some filler words";
    if (vectors) {
      std::vector<float> v(16);
      for (auto& x : v) x = n(rng);
      d.vectors["emb"] = v;
    }
    if (!(*w)->Upsert(d).ok()) return 4;
    if (i % every == every - 1) {
      if (!(*w)->Commit().ok()) return 5;
      std::printf("%d\n", i + 1);
      std::fflush(stdout);
    }
  }
}
