#include "hymir/ranking/qrels.h"

#include <vector>

#include "ranking/metrics/text_lines.h"
#include "src/core/file_util.h"

namespace hymir::ranking {
namespace {

enum class Format { kUnknown, kBeir, kTrec };

constexpr size_t kBeirColumns = 3;  // query-id corpus-id score
constexpr size_t kTrecColumns = 4;  // qid iter docid rel

std::string Describe(Format f) {
  return f == Format::kBeir ? "3 columns (BEIR 'query-id corpus-id score')" : "4 columns (TREC 'qid iter docid rel')";
}

}  // namespace

Result<Qrels> Qrels::Read(const std::string& path) {
  HYMIR_ASSIGN_OR_RETURN(std::string text, hymir::internal::ReadFile(path));
  return Parse(text, path);
}

Result<Qrels> Qrels::Parse(std::string_view text, const std::string& source) {
  using parse::Where;
  Qrels qrels;
  Format format = Format::kUnknown;
  uint64_t format_line = 0;
  bool first_content_line = true;
  std::vector<std::string_view> fields;
  parse::LineCursor cursor(text);
  std::string_view line;
  while (cursor.Next(&line)) {
    if (parse::IsSkippable(line)) continue;
    parse::SplitFields(line, &fields);
    const uint64_t line_no = cursor.line_no();
    if (first_content_line) {
      first_content_line = false;
      // BEIR's header "query-id<TAB>corpus-id<TAB>score".
      if (fields[0].starts_with("query-id")) {
        format = Format::kBeir;
        format_line = line_no;
        continue;
      }
    }
    if (format == Format::kUnknown) {
      if (fields.size() == kBeirColumns) {
        format = Format::kBeir;
      } else if (fields.size() == kTrecColumns) {
        format = Format::kTrec;
      } else {
        return Status::InvalidArgument(Where(source, line_no) +
                                       ": expected 3 columns (BEIR 'query-id corpus-id score') or " +
                                       "4 columns (TREC 'qid iter docid rel'), got " + std::to_string(fields.size()));
      }
      format_line = line_no;
    }
    const size_t want = format == Format::kBeir ? kBeirColumns : kTrecColumns;
    if (fields.size() != want) {
      return Status::InvalidArgument(Where(source, line_no) + ": expected " + Describe(format) + " as on line " +
                                     std::to_string(format_line) + ", got " + std::to_string(fields.size()) +
                                     " columns");
    }
    const std::string_view qid = fields[0];
    const std::string_view docid = format == Format::kBeir ? fields[1] : fields[2];
    const std::string_view grade_text = fields[want - 1];
    int grade = 0;
    if (!parse::ParseInt(grade_text, &grade)) {
      return Status::InvalidArgument(Where(source, line_no) + ": relevance grade '" + std::string(grade_text) +
                                     "' is not an integer");
    }
    qrels.Set(std::string(qid), std::string(docid), grade);
  }
  return qrels;
}

void Qrels::Set(const std::string& query_id, const std::string& doc_id, int grade) {
  queries_[query_id][doc_id] = grade;
}

const Qrels::Judgements* Qrels::Find(const std::string& query_id) const {
  auto it = queries_.find(query_id);
  return it == queries_.end() ? nullptr : &it->second;
}

std::optional<int> Qrels::Grade(const std::string& query_id, const std::string& doc_id) const {
  const Judgements* j = Find(query_id);
  if (j == nullptr) return std::nullopt;
  auto it = j->find(doc_id);
  if (it == j->end()) return std::nullopt;
  return it->second;
}

size_t Qrels::NumRelevant(const std::string& query_id) const {
  const Judgements* j = Find(query_id);
  if (j == nullptr) return 0;
  size_t n = 0;
  for (const auto& [doc, grade] : *j) n += grade > 0 ? 1 : 0;
  return n;
}

size_t Qrels::num_judgements() const {
  size_t n = 0;
  for (const auto& [qid, j] : queries_) n += j.size();
  return n;
}

}  // namespace hymir::ranking
