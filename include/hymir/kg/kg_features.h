// hymir::kg::QueryKgContext and KgFeatures: how a document's linked entities
// relate to a query's linked entities in the knowledge graph, as re-ranking
// features.
//
// The graph work is done once per query: QueryKgContext::Build() reads the
// 1- and 2-hop neighbourhood of every query entity (non-alias edges, both
// directions) into in-memory maps. ComputeFeatures() then costs one hash
// lookup per document entity and touches no store.
//
// Definitions (Q = distinct query entities, D = distinct document entities;
// a "path" never revisits a node; q and d range over Q and D):
//   query_entities     |Q|
//   matched            |Q ∩ D|
//   matched_fraction   matched / |Q| (0 when Q is empty)
//   one_hop_entities   #q having some d != q at distance 1 (an edge q -- d)
//   two_hop_entities   #q having some d != q at distance 1 or 2
//   one_hop_pairs      #(q, d), d != q, joined by at least one edge
//   two_hop_pairs      #(q, d), d != q, joined by at least one path q -- m -- d
//   two_hop_paths      #(q, m, d), d != q: 2-hop paths counted by their middle
//                      node m (parallel edges between the same nodes count once)
// When the neighbourhood bounds (QueryKgOptions) are hit the features count
// only the nodes read; QueryKgContext::truncated() tells.
//
// Thread-safety: a QueryKgContext is immutable after Build(); ComputeFeatures
// may be called concurrently on one context from any number of threads.
#ifndef HYMIR_KG_KG_FEATURES_H_
#define HYMIR_KG_KG_FEATURES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hymir/kg/triple_store.h"
#include "hymir/result.h"

namespace hymir::kg {

struct KgFeatures {
  double query_entities = 0;
  double matched = 0;
  double matched_fraction = 0;
  double one_hop_entities = 0;
  double two_hop_entities = 0;
  double one_hop_pairs = 0;
  double two_hop_pairs = 0;
  double two_hop_paths = 0;

  static constexpr size_t kCount = 8;
  // Names in ToVector() order, for feature files and model inspection.
  static constexpr std::array<std::string_view, kCount> kNames = {
      "kg_query_entities",   "kg_matched",       "kg_matched_fraction", "kg_one_hop_entities",
      "kg_two_hop_entities", "kg_one_hop_pairs", "kg_two_hop_pairs",    "kg_two_hop_paths"};

  std::vector<double> ToVector() const {
    return {query_entities,   matched,       matched_fraction, one_hop_entities,
            two_hop_entities, one_hop_pairs, two_hop_pairs,    two_hop_paths};
  }
  friend bool operator==(const KgFeatures&, const KgFeatures&) = default;
};

struct QueryKgOptions {
  // Edges read per node (1-hop node or middle node), bounding work on hubs.
  // Default: 500.
  size_t max_edges_per_node = 500;
  // Distinct nodes recorded per query entity over both hops (the entity
  // itself excluded); expansion stops there. Default: 5000.
  size_t max_nodes = 5000;
};

class QueryKgContext {
 public:
  // Reads the neighbourhoods of `query_entities` (duplicates and empty ids
  // ignored; unknown entities have none). Store errors are passed on. The
  // context keeps no reference to `store`.
  static Result<QueryKgContext> Build(const TripleStore& store, std::span<const std::string> query_entities,
                                      const QueryKgOptions& options = {});

  // Features of a document whose linked entities are `doc_entities`
  // (duplicates allowed; they count once).
  KgFeatures ComputeFeatures(std::span<const std::string> doc_entities) const;

  // Distinct query entities, in first-seen order.
  const std::vector<std::string>& entities() const { return entities_; }
  // True when some neighbourhood was cut by max_edges_per_node or max_nodes.
  bool truncated() const { return truncated_; }

 private:
  // How one node relates to each query entity that reaches it.
  struct Reach {
    uint32_t query = 0;     // index into entities_
    bool is_query = false;  // the node is that query entity itself
    bool one_hop = false;   // an edge joins them
    uint32_t middles = 0;   // distinct m with query -- m -- node
  };

  QueryKgContext() = default;

  std::vector<std::string> entities_;
  std::unordered_map<std::string, std::vector<Reach>> reach_;
  bool truncated_ = false;
};

}  // namespace hymir::kg

#endif  // HYMIR_KG_KG_FEATURES_H_
