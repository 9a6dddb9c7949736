// KMeans (hymir/index/kmeans.h) against planted clusters.
#include "hymir/index/kmeans.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "tests/testutil/testutil.h"

namespace hymir::index {
namespace {

// Three tight blobs around orthogonal directions; returns n x 8 values and
// each vector's blob.
std::vector<float> Blobs(size_t per_blob, std::vector<int>* truth) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> x;
  for (int b = 0; b < 3; ++b)
    for (size_t i = 0; i < per_blob; ++i) {
      for (int j = 0; j < 8; ++j) x.push_back((j == b ? 1.0f : 0.0f) + noise(rng));
      truth->push_back(b);
    }
  return x;
}

TEST(KMeansTest, RecoversPlantedClustersDeterministically) {
  std::vector<int> truth;
  const auto x = Blobs(50, &truth);
  KMeansOptions o;
  o.clusters = 3;
  ASSERT_OK_AND_ASSIGN(auto a, KMeans(x, 8, o));
  ASSERT_EQ(a.assignment.size(), truth.size());
  ASSERT_EQ(a.centroids.size(), 3u * 8u);
  // Each blob lands whole in one cluster, and the blobs in different ones.
  std::set<int> used;
  for (int b = 0; b < 3; ++b) {
    const int c = a.assignment[b * 50];
    for (size_t i = 0; i < 50; ++i) EXPECT_EQ(a.assignment[b * 50 + i], c);
    used.insert(c);
  }
  EXPECT_EQ(used.size(), 3u);
  EXPECT_EQ(a.sizes, (std::vector<size_t>{50, 50, 50}));
  ASSERT_OK_AND_ASSIGN(auto b, KMeans(x, 8, o));
  EXPECT_EQ(a.assignment, b.assignment);
}

TEST(KMeansTest, BadInputIsRefused) {
  std::vector<int> truth;
  const auto x = Blobs(2, &truth);
  KMeansOptions o;
  o.clusters = 10;  // more clusters than vectors
  EXPECT_TRUE(KMeans(x, 8, o).status().IsInvalidArgument());
  o.clusters = 2;
  EXPECT_TRUE(KMeans(x, 7, o).status().IsInvalidArgument());  // not n x 7
  EXPECT_TRUE(KMeans(x, 0, o).status().IsInvalidArgument());
  auto bad = x;
  bad[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(KMeans(bad, 8, o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace hymir::index
