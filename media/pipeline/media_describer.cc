#include "hymir/media/media_describer.h"

#include <nlohmann/json.hpp>

#include "src/core/file_util.h"

namespace hymir::media {
namespace {

constexpr int kFormatVersion = 1;

}  // namespace

std::vector<index::VectorFieldSpec> MediaDescriber::FieldSpecs() const {
  index::VectorFieldSpec colour;
  colour.name = kColourField;
  colour.dimension = ColourHistogramDimension(options_.colour);
  colour.metric = index::VectorMetric::kInnerProduct;
  index::VectorFieldSpec texture;
  texture.name = kTextureField;
  texture.dimension = vocabulary_.words();
  texture.metric = index::VectorMetric::kInnerProduct;
  if (!options_.sound) return {colour, texture};
  index::VectorFieldSpec sound;
  sound.name = kSoundField;
  sound.dimension = SoundSpectrumDimension(options_.spectrum);
  sound.metric = index::VectorMetric::kInnerProduct;
  return {colour, texture, sound};
}

Result<std::vector<float>> MediaDescriber::DescribeSound(const Audio& audio) const {
  if (!options_.sound) return Status::NotSupported("this media index has no sound field");
  return SoundSpectrum(audio, options_.spectrum);
}

Result<std::map<std::string, std::vector<float>>> MediaDescriber::Describe(const Image& image) const {
  std::map<std::string, std::vector<float>> out;
  HYMIR_ASSIGN_OR_RETURN(out[kColourField], ColourHistogram(image, options_.colour));
  HYMIR_ASSIGN_OR_RETURN(LocalDescriptors local, GradientPatches(image, options_.patches));
  HYMIR_ASSIGN_OR_RETURN(out[kTextureField], vocabulary_.Encode(local));
  return out;
}

Status MediaDescriber::Save(const std::string& dir) const {
  const auto& o = options_;
  nlohmann::json j = {{"format", kFormatVersion},
                      {"colour", {{"bins_per_channel", o.colour.bins_per_channel}, {"min_alpha", o.colour.min_alpha}}},
                      {"patches",
                       {{"max_side", o.patches.max_side},
                        {"cell", o.patches.cell},
                        {"orientation_bins", o.patches.orientation_bins},
                        {"min_mean_magnitude", o.patches.min_mean_magnitude}}},
                      {"vocabulary",
                       {{"words", vocabulary_.words()},
                        {"dimension", vocabulary_.dimension()},
                        {"iterations", o.vocabulary.iterations},
                        {"seed", o.vocabulary.seed},
                        {"vectors", vocabulary_.word_vectors()}}}};
  if (o.sound)
    j["sound"] = {{"frame", o.spectrum.frame},   {"hop", o.spectrum.hop},       {"bands", o.spectrum.bands},
                  {"min_hz", o.spectrum.min_hz}, {"max_hz", o.spectrum.max_hz}, {"silence", o.spectrum.silence}};
  return internal::WriteFileAtomic(dir + "/" + kMediaFile, j.dump() + "\n");
}

Result<MediaDescriber> MediaDescriber::Load(const std::string& dir) {
  const std::string path = dir + "/" + kMediaFile;
  auto text = internal::ReadFile(path);
  if (!text.ok()) {
    if (text.status().IsNotFound()) return Status::NotFound(path + ": not a media index (no " + kMediaFile + ")");
    return text.status();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Status::Corruption(path + ": not JSON");
  try {
    if (j.at("format").get<int>() != kFormatVersion)
      return Status::Corruption(path + ": format " + j.at("format").dump() + ", expected " +
                                std::to_string(kFormatVersion));
    MediaDescriptorOptions o;
    o.colour.bins_per_channel = j.at("colour").at("bins_per_channel").get<int>();
    o.colour.min_alpha = j.at("colour").at("min_alpha").get<int>();
    const auto& p = j.at("patches");
    o.patches.max_side = p.at("max_side").get<int>();
    o.patches.cell = p.at("cell").get<int>();
    o.patches.orientation_bins = p.at("orientation_bins").get<int>();
    o.patches.min_mean_magnitude = p.at("min_mean_magnitude").get<float>();
    o.sound = j.contains("sound");
    if (o.sound) {
      const auto& snd = j.at("sound");
      o.spectrum.frame = snd.at("frame").get<int>();
      o.spectrum.hop = snd.at("hop").get<int>();
      o.spectrum.bands = snd.at("bands").get<int>();
      o.spectrum.min_hz = snd.at("min_hz").get<double>();
      o.spectrum.max_hz = snd.at("max_hz").get<double>();
      o.spectrum.silence = snd.at("silence").get<double>();
    }
    const auto& v = j.at("vocabulary");
    o.vocabulary.words = v.at("words").get<int>();
    o.vocabulary.iterations = v.at("iterations").get<int>();
    o.vocabulary.seed = v.at("seed").get<uint64_t>();
    const size_t dimension = v.at("dimension").get<size_t>();
    auto words = v.at("vectors").get<std::vector<float>>();
    if (dimension != GradientPatchDimension(o.patches) ||
        words.size() != dimension * static_cast<size_t>(o.vocabulary.words))
      return Status::Corruption(path + ": vocabulary of " + std::to_string(words.size()) + " values, expected " +
                                std::to_string(o.vocabulary.words) + " x " + std::to_string(dimension));
    auto vocabulary = VisualVocabulary::FromWords(std::move(words), dimension);
    if (!vocabulary.ok()) return Status::Corruption(path + ": " + vocabulary.status().message());
    return MediaDescriber(o, std::move(vocabulary).value());
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
}

}  // namespace hymir::media
