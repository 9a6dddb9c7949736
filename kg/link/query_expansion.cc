#include "hymir/kg/query_expansion.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>

namespace hymir::kg {
namespace {

std::string JoinKey(const std::vector<std::string>& tokens) {
  std::string key;
  for (const std::string& t : tokens) {
    key += t;
    key.push_back('\x1f');
  }
  return key;
}

bool ContainsRun(const std::vector<std::string>& haystack, const std::vector<std::string>& needle) {
  return !needle.empty() &&
         std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

bool ValidWeight(double w) { return std::isfinite(w) && w >= 0; }

}  // namespace

Result<std::vector<ExpansionTerm>> ExpandQuery(const TripleStore& store, const EntityLinker& linker,
                                               std::string_view query_text, const ExpansionOptions& options) {
  if (!ValidWeight(options.synonym_weight) || !ValidWeight(options.neighbor_weight)) {
    return Status::InvalidArgument("ExpandQuery: weights must be finite and >= 0, got synonym_weight " +
                                   std::to_string(options.synonym_weight) + ", neighbor_weight " +
                                   std::to_string(options.neighbor_weight));
  }
  std::vector<ExpansionTerm> terms;
  if (options.max_terms == 0 || options.max_aliases_per_entity == 0) return terms;

  const std::vector<std::string> query_tokens = linker.Tokenize(query_text);
  std::vector<EntityMention> mentions = linker.Link(std::span<const std::string>(query_tokens));
  std::erase_if(mentions, [&](const EntityMention& m) {
    return m.end - m.begin < options.min_mention_tokens ||
           (options.max_ambiguity != 0 && m.num_candidates > options.max_ambiguity);
  });
  // Aliases beyond the first few rarely survive the skips; the bound keeps a
  // many-named entity from costing a long scan.
  const size_t alias_fetch = options.max_aliases_per_entity * 4 + 8;

  std::unordered_set<std::string> taken;                  // token keys of the terms kept so far
  std::set<std::pair<std::string, std::string>> visited;  // (via_entity, relation)

  auto add_aliases = [&](const std::string& entity, const std::string& via, const std::string& relation,
                         double weight) -> Status {
    if (!visited.emplace(via, relation).second) return Status::OK();
    auto aliases = store.Aliases(via, alias_fetch);
    if (!aliases.ok()) return aliases.status().WithContext("ExpandQuery: aliases of " + via);
    size_t added = 0;
    for (std::string& alias : *aliases) {
      if (added >= options.max_aliases_per_entity) break;
      std::vector<std::string> tokens = linker.Tokenize(alias);
      if (tokens.empty()) continue;
      if (options.skip_query_aliases && ContainsRun(query_tokens, tokens)) continue;
      if (!taken.insert(JoinKey(tokens)).second) continue;
      terms.push_back(ExpansionTerm{std::move(alias), weight, entity, via, relation});
      ++added;
    }
    return Status::OK();
  };

  for (const EntityMention& m : mentions) {
    HYMIR_RETURN_IF_ERROR(add_aliases(m.entity, m.entity, "", options.synonym_weight));
  }
  if (options.max_neighbors_per_relation > 0) {
    for (const EntityMention& m : mentions) {
      for (const std::string& relation : options.relations) {
        auto neighbors = store.Neighbors(m.entity, relation, Direction::kOut, options.max_neighbors_per_relation);
        if (!neighbors.ok()) {
          return neighbors.status().WithContext("ExpandQuery: " + relation + " of " + m.entity);
        }
        for (const Neighbor& n : *neighbors) {
          HYMIR_RETURN_IF_ERROR(add_aliases(m.entity, n.entity, relation, options.neighbor_weight));
        }
      }
    }
  }
  std::stable_sort(terms.begin(), terms.end(),
                   [](const ExpansionTerm& a, const ExpansionTerm& b) { return a.weight > b.weight; });
  if (terms.size() > options.max_terms) terms.resize(options.max_terms);
  return terms;
}

}  // namespace hymir::kg
