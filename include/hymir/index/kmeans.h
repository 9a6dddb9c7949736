// KMeans: clusters vectors with FAISS's k-means, for splitting a corpus into
// sub-distributions (the re-ranker's expert pre-training, hymir/pretrain.h).
//
// Thread-safety: a pure function; may run concurrently (FAISS uses OpenMP
// inside one call).
#ifndef HYMIR_INDEX_KMEANS_H_
#define HYMIR_INDEX_KMEANS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hymir/result.h"

namespace hymir::index {

struct KMeansOptions {
  int clusters = 8;     // k >= 1
  int iterations = 25;  // Lloyd iterations. Default: 25.
  // Cluster by cosine: vectors are L2-normalised and centroids kept on the
  // unit sphere. Default: true (hymir's text embeddings are compared by cosine).
  bool spherical = true;
  uint64_t seed = 42;  // deterministic given the seed and the input
};

struct KMeansResult {
  std::vector<float> centroids;  // clusters x dim, row-major
  std::vector<int> assignment;   // per input vector, its nearest centroid
  std::vector<size_t> sizes;     // vectors per cluster
};

// Clusters the n vectors of `vectors` (n x dim, row-major). InvalidArgument
// when dim is 0, the size is not a multiple of dim, a value is not finite,
// or there are fewer vectors than clusters.
Result<KMeansResult> KMeans(const std::vector<float>& vectors, size_t dim, const KMeansOptions& options = {});

}  // namespace hymir::index

#endif  // HYMIR_INDEX_KMEANS_H_
