// Private: the LAPACK routines hymir calls, as exported (Fortran ABI) by
// libopenblas.so. Debian 12 ships no lapacke.h, so they are declared here.
// All matrices are column-major; every argument is passed by pointer; the
// hidden string-length arguments of character parameters are omitted, which
// is safe for single-character flags with gfortran-built LAPACK.
#ifndef HYMIR_INDEX_EMBED_LAPACK_H_
#define HYMIR_INDEX_EMBED_LAPACK_H_

extern "C" {
// QR factorisation of an m x n matrix, and forming its m x n orthonormal Q.
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork,
             int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work,
             const int* lwork, int* info);
// Cholesky factorisation of a symmetric positive definite matrix; info > 0
// when it is not (numerically) positive definite.
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
// Eigen-decomposition of a symmetric matrix (divide and conquer); eigenvalues ascending.
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
// Full SVD (divide and conquer); singular values descending.
void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu,
             float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info);
}

#endif  // HYMIR_INDEX_EMBED_LAPACK_H_
