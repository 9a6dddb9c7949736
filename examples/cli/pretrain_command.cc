// hymir pretrain: pre-train the MoE re-ranker on the index's own documents,
// no judgements needed (hymir/pretrain.h).
#include <hymir/pipeline.h>
#include <hymir/pretrain.h>

#include <cstdio>

#include "commands.h"
#include "common/app.h"
#include "common/pretrain_flags.h"
#include "common/recorded.h"

namespace hymir::cli {
namespace {

int RunPretrain(const app::PretrainFlags& f) {
  auto o = f.Resolve();
  if (!o.ok()) return app::Fail("pretrain", o.status(), true);
  auto pipeline = Pipeline::Open(f.pipeline_options());
  if (!pipeline.ok()) return app::Fail("pretrain", pipeline.status());
  o->progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  PretrainReport report;
  auto model = Pretrain((*pipeline)->engine(), f.index, *o, (*pipeline)->kg(), &report);
  if (!model.ok()) return app::Fail("pretrain", model.status());
  if (Status s = model->Save(f.model); !s.ok()) return app::Fail("pretrain", s);
  if (f.record) {
    if (Status s = app::RecordModel(f.index, f.model, ""); !s.ok()) return app::Fail("pretrain", s);
  }
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
