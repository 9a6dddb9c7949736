// hymir::ranking routing report: how a mixture-of-experts re-ranker's gate
// (see <hymir/ranking/moe_model.h>) spreads the queries of each domain over
// its experts, read back from the routing file `hymir search --rerank` writes
// next to the run (RUN.routing.tsv), one line per query:
//
//   qid<TAB>chosen experts best first, comma-separated<TAB>their weights
//   e.g.  cranfield:1<TAB>1,5<TAB>0.61,0.39
//
// The report counts each query's top-1 expert (the first chosen) by the
// query's domain and measures how much the routing says about the domain with
// the mutual information I(domain; top-1 expert) of the empirical joint
// distribution: 0 bits when the expert choice is independent of the domain,
// H(domain) bits (log2 D for D equally large domains) when every domain has
// its own expert(s).
//
// Thread-safety: pure functions over value types; safe to call concurrently.
#ifndef HYMIR_RANKING_ROUTING_REPORT_H_
#define HYMIR_RANKING_ROUTING_REPORT_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/result.h"

namespace hymir::ranking {

// One line of a routing file.
struct QueryRouting {
  std::string query_id;
  std::vector<int> chosen;      // expert indices, best first; non-empty, distinct, >= 0
  std::vector<double> weights;  // parallel to chosen; finite
};

// Reads a routing file. Lines are split on tabs into exactly three fields;
// blank lines and lines starting with '#' are skipped, a trailing '\r' is
// ignored. NotFound when `path` does not exist, IOError when it cannot be
// read, InvalidArgument "<path>:<line>: <fault>" for a line without three
// fields, an empty query id, an empty, non-integer, negative or repeated
// expert, a weight that is not a finite number, a different number of experts
// and weights, or a query id already seen on an earlier line. Keeps file order.
Result<std::vector<QueryRouting>> ReadRoutingFile(const std::string& path);

// ReadRoutingFile on text already in memory; `source` names it in errors.
Result<std::vector<QueryRouting>> ParseRoutingFile(std::string_view text, const std::string& source);

// Top-1 expert counts by domain and the mutual information between them.
struct RoutingMatrix {
  // Row labels: the domains with at least one counted query, sorted.
  std::vector<std::string> domains;
  // Number of columns (experts 0 .. experts-1).
  int experts = 0;
  // counts[d][e]: queries of domains[d] whose top-1 expert is e.
  std::vector<std::vector<double>> counts;
  // I(domain; top-1 expert) in bits, from the empirical joint distribution.
  double mutual_information_bits = 0.0;
  // mutual_information_bits / H(domain); 0 when H(domain) = 0 (one domain).
  double normalized_mi = 0.0;
  // Queries counted (routed and with a domain).
  size_t queries = 0;
};

// Counts every routing's top-1 expert (chosen[0]) under the domain
// `domain_of[query_id]`; routings whose query has no entry in `domain_of`, or
// with no chosen expert, are skipped. `experts` is the number of columns; 0
// means 1 + the largest expert index in any routing's chosen list (top-1 or
// not), and a value too small for the top-1 experts seen is raised to fit.
// Negative expert indices are skipped.
RoutingMatrix BuildRoutingMatrix(const std::vector<QueryRouting>& routings,
                                 const std::map<std::string, std::string>& domain_of, int experts = 0);

// A printable table: one row per domain with its number of queries and, per
// expert, the percentage of the domain's queries routed there (each row sums
// to 100); an "all" row with the overall expert load; then a line with the
// mutual information, H(domain) and their ratio. Ends with '\n'.
std::string RoutingMatrixText(const RoutingMatrix& m);

// A self-contained SVG heatmap of the same table: rows domains, columns
// experts, one <rect> per cell whose colour intensity is the row share, the
// percentage written in the cell, axis labels, `title` above and the mutual
// information in a caption below. Text is XML-escaped.
std::string RoutingMatrixSvg(const RoutingMatrix& m, const std::string& title);

}  // namespace hymir::ranking

#endif  // HYMIR_RANKING_ROUTING_REPORT_H_
