// Image: decoded pixels, and decoding/encoding through OpenCV's imgcodecs
// (PNG, JPEG, TIFF, WebP, ... as the Debian build supports; not SVG).
//
// Thread-safety: Image is a plain value type; the functions are pure and may
// run concurrently.
#ifndef HYMIR_MEDIA_IMAGE_H_
#define HYMIR_MEDIA_IMAGE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/result.h"

namespace hymir::media {

// 8-bit RGBA, row-major, no padding: pixel (x, y) starts at
// rgba[4 * (y * width + x)]. Images without alpha decode with alpha 255.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4 bytes

  uint8_t* pixel(int x, int y) { return rgba.data() + 4 * (static_cast<size_t>(y) * width + x); }
  const uint8_t* pixel(int x, int y) const { return rgba.data() + 4 * (static_cast<size_t>(y) * width + x); }
  friend bool operator==(const Image&, const Image&) = default;
};

// A width x height image of one colour.
Image SolidImage(int width, int height, uint8_t r, uint8_t g, uint8_t b, uint8_t a = 255);

// Largest side accepted by the decoders, in pixels; larger images are refused
// (InvalidArgument) rather than allocated. Default OpenCV would accept 2^30 px.
inline constexpr int kMaxImageSide = 16384;

// Reads and decodes the file at `path`. NotFound when it does not exist,
// NotSupported for a format OpenCV cannot decode (e.g. ".svg"), Corruption
// when the bytes do not decode; messages name the path.
Result<Image> ReadImage(const std::string& path);
// Decodes encoded bytes; `what` names them in errors.
Result<Image> DecodeImage(std::span<const uint8_t> bytes, std::string_view what);
// PNG bytes of `image` (keeps alpha). InvalidArgument for an inconsistent image.
Result<std::vector<uint8_t>> EncodePng(const Image& image);
// `image` scaled (area averaging) so its longer side is at most `max_side`
// pixels, aspect kept; a smaller image is returned unchanged.
Result<Image> Downscale(const Image& image, int max_side);

}  // namespace hymir::media

#endif  // HYMIR_MEDIA_IMAGE_H_
