// SoundSpectrum: a global audio descriptor, the distribution of spectral
// shape over time. The sound is cut into frames (Hann window, OpenCV's DFT);
// each frame's power spectrum is summed into `bands` log-spaced bands between
// min_hz and min(max_hz, sample_rate / 2) (band b covers
// [min_hz * r^b, min_hz * r^(b+1)), r = (top / min_hz)^(1 / bands)) and
// divided by its total, giving the frame's spectral shape. Frames whose mean
// square amplitude is below `silence` are skipped. The descriptor is the mean
// and the (population) standard deviation of each band's share over the
// frames (2 * bands values), L2-normalised. Store it with metric ip (or
// cosine).
//
// Thread-safety: pure functions.
#ifndef HYMIR_MEDIA_SOUND_SPECTRUM_H_
#define HYMIR_MEDIA_SOUND_SPECTRUM_H_

#include <cstddef>
#include <vector>

#include "hymir/media/audio.h"
#include "hymir/result.h"

namespace hymir::media {

struct SoundSpectrumOptions {
  int frame = 1024;        // samples per frame, a power of two >= 64. Default: 1024.
  int hop = 512;           // samples between frame starts, >= 1. Default: 512.
  int bands = 24;          // 2..128. Default: 24.
  double min_hz = 50.0;    // lowest band edge. Default: 50.
  double max_hz = 8000.0;  // highest band edge (capped at the Nyquist frequency). Default: 8000.
  // Mean square amplitude below which a frame is silence. Default: 1e-5
  // (-50 dB of full scale).
  double silence = 1e-5;
};

size_t SoundSpectrumDimension(const SoundSpectrumOptions& options);

// InvalidArgument for bad options, or a sound without one non-silent frame.
Result<std::vector<float>> SoundSpectrum(const Audio& audio, const SoundSpectrumOptions& options = {});

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_SOUND_SPECTRUM_H_
