// `hymir eval`: scores a TREC run against qrels and prints trec_eval-style
// lines, "<measure padded to 22><TAB><qid or all><TAB><value>", with the
// values `trec_eval -c` prints for the same measures (see
// <hymir/ranking/metrics.h> for the definitions and the one difference).
#include <hymir/ranking/metrics.h>

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "examples/cli/commands.h"
#include "examples/common/app.h"

namespace hymir::cli {
namespace {

struct EvalFlags {
  std::string qrels;
  std::string run;
  bool per_query = false;
  bool json = false;
};

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
  auto eval = ranking::EvaluateFiles(flags.qrels, flags.run);
  if (!eval.ok()) return app::Fail("eval", eval.status());
  if (eval->num_queries() == 0) {
    return app::Fail("eval", Status::InvalidArgument(flags.qrels +
                                                     ": no query has a relevant judgement"));
  }
  if (eval->num_unjudged_run_queries > 0) {
    std::fprintf(stderr,
                 "hymir eval: note: %zu run queries have no relevant judgement in %s and were "
                 "ignored\n",
                 eval->num_unjudged_run_queries, flags.qrels.c_str());
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
  cmd->callback([flags, exit_code] { *exit_code = RunEval(*flags); });
}

}  // namespace hymir::cli
