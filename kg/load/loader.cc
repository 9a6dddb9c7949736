// N-Triples and TSV loaders, and the shared line-loading driver.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/kg/loader.h"
#include "kg/load/line_loader.h"

namespace hymir::kg {
namespace internal {

Status LoadLines(TripleStore& store, const std::string& path, const LoadOptions& options, const LineParser& parse,
                 LoadStats* stats, const EndParser& at_end) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound(path + ": no such file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open for reading");
  LoadProgress progress;
  progress.file = path;
  progress.bytes_total = std::filesystem::file_size(path, ec);
  const size_t batch_size = options.batch_size == 0 ? 1 : options.batch_size;

  std::vector<Triple> batch;
  batch.reserve(batch_size + 64);
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    size_t added = 0;
    HYMIR_RETURN_IF_ERROR(store.AddBatch(batch, &added).WithContext(path));
    stats->added += added;
    batch.clear();
    if (options.progress) {
      progress.lines = stats->lines;
      progress.triples = stats->triples;
      options.progress(progress);
    }
    return Status::OK();
  };

  std::string line;
  std::string fault;
  uint64_t line_no = 0;
  // Keeps or drops what the parser appended after `before`: a parser fault or
  // an alias empty after normalisation makes the line bad (fatal, or counted
  // and skipped with options.skip_bad).
  auto settle = [&](bool parsed, size_t before) -> Status {
    for (size_t i = before; parsed && i < batch.size() && fault.empty(); ++i) {
      if (batch[i].relation == kAliasRelation && NormalizeAlias(batch[i].object).empty()) {
        fault = "alias '" + batch[i].object + "' is empty after normalisation";
      }
    }
    if (parsed && fault.empty()) {
      stats->triples += batch.size() - before;
      return Status::OK();
    }
    batch.resize(before);
    std::string msg = path + ":" + std::to_string(line_no) + ": " + fault;
    if (!options.skip_bad) {
      HYMIR_RETURN_IF_ERROR(flush());  // keep the good lines before the fault, as documented
      return Status::InvalidArgument(msg);
    }
    ++stats->bad_lines;
    if (stats->errors.size() < options.max_error_messages) stats->errors.push_back(std::move(msg));
    return Status::OK();
  };
  while (std::getline(in, line)) {
    ++line_no;
    ++stats->lines;
    progress.bytes_read += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t before = batch.size();
    fault.clear();
    const bool parsed = parse(line, &batch, &fault);
    HYMIR_RETURN_IF_ERROR(settle(parsed, before));
    if (batch.size() >= batch_size) HYMIR_RETURN_IF_ERROR(flush());
  }
  if (in.bad()) return Status::IOError(path + ":" + std::to_string(line_no) + ": read error");
  if (at_end) {
    const size_t before = batch.size();
    fault.clear();
    const bool parsed = at_end(&batch, &fault);
    HYMIR_RETURN_IF_ERROR(settle(parsed, before));
  }
  HYMIR_RETURN_IF_ERROR(flush());
  if (options.progress) {
    progress.bytes_read = progress.bytes_total;
    progress.lines = stats->lines;
    progress.triples = stats->triples;
    options.progress(progress);
  }
  return Status::OK();
}

// Position of the first byte that is not well-formed UTF-8 (RFC 3629: no
// overlongs, surrogates or code points above U+10FFFF) or is NUL; npos if none.
size_t FirstBadByte(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF)
      len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      len = 4, cp = c & 0x07;
    else
      return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = cp << 6 | (p[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return i;
    }
    i += len;
  }
  return std::string::npos;
}

Status WriteBatches(TripleStore& store, const std::string& file, std::vector<Triple>&& triples,
                    const LoadOptions& options, LoadStats* stats) {
  // A label of only '_' and blanks names nothing the linker could match.
  std::erase_if(triples,
                [](const Triple& t) { return t.relation == kAliasRelation && NormalizeAlias(t.object).empty(); });
  const size_t batch_size = options.batch_size == 0 ? 1 : options.batch_size;
  LoadProgress progress;
  progress.file = file;
  progress.bytes_total = triples.size();
  for (size_t begin = 0; begin < triples.size(); begin += batch_size) {
    const size_t end = std::min(triples.size(), begin + batch_size);
    size_t added = 0;
    HYMIR_RETURN_IF_ERROR(
        store.AddBatch(std::span<const Triple>(triples.data() + begin, end - begin), &added).WithContext(file));
    stats->added += added;
    stats->triples += end - begin;
    if (options.progress) {
      progress.bytes_read = end;
      progress.lines = stats->lines;
      progress.triples = stats->triples;
      options.progress(progress);
    }
  }
  return Status::OK();
}

}  // namespace internal

std::string_view SourceOf(std::string_view entity) {
  const size_t colon = entity.find(':');
  return colon == std::string_view::npos ? std::string_view() : entity.substr(0, colon);
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string Column(size_t pos) { return "column " + std::to_string(pos + 1); }

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Checks the escape starting at line[j] == '\\' (N-Triples: ECHAR in
// literals, UCHAR \uXXXX / \UXXXXXXXX in literals and IRIs); *len = its length.
bool CheckEscape(const std::string& line, size_t j, bool in_literal, size_t* len, std::string* fault) {
  const char e = j + 1 < line.size() ? line[j + 1] : '\0';
  if (e == 'u' || e == 'U') {
    const size_t digits = e == 'u' ? 4 : 8;
    for (size_t k = 0; k < digits; ++k) {
      if (j + 2 + k >= line.size() || !IsHex(line[j + 2 + k])) {
        *fault = std::string("invalid \\") + e + " escape at " + Column(j) + " (expects " + std::to_string(digits) +
                 " hex digits)";
        return false;
      }
    }
    *len = 2 + digits;
    return true;
  }
  if (in_literal && e != '\0' && std::string_view("tbnrf\"'\\").find(e) != std::string_view::npos) {
    *len = 2;
    return true;
  }
  *fault = "invalid escape at " + Column(j) + (in_literal ? "" : " (an IRI allows only \\u and \\U)");
  return false;
}

// Reads one N-Triples term starting at line[*pos]; advances *pos past it.
bool ReadTerm(const std::string& line, size_t* pos, bool allow_literal, bool allow_bnode, std::string* term,
              std::string* fault) {
  size_t i = *pos;
  if (i >= line.size()) {
    *fault = "unexpected end of line, expected a term";
    return false;
  }
  if (line[i] == '<') {
    size_t j = i + 1;
    while (j < line.size() && line[j] != '>') {
      if (IsSpace(line[j]) || line[j] == '<' || line[j] == '"') {
        *fault = "invalid character in IRI at " + Column(j);
        return false;
      }
      if (line[j] == '\\') {
        size_t len = 0;
        if (!CheckEscape(line, j, /*in_literal=*/false, &len, fault)) return false;
        j += len;
        continue;
      }
      ++j;
    }
    if (j >= line.size()) {
      *fault = "unterminated IRI starting at " + Column(i);
      return false;
    }
    if (j == i + 1) {
      *fault = "empty IRI at " + Column(i);
      return false;
    }
    *term = line.substr(i, j + 1 - i);
    *pos = j + 1;
    return true;
  }
  if (line.compare(i, 2, "_:") == 0) {
    if (!allow_bnode) {
      *fault = "blank node not allowed as relation at " + Column(i);
      return false;
    }
    size_t j = i + 2;
    while (j < line.size() && !IsSpace(line[j])) ++j;
    if (j == i + 2) {
      *fault = "empty blank node label at " + Column(i);
      return false;
    }
    // A '.' right after the label ends the statement, not the label.
    if (line[j - 1] == '.' && j - 1 > i + 2) --j;
    *term = line.substr(i, j - i);
    *pos = j;
    return true;
  }
  if (line[i] == '"') {
    if (!allow_literal) {
      *fault = "literal not allowed here at " + Column(i);
      return false;
    }
    size_t j = i + 1;
    while (j < line.size() && line[j] != '"') {
      if (line[j] == '\\') {
        size_t len = 0;
        if (!CheckEscape(line, j, /*in_literal=*/true, &len, fault)) return false;
        j += len;
        continue;
      }
      ++j;
    }
    if (j >= line.size()) {
      *fault = "unterminated literal starting at " + Column(i);
      return false;
    }
    ++j;  // closing quote
    if (j < line.size() && line[j] == '@') {
      size_t k = j + 1;
      while (k < line.size() && (std::isalnum(static_cast<unsigned char>(line[k])) || line[k] == '-')) ++k;
      if (k == j + 1) {
        *fault = "empty language tag at " + Column(j);
        return false;
      }
      j = k;
    } else if (line.compare(j, 2, "^^") == 0) {
      size_t k = j + 2;
      std::string type;
      if (k >= line.size() || line[k] != '<') {
        *fault = "expected <datatype IRI> after ^^ at " + Column(j);
        return false;
      }
      if (!ReadTerm(line, &k, false, false, &type, fault)) return false;
      j = k;
    }
    *term = line.substr(i, j - i);
    *pos = j;
    return true;
  }
  *fault = std::string("expected ") +
           (allow_literal ? "'<', '_:' or '\"'"
            : allow_bnode ? "'<' or '_:'"
                          : "'<'") +
           " at " + Column(i) + ", got '" + line[i] + "'";
  return false;
}

void SkipSpace(const std::string& line, size_t* pos) {
  while (*pos < line.size() && IsSpace(line[*pos])) ++(*pos);
}

bool ParseTsvLine(const std::string& line, std::vector<Triple>* out, std::string* fault) {
  if (line.empty() || line[0] == '#') return true;
  bool blank = true;
  for (char c : line) blank = blank && IsSpace(c);
  if (blank) return true;
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  if (fields.size() != 3) {
    *fault = "expected 3 tab-separated fields (subject, relation, object), got " + std::to_string(fields.size());
    return false;
  }
  static const char* kNames[] = {"subject", "relation", "object"};
  for (int i = 0; i < 3; ++i) {
    if (fields[i].empty()) {
      *fault = std::string("empty ") + kNames[i];
      return false;
    }
  }
  out->push_back(Triple{std::move(fields[0]), std::move(fields[1]), std::move(fields[2])});
  return true;
}

Result<LoadStats> Timed(const std::function<Status(LoadStats*)>& body) {
  auto start = std::chrono::steady_clock::now();
  LoadStats stats;
  Status s = body(&stats);
  if (!s.ok()) return s;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace

bool ParseNTriplesLine(const std::string& line, Triple* triple, bool* is_triple, std::string* fault) {
  *is_triple = false;
  if (const size_t bad = internal::FirstBadByte(line); bad != std::string::npos) {
    *fault = (line[bad] == '\0' ? "NUL byte at " : "invalid UTF-8 at ") + Column(bad);
    return false;
  }
  size_t pos = 0;
  SkipSpace(line, &pos);
  if (pos >= line.size() || line[pos] == '#') return true;
  Triple t;
  if (!ReadTerm(line, &pos, false, true, &t.subject, fault)) return false;
  SkipSpace(line, &pos);
  if (!ReadTerm(line, &pos, false, false, &t.relation, fault)) return false;
  SkipSpace(line, &pos);
  if (!ReadTerm(line, &pos, true, true, &t.object, fault)) return false;
  SkipSpace(line, &pos);
  if (pos >= line.size() || line[pos] != '.') {
    *fault = "expected '.' at " + Column(pos) + " to end the triple";
    return false;
  }
  ++pos;
  SkipSpace(line, &pos);
  if (pos < line.size() && line[pos] != '#') {
    *fault = "unexpected text after '.' at " + Column(pos);
    return false;
  }
  *triple = std::move(t);
  *is_triple = true;
  return true;
}

Result<LoadStats> LoadNTriples(TripleStore& store, const std::string& path, const LoadOptions& options) {
  return Timed([&](LoadStats* stats) {
    return internal::LoadLines(
        store, path, options,
        [](const std::string& line, std::vector<Triple>* out, std::string* fault) {
          Triple t;
          bool is_triple = false;
          if (!ParseNTriplesLine(line, &t, &is_triple, fault)) return false;
          if (is_triple) out->push_back(std::move(t));
          return true;
        },
        stats);
  });
}

Result<LoadStats> LoadTsv(TripleStore& store, const std::string& path, const LoadOptions& options) {
  return Timed([&](LoadStats* stats) { return internal::LoadLines(store, path, options, ParseTsvLine, stats); });
}

}  // namespace hymir::kg
