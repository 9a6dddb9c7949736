// The MoE training flags that `hymir train` and hymir-rerank-bench share
// (and, in AddFeatureFlags, the feature-set flags),
// bound straight to a ranking::MoeTrainOptions, so the library's defaults are
// the flags' defaults and both programs map every flag the same way. Each
// program adds its own flags beside these (--validation, whose range and
// meaning differ; train's extra loss terms; the bench's baselines).
//
// Thread-safety: flag parsing, on one thread.
#ifndef HYMIR_EXAMPLES_COMMON_MOE_FLAGS_H_
#define HYMIR_EXAMPLES_COMMON_MOE_FLAGS_H_

#include <hymir/features.h>
#include <hymir/ranking/moe_trainer.h>
#include <hymir/result.h>

#include <CLI/CLI.hpp>
#include <string>

namespace hymir::app {

struct MoeTrainFlags {
  ranking::MoeTrainOptions options;
  std::string loss = "lambdarank";  // resolved into options.objective.loss by Resolve()

  // The options with the loss resolved; InvalidArgument for an unknown loss
  // or --top-k above --experts.
  Result<ranking::MoeTrainOptions> Resolve() const;
};

// Adds the shape and training flags, bound to `f`.
void AddMoeTrainFlags(CLI::App& app, MoeTrainFlags& f);

// The feature-set flags a re-ranker is trained with, bound to a
// FeatureConfig; the program fills its other fields (KG, domains, embedding
// components) from its own inputs.
void AddFeatureFlags(CLI::App& app, FeatureConfig& c);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_MOE_FLAGS_H_
