#include "index/lucene/block_checksums.h"

#include <lucene++/BufferedIndexInput.h>
#include <lucene++/NoLockFactory.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "src/core/crc32.h"
#include "src/core/mapped_file.h"

namespace hymir::index::internal {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'M', 'I', 'R', 'B', 'L', 'K'};

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetLe(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

// One file of a commit, mapped, with a bit per block set once the block has
// been checksummed. Shared by every IndexInput (and clone) of the file.
struct VerifyingDirectory::MappedBlocks {
  std::string path;
  std::unique_ptr<hymir::internal::MappedFile> map;
  std::shared_ptr<const FileBlocks> table;
  std::unique_ptr<std::atomic<uint64_t>[]> verified;

  const char* data() const { return map->bytes().data(); }
  uint64_t size() const { return map->bytes().size(); }

  // Checksums the blocks of [pos, pos + len) not yet verified; throws
  // CorruptIndexException naming the file on a mismatch.
  void Check(uint64_t pos, uint64_t len) {
    if (len == 0) return;
    const uint64_t bb = table->block_bytes;
    for (uint64_t b = pos / bb, last = (pos + len - 1) / bb; b <= last; ++b) {
      const uint64_t mask = uint64_t{1} << (b % 64);
      std::atomic<uint64_t>& word = verified[b / 64];
      if (word.load(std::memory_order_relaxed) & mask) continue;
      const uint64_t begin = b * bb;
      const uint64_t n = std::min(bb, size() - begin);
      const uint32_t crc = hymir::internal::Crc32(0, data() + begin, n);
      if (crc != table->blocks[b]) {
        boost::throw_exception(Lucene::CorruptIndexException(
            Wide(path + ": checksum mismatch in bytes " + std::to_string(begin) + " to " + std::to_string(begin + n) +
                 " (crc32 " + hymir::internal::Crc32Hex(crc) + ", the commit recorded " +
                 hymir::internal::Crc32Hex(table->blocks[b]) + "): a damaged file")));
      }
      word.fetch_or(mask, std::memory_order_relaxed);
    }
  }
};

namespace {

// Reads one mapped file, verifying each block before its first use.
class VerifiedInput : public Lucene::BufferedIndexInput {
 public:
  VerifiedInput(std::shared_ptr<VerifyingDirectory::MappedBlocks> file, int32_t buffer_size)
      : Lucene::BufferedIndexInput(buffer_size), file_(std::move(file)) {}

  int64_t length() override { return static_cast<int64_t>(file_->size()); }
  void close() override { Lucene::BufferedIndexInput::close(); }

  Lucene::LuceneObjectPtr clone(const Lucene::LuceneObjectPtr& other = Lucene::LuceneObjectPtr()) override {
    Lucene::LuceneObjectPtr c =
        Lucene::BufferedIndexInput::clone(other ? other : Lucene::newLucene<VerifiedInput>(file_, bufferSize));
    auto input = boost::dynamic_pointer_cast<VerifiedInput>(c);
    input->file_ = file_;
    return input;
  }

 protected:
  void readInternal(uint8_t* b, int32_t offset, int32_t length) override {
    const int64_t pos = getFilePointer();
    if (pos < 0 || length < 0 || static_cast<uint64_t>(pos) + static_cast<uint64_t>(length) > file_->size()) {
      boost::throw_exception(Lucene::IOException(L"Read past EOF"));
    }
    file_->Check(static_cast<uint64_t>(pos), static_cast<uint64_t>(length));
    std::memcpy(b + offset, file_->data() + pos, static_cast<size_t>(length));
  }
  void seekInternal(int64_t) override {}

 private:
  std::shared_ptr<VerifyingDirectory::MappedBlocks> file_;
};

}  // namespace

std::string BlockChecksumsName(const std::string& segments_file) {
  const std::string prefix = "segments_";
  return std::string(kBlockChecksumsPrefix) +
         (segments_file.rfind(prefix, 0) == 0 ? segments_file.substr(prefix.size()) : segments_file);
}

Status ChecksumFile(const std::string& path, uint32_t block_bytes, uint32_t* crc, uint64_t* size,
                    std::vector<uint32_t>* blocks) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open for checksum");
  // Whole blocks per read, so that each block's crc comes from one buffer.
  const size_t chunk = block_bytes * std::max<size_t>(1, (size_t{1} << 20) / block_bytes);
  std::vector<char> buf(chunk);
  uint32_t c = 0;
  uint64_t n = 0;
  if (blocks) blocks->clear();
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (!blocks) {
      c = hymir::internal::Crc32(c, buf.data(), got);
    } else {
      for (size_t at = 0; at < got; at += block_bytes) {
        const size_t len = std::min<size_t>(block_bytes, got - at);
        const uint32_t b = hymir::internal::Crc32(0, buf.data() + at, len);
        blocks->push_back(b);
        c = hymir::internal::Crc32Combine(c, b, len);
      }
    }
    n += got;
  }
  if (in.bad()) return Status::IOError(path + ": read failed");
  *crc = c;
  *size = n;
  return Status::OK();
}

std::string SerializeBlockTables(const BlockTables& tables) {
  std::string out(kMagic, sizeof kMagic);
  PutU32(&out, kBlockChecksumsVersion);
  PutU32(&out, kBlockBytes);
  PutU64(&out, tables.size());
  for (const auto& [name, t] : tables) {
    PutU32(&out, static_cast<uint32_t>(name.size()));
    out += name;
    PutU64(&out, t->size);
    PutU32(&out, t->crc);
    PutU64(&out, t->blocks.size());
    for (uint32_t b : t->blocks) PutU32(&out, b);
  }
  PutU32(&out, hymir::internal::Crc32(0, out.data(), out.size()));
  return out;
}

Result<BlockTables> ParseBlockTables(const std::string& path, std::string_view bytes) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(path + ": " + why + " (a damaged block checksum file)");
  };
  constexpr size_t kHeader = 8 + 4 + 4 + 8;
  if (bytes.size() < kHeader + 4) return bad("too short");
  const size_t body = bytes.size() - 4;
  if (hymir::internal::Crc32(0, bytes.data(), body) != GetLe(bytes.data() + body, 4)) return bad("checksum mismatch");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return bad("bad magic");
  const uint64_t version = GetLe(bytes.data() + 8, 4);
  if (version != kBlockChecksumsVersion) {
    return bad("version " + std::to_string(version) + ", this build reads " + std::to_string(kBlockChecksumsVersion));
  }
  const uint32_t block_bytes = static_cast<uint32_t>(GetLe(bytes.data() + 12, 4));
  if (block_bytes < 512 || block_bytes > (uint32_t{1} << 30)) return bad("block size " + std::to_string(block_bytes));
  const uint64_t files = GetLe(bytes.data() + 16, 8);
  size_t at = kHeader;
  BlockTables tables;
  for (uint64_t i = 0; i < files; ++i) {
    if (body - at < 4) return bad("file entry " + std::to_string(i) + " cut short");
    const uint64_t name_len = GetLe(bytes.data() + at, 4);
    at += 4;
    if (name_len == 0 || name_len > 4096 || body - at < name_len + 20) {
      return bad("file entry " + std::to_string(i) + " cut short");
    }
    std::string name(bytes.data() + at, name_len);
    at += name_len;
    auto t = std::make_shared<FileBlocks>();
    t->block_bytes = block_bytes;
    t->size = GetLe(bytes.data() + at, 8);
    t->crc = static_cast<uint32_t>(GetLe(bytes.data() + at + 8, 4));
    const uint64_t n = GetLe(bytes.data() + at + 12, 8);
    at += 20;
    if (n != (t->size + block_bytes - 1) / block_bytes || n > (body - at) / 4) {
      return bad(name + ": " + std::to_string(n) + " blocks recorded for " + std::to_string(t->size) + " bytes");
    }
    t->blocks.resize(n);
    for (uint64_t k = 0; k < n; ++k) t->blocks[k] = static_cast<uint32_t>(GetLe(bytes.data() + at + 4 * k, 4));
    at += 4 * n;
    if (!tables.emplace(std::move(name), std::move(t)).second) return bad("a file listed twice");
  }
  if (at != body) return bad("trailing bytes");
  return tables;
}

VerifyingDirectory::VerifyingDirectory(const std::string& text_dir)
    : Lucene::SimpleFSDirectory(Wide(text_dir), Lucene::NoLockFactory::getNoLockFactory()), text_dir_(text_dir) {}

VerifyingDirectory::~VerifyingDirectory() = default;

void VerifyingDirectory::AddTables(const BlockTables& tables) {
  const std::string prefix = std::string(kTextDir) + "/";
  std::lock_guard<std::mutex> g(mu_);
  // The new commit's tables, and those of files an older view still reads.
  std::map<std::string, std::shared_ptr<const FileBlocks>> next;
  for (const auto& [name, t] : tables) {
    if (name.rfind(prefix, 0) == 0) next[name.substr(prefix.size())] = t;
  }
  for (auto it = open_.begin(); it != open_.end();) {
    if (it->second.expired()) {
      it = open_.erase(it);
      continue;
    }
    if (!next.count(it->first) && tables_.count(it->first)) next[it->first] = tables_[it->first];
    ++it;
  }
  tables_ = std::move(next);
}

Lucene::IndexInputPtr VerifyingDirectory::openInput(const Lucene::String& name) {
  return openInput(name, Lucene::BufferedIndexInput::BUFFER_SIZE);
}

Lucene::IndexInputPtr VerifyingDirectory::openInput(const Lucene::String& name, int32_t buffer_size) {
  ensureOpen();
  const std::string file = Utf8(name);
  std::shared_ptr<MappedBlocks> mapped;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto t = tables_.find(file);
    if (t == tables_.end()) return Lucene::SimpleFSDirectory::openInput(name, buffer_size);
    mapped = open_[file].lock();
    if (!mapped || mapped->table != t->second) {
      mapped = std::make_shared<MappedBlocks>();
      mapped->path = text_dir_ + "/" + file;
      mapped->table = t->second;
      auto m = hymir::internal::MappedFile::Open(mapped->path);
      if (!m.ok()) {
        if (m.status().IsNotFound()) boost::throw_exception(Lucene::FileNotFoundException(Wide(mapped->path)));
        boost::throw_exception(Lucene::IOException(Wide(m.status().message())));
      }
      mapped->map = std::move(m).value();
      if (mapped->size() != mapped->table->size) {
        boost::throw_exception(Lucene::CorruptIndexException(
            Wide(mapped->path + ": " + std::to_string(mapped->size()) + " bytes, the commit wrote " +
                 std::to_string(mapped->table->size) + " (a truncated or damaged file)")));
      }
      const size_t words = (mapped->table->blocks.size() + 63) / 64;
      mapped->verified.reset(new std::atomic<uint64_t>[words]);
      for (size_t i = 0; i < words; ++i) mapped->verified[i].store(0, std::memory_order_relaxed);
      open_[file] = mapped;
    }
  }
  return Lucene::newLucene<VerifiedInput>(mapped, buffer_size);
}

}  // namespace hymir::index::internal
