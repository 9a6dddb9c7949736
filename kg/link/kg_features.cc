#include "hymir/kg/kg_features.h"

#include <string_view>
#include <unordered_set>
#include <utility>

namespace hymir::kg {
namespace {

// Distinct neighbours of `node` other than itself, in store order. *cut is
// set when the edge cap was reached (more edges may exist).
Result<std::vector<std::string>> DistinctNeighbors(const TripleStore& store, const std::string& node, size_t max_edges,
                                                   bool* cut) {
  auto edges = store.Neighbors(node, std::nullopt, Direction::kBoth, max_edges);
  if (!edges.ok()) return edges.status().WithContext("QueryKgContext::Build: neighbours of " + node);
  if (max_edges != 0 && edges->size() >= max_edges) *cut = true;
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;
  out.reserve(edges->size());
  for (Neighbor& n : *edges) {
    if (n.entity == node || seen.contains(n.entity)) continue;
    out.push_back(std::move(n.entity));
    seen.insert(out.back());  // out is reserved: views stay valid
  }
  return out;
}

}  // namespace

Result<QueryKgContext> QueryKgContext::Build(const TripleStore& store, std::span<const std::string> query_entities,
                                             const QueryKgOptions& options) {
  QueryKgContext ctx;
  for (const std::string& e : query_entities) {
    if (e.empty()) continue;
    bool dup = false;
    for (const std::string& have : ctx.entities_) dup = dup || have == e;
    if (!dup) ctx.entities_.push_back(e);
  }
  for (uint32_t qi = 0; qi < ctx.entities_.size(); ++qi) {
    const std::string& q = ctx.entities_[qi];
    ctx.reach_[q].push_back(Reach{qi, /*is_query=*/true, false, 0});
    // The entry of node x for query qi, created on first use (entries for qi
    // are appended last, so it is the back of x's list when present).
    size_t nodes = 0;
    auto entry = [&](const std::string& x, bool* fresh) -> Reach* {
      std::vector<Reach>& list = ctx.reach_[x];
      *fresh = list.empty() || list.back().query != qi;
      if (*fresh) {
        if (nodes >= options.max_nodes) {
          ctx.truncated_ = true;
          if (list.empty()) ctx.reach_.erase(x);
          return nullptr;
        }
        ++nodes;
        list.push_back(Reach{qi, false, false, 0});
      }
      return &list.back();
    };
    bool cut = false;
    HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> first,
                           DistinctNeighbors(store, q, options.max_edges_per_node, &cut));
    for (const std::string& n : first) {
      bool fresh = false;
      if (Reach* r = entry(n, &fresh)) r->one_hop = true;
    }
    for (const std::string& m : first) {
      if (nodes >= options.max_nodes) {
        ctx.truncated_ = true;
        break;
      }
      HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> second,
                             DistinctNeighbors(store, m, options.max_edges_per_node, &cut));
      for (const std::string& x : second) {
        if (x == q) continue;
        bool fresh = false;
        if (Reach* r = entry(x, &fresh)) ++r->middles;
      }
    }
    ctx.truncated_ = ctx.truncated_ || cut;
  }
  return ctx;
}

KgFeatures QueryKgContext::ComputeFeatures(std::span<const std::string> doc_entities) const {
  KgFeatures f;
  const size_t nq = entities_.size();
  f.query_entities = static_cast<double>(nq);
  if (nq == 0) return f;
  std::vector<uint8_t> matched(nq, 0), one_hop(nq, 0), two_hop(nq, 0);
  std::unordered_set<std::string_view> seen;
  for (const std::string& d : doc_entities) {
    if (!seen.insert(d).second) continue;
    auto it = reach_.find(d);
    if (it == reach_.end()) continue;
    for (const Reach& r : it->second) {
      if (r.is_query) {
        matched[r.query] = 1;
        continue;
      }
      if (r.one_hop) {
        one_hop[r.query] = 1;
        f.one_hop_pairs += 1;
      }
      if (r.middles > 0) {
        f.two_hop_pairs += 1;
        f.two_hop_paths += r.middles;
      }
      if (r.one_hop || r.middles > 0) two_hop[r.query] = 1;
    }
  }
  for (size_t i = 0; i < nq; ++i) {
    f.matched += matched[i];
    f.one_hop_entities += one_hop[i];
    f.two_hop_entities += two_hop[i];
  }
  f.matched_fraction = f.matched / static_cast<double>(nq);
  return f;
}

}  // namespace hymir::kg
