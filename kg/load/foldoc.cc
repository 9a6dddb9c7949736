// FOLDOC in dictd format into triples.
//
// foldoc.index: one line per headword, "headword<TAB>offset<TAB>length" with
// offset and length in dictd's base64 digits (A-Z a-z 0-9 + /, most
// significant first). They address the uncompressed foldoc.dict, which Debian
// ships dictzip-compressed (a gzip file: read here with zlib). An entry is its
// headword lines, a blank line, then its text indented by spaces; several
// headwords may point at one entry.
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hymir/kg/loader.h"
#include "kg/load/line_loader.h"

namespace hymir::kg {
namespace {

constexpr size_t kMaxDefinitionBytes = 1000;

bool Base64Number(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= 'A' && c <= 'Z')
      d = c - 'A';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      d = c - '0' + 52;
    else if (c == '+')
      d = 62;
    else if (c == '/')
      d = 63;
    else
      return false;
    v = v * 64 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// The whole dictionary file, gunzipped when it is compressed (zlib reads a
// plain file through the same calls).
Status ReadDict(const std::string& path, std::string* out) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IOError(path + ": cannot open for reading");
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out->append(buf, static_cast<size_t>(n));
  int err = Z_OK;
  const char* msg = n < 0 ? gzerror(f, &err) : nullptr;
  gzclose(f);
  if (n < 0) return Status::Corruption(path + ": " + (msg != nullptr ? msg : "read error"));
  return Status::OK();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string CollapseSpace(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Cuts at most `max` bytes at a space, never inside a UTF-8 sequence.
std::string Cut(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = s.rfind(' ', max);
  if (end == std::string::npos || end == 0) {
    end = max;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  }
  s.resize(end);
  return s;
}

struct Entry {
  std::vector<std::string> headwords;  // the entry's own headword lines
  std::string body;                    // the indented text
};

Entry SplitEntry(std::string_view text) {
  Entry e;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (line.empty() || line.front() == ' ' || line.front() == '\t') break;
    e.headwords.emplace_back(line);
    pos = nl + 1;
  }
  if (pos < text.size()) e.body = std::string(text.substr(pos));
  return e;
}

// The body without its trailing "(yyyy-mm-dd)" date, its <category> tags and
// its cross-reference braces.
std::string DefinitionText(std::string_view body, const std::vector<std::string>& categories) {
  std::string out;
  out.reserve(body.size());
  for (char c : body) {
    if (c != '{' && c != '}') out.push_back(c);
  }
  for (const std::string& c : categories) {
    const std::string tag = "<" + c + ">";
    for (size_t at; (at = out.find(tag)) != std::string::npos;) out.erase(at, tag.size());
  }
  std::string collapsed = CollapseSpace(out);
  // A trailing "(2018-05-22)" is the entry's date.
  if (collapsed.size() >= 12 && collapsed.back() == ')' && collapsed[collapsed.size() - 12] == '(') {
    collapsed.resize(collapsed.size() - 12);
    while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  }
  return Cut(std::move(collapsed), kMaxDefinitionBytes);
}

// "{hash coding}" -> "hash coding"; "{More about FOLDOC (about.html)}" -> "More about FOLDOC".
std::vector<std::string> CrossReferences(std::string_view body) {
  std::vector<std::string> refs;
  size_t pos = 0;
  while ((pos = body.find('{', pos)) != std::string_view::npos) {
    const size_t close = body.find('}', pos + 1);
    if (close == std::string_view::npos) break;
    std::string ref = CollapseSpace(body.substr(pos + 1, close - pos - 1));
    if (size_t paren = ref.find(" ("); paren != std::string::npos) ref.resize(paren);
    if (!ref.empty()) refs.push_back(std::move(ref));
    pos = close + 1;
  }
  return refs;
}

// "<programming>" tags at the start of the text and of numbered senses.
std::vector<std::string> Categories(std::string_view body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find('<', pos)) != std::string_view::npos) {
    const size_t close = body.find('>', pos + 1);
    if (close == std::string_view::npos || close - pos > 40) break;
    // Only a tag that opens a sense: preceded by blanks from the line start, or by "N. ".
    size_t b = pos;
    while (b > 0 && body[b - 1] == ' ') --b;
    while (b > 0 && (body[b - 1] == '.' || std::isdigit(static_cast<unsigned char>(body[b - 1])))) --b;
    while (b > 0 && body[b - 1] == ' ') --b;
    if (b == 0 || body[b - 1] == '\n') {
      std::string tag = CollapseSpace(body.substr(pos + 1, close - pos - 1));
      if (!tag.empty() && tag.find_first_of("<>{}") == std::string::npos &&
          std::find(out.begin(), out.end(), tag) == out.end()) {
        out.push_back(std::move(tag));
      }
    }
    pos = close + 1;
  }
  return out;
}

struct IndexLine {
  std::string headword;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t line = 0;
};

// Reads the index; bad lines fail or are skipped per options.
Status ReadIndex(const std::string& path, uint64_t dict_size, const LoadOptions& options, LoadStats* stats,
                 std::vector<IndexLine>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open for reading");
  std::string line;
  uint64_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    ++stats->lines;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::string fault;
    IndexLine e;
    e.line = no;
    const size_t t1 = line.find('\t');
    const size_t t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string::npos || line.find('\t', t2 + 1) != std::string::npos) {
      fault = "expected headword<TAB>offset<TAB>length";
    } else if (internal::FirstBadByte(line) != std::string::npos) {
      fault = "NUL byte or invalid UTF-8";
    } else if (!Base64Number(std::string_view(line).substr(t1 + 1, t2 - t1 - 1), &e.offset) ||
               !Base64Number(std::string_view(line).substr(t2 + 1), &e.length)) {
      fault = "offset and length must be dictd base64 numbers";
    } else if (e.offset > dict_size || e.length > dict_size - e.offset) {
      fault = "entry at " + std::to_string(e.offset) + "+" + std::to_string(e.length) +
              " lies outside the dictionary (" + std::to_string(dict_size) + " bytes)";
    } else if (t1 == 0) {
      fault = "empty headword";
    }
    if (!fault.empty()) {
      std::string msg = path + ":" + std::to_string(no) + ": " + fault;
      if (!options.skip_bad) return Status::InvalidArgument(msg);
      ++stats->bad_lines;
      if (stats->errors.size() < options.max_error_messages) stats->errors.push_back(std::move(msg));
      continue;
    }
    e.headword = line.substr(0, t1);
    out->push_back(std::move(e));
  }
  if (in.bad()) return Status::IOError(path + ": read error");
  return Status::OK();
}

// Finds foldoc.index and the dictionary beside it.
Status Locate(const std::string& path, std::string* index, std::string* dict) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *index = (std::filesystem::path(path) / "foldoc.index").string();
  } else {
    *index = path;
  }
  if (!std::filesystem::is_regular_file(*index, ec)) return Status::NotFound(*index + ": no such file");
  std::string stem = *index;
  if (stem.size() > 6 && stem.compare(stem.size() - 6, 6, ".index") == 0) stem.resize(stem.size() - 6);
  for (const char* ext : {".dict.dz", ".dict"}) {
    if (std::filesystem::is_regular_file(stem + ext, ec)) {
      *dict = stem + ext;
      return Status::OK();
    }
  }
  return Status::NotFound(stem + ".dict.dz: no such file (nor " + stem + ".dict)");
}

}  // namespace

Result<LoadStats> LoadFoldoc(TripleStore& store, const std::string& path, const LoadOptions& options) {
  auto start = std::chrono::steady_clock::now();
  std::string index_path, dict_path;
  HYMIR_RETURN_IF_ERROR(Locate(path, &index_path, &dict_path));
  std::string dict;
  HYMIR_RETURN_IF_ERROR(ReadDict(dict_path, &dict));
  LoadStats stats;
  std::vector<IndexLine> index;
  HYMIR_RETURN_IF_ERROR(ReadIndex(index_path, dict.size(), options, &stats, &index));

  // Entries by offset (several headwords may share one); entity = first headword line.
  std::map<std::pair<uint64_t, uint64_t>, std::string> entity_of;
  std::unordered_map<std::string, std::string> by_headword;  // lower-cased headword -> entity
  std::vector<std::pair<IndexLine, Entry>> entries;
  for (const IndexLine& line : index) {
    if (line.headword.rfind("00-database", 0) == 0 || line.headword.rfind("00database", 0) == 0) continue;
    const auto key = std::make_pair(line.offset, line.length);
    auto it = entity_of.find(key);
    if (it == entity_of.end()) {
      Entry e = SplitEntry(std::string_view(dict).substr(line.offset, line.length));
      const std::string name = e.headwords.empty() ? line.headword : CollapseSpace(e.headwords.front());
      if (name.empty()) continue;
      it = entity_of.emplace(key, "foldoc:" + name).first;
      for (const std::string& h : e.headwords) by_headword.emplace(Lower(CollapseSpace(h)), it->second);
      entries.emplace_back(line, std::move(e));
    }
    by_headword.emplace(Lower(line.headword), it->second);
  }

  std::vector<Triple> triples;
  const std::string alias(kAliasRelation), definition(kDefinitionRelation);
  for (const auto& [line, e] : entries) {
    const std::string& entity = entity_of[{line.offset, line.length}];
    for (const std::string& h : e.headwords) {
      if (std::string name = CollapseSpace(h); !NormalizeAlias(name).empty()) triples.push_back({entity, alias, name});
    }
    std::vector<std::string> categories = Categories(e.body);
    if (std::string def = DefinitionText(e.body, categories); !def.empty()) {
      triples.push_back({entity, definition, def});
    }
    for (std::string& c : categories) triples.push_back({entity, "foldoc:category", std::move(c)});
    for (const std::string& ref : CrossReferences(e.body)) {
      auto it = by_headword.find(Lower(ref));
      if (it != by_headword.end() && it->second != entity) triples.push_back({entity, "foldoc:see", it->second});
    }
  }
  // Every index headword is an alias of its entry (e.g. "TCP" of "Transmission Control Protocol").
  for (const IndexLine& line : index) {
    auto it = entity_of.find({line.offset, line.length});
    std::string name = CollapseSpace(line.headword);
    if (it != entity_of.end() && !NormalizeAlias(name).empty()) triples.push_back({it->second, alias, name});
  }
  stats.entities = entries.size();
  HYMIR_RETURN_IF_ERROR(internal::WriteBatches(store, index_path, std::move(triples), options, &stats));
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace hymir::kg
