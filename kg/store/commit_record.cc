#include "kg/store/commit_record.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir::kg::internal {
namespace {

constexpr const char* kMagic = "hymir-kg-commit";

// CRC-32 and size of a whole file, streamed.
Status FileCrc(const std::string& path, uint32_t* crc, uint64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open for checksum");
  std::vector<char> buf(1 << 20);
  uint32_t c = 0;
  uint64_t n = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(in.gcount());
    c = hymir::internal::Crc32(c, buf.data(), got);
    n += got;
  }
  if (in.bad()) return Status::IOError(path + ": read failed");
  *crc = c;
  *size = n;
  return Status::OK();
}

std::string Serialize(const CommitRecord& r) {
  std::string body = std::string(kMagic) + " " + std::to_string(kCommitRecordVersion) + "\n";
  body += std::string("state ") + (r.clean ? "clean" : "writing") + "\n";
  if (r.clean) {
    const KgCounts& c = r.counts;
    body += "counts " + std::to_string(c.triples) + " " + std::to_string(c.terms) + " " + std::to_string(c.subjects) +
            " " + std::to_string(c.relations) + " " + std::to_string(c.alias_triples) + "\n";
    body += "current " + r.current + "\n";
    for (const CommitRecord::File& f : r.files) {
      body += "file " + std::to_string(f.size) + " " + hymir::internal::Crc32Hex(f.crc) + " " + f.name + "\n";
    }
  }
  return hymir::internal::SealWithCrc32(body);
}

bool PlainName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

Result<CommitRecord> Parse(const std::string& path, const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(path + ": " + why + " (a damaged KG commit record)");
  };
  size_t tail = 0;
  if (std::string why; !hymir::internal::OpenCrc32Seal(text, &tail, &why)) return bad(why);
  std::istringstream in(text.substr(0, tail));
  std::string line;
  if (!std::getline(in, line) || line != std::string(kMagic) + " " + std::to_string(kCommitRecordVersion)) {
    return bad("not a hymir KG commit record of version " + std::to_string(kCommitRecordVersion));
  }
  CommitRecord r;
  if (!std::getline(in, line) || (line != "state clean" && line != "state writing")) return bad("no state line");
  r.clean = line == "state clean";
  if (!r.clean) return r;
  if (!std::getline(in, line)) return bad("no counts line");
  {
    std::istringstream ls(line);
    std::string kw, rest;
    KgCounts& c = r.counts;
    if (!(ls >> kw >> c.triples >> c.terms >> c.subjects >> c.relations >> c.alias_triples) || kw != "counts" ||
        (ls >> rest)) {
      return bad("malformed counts line");
    }
  }
  if (!std::getline(in, line) || line.rfind("current ", 0) != 0 || !PlainName(line.substr(8))) {
    return bad("no current line");
  }
  r.current = line.substr(8);
  int n = 4;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream ls(line);
    std::string kw, hex, name, rest;
    CommitRecord::File f;
    if (!(ls >> kw >> f.size >> hex >> name) || kw != "file" || hex.size() != 8 ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos || !PlainName(name) || (ls >> rest)) {
      return bad("malformed line " + std::to_string(n));
    }
    f.crc = static_cast<uint32_t>(std::stoul(hex, nullptr, 16));
    f.name = std::move(name);
    r.files.push_back(std::move(f));
  }
  if (std::none_of(r.files.begin(), r.files.end(), [&](const auto& f) { return f.name == r.current; })) {
    return bad("the MANIFEST " + r.current + " is not listed");
  }
  return r;
}

// CURRENT's contents without the trailing newline.
Result<std::string> ReadCurrent(const std::string& dir) {
  HYMIR_ASSIGN_OR_RETURN(std::string text, hymir::internal::ReadFile(dir + "/CURRENT"));
  if (text.empty() || text.back() != '\n') {
    return Status::Corruption(dir + "/CURRENT: damaged (" + std::to_string(text.size()) +
                              " bytes, no MANIFEST name ending in a newline)");
  }
  text.pop_back();
  return text;
}

}  // namespace

Result<std::optional<CommitRecord>> ReadCommitRecord(const std::string& dir) {
  const std::string path = dir + "/" + kCommitRecordFile;
  auto text = hymir::internal::ReadFile(path);
  if (text.status().IsNotFound()) return std::optional<CommitRecord>();
  if (!text.ok()) return text.status();
  HYMIR_ASSIGN_OR_RETURN(CommitRecord r, Parse(path, *text));
  return std::optional<CommitRecord>(std::move(r));
}

Status WriteCommitRecord(const std::string& dir, const CommitRecord& record) {
  return hymir::internal::WriteFileAtomic(dir + "/" + kCommitRecordFile, Serialize(record));
}

Result<CommitRecord> RecordDirectory(const std::string& dir, const KgCounts& counts) {
  namespace fs = std::filesystem;
  CommitRecord r;
  r.clean = true;
  r.counts = counts;
  HYMIR_ASSIGN_OR_RETURN(r.current, ReadCurrent(dir));
  std::vector<std::string> names{r.current};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string ext = e.path().extension().string();
    if ((ext == ".sst" || ext == ".log") && e.is_regular_file()) names.push_back(name);
  }
  if (ec) return Status::IOError(dir + ": listing files: " + ec.message());
  std::sort(names.begin() + 1, names.end());
  for (const std::string& name : names) {
    CommitRecord::File f;
    f.name = name;
    HYMIR_RETURN_IF_ERROR(FileCrc(dir + "/" + name, &f.crc, &f.size));
    r.files.push_back(std::move(f));
  }
  return r;
}

Status VerifyCommitRecord(const std::string& dir, const CommitRecord& record) {
  const std::string where = " (the KG's commit record " + std::string(kCommitRecordFile) + " says ";
  auto current = ReadCurrent(dir);
  if (current.status().IsNotFound())
    return Status::Corruption(dir + "/CURRENT: missing" + where + record.current + ")");
  if (!current.ok()) return current.status();
  if (*current != record.current) {
    return Status::Corruption(dir + "/CURRENT: damaged: names '" + *current + "'" + where + record.current + ")");
  }
  for (const CommitRecord::File& f : record.files) {
    const std::string path = dir + "/" + f.name;
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return Status::Corruption(path + ": missing" + where + std::to_string(f.size) + " bytes)");
    if (size != f.size) {
      return Status::Corruption(path + ": damaged: " + std::to_string(size) + " bytes" + where +
                                std::to_string(f.size) + ")");
    }
    uint32_t crc = 0;
    uint64_t read = 0;
    HYMIR_RETURN_IF_ERROR(FileCrc(path, &crc, &read));
    if (crc != f.crc || read != f.size) {
      return Status::Corruption(path + ": damaged: checksum " + hymir::internal::Crc32Hex(crc) + where +
                                hymir::internal::Crc32Hex(f.crc) + ")");
    }
  }
  return Status::OK();
}

}  // namespace hymir::kg::internal
