// KMeans on faiss::Clustering.
#include "hymir/index/kmeans.h"

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/impl/FaissException.h>

#include <cmath>
#include <string>

namespace hymir::index {

Result<KMeansResult> KMeans(const std::vector<float>& vectors, size_t dim, const KMeansOptions& options) {
  if (dim == 0 || vectors.size() % dim != 0)
    return Status::InvalidArgument("kmeans: " + std::to_string(vectors.size()) + " values are not n x " +
                                   std::to_string(dim));
  const size_t n = vectors.size() / dim;
  if (options.clusters < 1 || n < static_cast<size_t>(options.clusters))
    return Status::InvalidArgument("kmeans: " + std::to_string(n) + " vectors for " + std::to_string(options.clusters) +
                                   " clusters");
  std::vector<float> x = vectors;
  for (size_t i = 0; i < n; ++i) {
    float* v = x.data() + i * dim;
    double norm = 0;
    for (size_t j = 0; j < dim; ++j) {
      if (!std::isfinite(v[j]))
        return Status::InvalidArgument("kmeans: vector " + std::to_string(i) + " is not finite");
      norm += static_cast<double>(v[j]) * v[j];
    }
    if (options.spherical && norm > 0)
      for (size_t j = 0; j < dim; ++j) v[j] = static_cast<float>(v[j] / std::sqrt(norm));
  }
  try {
    faiss::ClusteringParameters cp;
    cp.niter = std::max(1, options.iterations);
    cp.spherical = options.spherical;
    cp.seed = static_cast<int>(options.seed & 0x7fffffff);
    cp.verbose = false;
    // Use every vector (FAISS samples 256 per centroid by default).
    cp.max_points_per_centroid = static_cast<int>(std::max<size_t>(256, n / options.clusters + 1));
    faiss::Clustering clustering(static_cast<int>(dim), options.clusters, cp);
    faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(dim));
    clustering.train(static_cast<faiss::Index::idx_t>(n), x.data(), index);
    KMeansResult r;
    r.centroids = clustering.centroids;
    std::vector<float> distance(n);
    std::vector<faiss::Index::idx_t> label(n);
    index.search(static_cast<faiss::Index::idx_t>(n), x.data(), 1, distance.data(), label.data());
    r.assignment.resize(n);
    r.sizes.assign(options.clusters, 0);
    for (size_t i = 0; i < n; ++i) {
      r.assignment[i] = static_cast<int>(label[i]);
      ++r.sizes[r.assignment[i]];
    }
    return r;
  } catch (const faiss::FaissException& e) {
    return Status::Internal(std::string("kmeans: ") + e.what());
  }
}

}  // namespace hymir::index
