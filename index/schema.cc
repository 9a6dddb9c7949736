#include "hymir/index/schema.h"

#include <nlohmann/json.hpp>

#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "hymir/index/analyzer.h"
#include "src/core/file_util.h"

namespace hymir::index {
namespace {

constexpr const char* kTypeNames[] = {"keyword", "text", "int64", "double", "date", "bool"};

// Order-preserving 64-bit key of a finite double: positive values keep their
// bits, negative ones get every bit but the sign flipped.
int64_t DoubleKey(double d) {
  if (d == 0) d = 0.0;  // -0.0 and 0.0 are one value
  const int64_t bits = std::bit_cast<int64_t>(d);
  return bits < 0 ? bits ^ INT64_MAX : bits;
}

double KeyDouble(int64_t key) { return std::bit_cast<double>(key < 0 ? key ^ INT64_MAX : key); }

bool ParseInt(std::string_view t, int64_t* out) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size() && !t.empty();
}

bool ParseDouble(std::string_view t, double* out) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size() && !t.empty() && std::isfinite(*out);
}

bool Digits(std::string_view t, size_t pos, size_t n, int* out) {
  if (pos + n > t.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    v = v * 10 + (t[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

const char* FieldTypeName(FieldType t) { return kTypeNames[static_cast<int>(t)]; }

Result<FieldType> ParseFieldType(std::string_view name) {
  for (int i = 0; i < 6; ++i) {
    if (name == kTypeNames[i]) return static_cast<FieldType>(i);
  }
  return Status::InvalidArgument("unknown field type \"" + std::string(name) +
                                 "\" (expected keyword, text, int64, double, date or bool)");
}

const FieldSpec* Schema::Find(std::string_view name) const {
  auto it = fields.find(std::string(name));
  return it == fields.end() ? nullptr : &it->second;
}

Result<Schema> ParseSchemaJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("schema: not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("schema: expected a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "fields") return Status::InvalidArgument("schema: unknown key \"" + key + "\" (expected \"fields\")");
  }
  if (!j.contains("fields") || !j["fields"].is_object()) {
    return Status::InvalidArgument("schema: \"fields\" must be an object of field name -> spec");
  }
  Schema schema;
  for (const auto& [name, f] : j["fields"].items()) {
    const std::string at = "schema: field \"" + name + "\"";
    if (IsReservedFieldName(name)) return Status::InvalidArgument(at + ": the name is reserved");
    if (!f.is_object()) return Status::InvalidArgument(at + ": expected an object {\"type\": ...}");
    if (!f.contains("type") || !f["type"].is_string()) {
      return Status::InvalidArgument(at + ": \"type\" (a string) is missing");
    }
    FieldSpec spec;
    auto type = ParseFieldType(f["type"].get<std::string>());
    if (!type.ok()) return type.status().WithContext(at + ": \"type\"");
    spec.type = *type;
    for (const auto& [key, v] : f.items()) {
      if (key == "type") continue;
      if (key == "analyzer") {
        if (!v.is_string()) return Status::InvalidArgument(at + ": \"analyzer\" must be a string");
        spec.analyzer = v.get<std::string>();
        continue;
      }
      bool* flag = key == "indexed"  ? &spec.indexed
                   : key == "stored" ? &spec.stored
                   : key == "sort"   ? &spec.sortable
                   : key == "facet"  ? &spec.facetable
                                     : nullptr;
      if (!flag) {
        return Status::InvalidArgument(at + ": unknown key \"" + key +
                                       "\" (expected type, indexed, stored, sort, facet, analyzer)");
      }
      if (!v.is_boolean()) return Status::InvalidArgument(at + ": \"" + key + "\" must be true or false");
      *flag = v.get<bool>();
    }
    if (spec.type == FieldType::kText) {
      if (spec.analyzer.empty()) spec.analyzer = AnalyzerName(AnalyzerKind::kStandard);
      auto kind = ParseAnalyzerKind(spec.analyzer);
      if (!kind.ok()) return kind.status().WithContext(at + ": \"analyzer\"");
      if (spec.sortable || spec.facetable) {
        return Status::InvalidArgument(at + ": a text field cannot be sorted or faceted (declare a keyword field)");
      }
    } else if (!spec.analyzer.empty()) {
      return Status::InvalidArgument(at + ": \"analyzer\" applies to text fields only");
    }
    schema.fields.emplace(name, spec);
  }
  return schema;
}

Result<Schema> ReadSchemaFile(const std::string& path) {
  auto text = hymir::internal::ReadFile(path);
  if (!text.ok()) return text.status();
  auto s = ParseSchemaJson(*text);
  if (!s.ok()) return s.status().WithContext(path);
  return s;
}

std::string SchemaToJson(const Schema& schema) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [name, f] : schema.fields) {
    nlohmann::json o = {{"type", FieldTypeName(f.type)},
                        {"indexed", f.indexed},
                        {"stored", f.stored},
                        {"sort", f.sortable},
                        {"facet", f.facetable}};
    if (!f.analyzer.empty()) o["analyzer"] = f.analyzer;
    fields[name] = o;
  }
  return nlohmann::json({{"fields", fields}}).dump();
}

Result<int64_t> ValueKey(const std::string& field, const FieldSpec& spec, const FieldValue& value) {
  auto wrong = [&](const char* got) {
    return Status::InvalidArgument("field \"" + field + "\" is " + FieldTypeName(spec.type) + ", got " + got);
  };
  switch (spec.type) {
    case FieldType::kInt64:
      if (auto* i = std::get_if<int64_t>(&value)) return *i;
      if (auto* d = std::get_if<double>(&value)) {
        // A whole number written with a fraction or exponent ("3.0", "1e3").
        if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.2e18) return static_cast<int64_t>(*d);
        return wrong(("the number " + KeyText(FieldType::kDouble, DoubleKey(*d))).c_str());
      }
      break;
    case FieldType::kDouble:
      if (auto* i = std::get_if<int64_t>(&value)) return DoubleKey(static_cast<double>(*i));
      if (auto* d = std::get_if<double>(&value)) {
        if (!std::isfinite(*d)) return wrong("a non-finite number");
        return DoubleKey(*d);
      }
      break;
    case FieldType::kDate:
      if (auto* s = std::get_if<std::string>(&value)) {
        auto ms = ParseDate(*s);
        if (!ms.ok()) return ms.status().WithContext("field \"" + field + "\"");
        return *ms;
      }
      if (auto* i = std::get_if<int64_t>(&value)) return *i;  // epoch milliseconds
      break;
    case FieldType::kBool:
      if (auto* b = std::get_if<bool>(&value)) return *b ? 1 : 0;
      break;
    case FieldType::kKeyword:
    case FieldType::kText:
      return Status::InvalidArgument("field \"" + field + "\" is " + FieldTypeName(spec.type) + ": no numeric key");
  }
  const char* got = std::holds_alternative<std::string>(value) ? "a string"
                    : std::holds_alternative<int64_t>(value)   ? "an integer"
                    : std::holds_alternative<double>(value)    ? "a number"
                                                               : "a boolean";
  return wrong(got);
}

Result<int64_t> TextKey(const std::string& field, const FieldSpec& spec, std::string_view text) {
  const std::string at = "field \"" + field + "\" (" + FieldTypeName(spec.type) + "): \"" + std::string(text) + "\"";
  switch (spec.type) {
    case FieldType::kInt64: {
      int64_t v;
      if (ParseInt(text, &v)) return v;
      return Status::InvalidArgument(at + " is not an integer");
    }
    case FieldType::kDouble: {
      double d;
      if (ParseDouble(text, &d)) return DoubleKey(d);
      return Status::InvalidArgument(at + " is not a number");
    }
    case FieldType::kDate: {
      auto ms = ParseDate(text);
      if (ms.ok()) return ms;
      return Status::InvalidArgument(at + " is not an ISO 8601 date (2021-03-04 or 2021-03-04T05:06:07Z)");
    }
    case FieldType::kBool:
      if (text == "true" || text == "1") return int64_t{1};
      if (text == "false" || text == "0") return int64_t{0};
      return Status::InvalidArgument(at + " is not true or false");
    default:
      return Status::InvalidArgument(at + ": keyword values have no numeric key");
  }
}

FieldValue KeyValue(FieldType type, int64_t key) {
  switch (type) {
    case FieldType::kDouble:
      return KeyDouble(key);
    case FieldType::kDate:
      return FormatDate(key);
    case FieldType::kBool:
      return key != 0;
    default:
      return key;
  }
}

std::string KeyText(FieldType type, int64_t key) {
  switch (type) {
    case FieldType::kDouble: {
      const nlohmann::json j = KeyDouble(key);
      return j.dump();  // shortest text that reads back to the same double
    }
    case FieldType::kDate:
      return FormatDate(key);
    case FieldType::kBool:
      return key != 0 ? "true" : "false";
    default:
      return std::to_string(key);
  }
}

Result<int64_t> ParseDate(std::string_view t) {
  auto bad = [&] { return Status::InvalidArgument("\"" + std::string(t) + "\" is not an ISO 8601 date"); };
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (t.size() < 10 || !Digits(t, 0, 4, &y) || t[4] != '-' || !Digits(t, 5, 2, &mo) || t[7] != '-' ||
      !Digits(t, 8, 2, &d)) {
    return bad();
  }
  int64_t ms = 0;
  int64_t offset_min = 0;
  size_t p = 10;
  if (p < t.size()) {
    if ((t[p] != 'T' && t[p] != ' ') || !Digits(t, p + 1, 2, &h) || p + 3 >= t.size() || t[p + 3] != ':' ||
        !Digits(t, p + 4, 2, &mi)) {
      return bad();
    }
    p += 6;
    if (p < t.size() && t[p] == ':') {
      if (!Digits(t, p + 1, 2, &s)) return bad();
      p += 3;
      if (p < t.size() && t[p] == '.') {
        ++p;
        int64_t scale = 100;
        size_t digits = 0;
        while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
          ms += (t[p] - '0') * scale;
          scale /= 10;
          ++p;
          ++digits;
        }
        if (digits == 0) return bad();
      }
    }
    if (p < t.size() && t[p] == 'Z') {
      ++p;
    } else if (p < t.size() && (t[p] == '+' || t[p] == '-')) {
      int oh, om;
      if (!Digits(t, p + 1, 2, &oh) || p + 3 >= t.size() || t[p + 3] != ':' || !Digits(t, p + 4, 2, &om) || oh > 23 ||
          om > 59) {
        return bad();
      }
      offset_min = (oh * 60 + om) * (t[p] == '-' ? -1 : 1);
      p += 6;
    }
    if (p != t.size()) return bad();
  }
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 60) return bad();
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad();
  const int64_t days = sys_days(ymd).time_since_epoch().count();
  return ((days * 24 + h) * 60 + mi - offset_min) * 60000 + int64_t{s} * 1000 + ms;
}

std::string FormatDate(int64_t epoch_ms) {
  using namespace std::chrono;
  int64_t day_count = epoch_ms >= 0 ? epoch_ms / 86400000 : -((-epoch_ms + 86399999) / 86400000);
  int64_t rest = epoch_ms - day_count * 86400000;  // [0, 86400000)
  const year_month_day ymd{sys_days{days{day_count}}};
  const int64_t h = rest / 3600000, mi = rest / 60000 % 60, s = rest / 1000 % 60, ms = rest % 1000;
  char buf[48];
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<long long>(h),
                  static_cast<long long>(mi), static_cast<long long>(s), static_cast<long long>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<long long>(h),
                  static_cast<long long>(mi), static_cast<long long>(s));
  }
  return buf;
}

}  // namespace hymir::index
