#include "common/recorded.h"

namespace hymir::app {

Status ApplyRecorded(PipelineOptions* options, bool depth_given) {
  HYMIR_ASSIGN_OR_RETURN(PipelineOptions recorded, RecordedPipelineOptions(options->index_dir));
  const bool own_model = options->rerank_model.empty();
  if (own_model) {
    options->rerank_model = recorded.rerank_model;
    if (!options->rerank_prior) options->rerank_prior = recorded.rerank_prior;
  }
  if (options->kg_dir.empty() && (own_model || recorded.rerank_model.empty())) options->kg_dir = recorded.kg_dir;
  if (!depth_given) options->rerank_depth = recorded.rerank_depth;
  return Status::OK();
}

Status RecordModel(const std::string& index_dir, const std::string& model, const std::string& kg_dir) {
  HYMIR_ASSIGN_OR_RETURN(PipelineOptions recorded, RecordedPipelineOptions(index_dir));
  recorded.rerank_model = model;
  recorded.rerank_prior.reset();
  if (!kg_dir.empty()) recorded.kg_dir = kg_dir;
  return RecordPipelineOptions(index_dir, recorded);
}

}  // namespace hymir::app
