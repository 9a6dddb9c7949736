// GlobalStatistics: the BM25 collection statistics of a sharded index (N,
// total field lengths, and the document frequency of a fixed set of terms,
// each summed over the shards). Passed as TextQuery::statistics to every
// shard's searcher, it makes each shard score exactly as one index holding
// all documents would: BM25 reads the collection only through these numbers.
//
// Built with Sum() from shards in one process, or by ShardedSearcher over
// MPI. It knows only the terms it was built for; DocFreq of any other term is
// 0 and counted in misses(), which callers that built it for a query's own
// terms can check stays 0.
//
// Thread-safety: immutable after construction; const methods may run
// concurrently (misses() is an atomic counter).
#ifndef HYMIR_DIST_GLOBAL_STATISTICS_H_
#define HYMIR_DIST_GLOBAL_STATISTICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/index/collection_statistics.h"

namespace hymir::dist {

class GlobalStatistics : public index::CollectionStatistics {
 public:
  // The fields BM25 scores ("all", "title", "text"), in the order of the
  // arrays below.
  static const std::array<std::string_view, 3>& Fields();

  // The statistics of `terms` (analysed tokens) summed over `shards`.
  static GlobalStatistics Sum(const std::vector<const index::CollectionStatistics*>& shards,
                              const std::vector<std::string>& terms);

  // One shard's numbers in a flat vector (per field: DocCount and
  // SumTotalTermFreq, then per term and field DocFreq), so that ranks can
  // add them element-wise; FromVector() reads a (summed) vector back.
  static std::vector<uint64_t> ToVector(const index::CollectionStatistics& shard,
                                        const std::vector<std::string>& terms);
  static GlobalStatistics FromVector(const std::vector<std::string>& terms, const std::vector<uint64_t>& values);

  GlobalStatistics() = default;
  GlobalStatistics(const GlobalStatistics& o);
  GlobalStatistics& operator=(const GlobalStatistics& o);

  uint64_t DocCount(std::string_view field) const override;
  uint64_t SumTotalTermFreq(std::string_view field) const override;
  uint64_t DocFreq(std::string_view field, std::string_view term) const override;

  size_t num_terms() const { return df_.size(); }
  // DocFreq calls for a term or field this object was not built for.
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static int FieldIndex(std::string_view field);
  std::array<uint64_t, 3> doc_count_{};
  std::array<uint64_t, 3> sum_ttf_{};
  std::map<std::string, std::array<uint64_t, 3>, std::less<>> df_;
  mutable std::atomic<uint64_t> misses_{0};
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_GLOBAL_STATISTICS_H_
