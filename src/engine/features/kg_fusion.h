// The knowledge-fusion family: how each candidate relates to the query's
// linked entities (pair features, FeatureConfig::kg_fusion) and what the
// query's knowledge is (query features for the gate, FeatureConfig::kg_gate).
//
// Q = the query's distinct linked entities, D = the candidate's (linked at
// index time, or when the document was analysed). The source of an entity is
// kg::SourceOf bucketed into kSources ("other" for the rest). Every feature
// is bounded in [0, 1] and 0 when the query links nothing or the candidate
// has no entities, so a query or corpus the KG does not cover reads as
// "no knowledge", never as evidence against a document.
//
// Pair features:
//   kgf_shared           |Q ∩ D| / |Q|
//   kgf_shared_rel       kgf_shared / its maximum over the candidates
//   kgf_shared:<source>  |Q_s ∩ D| / |Q_s| over the query entities of that
//                        source (0 when the query has none): the model
//                        learns which source to trust
//   kgf_near             graph nearness: (|Q ∩ D| + the q with a d != q one
//                        edge away + the q with a d != q at most two edges
//                        away) / (3 |Q|) (kg::KgFeatures' counts)
//   kgf_def              mean over the q in Q that have a definition
//                        (hymir:definition) of the share of its definition's
//                        distinct analysed terms (at most kMaxDefinitionTerms,
//                        the query's own terms left out) in the candidate
//   kgf_def_rel          kgf_def / its maximum over the candidates
//   kgf_emb              mean over q of the best TransE cosine to a d in D,
//                        clipped at 0 (0 without embeddings)
// Query features (gate inputs):
//   kgf_q_entities       ln(1 + |Q|) / ln(1 + 8), clipped at 1
//   kgf_q_linked         linked query tokens / query tokens
//   kgf_q_source:<s>     share of Q from source s
//   kgf_q_specific       mean over mentions of 1 / (entities of the alias)
//   kgf_q_multiword      share of mentions of two or more tokens
//   kgf_q_defined        share of Q with a definition
#ifndef HYMIR_SRC_ENGINE_FEATURES_KG_FUSION_H_
#define HYMIR_SRC_ENGINE_FEATURES_KG_FUSION_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/knowledge.h"
#include "src/engine/features/family.h"

namespace hymir::internal {

class KgFusionFeatures final : public FeatureFamily {
 public:
  // Source buckets, in feature order; "other" takes every other source.
  static constexpr std::array<std::string_view, 5> kSources = {"wn", "GO", "foldoc", "mined", "other"};
  static constexpr size_t kMaxDefinitionTerms = 40;

  // `kg` must outlive the family; `pair` / `query` choose the features.
  KgFusionFeatures(const KnowledgeContext* kg, bool pair, bool query) : kg_(kg), pair_(pair), query_(query) {}
  const char* name() const override { return "kg_fusion"; }
  static const std::vector<std::string>& AllPairNames();
  static const std::vector<std::string>& AllQueryNames();
  std::vector<std::string> PairNames() const override;
  std::vector<std::string> QueryNames() const override;
  Status Compute(const QueryContext& ctx, const FamilyColumns& cols, const FeatureOutput& out) const override;

  // The source bucket of `entity` (an index into kSources).
  static size_t SourceBucket(std::string_view entity);

 private:
  const KnowledgeContext* kg_;
  bool pair_, query_;
};

}  // namespace hymir::internal

#endif  // HYMIR_SRC_ENGINE_FEATURES_KG_FUSION_H_
