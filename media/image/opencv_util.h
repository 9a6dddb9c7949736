// Conversions between hymir::media::Image and cv::Mat (private to hymir_media).
#ifndef HYMIR_MEDIA_IMAGE_OPENCV_UTIL_H_
#define HYMIR_MEDIA_IMAGE_OPENCV_UTIL_H_

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <string_view>

#include "hymir/media/image.h"

namespace hymir::media::internal {

inline Status CheckImage(const Image& image, std::string_view what) {
  if (image.width <= 0 || image.height <= 0) return Status::InvalidArgument(std::string(what) + ": empty image");
  if (image.width > kMaxImageSide || image.height > kMaxImageSide)
    return Status::InvalidArgument(std::string(what) + ": image larger than " + std::to_string(kMaxImageSide) + " px");
  if (image.rgba.size() != static_cast<size_t>(image.width) * image.height * 4)
    return Status::InvalidArgument(std::string(what) + ": " + std::to_string(image.rgba.size()) + " bytes for a " +
                                   std::to_string(image.width) + "x" + std::to_string(image.height) + " RGBA image");
  return Status::OK();
}

// Any decoded Mat (grey, grey+alpha, BGR, BGRA; 8 or 16 bits) as RGBA8.
// May throw cv::Exception (callers catch).
inline Result<Image> FromMat(const cv::Mat& decoded, std::string_view what) {
  if (decoded.cols > kMaxImageSide || decoded.rows > kMaxImageSide)
    return Status::InvalidArgument(std::string(what) + ": image larger than " + std::to_string(kMaxImageSide) + " px");
  cv::Mat m8 = decoded;
  if (decoded.depth() == CV_16U) {
    decoded.convertTo(m8, CV_8U, 1.0 / 257.0);
  } else if (decoded.depth() != CV_8U) {
    decoded.convertTo(m8, CV_8U);
  }
  cv::Mat rgba;
  switch (m8.channels()) {
    case 1:
      cv::cvtColor(m8, rgba, cv::COLOR_GRAY2RGBA);
      break;
    case 2: {  // grey + alpha
      std::vector<cv::Mat> ch;
      cv::split(m8, ch);
      cv::merge(std::vector<cv::Mat>{ch[0], ch[0], ch[0], ch[1]}, rgba);
      break;
    }
    case 3:
      cv::cvtColor(m8, rgba, cv::COLOR_BGR2RGBA);
      break;
    case 4:
      cv::cvtColor(m8, rgba, cv::COLOR_BGRA2RGBA);
      break;
    default:
      return Status::NotSupported(std::string(what) + ": " + std::to_string(m8.channels()) + " channels");
  }
  if (!rgba.isContinuous()) rgba = rgba.clone();
  Image out;
  out.width = rgba.cols;
  out.height = rgba.rows;
  out.rgba.assign(rgba.data, rgba.data + static_cast<size_t>(rgba.cols) * rgba.rows * 4);
  return out;
}

}  // namespace hymir::media::internal

#endif  // HYMIR_MEDIA_IMAGE_OPENCV_UTIL_H_
