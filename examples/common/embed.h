// The built-in LSA embedder as the indexing programs set it up (`hymir index
// --embed lsa:DIM`, `hymir-mpi index --embed lsa:DIM`): the vector field it
// fills, and the model trained on a corpus file.
#ifndef HYMIR_EXAMPLES_COMMON_EMBED_H_
#define HYMIR_EXAMPLES_COMMON_EMBED_H_

#include <hymir/index/analyzer.h>
#include <hymir/index/lsa_embedder.h>
#include <hymir/index/vector_field.h>
#include <hymir/result.h>

#include <string>

namespace hymir::app {

struct EmbedFlags {
  std::string embed;                 // "lsa:DIM"; empty = no embedder
  std::string embed_index = "flat";  // ANN index of the field
  int power_iterations = -1;         // -1: LsaOptions default
  bool skip_bad = false;             // skip malformed corpus lines while training
};

// The vector field "lsa" that `embed` ("lsa:DIM") describes; InvalidArgument
// naming the flag otherwise.
Result<index::VectorFieldSpec> LsaFieldSpec(const EmbedFlags& f);

// The LSA options of `spec` and the flags.
index::LsaOptions LsaOptionsFor(const EmbedFlags& f, const index::VectorFieldSpec& spec, index::AnalyzerKind analyzer);

// Trains the LSA model of `spec` on every document of `corpus`
// (hymir::TrainLsaOnCorpus) and saves it at `path`; progress lines go to
// stderr prefixed with `program`.
Status TrainLsa(const std::string& corpus, const EmbedFlags& f, const index::VectorFieldSpec& spec,
                index::AnalyzerKind analyzer, const std::string& path, const char* program);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_EMBED_H_
