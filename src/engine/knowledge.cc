// KnowledgeContext: linking, expansion and KG features for the pipeline.
#include "hymir/knowledge.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace hymir {

KnowledgeContext::~KnowledgeContext() = default;

std::string KnowledgeContext::LinkerTokenizerId(index::AnalyzerKind analyzer) {
  switch (analyzer) {
    case index::AnalyzerKind::kEnglishLegacy:
      return "analyzer:english";
    case index::AnalyzerKind::kEnglish:
      return "analyzer:english-porter";
    default:
      return std::string("analyzer:") + index::AnalyzerName(analyzer);
  }
}

Result<std::unique_ptr<KnowledgeContext>> KnowledgeContext::Open(const std::string& kg_dir,
                                                                 index::AnalyzerKind analyzer,
                                                                 const KnowledgeOptions& options) {
  std::unique_ptr<KnowledgeContext> k(new KnowledgeContext());
  k->dir_ = kg_dir;
  k->options_ = options;
  kg::TripleStoreOptions so;
  so.create_if_missing = false;
  so.read_only = true;  // many readers (search, serve) beside one writer (kg load)
  auto store = kg::TripleStore::Open(kg_dir, so);
  if (!store.ok()) return store.status().WithContext("knowledge graph");
  k->store_ = std::move(store).value();
  // The linker (seconds to build on WordNet) comes from its cache file beside
  // the store while the store is unchanged.
  const std::string tokenizer_id = LinkerTokenizerId(analyzer);
  auto linker = kg::EntityLinker::BuildCached(
      *k->store_, [analyzer](std::string_view text) { return index::Analyze(analyzer, text); }, tokenizer_id,
      kg::LinkerCachePath(kg_dir, tokenizer_id), options.linker);
  if (!linker.ok()) return linker.status().WithContext(kg_dir + ": entity linker");
  k->linker_ = std::move(linker).value();
  auto emb = kg::KgEmbeddings::Load(kg_dir);
  if (emb.ok()) {
    k->embeddings_ = std::move(emb).value();
  } else if (!emb.status().IsNotFound()) {
    return emb.status();
  }
  return k;
}

std::vector<std::string> KnowledgeContext::LinkEntities(std::string_view text) const {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& m : linker_->Link(text))
    if (seen.insert(m.entity).second) out.push_back(m.entity);
  return out;
}

void KnowledgeContext::LinkDocument(Document* doc) const {
  doc->fields[kKgEntitiesField] = JoinEntities(LinkEntities(doc->title + "\n" + doc->text));
}

std::string JoinEntities(const std::vector<std::string>& entities) {
  std::string ids;
  for (const auto& e : entities) ids += (ids.empty() ? "" : " ") + e;
  return ids;
}

std::vector<std::string> SplitEntities(std::string_view value) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b < value.size()) {
    size_t e = value.find(' ', b);
    if (e == std::string_view::npos) e = value.size();
    if (e > b) out.emplace_back(value.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

Result<std::vector<kg::ExpansionTerm>> KnowledgeContext::Expand(std::string_view query_text) const {
  return kg::ExpandQuery(*store_, *linker_, query_text, options_.expansion);
}

Result<std::vector<kg::ExpansionTerm>> KnowledgeContext::ExpandQuery(HybridQuery* query) const {
  // Only the free text is linked (for the query language: terms and phrases
  // outside excluded clauses); the searcher adds the expansions as optional
  // (SHOULD) clauses: beside a required clause they only add score.
  HYMIR_ASSIGN_OR_RETURN(std::string free_text, Engine::FreeTextOf(*query));
  HYMIR_ASSIGN_OR_RETURN(std::vector<kg::ExpansionTerm> terms, Expand(free_text));
  std::vector<kg::ExpansionTerm> used;
  for (auto& t : terms) {
    if (!(t.weight > 0)) continue;  // a zero weight adds nothing (and BM25 refuses it)
    query->bm25.expansions.push_back({t.text, t.weight});
    used.push_back(std::move(t));
  }
  return used;
}

const std::vector<std::string>& KnowledgeContext::PairFeatureNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (auto v : kg::KgFeatures::kNames) n.emplace_back(v);
    n.emplace_back("kg_emb_sim");  // mean over query entities of the best TransE cosine to a doc entity
    return n;
  }();
  return names;
}

const std::vector<std::string>& KnowledgeContext::QueryFeatureNames() {
  static const std::vector<std::string> names = {"kg_q_entities", "kg_q_ambiguity", "kg_q_linked_tokens"};
  return names;
}

Result<KnowledgeContext::FeatureBlock> KnowledgeContext::Features(
    std::string_view query_text, std::span<const std::vector<std::string>> doc_entities) const {
  FeatureBlock out;
  const auto mentions = linker_->Link(query_text);
  std::vector<std::string> qents;
  std::unordered_set<std::string> seen;
  double ambiguity = 0, linked_tokens = 0;
  for (const auto& m : mentions) {
    if (seen.insert(m.entity).second) qents.push_back(m.entity);
    ambiguity += std::log1p(static_cast<double>(m.num_candidates));
    linked_tokens += static_cast<double>(m.end - m.begin);
  }
  const double nq = static_cast<double>(std::max<size_t>(linker_->Tokenize(query_text).size(), 1));
  out.query = {static_cast<double>(qents.size()), mentions.empty() ? 0.0 : ambiguity / mentions.size(),
               linked_tokens / nq};
  HYMIR_ASSIGN_OR_RETURN(kg::QueryKgContext ctx, kg::QueryKgContext::Build(*store_, qents, options_.features));
  const size_t width = PairFeatureNames().size();
  out.pair.reserve(doc_entities.size() * width);
  for (const auto& de : doc_entities) {
    for (double v : ctx.ComputeFeatures(de).ToVector()) out.pair.push_back(v);
    double sim = 0;
    if (embeddings_ && !qents.empty() && !de.empty()) {
      for (const auto& q : qents) {
        double best = 0;
        for (const auto& d : de) best = std::max(best, embeddings_->Similarity(q, d));
        sim += best;
      }
      sim /= static_cast<double>(qents.size());
    }
    out.pair.push_back(sim);
  }
  return out;
}

}  // namespace hymir
