// The nearest-rank percentile the benchmarks report (as the Java Lucene
// baseline in bench/java does): the value at rank ceil(q n) of n sorted values.
//
// Thread-safety: a pure function.
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

}  // namespace hymir::bench

#endif  // HYMIR_BENCH_PERCENTILE_H_
