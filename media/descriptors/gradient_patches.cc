// Dense gradient-orientation patches on OpenCV's Sobel filter.
#include "hymir/media/gradient_patches.h"

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "media/image/opencv_util.h"

namespace hymir::media {

size_t GradientPatchDimension(const GradientPatchOptions& o) {
  return 4 * static_cast<size_t>(std::max(0, o.orientation_bins));
}

Result<LocalDescriptors> GradientPatches(const Image& image, const GradientPatchOptions& o) {
  if (o.max_side < 2 || o.cell < 2 || o.orientation_bins < 2 || o.orientation_bins > 36 || !(o.min_mean_magnitude >= 0))
    return Status::InvalidArgument(
        "gradient patches: bad options (max_side >= 2, cell >= 2, 2..36 bins, "
        "min_mean_magnitude >= 0)");
  HYMIR_RETURN_IF_ERROR(internal::CheckImage(image, "gradient patches"));
  const int bins = o.orientation_bins;
  LocalDescriptors out;
  out.dimension = GradientPatchDimension(o);
  try {
    // Composite over white, then grey (BT.601).
    cv::Mat grey(image.height, image.width, CV_8UC1);
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        const uint8_t* p = image.pixel(x, y);
        const int a = p[3];
        double rgb[3];
        for (int c = 0; c < 3; ++c) rgb[c] = (p[c] * a + 255 * (255 - a)) / 255.0;
        grey.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
      }
    }
    const int side = std::max(image.width, image.height);
    if (side > o.max_side) {
      const double f = static_cast<double>(o.max_side) / side;
      cv::Mat small;
      cv::resize(grey, small,
                 cv::Size(std::max(1, static_cast<int>(std::lround(image.width * f))),
                          std::max(1, static_cast<int>(std::lround(image.height * f)))),
                 0, 0, cv::INTER_AREA);
      grey = small;
    }
    cv::Mat gx, gy;
    cv::Sobel(grey, gx, CV_32F, 1, 0, 3, 1.0, 0.0, cv::BORDER_REPLICATE);
    cv::Sobel(grey, gy, CV_32F, 0, 1, 3, 1.0, 0.0, cv::BORDER_REPLICATE);
    const int cells_x = grey.cols / o.cell, cells_y = grey.rows / o.cell;
    if (cells_x < 2 || cells_y < 2) return out;
    // Per-cell orientation histograms and magnitude sums.
    std::vector<double> hist(static_cast<size_t>(cells_x) * cells_y * bins, 0.0);
    std::vector<double> energy(static_cast<size_t>(cells_x) * cells_y, 0.0);
    for (int y = 0; y < cells_y * o.cell; ++y) {
      for (int x = 0; x < cells_x * o.cell; ++x) {
        // std::atan2, not cv::cartToPolar (whose ~0.3 degree approximation
        // moves axis-aligned edges across bin borders).
        const double dx = gx.at<float>(y, x), dy = gy.at<float>(y, x);
        const double m = std::hypot(dx, dy);
        if (m <= 0) continue;
        double degrees = std::atan2(dy, dx) * (180.0 / M_PI);
        if (degrees < 0) degrees += 360.0;
        int b = static_cast<int>(degrees * bins / 360.0);
        b = ((b % bins) + bins) % bins;
        const size_t cell = static_cast<size_t>(y / o.cell) * cells_x + x / o.cell;
        hist[cell * bins + b] += m;
        energy[cell] += m;
      }
    }
    const double pixels = 4.0 * o.cell * o.cell;
    std::vector<float> d(out.dimension);
    for (int cy = 0; cy + 1 < cells_y; ++cy) {
      for (int cx = 0; cx + 1 < cells_x; ++cx) {
        const size_t cells[4] = {static_cast<size_t>(cy) * cells_x + cx, static_cast<size_t>(cy) * cells_x + cx + 1,
                                 static_cast<size_t>(cy + 1) * cells_x + cx,
                                 static_cast<size_t>(cy + 1) * cells_x + cx + 1};
        double e = 0;
        for (size_t c : cells) e += energy[c];
        if (e / pixels < o.min_mean_magnitude || e <= 0) continue;
        double norm = 0;
        for (int k = 0; k < 4; ++k)
          for (int b = 0; b < bins; ++b) {
            const double v = hist[cells[k] * bins + b];
            d[static_cast<size_t>(k) * bins + b] = static_cast<float>(v);
            norm += v * v;
          }
        norm = std::sqrt(norm);
        for (float& v : d) v = static_cast<float>(v / norm);
        out.values.insert(out.values.end(), d.begin(), d.end());
      }
    }
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("gradient patches: ") + e.what());
  }
  return out;
}

}  // namespace hymir::media
