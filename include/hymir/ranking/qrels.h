// hymir::ranking::Qrels: relevance judgements (which documents are relevant to
// which query, and how much), read from BEIR or TREC qrels files.
//
// Two file formats are accepted and detected per file from its first content
// line:
//   BEIR  "query-id<TAB>corpus-id<TAB>score", optionally after a header line
//         that starts with "query-id" (BEIR's qrels/test.tsv).
//   TREC  "qid iter docid rel" (trec_eval's qrels; iter is ignored).
// Fields are separated by whitespace (tabs or spaces), so ids cannot contain
// whitespace, as in trec_eval. Grades are integers: grade > 0 is relevant and
// is the gain used by nDCG; 0 and negative grades are judged non-relevant.
// Blank lines and lines starting with '#' are skipped.
//
// A (query, document) pair judged twice keeps the last judgement (trec_eval
// refuses such files instead).
//
// Thread-safety: a value type. Const methods may be called concurrently;
// Set() needs exclusive access.
#ifndef HYMIR_RANKING_QRELS_H_
#define HYMIR_RANKING_QRELS_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "hymir/result.h"

namespace hymir::ranking {

class Qrels {
 public:
  // The judgements of one query: document id -> grade.
  using Judgements = std::unordered_map<std::string, int>;

  Qrels() = default;

  // Reads a qrels file in either format. NotFound when `path` does not exist,
  // IOError when it cannot be read, InvalidArgument "<path>:<line>: <fault>"
  // for a malformed line (wrong column count for the detected format, a grade
  // that is not a 32-bit integer).
  static Result<Qrels> Read(const std::string& path);

  // Parses qrels text; `source` names it in error messages ("<source>:<line>").
  static Result<Qrels> Parse(std::string_view text, const std::string& source);

  // Judges `doc_id` for `query_id`, replacing an earlier judgement of the pair.
  void Set(const std::string& query_id, const std::string& doc_id, int grade);

  // The judgements of `query_id`, or nullptr when it has none.
  const Judgements* Find(const std::string& query_id) const;

  // The grade of the pair, or nullopt when it was not judged.
  std::optional<int> Grade(const std::string& query_id, const std::string& doc_id) const;

  // Number of documents with grade > 0 for `query_id` (0 when unknown).
  size_t NumRelevant(const std::string& query_id) const;

  // Every judged query, ordered by query id (byte-wise, as trec_eval orders).
  const std::map<std::string, Judgements>& queries() const { return queries_; }

  size_t num_queries() const { return queries_.size(); }
  // Number of (query, document) judgements, after duplicates were merged.
  size_t num_judgements() const;

 private:
  std::map<std::string, Judgements> queries_;
};

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_QRELS_H_
