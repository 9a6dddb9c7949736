// Evaluation: qrels, TREC runs and trec_eval's metrics over them.
#include <fstream>
#include <string>

#include "hymir/pipeline.h"
#include "hymir/ranking/metrics.h"
#include "hymir/ranking/qrels.h"
#include "hymir/ranking/run.h"
#include "python/src/common.h"

namespace hymir::python {
namespace {

// A run from Python: {qid: [(docid, score), ...]} or a list of SearchResult.
ranking::Run RunFrom(const py::handle& object) {
  ranking::Run run;
  if (py::isinstance<py::dict>(object)) {
    for (auto [q, docs] : py::reinterpret_borrow<py::dict>(object)) {
      auto& out = run[q.cast<std::string>()];
      for (auto item : docs) {
        auto [id, score] = item.cast<std::pair<std::string, double>>();
        out.emplace_back(std::move(id), score);
      }
    }
    return run;
  }
  for (auto item : object) {
    if (!py::isinstance<PipelineResult>(item)) {
      throw py::type_error("run: expected {qid: [(docid, score), ...]} or a list of SearchResult");
    }
    const auto& r = item.cast<const PipelineResult&>();
    auto& out = run[r.query.id];
    for (const PipelineHit& h : r.hits) out.emplace_back(h.hit.id, h.hit.score);
  }
  return run;
}

py::dict RunToDict(const ranking::Run& run) {
  py::dict d;
  for (const auto& [q, docs] : run) {
    py::list l;
    for (const auto& [id, score] : docs) l.append(py::make_tuple(id, score));
    d[py::str(q)] = l;
  }
  return d;
}

py::dict ValuesToDict(const ranking::MetricValues& v) {
  py::dict d;
  for (const auto& [name, value] : ranking::NamedValues(v)) d[py::str(std::string(name))] = value;
  return d;
}

}  // namespace

void RegisterEvaluation(py::module_& m) {
  py::class_<ranking::Qrels>(m, "Qrels", "Relevance judgements (BEIR or TREC qrels).")
      .def(py::init<>())
      .def_static(
          "read", [](const std::string& path) { return Unwrap(ranking::Qrels::Read(path)); }, py::arg("path"),
          "Reads a BEIR (query-id corpus-id score) or TREC (qid iter docid rel) qrels file.")
      .def_static(
          "parse",
          [](const std::string& text, const std::string& source) {
            return Unwrap(ranking::Qrels::Parse(text, source));
          },
          py::arg("text"), py::arg("source") = "<qrels>")
      .def("set", &ranking::Qrels::Set, py::arg("query_id"), py::arg("doc_id"), py::arg("grade"))
      .def("grade", &ranking::Qrels::Grade, py::arg("query_id"), py::arg("doc_id"),
           "The grade of the pair, or None when not judged.")
      .def("num_relevant", &ranking::Qrels::NumRelevant, py::arg("query_id"))
      .def_property_readonly("num_queries", &ranking::Qrels::num_queries)
      .def_property_readonly("num_judgements", &ranking::Qrels::num_judgements)
      .def(
          "queries",
          [](const ranking::Qrels& q) {
            py::dict d;
            for (const auto& [qid, j] : q.queries()) d[py::str(qid)] = py::cast(j);
            return d;
          },
          "{query id: {doc id: grade}}.")
      .def("__len__", &ranking::Qrels::num_queries);

  m.def(
      "read_run", [](const std::string& path) { return RunToDict(Unwrap(ranking::ReadRun(path))); }, py::arg("path"),
      "A TREC run file as {qid: [(docid, score), ...]} (file order).");

  m.def(
      "write_run",
      [](const py::object& run, const std::string& path, const std::string& tag) {
        ranking::Run r = RunFrom(run);
        std::ofstream out(path);
        if (!out) Check(Status::IOError(path + ": cannot open for writing"));
        for (const auto& [qid, docs] : r) Check(ranking::WriteRun(out, qid, docs, tag));
        out.flush();
        if (!out) Check(Status::IOError(path + ": write failed"));
      },
      py::arg("run"), py::arg("path"), py::arg("tag") = "hymir",
      "Writes a run ({qid: [(docid, score), ...]} in rank order, or a list of SearchResult) as a TREC run file.");

  m.def(
      "evaluate",
      [](const py::object& qrels_or_path, const py::object& run_or_path) {
        ranking::Qrels qrels = py::isinstance<py::str>(qrels_or_path)
                                   ? Unwrap(ranking::Qrels::Read(qrels_or_path.cast<std::string>()))
                                   : qrels_or_path.cast<ranking::Qrels>();
        ranking::Run run = py::isinstance<py::str>(run_or_path)
                               ? Unwrap(ranking::ReadRun(run_or_path.cast<std::string>()))
                               : RunFrom(run_or_path);
        auto e = Unwrap(WithoutGil([&] { return ranking::Evaluate(qrels, run); }));
        py::dict d = ValuesToDict(e.mean);
        d["num_q"] = e.num_queries();
        d["num_ret"] = e.num_ret;
        d["num_rel"] = e.num_rel;
        d["num_rel_ret"] = e.num_rel_ret;
        py::dict per_query;
        for (const auto& [qid, qe] : e.per_query) {
          py::dict q = ValuesToDict(qe.values);
          q["num_ret"] = qe.num_ret;
          q["num_rel"] = qe.num_rel;
          q["num_rel_ret"] = qe.num_rel_ret;
          per_query[py::str(qid)] = q;
        }
        d["per_query"] = per_query;
        return d;
      },
      py::arg("qrels"), py::arg("run"),
      "trec_eval's metrics (ndcg_cut_10, ndcg_cut_100, recall_100, recall_1000, map, recip_rank_nocut, "
      "recip_rank (MRR@10), P_10) averaged over the judged queries, as `hymir eval`; `qrels` a Qrels or a path, "
      "`run` a path, {qid: [(docid, score), ...]} or a list of SearchResult. 'per_query' holds each query's.");
}

}  // namespace hymir::python
