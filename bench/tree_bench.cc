// hymir-tree-bench: the boosted shared expert's scoring cost for 100
// candidates, eight rows walked in lockstep (BoostedTrees::Predict) against
// one row at a time (PredictRow), the same trees interleaved per repetition,
// at the model's tree count and at the counts asked for (--rounds). Rows
// are standard normal, as the trees' normalised inputs roughly are.
//
//   build/bin/hymir-tree-bench --model moe.model --rounds 250,100
#include <hymir/ranking/moe_model.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "bench/percentile.h"

namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::time_point t0) { return std::chrono::duration<double, std::micro>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Boosted-expert scoring cost: lockstep against row-at-a-time tree walks"};
  std::string model_path;
  std::vector<size_t> rounds;
  int reps = 2000;
  app.add_option("--model", model_path, "A model with a boosted expert (hymir train)")->required();
  app.add_option("--rounds", rounds, "Also time the first N trees (comma-separated)")->delimiter(',');
  app.add_option("--reps", reps, "Timed repetitions per variant (default 2000)")->check(CLI::Range(10, 1000000));
  CLI11_PARSE(app, argc, argv);
  auto model = hymir::ranking::MoeModel::Load(model_path);
  if (!model.ok()) {
    std::fprintf(stderr, "hymir-tree-bench: %s\n", model.status().ToString().c_str());
    return 1;
  }
  const hymir::ranking::BoostedTrees& all = model->trees();
  if (all.empty()) {
    std::fprintf(stderr, "hymir-tree-bench: %s has no boosted expert\n", model_path.c_str());
    return 2;
  }
  rounds.insert(rounds.begin(), all.rounds());
  constexpr size_t kRows = 100;
  std::mt19937_64 rng(42);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::vector<double> x(kRows * all.dim());
  for (double& v : x) v = nd(rng);
  std::printf("%zu columns, %zu rows, %d repetitions; microseconds per 100 rows\n", all.dim(), kRows, reps);
  for (size_t n : rounds) {
    hymir::ranking::BoostedTrees trees = all;
    trees.Truncate(n);
    std::vector<double> lockstep, single, out(kRows);
    double check = 0;
    for (int r = 0; r < reps; ++r) {  // interleaved, so drifts in load hit both
      std::fill(out.begin(), out.end(), 0.0);
      auto t0 = Clock::now();
      trees.Predict(x.data(), kRows, out.data());
      lockstep.push_back(Micros(t0));
      check += out[r % kRows];
      t0 = Clock::now();
      for (size_t i = 0; i < kRows; ++i) out[i] = trees.PredictRow(x.data() + i * trees.dim());
      single.push_back(Micros(t0));
      check -= out[r % kRows];
    }
    const auto a = hymir::bench::Percentiles(lockstep), b = hymir::bench::Percentiles(single);
    std::printf("%4zu trees: lockstep p50 %7.1f p99 %7.1f | one row at a time p50 %7.1f p99 %7.1f | ratio p50 %.2f%s\n",
                trees.rounds(), a.p50, a.p99, b.p50, b.p99, a.p50 / b.p50,
                std::abs(check) < 1e-6 * reps ? "" : "  (scores differ!)");
  }
  return 0;
}
