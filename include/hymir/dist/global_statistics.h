// GlobalStatistics: the BM25 collection statistics of a sharded index (N,
// total field lengths, and the document frequency of a fixed set of terms,
// each summed over the shards), for title, text and all and, when built for
// them, a schema's text fields. Passed as TextQuery::statistics to every
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
#include "hymir/index/schema.h"

namespace hymir::dist {

class GlobalStatistics : public index::CollectionStatistics {
 public:
  // The fields BM25 scores in every index ("all", "title", "text"); the
  // text fields of a schema come after them (FieldsOf()).
  static const std::array<std::string_view, 3>& Fields();
  // Fields() followed by the text fields of `schema` (index/schema.h), in
  // the schema's (name) order: every field a query on an index with
  // `schema` may score.
  static std::vector<std::string> FieldsOf(const index::Schema& schema);

  // The statistics of `terms` (analysed tokens) summed over `shards`, for
  // Fields() or, given, for `fields`.
  static GlobalStatistics Sum(const std::vector<const index::CollectionStatistics*>& shards,
                              const std::vector<std::string>& terms);
  static GlobalStatistics Sum(const std::vector<const index::CollectionStatistics*>& shards,
                              const std::vector<std::string>& terms, const std::vector<std::string>& fields);
  // One shard's numbers in a flat vector (per field: DocCount and
  // SumTotalTermFreq, then per term and field DocFreq), so that ranks can
  // add them element-wise; FromVector() reads a (summed) vector back. The
  // same `terms` and `fields` on both sides (default: Fields()).
  static std::vector<uint64_t> ToVector(const index::CollectionStatistics& shard,
                                        const std::vector<std::string>& terms);
  static std::vector<uint64_t> ToVector(const index::CollectionStatistics& shard, const std::vector<std::string>& terms,
                                        const std::vector<std::string>& fields);
  static GlobalStatistics FromVector(const std::vector<std::string>& terms, const std::vector<uint64_t>& values);
  static GlobalStatistics FromVector(const std::vector<std::string>& terms, const std::vector<uint64_t>& values,
                                     const std::vector<std::string>& fields);

  GlobalStatistics();
  GlobalStatistics(const GlobalStatistics& o);
  GlobalStatistics& operator=(const GlobalStatistics& o);

  uint64_t DocCount(std::string_view field) const override;
  uint64_t SumTotalTermFreq(std::string_view field) const override;
  uint64_t DocFreq(std::string_view field, std::string_view term) const override;

  size_t num_terms() const { return df_.size(); }
  // The fields this object holds numbers for.
  const std::vector<std::string>& fields() const { return fields_; }
  // DocFreq calls for a term or field this object was not built for.
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  int FieldIndex(std::string_view field) const;
  std::vector<std::string> fields_;
  std::vector<uint64_t> doc_count_;                               // per field
  std::vector<uint64_t> sum_ttf_;                                 // per field
  std::map<std::string, std::vector<uint64_t>, std::less<>> df_;  // per term: per field
  mutable std::atomic<uint64_t> misses_{0};
};

}  // namespace hymir::dist

#endif  // HYMIR_DIST_GLOBAL_STATISTICS_H_
