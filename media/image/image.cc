// Image decoding and encoding through OpenCV (the only OpenCV user besides
// the descriptors): cv::Exception is caught here and turned into a Status.
#include "hymir/media/image.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "media/image/opencv_util.h"

namespace hymir::media {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Image SolidImage(int width, int height, uint8_t r, uint8_t g, uint8_t b, uint8_t a) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgba.resize(static_cast<size_t>(width) * height * 4);
  for (size_t i = 0; i < img.rgba.size(); i += 4) {
    img.rgba[i] = r;
    img.rgba[i + 1] = g;
    img.rgba[i + 2] = b;
    img.rgba[i + 3] = a;
  }
  return img;
}

Result<Image> DecodeImage(std::span<const uint8_t> bytes, std::string_view what) {
  if (bytes.empty()) return Status::Corruption(std::string(what) + ": empty file");
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data()));
    cv::Mat m = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    if (m.empty()) return Status::Corruption(std::string(what) + ": not a decodable image");
    return internal::FromMat(m, what);
  } catch (const cv::Exception& e) {
    return Status::Corruption(std::string(what) + ": " + e.what());
  }
}

Result<Image> ReadImage(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Status::NotFound(path + ": no such file");
  const std::string ext = Lower(std::filesystem::path(path).extension().string());
  if (ext == ".svg" || ext == ".svgz")
    return Status::NotSupported(path + ": SVG has no decoder here (OpenCV decodes raster images only)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError(path + ": read failed");
  return DecodeImage(bytes, path);
}

Result<std::vector<uint8_t>> EncodePng(const Image& image) {
  HYMIR_RETURN_IF_ERROR(internal::CheckImage(image, "png encoder"));
  try {
    cv::Mat rgba(image.height, image.width, CV_8UC4, const_cast<uint8_t*>(image.rgba.data()));
    cv::Mat bgra;
    cv::cvtColor(rgba, bgra, cv::COLOR_RGBA2BGRA);
    std::vector<uint8_t> out;
    if (!cv::imencode(".png", bgra, out)) return Status::Internal("png encoder failed");
    return out;
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("png encoder: ") + e.what());
  }
}

Result<Image> Downscale(const Image& image, int max_side) {
  HYMIR_RETURN_IF_ERROR(internal::CheckImage(image, "downscale"));
  if (max_side < 1) return Status::InvalidArgument("downscale: max_side must be >= 1");
  const int side = std::max(image.width, image.height);
  if (side <= max_side) return image;
  const double f = static_cast<double>(max_side) / side;
  const int w = std::max(1, static_cast<int>(std::lround(image.width * f)));
  const int h = std::max(1, static_cast<int>(std::lround(image.height * f)));
  try {
    cv::Mat src(image.height, image.width, CV_8UC4, const_cast<uint8_t*>(image.rgba.data()));
    cv::Mat dst;
    cv::resize(src, dst, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    Image out;
    out.width = w;
    out.height = h;
    out.rgba.assign(dst.data, dst.data + static_cast<size_t>(w) * h * 4);
    return out;
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("downscale: ") + e.what());
  }
}

}  // namespace hymir::media
