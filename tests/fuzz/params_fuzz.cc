// libFuzzer target: the HTTP service's query parameters. The input is a URL
// query string ("q=heart+attack&k=5&filter=domain:med&..."), split and
// percent-decoded by cpp-httplib as `hymir serve` receives it, then read by
// hymir::ParseQueryParams (under the service's default limits and a small
// max_k); every "field" value goes through ParseFields and q through Snippet.
// A parameter set is accepted within its limits or refused with
// InvalidArgument naming the parameter, never a crash; a snippet is a prefix
// of the text cut within the limit (at a UTF-8 boundary) plus an ellipsis.
#include <httplib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hymir/pipeline.h"
#include "hymir/snippet.h"

namespace {

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t j = 1; j < n; ++j) {
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

void CheckSnippet(const std::string& text, size_t limit) {
  const std::string s = hymir::Snippet(text, limit);
  if (text.size() <= limit) {
    if (s != text) __builtin_trap();
    return;
  }
  const std::string ellipsis = "\xE2\x80\xA6";
  if (s.size() < ellipsis.size() || s.compare(s.size() - 3, 3, ellipsis) != 0) __builtin_trap();
  const std::string head = s.substr(0, s.size() - 3);
  if (head.size() > limit || text.compare(0, head.size(), head) != 0) __builtin_trap();
  if (ValidUtf8(text) && !ValidUtf8(head)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string query(reinterpret_cast<const char*>(data), size);
  httplib::Params decoded;
  httplib::detail::parse_query_text(query, decoded);
  const hymir::QueryParams params(decoded.begin(), decoded.end());
  for (const hymir::ParamLimits limits : {hymir::ParamLimits{}, hymir::ParamLimits{5, 20}}) {
    hymir::QuerySpec spec;
    hymir::StageOptions stages;
    hymir::Status s = hymir::ParseQueryParams(params, limits, &spec, &stages);
    if (s.ok()) {
      if (spec.k < 1 || spec.k > limits.max_k || spec.offset + spec.k > limits.max_k ||
          spec.text.find_first_not_of(" \t\r\n") == std::string::npos) {
        __builtin_trap();
      }
      std::vector<hymir::index::FieldFilter> filters;
      if (!hymir::ParseFilters(spec.filters, &filters).ok()) __builtin_trap();
      CheckSnippet(spec.text, spec.k);
    } else if (!s.IsInvalidArgument() || s.message().find("parameter") == std::string::npos) {
      if (s.message().rfind("offset + k", 0) != 0) __builtin_trap();
    }
  }
  std::vector<std::string> fields;
  for (auto [b, e] = params.equal_range("field"); b != e; ++b) fields.push_back(b->second);
  std::vector<hymir::index::FieldWeight> weights;
  if (hymir::ParseFields(fields, &weights).ok()) {
    if (weights.size() != fields.size()) __builtin_trap();
    for (const auto& w : weights) {
      if (!std::isfinite(w.weight)) __builtin_trap();  // "nan", "inf" or 1e999 are not weights
    }
  }
  for (const auto& [name, value] : params) CheckSnippet(value, value.size() / 2);
  return 0;
}
