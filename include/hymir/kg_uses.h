// hymir::KgUses: which ways a re-ranker uses a knowledge graph.
//
// With a knowledge graph (`--kg KG`), `hymir pretrain`, `hymir train` and the
// library's Pretrain / TrainReranker can use it in five ways:
//   expand          KG query expansion before retrieval (weighted BM25 terms);
//   features        document-side fusion features (FeatureConfig::kg_fusion):
//                   query entities the document shares, per source, graph
//                   nearness, definition-text match, TransE similarity;
//   gate            the query's knowledge as gate inputs (FeatureConfig::
//                   kg_gate): how many entities, from which source, how
//                   specific, so experts can specialise by knowledge domain;
//   pseudo-queries  pre-training only: entity names and synonyms as
//                   pseudo-queries for the documents that mention them;
//   legacy          the older count features (FeatureConfig::kg).
// The defaults are the uses that measured well on train splits
// (docs/knowledge_graph.md): KgUses{} is pre-training's, kDefaultTrainKgUses
// training's with judgements.
//
// Thread-safety: plain values; ParseKgUses and KgUsesName are reentrant.
#ifndef HYMIR_KG_USES_H_
#define HYMIR_KG_USES_H_

#include <string>
#include <string_view>

#include "hymir/features.h"
#include "hymir/result.h"

namespace hymir {

struct KgUses {
  // Query expansion before retrieval. Default: true.
  bool expand = true;
  // Document-side fusion features. Default: true.
  bool features = true;
  // The query's knowledge as gate inputs. Default: true.
  bool gate = true;
  // Pre-training pseudo-queries from entity names and synonyms. Default:
  // false (on the select split, the mean nDCG@10 of five collections was
  // 0.5284 without them, 0.5245 with them).
  bool pseudo_queries = false;
  // The older KG count features (entity overlap, hop and path counts).
  // Default: false (they lowered the re-ranker).
  bool legacy = false;
  friend bool operator==(const KgUses&, const KgUses&) = default;
};

// What TrainReranker uses by default (TrainRerankerOptions::kg_uses):
// expansion and the gate inputs.
inline constexpr KgUses kDefaultTrainKgUses{true, false, true, false, false};

// Parses a comma-separated list of uses ("expand,features,gate,
// pseudo-queries,legacy"; "none" for no use, "default" for KgUses{}, which a
// caller with other defaults treats as "keep mine").
// InvalidArgument naming an unknown use.
Result<KgUses> ParseKgUses(std::string_view list);

// Sets the KG members of `config` (kg, kg_fusion, kg_gate) from `uses`; all
// off when `has_kg` is false.
void ApplyKgUses(const KgUses& uses, bool has_kg, FeatureConfig* config);

// The comma-separated list of `uses` ("none" when empty), as ParseKgUses reads it.
std::string KgUsesName(const KgUses& uses);

}  // namespace hymir

#endif  // HYMIR_KG_USES_H_
