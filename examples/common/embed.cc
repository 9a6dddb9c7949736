#include "common/embed.h"

#include <hymir/ingest.h>

#include <cstdio>

namespace hymir::app {

Result<index::VectorFieldSpec> LsaFieldSpec(const EmbedFlags& f) {
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

index::LsaOptions LsaOptionsFor(const EmbedFlags& f, const index::VectorFieldSpec& spec, index::AnalyzerKind analyzer) {
  index::LsaOptions lsa;
  lsa.dimension = spec.dimension;
  lsa.analyzer = analyzer;
  if (f.power_iterations >= 0) lsa.power_iterations = f.power_iterations;
  return lsa;
}

Status TrainLsa(const std::string& corpus, const EmbedFlags& f, const index::VectorFieldSpec& spec,
                index::AnalyzerKind analyzer, const std::string& path, const char* program) {
  return TrainLsaOnCorpus(
      corpus, LsaOptionsFor(f, spec, analyzer), path, f.skip_bad,
      [program](const std::string& line) { std::fprintf(stderr, "%s: %s\n", program, line.c_str()); });
}

}  // namespace hymir::app
