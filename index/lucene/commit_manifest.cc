#include "index/lucene/commit_manifest.h"

#include <lucene++/LuceneHeaders.h>
#include <lucene++/NoLockFactory.h>
#include <lucene++/SegmentInfos.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/vector/manifest.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::index::internal {
namespace {

namespace fs = std::filesystem;

struct Entry {
  uint64_t size = 0;
  uint32_t crc = 0;
};

struct CommitManifest {
  std::string segments;                // segments_N
  std::map<std::string, Entry> files;  // name relative to the index dir
};

constexpr const char* kMagic = "hymir-commit-manifest";

// The generation of "segments_<base 36>", or -1.
int64_t SegmentsGeneration(const std::string& name) {
  static const std::string kPrefix = "segments_";
  if (name.rfind(kPrefix, 0) != 0 || name.size() == kPrefix.size() || name.size() > kPrefix.size() + 12) return -1;
  int64_t g = 0;
  for (size_t i = kPrefix.size(); i < name.size(); ++i) {
    const char c = name[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    g = g * 36 + d;
  }
  return g;
}

// The largest segments_N generation in <dir>/text (as Lucene++ looks for it), or -1.
int64_t LastSegmentsOnDisk(const std::string& text_dir) {
  int64_t best = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(text_dir, ec)) {
    best = std::max(best, SegmentsGeneration(e.path().filename().string()));
  }
  return best;
}

std::string Serialize(const CommitManifest& m) {
  std::string body = std::string(kMagic) + " " + std::to_string(kCommitManifestVersion) + "\n";
  body += "segments " + m.segments + "\n";
  for (const auto& [name, e] : m.files) {
    body += "file " + std::to_string(e.size) + " " + hymir::internal::Crc32Hex(e.crc) + " " + name + "\n";
  }
  return hymir::internal::SealWithCrc32(body);
}

Result<CommitManifest> Parse(const std::string& path, const std::string& text) {
  auto bad = [&](const std::string& why) { return Status::Corruption(path + ": " + why + " (a damaged manifest)"); };
  size_t tail = 0;
  if (std::string why; !hymir::internal::OpenCrc32Seal(text, &tail, &why)) return bad(why);
  std::istringstream in(text.substr(0, tail));
  std::string line;
  if (!std::getline(in, line) || line != std::string(kMagic) + " " + std::to_string(kCommitManifestVersion)) {
    return bad("not a hymir commit manifest of version " + std::to_string(kCommitManifestVersion));
  }
  CommitManifest m;
  if (!std::getline(in, line) || line.rfind("segments ", 0) != 0 || SegmentsGeneration(line.substr(9)) < 0) {
    return bad("no segments line");
  }
  m.segments = line.substr(9);
  int n = 2;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream ls(line);
    std::string kw, hex, name;
    uint64_t size = 0;
    if (!(ls >> kw >> size >> hex) || kw != "file" || hex.size() != 8 ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return bad("malformed line " + std::to_string(n));
    }
    std::getline(ls, name);
    if (name.size() < 2 || name[0] != ' ' || name.find("..") != std::string::npos || name[1] == '/') {
      return bad("malformed file name on line " + std::to_string(n));
    }
    Entry e;
    e.size = size;
    e.crc = static_cast<uint32_t>(std::stoul(hex, nullptr, 16));
    m.files[name.substr(1)] = e;
  }
  return m;
}

// A file of the vector directory written for one generation (its name
// holds .g<N>.): written once, never replaced in place.
bool IsGenerationFile(const std::string& name) {
  const std::string prefix = std::string(kVectorsDir) + "/";
  if (name.rfind(prefix, 0) != 0) return false;
  for (size_t at = name.find(".g", prefix.size()); at != std::string::npos; at = name.find(".g", at + 1)) {
    size_t i = at + 2;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
    if (i > at + 2 && i < name.size() && name[i] == '.') return true;
  }
  return false;
}

Status VerifyOnce(const std::string& dir, const std::string& text, VerifyLevel level, VerifyStats* stats,
                  BlockTables* tables, VerifiedFiles* verified) {
  *stats = VerifyStats();
  if (tables) tables->clear();
  const std::string path = dir + "/" + kCommitManifestFile;
  auto m = Parse(path, text);
  if (!m.ok()) return m.status();
  const std::string text_dir = dir + "/" + kTextDir;
  const int64_t on_disk = LastSegmentsOnDisk(text_dir);
  const int64_t listed = SegmentsGeneration(m->segments);
  if (on_disk < listed) {
    return Status::Corruption(text_dir + "/" + m->segments + ": the last commit, listed in " + path + ", is missing");
  }
  if (on_disk > listed) {
    if (level != VerifyLevel::kFull) return Status::OK();  // unverified: see the header
    // A writer died between its Lucene++ commit and the manifest write (or
    // commits while we check): the last commit is durable but unrecorded.
    // Checksum what the manifest still covers (the segment files the two
    // commits share, hymir.json, the .lsa models); the newer files get the
    // structural checks only (CheckIndex reads every document).
    std::set<std::string> last;
    HYMIR_RETURN_IF_ERROR(Guard(text_dir, [&]() -> Status {
      auto directory = Lucene::FSDirectory::open(Wide(text_dir), Lucene::NoLockFactory::getNoLockFactory());
      Lucene::Collection<Lucene::IndexCommitPtr> commits = Lucene::IndexReader::listCommits(directory);
      Lucene::IndexCommitPtr newest;
      for (auto it = commits.begin(); it != commits.end(); ++it) {
        if (!newest || (*it)->getGeneration() > newest->getGeneration()) newest = *it;
      }
      if (newest) {
        Lucene::HashSet<Lucene::String> names = newest->getFileNames();
        for (auto it = names.begin(); it != names.end(); ++it) last.insert(std::string(kTextDir) + "/" + Utf8(*it));
        stats->unrecorded_files = names.size();
      }
      directory->close();
      return Status::OK();
    }));
    const std::string vectors_prefix = std::string(kVectorsDir) + "/";
    for (auto it = m->files.begin(); it != m->files.end();) {
      const std::string& name = it->first;
      const bool text = name.rfind(std::string(kTextDir) + "/", 0) == 0;
      const bool lsa =
          name.rfind(vectors_prefix, 0) == 0 && name.size() > 4 && name.compare(name.size() - 4, 4, ".lsa") == 0;
      bool side = false;
      for (const char* f : kRecordedSideFiles) side |= name == f;
      const bool keep = text ? last.count(name) > 0 && SegmentsGeneration(name.substr(5)) < 0 &&
                                   name != std::string(kTextDir) + "/segments.gen"
                             : name == kMetaFile || lsa || side;
      if (keep) {
        if (text) --stats->unrecorded_files;
        ++it;
      } else {
        it = m->files.erase(it);
      }
    }
    stats->unrecorded = true;
  }
  // The block checksums of the large text files (absent from manifests
  // written before them, and dropped above for an unrecorded commit).
  BlockTables blocks;
  std::string blocks_name;
  for (const auto& [name, e] : m->files) {
    if (name.rfind(kBlockChecksumsPrefix, 0) != 0) continue;
    const std::string p = dir + "/" + name;
    auto bytes = hymir::internal::ReadFile(p);
    if (!bytes.ok()) return Status::Corruption(p + ": listed in " + path + " but missing or unreadable");
    if (bytes->size() != e.size || hymir::internal::Crc32(0, bytes->data(), bytes->size()) != e.crc) {
      return Status::Corruption(p + ": checksum or size mismatch with " + path + ": a damaged file");
    }
    auto parsed = ParseBlockTables(p, *bytes);
    if (!parsed.ok()) return parsed.status();
    blocks = std::move(parsed).value();
    blocks_name = name;
    stats->blocks = true;
    stats->bytes_checksummed += bytes->size();
  }
  for (const auto& [name, e] : m->files) {
    if (name == blocks_name) continue;
    const std::string p = dir + "/" + name;
    std::error_code ec;
    const uint64_t size = fs::file_size(p, ec);
    if (ec) return Status::Corruption(p + ": listed in " + path + " but missing or unreadable");
    ++stats->files;
    if (size != e.size) {
      return Status::Corruption(p + ": " + std::to_string(size) + " bytes, the commit wrote " + std::to_string(e.size) +
                                " (a truncated or damaged file)");
    }
    auto table = blocks.find(name);
    const bool by_block = table != blocks.end() && table->second->size == e.size && table->second->crc == e.crc;
    if (level == VerifyLevel::kOpen && size > kChecksumOnOpenBytes && by_block) {
      if (tables) (*tables)[name] = table->second;
      ++stats->files_by_block;
      continue;
    }
    const bool write_once = IsGenerationFile(name);
    if (level == VerifyLevel::kOpen && verified && write_once) {
      auto v = verified->find(name);
      if (v != verified->end() && v->second == std::make_pair(e.size, e.crc)) continue;
    }
    uint32_t crc = 0;
    uint64_t read = 0;
    std::vector<uint32_t> block_crcs;
    HYMIR_RETURN_IF_ERROR(ChecksumFile(p, by_block ? table->second->block_bytes : kBlockBytes, &crc, &read,
                                       by_block ? &block_crcs : nullptr));
    stats->bytes_checksummed += read;
    if (crc != e.crc || read != e.size) {
      return Status::Corruption(p + ": checksum mismatch (crc32 " + hymir::internal::Crc32Hex(crc) +
                                ", the commit wrote " + hymir::internal::Crc32Hex(e.crc) + "): a damaged file");
    }
    if (by_block && block_crcs != table->second->blocks) {
      return Status::Corruption(dir + "/" + blocks_name + ": the block checksums of " + name +
                                " disagree with the file: a damaged file");
    }
    if (verified && write_once) (*verified)[name] = {e.size, e.crc};
  }
  // A side file that changes answers must be the one recorded: one added
  // by hand beside an index whose manifest records side files is refused.
  if (stats->blocks && !stats->unrecorded) {
    for (const char* side : kRecordedSideFiles) {
      std::error_code ec;
      if (!m->files.count(side) && fs::exists(dir + "/" + side, ec)) {
        return Status::Corruption(
            dir + "/" + side + ": present but not recorded in " + path +
            " (written outside hymir: remove it, or write it again with the command that made it)");
      }
    }
  }
  stats->verified = !stats->unrecorded;
  return Status::OK();
}

}  // namespace

Status WriteCommitManifest(const std::string& dir) {
  CommitManifest m;
  std::vector<std::string> text_files;
  std::string generation;
  HYMIR_RETURN_IF_ERROR(Guard(dir + "/" + kTextDir, [&]() -> Status {
    auto directory = Lucene::FSDirectory::open(Wide(dir + "/" + kTextDir), Lucene::NoLockFactory::getNoLockFactory());
    Lucene::Collection<Lucene::IndexCommitPtr> commits = Lucene::IndexReader::listCommits(directory);
    Lucene::IndexCommitPtr last;
    for (auto it = commits.begin(); it != commits.end(); ++it) {
      if (!last || (*it)->getGeneration() > last->getGeneration()) last = *it;
    }
    if (!last) return Status::Corruption(dir + "/" + kTextDir + ": no commit to record");
    m.segments = Utf8(last->getSegmentsFileName());
    Lucene::HashSet<Lucene::String> names = last->getFileNames();
    for (auto it = names.begin(); it != names.end(); ++it) text_files.push_back(Utf8(*it));
    Lucene::MapStringString data = last->getUserData();
    if (data.contains(kGenerationKey)) generation = Utf8(data.get(kGenerationKey));
    directory->close();
    return Status::OK();
  }));
  std::vector<std::string> names = {kMetaFile};
  std::map<std::string, Entry> written;  // files whose size and crc32 the vector manifest records
  for (const auto& f : text_files) names.push_back(std::string(kTextDir) + "/" + f);
  std::error_code ec;
  if (fs::exists(dir + "/" + kTextDir + "/segments.gen", ec)) names.push_back(std::string(kTextDir) + "/segments.gen");
  const std::string vdir = dir + "/" + kVectorsDir;
  if (!generation.empty() && generation != "0") {
    uint64_t g = 0;
    try {
      g = std::stoull(generation);
    } catch (...) {
      return Status::Corruption(dir + "/" + kTextDir + ": commit names vector generation \"" + generation + "\"");
    }
    auto vm = ReadManifest(vdir, g);
    if (!vm.ok()) return vm.status();
    // The writer checksummed these files as it wrote them (the generation's
    // manifest holds their sizes and crc32s): recorded as written, not read
    // back. A file damaged since then fails verification, as it should.
    for (const FileInfo* f : {&vm->forward, &vm->forward_base, &vm->values, &vm->values_base}) {
      if (!f->name.empty()) written[std::string(kVectorsDir) + "/" + f->name] = Entry{f->size, f->crc32};
    }
    for (const auto& f : vm->fields) {
      written[std::string(kVectorsDir) + "/" + f.raw.name] = Entry{f.raw.size, f.raw.crc32};
      written[std::string(kVectorsDir) + "/" + f.faiss.name] = Entry{f.faiss.size, f.faiss.crc32};
    }
    names.push_back(std::string(kVectorsDir) + "/MANIFEST.g" + std::to_string(g) + ".json");
    for (const auto& f : vm->fields) {
      names.push_back(std::string(kVectorsDir) + "/" + f.raw.name);
      names.push_back(std::string(kVectorsDir) + "/" + f.faiss.name);
    }
    if (!vm->forward.name.empty()) names.push_back(std::string(kVectorsDir) + "/" + vm->forward.name);
    if (!vm->forward_base.name.empty()) names.push_back(std::string(kVectorsDir) + "/" + vm->forward_base.name);
    if (!vm->values.name.empty()) names.push_back(std::string(kVectorsDir) + "/" + vm->values.name);
    if (!vm->values_base.name.empty()) names.push_back(std::string(kVectorsDir) + "/" + vm->values_base.name);
  }
  for (const auto& e : fs::directory_iterator(vdir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".lsa") == 0) names.push_back(std::string(kVectorsDir) + "/" + n);
  }
  for (const char* side : kRecordedSideFiles) {
    if (fs::exists(dir + "/" + side, ec)) names.push_back(side);
  }
  // Segment files never change once written: reuse their checksums (and
  // block checksums).
  CommitManifest previous;
  BlockTables previous_blocks;
  if (auto text = hymir::internal::ReadFile(dir + "/" + kCommitManifestFile); text.ok()) {
    if (auto p = Parse(dir + "/" + kCommitManifestFile, *text); p.ok()) previous = std::move(p).value();
    for (const auto& [name, e] : previous.files) {
      if (name.rfind(kBlockChecksumsPrefix, 0) != 0) continue;
      auto bytes = hymir::internal::ReadFile(dir + "/" + name);
      if (!bytes.ok()) continue;
      if (auto t = ParseBlockTables(dir + "/" + name, *bytes); t.ok()) previous_blocks = std::move(t).value();
    }
  }
  BlockTables blocks;
  for (const auto& name : names) {
    const std::string p = dir + "/" + name;
    const bool text_file = name.rfind(std::string(kTextDir) + "/", 0) == 0;
    const bool write_once =
        (text_file && name != "text/segments.gen" && name != std::string(kTextDir) + "/" + m.segments) ||
        IsGenerationFile(name);
    const uint64_t size = fs::file_size(p, ec);
    if (ec) return Status::IOError(p + ": cannot stat a file of the commit: " + ec.message());
    const bool want_blocks = text_file && size > kChecksumOnOpenBytes;
    auto it = previous.files.find(name);
    if (write_once && it != previous.files.end() && it->second.size == size) {
      auto t = previous_blocks.find(name);
      const bool have_blocks = t != previous_blocks.end() && t->second->size == size &&
                               t->second->crc == it->second.crc && t->second->block_bytes == kBlockBytes;
      if (!want_blocks || have_blocks) {
        m.files[name] = it->second;
        if (want_blocks) blocks[name] = t->second;
        continue;
      }
    }
    if (auto w = written.find(name); w != written.end() && w->second.size == size) {
      m.files[name] = w->second;
      continue;
    }
    Entry e;
    auto table = std::make_shared<FileBlocks>();
    HYMIR_RETURN_IF_ERROR(ChecksumFile(p, kBlockBytes, &e.crc, &e.size, want_blocks ? &table->blocks : nullptr));
    m.files[name] = e;
    if (want_blocks) {
      table->size = e.size;
      table->crc = e.crc;
      table->block_bytes = kBlockBytes;
      blocks[name] = std::move(table);
    }
  }
  // The block checksums go in a file named after the commit, written before
  // the manifest that lists it, so that a crash between the two leaves the
  // previous manifest and its own block file intact.
  const std::string blocks_name = BlockChecksumsName(m.segments);
  const std::string blocks_bytes = SerializeBlockTables(blocks);
  HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(dir + "/" + blocks_name, blocks_bytes));
  m.files[blocks_name] =
      Entry{blocks_bytes.size(), hymir::internal::Crc32(0, blocks_bytes.data(), blocks_bytes.size())};
  HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(dir + "/" + kCommitManifestFile, Serialize(m)));
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(kBlockChecksumsPrefix, 0) == 0 && n != blocks_name) fs::remove(e.path(), ec);
  }
  return Status::OK();
}

Status WriteRecordedSideFile(const std::string& dir, const std::string& name, const std::string* contents) {
  bool known = false;
  for (const char* side : kRecordedSideFiles) known |= name == side;
  if (!known) return Status::InvalidArgument(dir + "/" + name + ": not a file the commit manifest records");
  const std::string path = dir + "/" + kCommitManifestFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    // No manifest (a sharded index's root, or an index written before
    // manifests): the file alone; the next writer of an index records it.
    if (!contents) {
      fs::remove(dir + "/" + name, ec);
      return Status::OK();
    }
    return hymir::internal::WriteFileAtomic(dir + "/" + name, *contents);
  }
  auto lock = hymir::internal::FileLock::Acquire(dir + "/" + kLockFile);
  if (!lock.ok()) {
    if (lock.status().IsBusy()) {
      return Status::Busy(dir + ": an IndexWriter holds the index; close it before writing " + name);
    }
    return lock.status();
  }
  HYMIR_ASSIGN_OR_RETURN(std::string text, hymir::internal::ReadFile(path));
  HYMIR_ASSIGN_OR_RETURN(CommitManifest m, Parse(path, text));
  // The window between the two renames below is the only moment the file and
  // its record disagree; a crash there makes readers report the file as
  // damaged until this function is run again.
  if (contents) {
    HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(dir + "/" + name, *contents));
    m.files[name] = Entry{contents->size(), hymir::internal::Crc32(0, contents->data(), contents->size())};
  } else {
    m.files.erase(name);
  }
  HYMIR_RETURN_IF_ERROR(hymir::internal::WriteFileAtomic(path, Serialize(m)));
  if (!contents) {
    fs::remove(dir + "/" + name, ec);
    HYMIR_RETURN_IF_ERROR(hymir::internal::SyncDirectory(dir));
  }
  return Status::OK();
}

Status VerifyCommitManifest(const std::string& dir, VerifyLevel level, VerifyStats* stats, BlockTables* tables,
                            VerifiedFiles* verified) {
  VerifyStats local;
  if (!stats) stats = &local;
  *stats = VerifyStats();
  const std::string path = dir + "/" + kCommitManifestFile;
  // A writer may commit (deleting the previous commit's files) and replace
  // the manifest while we verify: a failure is retried when the manifest or
  // the last commit on disk has changed meanwhile.
  auto text = hymir::internal::ReadFile(path);
  if (!text.ok()) {
    if (!text.status().IsNotFound()) return text.status();
    if (level == VerifyLevel::kFull) {
      return Status::Corruption(path +
                                ": missing (deleted, or an index written before manifests; opening an "
                                "IndexWriter writes one)");
    }
    return Status::OK();  // unverified
  }
  std::string current = std::move(text).value();
  int64_t segments = LastSegmentsOnDisk(dir + "/" + kTextDir);
  for (int attempt = 0;; ++attempt) {
    Status s = VerifyOnce(dir, current, level, stats, tables, verified);
    if (s.ok() || attempt == 3) return s;
    auto again = hymir::internal::ReadFile(path);
    const int64_t now = LastSegmentsOnDisk(dir + "/" + kTextDir);
    if (!again.ok() || (*again == current && now == segments)) return s;
    current = std::move(again).value();
    segments = now;
  }
}

Status CheckTermDictionaryHeaders(const std::string& dir) {
  const std::string text_dir = dir + "/" + kTextDir;
  // Only the files of the last commit: a crashed writer may have left a
  // half-written segment that no commit names.
  std::vector<std::string> files;
  HYMIR_RETURN_IF_ERROR(Guard(text_dir, [&]() -> Status {
    auto directory = Lucene::FSDirectory::open(Wide(text_dir), Lucene::NoLockFactory::getNoLockFactory());
    auto infos = Lucene::newLucene<Lucene::SegmentInfos>();
    infos->read(directory);
    Lucene::HashSet<Lucene::String> names = infos->files(directory, false);
    for (auto it = names.begin(); it != names.end(); ++it) files.push_back(Utf8(*it));
    directory->close();
    return Status::OK();
  }));
  std::error_code ec;
  for (const std::string& name : files) {
    const bool tis = name.size() > 4 && name.compare(name.size() - 4, 4, ".tis") == 0;
    const bool tii = name.size() > 4 && name.compare(name.size() - 4, 4, ".tii") == 0;
    if (!tis && !tii) continue;
    const std::string p = text_dir + "/" + name;
    std::ifstream in(p, std::ios::binary);
    unsigned char h[24] = {};
    in.read(reinterpret_cast<char*>(h), sizeof h);
    const uint64_t size = fs::file_size(p, ec);
    auto be32 = [&](int at) {
      return static_cast<int32_t>(uint32_t{h[at]} << 24 | uint32_t{h[at + 1]} << 16 | uint32_t{h[at + 2]} << 8 |
                                  uint32_t{h[at + 3]});
    };
    if (in.gcount() != static_cast<std::streamsize>(sizeof h) || ec) {
      return Status::Corruption(p + ": shorter than a term dictionary header (a truncated file)");
    }
    // Lucene 3.0 TermInfosWriter: int32 format (-4), int64 term count,
    // int32 index interval, int32 skip interval, int32 max skip levels.
    const int32_t format = be32(0);
    const uint64_t count = uint64_t(uint32_t(be32(4))) << 32 | uint32_t(be32(8));
    const int32_t index_interval = be32(12), skip_interval = be32(16), skip_levels = be32(20);
    if (format != -4) {
      return Status::Corruption(p + ": term dictionary format " + std::to_string(format) +
                                ", expected -4 (Lucene 3.0): a damaged file");
    }
    if (count > size || index_interval <= 0 || skip_interval <= 0 || skip_levels <= 0 || skip_levels > 64) {
      return Status::Corruption(p + ": term dictionary header claims " + std::to_string(count) + " terms in " +
                                std::to_string(size) + " bytes (index interval " + std::to_string(index_interval) +
                                ", skip interval " + std::to_string(skip_interval) + ", skip levels " +
                                std::to_string(skip_levels) + "): a damaged file");
    }
  }
  return Status::OK();
}

}  // namespace hymir::index::internal
