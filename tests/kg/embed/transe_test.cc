// TransE: learning on a structured synthetic graph (held-out link prediction
// clearly above random), determinism, transe.bin round trip, and corrupted or
// missing files reported as Corruption / NotFound naming the file.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "hymir/kg/kg_embeddings.h"
#include "hymir/kg/triple_store.h"
#include "tests/testutil/testutil.h"

namespace hymir::kg {
namespace {

using hymir::testing::TempDir;

constexpr int kClusters = 8;
constexpr int kPerCluster = 25;

std::string Member(int c, int i) { return "ex:c" + std::to_string(c) + "_e" + std::to_string(i); }
std::string Hub(int c) { return "ex:hub" + std::to_string(c); }

// Eight clusters of 25 entities: each member points to its cluster's hub
// (member_of), to two random members of its cluster (near), to the next
// member (next); hubs form a ring (linked). Plus aliases, which TransE must
// skip.
std::vector<Triple> ClusterGraph() {
  std::mt19937 rng(7);
  std::vector<Triple> out;
  for (int c = 0; c < kClusters; ++c) {
    out.push_back({Hub(c), "ex:linked", Hub((c + 1) % kClusters)});
    for (int i = 0; i < kPerCluster; ++i) {
      out.push_back({Member(c, i), "ex:member_of", Hub(c)});
      out.push_back({Member(c, i), "ex:next", Member(c, (i + 1) % kPerCluster)});
      for (int k = 0; k < 2; ++k) {
        int j = static_cast<int>(rng() % kPerCluster);
        if (j == i) j = (j + 1) % kPerCluster;
        out.push_back({Member(c, i), "ex:near", Member(c, j)});
      }
    }
    out.push_back({Hub(c), std::string(kAliasRelation), "Hub number " + std::to_string(c)});
  }
  return out;
}

class TransETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = TripleStore::Open(tmp_.Sub("kg"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_OK(store_->AddBatch(ClusterGraph()));
  }

  static TransEOptions Small() {
    TransEOptions o;
    o.dim = 32;
    o.epochs = 60;
    o.batch_size = 128;
    o.learning_rate = 0.05;
    o.negatives = 2;
    return o;
  }

  std::string KgDir() const { return tmp_.Sub("kg"); }

  TempDir tmp_;
  std::unique_ptr<TripleStore> store_;
};

TEST_F(TransETest, HeldOutLinkPredictionClearlyBeatsRandom) {
  TransEOptions o = Small();
  o.holdout_fraction = 0.1;
  std::vector<double> losses;
  o.progress = [&](int epoch, double loss) {
    EXPECT_EQ(epoch, static_cast<int>(losses.size()) + 1);
    losses.push_back(loss);
  };
  LinkPredictionReport report;
  ASSERT_OK_AND_ASSIGN(KgEmbeddings emb, KgEmbeddings::Train(*store_, o, &report));
  ASSERT_EQ(losses.size(), static_cast<size_t>(o.epochs));
  EXPECT_LT(losses.back(), 0.5 * losses.front());

  const size_t entities = kClusters * (kPerCluster + 1);
  EXPECT_EQ(report.entities, entities);
  EXPECT_EQ(report.relations, 4u);  // hymir:alias skipped
  ASSERT_OK_AND_ASSIGN(uint64_t stored, store_->Count());
  EXPECT_EQ(report.train_triples + report.test_triples, stored - kClusters);  // minus the aliases
  EXPECT_GT(report.test_triples, 50u);
  EXPECT_EQ(report.evaluated_triples, report.test_triples);
  // Random ranking among 208 entities gives MRR ~ H(208)/208 ~ 0.03.
  EXPECT_LT(report.random_mrr, 0.1);
  EXPECT_GT(report.mrr, 0.2) << "random " << report.random_mrr;
  EXPECT_GT(report.mrr, 5 * report.random_mrr);
  EXPECT_GT(report.hits_at_10, 0.4);
  EXPECT_GT(report.hits_at_10, 3 * report.random_hits_at_10);
  EXPECT_GE(report.filtered_mrr, report.mrr);
  EXPECT_GE(report.filtered_hits_at_10, report.hits_at_10);
  EXPECT_GT(report.seconds, 0);
  std::printf("held-out %zu: MRR %.3f Hits@10 %.3f (filtered %.3f / %.3f), random MRR %.3f Hits@10 %.3f\n",
              report.evaluated_triples, report.mrr, report.hits_at_10, report.filtered_mrr, report.filtered_hits_at_10,
              report.random_mrr, report.random_hits_at_10);

  EXPECT_EQ(emb.num_entities(), entities);
  EXPECT_EQ(emb.dim(), 32);
  EXPECT_FALSE(emb.Entity("Hub number 0").has_value());  // aliases are not entities
  EXPECT_FALSE(emb.Relation(kAliasRelation).has_value());
  ASSERT_TRUE(emb.Entity(Hub(3)).has_value());
  EXPECT_EQ(emb.Entity(Hub(3))->size(), 32u);
  EXPECT_NEAR(emb.Similarity(Hub(3), Hub(3)), 1.0, 1e-5);

  // Members of a cluster end up closer to each other than to other clusters.
  double within = 0, across = 0;
  int nw = 0, na = 0;
  for (int c = 0; c < kClusters; ++c) {
    for (int i = 0; i < kPerCluster; i += 3) {
      within += emb.Similarity(Member(c, i), Member(c, (i + 7) % kPerCluster));
      ++nw;
      across += emb.Similarity(Member(c, i), Member((c + 3) % kClusters, i));
      ++na;
    }
  }
  EXPECT_GT(within / nw, across / na + 0.2) << "within " << within / nw << " across " << across / na;
  // A true triple scores better than its corruption.
  EXPECT_LT(*emb.Distance(Member(2, 4), "ex:member_of", Hub(2)), *emb.Distance(Member(2, 4), "ex:member_of", Hub(5)));
  EXPECT_FALSE(emb.Distance("ex:nope", "ex:member_of", Hub(2)).has_value());
  EXPECT_EQ(emb.Similarity("ex:nope", Hub(2)), 0.0);
}

TEST_F(TransETest, L1AndSgdAlsoLearn) {
  TransEOptions o = Small();
  o.holdout_fraction = 0.1;
  o.norm = TransENorm::kL1;
  LinkPredictionReport l1;
  ASSERT_OK(KgEmbeddings::Train(*store_, o, &l1).status());
  EXPECT_GT(l1.mrr, 3 * l1.random_mrr) << "L1 " << l1.mrr << " random " << l1.random_mrr;

  o.norm = TransENorm::kL2;
  o.optimizer = TransEOptimizer::kSgd;
  o.learning_rate = 0.01;
  o.epochs = 150;
  o.batch_size = 32;
  LinkPredictionReport sgd;
  ASSERT_OK(KgEmbeddings::Train(*store_, o, &sgd).status());
  EXPECT_GT(sgd.mrr, 3 * sgd.random_mrr) << "SGD " << sgd.mrr << " random " << sgd.random_mrr;
}

void ExpectSameVectors(const KgEmbeddings& a, const KgEmbeddings& b) {
  ASSERT_EQ(a.dim(), b.dim());
  ASSERT_EQ(a.norm(), b.norm());
  ASSERT_TRUE(std::ranges::equal(a.EntityNames(), b.EntityNames()));
  ASSERT_TRUE(std::ranges::equal(a.RelationNames(), b.RelationNames()));
  for (const std::string& e : a.EntityNames()) {
    auto va = a.Entity(e), vb = b.Entity(e);
    ASSERT_TRUE(va && vb) << e;
    ASSERT_EQ(std::memcmp(va->data(), vb->data(), va->size_bytes()), 0) << e;
  }
  for (const std::string& r : a.RelationNames()) {
    auto va = a.Relation(r), vb = b.Relation(r);
    ASSERT_TRUE(va && vb) << r;
    ASSERT_EQ(std::memcmp(va->data(), vb->data(), va->size_bytes()), 0) << r;
  }
}

TEST_F(TransETest, SameSeedSameVectors) {
  TransEOptions o = Small();
  o.epochs = 5;
  o.holdout_fraction = 0.05;
  ASSERT_OK_AND_ASSIGN(KgEmbeddings a, KgEmbeddings::Train(*store_, o));
  ASSERT_OK_AND_ASSIGN(KgEmbeddings b, KgEmbeddings::Train(*store_, o));
  ExpectSameVectors(a, b);

  o.threads = 2;  // reproducible for a given thread count too
  o.batch_size = 512;
  ASSERT_OK_AND_ASSIGN(KgEmbeddings c, KgEmbeddings::Train(*store_, o));
  ASSERT_OK_AND_ASSIGN(KgEmbeddings d, KgEmbeddings::Train(*store_, o));
  ExpectSameVectors(c, d);

  o.threads = 1;
  o.seed = 43;
  ASSERT_OK_AND_ASSIGN(KgEmbeddings e, KgEmbeddings::Train(*store_, o));
  auto va = a.Entity(Hub(0)), ve = e.Entity(Hub(0));
  ASSERT_TRUE(va && ve);
  EXPECT_NE(std::memcmp(va->data(), ve->data(), va->size_bytes()), 0);
}

TEST_F(TransETest, SaveLoadRoundTrip) {
  TransEOptions o = Small();
  o.epochs = 3;
  ASSERT_OK_AND_ASSIGN(KgEmbeddings emb, KgEmbeddings::Train(*store_, o));
  ASSERT_OK(emb.Save(KgDir()));
  EXPECT_TRUE(std::filesystem::exists(KgDir() + "/transe.bin"));
  ASSERT_OK_AND_ASSIGN(KgEmbeddings loaded, KgEmbeddings::Load(KgDir()));
  ExpectSameVectors(emb, loaded);
  EXPECT_EQ(loaded.Similarity(Member(1, 1), Member(1, 2)), emb.Similarity(Member(1, 1), Member(1, 2)));

  // Saving again replaces the file; the store still opens next to it.
  o.norm = TransENorm::kL1;
  ASSERT_OK_AND_ASSIGN(KgEmbeddings l1, KgEmbeddings::Train(*store_, o));
  ASSERT_OK(l1.Save(KgDir()));
  ASSERT_OK_AND_ASSIGN(KgEmbeddings loaded_l1, KgEmbeddings::Load(KgDir()));
  ExpectSameVectors(l1, loaded_l1);
  store_.reset();
  auto reopened = TripleStore::Open(KgDir());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
}

TEST_F(TransETest, MissingFileIsNotFoundNamingIt) {
  auto r = KgEmbeddings::Load(KgDir());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(KgDir() + "/transe.bin"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(KgEmbeddings().Save(tmp_.Sub("no/such/dir")).IsNotFound());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(TransETest, CorruptedFileIsCorruptionNamingIt) {
  TransEOptions o = Small();
  o.epochs = 1;
  ASSERT_OK_AND_ASSIGN(KgEmbeddings emb, KgEmbeddings::Train(*store_, o));
  ASSERT_OK(emb.Save(KgDir()));
  const std::string path = KgDir() + "/transe.bin";
  const std::string good = ReadAll(path);
  ASSERT_GT(good.size(), 1000u);

  struct Damage {
    const char* what;
    std::string bytes;
  };
  std::vector<Damage> cases;
  for (size_t pos :
       {size_t{0}, size_t{9}, size_t{13}, size_t{30}, size_t{45}, good.size() / 2, good.size() - 5, good.size() - 1}) {
    std::string b = good;
    b[pos] = static_cast<char>(b[pos] ^ 0x5a);
    cases.push_back({"flipped byte", b});
  }
  cases.push_back({"truncated by one", good.substr(0, good.size() - 1)});
  cases.push_back({"truncated to half", good.substr(0, good.size() / 2)});
  cases.push_back({"truncated into the header", good.substr(0, 20)});
  cases.push_back({"empty", ""});
  cases.push_back({"trailing byte", good + "x"});
  for (const Damage& d : cases) {
    hymir::testing::WriteText(path, d.bytes);
    auto r = KgEmbeddings::Load(KgDir());
    ASSERT_FALSE(r.ok()) << d.what;
    EXPECT_TRUE(r.status().IsCorruption()) << d.what << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << d.what << ": " << r.status().ToString();
  }
  hymir::testing::WriteText(path, good);
  ASSERT_OK(KgEmbeddings::Load(KgDir()).status());
}

TEST_F(TransETest, BadOptionsAndEmptyGraphAreInvalidArgument) {
  struct Case {
    const char* field;
    void (*set)(TransEOptions&);
  };
  const Case cases[] = {
      {"dim", [](TransEOptions& o) { o.dim = 0; }},
      {"epochs", [](TransEOptions& o) { o.epochs = -1; }},
      {"learning_rate", [](TransEOptions& o) { o.learning_rate = 0; }},
      {"margin", [](TransEOptions& o) { o.margin = -1; }},
      {"negatives", [](TransEOptions& o) { o.negatives = 0; }},
      {"batch_size", [](TransEOptions& o) { o.batch_size = 0; }},
      {"holdout_fraction", [](TransEOptions& o) { o.holdout_fraction = 0.9; }},
      {"threads", [](TransEOptions& o) { o.threads = 0; }},
  };
  for (const Case& c : cases) {
    TransEOptions o;
    c.set(o);
    auto r = KgEmbeddings::Train(*store_, o);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << r.status().ToString();
  }
  TransEOptions all_skipped;
  all_skipped.skip_relations = {"ex:member_of", "ex:next", "ex:near", "ex:linked", std::string(kAliasRelation)};
  auto r = KgEmbeddings::Train(*store_, all_skipped);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
}

}  // namespace
}  // namespace hymir::kg
