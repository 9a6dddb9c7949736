// libFuzzer target: vector field files (<field>.g<N>.vec), through
// VectorStore::Load with the field's real .faiss file (a flat index over 3
// vectors the harness saves once). The input is a .vec file whose header
// payload size and payload CRC-32 the harness fixes up, and whose whole-file
// size and CRC-32 it gives as the manifest entry, so the fuzzer reaches the
// id table, the live bitmap and the vectors behind both checksums. A damaged
// file is Corruption or NotSupported naming it, never a crash or an
// allocation its slot count asks for; a file that loads must answer an exact
// and an approximate search. The .faiss payload itself (FAISS's own reader)
// is not fuzzed: FAISS allocates whatever a damaged file claims (up to 1 TB),
// and only the checksum in front of it stands guard.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "index/vector/vector_store.h"
#include "src/core/crc32.h"

namespace {

using hymir::index::internal::FileInfo;
using hymir::index::internal::VectorStore;

constexpr size_t kHeaderBytes = 36;  // magic, version, dimension, slots, payload size, payload crc

struct Fixture {
  hymir::index::VectorFieldSpec spec;
  std::string dir;
  FileInfo raw;    // the saved .vec (the seed)
  FileInfo faiss;  // the saved .faiss, used with every input
};

const Fixture& GetFixture() {
  static const Fixture f = [] {
    Fixture x;
    x.spec.name = "v";
    x.spec.dimension = 4;
    x.spec.metric = hymir::index::VectorMetric::kL2;
    x.spec.index = "flat";
    x.dir = "/tmp/hymir-fuzz-" + std::to_string(getpid()) + ".vectors";
    mkdir(x.dir.c_str(), 0700);
    auto store = VectorStore::Create(x.spec);
    if (!store.ok()) __builtin_trap();
    const float v[3][4] = {{1, 0, 0, 0}, {0, 1, 0.5f, 0}, {0.25f, 0.25f, 0.25f, 0.25f}};
    for (int i = 0; i < 3; ++i) {
      if (!(*store)->Upsert("doc" + std::to_string(i), v[i]).ok()) __builtin_trap();
    }
    (*store)->Delete("doc1");  // a tombstone in the bitmap
    if (!(*store)->Save(x.dir, 1, &x.raw, &x.faiss).ok()) __builtin_trap();
    return x;
  }();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const Fixture& f = GetFixture();
  if (const char* seed_dir = std::getenv("HYMIR_FUZZ_SEED_DIR")) {
    std::ifstream in(f.dir + "/" + f.raw.name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(std::string(seed_dir) + "/vec", std::ios::binary) << bytes;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = GetFixture();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= kHeaderBytes) {
    const uint64_t payload_size = bytes.size() - kHeaderBytes;
    const uint32_t payload_crc = hymir::internal::Crc32(0, bytes.data() + kHeaderBytes, payload_size);
    std::memcpy(bytes.data() + 24, &payload_size, 8);
    std::memcpy(bytes.data() + 32, &payload_crc, 4);
  }
  FileInfo raw;
  raw.name = "input.g1.vec";
  raw.size = bytes.size();
  raw.crc32 = hymir::internal::Crc32(0, bytes.data(), bytes.size());
  const std::string path = f.dir + "/" + raw.name;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) __builtin_trap();
  }
  auto store = VectorStore::Load(f.spec, f.dir, raw, f.faiss);
  if (!store.ok()) {
    const auto& s = store.status();
    if (!(s.IsCorruption() || s.code() == hymir::Status::Code::kNotSupported) ||
        s.message().find(f.dir + "/") == std::string::npos) {
      __builtin_trap();
    }
    return 0;
  }
  const VectorStore& s = **store;
  if (s.live_count() > s.slots() || s.live_bitmap().size() != (s.slots() + 7) / 8) __builtin_trap();
  for (size_t i = 0; i < s.slots(); ++i) {
    if (s.is_live(static_cast<int64_t>(i)) && s.SlotOf(s.id(static_cast<int64_t>(i))) < 0) __builtin_trap();
  }
  const float q[4] = {1, 0.5f, 0, 0};
  for (bool exact : {true, false}) {
    std::vector<std::vector<hymir::index::internal::SlotScore>> out;
    if (!s.Search(q, 1, 5, nullptr, 0, 16, 1, exact, &out).ok() || out.size() != 1) __builtin_trap();
    for (const auto& hit : out[0]) {
      if (hit.slot < 0 || static_cast<size_t>(hit.slot) >= s.slots() || !s.is_live(hit.slot)) __builtin_trap();
    }
  }
  return 0;
}
