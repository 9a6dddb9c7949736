// GenerateKgPseudoQueries: pre-training queries from the knowledge graph,
// an entity's name or synonym for a document that mentions the entity.
#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "hymir/knowledge.h"
#include "hymir/pretrain.h"

namespace hymir {

Result<std::vector<PseudoQuery>> GenerateKgPseudoQueries(const Engine& engine, const KnowledgeContext& kg,
                                                         size_t queries, uint64_t seed) {
  std::vector<PseudoQuery> out;
  if (queries == 0) return out;
  const index::Searcher& s = engine.searcher();
  HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> ids, s.DocumentIds());
  std::sort(ids.begin(), ids.end());
  // Every document's entities, and each entity's document frequency.
  std::vector<std::vector<std::string>> ents(ids.size());
  std::unordered_map<std::string, size_t> df;
  for (size_t i = 0; i < ids.size(); ++i) {
    HYMIR_ASSIGN_OR_RETURN(Document doc, s.GetDocument(ids[i]));
    auto f = doc.fields.find(kKgEntitiesField);
    ents[i] = f != doc.fields.end() ? SplitEntities(f->second) : kg.LinkEntities(doc.title + "\n" + doc.text);
    for (const auto& e : ents[i]) ++df[e];
  }
  const size_t max_df = std::max<size_t>(2, ids.size() / 200);
  std::mt19937_64 rng(seed * 1000003ULL + 97);
  std::vector<size_t> order(ids.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) {
    if (out.size() >= queries) break;
    // The document's rarest entity within max_df (ties at random).
    std::vector<const std::string*> best;
    size_t best_df = max_df + 1;
    for (const auto& e : ents[i]) {
      const size_t d = df[e];
      if (d > max_df || d > best_df) continue;
      if (d < best_df) best.clear();
      best_df = d;
      best.push_back(&e);
    }
    if (best.empty()) continue;
    const std::string& entity = *best[std::uniform_int_distribution<size_t>(0, best.size() - 1)(rng)];
    HYMIR_ASSIGN_OR_RETURN(std::vector<std::string> aliases, kg.store().Aliases(entity, 32));
    // Aliases the analyzer leaves words of (a stop-word-only alias links nothing).
    std::erase_if(aliases, [&](const std::string& a) { return kg.linker().Tokenize(a).empty(); });
    if (aliases.empty()) continue;
    std::sort(aliases.begin(), aliases.end());
    PseudoQuery q;
    q.text = aliases[std::uniform_int_distribution<size_t>(0, aliases.size() - 1)(rng)];
    q.doc_id = ids[i];
    q.kind = PseudoQueryKind::kKnowledge;
    q.id = "pq:kg:" + std::to_string(out.size());
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace hymir
