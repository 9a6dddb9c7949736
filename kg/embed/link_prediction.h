// Tail ranking for link prediction (private). Included as
// "kg/embed/link_prediction.h".
#ifndef HYMIR_KG_EMBED_LINK_PREDICTION_H_
#define HYMIR_KG_EMBED_LINK_PREDICTION_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "hymir/kg/kg_embeddings.h"

namespace hymir::kg::internal {

struct IdTriple {
  uint32_t h = 0, r = 0, t = 0;
};

inline uint64_t HeadRelationKey(uint32_t h, uint32_t r) { return (uint64_t{h} << 32) | r; }

// (h, r) -> every known tail t of (h, r, t), for the filtered setting.
using KnownTails = std::unordered_map<uint64_t, std::vector<uint32_t>>;

struct RankFigures {
  double mrr = 0, hits_at_10 = 0;                    // raw
  double filtered_mrr = 0, filtered_hits_at_10 = 0;  // known other tails removed
};

// Ranks the true tail of each test triple among all n entities by
// ||h + r - e|| (ties count against the true tail). `entities` is n*dim,
// `relations` m*dim, row-major. L2 scores come from batched sgemm
// (||q||^2 - 2 q.e + ||e||^2); L1 is a direct scan split over `threads`.
RankFigures RankTails(std::span<const float> entities, std::span<const float> relations, int dim, TransENorm norm,
                      std::span<const IdTriple> test, const KnownTails& known, int threads);

}  // namespace hymir::kg::internal

#endif  // HYMIR_KG_EMBED_LINK_PREDICTION_H_
