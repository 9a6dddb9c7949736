#include "hymir/ranking/routing_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <unordered_map>

#include "ranking/metrics/text_lines.h"
#include "src/core/file_util.h"

namespace hymir::ranking {
namespace {

// Splits `s` on `sep` (every separator counts: "a,,b" has an empty field).
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

double RowTotal(const std::vector<double>& row) {
  double t = 0.0;
  for (double c : row) t += c;
  return t;
}

// Entropy in bits of the distribution proportional to `weights`.
double EntropyBits(const std::vector<double>& weights) {
  double total = 0.0;
  for (double w : weights) total += w;
  if (total <= 0.0) return 0.0;
  double h = 0.0;
  for (double w : weights) {
    if (w > 0.0) h -= (w / total) * std::log2(w / total);
  }
  return h;
}

std::vector<double> ColumnTotals(const RoutingMatrix& m) {
  std::vector<double> cols(static_cast<size_t>(std::max(m.experts, 0)), 0.0);
  for (const auto& row : m.counts) {
    for (size_t e = 0; e < row.size() && e < cols.size(); ++e) cols[e] += row[e];
  }
  return cols;
}

std::vector<double> RowTotals(const RoutingMatrix& m) {
  std::vector<double> rows;
  for (const auto& row : m.counts) rows.push_back(RowTotal(row));
  return rows;
}

double Share(double count, double total) { return total > 0.0 ? 100.0 * count / total : 0.0; }

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string MiSentence(const RoutingMatrix& m) {
  const double h = EntropyBits(RowTotals(m));
  return "I(domain; top-1 expert) = " + Format("%.4f", m.mutual_information_bits) +
         " bits, H(domain) = " + Format("%.4f", h) + " bits, normalized " + Format("%.4f", m.normalized_mi);
}

}  // namespace

Result<std::vector<QueryRouting>> ReadRoutingFile(const std::string& path) {
  HYMIR_ASSIGN_OR_RETURN(std::string text, hymir::internal::ReadFile(path));
  return ParseRoutingFile(text, path);
}

Result<std::vector<QueryRouting>> ParseRoutingFile(std::string_view text, const std::string& source) {
  using parse::Where;
  std::vector<QueryRouting> out;
  std::unordered_map<std::string, uint64_t> line_of;  // query id -> line it was read on
  parse::LineCursor cursor(text);
  std::string_view line;
  while (cursor.Next(&line)) {
    if (parse::IsSkippable(line)) continue;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = Where(source, cursor.line_no());
    const std::vector<std::string_view> fields = Split(line, '\t');
    if (fields.size() != 3) {
      return Status::InvalidArgument(where + ": expected 3 tab-separated fields 'qid<TAB>experts<TAB>weights', got " +
                                     std::to_string(fields.size()));
    }
    QueryRouting r;
    r.query_id = std::string(fields[0]);
    if (r.query_id.empty()) return Status::InvalidArgument(where + ": empty query id");
    std::set<int> seen;
    for (std::string_view tok : Split(fields[1], ',')) {
      int e = 0;
      if (!parse::ParseInt(tok, &e) || e < 0) {
        return Status::InvalidArgument(where + ": expert '" + std::string(tok) + "' is not a non-negative integer");
      }
      if (!seen.insert(e).second) {
        return Status::InvalidArgument(where + ": expert " + std::to_string(e) + " is listed twice");
      }
      r.chosen.push_back(e);
    }
    for (std::string_view tok : Split(fields[2], ',')) {
      double w = 0.0;
      if (!parse::ParseScore(tok, &w) || !std::isfinite(w)) {
        return Status::InvalidArgument(where + ": weight '" + std::string(tok) + "' is not a finite number");
      }
      r.weights.push_back(w);
    }
    if (r.weights.size() != r.chosen.size()) {
      return Status::InvalidArgument(where + ": " + std::to_string(r.chosen.size()) + " experts but " +
                                     std::to_string(r.weights.size()) + " weights");
    }
    auto [it, inserted] = line_of.emplace(r.query_id, cursor.line_no());
    if (!inserted) {
      return Status::InvalidArgument(where + ": query '" + r.query_id + "' already routed on line " +
                                     std::to_string(it->second));
    }
    out.push_back(std::move(r));
  }
  return out;
}

RoutingMatrix BuildRoutingMatrix(const std::vector<QueryRouting>& routings,
                                 const std::map<std::string, std::string>& domain_of, int experts) {
  RoutingMatrix m;
  int max_seen = -1, max_top1 = -1;
  // domain -> (expert -> count), top-1 only.
  std::map<std::string, std::map<int, double>> by_domain;
  for (const QueryRouting& r : routings) {
    for (int e : r.chosen) max_seen = std::max(max_seen, e);
    if (r.chosen.empty() || r.chosen[0] < 0) continue;
    auto d = domain_of.find(r.query_id);
    if (d == domain_of.end()) continue;
    by_domain[d->second][r.chosen[0]] += 1.0;
    max_top1 = std::max(max_top1, r.chosen[0]);
    ++m.queries;
  }
  m.experts = experts > 0 ? std::max(experts, max_top1 + 1) : std::max(max_seen + 1, 0);
  for (const auto& [domain, cells] : by_domain) {
    m.domains.push_back(domain);
    std::vector<double> row(static_cast<size_t>(m.experts), 0.0);
    for (const auto& [e, c] : cells) row[static_cast<size_t>(e)] = c;
    m.counts.push_back(std::move(row));
  }
  if (m.queries == 0) return m;

  // I(D; E) = sum p(d,e) log2(p(d,e) / (p(d) p(e))).
  const double n = static_cast<double>(m.queries);
  const std::vector<double> rows = RowTotals(m), cols = ColumnTotals(m);
  double mi = 0.0;
  for (size_t d = 0; d < m.counts.size(); ++d) {
    for (size_t e = 0; e < m.counts[d].size(); ++e) {
      const double c = m.counts[d][e];
      if (c > 0.0) mi += (c / n) * std::log2(c * n / (rows[d] * cols[e]));
    }
  }
  m.mutual_information_bits = std::max(mi, 0.0);  // rounding can leave -1e-17
  const double h = EntropyBits(rows);
  m.normalized_mi = h > 0.0 ? std::min(m.mutual_information_bits / h, 1.0) : 0.0;
  return m;
}

std::string RoutingMatrixText(const RoutingMatrix& m) {
  std::string out = "routing: top-1 expert by domain, % of the domain's queries (" + std::to_string(m.queries) +
                    " queries, " + std::to_string(m.domains.size()) + " domains, " + std::to_string(m.experts) +
                    " experts)\n";
  size_t label_width = 6;  // "domain"
  for (const auto& d : m.domains) label_width = std::max(label_width, d.size());
  const int w = static_cast<int>(label_width);
  char buf[256];

  std::snprintf(buf, sizeof(buf), "%-*s %8s", w, "domain", "queries");
  out += buf;
  for (int e = 0; e < m.experts; ++e) {
    std::snprintf(buf, sizeof(buf), " %6s", ("e" + std::to_string(e)).c_str());
    out += buf;
  }
  out += '\n';

  auto add_row = [&](const std::string& label, const std::vector<double>& row) {
    const double total = RowTotal(row);
    std::snprintf(buf, sizeof(buf), "%-*s %8.0f", w, label.c_str(), total);
    out += buf;
    for (double c : row) {
      std::snprintf(buf, sizeof(buf), " %6.1f", Share(c, total));
      out += buf;
    }
    out += '\n';
  };
  for (size_t d = 0; d < m.domains.size(); ++d) add_row(m.domains[d], m.counts[d]);
  add_row("all", ColumnTotals(m));
  out += MiSentence(m) + "\n";
  return out;
}

std::string RoutingMatrixSvg(const RoutingMatrix& m, const std::string& title) {
  // Layout (pixels): title, column labels, the grid, the caption.
  constexpr int kCellW = 64, kCellH = 34, kCharW = 8, kPad = 16;
  size_t longest = 6;
  for (const auto& d : m.domains) longest = std::max(longest, d.size());
  const int label_w = 28 + kCharW * static_cast<int>(longest);  // rotated "domain" axis label + names
  const int grid_x = kPad + label_w;
  const int grid_y = kPad + 60;
  const int rows = static_cast<int>(m.domains.size());
  const int cols = std::max(m.experts, 0);
  const int count_w = 80;  // "n = 123" after each row
  const std::string caption = MiSentence(m) + " (" + std::to_string(m.queries) + " queries)";
  const int caption_w = kPad * 2 + 7 * static_cast<int>(caption.size());
  const int title_w = kPad * 2 + 9 * static_cast<int>(title.size());
  const int width = std::max({grid_x + cols * kCellW + count_w + kPad, caption_w, title_w});
  const int height = grid_y + std::max(rows, 1) * kCellH + 64;

  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
       std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
       "\" font-family=\"Helvetica, Arial, sans-serif\" style=\"background:#ffffff\">\n";
  s += "<title>" + XmlEscape(title) + "</title>\n";
  s += "<text x=\"" + std::to_string(width / 2) + "\" y=\"" + std::to_string(kPad + 14) +
       "\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">" + XmlEscape(title) + "</text>\n";
  // Column axis label and expert labels.
  s += "<text x=\"" + std::to_string(grid_x + cols * kCellW / 2) + "\" y=\"" + std::to_string(grid_y - 28) +
       "\" text-anchor=\"middle\" font-size=\"13\">top-1 expert</text>\n";
  for (int e = 0; e < cols; ++e) {
    s += "<text x=\"" + std::to_string(grid_x + e * kCellW + kCellW / 2) + "\" y=\"" + std::to_string(grid_y - 8) +
         "\" text-anchor=\"middle\" font-size=\"12\">" + std::to_string(e) + "</text>\n";
  }
  // Row axis label, rotated.
  const int axis_x = kPad + 10, axis_y = grid_y + std::max(rows, 1) * kCellH / 2;
  s += "<text x=\"" + std::to_string(axis_x) + "\" y=\"" + std::to_string(axis_y) +
       "\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 " + std::to_string(axis_x) + " " +
       std::to_string(axis_y) + ")\">domain</text>\n";

  const std::vector<double> totals = RowTotals(m);
  for (int d = 0; d < rows; ++d) {
    const int y = grid_y + d * kCellH;
    s += "<text x=\"" + std::to_string(grid_x - 6) + "\" y=\"" + std::to_string(y + kCellH / 2 + 4) +
         "\" text-anchor=\"end\" font-size=\"12\">" + XmlEscape(m.domains[static_cast<size_t>(d)]) + "</text>\n";
    for (int e = 0; e < cols; ++e) {
      const double c = static_cast<size_t>(e) < m.counts[static_cast<size_t>(d)].size()
                           ? m.counts[static_cast<size_t>(d)][static_cast<size_t>(e)]
                           : 0.0;
      const double share = Share(c, totals[static_cast<size_t>(d)]);
      const double t = share / 100.0;
      // White (0%) to dark blue (100%).
      const int r = static_cast<int>(std::lround(255 + t * (8 - 255)));
      const int g = static_cast<int>(std::lround(255 + t * (48 - 255)));
      const int b = static_cast<int>(std::lround(255 + t * (107 - 255)));
      char fill[8];
      std::snprintf(fill, sizeof(fill), "#%02x%02x%02x", r, g, b);
      const int x = grid_x + e * kCellW;
      s += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(kCellW) +
           "\" height=\"" + std::to_string(kCellH) + "\" fill=\"" + fill + "\" stroke=\"#cccccc\"><title>" +
           XmlEscape(m.domains[static_cast<size_t>(d)]) + ", expert " + std::to_string(e) + ": " + Format("%.0f", c) +
           " queries</title></rect>\n";
      s += "<text x=\"" + std::to_string(x + kCellW / 2) + "\" y=\"" + std::to_string(y + kCellH / 2 + 4) +
           "\" text-anchor=\"middle\" font-size=\"12\" fill=\"" + (t > 0.5 ? "#ffffff" : "#000000") + "\">" +
           Format("%.1f", share) + "%</text>\n";
    }
    s += "<text x=\"" + std::to_string(grid_x + cols * kCellW + 8) + "\" y=\"" + std::to_string(y + kCellH / 2 + 4) +
         "\" font-size=\"11\" fill=\"#555555\">n = " + Format("%.0f", totals[static_cast<size_t>(d)]) + "</text>\n";
  }
  if (rows == 0) {
    s += "<text x=\"" + std::to_string(grid_x) + "\" y=\"" + std::to_string(grid_y + kCellH / 2) +
         "\" font-size=\"12\">no routed query has a domain</text>\n";
  }
  s += "<text x=\"" + std::to_string(kPad) + "\" y=\"" + std::to_string(height - 20) + "\" font-size=\"12\">" +
       XmlEscape(caption) + "</text>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace hymir::ranking
