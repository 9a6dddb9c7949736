#include "hymir/ranking/fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace hymir::ranking {

Result<FusionMethod> ParseFusionMethod(std::string_view name) {
  if (name == "rrf") return FusionMethod::kRrf;
  if (name == "wrrf") return FusionMethod::kWeightedRrf;
  if (name == "minmax") return FusionMethod::kMinMax;
  if (name == "zscore") return FusionMethod::kZScore;
  if (name == "convex") return FusionMethod::kConvex;
  return Status::InvalidArgument("unknown fusion \"" + std::string(name) +
                                 "\" (expected rrf, wrrf, minmax, zscore or convex)");
}

const char* FusionMethodName(FusionMethod method) {
  switch (method) {
    case FusionMethod::kRrf:
      return "rrf";
    case FusionMethod::kWeightedRrf:
      return "wrrf";
    case FusionMethod::kMinMax:
      return "minmax";
    case FusionMethod::kZScore:
      return "zscore";
    case FusionMethod::kConvex:
      return "convex";
  }
  return "unknown";
}

Result<std::vector<FusedHit>> Fuse(const std::vector<std::vector<Candidate>>& input, const FusionOptions& o) {
  const size_t n = input.size();
  if (o.method == FusionMethod::kConvex && n != 2) {
    return Status::InvalidArgument("convex fusion needs exactly 2 lists, got " + std::to_string(n));
  }
  if (o.method == FusionMethod::kConvex && !(o.alpha >= 0 && o.alpha <= 1)) {
    return Status::InvalidArgument("convex fusion: alpha must be in [0, 1]");
  }
  if (!(o.rrf_k > 0)) return Status::InvalidArgument("rrf_k must be > 0");
  if (!o.weights.empty() && o.weights.size() != n) {
    return Status::InvalidArgument("fusion: " + std::to_string(o.weights.size()) + " weights for " + std::to_string(n) +
                                   " lists");
  }
  if (!o.bounds.empty() && o.bounds.size() != n)
    return Status::InvalidArgument("fusion: bounds count differs from lists");
  std::vector<std::vector<Candidate>> lists = input;
  for (auto& l : lists) {
    for (const auto& c : l) {
      if (std::isnan(c.score)) return Status::InvalidArgument("fusion: document \"" + c.id + "\" has a NaN score");
    }
    std::stable_sort(l.begin(), l.end(), [](const Candidate& a, const Candidate& b) {
      return a.score > b.score || (a.score == b.score && a.id < b.id);
    });
  }
  auto weight = [&](size_t i) {
    if (o.method == FusionMethod::kConvex) return i == 0 ? o.alpha : 1.0 - o.alpha;
    if (o.method == FusionMethod::kRrf || o.weights.empty()) return 1.0;
    return o.weights[i];
  };

  std::unordered_map<std::string, size_t> pos;
  std::vector<FusedHit> hits;
  for (size_t i = 0; i < n; ++i) {
    for (size_t r = 0; r < lists[i].size(); ++r) {
      const Candidate& c = lists[i][r];
      auto [it, fresh] = pos.emplace(c.id, hits.size());
      if (fresh) {
        hits.push_back(FusedHit{c.id, 0.0, std::vector<StageScore>(n)});
      }
      StageScore& s = hits[it->second].stages[i];
      if (s.present) continue;  // a duplicate in one list: keep its best rank
      s.present = true;
      s.score = c.score;
      s.rank = static_cast<uint32_t>(r + 1);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& l = lists[i];
    // Per-list normaliser and the value an absent document gets.
    double lo = 0, hi = 0, mean = 0, sd = 1;
    if (!l.empty()) {
      lo = l.back().score;
      hi = l.front().score;
      if (!o.bounds.empty()) std::tie(lo, hi) = o.bounds[i];
      double sum = 0, sq = 0;
      for (const auto& c : l) sum += c.score;
      mean = sum / static_cast<double>(l.size());
      for (const auto& c : l) sq += (c.score - mean) * (c.score - mean);
      sd = std::sqrt(sq / static_cast<double>(l.size()));
    }
    auto normalize = [&](double s) -> double {
      switch (o.method) {
        case FusionMethod::kMinMax:
        case FusionMethod::kConvex:
          if (hi == lo) return 1.0;
          return (s - lo) / (hi - lo);
        case FusionMethod::kZScore:
          return sd > 0 ? (s - mean) / sd : 0.0;
        default:
          return 0.0;
      }
    };
    const double absent = l.empty() ? 0.0 : o.method == FusionMethod::kZScore ? normalize(l.back().score) : 0.0;
    for (auto& h : hits) {
      StageScore& s = h.stages[i];
      double v;
      if (o.method == FusionMethod::kRrf || o.method == FusionMethod::kWeightedRrf) {
        v = s.present ? 1.0 / (o.rrf_k + s.rank) : 0.0;
      } else {
        v = s.present ? normalize(s.score) : absent;
      }
      s.normalized = v;
      h.score += weight(i) * v;
    }
  }
  std::sort(hits.begin(), hits.end(), [](const FusedHit& a, const FusedHit& b) {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
  });
  return hits;
}

}  // namespace hymir::ranking
