#include "hymir/ranking/fusion_tuner.h"

#include <cstdio>

#include "hymir/ranking/metrics.h"
#include "hymir/ranking/run.h"

namespace hymir::ranking {
namespace {

std::vector<FusionOptions> Grid(const TuneOptions& t) {
  const std::vector<double> weights = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.5, 2.0, 3.0};
  std::vector<FusionOptions> grid;
  for (FusionMethod m : t.methods) {
    FusionOptions o;
    o.method = m;
    switch (m) {
      case FusionMethod::kConvex:
        for (int i = 0; i <= 20; ++i) {
          o.alpha = i / 20.0;
          grid.push_back(o);
        }
        break;
      case FusionMethod::kRrf:
        for (double k : {10.0, 30.0, 60.0, 100.0}) {
          o.rrf_k = k;
          grid.push_back(o);
        }
        break;
      case FusionMethod::kWeightedRrf:
      case FusionMethod::kMinMax:
      case FusionMethod::kZScore:
        for (double w : weights) {
          o.weights = {1.0, w};
          grid.push_back(o);
        }
        break;
    }
  }
  return grid;
}

}  // namespace

std::string DescribeFusion(const FusionOptions& o) {
  char buf[128];
  switch (o.method) {
    case FusionMethod::kConvex:
      std::snprintf(buf, sizeof buf, "convex alpha=%.2f", o.alpha);
      break;
    case FusionMethod::kRrf:
      std::snprintf(buf, sizeof buf, "rrf k=%.0f", o.rrf_k);
      break;
    default: {
      std::string w;
      for (double x : o.weights) w += (w.empty() ? "" : ",") + std::to_string(x).substr(0, 4);
      if (w.empty()) w = "1,1";
      std::snprintf(
          buf, sizeof buf, "%s%s w=%s", FusionMethodName(o.method),
          o.method == FusionMethod::kWeightedRrf ? (" k=" + std::to_string(static_cast<int>(o.rrf_k))).c_str() : "",
          w.c_str());
    }
  }
  return buf;
}

Result<TuneResult> TuneFusion(const std::map<std::string, std::vector<std::vector<Candidate>>>& lists,
                              const Qrels& qrels, const TuneOptions& t) {
  if (lists.empty()) return Status::InvalidArgument("tune: no training queries");
  TuneResult result;
  bool first = true;
  for (const FusionOptions& o : Grid(t)) {
    Run run;
    for (const auto& [qid, l] : lists) {
      auto fused = Fuse(l, o);
      if (!fused.ok()) return fused.status().WithContext("tune: query " + qid);
      ScoredDocs& docs = run[qid];
      for (size_t i = 0; i < fused->size() && i < t.depth; ++i) docs.push_back({(*fused)[i].id, (*fused)[i].score});
    }
    auto eval = Evaluate(qrels, run);
    if (!eval.ok()) return eval.status();
    TunePoint p{o, eval->mean.ndcg_cut_10, eval->mean.recall_100};
    result.queries = eval->num_queries();
    result.table.push_back(p);
    if (first || p.ndcg_cut_10 > result.best.ndcg_cut_10) result.best = p;
    first = false;
  }
  return result;
}

}  // namespace hymir::ranking
