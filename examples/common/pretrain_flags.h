// The flags of `hymir pretrain` and `hymir-mpi pretrain`, bound to a
// PretrainOptions (the library's defaults are the flags' defaults), and the
// summary both print.
//
// Thread-safety: flag parsing and printing, on one thread.
#ifndef HYMIR_EXAMPLES_COMMON_PRETRAIN_FLAGS_H_
#define HYMIR_EXAMPLES_COMMON_PRETRAIN_FLAGS_H_

#include <hymir/pipeline.h>
#include <hymir/pretrain.h>

#include <CLI/CLI.hpp>
#include <string>

#include "common/moe_flags.h"

namespace hymir::app {

struct PretrainFlags {
  std::string index, model, kg, generators = "ict,title,terms", work_dir;
  std::string kg_uses = "default";  // --kg-uses: how --kg is used (KgUses)
  MoeTrainFlags moe;
  PretrainOptions options;
  bool record = false;  // --record: the model becomes the index's recorded re-ranker

  // The options with the generators and training flags resolved;
  // InvalidArgument naming the bad flag.
  Result<PretrainOptions> Resolve() const;
  // The index and KG the pre-training reads, as a Pipeline opens them.
  PipelineOptions pipeline_options() const;
};

// Adds every pre-training flag, bound to `f`.
void AddPretrainFlags(CLI::App& cmd, PretrainFlags& f);

// The summary lines on stdout after a pre-training.
void PrintPretrainSummary(const std::string& path, const ranking::MoeModel& model, const PretrainReport& r);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_PRETRAIN_FLAGS_H_
