// hymir::ranking::Run: the documents a system retrieved for each query, with
// their scores, and the TREC run file format that stores them:
//
//   qid Q0 docid rank score tag        (6 whitespace-separated columns)
//
// As in trec_eval, evaluation ignores the rank column and the order of lines:
// a query's documents are ranked by score descending, ties broken by document
// id descending (byte-wise). The reader checks that rank is an integer and
// score a number, skips blank lines and lines starting with '#', and rejects a
// document listed twice for one query (trec_eval refuses those too).
//
// Thread-safety: Run is a plain value type; ReadRun, ParseRun and WriteRun keep
// no shared state and may be called concurrently (on distinct streams).
#ifndef HYMIR_RANKING_RUN_H_
#define HYMIR_RANKING_RUN_H_

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hymir/result.h"

namespace hymir::ranking {

// (document id, score) pairs retrieved for one query; higher score is better.
using ScoredDocs = std::vector<std::pair<std::string, double>>;

// Query id -> retrieved documents, ordered by query id. (Inside a GoogleTest
// body write ranking::Run: the unqualified name finds testing::Test::Run.)
using Run = std::map<std::string, ScoredDocs>;

// Reads a TREC run file. Documents keep file order within each query. NotFound
// when `path` does not exist, IOError when it cannot be read, InvalidArgument
// "<path>:<line>: <fault>" for a line without exactly 6 columns, a rank that is
// not an integer, a score that is not a number (or is NaN), or a document
// repeated within one query.
Result<Run> ReadRun(const std::string& path);

// Parses run text; `source` names it in error messages ("<source>:<line>").
Result<Run> ParseRun(std::string_view text, const std::string& source);

// Appends one query's ranked list to `out` as TREC run lines with ranks 1..n
// in the given order and the literal "Q0" in the iter column. Scores are
// written in the shortest form that reads back to the same double, so reading
// the file reproduces the in-memory ranking exactly (including tie-breaks).
// InvalidArgument when `query_id`, a document id or `tag` is empty or contains
// whitespace, when a score is NaN, when a document repeats, or when scores
// increase down the list (the rank column would contradict the scores, which
// trec_eval trusts); IOError when the stream fails. Nothing is written unless
// the whole list is valid.
Status WriteRun(std::ostream& out, const std::string& query_id, const ScoredDocs& ranked, const std::string& tag);

// `ranked` with its scores replaced by descending rank values (n for the
// first of n documents, 1 for the last): the run of a list ordered by
// something other than its scores (a sort by a field), which WriteRun and
// trec_eval then read in the list's own order.
ScoredDocs ScoresFromRanks(ScoredDocs ranked);

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_RUN_H_
