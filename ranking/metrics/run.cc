#include "hymir/ranking/run.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string_view>
#include <unordered_set>

#include "ranking/metrics/text_lines.h"
#include "src/core/file_util.h"

namespace hymir::ranking {
namespace {

constexpr size_t kRunColumns = 6;  // qid Q0 docid rank score tag

bool IsToken(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (parse::IsSpace(c) || c == '\n') return false;
  }
  return true;
}

// The first repeated document of one query, as (index of the repeat, index of
// the first occurrence), or (npos, npos) when all ids are distinct.
std::pair<size_t, size_t> FindRepeat(const ScoredDocs& docs) {
  std::vector<size_t> order(docs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return docs[a].first != docs[b].first ? docs[a].first < docs[b].first : a < b; });
  size_t repeat = std::string::npos, first = std::string::npos;
  for (size_t i = 1; i < order.size(); ++i) {
    if (docs[order[i]].first == docs[order[i - 1]].first && order[i] < repeat) {
      repeat = order[i];
      first = order[i - 1];
    }
  }
  return {repeat, first};
}

}  // namespace

Result<Run> ReadRun(const std::string& path) {
  HYMIR_ASSIGN_OR_RETURN(std::string text, hymir::internal::ReadFile(path));
  return ParseRun(text, path);
}

Result<Run> ParseRun(std::string_view text, const std::string& source) {
  using parse::Where;
  Run run;
  // Line number of every entry, parallel to run[qid], to name repeats.
  std::map<std::string, std::vector<uint64_t>> lines_of;
  std::vector<std::string_view> fields;
  parse::LineCursor cursor(text);
  std::string_view line;
  ScoredDocs* docs = nullptr;
  std::vector<uint64_t>* lines = nullptr;
  std::string current_qid;
  while (cursor.Next(&line)) {
    if (parse::IsSkippable(line)) continue;
    parse::SplitFields(line, &fields);
    const uint64_t line_no = cursor.line_no();
    if (fields.size() != kRunColumns) {
      return Status::InvalidArgument(Where(source, line_no) +
                                     ": expected 6 columns 'qid Q0 docid rank score tag', got " +
                                     std::to_string(fields.size()));
    }
    int64_t rank = 0;
    if (!parse::ParseInt(fields[3], &rank)) {
      return Status::InvalidArgument(Where(source, line_no) + ": rank '" + std::string(fields[3]) +
                                     "' is not an integer");
    }
    double score = 0.0;
    if (!parse::ParseScore(fields[4], &score)) {
      return Status::InvalidArgument(Where(source, line_no) + ": score '" + std::string(fields[4]) +
                                     "' is not a number");
    }
    // Runs list a query's lines together; look the query up only when it changes.
    if (docs == nullptr || fields[0] != current_qid) {
      current_qid.assign(fields[0]);
      docs = &run[current_qid];
      lines = &lines_of[current_qid];
    }
    docs->emplace_back(std::string(fields[2]), score);
    lines->push_back(line_no);
  }
  for (const auto& [qid, query_docs] : run) {
    auto [repeat, first] = FindRepeat(query_docs);
    if (repeat != std::string::npos) {
      const std::vector<uint64_t>& at = lines_of[qid];
      return Status::InvalidArgument(Where(source, at[repeat]) + ": document '" + query_docs[repeat].first +
                                     "' repeated for query '" + qid + "' (first at line " + std::to_string(at[first]) +
                                     ")");
    }
  }
  return run;
}

ScoredDocs ScoresFromRanks(ScoredDocs ranked) {
  for (size_t i = 0; i < ranked.size(); ++i) ranked[i].second = static_cast<double>(ranked.size() - i);
  return ranked;
}

Status WriteRun(std::ostream& out, const std::string& query_id, const ScoredDocs& ranked, const std::string& tag) {
  if (!IsToken(query_id)) {
    return Status::InvalidArgument("run query id '" + query_id + "' is empty or contains whitespace");
  }
  if (!IsToken(tag)) {
    return Status::InvalidArgument("run tag '" + tag + "' is empty or contains whitespace");
  }
  for (size_t i = 0; i < ranked.size(); ++i) {
    const auto& [doc, score] = ranked[i];
    const std::string where = "query '" + query_id + "' rank " + std::to_string(i + 1);
    if (!IsToken(doc)) {
      return Status::InvalidArgument(where + ": document id '" + doc + "' is empty or contains whitespace");
    }
    if (std::isnan(score)) return Status::InvalidArgument(where + ": score is NaN");
    if (i > 0 && score > ranked[i - 1].second) {
      return Status::InvalidArgument(where + ": score " + std::to_string(score) + " exceeds the score of rank " +
                                     std::to_string(i) + "; the list must be sorted by descending score");
    }
  }
  auto [repeat, first] = FindRepeat(ranked);
  if (repeat != std::string::npos) {
    return Status::InvalidArgument("query '" + query_id + "': document '" + ranked[repeat].first + "' at rank " +
                                   std::to_string(repeat + 1) + " repeats rank " + std::to_string(first + 1));
  }

  std::string buf;
  char num[64];
  for (size_t i = 0; i < ranked.size(); ++i) {
    const auto& [doc, score] = ranked[i];
    buf.append(query_id).append(" Q0 ").append(doc).append(" ");
    buf.append(std::to_string(i + 1)).append(" ");
    // Shortest round-trip form: reading it back yields the same double.
    auto [end, ec] = std::to_chars(num, num + sizeof(num), score);
    buf.append(num, end).append(" ").append(tag).append("\n");
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (!out) return Status::IOError("writing run lines of query '" + query_id + "' failed");
  return Status::OK();
}

}  // namespace hymir::ranking
