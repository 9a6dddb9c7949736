// The built-in LSA embedder as the indexing programs set it up (`hymir index
// --embed lsa:DIM`, `hymir-mpi index --embed lsa:DIM`): the vector field it
// fills, and the model trained on a corpus file.
#ifndef HYMIR_EXAMPLES_COMMON_EMBED_H_
#define HYMIR_EXAMPLES_COMMON_EMBED_H_

#include <hymir/beir.h>
#include <hymir/index/lsa_embedder.h>
#include <hymir/index/vector_field.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

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

// Trains the LSA model of `spec` on every document of `corpus` (title and
// text, in file order) and saves it at `path` (directories created).
inline Status TrainLsa(const std::string& corpus, const EmbedFlags& f, const index::VectorFieldSpec& spec,
                       index::AnalyzerKind analyzer, const std::string& path, const char* program) {
  auto reader = CorpusReader::Open(corpus);
  if (!reader.ok()) return reader.status();
  std::vector<std::string> texts;
  Document doc;
  while (true) {
    auto next = (*reader)->Next(&doc);
    if (!next.ok()) {
      if (f.skip_bad && next.status().IsInvalidArgument()) continue;
      return next.status();
    }
    if (!*next) break;
    texts.push_back(doc.title + " " + doc.text);
  }
  index::LsaOptions lsa;
  lsa.dimension = spec.dimension;
  lsa.analyzer = analyzer;
  if (f.power_iterations >= 0) lsa.power_iterations = f.power_iterations;
  const auto start = std::chrono::steady_clock::now();
  std::fprintf(stderr, "%s: training lsa:%zu on %zu documents\n", program, spec.dimension, texts.size());
  auto embedder = index::LsaEmbedder::Train(texts, lsa);
  if (!embedder.ok()) return embedder.status();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  HYMIR_RETURN_IF_ERROR((*embedder)->Save(path));
  std::fprintf(stderr, "%s: trained lsa:%zu in %.1f s\n", program, spec.dimension,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return Status::OK();
}

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_EMBED_H_
