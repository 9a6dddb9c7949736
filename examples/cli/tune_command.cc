// hymir tune: choose the hybrid fusion on a training split and store it as the
// index's default.
#include <hymir/beir.h>
#include <hymir/engine.h>
#include <hymir/ranking/fusion_tuner.h>
#include <hymir/ranking/qrels.h>

#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "common/app.h"

namespace hymir::cli {
namespace {

struct TuneFlags {
  std::string index;
  std::string queries;
  std::string qrels;
  std::vector<std::string> methods;
  size_t bm25_depth = 1000;
  size_t vector_depth = 100;
  std::string vector_field;
  bool dry_run = false;
  size_t show = 10;
};

int RunTune(const TuneFlags& flags) {
  ranking::TuneOptions topts;
  if (!flags.methods.empty()) {
    topts.methods.clear();
    for (const auto& m : flags.methods) {
      auto parsed = ranking::ParseFusionMethod(m);
      if (!parsed.ok()) return app::Fail("tune", parsed.status(), true);
      topts.methods.push_back(*parsed);
    }
  }
  auto engine = Engine::Open(flags.index);
  if (!engine.ok()) return app::Fail("tune", engine.status());
  auto qrels = ranking::Qrels::Read(flags.qrels);
  if (!qrels.ok()) return app::Fail("tune", qrels.status());
  auto queries = ReadQueries(flags.queries);
  if (!queries.ok()) return app::Fail("tune", queries.status());
  std::vector<HybridQuery> batch;
  for (const auto& q : *queries) {
    if (!qrels->Find(q.id) || qrels->NumRelevant(q.id) == 0) continue;
    HybridQuery h;
    h.id = q.id;
    h.text = q.text;
    h.retriever = Retriever::kHybrid;
    h.vector_field = flags.vector_field;
    h.bm25_depth = flags.bm25_depth;
    h.vector_depth = flags.vector_depth;
    h.k = 1;
    batch.push_back(std::move(h));
  }
  if (batch.empty())
    return app::Fail("tune", Status::InvalidArgument(flags.qrels + ": no judged query in " + flags.queries));
  auto cands = (*engine)->Candidates(batch);
  if (!cands.ok()) return app::Fail("tune", cands.status());
  std::map<std::string, std::vector<std::vector<ranking::Candidate>>> lists;
  for (size_t i = 0; i < batch.size(); ++i) lists[batch[i].id] = std::move((*cands)[i]);
  auto result = ranking::TuneFusion(lists, *qrels, topts);
  if (!result.ok()) return app::Fail("tune", result.status());

  // Single retrievers for reference: convex at alpha 1 (BM25) and 0 (vector).
  ranking::TuneOptions single;
  single.methods = {ranking::FusionMethod::kConvex};
  auto ref = ranking::TuneFusion(lists, *qrels, single);
  if (ref.ok()) {
    std::printf(
        "train queries: %zu\nBM25 alone      nDCG@10 %.4f  R@100 %.4f\nvector alone    nDCG@10 %.4f  R@100 %.4f\n",
        result->queries, ref->table.back().ndcg_cut_10, ref->table.back().recall_100, ref->table.front().ndcg_cut_10,
        ref->table.front().recall_100);
  }
  std::vector<ranking::TunePoint> table = result->table;
  std::stable_sort(table.begin(), table.end(),
                   [](const auto& a, const auto& b) { return a.ndcg_cut_10 > b.ndcg_cut_10; });
  std::printf("top %zu of %zu fusion settings by train nDCG@10:\n", std::min(flags.show, table.size()), table.size());
  for (size_t i = 0; i < table.size() && i < flags.show; ++i) {
    std::printf("  %-28s nDCG@10 %.4f  R@100 %.4f\n", ranking::DescribeFusion(table[i].options).c_str(),
                table[i].ndcg_cut_10, table[i].recall_100);
  }
  std::printf("best: %s (train nDCG@10 %.4f)\n", ranking::DescribeFusion(result->best.options).c_str(),
              result->best.ndcg_cut_10);
  if (flags.dry_run) return app::kExitOk;
  if (Status s = Engine::SaveDefaultFusion(flags.index, result->best.options); !s.ok()) return app::Fail("tune", s);
  std::printf("stored as the default fusion of %s\n", flags.index.c_str());
  return app::kExitOk;
}

}  // namespace

void AddTuneCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<TuneFlags>();
  CLI::App* cmd = app.add_subcommand("tune",
                                     "Pick the hybrid fusion (method, alpha/weights) on TRAIN qrels and "
                                     "store it as the index default");
  cmd->add_option("--index", flags->index, "Index directory with a vector field")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--queries", flags->queries, "BEIR queries.jsonl")->required()->check(CLI::ExistingFile);
  cmd->add_option("--qrels", flags->qrels, "TRAIN qrels (never the test split)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--method", flags->methods, "Restrict to these fusion methods (repeatable)")
      ->check(CLI::IsMember({"rrf", "wrrf", "minmax", "zscore", "convex"}));
  cmd->add_option("--bm25-depth", flags->bm25_depth, "BM25 candidates (default 1000)");
  cmd->add_option("--vector-depth", flags->vector_depth, "Vector candidates (default 100)");
  cmd->add_option("--vector-field", flags->vector_field, "Vector field (default: the first)");
  cmd->add_option("--show", flags->show, "Rows of the table to print (default 10)");
  cmd->add_flag("--dry-run", flags->dry_run, "Print the table without storing the result");
  cmd->callback([flags, exit_code] { *exit_code = RunTune(*flags); });
}

}  // namespace hymir::cli
