// The file <kg_dir>/transe.bin holding KgEmbeddings. Included as
// "kg/embed/transe_format.h".
//
// All integers little-endian; floats IEEE-754 binary32 little-endian.
//
//   offset  size  field
//   0       8     magic "HYMIRTE\0"
//   8       4     u32 format version (kTransEFormatVersion)
//   12      4     u32 dim (1..4096)
//   16      4     u32 norm (0 = L2, 1 = L1)
//   20      4     u32 reserved, 0
//   24      8     u64 number of entities n
//   32      8     u64 number of relations m
//   40            n entity names, each u32 length + bytes (no terminator)
//                 m relation names, the same
//                 n * dim floats: entity vectors, row-major
//                 m * dim floats: relation vectors, row-major
//   end-4   4     u32 CRC-32 (zlib) of every byte before it
//
// Names are unique within their kind. The file is written whole with
// WriteFileAtomic (temp file, fsync, rename, directory fsync), so it is never
// seen half-written; the CRC catches damage after the fact.
#ifndef HYMIR_KG_EMBED_TRANSE_FORMAT_H_
#define HYMIR_KG_EMBED_TRANSE_FORMAT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hymir/result.h"
#include "kg/embed/transe_data.h"

namespace hymir::kg::internal {

inline constexpr char kTransEMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'T', 'E', '\0'};
inline constexpr uint32_t kTransEFormatVersion = 1;
inline constexpr uint32_t kTransEMaxDim = 4096;
inline constexpr size_t kTransEHeaderBytes = 40;

std::string EncodeTransE(const KgEmbeddings::Data& data);

// Parses and validates `bytes` read from `path` (named in every error):
// Corruption on a bad magic, version, size or checksum.
Result<std::shared_ptr<KgEmbeddings::Data>> DecodeTransE(std::string_view bytes, const std::string& path);

}  // namespace hymir::kg::internal

#endif  // HYMIR_KG_EMBED_TRANSE_FORMAT_H_
