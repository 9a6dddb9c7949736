// Training the MoE re-ranker from Python: pretrain (no judgements) and
// train_reranker (judged queries), as `hymir pretrain` and `hymir train`
// run them. Both release the GIL; progress callbacks run on the calling
// thread with the GIL taken back.
#include <optional>
#include <string>
#include <vector>

#include "hymir/beir.h"
#include "hymir/pipeline.h"
#include "hymir/pretrain.h"
#include "hymir/ranking/qrels.h"
#include "hymir/train_reranker.h"
#include "python/src/common.h"

namespace hymir::python {
namespace {

// The index (and KG) training runs on, opened as `hymir train` opens them.
std::unique_ptr<Pipeline> OpenForTraining(const std::string& index_dir, const std::string& kg_dir) {
  PipelineOptions o;
  o.index_dir = index_dir;
  o.kg_dir = kg_dir;
  return Unwrap(WithoutGil([&] { return Pipeline::Open(o); }));
}

void ApplyModelShape(const py::object& experts, const py::object& shared_experts, const py::object& top_k,
                     const py::object& max_epochs, const py::object& seed, ranking::MoeTrainOptions* t) {
  if (!experts.is_none()) t->model.routed_experts = experts.cast<int>();
  if (!shared_experts.is_none()) t->model.shared_experts = shared_experts.cast<int>();
  if (!top_k.is_none()) t->model.top_k = top_k.cast<int>();
  if (!max_epochs.is_none()) t->max_epochs = max_epochs.cast<int>();
  if (!seed.is_none()) t->seed = seed.cast<uint64_t>();
}

py::dict TrainReportToDict(const ranking::TrainReport& r) {
  py::dict d;
  d["train_queries"] = r.train_queries;
  d["validation_queries"] = r.validation_queries;
  d["epochs"] = r.epochs;
  d["best_epoch"] = r.best_epoch;
  d["best_validation_ndcg"] = r.best_validation_ndcg;
  d["tree_rounds"] = r.tree_rounds;
  return d;
}

}  // namespace

void RegisterTraining(py::module_& m) {
  m.def(
      "pretrain",
      [](const std::string& index_dir, const std::string& model_path, const std::string& kg_dir, size_t queries,
         const py::object& kinds, size_t depth, bool cluster_experts, int threads, uint64_t query_seed,
         const py::object& experts, const py::object& shared_experts, const py::object& top_k,
         const py::object& max_epochs, const py::object& seed, const py::object& progress) {
        PretrainOptions o;
        o.generate.queries = queries;
        o.generate.seed = query_seed;
        if (!kinds.is_none()) {
          o.generate.kinds.clear();
          for (auto k : kinds) o.generate.kinds.push_back(Unwrap(ParsePseudoQueryKind(k.cast<std::string>())));
        }
        o.depth = depth;
        o.cluster_experts = cluster_experts;
        o.threads = threads;
        ApplyModelShape(experts, shared_experts, top_k, max_epochs, seed, &o.train);
        PendingError pending;
        if (!progress.is_none()) {
          o.progress = [&](const std::string& line) { pending.Run([&] { progress(line); }); };
        }
        auto pipeline = OpenForTraining(index_dir, kg_dir);
        PretrainReport report;
        Status saved = WithoutGil([&]() -> Status {
          HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel model,
                                 Pretrain(pipeline->engine(), index_dir, o, pipeline->kg(), &report));
          return model.Save(model_path);
        });
        pending.RaiseIfAny();
        Check(saved);
        py::dict d;
        d["documents"] = report.documents;
        d["train_queries"] = report.train_queries;
        d["check_queries"] = report.check_queries;
        d["with_source"] = report.with_source;
        d["prior_weight"] = report.prior_weight;
        d["cluster_sizes"] = report.cluster_sizes;
        d["train"] = TrainReportToDict(report.joint);
        py::list checks;
        for (const PretrainCheck& c : report.checks) {
          py::dict cd;
          cd["kind"] = PseudoQueryKindName(c.kind);
          cd["queries"] = c.queries;
          cd["hybrid_ndcg"] = c.hybrid_ndcg;
          cd["model_ndcg"] = c.model_ndcg;
          checks.append(cd);
        }
        d["checks"] = checks;
        d["seconds"] = report.generate_seconds + report.copy_seconds + report.feature_seconds + report.train_seconds;
        return d;
      },
      py::arg("index_dir"), py::arg("model_path"), py::kw_only(), py::arg("kg_dir") = "", py::arg("queries") = 2000,
      py::arg("kinds") = py::none(), py::arg("depth") = 100, py::arg("cluster_experts") = true, py::arg("threads") = 0,
      py::arg("query_seed") = 42, py::arg("experts") = py::none(), py::arg("shared_experts") = py::none(),
      py::arg("top_k") = py::none(), py::arg("max_epochs") = py::none(), py::arg("seed") = py::none(),
      py::arg("progress") = py::none(),
      "Pre-trains a MoE re-ranker on the index's own documents (pseudo-queries of kinds 'ict', 'title', "
      "'terms'; no judgements) and saves it at `model_path`, as `hymir pretrain`. progress(line) reports each "
      "stage. Returns the report (held-out checks per kind, the chosen retrieval-prior weight, ...).");

  m.def(
      "train_reranker",
      [](const std::string& index_dir, const std::string& queries_path, const std::string& qrels_path,
         const std::string& model_path, const std::string& kg_dir, const std::string& init, size_t depth, int threads,
         const py::object& experts, const py::object& shared_experts, const py::object& top_k,
         const py::object& max_epochs, const py::object& seed, const py::object& progress) {
        TrainRerankerOptions o;
        o.depth = depth;
        o.threads = threads;
        ApplyModelShape(experts, shared_experts, top_k, max_epochs, seed, &o.train);
        std::optional<ranking::MoeModel> init_model;
        if (!init.empty()) {
          init_model = Unwrap(ranking::MoeModel::Load(init));
          o.init = &*init_model;
        }
        Check(o.Validate());
        PendingError pending;
        if (!progress.is_none()) {
          o.progress = [&](const std::string& line) { pending.Run([&] { progress(line); }); };
        }
        auto pipeline = OpenForTraining(index_dir, kg_dir);
        TrainRerankerReport report;
        Status saved = WithoutGil([&]() -> Status {
          HYMIR_ASSIGN_OR_RETURN(auto records, ReadQueries(queries_path));
          HYMIR_ASSIGN_OR_RETURN(auto qrels, ranking::Qrels::Read(qrels_path));
          const Engine& engine = pipeline->engine();
          const std::vector<TrainingQuery> queries = JudgedQueries(records, qrels, &engine);
          if (queries.empty()) {
            return Status::InvalidArgument(qrels_path + ": judges none of the queries in " + queries_path);
          }
          HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel model,
                                 TrainReranker(engine, queries, qrels, o, pipeline->kg(), &report));
          return model.Save(model_path);
        });
        pending.RaiseIfAny();
        Check(saved);
        py::dict d;
        d["queries"] = report.queries;
        d["with_relevant"] = report.with_relevant;
        d["pair_features"] = report.pair_features;
        d["query_features"] = report.query_features;
        d["feature_seconds"] = report.feature_seconds;
        d["train_seconds"] = report.train_seconds;
        d["train"] = TrainReportToDict(report.train);
        return d;
      },
      py::arg("index_dir"), py::arg("queries"), py::arg("qrels"), py::arg("model_path"), py::kw_only(),
      py::arg("kg_dir") = "", py::arg("init") = "", py::arg("depth") = 100, py::arg("threads") = 0,
      py::arg("experts") = py::none(), py::arg("shared_experts") = py::none(), py::arg("top_k") = py::none(),
      py::arg("max_epochs") = py::none(), py::arg("seed") = py::none(), py::arg("progress") = py::none(),
      "Trains a MoE re-ranker on the judged queries (a BEIR queries.jsonl and its qrels) and saves it at "
      "`model_path`, as `hymir train`; `init`: a model file to fine-tune (hymir pretrain's). Returns the report.");
}

}  // namespace hymir::python
