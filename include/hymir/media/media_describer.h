// MediaDescriber: turns an image into the vectors of a media index's vector
// fields: "colour" (colour_histogram.h) and "texture" (gradient patches
// encoded with a visual vocabulary, visual_vocabulary.h), and a sound into
// field "sound" (sound_spectrum.h). The options and the
// vocabulary are stored in the index directory (<dir>/media.json, written by
// ingest) so that query images are described exactly as the indexed ones.
//
// Thread-safety: immutable after construction; Describe() may run concurrently.
#ifndef HYMIR_MEDIA_MEDIA_DESCRIBER_H_
#define HYMIR_MEDIA_MEDIA_DESCRIBER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hymir/index/vector_field.h"
#include "hymir/media/colour_histogram.h"
#include "hymir/media/gradient_patches.h"
#include "hymir/media/image.h"
#include "hymir/media/sound_spectrum.h"
#include "hymir/media/visual_vocabulary.h"
#include "hymir/result.h"

namespace hymir::media {

inline constexpr const char* kColourField = "colour";
inline constexpr const char* kTextureField = "texture";
inline constexpr const char* kSoundField = "sound";
// The file, in an index directory, that holds the describer.
inline constexpr const char* kMediaFile = "media.json";

struct MediaDescriptorOptions {
  ColourHistogramOptions colour;
  GradientPatchOptions patches;
  VocabularyOptions vocabulary;
  // Index items' sounds in field "sound" (sound_spectrum.h). Default: true.
  bool sound = true;
  SoundSpectrumOptions spectrum;
};

class MediaDescriber {
 public:
  MediaDescriber(MediaDescriptorOptions options, VisualVocabulary vocabulary)
      : options_(std::move(options)), vocabulary_(std::move(vocabulary)) {}

  // Reads <dir>/media.json. NotFound when the index has none (not a media
  // index), Corruption naming the file when it does not parse or its format
  // version is unknown.
  static Result<MediaDescriber> Load(const std::string& dir);
  // Writes <dir>/media.json atomically.
  Status Save(const std::string& dir) const;

  // The vector fields this describer fills (flat, metric ip: the descriptors
  // are unit vectors or zero).
  std::vector<index::VectorFieldSpec> FieldSpecs() const;
  // Vectors by field name. Fails as ColourHistogram does (no opaque pixel).
  Result<std::map<std::string, std::vector<float>>> Describe(const Image& image) const;
  // The "sound" vector. NotSupported when the index was built without
  // sounds; fails as SoundSpectrum does (silence).
  Result<std::vector<float>> DescribeSound(const Audio& audio) const;

  const MediaDescriptorOptions& options() const { return options_; }
  const VisualVocabulary& vocabulary() const { return vocabulary_; }

 private:
  MediaDescriptorOptions options_;
  VisualVocabulary vocabulary_;
};

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_MEDIA_DESCRIBER_H_
