// Image decoding and the descriptors on tiny synthetic images, against values
// computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "hymir/media/audio.h"
#include "hymir/media/colour_histogram.h"
#include "hymir/media/gradient_patches.h"
#include "hymir/media/image.h"
#include "hymir/media/sound_spectrum.h"
#include "hymir/media/visual_vocabulary.h"
#include "tests/testutil/testutil.h"

namespace hymir::media {
namespace {

void Set(Image& img, int x, int y, uint8_t r, uint8_t g, uint8_t b, uint8_t a = 255) {
  uint8_t* p = img.pixel(x, y);
  p[0] = r;
  p[1] = g;
  p[2] = b;
  p[3] = a;
}

// A w x h image whose pixels with x >= split are `right`, the others `left`
// (grey levels, opaque unless alpha given).
Image VerticalStep(int w, int h, int split, uint8_t left, uint8_t right, uint8_t left_alpha = 255) {
  Image img = SolidImage(w, h, 0, 0, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x < split)
        Set(img, x, y, left, left, left, left_alpha);
      else
        Set(img, x, y, right, right, right);
  return img;
}

TEST(ImageTest, PngRoundTripKeepsPixelsAndAlpha) {
  Image img = SolidImage(3, 2, 10, 20, 30, 255);
  Set(img, 1, 0, 200, 100, 50, 0);
  Set(img, 2, 1, 1, 2, 3, 128);
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> png, EncodePng(img));
  ASSERT_OK_AND_ASSIGN(Image back, DecodeImage(png, "memory"));
  EXPECT_EQ(back, img);
}

TEST(ImageTest, FilesAndBadInput) {
  testing::TempDir tmp;
  Image img = SolidImage(4, 4, 0, 255, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> png, EncodePng(img));
  testing::WriteText(tmp.Sub("g.png"), std::string(png.begin(), png.end()));
  ASSERT_OK_AND_ASSIGN(Image read, ReadImage(tmp.Sub("g.png")));
  EXPECT_EQ(read, img);

  EXPECT_TRUE(ReadImage(tmp.Sub("absent.png")).status().IsNotFound());
  testing::WriteText(tmp.Sub("bad.png"), "this is not a png");
  Status bad = ReadImage(tmp.Sub("bad.png")).status();
  EXPECT_TRUE(bad.IsCorruption()) << bad.ToString();
  EXPECT_NE(bad.message().find("bad.png"), std::string::npos);
  testing::WriteText(tmp.Sub("v.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  EXPECT_EQ(ReadImage(tmp.Sub("v.svg")).status().code(), Status::Code::kNotSupported);
  testing::WriteText(tmp.Sub("cut.png"), std::string(png.begin(), png.begin() + png.size() / 2));
  EXPECT_FALSE(ReadImage(tmp.Sub("cut.png")).ok());
  Image inconsistent = img;
  inconsistent.rgba.pop_back();
  EXPECT_TRUE(EncodePng(inconsistent).status().IsInvalidArgument());
}

TEST(ImageTest, DownscaleKeepsAspectAndAveragesAreas) {
  Image img = VerticalStep(8, 4, 4, 0, 255);
  ASSERT_OK_AND_ASSIGN(Image small, Downscale(img, 4));
  EXPECT_EQ(small.width, 4);
  EXPECT_EQ(small.height, 2);
  EXPECT_EQ(small.pixel(0, 0)[0], 0);
  EXPECT_EQ(small.pixel(3, 1)[0], 255);
  ASSERT_OK_AND_ASSIGN(Image same, Downscale(img, 100));
  EXPECT_EQ(same, img);
}

TEST(ColourHistogramTest, HandComputedBinsOverOpaquePixels) {
  // Red, red, blue, and a transparent green that must not count.
  Image img = SolidImage(2, 2, 0, 0, 0);
  Set(img, 0, 0, 255, 0, 0);
  Set(img, 1, 0, 255, 0, 0);
  Set(img, 0, 1, 0, 0, 255);
  Set(img, 1, 1, 0, 255, 0, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<float> h, ColourHistogram(img));
  ASSERT_EQ(h.size(), 64u);
  // n = 4: red -> (3*4 + 0)*4 + 0 = 48, blue -> 3; counts 2 and 1 of 3.
  for (size_t j = 0; j < h.size(); ++j) {
    const double want = j == 48 ? std::sqrt(2.0 / 3) : j == 3 ? std::sqrt(1.0 / 3) : 0.0;
    EXPECT_NEAR(h[j], want, 1e-6) << "bin " << j;
  }
}

TEST(ColourHistogramTest, BinBordersAndOptions) {
  // 63 is the last value of bin 0, 64 the first of bin 1: (1*4 + 1)*4 + 2 = 22.
  ASSERT_OK_AND_ASSIGN(std::vector<float> h, ColourHistogram(SolidImage(1, 1, 64, 127, 128)));
  EXPECT_FLOAT_EQ(h[22], 1.0f);
  ASSERT_OK_AND_ASSIGN(std::vector<float> zero, ColourHistogram(SolidImage(1, 1, 63, 63, 63)));
  EXPECT_FLOAT_EQ(zero[0], 1.0f);
  ColourHistogramOptions two{.bins_per_channel = 2};
  ASSERT_OK_AND_ASSIGN(std::vector<float> h2, ColourHistogram(SolidImage(1, 1, 128, 0, 255), two));
  ASSERT_EQ(h2.size(), 8u);
  EXPECT_FLOAT_EQ(h2[(1 * 2 + 0) * 2 + 1], 1.0f);
  EXPECT_TRUE(ColourHistogram(SolidImage(2, 2, 9, 9, 9, 0)).status().IsInvalidArgument());  // all transparent
  EXPECT_TRUE(ColourHistogram(SolidImage(1, 1, 0, 0, 0), {.bins_per_channel = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(ColourHistogram(Image{}).status().IsInvalidArgument());
}

// The descriptor of the only patch of a 16 x 16 image (2 x 2 cells of 8).
std::vector<float> OnlyPatch(const Image& img) {
  auto d = GradientPatches(img);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  if (!d.ok() || d->count() != 1) {
    ADD_FAILURE() << "expected one patch";
    return {};
  }
  return d->values;
}

// Expected: `weight` in bin `bin` of each cell with weight > 0 (TL, TR, BL, BR).
std::vector<float> Expect(int bin, std::vector<double> cell_weight) {
  std::vector<float> v(32, 0.0f);
  double norm = 0;
  for (double w : cell_weight) norm += w * w;
  for (int c = 0; c < 4; ++c) v[c * 8 + bin] = static_cast<float>(cell_weight[c] / std::sqrt(norm));
  return v;
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t j = 0; j < got.size(); ++j) EXPECT_NEAR(got[j], want[j], 1e-6) << "value " << j;
}

TEST(GradientPatchesTest, StepEdgesLandInTheirOrientationBin) {
  // Black | white at x = 8: Sobel gx = 4 * 255 at x = 7 and x = 8, angle 0,
  // so every cell holds 8 * 1020 in bin 0: 0.5 each after normalisation.
  ExpectNear(OnlyPatch(VerticalStep(16, 16, 8, 0, 255)), Expect(0, {1, 1, 1, 1}));
  // White | black: angle 180 -> bin 4 of 8.
  ExpectNear(OnlyPatch(VerticalStep(16, 16, 8, 255, 0)), Expect(4, {1, 1, 1, 1}));
  // Transparent | black: composited over white, the same as white | black.
  ExpectNear(OnlyPatch(VerticalStep(16, 16, 8, 17, 0, /*left_alpha=*/0)), Expect(4, {1, 1, 1, 1}));
  // Edge at x = 4 (inside the left cells only): gx at x = 3 and 4.
  ExpectNear(OnlyPatch(VerticalStep(16, 16, 4, 0, 255)), Expect(0, {1, 0, 1, 0}));
  // Top black, bottom white: gy > 0 (y points down), angle 90 -> bin 2.
  Image horizontal = SolidImage(16, 16, 0, 0, 0);
  for (int y = 8; y < 16; ++y)
    for (int x = 0; x < 16; ++x) Set(horizontal, x, y, 255, 255, 255);
  ExpectNear(OnlyPatch(horizontal), Expect(2, {1, 1, 1, 1}));
}

TEST(GradientPatchesTest, FlatPatchesAndSmallImagesHaveNone) {
  ASSERT_OK_AND_ASSIGN(LocalDescriptors flat, GradientPatches(SolidImage(32, 32, 90, 90, 90)));
  EXPECT_EQ(flat.count(), 0u);
  EXPECT_EQ(flat.dimension, 32u);
  ASSERT_OK_AND_ASSIGN(LocalDescriptors tiny, GradientPatches(VerticalStep(15, 40, 8, 0, 255)));
  EXPECT_EQ(tiny.count(), 0u);  // one cell wide
  // 24 x 16 with the edge at 8: patches at cells (0,0) and (1,0); the second
  // sees the edge only in its left cells (x = 8 is in cell 1).
  ASSERT_OK_AND_ASSIGN(LocalDescriptors two, GradientPatches(VerticalStep(24, 16, 8, 0, 255)));
  ASSERT_EQ(two.count(), 2u);
  ExpectNear(std::vector<float>(two.values.begin() + 32, two.values.end()), Expect(0, {1, 0, 1, 0}));
  // Below the flat cut-off: a step of one grey level gives mean 4*2*8/256.
  ASSERT_OK_AND_ASSIGN(LocalDescriptors faint, GradientPatches(VerticalStep(16, 16, 8, 100, 101)));
  EXPECT_EQ(faint.count(), 0u);
  EXPECT_TRUE(GradientPatches(SolidImage(8, 8, 0, 0, 0), {.cell = 1}).status().IsInvalidArgument());
}

TEST(GradientPatchesTest, DownscalesLargeImages) {
  // 256 x 256 with the edge in the middle, max_side 16: one patch, as the
  // 16 x 16 image has.
  ASSERT_OK_AND_ASSIGN(LocalDescriptors d, GradientPatches(VerticalStep(256, 256, 128, 0, 255), {.max_side = 16}));
  ASSERT_EQ(d.count(), 1u);
  ExpectNear(d.values, Expect(0, {1, 1, 1, 1}));
}

TEST(VisualVocabularyTest, EncodesCountsOfNearestWords) {
  // Word 0: edges at 0 degrees, word 1: edges at 90 degrees.
  std::vector<float> words = Expect(0, {1, 1, 1, 1});
  auto w1 = Expect(2, {1, 1, 1, 1});
  words.insert(words.end(), w1.begin(), w1.end());
  ASSERT_OK_AND_ASSIGN(VisualVocabulary vocabulary, VisualVocabulary::FromWords(words, 32));
  EXPECT_EQ(vocabulary.words(), 2u);
  LocalDescriptors local;
  local.dimension = 32;
  for (auto v : {Expect(0, {1, 1, 1, 1}), Expect(0, {1, 0, 1, 0}), Expect(2, {0, 1, 0, 1})})
    local.values.insert(local.values.end(), v.begin(), v.end());
  ASSERT_OK_AND_ASSIGN(std::vector<float> e, vocabulary.Encode(local));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_NEAR(e[0], std::sqrt(2.0 / 3), 1e-6);
  EXPECT_NEAR(e[1], std::sqrt(1.0 / 3), 1e-6);
  ASSERT_OK_AND_ASSIGN(std::vector<float> none, vocabulary.Encode(LocalDescriptors{32, {}}));
  EXPECT_EQ(none, std::vector<float>(2, 0.0f));
  EXPECT_TRUE(vocabulary.Encode(LocalDescriptors{8, std::vector<float>(8, 1.0f)}).status().IsInvalidArgument());
  EXPECT_TRUE(VisualVocabulary::FromWords({1, 2, 3}, 2).status().IsInvalidArgument());
}

TEST(VisualVocabularyTest, KMeansFindsTheTwoKindsOfEdges) {
  LocalDescriptors samples;
  samples.dimension = 32;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> noise(0.0f, 0.05f);
  for (int i = 0; i < 100; ++i) {
    auto v = Expect(i % 2 == 0 ? 0 : 2, {1, 1, 1, 1});
    for (float& x : v) x += noise(rng);
    samples.values.insert(samples.values.end(), v.begin(), v.end());
  }
  ASSERT_OK_AND_ASSIGN(VisualVocabulary vocabulary, VisualVocabulary::Train(samples, {.words = 2}));
  ASSERT_EQ(vocabulary.words(), 2u);
  const auto a = Expect(0, {1, 1, 1, 1}), b = Expect(2, {1, 1, 1, 1});
  EXPECT_NE(vocabulary.Nearest(a.data()), vocabulary.Nearest(b.data()));
  EXPECT_TRUE(VisualVocabulary::Train(samples, {.words = 101}).status().IsInvalidArgument());
}

// `seconds` of a sine at `hz` (amplitude 0.5), sampled at `rate`.
Audio Sine(double hz, double seconds, int rate = 16000) {
  Audio a;
  a.sample_rate = rate;
  a.samples.resize(static_cast<size_t>(seconds * rate));
  for (size_t i = 0; i < a.samples.size(); ++i)
    a.samples[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * hz * i / rate));
  return a;
}

TEST(AudioTest, WavRoundTripAndBadFiles) {
  testing::TempDir tmp;
  Audio a = Sine(440, 0.1);
  ASSERT_OK(WriteWav(tmp.Sub("a.wav"), a));
  ASSERT_OK_AND_ASSIGN(Audio back, ReadAudio(tmp.Sub("a.wav")));
  EXPECT_EQ(back.sample_rate, 16000);
  ASSERT_EQ(back.samples.size(), a.samples.size());
  for (size_t i = 0; i < a.samples.size(); ++i) EXPECT_NEAR(back.samples[i], a.samples[i], 1.0 / 32768 + 1e-6);
  EXPECT_TRUE(ReadAudio(tmp.Sub("absent.ogg")).status().IsNotFound());
  testing::WriteText(tmp.Sub("bad.ogg"), "OggS but not really");
  Status bad = ReadAudio(tmp.Sub("bad.ogg")).status();
  EXPECT_TRUE(bad.IsCorruption()) << bad.ToString();
  EXPECT_NE(bad.message().find("bad.ogg"), std::string::npos);
  EXPECT_TRUE(WriteWav(tmp.Sub("z.wav"), Audio{}).IsInvalidArgument());
}

TEST(SoundSpectrumTest, TonesLandInTheirBands) {
  // 24 bands from 50 Hz to 8 kHz (r = 160^(1/24)): 1 kHz is in band
  // floor(24 ln(20) / ln(160)) = 14 ([966, 1192) Hz), 3 kHz in band
  // floor(24 ln(60) / ln(160)) = 19 ([2779, 3434) Hz). A steady tone: share 1
  // in its band in every frame, standard deviation 0.
  ASSERT_OK_AND_ASSIGN(std::vector<float> d, SoundSpectrum(Sine(1000, 1.0)));
  ASSERT_EQ(d.size(), 48u);
  EXPECT_NEAR(d[14], 1.0, 0.01);
  for (size_t j = 24; j < 48; ++j) EXPECT_NEAR(d[j], 0.0, 0.01) << j;
  ASSERT_OK_AND_ASSIGN(std::vector<float> d3, SoundSpectrum(Sine(3000, 1.0)));
  EXPECT_NEAR(d3[19], 1.0, 0.01);
  // Half 1 kHz, half 3 kHz: mean share 0.5 and standard deviation 0.5 in
  // both bands, so 0.5 each after normalisation.
  Audio both = Sine(1000, 1.0);
  Audio second = Sine(3000, 1.0);
  both.samples.insert(both.samples.end(), second.samples.begin(), second.samples.end());
  ASSERT_OK_AND_ASSIGN(std::vector<float> mix, SoundSpectrum(both));
  for (size_t j : {14u, 19u, 24u + 14u, 24u + 19u}) EXPECT_NEAR(mix[j], 0.5, 0.02) << j;
  // The sample rate moves the bins, not the bands: the same tone at 44.1 kHz.
  ASSERT_OK_AND_ASSIGN(std::vector<float> d44, SoundSpectrum(Sine(1000, 1.0, 44100)));
  EXPECT_NEAR(d44[14], 1.0, 0.01);
}

TEST(SoundSpectrumTest, SilenceAndBadOptions) {
  Audio quiet;
  quiet.sample_rate = 16000;
  quiet.samples.assign(16000, 0.0f);
  EXPECT_TRUE(SoundSpectrum(quiet).status().IsInvalidArgument());
  EXPECT_TRUE(SoundSpectrum(Sine(1000, 0.01)).status().IsInvalidArgument());  // shorter than a frame
  // Silent frames are skipped: a tone after silence is still a pure tone.
  Audio late = quiet;
  Audio tone = Sine(1000, 0.5);
  late.samples.insert(late.samples.end(), tone.samples.begin(), tone.samples.end());
  ASSERT_OK_AND_ASSIGN(std::vector<float> d, SoundSpectrum(late));
  EXPECT_NEAR(d[14], 1.0, 0.01);
  EXPECT_TRUE(SoundSpectrum(tone, {.frame = 1000}).status().IsInvalidArgument());  // not a power of two
  EXPECT_TRUE(SoundSpectrum(tone, {.bands = 1}).status().IsInvalidArgument());
  EXPECT_TRUE(SoundSpectrum(Audio{}).status().IsInvalidArgument());
}

}  // namespace
}  // namespace hymir::media
