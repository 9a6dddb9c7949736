// CollectionStatistics: the numbers BM25 needs from a collection (N, total
// field length, df). The scorer reads them only through this interface, so a
// sharded deployment can pass global statistics (sums over all shards) and get
// shard scores equal to single-index scores.
//
// Fields are "title", "text" and "all" (title and text as one field).
//
// Thread-safety: implementations must allow concurrent const calls.
#ifndef HYMIR_INDEX_COLLECTION_STATISTICS_H_
#define HYMIR_INDEX_COLLECTION_STATISTICS_H_

#include <cstdint>
#include <string_view>

#include "hymir/status.h"

namespace hymir::index {

class CollectionStatistics {
 public:
  virtual ~CollectionStatistics() = default;

  // Live documents whose `field` holds at least one term (Lucene's docCount).
  virtual uint64_t DocCount(std::string_view field) const = 0;
  // Sum of exact token counts of `field` over those documents.
  virtual uint64_t SumTotalTermFreq(std::string_view field) const = 0;
  // Live documents containing the analysed term `term` in `field`.
  virtual uint64_t DocFreq(std::string_view field, std::string_view term) const = 0;

  // The first error a call above met reading the index (Corruption naming a
  // damaged file), after which the values returned are not to be trusted
  // (a failed DocFreq returns 0). Callers check it once they are done.
  // Default: OK (implementations that cannot fail).
  virtual Status status() const { return Status::OK(); }
  double AverageFieldLength(std::string_view field) const {
    const uint64_t n = DocCount(field);
    return n == 0 ? 0.0 : static_cast<double>(SumTotalTermFreq(field)) / static_cast<double>(n);
  }
};

}  // namespace hymir::index

#endif  // HYMIR_INDEX_COLLECTION_STATISTICS_H_
