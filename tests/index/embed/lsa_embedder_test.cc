// The built-in LSA embedder: randomized SVD against an exact LAPACK SVD,
// topic structure and retrieval on a planted corpus, determinism,
// persistence, and clean errors on bad input and damaged model files.
#include "hymir/index/lsa_embedder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "index/embed/lapack.h"
#include "index/embed/randomized_svd.h"
#include "tests/testutil/testutil.h"

namespace hymir::index {
namespace {

using hymir::testing::TempDir;
using internal::CsrMatrix;

// ---- randomized SVD against the exact one ----

// rows x cols, each entry nonzero with probability `density`, value in (0, 1].
CsrMatrix RandomSparse(size_t rows, size_t cols, double density, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  CsrMatrix a;
  a.rows = rows;
  a.cols = cols;
  a.row_ptr.push_back(0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      if (u(rng) < density) {
        a.col.push_back(static_cast<uint32_t>(c));
        a.val.push_back(1.0f - u(rng));
      }
    }
    a.row_ptr.push_back(a.col.size());
  }
  return a;
}

// Singular values (descending) and right singular vectors (cols x min, row-major) by sgesdd.
void ExactSvd(const CsrMatrix& a, std::vector<float>* s, std::vector<float>* v) {
  const int m = static_cast<int>(a.rows), n = static_cast<int>(a.cols), mn = std::min(m, n);
  std::vector<float> dense(static_cast<size_t>(m) * n, 0.0f);  // column-major
  for (size_t r = 0; r < a.rows; ++r) {
    for (uint64_t p = a.row_ptr[r]; p < a.row_ptr[r + 1]; ++p) dense[a.col[p] * a.rows + r] = a.val[p];
  }
  s->assign(mn, 0.0f);
  std::vector<float> u(static_cast<size_t>(m) * mn), vt(static_cast<size_t>(mn) * n);
  std::vector<int> iwork(8 * mn);
  int info = 0, lwork = -1;
  float query = 0;
  sgesdd_("S", &m, &n, dense.data(), &m, s->data(), u.data(), &m, vt.data(), &mn, &query, &lwork, iwork.data(), &info);
  lwork = static_cast<int>(query) + 1;
  std::vector<float> work(lwork);
  sgesdd_("S", &m, &n, dense.data(), &m, s->data(), u.data(), &m, vt.data(), &mn, work.data(), &lwork, iwork.data(),
          &info);
  ASSERT_EQ(info, 0);
  v->assign(static_cast<size_t>(n) * mn, 0.0f);
  for (int i = 0; i < mn; ++i) {
    for (int j = 0; j < n; ++j) (*v)[static_cast<size_t>(j) * mn + i] = vt[static_cast<size_t>(j) * mn + i];
  }
}

void ExpectOrthonormalColumns(const std::vector<float>& v, size_t rows, size_t cols, float tol) {
  for (size_t i = 0; i < cols; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      double dot = 0;
      for (size_t r = 0; r < rows; ++r) dot += double(v[r * cols + i]) * v[r * cols + j];
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, tol) << "columns " << i << ", " << j;
    }
  }
}

// rows x cols random orthonormal columns (modified Gram-Schmidt in double), row-major.
std::vector<double> RandomOrthonormal(size_t rows, size_t cols, std::mt19937* rng) {
  std::normal_distribution<double> g;
  std::vector<double> q(rows * cols);
  for (auto& x : q) x = g(*rng);
  for (size_t j = 0; j < cols; ++j) {
    for (size_t i = 0; i < j; ++i) {
      double dot = 0;
      for (size_t r = 0; r < rows; ++r) dot += q[r * cols + i] * q[r * cols + j];
      for (size_t r = 0; r < rows; ++r) q[r * cols + j] -= dot * q[r * cols + i];
    }
    double norm = 0;
    for (size_t r = 0; r < rows; ++r) norm += q[r * cols + j] * q[r * cols + j];
    for (size_t r = 0; r < rows; ++r) q[r * cols + j] /= std::sqrt(norm);
  }
  return q;
}

// A = U diag(sigma_i = 10 * 0.8^i) V^T (rows x cols, dense, stored as CSR):
// a decaying spectrum like that of text.
CsrMatrix DecayingSpectrum(size_t rows, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t r = std::min(rows, cols);
  const auto u = RandomOrthonormal(rows, r, &rng), v = RandomOrthonormal(cols, r, &rng);
  CsrMatrix a;
  a.rows = rows;
  a.cols = cols;
  a.row_ptr.push_back(0);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) {
      double x = 0;
      for (size_t t = 0; t < r; ++t) x += u[i * r + t] * 10.0 * std::pow(0.8, double(t)) * v[j * r + t];
      a.col.push_back(static_cast<uint32_t>(j));
      a.val.push_back(static_cast<float>(x));
    }
    a.row_ptr.push_back(a.col.size());
  }
  return a;
}

TEST(RandomizedSvdTest, SingularValuesMatchExactSvd) {
  const CsrMatrix a = DecayingSpectrum(300, 200, 7);
  std::vector<float> s, v;
  ExactSvd(a, &s, &v);
  internal::SvdOptions o;
  o.rank = 10;
  o.oversampling = 16;
  o.power_iterations = 2;
  o.threads = 2;
  ASSERT_OK_AND_ASSIGN(auto svd, internal::RandomizedSvd(a, o));
  ASSERT_EQ(svd.singular_values.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_NEAR(svd.singular_values[i], 10.0 * std::pow(0.8, double(i)), 1e-4 * s[0]) << "planted sigma_" << i;
    EXPECT_NEAR(svd.singular_values[i], s[i], 1e-4 * s[0]) << "sgesdd sigma_" << i;
  }
  ExpectOrthonormalColumns(svd.v, a.cols, 10, 1e-4f);
  // The singular vectors themselves (all gaps are 20 %), up to sign.
  for (size_t t = 0; t < 10; ++t) {
    double dot = 0;
    for (size_t r = 0; r < a.cols; ++r) dot += double(svd.v[r * 10 + t]) * v[r * s.size() + t];
    EXPECT_GT(std::abs(dot), 0.999) << "v_" << t;
  }
}

TEST(RandomizedSvdTest, PowerIterationsHelpFlatSpectra) {
  // A random sparse matrix has a flat spectrum after sigma_1 (the hard case of
  // Halko et al. section 4.5): the values are underestimated, never over, and
  // power iterations close the gap.
  const CsrMatrix a = RandomSparse(300, 200, 0.1, 7);
  std::vector<float> s, v;
  ExactSvd(a, &s, &v);
  internal::SvdOptions o;
  o.rank = 10;
  double previous_error = 1e9;
  for (int q : {0, 2, 8}) {
    o.power_iterations = q;
    ASSERT_OK_AND_ASSIGN(auto svd, internal::RandomizedSvd(a, o));
    double error = 0;
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_LE(svd.singular_values[i], s[i] * 1.0001f) << "Rayleigh-Ritz values never exceed the true ones";
      error = std::max(error, double(s[i] - svd.singular_values[i]) / s[i]);
    }
    EXPECT_LT(error, previous_error) << "q = " << q;
    previous_error = error;
    if (q > 0) {
      EXPECT_NEAR(svd.singular_values[0], s[0], 1e-3 * s[0]) << "sigma_1 is well separated; q = " << q;
    }
    ExpectOrthonormalColumns(svd.v, a.cols, 10, 1e-4f);
  }
  EXPECT_LT(previous_error, 0.01) << "8 power iterations";
}

TEST(RandomizedSvdTest, FullSketchIsExact) {
  // With l = min(rows, cols) the sketch spans everything: exact up to float round-off.
  const CsrMatrix a = RandomSparse(60, 40, 0.3, 11);
  std::vector<float> s, v;
  ExactSvd(a, &s, &v);
  internal::SvdOptions o;
  o.rank = 20;
  o.oversampling = 100;  // clamped to l = 40
  o.power_iterations = 0;
  ASSERT_OK_AND_ASSIGN(auto svd, internal::RandomizedSvd(a, o));
  for (size_t i = 0; i < 20; ++i) EXPECT_NEAR(svd.singular_values[i], s[i], 1e-3 * s[0]) << "sigma_" << i;
  ExpectOrthonormalColumns(svd.v, a.cols, 20, 1e-4f);
}

TEST(RandomizedSvdTest, IndependentOfThreadCount) {
  const CsrMatrix a = RandomSparse(500, 300, 0.05, 5);
  std::vector<float> x(300 * 40);
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (auto& e : x) e = g(rng);
  std::vector<float> y1(x.size()), y3(x.size());
  internal::GramTimes(a, x.data(), 40, y1.data(), 1);
  internal::GramTimes(a, x.data(), 40, y3.data(), 3);
  EXPECT_EQ(y1, y3);
  // Against a plain A^T (A x).
  std::vector<double> ax(500 * 40, 0.0), want(300 * 40, 0.0);
  for (size_t r = 0; r < 500; ++r)
    for (uint64_t p = a.row_ptr[r]; p < a.row_ptr[r + 1]; ++p)
      for (size_t c = 0; c < 40; ++c) ax[r * 40 + c] += a.val[p] * x[a.col[p] * 40 + c];
  for (size_t r = 0; r < 500; ++r)
    for (uint64_t p = a.row_ptr[r]; p < a.row_ptr[r + 1]; ++p)
      for (size_t c = 0; c < 40; ++c) want[a.col[p] * 40 + c] += a.val[p] * ax[r * 40 + c];
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(y1[i], want[i], 1e-4 * (1 + std::abs(want[i]))) << i;
}

// Orthonormal columns with the same span as y0: y y^T y0 == y0.
void ExpectOrthonormalBasisOf(const std::vector<float>& y, const std::vector<float>& y0, size_t m, size_t n) {
  ExpectOrthonormalColumns(y, m, n, 1e-4f);
  for (size_t j = 0; j < n; ++j) {
    std::vector<double> coef(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t r = 0; r < m; ++r) coef[i] += double(y[r * n + i]) * y0[r * n + j];
    for (size_t r = 0; r < m; ++r) {
      double back = 0;
      for (size_t i = 0; i < n; ++i) back += coef[i] * y[r * n + i];
      ASSERT_NEAR(back, y0[r * n + j], 1e-3 * (1 + std::abs(y0[r * n + j]))) << "row " << r << ", column " << j;
    }
  }
}

TEST(RandomizedSvdTest, OrthonormalizeKeepsTheSpan) {
  std::mt19937 rng(4);
  std::normal_distribution<float> g;
  const size_t m = 500, n = 30;
  std::vector<float> y0(m * n);
  for (auto& x : y0) x = g(rng);
  // Ill-conditioned (column scales 1 .. 1e-3): CholeskyQR2's domain.
  for (size_t r = 0; r < m; ++r)
    for (size_t j = 0; j < n; ++j) y0[r * n + j] *= std::pow(0.79f, float(j));
  std::vector<float> y = y0;
  ASSERT_OK(internal::OrthonormalizeColumns(y.data(), m, n));
  ExpectOrthonormalBasisOf(y, y0, m, n);
  // Rank-deficient (a repeated column): Cholesky breaks down and Householder
  // QR takes over; the columns are still orthonormal and span y0.
  for (size_t r = 0; r < m; ++r) y0[r * n + 7] = y0[r * n + 3];
  y = y0;
  ASSERT_OK(internal::OrthonormalizeColumns(y.data(), m, n));
  ExpectOrthonormalBasisOf(y, y0, m, n);
}

TEST(RandomizedSvdTest, RejectsBadRank) {
  const CsrMatrix a = RandomSparse(30, 20, 0.3, 1);
  internal::SvdOptions o;
  o.rank = 0;
  EXPECT_TRUE(internal::RandomizedSvd(a, o).status().IsInvalidArgument());
  o.rank = 20;
  EXPECT_TRUE(internal::RandomizedSvd(a, o).status().IsInvalidArgument());
}

// ---- the embedder ----

// Appends "t<topic>w<word> " (append chains avoid a GCC 12 -Wrestrict false positive).
void AppendWord(std::string* text, int topic, int word) {
  text->append("t").append(std::to_string(topic)).append("w").append(std::to_string(word)).append(" ");
}

// 5 topics with disjoint 30-word vocabularies plus 10 words shared by all;
// each document has 25 words of its topic, 3 of a random other topic and 4
// shared ones.
std::vector<std::string> TopicCorpus(int docs, std::vector<int>* topic_of, uint32_t seed = 3) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> word(0, 29), topic(0, 4), shared(0, 9);
  std::vector<std::string> out;
  for (int d = 0; d < docs; ++d) {
    const int t = d % 5;
    topic_of->push_back(t);
    std::string text;
    for (int i = 0; i < 25; ++i) AppendWord(&text, t, word(rng));
    for (int i = 0; i < 3; ++i) {
      const int other = topic(rng);
      AppendWord(&text, other, word(rng));
    }
    for (int i = 0; i < 4; ++i) text.append("common").append(std::to_string(shared(rng))).append(" ");
    out.push_back(text);
  }
  return out;
}

float Dot(const float* a, const float* b, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) s += a[i] * b[i];
  return s;
}

LsaOptions Small() {
  LsaOptions o;
  o.dimension = 8;
  o.analyzer = AnalyzerKind::kWhitespace;
  return o;
}

TEST(LsaEmbedderTest, SameTopicDocumentsAreCloser) {
  std::vector<int> topic;
  auto texts = TopicCorpus(200, &topic);
  LsaTrainStats stats;
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, Small(), &stats));
  EXPECT_EQ(e->dimension(), 8u);
  EXPECT_EQ(e->name(), "lsa:8");
  EXPECT_EQ(stats.documents, 200u);
  EXPECT_EQ(stats.vocabulary, 160u);
  EXPECT_EQ(e->vocabulary_size(), 160u);
  ASSERT_EQ(stats.singular_values.size(), 8u);
  for (size_t i = 1; i < 8; ++i) EXPECT_GE(stats.singular_values[i - 1], stats.singular_values[i]);
  std::vector<float> v(texts.size() * 8);
  ASSERT_OK(e->Embed(texts, v.data()));
  double same = 0, other = 0;
  int ns = 0, no = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_NEAR(Dot(&v[i * 8], &v[i * 8], 8), 1.0f, 1e-5f);
    for (size_t j = i + 1; j < texts.size(); ++j) {
      const float c = Dot(&v[i * 8], &v[j * 8], 8);
      (topic[i] == topic[j] ? same : other) += c;
      ++(topic[i] == topic[j] ? ns : no);
    }
  }
  EXPECT_GT(same / ns, 0.8);
  EXPECT_LT(other / no, 0.3);
}

TEST(LsaEmbedderTest, TopicQueryRetrievesItsTopicFirst) {
  std::vector<int> topic;
  auto texts = TopicCorpus(9000, &topic);  // more than one analysis chunk (8192 documents)
  LsaTrainStats stats;
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, Small(), &stats));
  EXPECT_EQ(stats.documents, 9000u);
  size_t distinct = 0;  // every word occurs in >= 2 documents: nothing is dropped
  for (const auto& t : texts) {
    std::istringstream in(t);
    distinct += std::set<std::string>(std::istream_iterator<std::string>(in), {}).size();
  }
  EXPECT_EQ(stats.nonzeros, distinct);
  std::vector<float> v(texts.size() * 8);
  ASSERT_OK(e->Embed(texts, v.data()));
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> word(0, 29);
  double hits = 0;
  int queries = 0;
  for (int t = 0; t < 5; ++t) {
    for (int rep = 0; rep < 4; ++rep) {
      // Three topic words, possibly ones the top documents lack: LSA matches by topic, not by term.
      std::string q;
      for (int i = 0; i < 3; ++i) AppendWord(&q, t, word(rng));
      std::vector<float> qv(8);
      ASSERT_OK(e->Embed({q}, qv.data()));
      std::vector<int> order(texts.size());
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + 10, order.end(),
                        [&](int a, int b) { return Dot(qv.data(), &v[a * 8], 8) > Dot(qv.data(), &v[b * 8], 8); });
      for (int i = 0; i < 10; ++i) hits += topic[order[i]] == t;
      ++queries;
    }
  }
  EXPECT_GE(hits / (10.0 * queries), 0.95) << "precision@10 of topic queries";
}

TEST(LsaEmbedderTest, DeterministicForSeedAndThreads) {
  std::vector<int> topic;
  auto texts = TopicCorpus(100, &topic);
  LsaOptions o = Small();
  o.threads = 1;
  // Thread invariance is checked on a converged SVD: with no power iteration,
  // near-equal singular values of this small matrix let rounding rotate
  // vectors within their subspace (bitwise determinism holds either way).
  o.power_iterations = 2;
  ASSERT_OK_AND_ASSIGN(auto a, LsaEmbedder::Train(texts, o));
  ASSERT_OK_AND_ASSIGN(auto b, LsaEmbedder::Train(texts, o));
  o.threads = 2;
  ASSERT_OK_AND_ASSIGN(auto c, LsaEmbedder::Train(texts, o));
  std::vector<float> va(texts.size() * 8), vb(va.size()), vc(va.size());
  ASSERT_OK(a->Embed(texts, va.data()));
  ASSERT_OK(b->Embed(texts, vb.data()));
  ASSERT_OK(c->Embed(texts, vc.data()));
  EXPECT_EQ(va, vb) << "same seed and threads: bitwise identical";
  // The sparse products are thread-invariant; OpenBLAS's dense steps round
  // differently with another thread count.
  for (size_t i = 0; i < va.size(); ++i) ASSERT_NEAR(va[i], vc[i], 1e-4f) << i;
}

TEST(LsaEmbedderTest, UnknownOrEmptyTextIsZero) {
  std::vector<int> topic;
  auto texts = TopicCorpus(100, &topic);
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, Small()));
  std::vector<float> z(3 * 8, 1.0f);
  ASSERT_OK(e->Embed({"never seen words", "", "t1w3"}, z.data()));
  EXPECT_EQ(std::vector<float>(z.begin(), z.begin() + 16), std::vector<float>(16, 0.0f));
  EXPECT_NEAR(Dot(&z[16], &z[16], 8), 1.0f, 1e-5f);
  ASSERT_OK(e->Embed({}, nullptr));
}

TEST(LsaEmbedderTest, BatchAndConcurrentEmbeddingAgreeWithSingleCalls) {
  std::vector<int> topic;
  auto texts = TopicCorpus(600, &topic);  // >= 256: the batch runs in parallel
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, Small()));
  std::vector<float> batch(texts.size() * 8);
  ASSERT_OK(e->Embed(texts, batch.data()));
  std::vector<float> single(batch.size());
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&, w] {
      for (size_t i = w; i < texts.size(); i += 3) EXPECT_OK(e->Embed({texts[i]}, &single[i * 8]));
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(batch, single);
}

TEST(LsaEmbedderTest, BadTrainingInputIsInvalidArgument) {
  std::vector<int> topic;
  const auto texts = TopicCorpus(50, &topic);
  EXPECT_TRUE(LsaEmbedder::Train({}, Small()).status().IsInvalidArgument());
  LsaOptions o = Small();
  o.dimension = 0;
  EXPECT_TRUE(LsaEmbedder::Train(texts, o).status().IsInvalidArgument());
  o.dimension = 50;  // not below min(50 documents, 160 terms)
  EXPECT_TRUE(LsaEmbedder::Train(texts, o).status().IsInvalidArgument());
  o = Small();
  o.min_df = 1000;
  EXPECT_TRUE(LsaEmbedder::Train(texts, o).status().IsInvalidArgument());
  EXPECT_TRUE(LsaEmbedder::Train({"", " ", "unique words only"}, Small()).status().IsInvalidArgument());
  // Rank 3 (three distinct texts, repeated) cannot give 5 dimensions.
  std::vector<std::string> three;
  for (int i = 0; i < 60; ++i) three.push_back(i % 3 == 0 ? "a b c" : i % 3 == 1 ? "d e f g" : "h i a");
  o = Small();
  o.dimension = 5;
  auto r = LsaEmbedder::Train(three, o);
  ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("rank"), std::string::npos) << r.status().ToString();
  o.dimension = 3;
  EXPECT_OK(LsaEmbedder::Train(three, o).status());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(LsaEmbedderTest, SaveLoadRoundTripIsIdentical) {
  TempDir dir;
  std::vector<int> topic;
  auto texts = TopicCorpus(100, &topic);
  LsaOptions o = Small();
  o.analyzer = AnalyzerKind::kStandard;
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, o));
  const std::string path = dir.Sub("m.lsa");
  ASSERT_OK(e->Save(path));
  ASSERT_OK_AND_ASSIGN(auto loaded, LsaEmbedder::Load(path));
  EXPECT_EQ(loaded->dimension(), 8u);
  EXPECT_EQ(loaded->analyzer(), AnalyzerKind::kStandard);
  EXPECT_EQ(loaded->vocabulary_size(), e->vocabulary_size());
  std::vector<float> a(texts.size() * 8), b(a.size());
  ASSERT_OK(e->Embed(texts, a.data()));
  ASSERT_OK(loaded->Embed(texts, b.data()));
  EXPECT_EQ(a, b);
  // Saving again overwrites atomically with the same bytes.
  const std::string first = ReadAll(path);
  ASSERT_OK(loaded->Save(path));
  EXPECT_EQ(ReadAll(path), first);
}

TEST(LsaEmbedderTest, ModelVersionFollowsItsAnalyzer) {
  // A model of the english analyzer, or of one added after english-lucenepp30,
  // needs version 2; standard, whitespace and english-lucenepp30 are written
  // as version 1, which builds before version 2 read, and a version 1 model's
  // "english" (analyzer 0) is english-lucenepp30, the chain it was trained on.
  // (The later analyzers are represented by two: the corpus is English words,
  // too few terms for some of them, keyword or simple.)
  TempDir dir;
  std::vector<int> topic;
  auto texts = TopicCorpus(100, &topic);
  for (AnalyzerKind kind : {AnalyzerKind::kEnglish, AnalyzerKind::kStandard, AnalyzerKind::kWhitespace,
                            AnalyzerKind::kEnglishLegacy, AnalyzerKind::kCzech, AnalyzerKind::kSnowballGerman}) {
    LsaOptions o = Small();
    o.analyzer = kind;
    ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, o));
    const std::string path = dir.Sub(std::string(AnalyzerName(kind)) + ".lsa");
    ASSERT_OK(e->Save(path));
    const std::string bytes = ReadAll(path);
    const bool version1 =
        kind == AnalyzerKind::kStandard || kind == AnalyzerKind::kWhitespace || kind == AnalyzerKind::kEnglishLegacy;
    EXPECT_EQ(bytes[8], version1 ? 1 : 2) << AnalyzerName(kind);
    EXPECT_EQ(bytes[24], kind == AnalyzerKind::kEnglishLegacy ? 0 : static_cast<int>(kind)) << AnalyzerName(kind);
    ASSERT_OK_AND_ASSIGN(auto loaded, LsaEmbedder::Load(path));
    EXPECT_EQ(loaded->analyzer(), kind);
    std::vector<float> a(texts.size() * 8), b(a.size());
    ASSERT_OK(e->Embed(texts, a.data()));
    ASSERT_OK(loaded->Embed(texts, b.data()));
    EXPECT_EQ(a, b) << AnalyzerName(kind);
  }
  // Version 1 knows no fourth analyzer.
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(texts, Small()));
  ASSERT_OK(e->Save(dir.Sub("v2.lsa")));
  std::string bytes = ReadAll(dir.Sub("v2.lsa"));
  bytes[8] = 1;
  bytes[24] = 3;
  hymir::testing::WriteText(dir.Sub("v1-3.lsa"), bytes);
  auto bad = LsaEmbedder::Load(dir.Sub("v1-3.lsa"));
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption) << bad.status().ToString();
}

TEST(LsaEmbedderTest, DamagedFilesGiveCleanErrorsNamingThePath) {
  TempDir dir;
  std::vector<int> topic;
  ASSERT_OK_AND_ASSIGN(auto e, LsaEmbedder::Train(TopicCorpus(100, &topic), Small()));
  const std::string good = dir.Sub("good.lsa");
  ASSERT_OK(e->Save(good));
  const std::string bytes = ReadAll(good);
  const std::string path = dir.Sub("bad.lsa");
  auto expect = [&](const std::string& content, Status::Code code, const std::string& what) {
    hymir::testing::WriteText(path, content);
    auto r = LsaEmbedder::Load(path);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), code) << what << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << what << ": " << r.status().ToString();
  };
  using C = Status::Code;
  expect("", C::kCorruption, "empty");
  for (size_t cut : {size_t{7}, size_t{39}, size_t{40}, size_t{41}, bytes.size() / 2, bytes.size() - 1}) {
    expect(bytes.substr(0, cut), C::kCorruption, "truncated at " + std::to_string(cut));
  }
  expect(bytes + "x", C::kCorruption, "trailing byte");
  for (size_t at : {size_t{45}, bytes.size() / 2, bytes.size() - 3}) {
    std::string flipped = bytes;
    flipped[at] ^= 0x10;
    expect(flipped, C::kCorruption, "flipped byte at " + std::to_string(at));
  }
  std::string magic = bytes;
  magic[0] = 'X';
  expect(magic, C::kCorruption, "magic");
  std::string version = bytes;
  version[8] = 3;  // a future format version
  expect(version, C::kNotSupported, "version");
  // Header fields are outside the checksum: sizes must still be validated.
  std::string dim = bytes;
  dim[12] = 0x7f;
  expect(dim, C::kCorruption, "dimension");
  std::string vocab = bytes;
  vocab[22] = 0x40;  // vocabulary ~ 2^54
  expect(vocab, C::kCorruption, "vocabulary");
  std::string analyzer = bytes;
  analyzer[24] = 9;
  expect(analyzer, C::kCorruption, "analyzer");
  auto missing = LsaEmbedder::Load(dir.Sub("absent.lsa"));
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
}

}  // namespace
}  // namespace hymir::index
