// `hymir eval`: scores a TREC run against qrels and prints trec_eval-style
// lines, "<measure padded to 22><TAB><qid or all><TAB><value>", with the
// values `trec_eval -c` prints for the same measures (see
// <hymir/ranking/metrics.h> for the definitions and the one difference).
//
// With --queries (a BEIR queries.jsonl whose queries carry "domain"),
// --per-domain adds per-domain means and their macro average of ndcg_cut_10
// and recall_100, and --routing-plot reads the MoE routing file `hymir search
// --rerank` wrote next to the run, prints the domain x top-1 expert table with
// its mutual information and draws it as an SVG heatmap
// (<hymir/ranking/routing_report.h>).
#include <hymir/beir.h>
#include <hymir/ranking/metrics.h>
#include <hymir/ranking/routing_report.h>

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "common/app.h"

namespace hymir::cli {
namespace {

struct EvalFlags {
  std::string qrels;
  std::string run;
  bool per_query = false;
  bool json = false;
  std::string queries;       // BEIR queries.jsonl with "domain" fields
  bool per_domain = false;   // per-domain means + macro average
  std::string routing_plot;  // SVG heatmap of the MoE routing
  std::string routing;       // routing file; default RUN + ".routing.tsv"
};

// The measures --per-domain breaks down.
constexpr const char* kPerDomainMeasures[] = {"ndcg_cut_10", "recall_100"};

double MeasureOf(const ranking::MetricValues& v, const std::string& name) {
  return name == "ndcg_cut_10" ? v.ndcg_cut_10 : v.recall_100;
}

// Per-domain means over the judged queries, for one measure.
struct DomainBreakdown {
  std::string measure;
  std::vector<std::pair<std::string, double>> by_domain;  // sorted by domain
  double macro = 0.0;                                     // mean of by_domain values
};

// Breaks eval.per_query down by domain. *unlabeled counts the judged queries
// without a domain (left out).
std::vector<DomainBreakdown> PerDomain(const ranking::Evaluation& eval,
                                       const std::map<std::string, std::string>& domain_of, size_t* unlabeled) {
  *unlabeled = 0;
  std::map<std::string, std::vector<const ranking::MetricValues*>> groups;
  for (const auto& [qid, q] : eval.per_query) {
    auto d = domain_of.find(qid);
    if (d == domain_of.end()) {
      ++*unlabeled;
      continue;
    }
    groups[d->second].push_back(&q.values);
  }
  std::vector<DomainBreakdown> out;
  for (const char* measure : kPerDomainMeasures) {
    DomainBreakdown b;
    b.measure = measure;
    for (const auto& [domain, values] : groups) {
      double sum = 0.0;
      for (const ranking::MetricValues* v : values) sum += MeasureOf(*v, b.measure);
      b.by_domain.emplace_back(domain, sum / static_cast<double>(values.size()));
      b.macro += b.by_domain.back().second;
    }
    if (!b.by_domain.empty()) b.macro /= static_cast<double>(b.by_domain.size());
    out.push_back(std::move(b));
  }
  return out;
}

nlohmann::ordered_json RoutingJson(const ranking::RoutingMatrix& m, const std::string& routing_path) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["file"] = routing_path;
  j["queries"] = m.queries;
  j["experts"] = m.experts;
  j["domains"] = m.domains;
  j["counts"] = m.counts;
  j["mutual_information_bits"] = m.mutual_information_bits;
  j["normalized_mi"] = m.normalized_mi;
  return j;
}

void PrintCount(const char* name, const std::string& qid, uint64_t value) {
  std::printf("%-22s\t%s\t%" PRIu64 "\n", name, qid.c_str(), value);
}

// trec_eval prints every measure to 4 decimals ("%6.4f").
void PrintValues(const ranking::MetricValues& values, const std::string& qid) {
  for (const auto& [name, value] : ranking::NamedValues(values)) {
    std::printf("%-22s\t%s\t%6.4f\n", std::string(name).c_str(), qid.c_str(), value);
  }
}

// Adds the metric values to the JSON object *out.
void AddJson(const ranking::MetricValues& values, nlohmann::ordered_json* out) {
  for (const auto& [name, value] : ranking::NamedValues(values)) (*out)[std::string(name)] = value;
}

int RunEval(const EvalFlags& flags) {
  const bool want_routing = !flags.routing_plot.empty();
  if ((flags.per_domain || want_routing) && flags.queries.empty()) {
    return app::Fail("eval",
                     Status::InvalidArgument(std::string(flags.per_domain ? "--per-domain" : "--routing-plot") +
                                             " needs --queries QUERIES.jsonl (the queries' \"domain\" fields)"),
                     /*usage=*/true);
  }
  if (!flags.routing.empty() && !want_routing) {
    return app::Fail("eval", Status::InvalidArgument("--routing is only used with --routing-plot OUT.svg"),
                     /*usage=*/true);
  }
  const std::string routing_path = flags.routing.empty() ? flags.run + ".routing.tsv" : flags.routing;
  std::error_code ec;
  if (want_routing && !std::filesystem::is_regular_file(routing_path, ec)) {
    return app::Fail(
        "eval",
        Status::NotFound(routing_path + ": no routing file (`hymir search --rerank MODEL --run RUN` writes "
                                        "RUN.routing.tsv; or pass --routing FILE)"),
        /*usage=*/true);
  }

  // Query id -> domain, for --per-domain and --routing-plot.
  std::map<std::string, std::string> domain_of;
  if (flags.per_domain || want_routing) {
    auto queries = ReadQueries(flags.queries);
    if (!queries.ok()) return app::Fail("eval", queries.status());
    for (const QueryRecord& q : *queries) {
      if (q.domain) domain_of[q.id] = *q.domain;
    }
    if (domain_of.empty()) {
      return app::Fail("eval", Status::InvalidArgument(flags.queries + ": no query has a \"domain\" field"));
    }
  }
  ranking::RoutingMatrix matrix;
  if (want_routing) {
    auto routings = ranking::ReadRoutingFile(routing_path);
    if (!routings.ok()) return app::Fail("eval", routings.status());
    matrix = ranking::BuildRoutingMatrix(*routings, domain_of, 0);
    if (matrix.queries == 0) {
      return app::Fail("eval",
                       Status::InvalidArgument(routing_path + ": none of its " + std::to_string(routings->size()) +
                                               " routed queries has a domain in " + flags.queries));
    }
    if (matrix.queries < routings->size()) {
      std::fprintf(stderr, "hymir eval: note: %zu routed queries have no domain in %s and were left out\n",
                   routings->size() - matrix.queries, flags.queries.c_str());
    }
  }

  auto eval = ranking::EvaluateFiles(flags.qrels, flags.run);
  if (!eval.ok()) return app::Fail("eval", eval.status());
  if (eval->num_queries() == 0) {
    return app::Fail("eval", Status::InvalidArgument(flags.qrels + ": no query has a relevant judgement"));
  }
  if (eval->num_unjudged_run_queries > 0) {
    std::fprintf(stderr,
                 "hymir eval: note: %zu run queries have no relevant judgement in %s and were "
                 "ignored\n",
                 eval->num_unjudged_run_queries, flags.qrels.c_str());
  }
  std::vector<DomainBreakdown> per_domain;
  if (flags.per_domain) {
    size_t unlabeled = 0;
    per_domain = PerDomain(*eval, domain_of, &unlabeled);
    if (unlabeled == eval->num_queries()) {
      return app::Fail("eval", Status::InvalidArgument("no judged query has a domain in " + flags.queries));
    }
    if (unlabeled > 0) {
      std::fprintf(stderr,
                   "hymir eval: note: %zu judged queries have no domain in %s and are left out of the "
                   "per-domain means\n",
                   unlabeled, flags.queries.c_str());
    }
  }

  if (flags.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    out["num_q"] = eval->num_queries();
    out["num_ret"] = eval->num_ret;
    out["num_rel"] = eval->num_rel;
    out["num_rel_ret"] = eval->num_rel_ret;
    AddJson(eval->mean, &out);
    if (flags.per_query) {
      nlohmann::ordered_json per_query = nlohmann::ordered_json::object();
      for (const auto& [qid, q] : eval->per_query) {
        nlohmann::ordered_json one = nlohmann::ordered_json::object();
        one["num_ret"] = q.num_ret;
        one["num_rel"] = q.num_rel;
        one["num_rel_ret"] = q.num_rel_ret;
        AddJson(q.values, &one);
        per_query[qid] = std::move(one);
      }
      out["per_query"] = std::move(per_query);
    }
    if (flags.per_domain) {
      nlohmann::ordered_json pd = nlohmann::ordered_json::object();
      for (const DomainBreakdown& b : per_domain) {
        nlohmann::ordered_json one = nlohmann::ordered_json::object();
        for (const auto& [domain, value] : b.by_domain) one["domain:" + domain] = value;
        one["macro"] = b.macro;
        pd[b.measure] = std::move(one);
      }
      out["per_domain"] = std::move(pd);
    }
    if (want_routing) out["routing"] = RoutingJson(matrix, routing_path);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    if (flags.per_query) {
      for (const auto& [qid, q] : eval->per_query) {
        PrintCount("num_ret", qid, q.num_ret);
        PrintCount("num_rel", qid, q.num_rel);
        PrintCount("num_rel_ret", qid, q.num_rel_ret);
        PrintValues(q.values, qid);
      }
    }
    PrintCount("num_q", "all", eval->num_queries());
    PrintCount("num_ret", "all", eval->num_ret);
    PrintCount("num_rel", "all", eval->num_rel);
    PrintCount("num_rel_ret", "all", eval->num_rel_ret);
    PrintValues(eval->mean, "all");
    for (const DomainBreakdown& b : per_domain) {
      for (const auto& [domain, value] : b.by_domain) {
        std::printf("%-22s\t%s\t%6.4f\n", b.measure.c_str(), ("domain:" + domain).c_str(), value);
      }
      std::printf("%-22s\t%s\t%6.4f\n", b.measure.c_str(), "macro", b.macro);
    }
    if (want_routing) std::printf("%s", ranking::RoutingMatrixText(matrix).c_str());
  }
  if (want_routing) {
    const std::string title = "MoE routing by domain: " + std::filesystem::path(flags.run).filename().string();
    std::ofstream svg(flags.routing_plot, std::ios::binary | std::ios::trunc);
    svg << ranking::RoutingMatrixSvg(matrix, title);
    svg.close();
    if (!svg) {
      return app::Fail("eval", Status::IOError(flags.routing_plot + ": cannot write the routing plot"));
    }
    std::fprintf(stderr, "hymir eval: wrote %s\n", flags.routing_plot.c_str());
  }
  if (std::fflush(stdout) != 0) {
    return app::Fail("eval", Status::IOError("writing to standard output failed"));
  }
  return app::kExitOk;
}

}  // namespace

void AddEvalCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand("eval", "Score a TREC run against qrels (trec_eval -c values)");
  cmd->footer(
      "Prints num_q, num_ret, num_rel, num_rel_ret, ndcg_cut_10, ndcg_cut_100, recall_100,\n"
      "recall_1000, map, recip_rank (MRR@10: cut at 10), recip_rank_nocut (trec_eval's uncut recip_rank) and\n"
      "P_10, averaged over the queries with a relevant judgement; one the run misses scores 0.\n"
      "With --queries: --per-domain adds ndcg_cut_10 and recall_100 per domain ('domain:<name>') and\n"
      "their macro average ('macro'); --routing-plot prints the MoE routing table (domain x top-1\n"
      "expert, mutual information) and writes it as an SVG heatmap.\n"
      "Exit: 0 ok, 1 malformed input or no judged query, 2 usage error or missing file.");
  cmd->add_option("--qrels", flags->qrels,
                  "Relevance judgements: BEIR TSV (query-id, corpus-id, score) or TREC "
                  "(qid iter docid rel); detected per file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--run", flags->run, "TREC run file: qid Q0 docid rank score tag")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("-q,--per-query", flags->per_query,
                "Also print every judged query's values, before the 'all' lines (trec_eval -q)");
  cmd->add_flag("--json", flags->json, "Print one JSON object instead of trec_eval-style lines");
  cmd->add_option("--queries", flags->queries,
                  "BEIR queries.jsonl whose \"domain\" fields --per-domain and --routing-plot use")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--per-domain", flags->per_domain,
                "Also print ndcg_cut_10 and recall_100 per domain and their macro average (needs --queries)");
  cmd->add_option("--routing-plot", flags->routing_plot,
                  "Write the MoE routing (domain x top-1 expert) as an SVG heatmap here and print it as a "
                  "table (needs --queries)");
  cmd->add_option("--routing", flags->routing, "Routing file of `hymir search --rerank` (default: RUN.routing.tsv)");
  cmd->callback([flags, exit_code] { *exit_code = RunEval(*flags); });
}

}  // namespace hymir::cli
