// hymir pretrain: pre-train the MoE re-ranker on the index's own documents,
// no judgements needed (hymir/pretrain.h).
#include <hymir/engine.h>
#include <hymir/knowledge.h>
#include <hymir/pretrain.h>

#include <cstdio>

#include "examples/cli/commands.h"
#include "examples/common/app.h"
#include "examples/common/pretrain_flags.h"

namespace hymir::cli {
namespace {

int RunPretrain(const app::PretrainFlags& f) {
  auto o = f.Resolve();
  if (!o.ok()) return app::Fail("pretrain", o.status(), true);
  auto engine = Engine::Open(f.index);
  if (!engine.ok()) return app::Fail("pretrain", engine.status());
  std::unique_ptr<KnowledgeContext> kg;
  if (!f.kg.empty()) {
    auto k = KnowledgeContext::Open(f.kg, (*engine)->searcher().analyzer());
    if (!k.ok()) return app::Fail("pretrain", k.status());
    kg = std::move(k).value();
  }
  o->progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  PretrainReport report;
  auto model = Pretrain(**engine, f.index, *o, kg.get(), &report);
  if (!model.ok()) return app::Fail("pretrain", model.status());
  if (Status s = model->Save(f.model); !s.ok()) return app::Fail("pretrain", s);
  app::PrintPretrainSummary(f.model, *model, report);
  return app::kExitOk;
}

}  // namespace

void AddPretrainCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<app::PretrainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "pretrain", "Pre-train the MoE re-ranker on pseudo-queries from the index's own documents (no judgements)");
  app::AddPretrainFlags(*cmd, *f);
  cmd->callback([f, exit_code] { *exit_code = RunPretrain(*f); });
}

}  // namespace hymir::cli
