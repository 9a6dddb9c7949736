// Vector fields on FAISS: recall against brute force, upsert/delete for every
// index kind, filters, persistence, corruption and crash consistency.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "hymir/index/index_writer.h"
#include "hymir/index/searcher.h"
#include "tests/index/lucene/index_fixture.h"
#include "tests/testutil/crash_util.h"

namespace hymir::index {
namespace {

using testing::TempDir;

constexpr size_t kDim = 32;

// Embedding-like vectors: an 8-d latent factor plus noise.
class VectorGen {
 public:
  explicit VectorGen(uint32_t seed) : rng_(seed) {
    std::normal_distribution<float> n(0, 1);
    basis_.resize(8 * kDim);
    for (auto& x : basis_) x = n(rng_);
  }
  std::vector<float> Next() {
    std::normal_distribution<float> n(0, 1);
    std::vector<float> v(kDim, 0.0f);
    for (int l = 0; l < 8; ++l) {
      float z = n(rng_);
      for (size_t i = 0; i < kDim; ++i) v[i] += z * basis_[l * kDim + i];
    }
    for (auto& x : v) x += 0.3f * n(rng_);
    return v;
  }

 private:
  std::mt19937 rng_;
  std::vector<float> basis_;
};

float Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return static_cast<float>(ab / std::sqrt(aa * bb));
}

Document VecDoc(int i, const std::vector<float>& v, const std::string& domain) {
  Document d = testing::Doc("v" + std::to_string(i), "", "document number " + std::to_string(i), domain);
  d.vectors["emb"] = v;
  return d;
}

IndexWriterOptions WithField(const std::string& kind, VectorMetric metric = VectorMetric::kCosine) {
  IndexWriterOptions o;
  VectorFieldSpec spec;
  spec.name = "emb";
  spec.dimension = kDim;
  spec.metric = metric;
  spec.index = kind;
  o.vector_fields = {spec};
  return o;
}

struct Corpus {
  std::vector<std::vector<float>> vecs;
  std::vector<std::string> domains;
};

Corpus MakeCorpus(int n, uint32_t seed) {
  VectorGen g(seed);
  Corpus c;
  for (int i = 0; i < n; ++i) {
    c.vecs.push_back(g.Next());
    // 50 % "a", 10 % "b", 1 % "c", the rest "z".
    int r = i % 100;
    c.domains.push_back(r < 50 ? "a" : r < 60 ? "b" : r < 61 ? "c" : "z");
  }
  return c;
}

Status Build(const std::string& dir, const Corpus& c, const IndexWriterOptions& o) {
  auto w = IndexWriter::Open(dir, o);
  if (!w.ok()) return w.status();
  for (size_t i = 0; i < c.vecs.size(); ++i)
    HYMIR_RETURN_IF_ERROR((*w)->Upsert(VecDoc(static_cast<int>(i), c.vecs[i], c.domains[i])));
  return (*w)->Commit();
}

// Exact top-k ids by cosine among documents admitted by `domains` (empty: all).
std::vector<std::string> BruteForce(const Corpus& c, const std::vector<float>& q, size_t k,
                                    const std::set<std::string>& domains = {}) {
  std::vector<std::pair<float, int>> all;
  for (size_t i = 0; i < c.vecs.size(); ++i) {
    if (!domains.empty() && !domains.count(c.domains[i])) continue;
    all.push_back({-Cosine(q, c.vecs[i]), static_cast<int>(i)});
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> ids;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) ids.push_back("v" + std::to_string(all[i].second));
  return ids;
}

double Recall(const std::vector<Hit>& got, const std::vector<std::string>& want) {
  std::set<std::string> w(want.begin(), want.end());
  size_t hit = 0;
  for (const auto& h : got) hit += w.count(h.id);
  return want.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(want.size());
}

class VectorKindTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VectorKindTest, RecallAgainstBruteForce) {
  TempDir dir;
  Corpus c = MakeCorpus(3000, 7);
  ASSERT_OK(Build(dir.path(), c, WithField(GetParam())));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  VectorGen qg(99);
  double total = 0;
  const int nq = 50;
  for (int i = 0; i < nq; ++i) {
    VectorQuery q;
    q.field = "emb";
    q.vector = qg.Next();
    q.k = 10;
    ASSERT_OK_AND_ASSIGN(auto hits, s->SearchVector(q));
    ASSERT_EQ(hits.size(), 10u);
    for (size_t r = 1; r < hits.size(); ++r) EXPECT_GE(hits[r - 1].score, hits[r].score);
    total += Recall(hits, BruteForce(c, q.vector, 10));
  }
  const double recall = total / nq;
  const double floor = GetParam() == "flat" ? 0.999 : GetParam().rfind("hnsw", 0) == 0 ? 0.95 : 0.80;
  EXPECT_GE(recall, floor) << GetParam();
}

// A single query runs on the calling thread alone (no idle OpenMP team to
// wake); the caller's own thread count is restored, and the hits are those
// of the same query searched in a batch.
TEST_P(VectorKindTest, OneQueryKeepsTheCallersThreadCountAndMatchesTheBatchSearch) {
  TempDir dir;
  Corpus c = MakeCorpus(1000, 5);
  ASSERT_OK(Build(dir.path(), c, WithField(GetParam())));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  const int before = omp_get_max_threads();
  omp_set_num_threads(3);
  VectorGen qg(17);
  VectorQuery q;
  q.field = "emb";
  q.k = 10;
  const std::vector<float> a = qg.Next(), b = qg.Next();
  q.vector = a;
  ASSERT_OK_AND_ASSIGN(auto one, s->SearchVector(q));
  EXPECT_EQ(omp_get_max_threads(), 3);
  std::vector<float> both = a;
  both.insert(both.end(), b.begin(), b.end());
  ASSERT_OK_AND_ASSIGN(auto batch, s->SearchVectorBatch(q, both));
  EXPECT_EQ(omp_get_max_threads(), 3);
  omp_set_num_threads(before);
  ASSERT_EQ(batch.size(), 2u);
  ASSERT_EQ(one.size(), batch[0].size());
  for (size_t r = 0; r < one.size(); ++r) EXPECT_EQ(one[r].id, batch[0][r].id) << r;
}

TEST_P(VectorKindTest, UpsertAndDeleteAreVisibleAfterCommit) {
  TempDir dir;
  Corpus c = MakeCorpus(2000, 11);
  ASSERT_OK(Build(dir.path(), c, WithField(GetParam())));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  VectorGen g(5);
  const std::vector<float> target = g.Next();
  VectorQuery q;
  q.field = "emb";
  q.vector = target;
  q.k = 5;
  q.exact = GetParam() != "flat" && GetParam().rfind("hnsw", 0) != 0;  // IVF may miss; exact path
  ASSERT_OK_AND_ASSIGN(auto before, s->SearchVector(q));
  ASSERT_FALSE(before.empty());
  const std::string top = before[0].id;

  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
  ASSERT_OK(w->Delete(top));
  Document moved = VecDoc(1234, target, "a");  // v1234 now sits exactly on the query
  ASSERT_OK(w->Upsert(moved));
  ASSERT_OK(w->Commit());
  ASSERT_OK(s->Refresh());
  q.exact = false;
  for (bool exact : {false, true}) {
    q.exact = exact;
    ASSERT_OK_AND_ASSIGN(auto after, s->SearchVector(q));
    ASSERT_FALSE(after.empty());
    EXPECT_EQ(after[0].id, "v1234") << GetParam() << " exact=" << exact;
    EXPECT_NEAR(after[0].score, 1.0, 1e-4);
    for (const auto& h : after) EXPECT_NE(h.id, top) << "deleted document returned";
  }
  // GetVector returns the stored vector, and nothing for a deleted document.
  auto cosine = [](const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return a.size() == b.size() && aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
  };
  ASSERT_OK_AND_ASSIGN(auto stored, s->GetVector("emb", "v1234"));
  EXPECT_NEAR(cosine(stored, target), 1.0, 1e-6);  // as given (cosine fields may store it normalised)
  EXPECT_TRUE(s->GetVector("emb", top).status().IsNotFound());
  EXPECT_TRUE(s->GetVector("nope", "v1234").status().IsInvalidArgument());
  // Deleting many triggers compaction; results stay right.
  for (int i = 0; i < 1000; ++i) ASSERT_OK(w->Delete("v" + std::to_string(i)));
  ASSERT_OK(w->Commit());
  ASSERT_OK(s->Refresh());
  q.k = 50;
  ASSERT_OK_AND_ASSIGN(auto rest, s->SearchVector(q));
  for (const auto& h : rest) EXPECT_GE(std::stoi(h.id.substr(1)), 1000) << h.id;
  EXPECT_EQ(rest[0].id, "v1234");
  ASSERT_OK_AND_ASSIGN(auto after_compaction, s->GetVector("emb", "v1234"));  // slots moved
  EXPECT_NEAR(cosine(after_compaction, target), 1.0, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Kinds, VectorKindTest, ::testing::Values("flat", "hnsw16", "IVF16,Flat"),
                         [](const auto& info) {
                           std::string n = info.param;
                           n.erase(std::remove_if(n.begin(), n.end(), [](char ch) { return !std::isalnum(ch); }),
                                   n.end());
                           return n;
                         });

TEST(VectorFilterTest, NoExcludedDocumentAndHighRecallAtEverySelectivity) {
  TempDir dir;
  Corpus c = MakeCorpus(4000, 3);
  ASSERT_OK(Build(dir.path(), c, WithField("hnsw16")));
  ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
  VectorGen qg(17);
  for (const char* dom : {"a", "b", "c"}) {
    double total = 0;
    for (int i = 0; i < 30; ++i) {
      VectorQuery q;
      q.field = "emb";
      q.vector = qg.Next();
      q.k = 10;
      q.filters = {{"domain", {dom}}};
      ASSERT_OK_AND_ASSIGN(auto hits, s->SearchVector(q));
      for (const auto& h : hits) {
        int idx = std::stoi(h.id.substr(1));
        ASSERT_EQ(c.domains[idx], dom) << "filtered-out document returned";
      }
      total += Recall(hits, BruteForce(c, q.vector, 10, {dom}));
    }
    EXPECT_GE(total / 30, 0.9) << "selectivity of domain " << dom;
  }
}

TEST(VectorFieldTest, BadVectorsAreErrorsNamingDocumentAndDimension) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path(), WithField("flat")));
  Document d = testing::Doc("x", "", "t");
  d.vectors["emb"] = std::vector<float>(3, 1.0f);
  Status s = w->Upsert(d);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("\"x\""), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("expects 32"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("got 3"), std::string::npos) << s.message();
  d.vectors.clear();
  d.vectors["img"] = std::vector<float>(kDim, 1.0f);
  s = w->Upsert(d);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("unknown vector field \"img\""), std::string::npos) << s.message();
  d.vectors.clear();
  d.vectors["emb"] = std::vector<float>(kDim, std::nanf(""));
  EXPECT_TRUE(w->Upsert(d).IsInvalidArgument());
  // The schema is fixed at creation.
  w.reset();
  auto other = WithField("flat");
  other.vector_fields[0].dimension = 64;
  EXPECT_TRUE(IndexWriter::Open(dir.path(), other).status().IsInvalidArgument());
  // Query side: wrong dimension and unknown field.
  ASSERT_OK_AND_ASSIGN(auto sr, Searcher::Open(dir.path()));
  VectorQuery q;
  q.field = "emb";
  q.vector = {1, 2, 3};
  EXPECT_TRUE(sr->SearchVector(q).status().IsInvalidArgument());
  q.field = "nope";
  EXPECT_TRUE(sr->SearchVector(q).status().IsInvalidArgument());
  q.field = "emb";
  q.vector.clear();
  q.text = "no embedder here";
  EXPECT_TRUE(sr->SearchVector(q).status().IsInvalidArgument());
}

TEST(VectorFieldTest, CorruptVectorFilesGiveCleanErrors) {
  for (const char* suffix : {".vec", ".faiss"}) {
    TempDir dir;
    Corpus c = MakeCorpus(300, 1);
    ASSERT_OK(Build(dir.path(), c, WithField("hnsw16")));
    bool damaged = false;
    for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/vectors")) {
      const std::string name = e.path().string();
      if (name.size() < std::strlen(suffix) ||
          name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix))
        continue;
      std::fstream f(name, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(40);
      f.put('\x5a');
      damaged = true;
    }
    ASSERT_TRUE(damaged);
    auto s = Searcher::Open(dir.path());
    ASSERT_FALSE(s.ok()) << suffix;
    EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
    EXPECT_NE(s.status().message().find(suffix), std::string::npos) << s.status().ToString();
    EXPECT_FALSE(IndexWriter::Open(dir.path()).ok()) << "a writer must not continue from damaged vectors";
  }
}

TEST(VectorFieldTest, CrashKeepsTextAndVectorsConsistent) {
  for (int round = 0; round < 2; ++round) {
    TempDir dir;
    auto r = testing::RunAndKillWriter(dir.path(), 50, /*vectors=*/true, 50 * (4 + 6 * round), 2000 + round * 5000);
    ASSERT_TRUE(r.killed) << "writer exited early with " << r.exit_code;
    ASSERT_GT(r.committed, 0);
    ASSERT_OK_AND_ASSIGN(auto s, Searcher::Open(dir.path()));
    const uint64_t n = s->NumDocs();
    EXPECT_GE(n, static_cast<uint64_t>(r.committed));
    EXPECT_EQ(n % 50, 0u) << "only whole commits survive";
    // Every document has its vector and no vector lacks its document.
    VectorQuery q;
    q.field = "emb";
    q.vector = std::vector<float>(16, 0.5f);
    q.k = n + 10;
    q.exact = true;
    ASSERT_OK_AND_ASSIGN(auto hits, s->SearchVector(q));
    EXPECT_EQ(hits.size(), n);
    for (const auto& h : hits) EXPECT_OK(s->GetDocument(h.id).status());
    ASSERT_OK_AND_ASSIGN(auto w, IndexWriter::Open(dir.path()));
    ASSERT_OK(w->Commit());
  }
}

}  // namespace
}  // namespace hymir::index
