#include "hymir/index/lsa_embedder.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "src/core/crc32.h"
#include "src/core/file_util.h"

// LAPACK (Fortran symbols exported by libopenblas; Debian ships no lapacke.h).
extern "C" {
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork,
             int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work,
             const int* lwork, int* info);
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
}

namespace hymir::index {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'L', 'S', 'A'};
constexpr uint32_t kVersion = 1;

#pragma pack(push, 1)
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t dimension;
  uint64_t vocabulary;
  uint32_t analyzer;
  uint64_t payload_size;
  uint32_t payload_crc;
};
#pragma pack(pop)

// Sparse documents x terms matrix, row-major (CSR), with its transpose (CSC).
struct Sparse {
  size_t rows = 0, cols = 0;
  std::vector<uint64_t> row_ptr;
  std::vector<uint32_t> col;
  std::vector<float> val;
  std::vector<uint64_t> col_ptr;
  std::vector<uint32_t> row;
  std::vector<float> cval;

  void BuildTranspose() {
    col_ptr.assign(cols + 1, 0);
    for (uint32_t c : col) ++col_ptr[c + 1];
    for (size_t c = 0; c < cols; ++c) col_ptr[c + 1] += col_ptr[c];
    row.resize(col.size());
    cval.resize(col.size());
    std::vector<uint64_t> next(col_ptr.begin(), col_ptr.end() - 1);
    for (size_t r = 0; r < rows; ++r) {
      for (uint64_t i = row_ptr[r]; i < row_ptr[r + 1]; ++i) {
        const uint64_t at = next[col[i]]++;
        row[at] = static_cast<uint32_t>(r);
        cval[at] = val[i];
      }
    }
  }
};

// out (rows x l) = A (rows x cols) * in (cols x l).
void MulA(const Sparse& a, const float* in, size_t l, float* out) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t r = 0; r < static_cast<int64_t>(a.rows); ++r) {
    float* o = out + r * l;
    std::fill(o, o + l, 0.0f);
    for (uint64_t i = a.row_ptr[r]; i < a.row_ptr[r + 1]; ++i) {
      cblas_saxpy(static_cast<int>(l), a.val[i], in + static_cast<size_t>(a.col[i]) * l, 1, o, 1);
    }
  }
}

// out (cols x l) = A^T (cols x rows) * in (rows x l).
void MulAT(const Sparse& a, const float* in, size_t l, float* out) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t c = 0; c < static_cast<int64_t>(a.cols); ++c) {
    float* o = out + c * l;
    std::fill(o, o + l, 0.0f);
    for (uint64_t i = a.col_ptr[c]; i < a.col_ptr[c + 1]; ++i) {
      cblas_saxpy(static_cast<int>(l), a.cval[i], in + static_cast<size_t>(a.row[i]) * l, 1, o, 1);
    }
  }
}

// Orthonormalises the columns of row-major m x n `y` in place (LAPACK QR).
Status Orthonormalize(std::vector<float>* y, int m, int n) {
  // LAPACK is column-major: transpose into a column-major buffer.
  std::vector<float> a(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) a[static_cast<size_t>(j) * m + i] = (*y)[static_cast<size_t>(i) * n + j];
  std::vector<float> tau(n);
  int info = 0, lwork = -1;
  float query = 0;
  sgeqrf_(&m, &n, a.data(), &m, tau.data(), &query, &lwork, &info);
  lwork = static_cast<int>(query);
  std::vector<float> work(std::max(1, lwork));
  sgeqrf_(&m, &n, a.data(), &m, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return Status::Internal("LSA: sgeqrf failed, info " + std::to_string(info));
  lwork = -1;
  sorgqr_(&m, &n, &n, a.data(), &m, tau.data(), &query, &lwork, &info);
  lwork = static_cast<int>(query);
  work.assign(std::max(1, lwork), 0.0f);
  sorgqr_(&m, &n, &n, a.data(), &m, tau.data(), work.data(), &lwork, &info);
  if (info != 0) return Status::Internal("LSA: sorgqr failed, info " + std::to_string(info));
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) (*y)[static_cast<size_t>(i) * n + j] = a[static_cast<size_t>(j) * m + i];
  return Status::OK();
}

template <typename T>
void Put(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

Result<std::unique_ptr<LsaEmbedder>> LsaEmbedder::Train(const std::vector<std::string>& texts,
                                                        const LsaOptions& options, LsaTrainStats* stats) {
  const auto start = std::chrono::steady_clock::now();
  if (texts.empty()) return Status::InvalidArgument("LSA: no documents to train on");
  if (options.dimension == 0) return Status::InvalidArgument("LSA: dimension must be > 0");
  const size_t n = texts.size();

  // Analyse every document once (in parallel: Analyze is thread-safe).
  std::vector<std::vector<std::string>> docs(n);
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) docs[i] = Analyze(options.analyzer, texts[i]);

  // Vocabulary by document frequency.
  std::unordered_map<std::string, uint32_t> df;
  for (auto& d : docs) {
    std::sort(d.begin(), d.end());
    for (size_t i = 0; i < d.size(); ++i) {
      if (i == 0 || d[i] != d[i - 1]) ++df[d[i]];
    }
  }
  std::vector<std::pair<uint32_t, std::string>> by_df;
  for (auto& [t, f] : df) {
    if (f >= options.min_df) by_df.push_back({f, t});
  }
  std::sort(by_df.begin(), by_df.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  if (by_df.size() > options.max_vocabulary) by_df.resize(options.max_vocabulary);
  std::sort(by_df.begin(), by_df.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  if (by_df.empty()) return Status::InvalidArgument("LSA: no term occurs in at least min_df documents");
  const size_t k = options.dimension;
  if (k >= std::min(n, by_df.size())) {
    return Status::InvalidArgument("LSA: dimension " + std::to_string(k) + " must be below min(documents " +
                                   std::to_string(n) + ", vocabulary " + std::to_string(by_df.size()) + ")");
  }

  std::unique_ptr<LsaEmbedder> e(new LsaEmbedder());
  e->dim_ = k;
  e->analyzer_ = options.analyzer;
  for (auto& [f, t] : by_df) {
    e->terms_.push_back(t);
    e->idf_.push_back(static_cast<float>(std::log(static_cast<double>(n) / f)));
  }
  e->BuildLookup();

  // TF-IDF matrix (CSR). Docs are sorted token lists: runs are term counts.
  Sparse a;
  a.rows = n;
  a.cols = e->terms_.size();
  a.row_ptr.assign(1, 0);
  for (const auto& d : docs) {
    const size_t begin = a.val.size();
    for (size_t i = 0; i < d.size();) {
      size_t j = i;
      while (j < d.size() && d[j] == d[i]) ++j;
      auto it = e->lookup_.find(d[i]);
      if (it != e->lookup_.end()) {
        a.col.push_back(it->second);
        a.val.push_back((1.0f + std::log(static_cast<float>(j - i))) * e->idf_[it->second]);
      }
      i = j;
    }
    double norm = 0;
    for (size_t i = begin; i < a.val.size(); ++i) norm += double(a.val[i]) * a.val[i];
    if (norm > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (size_t i = begin; i < a.val.size(); ++i) a.val[i] *= inv;
    }
    a.row_ptr.push_back(a.val.size());
  }
  docs.clear();
  docs.shrink_to_fit();
  a.BuildTranspose();

  // Randomized range finder in term space: Q (V x l) spans A^T's top range.
  const size_t V = a.cols;
  const size_t l = std::min(k + options.oversampling, std::min(n, V));
  std::vector<float> q(V * l), z(n * l);
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (auto& x : q) x = gauss(rng);
  // OpenMP parallelises the sparse loops; keep BLAS single-threaded inside them.
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  Status st = Orthonormalize(&q, static_cast<int>(V), static_cast<int>(l));
  for (int it = 0; st.ok() && it < options.power_iterations; ++it) {
    MulA(a, q.data(), l, z.data());   // z = A q
    MulAT(a, z.data(), l, q.data());  // q = A^T z
    st = Orthonormalize(&q, static_cast<int>(V), static_cast<int>(l));
  }
  openblas_set_num_threads(blas_threads);
  if (!st.ok()) return st;
  MulA(a, q.data(), l, z.data());  // B = A Q (n x l)
  // B^T B = W diag(s^2) W^T.
  std::vector<float> btb(l * l, 0.0f);
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(l), static_cast<int>(n), 1.0f, z.data(),
              static_cast<int>(l), 0.0f, btb.data(), static_cast<int>(l));
  for (size_t i = 0; i < l; ++i)
    for (size_t j = 0; j < i; ++j) btb[i * l + j] = btb[j * l + i];
  std::vector<float> eig(l);
  {
    const int li = static_cast<int>(l);
    int info = 0, lwork = -1, liwork = -1, iq = 0;
    float wq = 0;
    ssyevd_("V", "U", &li, btb.data(), &li, eig.data(), &wq, &lwork, &iq, &liwork, &info);
    lwork = static_cast<int>(wq);
    liwork = iq;
    std::vector<float> work(std::max(1, lwork));
    std::vector<int> iwork(std::max(1, liwork));
    ssyevd_("V", "U", &li, btb.data(), &li, eig.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
    if (info != 0) return Status::Internal("LSA: ssyevd failed, info " + std::to_string(info));
  }
  // btb is symmetric, so column-major eigenvectors read row-major are its
  // transpose: eigenvector j is row j. Eigenvalues ascend; take the top k.
  std::vector<float> w(l * k);
  for (size_t c = 0; c < k; ++c) {
    const size_t src = l - 1 - c;
    for (size_t r = 0; r < l; ++r) w[r * k + c] = btb[src * l + r];
  }
  e->basis_.assign(V * k, 0.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(V), static_cast<int>(k),
              static_cast<int>(l), 1.0f, q.data(), static_cast<int>(l), w.data(), static_cast<int>(k), 0.0f,
              e->basis_.data(), static_cast<int>(k));
  if (stats) {
    stats->documents = n;
    stats->vocabulary = V;
    stats->nonzeros = a.val.size();
    stats->singular_values.clear();
    for (size_t c = 0; c < k; ++c) stats->singular_values.push_back(std::sqrt(std::max(0.0f, eig[l - 1 - c])));
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return e;
}

void LsaEmbedder::BuildLookup() {
  lookup_.clear();
  lookup_.reserve(terms_.size());
  for (uint32_t i = 0; i < terms_.size(); ++i) lookup_.emplace(terms_[i], i);
}

Status LsaEmbedder::Embed(const std::vector<std::string>& texts, float* out) const {
  for (size_t t = 0; t < texts.size(); ++t) {
    std::vector<std::string> tokens = Analyze(analyzer_, texts[t]);
    std::sort(tokens.begin(), tokens.end());
    float* v = out + t * dim_;
    std::fill(v, v + dim_, 0.0f);
    std::vector<std::pair<uint32_t, float>> weights;
    double norm = 0;
    for (size_t i = 0; i < tokens.size();) {
      size_t j = i;
      while (j < tokens.size() && tokens[j] == tokens[i]) ++j;
      auto it = lookup_.find(tokens[i]);
      if (it != lookup_.end()) {
        const float wt = (1.0f + std::log(static_cast<float>(j - i))) * idf_[it->second];
        weights.push_back({it->second, wt});
        norm += double(wt) * wt;
      }
      i = j;
    }
    if (weights.empty()) continue;
    for (const auto& [term, wt] : weights) {
      const float x = static_cast<float>(wt / std::sqrt(norm));
      const float* row = basis_.data() + static_cast<size_t>(term) * dim_;
      for (size_t c = 0; c < dim_; ++c) v[c] += x * row[c];
    }
    double vn = 0;
    for (size_t c = 0; c < dim_; ++c) vn += double(v[c]) * v[c];
    if (vn > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(vn));
      for (size_t c = 0; c < dim_; ++c) v[c] *= inv;
    }
  }
  return Status::OK();
}

Status LsaEmbedder::Save(const std::string& path) const {
  std::string payload;
  for (const auto& t : terms_) {
    Put(&payload, static_cast<uint32_t>(t.size()));
    payload += t;
  }
  payload.append(reinterpret_cast<const char*>(idf_.data()), idf_.size() * sizeof(float));
  payload.append(reinterpret_cast<const char*>(basis_.data()), basis_.size() * sizeof(float));
  Header h;
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.dimension = static_cast<uint32_t>(dim_);
  h.vocabulary = terms_.size();
  h.analyzer = static_cast<uint32_t>(analyzer_);
  h.payload_size = payload.size();
  h.payload_crc = hymir::internal::Crc32(0, payload.data(), payload.size());
  std::string bytes(reinterpret_cast<const char*>(&h), sizeof h);
  bytes += payload;
  return hymir::internal::WriteFileAtomic(path, bytes);
}

Result<std::unique_ptr<LsaEmbedder>> LsaEmbedder::Load(const std::string& path) {
  auto bytes = hymir::internal::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& b = *bytes;
  Header h;
  if (b.size() < sizeof h) return Status::Corruption(path + ": truncated LSA header");
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) return Status::Corruption(path + ": not an LSA model (bad magic)");
  if (h.version != kVersion) {
    return Status::NotSupported(path + ": LSA format version " + std::to_string(h.version) + ", expected " +
                                std::to_string(kVersion));
  }
  if (h.payload_size != b.size() - sizeof h) return Status::Corruption(path + ": size does not match its header");
  if (hymir::internal::Crc32(0, b.data() + sizeof h, h.payload_size) != h.payload_crc) {
    return Status::Corruption(path + ": checksum mismatch");
  }
  if (h.analyzer > static_cast<uint32_t>(AnalyzerKind::kWhitespace) || h.dimension == 0) {
    return Status::Corruption(path + ": bad analyzer or dimension");
  }
  std::unique_ptr<LsaEmbedder> e(new LsaEmbedder());
  e->dim_ = h.dimension;
  e->analyzer_ = static_cast<AnalyzerKind>(h.analyzer);
  const char* p = b.data() + sizeof h;
  const char* end = b.data() + b.size();
  for (uint64_t i = 0; i < h.vocabulary; ++i) {
    uint32_t len;
    if (end - p < static_cast<ptrdiff_t>(sizeof len)) return Status::Corruption(path + ": truncated vocabulary");
    std::memcpy(&len, p, sizeof len);
    p += sizeof len;
    if (end - p < static_cast<ptrdiff_t>(len)) return Status::Corruption(path + ": truncated vocabulary");
    e->terms_.emplace_back(p, len);
    p += len;
  }
  const size_t floats = h.vocabulary + h.vocabulary * h.dimension;
  if (static_cast<size_t>(end - p) != floats * sizeof(float)) return Status::Corruption(path + ": wrong matrix size");
  e->idf_.resize(h.vocabulary);
  std::memcpy(e->idf_.data(), p, h.vocabulary * sizeof(float));
  p += h.vocabulary * sizeof(float);
  e->basis_.resize(h.vocabulary * h.dimension);
  std::memcpy(e->basis_.data(), p, e->basis_.size() * sizeof(float));
  e->BuildLookup();
  return e;
}

}  // namespace hymir::index
