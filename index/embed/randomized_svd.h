// Private: truncated randomized SVD of a sparse matrix, the numerical core of
// the LSA embedder. Included as "index/embed/randomized_svd.h".
//
// Thread-safety: functions are reentrant; they parallelise internally with
// OpenMP and call (possibly multithreaded) OpenBLAS only outside their own
// parallel regions.
#ifndef HYMIR_INDEX_EMBED_RANDOMIZED_SVD_H_
#define HYMIR_INDEX_EMBED_RANDOMIZED_SVD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hymir/result.h"

namespace hymir::index::internal {

// A rows x cols float matrix in compressed sparse row form. Memory:
// 8 bytes per nonzero + 8 bytes per row.
struct CsrMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<uint64_t> row_ptr;  // rows + 1 offsets into col/val
  std::vector<uint32_t> col;      // column of each nonzero
  std::vector<float> val;         // value of each nonzero
};

struct SvdOptions {
  size_t rank = 0;           // k, the number of singular triplets kept
  size_t oversampling = 16;  // extra sketch columns: the sketch has l = k + oversampling
  int power_iterations = 2;  // q in Halko et al. 2011, Algorithm 4.4
  uint64_t seed = 42;        // the Gaussian test matrix is a pure function of (seed, row, column)
  int threads = 1;           // OpenMP threads of the sparse products and OpenBLAS threads (>= 1)
};

struct TruncatedSvd {
  std::vector<float> singular_values;  // k, descending
  std::vector<float> v;                // cols x k, row-major; orthonormal columns (right singular vectors)
};

// Top-k right singular vectors and singular values of `a`.
//
// Halko, Martinsson & Tropp, "Finding structure with randomness" (SIAM Review
// 2011), Algorithm 4.4 (randomized subspace iteration) run on A^T, so every
// dense block is cols x l and nothing of size rows x l is ever stored:
//   Y = A^T Omega (Omega: rows x l Gaussian, generated on the fly)
//   repeat q times: Q = qr(Y); Y = A^T (A Q)
//   Q = qr(Y); C = Q^T A^T A Q (l x l); C = W diag(lambda) W^T
//   sigma = sqrt(lambda), V = Q W          (Rayleigh-Ritz, as "eigSVD" in
//   Feng et al., "Fast randomized PCA for sparse data", ACML 2018)
// The sparse products give the same bits for every thread count; OpenBLAS
// (QR, the two dense products), run with options.threads threads, rounds
// differently per thread count, so results across thread counts agree to
// float round-off only.
//
// Preconditions (checked, InvalidArgument): 0 < rank < min(rows, cols).
// l is clamped to min(rows, cols).
Result<TruncatedSvd> RandomizedSvd(const CsrMatrix& a, const SvdOptions& options);

// y (cols x l, row-major) = A^T (A x), x (cols x l, row-major). Parallel over
// column slices of x, so the result is identical for every thread count.
void GramTimes(const CsrMatrix& a, const float* x, size_t l, float* y, int threads);

// Replaces the columns of the row-major m x n matrix `y` (m >= n) by an
// orthonormal basis of their span (Householder QR via LAPACK).
Status OrthonormalizeColumns(float* y, size_t m, size_t n);

}  // namespace hymir::index::internal

#endif  // HYMIR_INDEX_EMBED_RANDOMIZED_SVD_H_
