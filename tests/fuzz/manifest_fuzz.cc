// libFuzzer target: the index commit manifest (<index>/MANIFEST), through
// VerifyCommitManifest at both levels, on a small index layout the harness
// writes once (hymir.json, text/segments_2, text/segments.gen, text/_0.cfs).
// The input is a manifest without its final "crc32 <hex>" line; the harness
// appends the right one, so the fuzzer reaches the parser and the checks
// behind the checksum. A manifest is accepted or is Corruption naming a path
// of the index, never a crash, a hang or a read outside the index.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "index/lucene/commit_manifest.h"
#include "src/core/crc32.h"

namespace {

const std::string& IndexDir() {
  static const std::string dir = "/tmp/hymir-fuzz-" + std::to_string(getpid()) + ".index";
  return dir;
}

std::string Hex(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// The files of the layout and their bytes.
const std::pair<const char*, std::string> kFiles[] = {
    {"hymir.json", "{\"format\":\"hymir-index\",\"version\":1}\n"},
    {"text/segments_2", std::string("\xff\xff\xff\xf7\x00\x00\x00\x01segments", 16)},
    {"text/segments.gen", std::string("\xff\xff\xff\xfe\x00\x00\x00\x00\x00\x00\x00\x02", 12)},
    {"text/_0.cfs", std::string(300, 'x')},
};

void WriteLayout() {
  const std::string& dir = IndexDir();
  mkdir(dir.c_str(), 0700);
  mkdir((dir + "/text").c_str(), 0700);
  for (const auto& [name, bytes] : kFiles) std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

// With HYMIR_FUZZ_SEED_DIR set: a manifest that verifies against the layout,
// and one naming a file the layout lacks, both minus their checksum line.
void WriteSeeds(const char* seed_dir) {
  std::string body = "hymir-commit-manifest 1\nsegments segments_2\n";
  for (const auto& [name, bytes] : kFiles) {
    body += "file " + std::to_string(bytes.size()) + " " + Hex(hymir::internal::Crc32(0, bytes.data(), bytes.size())) +
            " " + name + "\n";
  }
  std::ofstream(std::string(seed_dir) + "/manifest", std::ios::binary) << body;
  std::ofstream(std::string(seed_dir) + "/manifest-missing", std::ios::binary)
      << body << "file 10 0000abcd vectors/MANIFEST.g1.json\n";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  WriteLayout();
  if (const char* dir = std::getenv("HYMIR_FUZZ_SEED_DIR")) WriteSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  text += "crc32 " + Hex(hymir::internal::Crc32(0, text.data(), text.size())) + "\n";
  const std::string& dir = IndexDir();
  {
    std::ofstream out(dir + "/MANIFEST", std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) __builtin_trap();
  }
  for (auto level : {hymir::index::internal::VerifyLevel::kOpen, hymir::index::internal::VerifyLevel::kFull}) {
    hymir::index::internal::VerifyStats stats;
    hymir::Status s = hymir::index::internal::VerifyCommitManifest(dir, level, &stats);
    if (s.ok()) {
      // Verified (or, at kOpen, a manifest older than the last commit): never more files than it lists.
      if (stats.files > size / 8) __builtin_trap();
      continue;
    }
    if (!s.IsCorruption() || s.message().rfind(dir + "/", 0) != 0) __builtin_trap();
  }
  return 0;
}
