// FeatureExtractor: pair and query features from retrieved candidates.
#include "hymir/features.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "hymir/index/analyzer.h"
#include "hymir/knowledge.h"
#include "src/engine/features/dense.h"
#include "src/engine/features/domain.h"
#include "src/engine/features/family.h"
#include "src/engine/features/feedback.h"
#include "src/engine/features/kg.h"
#include "src/engine/features/kg_fusion.h"
#include "src/engine/features/lexical.h"
#include "src/engine/features/proximity.h"
#include "src/engine/features/query.h"
#include "src/engine/features/retrieval.h"
#include "src/engine/features/sentence.h"
#include "src/engine/features/vector_field.h"
#include "src/engine/parallel.h"
#include "src/engine/sentences.h"

namespace hymir {
namespace {

using internal::AnalysedDoc;

// Pair features that do not depend on the config, in schema order.
const std::vector<std::string>& BasePairFeatures() {
  static const std::vector<std::string> names = {
      "bm25_all",     "bm25_title",     "bm25_text",      "bm25_all_rel", "bm25_rrank",  "bm25_present",
      "dense_sim",    "dense_gap",      "dense_rrank",    "fused_score",  "fused_rrank", "coverage",
      "idf_coverage", "title_coverage", "window_density", "bigram_match", "log_doc_len", "log_title_len",
      "bm25_k12_b75", "bm25_k20_b30",   "prf_dense",      "prf_lex"};
  return names;
}
const std::vector<std::string>& SentencePairFeatures() {
  static const std::vector<std::string> names = {"sent_idf_coverage", "sent_dense"};
  return names;
}
const std::vector<std::string>& BaseQueryFeatures() {
  static const std::vector<std::string> names = {"q_len",     "q_idf_mean", "q_idf_max",  "q_idf_min",
                                                 "q_idf_std", "q_oov",      "q_top_bm25", "q_bm25_gap"};
  return names;
}
constexpr const char* kEmbPrefix = "q_emb_";
constexpr const char* kDomainSharePrefix = "q_domain_share:";
constexpr const char* kDomainBestPrefix = "q_domain_best:";
constexpr const char* kCopyPrefix = "x_";           // a query feature copied into the pair rows
constexpr const char* kFieldSimPrefix = "vf_sim:";  // FeatureConfig::vector_field_features
constexpr const char* kFieldRankPrefix = "vf_rrank:";
constexpr const char* kQueryFieldPrefix = "q_vf:";
constexpr const char* kQueryHasText = "q_has_text";
}  // namespace

struct FeatureExtractor::Impl {
  const Engine* engine = nullptr;
  const KnowledgeContext* kg = nullptr;
  FeatureConfig config;
  ranking::FeatureSchema schema;
  std::string vector_field;  // "" when no field has an embedder
  int emb_dims = 0;
  // FeatureConfig::vector_field_features: the fields, their first pair
  // column (sim, rrank per field) and first query column (has_text, then one
  // per field).
  std::vector<index::VectorFieldSpec> vf_fields;
  size_t vf_col = 0, vf_qcol = 0;
  std::vector<std::pair<size_t, size_t>> copy_cols;  // (pair column, query feature) copies
  // The enabled feature families, in the order Extract runs them, and the
  // schema columns of each one's features.
  std::vector<std::unique_ptr<internal::FeatureFamily>> families;
  std::vector<internal::FamilyColumns> columns;

  // Term dictionary of the cached documents: features compare term ids,
  // never strings. Grows with the vocabulary of the documents seen.
  mutable std::shared_mutex dict_mu;
  mutable std::unordered_map<std::string, uint32_t> dict;  // GUARDED_BY(dict_mu)

  void Intern(const std::vector<std::string>& terms, std::vector<uint32_t>* out) const {  // holds dict_mu
    for (const auto& t : terms) out->push_back(dict.emplace(t, static_cast<uint32_t>(dict.size())).first->second);
  }

  mutable std::mutex cache_mu;
  mutable std::list<std::string> lru;
  mutable std::unordered_map<std::string,
                             std::pair<std::shared_ptr<const AnalysedDoc>, std::list<std::string>::iterator>>
      cache;
  static constexpr size_t kCacheDocs = 50000;

  // The analysed document `id`: from the engine (cached), or from
  // `sources` when it supplies documents (not cached: they are not the
  // engine's).
  Result<std::shared_ptr<const AnalysedDoc>> Doc(const std::string& id, const ExtractSources* sources) const {
    const bool own = sources == nullptr || !sources->document;
    if (own) {
      std::lock_guard<std::mutex> g(cache_mu);
      auto it = cache.find(id);
      if (it != cache.end()) {
        lru.splice(lru.begin(), lru, it->second.second);
        return it->second.first;
      }
    }
    const index::Searcher& s = engine->searcher();
    auto a = std::make_shared<AnalysedDoc>();
    // The stored document, fetched only when something needs its raw text.
    std::optional<Document> stored;
    auto stored_doc = [&]() -> Result<const Document*> {
      if (!stored) {
        HYMIR_ASSIGN_OR_RETURN(Document doc, own ? s.GetDocument(id) : sources->document(id));
        stored = std::move(doc);
      }
      return &*stored;
    };
    std::optional<index::AnalysedDocument> fwd;
    if (own && config.use_forward_index) {
      auto f = s.GetAnalysed(id);
      if (f.ok())
        fwd = std::move(f).value();
      else if (!f.status().IsNotFound())
        return f.status();
    }
    std::string domain;
    const std::map<std::string, std::string>* fields = nullptr;
    std::vector<std::vector<std::string>> sentences;
    if (fwd) {
      a->title = std::move(fwd->title);
      a->text = std::move(fwd->text);
      domain = fwd->domain.value_or("");
      fields = &fwd->fields;
      if (config.sentence_features) {
        uint32_t begin = 0;
        for (uint32_t end : fwd->sentence_ends) {
          sentences.emplace_back(a->text.begin() + begin, a->text.begin() + end);
          begin = end;
        }
        if (!vector_field.empty()) {  // sentence vectors embed raw sentences
          HYMIR_ASSIGN_OR_RETURN(const Document* doc, stored_doc());
          for (std::string_view sentence : internal::SplitSentences(doc->text)) {
            auto e = s.EmbedText(vector_field, std::string(sentence));
            a->sentence_vectors.push_back(e.ok() ? std::move(e).value() : std::vector<float>{});
          }
        }
      }
    } else {
      HYMIR_ASSIGN_OR_RETURN(const Document* doc, stored_doc());
      a->title = index::Analyze(s.analyzer(), doc->title);
      a->text = index::Analyze(s.analyzer(), doc->text);
      domain = doc->domain.value_or("");
      fields = &doc->fields;
      if (config.sentence_features) {
        for (std::string_view sentence : internal::SplitSentences(doc->text)) {
          sentences.push_back(index::Analyze(s.analyzer(), std::string(sentence)));
          if (vector_field.empty()) continue;
          auto e = s.EmbedText(vector_field, std::string(sentence));
          a->sentence_vectors.push_back(e.ok() ? std::move(e).value() : std::vector<float>{});
        }
      }
    }
    a->domain = domain;
    {
      std::unique_lock<std::shared_mutex> g(dict_mu);
      a->ids.reserve(a->title.size() + a->text.size());
      Intern(a->title, &a->ids);
      Intern(a->text, &a->ids);
      for (const auto& sentence : sentences) Intern(sentence, &a->sentences.emplace_back());
    }
    if (!vector_field.empty()) {
      // The indexed vector; re-embedding is the fallback (and costs an analysis).
      auto e = own || !sources->vector ? s.GetVector(vector_field, id) : sources->vector(vector_field, id);
      if (!e.ok()) {
        HYMIR_ASSIGN_OR_RETURN(const Document* doc, stored_doc());
        e = s.EmbedText(vector_field, doc->title + "\n" + doc->text);
      }
      if (e.ok()) a->embedding = std::move(e).value();
    }
    if (kg) {
      // Entities linked at index time (`hymir index --kg`), else linked now.
      auto f = fields->find(kKgEntitiesField);
      if (f != fields->end()) {
        a->entities = SplitEntities(f->second);
      } else {
        HYMIR_ASSIGN_OR_RETURN(const Document* doc, stored_doc());
        a->entities = kg->LinkEntities(doc->title + "\n" + doc->text);
      }
    }
    if (!own) return std::shared_ptr<const AnalysedDoc>(a);
    std::lock_guard<std::mutex> g(cache_mu);
    auto it = cache.find(id);
    if (it != cache.end()) return it->second.first;
    lru.push_front(id);
    cache.emplace(id, std::make_pair(a, lru.begin()));
    if (cache.size() > kCacheDocs) {
      cache.erase(lru.back());
      lru.pop_back();
    }
    return std::shared_ptr<const AnalysedDoc>(a);
  }
};

FeatureExtractor::FeatureExtractor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureExtractor::~FeatureExtractor() = default;
const ranking::FeatureSchema& FeatureExtractor::schema() const { return impl_->schema; }
const FeatureConfig& FeatureExtractor::config() const { return impl_->config; }

Result<std::unique_ptr<FeatureExtractor>> FeatureExtractor::Create(const Engine& engine, FeatureConfig config,
                                                                   const KnowledgeContext* kg) {
  if (config.UsesKg() && kg == nullptr)
    return Status::InvalidArgument("features: the KG features need a knowledge graph (--kg DIR)");
  auto impl = std::make_unique<Impl>();
  impl->engine = &engine;
  impl->kg = config.UsesKg() ? kg : nullptr;
  for (const auto& f : engine.searcher().vector_fields()) {
    if (!f.embedder.empty()) {
      impl->vector_field = f.name;
      impl->emb_dims = std::min(std::max(config.query_embedding_dims, 0), static_cast<int>(f.dimension));
      break;
    }
  }
  if (impl->vector_field.empty() && config.query_embedding_dims > 0)
    config.query_embedding_dims = 0;
  else
    config.query_embedding_dims = impl->emb_dims;
  impl->schema.pair_features = BasePairFeatures();
  if (config.kg) {
    for (const auto& n : KnowledgeContext::PairFeatureNames()) impl->schema.pair_features.push_back(n);
  }
  if (config.kg_fusion) {
    for (const auto& n : internal::KgFusionFeatures::AllPairNames()) impl->schema.pair_features.push_back(n);
  }
  if (config.sentence_features) {
    for (const auto& n : SentencePairFeatures()) impl->schema.pair_features.push_back(n);
  }
  if (config.vector_field_features) {
    impl->vf_fields = engine.searcher().vector_fields();
    impl->vf_col = impl->schema.pair_features.size();
    for (const auto& f : impl->vf_fields) {
      impl->schema.pair_features.push_back(kFieldSimPrefix + f.name);
      impl->schema.pair_features.push_back(kFieldRankPrefix + f.name);
    }
  }
  impl->schema.query_features = BaseQueryFeatures();
  if (config.kg) {
    for (const auto& n : KnowledgeContext::QueryFeatureNames()) impl->schema.query_features.push_back(n);
  }
  if (config.kg_gate) {
    for (const auto& n : internal::KgFusionFeatures::AllQueryNames()) impl->schema.query_features.push_back(n);
  }
  for (int i = 0; i < impl->emb_dims; ++i) impl->schema.query_features.push_back(kEmbPrefix + std::to_string(i));
  for (const auto& d : config.domains) impl->schema.query_features.push_back(kDomainSharePrefix + d);
  for (const auto& d : config.domains) impl->schema.query_features.push_back(kDomainBestPrefix + d);
  if (config.vector_field_features) {
    impl->vf_qcol = impl->schema.query_features.size();
    impl->schema.query_features.push_back(kQueryHasText);
    for (const auto& f : impl->vf_fields) impl->schema.query_features.push_back(kQueryFieldPrefix + f.name);
  }
  if (config.pair_query_features) {
    for (size_t q = 0; q < impl->schema.query_features.size(); ++q) {
      const std::string& name = impl->schema.query_features[q];
      if (name.rfind(kEmbPrefix, 0) == 0) continue;
      impl->copy_cols.push_back({impl->schema.pair_features.size(), q});
      impl->schema.pair_features.push_back(kCopyPrefix + name);
    }
  }
  // The families; each feature of the schema (but the copies) belongs to
  // exactly one of them.
  auto& fam = impl->families;
  fam.push_back(std::make_unique<internal::LexicalFeatures>());
  fam.push_back(std::make_unique<internal::ProximityFeatures>());
  fam.push_back(std::make_unique<internal::RetrievalFeatures>());
  fam.push_back(std::make_unique<internal::DenseFeatures>(impl->emb_dims));
  fam.push_back(std::make_unique<internal::FeedbackFeatures>());
  fam.push_back(std::make_unique<internal::QueryFeatures>());
  if (!config.domains.empty()) fam.push_back(std::make_unique<internal::DomainFeatures>(config.domains));
  if (impl->kg && config.kg) fam.push_back(std::make_unique<internal::KgFeatures>(impl->kg));
  if (impl->kg && (config.kg_fusion || config.kg_gate))
    fam.push_back(std::make_unique<internal::KgFusionFeatures>(impl->kg, config.kg_fusion, config.kg_gate));
  if (config.sentence_features) fam.push_back(std::make_unique<internal::SentenceFeatures>());
  if (config.vector_field_features) fam.push_back(std::make_unique<internal::VectorFieldFeatures>(impl->vf_fields));
  std::unordered_map<std::string, size_t> pair_col, query_col;
  for (size_t c = 0; c < impl->schema.pair_features.size(); ++c) pair_col.emplace(impl->schema.pair_features[c], c);
  for (size_t c = 0; c < impl->schema.query_features.size(); ++c) query_col.emplace(impl->schema.query_features[c], c);
  std::vector<int> pair_owner(impl->schema.pair_features.size(), 0), query_owner(impl->schema.query_features.size(), 0);
  for (const auto& [col, q] : impl->copy_cols) pair_owner[col]++;
  for (const auto& f : fam) {
    internal::FamilyColumns& cols = impl->columns.emplace_back();
    for (const auto& name : f->PairNames()) {
      auto it = pair_col.find(name);
      if (it == pair_col.end())
        return Status::Internal(std::string("features: family ") + f->name() + "'s pair feature " + name +
                                " is not in the schema");
      cols.pair.push_back(it->second);
      pair_owner[it->second]++;
    }
    for (const auto& name : f->QueryNames()) {
      auto it = query_col.find(name);
      if (it == query_col.end())
        return Status::Internal(std::string("features: family ") + f->name() + "'s query feature " + name +
                                " is not in the schema");
      cols.query.push_back(it->second);
      query_owner[it->second]++;
    }
  }
  for (size_t c = 0; c < pair_owner.size(); ++c)
    if (pair_owner[c] != 1)
      return Status::Internal("features: pair feature " + impl->schema.pair_features[c] + " has " +
                              std::to_string(pair_owner[c]) + " families");
  for (size_t c = 0; c < query_owner.size(); ++c)
    if (query_owner[c] != 1)
      return Status::Internal("features: query feature " + impl->schema.query_features[c] + " has " +
                              std::to_string(query_owner[c]) + " families");
  impl->config = std::move(config);
  return std::unique_ptr<FeatureExtractor>(new FeatureExtractor(std::move(impl)));
}

Result<FeatureConfig> FeatureExtractor::ConfigFromSchema(const ranking::FeatureSchema& schema) {
  FeatureConfig c;
  c.query_embedding_dims = 0;
  std::set<std::string> pair_known(BasePairFeatures().begin(), BasePairFeatures().end());
  std::set<std::string> query_known(BaseQueryFeatures().begin(), BaseQueryFeatures().end());
  std::set<std::string> sentence(SentencePairFeatures().begin(), SentencePairFeatures().end());
  std::set<std::string> kg_pair(KnowledgeContext::PairFeatureNames().begin(),
                                KnowledgeContext::PairFeatureNames().end());
  std::set<std::string> kg_query(KnowledgeContext::QueryFeatureNames().begin(),
                                 KnowledgeContext::QueryFeatureNames().end());
  std::set<std::string> fusion_pair(internal::KgFusionFeatures::AllPairNames().begin(),
                                    internal::KgFusionFeatures::AllPairNames().end());
  std::set<std::string> fusion_query(internal::KgFusionFeatures::AllQueryNames().begin(),
                                     internal::KgFusionFeatures::AllQueryNames().end());
  for (const auto& n : schema.pair_features) {
    if (n.rfind(kCopyPrefix, 0) == 0)
      c.pair_query_features = true;
    else if (sentence.count(n))
      c.sentence_features = true;
    else if (kg_pair.count(n))
      c.kg = true;
    else if (fusion_pair.count(n))
      c.kg_fusion = true;
    else if (n.rfind(kFieldSimPrefix, 0) == 0 || n.rfind(kFieldRankPrefix, 0) == 0)
      c.vector_field_features = true;
    else if (!pair_known.count(n))
      return Status::InvalidArgument("model needs unknown pair feature \"" + n + "\"");
  }
  for (const auto& n : schema.query_features) {
    if (query_known.count(n)) continue;
    if (kg_query.count(n))
      c.kg = true;
    else if (fusion_query.count(n))
      c.kg_gate = true;
    else if (n.rfind(kEmbPrefix, 0) == 0)
      ++c.query_embedding_dims;
    else if (n.rfind(kDomainSharePrefix, 0) == 0)
      c.domains.push_back(n.substr(std::string(kDomainSharePrefix).size()));
    else if (n.rfind(kDomainBestPrefix, 0) == 0)
      continue;
    else if (n == kQueryHasText || n.rfind(kQueryFieldPrefix, 0) == 0)
      c.vector_field_features = true;
    else
      return Status::InvalidArgument("model needs unknown query feature \"" + n + "\"");
  }
  return c;
}

Result<std::vector<std::string>> FeatureExtractor::DomainsOf(const Engine& engine,
                                                             const std::vector<std::vector<SearchHit>>& hits) {
  std::set<std::string> domains;
  std::unordered_set<std::string> seen;
  for (const auto& list : hits) {
    for (const auto& h : list) {
      if (!seen.insert(h.id).second) continue;
      HYMIR_ASSIGN_OR_RETURN(Document d, engine.searcher().GetDocument(h.id));
      if (d.domain) domains.insert(*d.domain);
    }
  }
  return std::vector<std::string>(domains.begin(), domains.end());
}

Result<ranking::QueryGroup> FeatureExtractor::Extract(const HybridQuery& query, const std::vector<SearchHit>& hits,
                                                      const ExtractSources* sources) const {
  const Impl& m = *impl_;
  const index::Searcher& s = m.engine->searcher();
  auto own_stats = s.Statistics();
  internal::QueryContext ctx;
  ctx.query = &query;
  ctx.hits = &hits;
  ctx.sources = sources;
  ctx.searcher = &s;
  ctx.stats = sources && sources->statistics ? sources->statistics : own_stats.get();
  ctx.bm25 = query.bm25.bm25;
  ctx.vector_field = &m.vector_field;
  internal::AnalyseQuery(&ctx);

  const size_t n = hits.size();
  ctx.docs.resize(n);
  for (size_t i = 0; i < n; ++i) {
    HYMIR_ASSIGN_OR_RETURN(ctx.docs[i], m.Doc(hits[i].id, sources));
  }
  // Query terms as dictionary ids (every candidate's terms are in the
  // dictionary by now), in a per-thread id -> slot table.
  thread_local internal::SlotTable slot_of;
  struct ClearTable {
    ~ClearTable() { slot_of.Clear(); }
  } clear_table;
  {
    std::shared_lock<std::shared_mutex> lock(m.dict_mu);
    ctx.dict_size = m.dict.size();
    slot_of.Reserve(ctx.dict_size);
    for (size_t k = 0; k < ctx.slots(); ++k) {
      auto it = m.dict.find(ctx.unique[k]);
      if (it != m.dict.end()) slot_of.Set(it->second, static_cast<int>(k));
    }
  }
  ctx.slot_of = &slot_of;
  internal::FillQueryMatches(&ctx);

  ranking::QueryGroup g;
  g.query_id = query.id;
  g.doc_ids.reserve(n);
  for (const auto& h : hits) g.doc_ids.push_back(h.id);
  const size_t d = m.schema.pair_dim();
  g.pair_features.assign(n * d, 0.0);
  g.query_features.assign(m.schema.query_dim(), 0.0);
  const internal::FeatureOutput out{g.pair_features.data(), d, g.query_features.data()};
  for (size_t f = 0; f < m.families.size(); ++f) HYMIR_RETURN_IF_ERROR(m.families[f]->Compute(ctx, m.columns[f], out));
  HYMIR_RETURN_IF_ERROR(ctx.stats->status());  // a document frequency that failed to read came back 0
  for (const auto& [col, qf] : m.copy_cols)
    for (size_t i = 0; i < n; ++i) g.pair_features[i * d + col] = g.query_features[qf];
  return g;
}

Result<std::vector<ranking::QueryGroup>> FeatureExtractor::ExtractBatch(const std::vector<HybridQuery>& queries,
                                                                        const std::vector<std::vector<SearchHit>>& hits,
                                                                        int threads) const {
  if (queries.size() != hits.size())
    return Status::InvalidArgument("features: " + std::to_string(queries.size()) + " queries but " +
                                   std::to_string(hits.size()) + " hit lists");
  std::vector<ranking::QueryGroup> out(queries.size());
  HYMIR_RETURN_IF_ERROR(internal::ParallelFor(queries.size(), threads, [&](size_t i) -> Status {
    auto g = Extract(queries[i], hits[i]);
    if (!g.ok()) return g.status();
    out[i] = std::move(g).value();
    return Status::OK();
  }));
  return out;
}

Result<std::vector<std::vector<SearchHit>>> RetrieveCandidates(const Engine& engine,
                                                               const std::vector<HybridQuery>& queries, size_t depth) {
  std::vector<std::vector<SearchHit>> hits;
  hits.reserve(queries.size());
  constexpr size_t kChunk = 256;
  for (size_t start = 0; start < queries.size(); start += kChunk) {
    std::vector<HybridQuery> chunk(queries.begin() + start, queries.begin() + std::min(queries.size(), start + kChunk));
    for (auto& q : chunk) {
      q.offset = 0;
      q.k = depth;
    }
    HYMIR_ASSIGN_OR_RETURN(auto part, engine.SearchBatch(chunk));
    for (auto& h : part) hits.push_back(std::move(h));
  }
  return hits;
}

Result<std::vector<ranking::QueryGroup>> RetrieveAndExtract(const Engine& engine, const FeatureExtractor& features,
                                                            const std::vector<HybridQuery>& queries, size_t depth,
                                                            int threads,
                                                            std::vector<std::vector<SearchHit>>* hits_out) {
  HYMIR_ASSIGN_OR_RETURN(auto hits, RetrieveCandidates(engine, queries, depth));
  HYMIR_ASSIGN_OR_RETURN(auto groups, features.ExtractBatch(queries, hits, threads));
  if (hits_out) *hits_out = std::move(hits);
  return groups;
}

size_t LabelForTraining(std::vector<ranking::QueryGroup>& groups, const ranking::Qrels& qrels,
                        const std::vector<std::string>& query_domains, const std::vector<std::string>& corpus_domains) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < corpus_domains.size(); ++i) index[corpus_domains[i]] = static_cast<int>(i);
  size_t with_relevant = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (ranking::LabelGroup(groups[i], qrels) > 0) ++with_relevant;
    auto it = i < query_domains.size() ? index.find(query_domains[i]) : index.end();
    groups[i].domain = it == index.end() ? -1 : it->second;
  }
  return with_relevant;
}

}  // namespace hymir
