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

// The help groups of the training flags (CLI11 Option::group), after the
// options a user needs, which stay in CLI11's default group. A program puts
// its own advanced flags into these too.
inline constexpr const char* kShapeGroup = "Model shape";
inline constexpr const char* kOptimisationGroup = "Optimisation";
inline constexpr const char* kBalancingGroup = "Routing and balancing";
inline constexpr const char* kTreesGroup = "Boosted expert";
inline constexpr const char* kFineTuningGroup = "Fine-tuning (with --init)";
inline constexpr const char* kFeaturesGroup = "Features";
// Options measured against the defaults that beat them nowhere (docs/training.md).
inline constexpr const char* kMeasuredGroup = "Advanced: measured, none beat the defaults";

// Adds the shape and training flags, bound to `f`, in the groups above.
void AddMoeTrainFlags(CLI::App& app, MoeTrainFlags& f);

// The feature-set flags a re-ranker is trained with (group kFeaturesGroup), bound to a
// FeatureConfig; the program fills its other fields (KG, domains, embedding
// components) from its own inputs.
void AddFeatureFlags(CLI::App& app, FeatureConfig& c);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_MOE_FLAGS_H_
