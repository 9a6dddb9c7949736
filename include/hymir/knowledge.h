// KnowledgeContext: the knowledge graph as the retrieval pipeline uses it.
// It composes the kg module (triple store, entity linker, query expansion,
// KG features, TransE embeddings) with the index's analyzer, so that aliases,
// queries and documents are linked on the same analysed tokens (an English
// index links "dogs" to the alias "dog").
//
// Opening a KG directory builds the linker from every alias in the store
// (about 1-3 s for WordNet); TransE embeddings are loaded when the KG has them
// (`hymir kg embed`) and the embedding feature is 0 otherwise.
//
// Thread-safety: immutable after Open(); every const method may run
// concurrently.
#ifndef HYMIR_KNOWLEDGE_H_
#define HYMIR_KNOWLEDGE_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hymir/document.h"
#include "hymir/engine.h"
#include "hymir/index/analyzer.h"
#include "hymir/kg/entity_linker.h"
#include "hymir/kg/kg_embeddings.h"
#include "hymir/kg/kg_features.h"
#include "hymir/kg/query_expansion.h"
#include "hymir/kg/triple_store.h"
#include "hymir/result.h"

namespace hymir {

// Document field holding the entities linked at index time. Its value is
// owned here: written by KnowledgeContext::LinkDocument (JoinEntities), read
// by the KG features (SplitEntities).
inline constexpr const char* kKgEntitiesField = "kg_entities";

// The kKgEntitiesField value of `entities`: the ids joined by single spaces
// (entity ids hold no whitespace).
std::string JoinEntities(const std::vector<std::string>& entities);
// The entity ids of a kKgEntitiesField value (empty parts skipped).
std::vector<std::string> SplitEntities(std::string_view value);

struct KnowledgeOptions {
  kg::LinkerOptions linker;
  kg::ExpansionOptions expansion;
  kg::QueryKgOptions features;
};

class KnowledgeContext {
 public:
  // Opens an existing KG (never creates one). NotFound when `kg_dir` holds
  // no KG, Corruption when it is damaged (both name the directory).
  static Result<std::unique_ptr<KnowledgeContext>> Open(const std::string& kg_dir, index::AnalyzerKind analyzer,
                                                        const KnowledgeOptions& options = {});
  ~KnowledgeContext();
  // The tokenizer id under which Open caches the entity linker for
  // `analyzer` (kg::EntityLinker::BuildCached); `hymir kg link` uses the same
  // id, so both share one cache file. english-lucenepp30 keeps the id caches
  // built for "english" before it was corrected carry ("analyzer:english");
  // english has its own, so such a cache is never taken for it.
  static std::string LinkerTokenizerId(index::AnalyzerKind analyzer);

  const kg::TripleStore& store() const { return *store_; }
  const kg::EntityLinker& linker() const { return *linker_; }
  bool has_embeddings() const { return embeddings_.has_value(); }
  // The KG's TransE embeddings; nullptr when it has none.
  const kg::KgEmbeddings* embeddings() const { return embeddings_ ? &*embeddings_ : nullptr; }
  const std::string& dir() const { return dir_; }

  // Linked entities of `text`, in text order (duplicates removed).
  std::vector<std::string> LinkEntities(std::string_view text) const;
  // Links `doc`'s title and text and stores the entities in its
  // kKgEntitiesField (what `hymir index --kg` does to every document).
  void LinkDocument(Document* doc) const;
  // Expansion terms for a query (weights from KnowledgeOptions::expansion).
  Result<std::vector<kg::ExpansionTerm>> Expand(std::string_view query_text) const;

  // Expands `query` in place: its KG expansion terms become weighted BM25
  // expansions (query->bm25.expansions); returns the terms added.
  Result<std::vector<kg::ExpansionTerm>> ExpandQuery(HybridQuery* query) const;

  // Feature names, in the order Features() fills them.
  static const std::vector<std::string>& PairFeatureNames();
  static const std::vector<std::string>& QueryFeatureNames();

  struct FeatureBlock {
    std::vector<double> query;  // QueryFeatureNames().size() values
    std::vector<double> pair;   // doc_entities.size() x PairFeatureNames().size(), row-major
  };
  // KG features of a query against documents whose linked entities are given.
  Result<FeatureBlock> Features(std::string_view query_text,
                                std::span<const std::vector<std::string>> doc_entities) const;

 private:
  KnowledgeContext() = default;
  std::string dir_;
  KnowledgeOptions options_;
  std::unique_ptr<kg::TripleStore> store_;
  std::unique_ptr<kg::EntityLinker> linker_;
  std::optional<kg::KgEmbeddings> embeddings_;
};

}  // namespace hymir

#endif  // HYMIR_KNOWLEDGE_H_
