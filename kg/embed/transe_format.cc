#include "kg/embed/transe_format.h"

#include <bit>
#include <cstring>
#include <tuple>
#include <vector>

#include "src/core/crc32.h"

namespace hymir::kg::internal {
namespace {

// Floats are copied as bytes; a big-endian port would swap them here.
static_assert(std::endian::native == std::endian::little, "transe.bin is little-endian");

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

// Bounds-checked reader over the payload (the bytes before the CRC).
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  size_t pos() const { return pos_; }
  size_t left() const { return bytes_.size() - pos_; }
  bool U32(uint32_t* v) { return Copy(v, 4); }
  bool U64(uint64_t* v) { return Copy(v, 8); }
  bool Bytes(size_t n, std::string* s) {
    if (left() < n) return false;
    s->assign(bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Floats(size_t n, std::vector<float>* v) {
    if (n > left() / sizeof(float)) return false;
    v->resize(n);
    return Copy(v->data(), n * sizeof(float));
  }

 private:
  bool Copy(void* out, size_t n) {
    if (left() < n) return false;
    if (n == 0) return true;  // an empty vector's data() may be null: no memcpy from/to it
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string EncodeTransE(const KgEmbeddings::Data& data) {
  std::string out;
  size_t names = 0;
  for (const auto& s : data.entity_names) names += 4 + s.size();
  for (const auto& s : data.relation_names) names += 4 + s.size();
  out.reserve(kTransEHeaderBytes + names + (data.entities.size() + data.relations.size()) * 4 + 4);
  out.append(kTransEMagic, sizeof(kTransEMagic));
  PutU32(&out, kTransEFormatVersion);
  PutU32(&out, static_cast<uint32_t>(data.dim));
  PutU32(&out, data.norm == TransENorm::kL1 ? 1u : 0u);
  PutU32(&out, 0);
  PutU64(&out, data.entity_names.size());
  PutU64(&out, data.relation_names.size());
  for (const auto* list : {&data.entity_names, &data.relation_names}) {
    for (const std::string& s : *list) {
      PutU32(&out, static_cast<uint32_t>(s.size()));
      out += s;
    }
  }
  out.append(reinterpret_cast<const char*>(data.entities.data()), data.entities.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(data.relations.data()), data.relations.size() * sizeof(float));
  PutU32(&out, hymir::internal::Crc32(0, out.data(), out.size()));
  return out;
}

Result<std::shared_ptr<KgEmbeddings::Data>> DecodeTransE(std::string_view bytes, const std::string& path) {
  auto corrupt = [&](const std::string& what) { return Status::Corruption(path + ": " + what); };
  if (bytes.size() < kTransEHeaderBytes + 4) {
    return corrupt("truncated: " + std::to_string(bytes.size()) + " bytes, a TransE file has at least " +
                   std::to_string(kTransEHeaderBytes + 4));
  }
  if (std::memcmp(bytes.data(), kTransEMagic, sizeof(kTransEMagic)) != 0) {
    return corrupt("not a hymir TransE file (bad magic)");
  }
  Reader header(bytes.substr(sizeof(kTransEMagic)));
  uint32_t version = 0, dim = 0, norm = 0, reserved = 0;
  uint64_t n = 0, m = 0;
  (void)header.U32(&version);
  if (version != kTransEFormatVersion) {
    return corrupt("format version " + std::to_string(version) + ", expected " + std::to_string(kTransEFormatVersion));
  }
  const std::string_view payload = bytes.substr(0, bytes.size() - 4);
  uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, bytes.data() + payload.size(), 4);
  const uint32_t crc = hymir::internal::Crc32(0, payload.data(), payload.size());
  if (crc != stored_crc) {
    return corrupt("checksum mismatch (stored " + std::to_string(stored_crc) + ", computed " + std::to_string(crc) +
                   "; truncated or damaged)");
  }
  (void)header.U32(&dim);
  (void)header.U32(&norm);
  (void)header.U32(&reserved);
  (void)header.U64(&n);
  (void)header.U64(&m);
  if (dim == 0 || dim > kTransEMaxDim) return corrupt("dim " + std::to_string(dim) + " out of range 1..4096");
  if (norm > 1) return corrupt("unknown norm " + std::to_string(norm));
  Reader r(payload.substr(kTransEHeaderBytes));
  auto data = std::make_shared<KgEmbeddings::Data>();
  data->dim = static_cast<int>(dim);
  data->norm = norm == 1 ? TransENorm::kL1 : TransENorm::kL2;
  // Each name takes at least 4 bytes: bound the counts before reserving.
  if (n > r.left() / 4 || m > r.left() / 4 || n + m > r.left() / 4) {
    return corrupt(std::to_string(n) + " entities and " + std::to_string(m) + " relations do not fit in " +
                   std::to_string(payload.size()) + " bytes");
  }
  for (auto [count, list, kind] :
       {std::tuple{n, &data->entity_names, "entity"}, std::tuple{m, &data->relation_names, "relation"}}) {
    list->resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      uint32_t len = 0;
      if (!r.U32(&len) || !r.Bytes(len, &(*list)[i])) {
        return corrupt(std::string(kind) + " name " + std::to_string(i) + " runs past the end");
      }
    }
  }
  const uint64_t want = (n + m) * dim * sizeof(float);
  if (r.left() != want) {
    return corrupt("vector section is " + std::to_string(r.left()) + " bytes, expected " + std::to_string(want) +
                   " for " + std::to_string(n) + " entities + " + std::to_string(m) + " relations x dim " +
                   std::to_string(dim));
  }
  if (!r.Floats(n * dim, &data->entities) || !r.Floats(m * dim, &data->relations)) {
    return corrupt("vectors run past the end");
  }
  if (!data->BuildIndex()) return corrupt("duplicate entity or relation name");
  return data;
}

}  // namespace hymir::kg::internal
