// The pipeline an index records (<index>/pipeline.json, hymir/pipeline.h) as
// the front ends use it: `hymir search/serve --recorded` open what it names
// unless a flag says otherwise, and `hymir train/pretrain --record` put the
// model they wrote into it.
#ifndef HYMIR_EXAMPLES_COMMON_RECORDED_H_
#define HYMIR_EXAMPLES_COMMON_RECORDED_H_

#include <hymir/pipeline.h>
#include <hymir/status.h>

#include <string>

namespace hymir::app {

// Fills what `options` leaves unset from the pipeline options->index_dir
// records: the KG when kg_dir is empty, the model when rerank_model is empty,
// the retrieval-prior weight when rerank_prior is unset, and the re-ranking
// depth unless `depth_given`. The recorded KG applies only with the recorded
// model or no model at all, so that a model given by flag is not paired with
// a KG it was not trained with. Corruption naming the file for a damaged
// record; an index that records nothing leaves `options` as it is.
Status ApplyRecorded(PipelineOptions* options, bool depth_given);

// Records `model` (made absolute) as <index_dir>'s re-ranker, with `kg_dir`
// when it is not empty (the KG the model's features read), keeping the rest
// of the record; a retrieval-prior override recorded before is dropped (the
// new model carries its own).
Status RecordModel(const std::string& index_dir, const std::string& model, const std::string& kg_dir);

}  // namespace hymir::app

#endif  // HYMIR_EXAMPLES_COMMON_RECORDED_H_
