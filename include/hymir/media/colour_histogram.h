// ColourHistogram: a global colour descriptor. The opaque pixels' RGB values
// are quantised into bins_per_channel^3 joint bins; the histogram is
// L1-normalised and square-rooted, so the inner product of two descriptors is
// the Bhattacharyya coefficient (Hellinger kernel) of the two histograms and
// every descriptor has unit L2 norm. Store it in a vector field with metric ip
// (or cosine).
//
// Bin of a pixel: (r * n / 256) * n * n + (g * n / 256) * n + (b * n / 256),
// n = bins_per_channel.
//
// Thread-safety: pure functions.
#ifndef HYMIR_MEDIA_COLOUR_HISTOGRAM_H_
#define HYMIR_MEDIA_COLOUR_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hymir/media/image.h"
#include "hymir/result.h"

namespace hymir::media {

struct ColourHistogramOptions {
  // Bins per RGB channel, 1..16; the descriptor has its cube of dimensions.
  // Default: 4 (64 dimensions).
  int bins_per_channel = 4;
  // Pixels with alpha below this are background and not counted. Default: 128.
  int min_alpha = 128;
};

size_t ColourHistogramDimension(const ColourHistogramOptions& options);

// InvalidArgument for bad options, an empty image or one with no opaque pixel.
Result<std::vector<float>> ColourHistogram(const Image& image, const ColourHistogramOptions& options = {});

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_COLOUR_HISTOGRAM_H_
