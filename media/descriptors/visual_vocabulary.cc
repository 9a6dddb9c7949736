#include "hymir/media/visual_vocabulary.h"

#include <cmath>
#include <string>

#include "hymir/index/kmeans.h"

namespace hymir::media {

Result<VisualVocabulary> VisualVocabulary::FromWords(std::vector<float> words, size_t dimension) {
  if (dimension == 0 || words.empty() || words.size() % dimension != 0)
    return Status::InvalidArgument("visual vocabulary: " + std::to_string(words.size()) + " values are not words x " +
                                   std::to_string(dimension));
  for (size_t w = 0; w < words.size() / dimension; ++w) {
    float* v = words.data() + w * dimension;
    double norm = 0;
    for (size_t j = 0; j < dimension; ++j) {
      if (!std::isfinite(v[j]))
        return Status::InvalidArgument("visual vocabulary: word " + std::to_string(w) + " is not finite");
      norm += static_cast<double>(v[j]) * v[j];
    }
    if (norm > 0)
      for (size_t j = 0; j < dimension; ++j) v[j] = static_cast<float>(v[j] / std::sqrt(norm));
  }
  return VisualVocabulary(std::move(words), dimension);
}

Result<VisualVocabulary> VisualVocabulary::Train(const LocalDescriptors& samples, const VocabularyOptions& o) {
  const size_t n = samples.count();
  if (o.words < 1 || n < static_cast<size_t>(o.words))
    return Status::InvalidArgument("visual vocabulary: " + std::to_string(n) + " local descriptors for " +
                                   std::to_string(o.words) + " words");
  std::vector<float> training;
  const size_t take = std::min(n, std::max<size_t>(o.max_training, static_cast<size_t>(o.words)));
  training.reserve(take * samples.dimension);
  for (size_t i = 0; i < take; ++i) {
    const size_t row = i * n / take;  // an even sample, deterministic
    training.insert(training.end(), samples.values.begin() + row * samples.dimension,
                    samples.values.begin() + (row + 1) * samples.dimension);
  }
  index::KMeansOptions km;
  km.clusters = o.words;
  km.iterations = o.iterations;
  km.spherical = true;
  km.seed = o.seed;
  HYMIR_ASSIGN_OR_RETURN(index::KMeansResult r, index::KMeans(training, samples.dimension, km));
  return FromWords(std::move(r.centroids), samples.dimension);
}

size_t VisualVocabulary::Nearest(const float* d) const {
  size_t best = 0;
  double best_dot = -INFINITY;
  for (size_t w = 0; w < words(); ++w) {
    const float* v = words_.data() + w * dimension_;
    double dot = 0;
    for (size_t j = 0; j < dimension_; ++j) dot += static_cast<double>(v[j]) * d[j];
    if (dot > best_dot) {
      best_dot = dot;
      best = w;
    }
  }
  return best;
}

Result<std::vector<float>> VisualVocabulary::Encode(const LocalDescriptors& local) const {
  std::vector<float> out(words(), 0.0f);
  if (local.count() == 0) return out;
  if (local.dimension != dimension_)
    return Status::InvalidArgument("visual vocabulary: local descriptors of dimension " +
                                   std::to_string(local.dimension) + ", vocabulary of " + std::to_string(dimension_));
  std::vector<double> counts(words(), 0.0);
  for (size_t i = 0; i < local.count(); ++i) counts[Nearest(local.values.data() + i * dimension_)] += 1;
  const double total = static_cast<double>(local.count());
  for (size_t w = 0; w < counts.size(); ++w) out[w] = static_cast<float>(std::sqrt(counts[w] / total));
  return out;
}

}  // namespace hymir::media
