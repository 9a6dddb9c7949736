// The built-in LSA embedder as the indexing programs set it up (`hymir index
// --embed lsa:DIM`, `hymir-mpi index --embed lsa:DIM`): the vector field it
// fills, and the model trained on a corpus file.
#ifndef HYMIR_EXAMPLES_COMMON_EMBED_H_
#define HYMIR_EXAMPLES_COMMON_EMBED_H_

#include <hymir/index/lsa_embedder.h>
#include <hymir/index/vector_field.h>
#include <hymir/ingest.h>

#include <cstdio>
#include <string>

namespace hymir::app {

struct EmbedFlags {
  std::string embed;                // "lsa:DIM"; empty = no embedder
  std::string embed_index = "flat";  // ANN index of the field
  int power_iterations = -1;         // -1: LsaOptions default
  bool skip_bad = false;             // skip malformed corpus lines while training
};

// The vector field "lsa" that `embed` ("lsa:DIM") describes; InvalidArgument
// naming the flag otherwise.
inline Result<index::VectorFieldSpec> LsaFieldSpec(const EmbedFlags& f) {
  if (f.embed.rfind("lsa:", 0) != 0) return Status::InvalidArgument("--embed \"" + f.embed + "\": expected lsa:DIM");
  index::VectorFieldSpec spec;
  spec.name = "lsa";
  spec.embedder = "lsa";
  spec.metric = index::VectorMetric::kCosine;
  spec.index = f.embed_index;
  try {
    spec.dimension = std::stoul(f.embed.substr(4));
  } catch (...) {
    return Status::InvalidArgument("--embed \"" + f.embed + "\": DIM is not a number");
  }
  HYMIR_RETURN_IF_ERROR(index::ValidateVectorFieldSpec(spec));
  return spec;
}

// Trains the LSA model of `spec` on every document of `corpus`
// (hymir::TrainLsaOnCorpus) and saves it at `path`; progress lines go to
// stderr prefixed with `program`.
inline Status TrainLsa(const std::string& corpus, const EmbedFlags& f, const index::VectorFieldSpec& spec,
                       index::AnalyzerKind analyzer, const std::string& path, const char* program) {
  index::LsaOptions lsa;
  lsa.dimension = spec.dimension;
  lsa.analyzer = analyzer;
  if (f.power_iterations >= 0) lsa.power_iterations = f.power_iterations;
  return TrainLsaOnCorpus(corpus, lsa, path, f.skip_bad,
                          [program](const std::string& line) { std::fprintf(stderr, "%s: %s\n", program, line.c_str()); });
}

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_EMBED_H_
