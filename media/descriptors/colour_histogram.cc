#include "hymir/media/colour_histogram.h"

#include <cmath>
#include <string>

namespace hymir::media {

size_t ColourHistogramDimension(const ColourHistogramOptions& o) {
  const size_t n = static_cast<size_t>(std::max(0, o.bins_per_channel));
  return n * n * n;
}

Result<std::vector<float>> ColourHistogram(const Image& image, const ColourHistogramOptions& o) {
  if (o.bins_per_channel < 1 || o.bins_per_channel > 16)
    return Status::InvalidArgument("colour histogram: bins_per_channel " + std::to_string(o.bins_per_channel) +
                                   " outside 1..16");
  if (image.width <= 0 || image.height <= 0 || image.rgba.size() != static_cast<size_t>(image.width) * image.height * 4)
    return Status::InvalidArgument("colour histogram: empty or inconsistent image");
  const int n = o.bins_per_channel;
  std::vector<double> counts(ColourHistogramDimension(o), 0.0);
  double total = 0;
  for (size_t i = 0; i < image.rgba.size(); i += 4) {
    if (image.rgba[i + 3] < o.min_alpha) continue;
    const int r = image.rgba[i] * n / 256, g = image.rgba[i + 1] * n / 256, b = image.rgba[i + 2] * n / 256;
    counts[static_cast<size_t>((r * n + g) * n + b)] += 1;
    total += 1;
  }
  if (total == 0)
    return Status::InvalidArgument("colour histogram: no opaque pixel (alpha >= " + std::to_string(o.min_alpha) + ")");
  std::vector<float> out(counts.size());
  for (size_t j = 0; j < counts.size(); ++j) out[j] = static_cast<float>(std::sqrt(counts[j] / total));
  return out;
}

}  // namespace hymir::media
