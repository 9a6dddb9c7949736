// DomainFeatures: the corpus domains of the query's candidates.
#include "src/engine/features/domain.h"

#include <algorithm>
#include <map>

namespace hymir::internal {

std::vector<std::string> DomainFeatures::QueryNames() const {
  std::vector<std::string> names;
  for (const auto& d : domains_) names.push_back("q_domain_share:" + d);
  for (const auto& d : domains_) names.push_back("q_domain_best:" + d);
  return names;
}

Status DomainFeatures::Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const {
  const size_t n = ctx.size();
  std::map<std::string, double> share, best;
  const size_t top = std::min(n, kDomainTop);
  for (size_t i = 0; i < top; ++i) share[ctx.doc(i).domain] += 1.0 / static_cast<double>(top);
  for (size_t i = 0; i < n; ++i) {
    double& b = best[ctx.doc(i).domain];
    b = std::max(b, ctx.bm25_all[i]);
  }
  const size_t nd = domains_.size();
  for (size_t k = 0; k < nd; ++k) {
    auto s = share.find(domains_[k]);
    out.query[cols.query[k]] = s != share.end() ? s->second : 0.0;
    auto b = best.find(domains_[k]);
    out.query[cols.query[nd + k]] = ctx.best_bm25 > 0 && b != best.end() ? b->second / ctx.best_bm25 : 0.0;
  }
  return Status::OK();
}

}  // namespace hymir::internal
