// The domain family: which corpus domain's documents the query retrieves.
#ifndef HYMIR_SRC_ENGINE_FEATURES_DOMAIN_H_
#define HYMIR_SRC_ENGINE_FEATURES_DOMAIN_H_

#include "src/engine/features/family.h"

namespace hymir::internal {

// Query features per corpus domain D (FeatureConfig::domains, in order):
//   q_domain_share:D  the share of the top kDomainTop candidates from D
//   q_domain_best:D   D's best bm25_all in the list / the list's best (0 if
//                     the best is not > 0)
class DomainFeatures final : public FeatureFamily {
 public:
  static constexpr size_t kDomainTop = 20;
  explicit DomainFeatures(std::vector<std::string> domains) : domains_(std::move(domains)) {}
  const char* name() const override { return "domain"; }
  std::vector<std::string> PairNames() const override { return {}; }
  std::vector<std::string> QueryNames() const override;
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;

 private:
  std::vector<std::string> domains_;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_DOMAIN_H_
