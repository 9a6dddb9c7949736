// LsaEmbedder: the built-in embedder, trained on the corpus itself with no
// external model (latent semantic analysis).
//
// Training: TF-IDF of title + text (weight (1 + ln tf) * ln(N / df), rows
// L2-normalised, terms with df >= min_df, at most max_vocabulary terms by df),
// then a truncated randomized SVD of the documents x terms matrix (Halko,
// Martinsson and Tropp 2011: range finder with oversampling and power
// iterations, QR between iterations; the small eigenproblem of B^T B with
// LAPACK). A text is embedded by folding in: v = tfidf(text) * V_k, then
// L2-normalised (documents land at their rows of U_k * S_k, the standard LSA
// document coordinates; cosine between them is LSA similarity).
//
// Thread-safety: Embed() may be called concurrently; Train() and Load() build
// independent objects.
#ifndef HYMIR_INDEX_LSA_EMBEDDER_H_
#define HYMIR_INDEX_LSA_EMBEDDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hymir/index/analyzer.h"
#include "hymir/index/embedder.h"
#include "hymir/result.h"

namespace hymir::index {

struct LsaOptions {
  // Embedding dimension k. Default: 256.
  size_t dimension = 256;
  // Analyzer for terms. Default: english (stemmed, stop words removed).
  AnalyzerKind analyzer = AnalyzerKind::kEnglish;
  // Terms in fewer documents are dropped. Default: 2.
  uint32_t min_df = 2;
  // Vocabulary cap (most frequent terms by df). Default: 200,000.
  size_t max_vocabulary = 200000;
  // Extra random directions of the range finder (Halko et al.: 5-20). Default: 16.
  size_t oversampling = 16;
  // Power iterations, for slowly decaying spectra. Default: 2.
  int power_iterations = 2;
  uint64_t seed = 42;
};

struct LsaTrainStats {
  size_t documents = 0;
  size_t vocabulary = 0;
  size_t nonzeros = 0;
  double seconds = 0;
  std::vector<float> singular_values;  // top k, descending
};

class LsaEmbedder final : public Embedder {
 public:
  // InvalidArgument when there are no documents, no term passes min_df, or
  // dimension >= min(documents, vocabulary).
  static Result<std::unique_ptr<LsaEmbedder>> Train(const std::vector<std::string>& texts,
                                                    const LsaOptions& options, LsaTrainStats* stats = nullptr);
  // Writes the model (temp file, fsync, rename). Layout: header {magic
  // "HYMIRLSA", version, dimension, vocabulary size, analyzer, payload size,
  // payload crc32} | terms | idf | basis (vocabulary x dimension floats).
  Status Save(const std::string& path) const;
  // Validates magic, version, sizes and checksum before trusting anything;
  // Corruption / NotSupported errors name the path.
  static Result<std::unique_ptr<LsaEmbedder>> Load(const std::string& path);

  size_t dimension() const override { return dim_; }
  std::string name() const override { return "lsa:" + std::to_string(dim_); }
  Status Embed(const std::vector<std::string>& texts, float* out) const override;

  size_t vocabulary_size() const { return terms_.size(); }
  AnalyzerKind analyzer() const { return analyzer_; }

 private:
  LsaEmbedder() = default;
  void BuildLookup();

  size_t dim_ = 0;
  AnalyzerKind analyzer_ = AnalyzerKind::kEnglish;
  std::vector<std::string> terms_;
  std::vector<float> idf_;    // by term
  std::vector<float> basis_;  // terms x dim_, row-major
  std::unordered_map<std::string, uint32_t> lookup_;
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_LSA_EMBEDDER_H_
