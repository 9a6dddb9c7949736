// Image decoding and the colour-histogram descriptor of hymir::media, for
// programs that compute their own vectors from pixels (NumPy arrays).
#include <string>

#include "python/src/common.h"

#ifdef HYMIR_PYTHON_WITH_MEDIA
#include "hymir/media/colour_histogram.h"
#include "hymir/media/image.h"
#endif

namespace hymir::python {

#ifdef HYMIR_PYTHON_WITH_MEDIA
namespace {

py::array_t<uint8_t> ImageToArray(media::Image image) {
  auto* owned = new std::vector<uint8_t>(std::move(image.rgba));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<uint8_t>*>(p); });
  const auto h = static_cast<py::ssize_t>(image.height), w = static_cast<py::ssize_t>(image.width);
  return py::array_t<uint8_t>({h, w, py::ssize_t{4}}, {w * 4, py::ssize_t{4}, py::ssize_t{1}}, owned->data(),
                              free_when_done);
}

media::Image ImageFrom(const py::handle& object) {
  auto a = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(object);
  if (!a || a.ndim() != 3 || a.shape(2) != 4) {
    throw py::value_error("image: expected a height x width x 4 uint8 (RGBA) array");
  }
  media::Image image;
  image.height = static_cast<int>(a.shape(0));
  image.width = static_cast<int>(a.shape(1));
  image.rgba.assign(a.data(), a.data() + a.size());
  return image;
}

}  // namespace
#endif

void RegisterMedia(py::module_& m) {
#ifdef HYMIR_PYTHON_WITH_MEDIA
  m.attr("has_media") = true;
  m.def(
      "read_image",
      [](const std::string& path) { return ImageToArray(Unwrap(WithoutGil([&] { return media::ReadImage(path); }))); },
      py::arg("path"),
      "Decodes an image file (PNG, JPEG, ... through OpenCV) into a height x width x 4 uint8 RGBA array "
      "(alpha 255 for images without one).");
  m.def(
      "colour_histogram",
      [](const py::object& image, int bins_per_channel, int min_alpha) {
        media::Image img = ImageFrom(image);
        media::ColourHistogramOptions o;
        o.bins_per_channel = bins_per_channel;
        o.min_alpha = min_alpha;
        return ToArray(Unwrap(media::ColourHistogram(img, o)));
      },
      py::arg("image"), py::kw_only(), py::arg("bins_per_channel") = 4, py::arg("min_alpha") = 128,
      "hymir-media's colour descriptor of an RGBA array: the joint RGB histogram of the opaque pixels, "
      "L1-normalised and square-rooted (float32, bins_per_channel**3 values).");
#else
  m.attr("has_media") = false;
#endif
}

}  // namespace hymir::python
