// libFuzzer target: TransE embedding files (<kg>/transe.bin), through
// DecodeTransE, the parser KgEmbeddings::Load runs on the file's bytes. The
// input is a file without its CRC-32 trailer; the harness appends the right
// one, so the fuzzer reaches the parser behind the checksum. A damaged file
// is Corruption naming the path, never a crash or an allocation its counts
// ask for; a file that decodes encodes back to the same bytes (the reserved
// header word aside, which the writer always sets to 0).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "kg/embed/transe_format.h"
#include "src/core/crc32.h"

namespace {

// With HYMIR_FUZZ_SEED_DIR set: writes a small real file (3 entities, 2
// relations, dim 4, L1), minus its trailer, into that directory as a seed.
void WriteSeed(const char* dir) {
  hymir::kg::KgEmbeddings::Data d;
  d.dim = 4;
  d.norm = hymir::kg::TransENorm::kL1;
  d.entity_names = {"wn:n:02084071", "dog", "http://example.org/e\xc3\xa9"};
  d.relation_names = {"wn:hypernym", "hymir:alias"};
  for (int i = 0; i < 12; ++i) d.entities.push_back(0.25f * static_cast<float>(i) - 1.0f);
  for (int i = 0; i < 8; ++i) d.relations.push_back(0.5f - 0.125f * static_cast<float>(i));
  const std::string bytes = hymir::kg::internal::EncodeTransE(d);
  std::ofstream(std::string(dir) + "/transe", std::ios::binary) << bytes.substr(0, bytes.size() - 4);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("HYMIR_FUZZ_SEED_DIR")) WriteSeed(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const uint32_t crc = hymir::internal::Crc32(0, bytes.data(), bytes.size());
  bytes.append(reinterpret_cast<const char*>(&crc), 4);
  const std::string path = "fuzz/transe.bin";
  auto decoded = hymir::kg::internal::DecodeTransE(bytes, path);
  if (!decoded.ok()) {
    if (!decoded.status().IsCorruption() || decoded.status().message().rfind(path + ": ", 0) != 0) __builtin_trap();
    return 0;
  }
  const auto& d = **decoded;
  if (d.dim < 1 || d.entities.size() != d.entity_names.size() * d.dim ||
      d.relations.size() != d.relation_names.size() * d.dim || d.entity_index.size() != d.entity_names.size() ||
      d.relation_index.size() != d.relation_names.size()) {
    __builtin_trap();
  }
  std::string again = hymir::kg::internal::EncodeTransE(d);
  if (again.size() != bytes.size()) __builtin_trap();
  std::memset(again.data() + 20, 0, 4);
  std::memset(bytes.data() + 20, 0, 4);
  if (again.substr(0, again.size() - 4) != bytes.substr(0, bytes.size() - 4)) __builtin_trap();
  return 0;
}
