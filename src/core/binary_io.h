// BinaryWriter / BinaryReader: the little helpers behind hymir's binary
// files (MoE models, the entity-linker cache). Values are written in host
// byte order (every supported target is little-endian); strings and vectors
// carry their length first. The reader never reads past its end and reports
// failure as false, so a caller can turn any short or malformed body into
// one Corruption status naming the file. PutVarint / PutVarintString /
// VarintReader are the LEB128 forms (the forward index's files).
//
// Internal header (not installed). Thread-safety: one object per thread.
#ifndef HYMIR_SRC_CORE_BINARY_IO_H_
#define HYMIR_SRC_CORE_BINARY_IO_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace hymir::internal {

class BinaryWriter {
 public:
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Raw(s.data(), s.size());
  }
  void Strings(const std::vector<std::string>& v) {
    U32(static_cast<uint32_t>(v.size()));
    for (const auto& s : v) Str(s);
  }
  // A vector of trivially copyable values: u64 count, then the values.
  template <typename T>
  void Pods(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    U64(v.size());
    Raw(v.data(), v.size() * sizeof(T));
  }
  void Raw(const void* p, size_t n) {
    if (n > 0) out_.append(static_cast<const char*>(p), n);  // p may be null when n == 0
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class BinaryReader {
 public:
  explicit BinaryReader(std::string_view data) : data_(data) {}
  bool U32(uint32_t* v) { return Raw(v, sizeof *v); }
  bool U64(uint64_t* v) { return Raw(v, sizeof *v); }
  bool I32(int* v) {
    uint32_t u;
    if (!U32(&u)) return false;
    *v = static_cast<int>(u);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!U32(&n) || n > left()) return false;
    s->assign(data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Strings(std::vector<std::string>* v) {
    uint32_t n;
    if (!U32(&n) || n > left()) return false;  // every string takes at least 4 bytes
    v->resize(n);
    for (auto& s : *v)
      if (!Str(&s)) return false;
    return true;
  }
  template <typename T>
  bool Pods(std::vector<T>* v) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t n;
    if (!U64(&n) || n > left() / sizeof(T)) return false;
    v->resize(n);
    return Raw(v->data(), n * sizeof(T));
  }
  bool Raw(void* p, size_t n) {
    if (n > left()) return false;
    if (n == 0) return true;  // p may be null (an empty vector's data()); memcpy must not see it
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == data_.size(); }

 private:
  size_t left() const { return data_.size() - pos_; }
  std::string_view data_;
  size_t pos_ = 0;
};

// LEB128 varint, low 7 bits first.
inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Varint length, then the bytes.
inline void PutVarintString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

// Bounds-checked reader of varints and varint-length byte strings over one
// byte range; every getter returns false on a short or malformed input.
class VarintReader {
 public:
  explicit VarintReader(std::string_view b) : b_(b) {}
  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return false;
      const auto c = static_cast<uint8_t>(b_[pos_++]);
      r |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool Bytes(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n) || n > b_.size() - pos_) return false;
    *s = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t left() const { return b_.size() - pos_; }
  bool AtEnd() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_CORE_BINARY_IO_H_
