// Private helpers of the qrels and run readers: line iteration, whitespace
// splitting and strict number parsing. Included as
// "ranking/metrics/text_lines.h".
#ifndef HYMIR_RANKING_METRICS_TEXT_LINES_H_
#define HYMIR_RANKING_METRICS_TEXT_LINES_H_

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace hymir::ranking::parse {

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Iterates the lines of `text` ('\n'-terminated; the last may lack it),
// numbering them from 1.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}

  // Sets *line to the next line (without '\n') and returns true, or returns
  // false at the end.
  bool Next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    *line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_no_;
    return true;
  }
  uint64_t line_no() const { return line_no_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  uint64_t line_no_ = 0;
};

// Splits `line` on runs of whitespace into *fields (cleared first).
inline void SplitFields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    fields->push_back(line.substr(start, i - start));
  }
}

// True for a line to skip: only whitespace, or a '#' comment (trec_eval skips
// both).
inline bool IsSkippable(std::string_view line) {
  for (char c : line) {
    if (IsSpace(c)) continue;
    return c == '#';
  }
  return true;
}

// Parses the whole of `s` as a base-10 integer with an optional sign.
template <typename Int>
bool ParseInt(std::string_view s, Int* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Parses the whole of `s` as a decimal or scientific floating-point number, or
// inf; NaN and values out of double range are refused.
inline bool ParseScore(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !std::isnan(*out);
}

inline std::string Where(const std::string& source, uint64_t line_no) { return source + ":" + std::to_string(line_no); }

}  // namespace hymir::ranking::parse

#endif  // HYMIR_RANKING_METRICS_TEXT_LINES_H_
