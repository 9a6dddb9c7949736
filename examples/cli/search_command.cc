// hymir search: one query (ranked hits printed) or a queries file (TREC run).
#include <hymir/beir.h>
#include <hymir/index/searcher.h>
#include <hymir/ranking/qrels.h>
#include <hymir/ranking/run.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <set>

#include "examples/cli/commands.h"
#include "examples/common/app.h"

namespace hymir::cli {
namespace {

struct SearchFlags {
  std::string index;
  std::string query;
  std::string queries;
  std::string run;
  std::string qrels;
  size_t k = 0;  // 0: 10 for --query, 1000 for --queries
  size_t offset = 0;
  std::vector<std::string> filters;  // field:value
  std::vector<std::string> fields;   // field[:weight]
  double k1 = 0.9;
  double b = 0.4;
  bool json = false;
};

Status ParseFilters(const std::vector<std::string>& specs, std::vector<index::FieldFilter>* out) {
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument("--filter \"" + spec + "\": expected FIELD:VALUE");
    }
    std::string field = spec.substr(0, colon), value = spec.substr(colon + 1);
    auto it = std::find_if(out->begin(), out->end(), [&](const index::FieldFilter& f) { return f.field == field; });
    if (it == out->end()) {
      out->push_back({field, {value}});
    } else {
      it->values.push_back(value);  // same field twice: either value admits
    }
  }
  return Status::OK();
}

Status ParseFields(const std::vector<std::string>& specs, std::vector<index::FieldWeight>* out) {
  if (specs.empty()) return Status::OK();
  out->clear();
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    index::FieldWeight fw{spec.substr(0, colon), 1.0};
    if (colon != std::string::npos) {
      try {
        fw.weight = std::stod(spec.substr(colon + 1));
      } catch (...) {
        return Status::InvalidArgument("--field \"" + spec + "\": weight is not a number");
      }
    }
    out->push_back(fw);
  }
  return Status::OK();
}

int RunSearch(const SearchFlags& flags) {
  if (flags.query.empty() == flags.queries.empty()) {
    return app::Fail("search", Status::InvalidArgument("give exactly one of --query or --queries"), true);
  }
  if (!flags.queries.empty() && flags.run.empty()) {
    return app::Fail("search", Status::InvalidArgument("--queries needs --run OUT.trec"), true);
  }
  index::TextQuery base;
  base.bm25.k1 = flags.k1;
  base.bm25.b = flags.b;
  base.offset = flags.offset;
  if (Status s = ParseFilters(flags.filters, &base.filters); !s.ok()) return app::Fail("search", s, true);
  if (Status s = ParseFields(flags.fields, &base.fields); !s.ok()) return app::Fail("search", s, true);

  auto searcher_or = index::Searcher::Open(flags.index);
  if (!searcher_or.ok()) return app::Fail("search", searcher_or.status());
  const index::Searcher& searcher = **searcher_or;

  if (!flags.query.empty()) {
    base.text = flags.query;
    base.k = flags.k ? flags.k : 10;
    auto hits = searcher.Search(base);
    if (!hits.ok()) return app::Fail("search", hits.status(), hits.status().IsInvalidArgument());
    nlohmann::json out = nlohmann::json::array();
    for (const index::Hit& h : *hits) {
      auto doc = searcher.GetDocument(h.id);
      std::string title = doc.ok() ? doc->title : "";
      if (title.empty() && doc.ok()) title = doc->text;
      if (flags.json) {
        out.push_back({{"rank", h.rank}, {"id", h.id}, {"score", h.score}, {"title", title}});
      } else {
        if (title.size() > 70) title = title.substr(0, 67) + "...";
        std::printf("%4u  %9.4f  %-16s %s\n", h.rank, h.score, h.id.c_str(), title.c_str());
      }
    }
    if (flags.json) std::printf("%s\n", out.dump(2).c_str());
    else if (hits->empty()) std::printf("(no hits)\n");
    return app::kExitOk;
  }

  auto queries = ReadQueries(flags.queries);
  if (!queries.ok()) return app::Fail("search", queries.status());
  std::set<std::string> keep;
  const bool filter_by_qrels = !flags.qrels.empty();
  if (filter_by_qrels) {
    auto qrels = ranking::Qrels::Read(flags.qrels);
    if (!qrels.ok()) return app::Fail("search", qrels.status());
    for (const auto& [qid, judged] : qrels->queries()) keep.insert(qid);
  }
  std::ofstream run(flags.run);
  if (!run) return app::Fail("search", Status::IOError(flags.run + ": cannot open for writing"));
  base.k = flags.k ? flags.k : 1000;
  size_t done = 0;
  for (const QueryRecord& q : *queries) {
    if (filter_by_qrels && !keep.count(q.id)) continue;
    index::TextQuery tq = base;
    tq.text = q.text;
    auto hits = searcher.Search(tq);
    if (!hits.ok()) return app::Fail("search", hits.status().WithContext("query " + q.id));
    ranking::ScoredDocs ranked;
    ranked.reserve(hits->size());
    for (const index::Hit& h : *hits) ranked.push_back({h.id, h.score});
    if (Status s = ranking::WriteRun(run, q.id, ranked, "hymir"); !s.ok()) return app::Fail("search", s);
    ++done;
  }
  run.flush();
  if (!run) return app::Fail("search", Status::IOError(flags.run + ": write failed"));
  std::fprintf(stderr, "hymir search: wrote %zu queries to %s\n", done, flags.run.c_str());
  return app::kExitOk;
}

}  // namespace

void AddSearchCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<SearchFlags>();
  CLI::App* cmd = app.add_subcommand("search", "Search an index: one --query, or --queries into a TREC --run");
  cmd->add_option("--index", flags->index, "Index directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--query", flags->query, "Query text; prints ranked hits");
  cmd->add_option("--queries", flags->queries, "BEIR queries.jsonl; needs --run")->check(CLI::ExistingFile);
  cmd->add_option("--run", flags->run, "TREC run output (qid Q0 docid rank score hymir)");
  cmd->add_option("--qrels", flags->qrels, "Only run queries judged in this qrels file")->check(CLI::ExistingFile);
  cmd->add_option("--k", flags->k, "Hits per query (default 10 for --query, 1000 for --queries)");
  cmd->add_option("--offset", flags->offset, "Skip this many hits first (pagination)");
  cmd->add_option("--filter", flags->filters, "FIELD:VALUE exact filter, e.g. domain:med (repeatable)");
  cmd->add_option("--field", flags->fields, "Scored field[:weight]: title, text or all (repeatable; default all)");
  cmd->add_option("--k1", flags->k1, "BM25 k1")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--b", flags->b, "BM25 b")->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--json", flags->json, "Print hits as JSON");
  cmd->callback([flags, exit_code] { *exit_code = RunSearch(*flags); });
}

}  // namespace hymir::cli
