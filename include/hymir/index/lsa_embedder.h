// LsaEmbedder: the built-in embedder, trained on the corpus itself with no
// external model (latent semantic analysis).
//
// Training: TF-IDF of each text (weight (1 + ln tf) * ln(N / df), rows
// L2-normalised; terms in at least min_df documents, at most max_vocabulary of
// them, most frequent by df), then a truncated randomized SVD A ~ U_k S_k V_k^T
// of the documents x terms matrix A (Halko, Martinsson & Tropp 2011: range
// finder with oversampling and power iterations, QR between iterations).
//
// Embedding (fold-in): v = tfidf(text) * V_k * S_k^sigma_power, then
// L2-normalised. With the default sigma_power = 0 a training document lands at
// its row of U_k S_k, the classic LSA document coordinates; sigma_power = -1
// gives its row of U_k (every latent direction weighted equally). Measured
// dense-only (brute-force cosine, 256 dimensions, english, test qrels),
// nDCG@10 for sigma_power 0 / -0.5 / -1:
//   scifact 0.536 / 0.550 / 0.553     mixed 0.340 / 0.352 / 0.359
//   cranfield 0.411 / 0.385 / 0.357   cisi 0.405 / 0.398 / 0.369
//   med 0.755 / 0.723 / 0.691         cacm 0.323 / 0.298 / 0.277
// S^-1 gains less than 0.02 where it wins and loses up to 0.06 where it loses
// (mean 0.461 / 0.451 / 0.434), hence the default 0.
//
// Cost: training holds 16 bytes per (document, distinct term) pair while the
// TF-IDF matrix is built, then 8 plus two vocabulary x (dimension +
// oversampling) float blocks during the SVD; the model is vocabulary x
// dimension floats. Measured (2 shared cores, dimension 256): scifact (5k
// docs) 1.1-2 s and 117 MB peak RSS; 1M synthetic docs x 40 tokens (100k
// terms) 100 s and 1.0 GB peak RSS, 0.35 GB of it the input texts.
//
// Thread-safety: Embed() and the accessors may be called concurrently. Train()
// and Load() build independent objects. Train() sets OpenBLAS's process-wide
// thread count to its own thread count (LsaOptions::threads) for its duration
// and restores it afterwards; its OpenMP loops never call BLAS, so the two
// pools do not oversubscribe each other.
#ifndef HYMIR_INDEX_LSA_EMBEDDER_H_
#define HYMIR_INDEX_LSA_EMBEDDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hymir/index/analyzer.h"
#include "hymir/index/embedder.h"
#include "hymir/result.h"

namespace hymir::index {

struct LsaOptions {
  // Embedding dimension k; must be below min(documents, vocabulary) and at
  // most the numerical rank of the TF-IDF matrix. Default: 256.
  size_t dimension = 256;
  // Analyzer for terms, also used for texts given to Embed(). Default: english.
  AnalyzerKind analyzer = AnalyzerKind::kEnglish;
  // Terms in fewer documents are dropped. Default: 2.
  uint32_t min_df = 2;
  // Vocabulary cap: the terms with the highest df are kept. Default: 200,000.
  size_t max_vocabulary = 200000;
  // Extra sketch columns of the range finder (Halko et al. 2011 §4.2 suggest
  // 5-10; more helps the slowly decaying spectra of text). Default: 16.
  size_t oversampling = 16;
  // Power (subspace) iterations, each one more pass A^T A over the corpus
  // (Halko et al. §4.5). More iterations give a more exact SVD but, measured
  // on the train splits, worse retrieval: dense-only nDCG@10 on scifact train
  // 0.574 with 0 vs 0.517 with 2, mixed train 0.467 vs 0.346 (a rougher
  // sketch keeps more word-level detail). Default: 0.
  int power_iterations = 0;
  // Seed of the Gaussian test matrix. Same texts + options (threads included)
  // -> bitwise the same model; another thread count changes only OpenBLAS's
  // rounding (~1e-5 with power iterations; without them, vectors of nearly
  // equal singular values can rotate more). Default: 42.
  uint64_t seed = 42;
  // Threads for analysis and the sparse products; 0 = OpenMP's default (the
  // hardware threads, or OMP_NUM_THREADS). Default: 0.
  int threads = 0;
  // Exponent of the singular values in the fold-in: v = tfidf * V_k * S_k^p.
  // 0 = LSA document coordinates (U_k S_k); -1 = U_k. Default: 0 (measured
  // above). Baked into the saved model.
  float sigma_power = 0.0f;
};

struct LsaTrainStats {
  size_t documents = 0;
  size_t vocabulary = 0;               // terms kept
  size_t nonzeros = 0;                 // (document, term) pairs in the TF-IDF matrix
  double analysis_seconds = 0;         // tokenising, vocabulary, TF-IDF matrix
  double svd_seconds = 0;              // randomized SVD
  double seconds = 0;                  // total
  std::vector<float> singular_values;  // top k, descending
};

class LsaEmbedder final : public Embedder {
 public:
  // Trains on `texts` (e.g. title + " " + text of every document).
  // InvalidArgument when there are no texts, no term passes min_df, dimension
  // is 0 or not below min(documents, vocabulary), or dimension exceeds the
  // numerical rank of the TF-IDF matrix.
  static Result<std::unique_ptr<LsaEmbedder>> Train(const std::vector<std::string>& texts, const LsaOptions& options,
                                                    LsaTrainStats* stats = nullptr);

  // Writes the model to `path` (temp file, fsync, rename). Layout
  // (little-endian):
  //   header  "HYMIRLSA" | u32 version | u32 dimension | u64 vocabulary |
  //           u32 analyzer | u64 payload size | u32 crc32(payload)
  //   version 2 when the analyzer is english, stored as its AnalyzerKind
  //   value; otherwise version 1 (readable by builds before version 2), whose
  //   analyzer 0 means english-lucenepp30 (1 standard, 2 whitespace).
  //   payload vocabulary x (u32 length, UTF-8 term), terms sorted |
  //           vocabulary x f32 idf | vocabulary x dimension f32 fold-in matrix
  //           (V_k S_k^sigma_power, row-major)
  Status Save(const std::string& path) const;

  // Reads a model written by Save(). Magic, version, sizes and checksum are
  // validated before any size is trusted: Corruption (damaged or not a model)
  // or NotSupported (other format version), naming `path`; NotFound if absent.
  static Result<std::unique_ptr<LsaEmbedder>> Load(const std::string& path);

  ~LsaEmbedder() override;

  size_t dimension() const override;
  // "lsa:<dimension>".
  std::string name() const override;
  // texts.size() x dimension() floats into `out`, row-major, L2-normalised;
  // zeros for a text without any vocabulary term. Large batches (>= 256
  // texts) are embedded with OpenMP threads.
  Status Embed(const std::vector<std::string>& texts, float* out) const override;

  size_t vocabulary_size() const;
  // The analyzer of the training texts, which Embed() applies too: a model
  // saved as version 1 with "english" (analyzer 0) reports
  // english-lucenepp30, the chain its vocabulary came from.
  AnalyzerKind analyzer() const;

  struct Model;  // private

 private:
  explicit LsaEmbedder(std::unique_ptr<const Model> model);
  std::unique_ptr<const Model> model_;
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_LSA_EMBEDDER_H_
