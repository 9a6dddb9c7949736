// VisualVocabulary: a bag-of-visual-words encoder. The words are centroids of
// local descriptors (gradient_patches.h) learnt by FAISS spherical k-means
// (index/kmeans.h); an image's descriptor counts its local descriptors by
// nearest word (largest inner product, ties to the lower word), L1-normalised
// then square-rooted (Hellinger; unit L2 norm, inner product = Bhattacharyya
// coefficient). An image with no local descriptor encodes as the zero vector.
//
// Thread-safety: immutable after construction; Encode() may run concurrently.
#ifndef HYMIR_MEDIA_VISUAL_VOCABULARY_H_
#define HYMIR_MEDIA_VISUAL_VOCABULARY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hymir/media/gradient_patches.h"
#include "hymir/result.h"

namespace hymir::media {

struct VocabularyOptions {
  // k-means clusters. Default: 256 (on the Tux Paint stamps 256 words gave
  // texture P@10 0.407 / mAP 0.248 against 0.385 / 0.233 with 64; bench/results, multimedia report).
  int words = 256;
  int iterations = 20;  // Lloyd iterations. Default: 20.
  // At most this many local descriptors (an even sample) are clustered: the
  // k-means cost is linear in it. Default: 40000 (156 per word at 256 words;
  // FAISS warns below 39).
  size_t max_training = 40000;
  uint64_t seed = 42;
};

class VisualVocabulary {
 public:
  // From given words (words x dimension floats, row-major; each row is
  // L2-normalised here). InvalidArgument for an empty or ragged input.
  static Result<VisualVocabulary> FromWords(std::vector<float> words, size_t dimension);
  // Learns the words from `samples` (LocalDescriptors of many images pooled).
  // InvalidArgument when there are fewer samples than words.
  static Result<VisualVocabulary> Train(const LocalDescriptors& samples, const VocabularyOptions& options = {});

  size_t words() const { return dimension_ == 0 ? 0 : words_.size() / dimension_; }
  size_t dimension() const { return dimension_; }  // of a local descriptor
  const std::vector<float>& word_vectors() const { return words_; }

  // The image descriptor (words() floats). InvalidArgument when the local
  // descriptors' dimension differs from the vocabulary's.
  Result<std::vector<float>> Encode(const LocalDescriptors& local) const;
  // Index of the nearest word of one local descriptor (dimension() floats).
  size_t Nearest(const float* descriptor) const;

 private:
  VisualVocabulary(std::vector<float> words, size_t dimension) : words_(std::move(words)), dimension_(dimension) {}
  std::vector<float> words_;
  size_t dimension_ = 0;
};

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_VISUAL_VOCABULARY_H_
