// The spectral-shape descriptor on OpenCV's DFT.
#include "hymir/media/sound_spectrum.h"

#include <cmath>
#include <opencv2/core.hpp>
#include <string>

namespace hymir::media {

size_t SoundSpectrumDimension(const SoundSpectrumOptions& o) { return 2 * static_cast<size_t>(std::max(0, o.bands)); }

Result<std::vector<float>> SoundSpectrum(const Audio& audio, const SoundSpectrumOptions& o) {
  if (o.frame < 64 || (o.frame & (o.frame - 1)) != 0 || o.hop < 1 || o.bands < 2 || o.bands > 128 || !(o.min_hz > 0) ||
      !(o.max_hz > o.min_hz) || !(o.silence >= 0))
    return Status::InvalidArgument(
        "sound spectrum: bad options (frame a power of two >= 64, hop >= 1, "
        "2..128 bands, 0 < min_hz < max_hz, silence >= 0)");
  if (audio.sample_rate <= 0) return Status::InvalidArgument("sound spectrum: sample rate must be > 0");
  const double top = std::min(o.max_hz, audio.sample_rate / 2.0);
  if (!(top > o.min_hz))
    return Status::InvalidArgument("sound spectrum: sample rate " + std::to_string(audio.sample_rate) +
                                   " Hz leaves no band above " + std::to_string(o.min_hz) + " Hz");
  const int bins = o.frame / 2 + 1;
  // Band of each DFT bin (-1: outside [min_hz, top)).
  std::vector<int> band_of(bins, -1);
  const double log_ratio = std::log(top / o.min_hz);
  for (int k = 0; k < bins; ++k) {
    const double hz = static_cast<double>(k) * audio.sample_rate / o.frame;
    if (hz < o.min_hz || hz >= top) continue;
    band_of[k] = std::min(o.bands - 1, static_cast<int>(std::floor(std::log(hz / o.min_hz) / log_ratio * o.bands)));
  }
  std::vector<float> window(o.frame);
  for (int i = 0; i < o.frame; ++i) window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * i / o.frame));
  std::vector<double> sum(o.bands, 0.0), sum_sq(o.bands, 0.0), shape(o.bands);
  size_t frames = 0;
  try {
    cv::Mat in(1, o.frame, CV_32F), spectrum;
    for (size_t start = 0; start + o.frame <= audio.samples.size(); start += o.hop) {
      double power = 0;
      for (int i = 0; i < o.frame; ++i) {
        const float x = audio.samples[start + i];
        power += static_cast<double>(x) * x;
        in.at<float>(0, i) = x * window[i];
      }
      if (power / o.frame < o.silence) continue;
      cv::dft(in, spectrum, cv::DFT_COMPLEX_OUTPUT);
      std::fill(shape.begin(), shape.end(), 0.0);
      double total = 0;
      for (int k = 0; k < bins; ++k) {
        if (band_of[k] < 0) continue;
        const cv::Vec2f c = spectrum.at<cv::Vec2f>(0, k);
        const double p = static_cast<double>(c[0]) * c[0] + static_cast<double>(c[1]) * c[1];
        shape[band_of[k]] += p;
        total += p;
      }
      if (total <= 0) continue;
      for (int b = 0; b < o.bands; ++b) {
        const double s = shape[b] / total;
        sum[b] += s;
        sum_sq[b] += s * s;
      }
      ++frames;
    }
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("sound spectrum: ") + e.what());
  }
  if (frames == 0)
    return Status::InvalidArgument("sound spectrum: no non-silent frame of " + std::to_string(o.frame) + " samples");
  std::vector<double> d(SoundSpectrumDimension(o));
  double norm = 0;
  for (int b = 0; b < o.bands; ++b) {
    const double mean = sum[b] / frames;
    d[b] = mean;
    d[o.bands + b] = std::sqrt(std::max(0.0, sum_sq[b] / frames - mean * mean));
  }
  for (double v : d) norm += v * v;
  std::vector<float> out(d.size());
  for (size_t j = 0; j < d.size(); ++j) out[j] = static_cast<float>(d[j] / std::sqrt(norm));
  return out;
}

}  // namespace hymir::media
