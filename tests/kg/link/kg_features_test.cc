// KG features: hand-computed values on a small graph, and a brute-force
// oracle over the adjacency sets of random graphs.
#include "hymir/kg/kg_features.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/kg/link/link_testutil.h"

namespace hymir::kg {
namespace {

using hymir::kg::testing::MakeStore;
using hymir::testing::TempDir;

// q1 -r- a (twice: r and s), a - b, a - d, q1 - c, q2 - c, c - d, b - q2,
// plus aliases, which never count as edges.
std::unique_ptr<TripleStore> HandGraph(const std::string& dir) {
  return MakeStore(dir,
                   {{"q1", "r", "a"},
                    {"q1", "s", "a"},
                    {"a", "r", "b"},
                    {"a", "r", "d"},
                    {"q1", "r", "c"},
                    {"q2", "r", "c"},
                    {"c", "r", "d"},
                    {"b", "r", "q2"}},
                   {{"q1", "q one"}, {"a", "q one"}, {"x", "q one"}});
}

KgFeatures Expected(double q, double m, double o1e, double o2e, double p1, double p2, double paths) {
  KgFeatures f;
  f.query_entities = q;
  f.matched = m;
  f.matched_fraction = q > 0 ? m / q : 0;
  f.one_hop_entities = o1e;
  f.two_hop_entities = o2e;
  f.one_hop_pairs = p1;
  f.two_hop_pairs = p2;
  f.two_hop_paths = paths;
  return f;
}

TEST(KgFeaturesTest, NamesMatchVector) {
  KgFeatures f = Expected(2, 1, 1, 2, 1, 4, 5);
  std::vector<double> v = f.ToVector();
  ASSERT_EQ(v.size(), KgFeatures::kCount);
  ASSERT_EQ(KgFeatures::kNames.size(), KgFeatures::kCount);
  EXPECT_EQ(KgFeatures::kNames[2], "kg_matched_fraction");
  EXPECT_EQ(v[2], 0.5);
  EXPECT_EQ(KgFeatures::kNames[7], "kg_two_hop_paths");
  EXPECT_EQ(v[7], 5);
}

TEST(KgFeaturesTest, HandComputedValues) {
  TempDir tmp;
  auto store = HandGraph(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> query = {"q1", "q2", "q1", ""};
  ASSERT_OK_AND_ASSIGN(QueryKgContext ctx, QueryKgContext::Build(*store, query));
  EXPECT_EQ(ctx.entities(), (std::vector<std::string>{"q1", "q2"}));
  EXPECT_FALSE(ctx.truncated());

  // q1: 1 hop {a, c}; 2 hops b (via a), d (via a and c), q2 (via c).
  // q2: 1 hop {c, b}; 2 hops q1 (via c), d (via c), a (via b).
  // Doc {a, d, q2}: q2 matched; (q1,a) one hop; two-hop pairs (q1,d) x2,
  // (q1,q2), (q2,d), (q2,a) -> 4 pairs, 5 paths.
  std::vector<std::string> doc = {"a", "d", "q2", "unknown", "a"};
  EXPECT_EQ(ctx.ComputeFeatures(doc), Expected(2, 1, 1, 2, 1, 4, 5));
  // Doc {c}: one hop of both, two hops of neither.
  std::vector<std::string> c = {"c"};
  EXPECT_EQ(ctx.ComputeFeatures(c), Expected(2, 0, 2, 2, 2, 0, 0));
  // Doc {q1, q2, b}: both matched; (q1,q2) two-hop, (q2,q1) two-hop,
  // (q2,b) one hop, (q1,b) two-hop via a.
  std::vector<std::string> qs = {"q1", "q2", "b"};
  EXPECT_EQ(ctx.ComputeFeatures(qs), Expected(2, 2, 1, 2, 1, 3, 3));
  EXPECT_EQ(ctx.ComputeFeatures({}), Expected(2, 0, 0, 0, 0, 0, 0));
  // Aliases are no edges: "x" shares the alias "q one" with q1 and a.
  std::vector<std::string> x = {"x", "q one"};
  EXPECT_EQ(ctx.ComputeFeatures(x), Expected(2, 0, 0, 0, 0, 0, 0));

  ASSERT_OK_AND_ASSIGN(QueryKgContext empty, QueryKgContext::Build(*store, {}));
  EXPECT_EQ(empty.ComputeFeatures(doc), KgFeatures{});
  std::vector<std::string> unknown = {"nobody"};
  ASSERT_OK_AND_ASSIGN(QueryKgContext none, QueryKgContext::Build(*store, unknown));
  std::vector<std::string> self = {"nobody", "a"};
  EXPECT_EQ(none.ComputeFeatures(self), Expected(1, 1, 0, 0, 0, 0, 0));
}

TEST(KgFeaturesTest, BoundsTruncate) {
  TempDir tmp;
  auto store = HandGraph(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> query = {"q1"};
  QueryKgOptions tight;
  tight.max_nodes = 2;  // q1's two 1-hop nodes only
  ASSERT_OK_AND_ASSIGN(QueryKgContext ctx, QueryKgContext::Build(*store, query, tight));
  EXPECT_TRUE(ctx.truncated());
  std::vector<std::string> doc = {"a", "d"};
  EXPECT_EQ(ctx.ComputeFeatures(doc), Expected(1, 0, 1, 1, 1, 0, 0));
  QueryKgOptions few_edges;
  few_edges.max_edges_per_node = 1;
  ASSERT_OK_AND_ASSIGN(QueryKgContext cut, QueryKgContext::Build(*store, query, few_edges));
  EXPECT_TRUE(cut.truncated());
}

// Brute force over adjacency sets, straight from the header's definitions.
KgFeatures Oracle(const std::map<std::string, std::set<std::string>>& adj, const std::vector<std::string>& query,
                  const std::vector<std::string>& doc) {
  std::vector<std::string> qs;
  for (const auto& q : query) {
    if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
  }
  std::set<std::string> ds(doc.begin(), doc.end());
  auto nb = [&](const std::string& n) {
    auto it = adj.find(n);
    return it == adj.end() ? std::set<std::string>{} : it->second;
  };
  KgFeatures f;
  f.query_entities = qs.size();
  for (const auto& q : qs) {
    bool one = false, two = false;
    if (ds.count(q)) f.matched += 1;
    for (const auto& d : ds) {
      if (d == q) continue;
      bool edge = nb(q).count(d) > 0;
      int middles = 0;
      for (const auto& m : nb(q)) {
        if (m != d && nb(m).count(d)) ++middles;
      }
      f.one_hop_pairs += edge;
      f.two_hop_pairs += middles > 0;
      f.two_hop_paths += middles;
      one = one || edge;
      two = two || edge || middles > 0;
    }
    f.one_hop_entities += one;
    f.two_hop_entities += two;
  }
  f.matched_fraction = qs.empty() ? 0 : f.matched / qs.size();
  return f;
}

std::string Name(const char* prefix, int i) {
  std::string s = prefix;
  s += std::to_string(i);  // not `prefix + to_string`: GCC 12 -Wrestrict false positive
  return s;
}

TEST(KgFeaturesTest, MatchesBruteForceOnRandomGraphs) {
  std::mt19937 rng(42);
  for (int round = 0; round < 5; ++round) {
    TempDir tmp;
    const int n = 25;
    std::uniform_int_distribution<int> node(0, n - 1), rel(0, 2);
    std::vector<Triple> edges;
    std::map<std::string, std::set<std::string>> adj;
    for (int e = 0; e < 50; ++e) {
      std::string s = Name("n", node(rng)), o = Name("n", node(rng));
      edges.push_back({s, Name("r", rel(rng)), o});
      if (s != o) {
        adj[s].insert(o);
        adj[o].insert(s);
      }
    }
    auto store = MakeStore(tmp.Sub("kg"), edges, {});
    ASSERT_NE(store, nullptr);
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<std::string> query, doc;
      for (int i = 0; i < 3; ++i) query.push_back(Name("n", node(rng)));
      for (int i = 0; i < 8; ++i) doc.push_back(Name("n", node(rng)));
      ASSERT_OK_AND_ASSIGN(QueryKgContext ctx, QueryKgContext::Build(*store, query));
      ASSERT_FALSE(ctx.truncated());
      EXPECT_EQ(ctx.ComputeFeatures(doc), Oracle(adj, query, doc)) << "round " << round << " trial " << trial;
    }
  }
}

TEST(KgFeaturesTest, ConcurrentComputeAgrees) {
  TempDir tmp;
  auto store = HandGraph(tmp.Sub("kg"));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> query = {"q1", "q2"};
  ASSERT_OK_AND_ASSIGN(QueryKgContext ctx, QueryKgContext::Build(*store, query));
  std::vector<std::string> doc = {"a", "d", "q2"};
  const KgFeatures expected = ctx.ComputeFeatures(doc);
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) bad[t] += !(ctx.ComputeFeatures(doc) == expected);
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

}  // namespace
}  // namespace hymir::kg
