#include "hymir/beir.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace hymir {
namespace {

std::string TypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "array";
    case T::OBJECT:
      return "object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return "number";
    case T::STRING:
      return "string";
    case T::BOOL:
      return "boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

// Scalar JSON value as text: strings verbatim, integers in decimal, doubles
// with the shortest round-trip form, booleans as true/false.
bool ScalarText(simdjson::dom::element el, std::string* out) {
  using T = simdjson::dom::element_type;
  switch (el.type()) {
    case T::STRING:
      *out = std::string(el.get_string().value());
      return true;
    case T::INT64:
      *out = std::to_string(el.get_int64().value());
      return true;
    case T::UINT64:
      *out = std::to_string(el.get_uint64().value());
      return true;
    case T::DOUBLE: {
      std::ostringstream ss;
      ss.precision(17);
      ss << el.get_double().value();
      *out = ss.str();
      return true;
    }
    case T::BOOL:
      *out = el.get_bool().value() ? "true" : "false";
      return true;
    default:
      return false;
  }
}

// A scalar as a typed value; false for objects, arrays and null. A UINT64
// beyond int64 becomes a double (JSON numbers carry no type).
bool ScalarValue(simdjson::dom::element el, FieldValue* out) {
  using T = simdjson::dom::element_type;
  switch (el.type()) {
    case T::STRING:
      *out = std::string(el.get_string().value());
      return true;
    case T::INT64:
      *out = el.get_int64().value();
      return true;
    case T::UINT64:
      *out = static_cast<double>(el.get_uint64().value());
      return true;
    case T::DOUBLE:
      *out = el.get_double().value();
      return true;
    case T::BOOL:
      *out = el.get_bool().value();
      return true;
    default:
      return false;
  }
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

thread_local simdjson::dom::parser tls_parser;

enum class LineRead { kLine, kEof, kTooLong };

// Reads one line (without its '\n') of at most `limit` bytes into *line,
// adding the bytes consumed to *bytes. A longer line is skipped to its end
// without being held whole (kTooLong).
LineRead ReadBoundedLine(std::istream& in, size_t limit, std::string* line, uint64_t* bytes) {
  line->clear();
  char buf[1 << 16];
  bool any = false;
  while (true) {
    in.getline(buf, sizeof buf);
    const auto got = static_cast<size_t>(in.gcount());
    if (got > 0) any = true;
    if (in.eof()) {  // the last line, without a newline
      line->append(buf, got);
      *bytes += got;
      if (line->size() > limit) return LineRead::kTooLong;
      return any ? LineRead::kLine : LineRead::kEof;
    }
    if (in.fail()) {  // the buffer filled before the newline
      if (in.bad()) return LineRead::kEof;
      in.clear();
      line->append(buf, got);
      *bytes += got;
      if (line->size() > limit) {
        line->clear();
        line->shrink_to_fit();
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
        *bytes += static_cast<uint64_t>(in.gcount());
        return LineRead::kTooLong;
      }
      continue;
    }
    line->append(buf, got - 1);  // got counts the newline
    *bytes += got;
    return line->size() > limit ? LineRead::kTooLong : LineRead::kLine;
  }
}

Status LineTooLong(const std::string& where, size_t limit) {
  return Status::InvalidArgument(where + ": line longer than the limit of " + std::to_string(limit) + " bytes");
}

class FileCorpusReader final : public CorpusReader {
 public:
  FileCorpusReader(std::string path, std::ifstream in, uint64_t size)
      : path_(std::move(path)), in_(std::move(in)), size_(size) {}

  Result<bool> Next(Document* doc) override {
    std::string line;
    while (true) {
      const LineRead r = ReadBoundedLine(in_, kMaxCorpusLineBytes, &line, &bytes_);
      if (r == LineRead::kEof) break;
      ++line_no_;
      if (r == LineRead::kTooLong) return LineTooLong(path_ + ":" + std::to_string(line_no_), kMaxCorpusLineBytes);
      if (IsBlank(line)) continue;
      auto parsed = ParseCorpusLine(line, path_ + ":" + std::to_string(line_no_));
      if (!parsed.ok()) return std::move(parsed).status();
      *doc = std::move(parsed).value();
      return true;
    }
    if (in_.bad()) return Status::IOError(path_ + ":" + std::to_string(line_no_) + ": read failed");
    return false;
  }

  uint64_t line() const override { return line_no_; }
  uint64_t bytes_read() const override { return bytes_ < size_ ? bytes_ : size_; }
  uint64_t file_size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_;
  uint64_t line_no_ = 0;
  uint64_t bytes_ = 0;
};

Status CheckUniqueKeys(simdjson::dom::element el, const std::string& where, int depth = 0);

Result<simdjson::dom::object> ParseObject(std::string_view line, const std::string& where) {
  simdjson::dom::element root;
  auto err = tls_parser.parse(line.data(), line.size()).get(root);
  if (err) return Status::InvalidArgument(where + ": malformed JSON: " + simdjson::error_message(err));
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) {
    return Status::InvalidArgument(where + ": expected a JSON object, got " + TypeName(root.type()));
  }
  HYMIR_RETURN_IF_ERROR(CheckUniqueKeys(root, where));
  return obj;
}

Status GetId(simdjson::dom::object obj, const std::string& where, std::string* id) {
  simdjson::dom::element el;
  if (obj["_id"].get(el)) return Status::InvalidArgument(where + ": missing \"_id\"");
  using T = simdjson::dom::element_type;
  if (el.type() != T::STRING && el.type() != T::INT64 && el.type() != T::UINT64) {
    return Status::InvalidArgument(where + ": \"_id\" must be a string, got " + TypeName(el.type()));
  }
  ScalarText(el, id);
  if (id->empty()) return Status::InvalidArgument(where + ": \"_id\" is empty");
  if (id->size() > kMaxIdBytes) {
    return Status::InvalidArgument(where + ": \"_id\" is " + std::to_string(id->size()) +
                                   " bytes, longer than the limit of " + std::to_string(kMaxIdBytes));
  }
  if (Status s = CheckId(*id); !s.ok()) return Status::InvalidArgument(where + ": \"_id\": " + s.message());
  return Status::OK();
}

// A JSON object naming one key twice is refused (simdjson would quietly give
// the first), in it and in every object nested inside it.
Status CheckUniqueKeys(simdjson::dom::element el, const std::string& where, int depth) {
  using T = simdjson::dom::element_type;
  if (depth > 64) return Status::OK();  // simdjson bounds the depth anyway
  simdjson::dom::object obj;
  simdjson::dom::array arr;
  if (!el.get_object().get(obj)) {
    std::vector<std::string_view> keys;
    for (auto field : obj) keys.push_back(field.key);
    if (keys.size() > 1) {
      std::sort(keys.begin(), keys.end());
      auto dup = std::adjacent_find(keys.begin(), keys.end());
      if (dup != keys.end()) {
        return Status::InvalidArgument(where + ": key \"" + std::string(*dup) + "\" appears more than once");
      }
    }
    for (auto field : obj) HYMIR_RETURN_IF_ERROR(CheckUniqueKeys(field.value, where, depth + 1));
  } else if (!el.get_array().get(arr)) {
    for (auto x : arr) {
      if (x.type() == T::OBJECT || x.type() == T::ARRAY) HYMIR_RETURN_IF_ERROR(CheckUniqueKeys(x, where, depth + 1));
    }
  }
  return Status::OK();
}

Status GetOptionalString(simdjson::dom::object obj, const char* key, const std::string& where, const std::string& id,
                         std::string* out, bool* present) {
  simdjson::dom::element el;
  *present = false;
  if (obj[key].get(el)) return Status::OK();
  if (el.is_null()) return Status::OK();
  std::string_view sv;
  if (el.get_string().get(sv)) {
    return Status::InvalidArgument(where + ": document \"" + id + "\": \"" + key + "\" must be a string, got " +
                                   TypeName(el.type()));
  }
  *out = std::string(sv);
  *present = true;
  return Status::OK();
}

// "vectors": {"<field>": [numbers...], ...}
Status ParseVectors(simdjson::dom::element el, const std::string& where, const std::string& id,
                    std::map<std::string, std::vector<float>>* out, const char* what = "document") {
  const std::string at = where + ": " + what + " \"" + id + "\": ";
  simdjson::dom::object obj;
  if (el.get_object().get(obj))
    return Status::InvalidArgument(at + "\"vectors\" must be an object, got " + TypeName(el.type()));
  for (auto field : obj) {
    const std::string name(field.key);
    simdjson::dom::array arr;
    if (field.value.get_array().get(arr)) {
      return Status::InvalidArgument(at + "vector \"" + name + "\" must be an array of numbers, got " +
                                     TypeName(field.value.type()));
    }
    std::vector<float> v;
    v.reserve(arr.size());
    size_t i = 0;
    for (auto x : arr) {
      double d;
      if (x.get_double().get(d)) {
        int64_t iv;
        uint64_t uv;
        if (!x.get_int64().get(iv))
          d = static_cast<double>(iv);
        else if (!x.get_uint64().get(uv))
          d = static_cast<double>(uv);
        else
          return Status::InvalidArgument(at + "vector \"" + name + "\"[" + std::to_string(i) + "] is " +
                                         TypeName(x.type()) + ", not a number");
      }
      const float f = static_cast<float>(d);
      if (!std::isfinite(f)) {
        return Status::InvalidArgument(at + "vector \"" + name + "\"[" + std::to_string(i) + "] is not a finite float");
      }
      v.push_back(f);
      ++i;
    }
    (*out)[name] = std::move(v);
  }
  return Status::OK();
}

}  // namespace

Result<Document> ParseCorpusLine(std::string_view line, const std::string& where) {
  auto obj_or = ParseObject(line, where);
  if (!obj_or.ok()) return obj_or.status();
  simdjson::dom::object obj = obj_or.value();
  Document doc;
  HYMIR_RETURN_IF_ERROR(GetId(obj, where, &doc.id));
  bool present = false;
  HYMIR_RETURN_IF_ERROR(GetOptionalString(obj, "title", where, doc.id, &doc.title, &present));
  HYMIR_RETURN_IF_ERROR(GetOptionalString(obj, "text", where, doc.id, &doc.text, &present));
  std::string domain;
  HYMIR_RETURN_IF_ERROR(GetOptionalString(obj, "domain", where, doc.id, &domain, &present));
  if (present) doc.domain = std::move(domain);
  simdjson::dom::element vectors;
  if (!obj["vectors"].get(vectors) && !vectors.is_null()) {
    HYMIR_RETURN_IF_ERROR(ParseVectors(vectors, where, doc.id, &doc.vectors));
  }
  for (auto field : obj) {
    std::string key(field.key);
    if (key == "_id" || key == "title" || key == "text" || key == "domain" || key == "vectors") continue;
    std::string value;
    std::vector<FieldValue> typed;
    simdjson::dom::array arr;
    if (!field.value.get_array().get(arr)) {
      // An array of scalars: the values of a multi-valued typed field. An
      // array holding objects, arrays or null is no field (ignored, as before).
      bool scalars = true;
      for (auto x : arr) {
        FieldValue v;
        if (!ScalarValue(x, &v)) {
          scalars = false;
          break;
        }
        typed.push_back(std::move(v));
      }
      if (!scalars || IsReservedFieldName(key)) continue;  // as before: arrays were never fields
    } else {
      FieldValue v;
      if (!ScalarValue(field.value, &v)) continue;  // objects, null: not extra fields
      typed.push_back(std::move(v));
      ScalarText(field.value, &value);
    }
    if (IsReservedFieldName(key)) {
      return Status::InvalidArgument(where + ": document \"" + doc.id + "\": field name \"" + key + "\" is reserved");
    }
    if (!field.value.is_array()) doc.fields.emplace(key, std::move(value));
    doc.values.emplace(std::move(key), std::move(typed));
  }
  return doc;
}

Result<std::unique_ptr<CorpusReader>> CorpusReader::Open(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound(path + ": no such file");
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + ": is a directory, expected a .jsonl file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open for reading");
  return std::unique_ptr<CorpusReader>(new FileCorpusReader(path, std::move(in), static_cast<uint64_t>(st.st_size)));
}

Result<std::vector<QueryRecord>> ReadQueries(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound(path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open for reading");
  std::vector<QueryRecord> out;
  std::map<std::string, uint64_t> seen;  // query id -> line
  std::string line;
  uint64_t line_no = 0, bytes = 0;
  while (true) {
    const LineRead r = ReadBoundedLine(in, kMaxQueryBytes, &line, &bytes);
    if (r == LineRead::kEof) break;
    ++line_no;
    std::string where = path + ":" + std::to_string(line_no);
    if (r == LineRead::kTooLong) return LineTooLong(where, kMaxQueryBytes);
    if (IsBlank(line)) continue;
    auto obj_or = ParseObject(line, where);
    if (!obj_or.ok()) return obj_or.status();
    QueryRecord q;
    HYMIR_RETURN_IF_ERROR(GetId(obj_or.value(), where, &q.id));
    if (auto [it, fresh] = seen.emplace(q.id, line_no); !fresh) {
      return Status::InvalidArgument(where + ": query id \"" + q.id + "\" repeats line " + std::to_string(it->second));
    }
    bool present = false;
    HYMIR_RETURN_IF_ERROR(GetOptionalString(obj_or.value(), "text", where, q.id, &q.text, &present));
    if (!present) return Status::InvalidArgument(where + ": query \"" + q.id + "\": missing \"text\"");
    if (auto nul = q.text.find('\0'); nul != std::string::npos) {
      return Status::InvalidArgument(where + ": query \"" + q.id + "\": \"text\" has a NUL byte at byte " +
                                     std::to_string(nul));
    }
    std::string domain;
    HYMIR_RETURN_IF_ERROR(GetOptionalString(obj_or.value(), "domain", where, q.id, &domain, &present));
    if (present) q.domain = std::move(domain);
    simdjson::dom::element vectors;
    if (!obj_or.value()["vectors"].get(vectors) && !vectors.is_null()) {
      HYMIR_RETURN_IF_ERROR(ParseVectors(vectors, where, q.id, &q.vectors, "query"));
    }
    out.push_back(std::move(q));
  }
  if (in.bad()) return Status::IOError(path + ": read failed");
  return out;
}

}  // namespace hymir
