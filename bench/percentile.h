// The nearest-rank percentile the benchmarks report (as the Java Lucene
// baseline in bench/java does): the value at rank ceil(q n) of n sorted values,
// and the summary of a set of latencies the benchmarks print.
//
// Thread-safety: pure functions.
#ifndef HYMIR_BENCH_PERCENTILE_H_
#define HYMIR_BENCH_PERCENTILE_H_

#include <algorithm>
#include <cmath>
#include <vector>

namespace hymir::bench {

// `sorted` ascending and non-empty; q in [0, 1].
inline double NearestRankPercentile(const std::vector<double>& sorted, double q) {
  const long rank = static_cast<long>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[static_cast<size_t>(std::clamp<long>(rank - 1, 0, static_cast<long>(sorted.size()) - 1))];
}

// p50, p99 (nearest rank), mean and count of `values` (any order); all 0
// when empty.
struct Latency {
  double p50 = 0, p99 = 0, mean = 0;
  size_t n = 0;
};

inline Latency Percentiles(std::vector<double> values) {
  Latency l;
  l.n = values.size();
  if (values.empty()) return l;
  std::sort(values.begin(), values.end());
  l.p50 = NearestRankPercentile(values, 0.50);
  l.p99 = NearestRankPercentile(values, 0.99);
  for (double x : values) l.mean += x / static_cast<double>(values.size());
  return l;
}

}  // namespace hymir::bench

#endif  // HYMIR_BENCH_PERCENTILE_H_
