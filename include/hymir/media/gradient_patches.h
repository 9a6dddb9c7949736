// GradientPatches: dense local texture/shape descriptors of an image, the
// "visual words" input of a bag-of-visual-words descriptor (see
// visual_vocabulary.h).
//
// The image is composited over white (transparent background becomes white,
// so a stamp's outline is an edge), converted to grey (OpenCV's BT.601
// weights), downscaled so its longer side is at most max_side, and filtered
// with 3x3 Sobel operators (replicated border). Each pixel votes its gradient
// magnitude into one of `orientation_bins` bins of the signed orientation
// atan2(gy, gx) in [0, 360) degrees (bin width 360 / bins, bin 0 starting at
// 0 degrees, y pointing down). The image is divided into cells of
// cell x cell pixels; a patch is 2 x 2 cells, taken with a stride of one cell.
// A patch's descriptor is its four cells' histograms (top-left, top-right,
// bottom-left, bottom-right, each `orientation_bins` values), L2-normalised,
// and patches whose mean gradient magnitude per pixel is below
// min_mean_magnitude (flat regions) are dropped.
//
// Thread-safety: pure functions.
#ifndef HYMIR_MEDIA_GRADIENT_PATCHES_H_
#define HYMIR_MEDIA_GRADIENT_PATCHES_H_

#include <cstddef>
#include <vector>

#include "hymir/media/image.h"
#include "hymir/result.h"

namespace hymir::media {

struct GradientPatchOptions {
  // Longer side after downscaling, in pixels (smaller images are not
  // enlarged). Default: 128.
  int max_side = 128;
  // Cell side in pixels, >= 2. Default: 8 (as HOG, Dalal & Triggs 2005).
  int cell = 8;
  // Orientation bins over 360 degrees, 2..36. Default: 8.
  int orientation_bins = 8;
  // Flat-patch cut-off on the mean Sobel magnitude per pixel (grey levels
  // 0..255; a 3x3 Sobel on a unit step gives 4). Default: 4.
  float min_mean_magnitude = 4.0f;
};

struct LocalDescriptors {
  size_t dimension = 0;       // 4 * orientation_bins
  std::vector<float> values;  // count() x dimension, row-major, each row L2-normalised
  size_t count() const { return dimension == 0 ? 0 : values.size() / dimension; }
};

size_t GradientPatchDimension(const GradientPatchOptions& options);

// InvalidArgument for bad options or an empty image. An image too small for
// one patch, or without edges, has no descriptors (count() == 0).
Result<LocalDescriptors> GradientPatches(const Image& image, const GradientPatchOptions& options = {});

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_GRADIENT_PATCHES_H_
