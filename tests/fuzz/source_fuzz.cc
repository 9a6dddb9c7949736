// libFuzzer target: the stored form of a document's title and text in a
// format 2 index (the `_src` field, index/lucene/stored_source.h), as read
// back from a possibly damaged .fdt. The input is the stored bytes. Decoding
// never crashes, hangs or allocates more than the bound; what decodes
// encodes and decodes back to the same title and text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "index/lucene/stored_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hymir::index::internal;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string title, text;
  if (!DecodeSource(in, &title, &text)) return 0;
  if (title.size() + text.size() > kMaxSourceBytes) __builtin_trap();
  std::string t2, x2;
  if (!DecodeSource(EncodeSource(title, text), &t2, &x2) || t2 != title || x2 != text) __builtin_trap();
  return 0;
}
