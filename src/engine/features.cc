// FeatureExtractor: pair and query features from retrieved candidates.
#include "hymir/features.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <list>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <queue>
#include <set>
#include <shared_mutex>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "hymir/index/analyzer.h"
#include "hymir/index/bm25.h"
#include "hymir/knowledge.h"
#include "src/engine/parallel.h"
#include "src/engine/sentences.h"

namespace hymir {
namespace {

// Pair features that do not depend on the config, in schema order.
const std::vector<std::string>& BasePairFeatures() {
  static const std::vector<std::string> names = {
      "bm25_all", "bm25_title", "bm25_text", "bm25_all_rel", "bm25_rrank", "bm25_present",
      "dense_sim", "dense_gap", "dense_rrank", "fused_score", "fused_rrank",
      "coverage", "idf_coverage", "title_coverage", "window_density", "bigram_match",
      "log_doc_len", "log_title_len", "bm25_k12_b75", "bm25_k20_b30", "prf_dense", "prf_lex"};
  return names;
}
const std::vector<std::string>& SentencePairFeatures() {
  static const std::vector<std::string> names = {"sent_idf_coverage", "sent_dense"};
  return names;
}
const std::vector<std::string>& BaseQueryFeatures() {
  static const std::vector<std::string> names = {"q_len", "q_idf_mean", "q_idf_max", "q_idf_min",
                                                 "q_idf_std", "q_oov", "q_top_bm25", "q_bm25_gap"};
  return names;
}
constexpr const char* kEmbPrefix = "q_emb_";
constexpr const char* kDomainSharePrefix = "q_domain_share:";
constexpr const char* kDomainBestPrefix = "q_domain_best:";
constexpr const char* kCopyPrefix = "x_";  // a query feature copied into the pair rows
constexpr const char* kFieldSimPrefix = "vf_sim:";      // FeatureConfig::vector_field_features
constexpr const char* kFieldRankPrefix = "vf_rrank:";
constexpr const char* kQueryFieldPrefix = "q_vf:";
constexpr const char* kQueryHasText = "q_has_text";
constexpr size_t kDomainTop = 20;
constexpr size_t kPrfDocs = 10;   // feedback documents
constexpr size_t kPrfTerms = 30;  // feedback terms

struct AnalysedDoc {
  std::vector<std::string> title, text;
  std::vector<uint32_t> ids;  // title then text terms as ids of the extractor's dictionary
  std::vector<std::vector<uint32_t>> sentences;      // analysed (ids), with FeatureConfig::sentence_features
  std::vector<std::vector<float>> sentence_vectors;  // embedded, the same (when the index has an embedder)
  std::string domain;
  std::vector<float> embedding;  // empty when the index has no embedder
  std::vector<std::string> entities;  // linked KG entities (only with a KG)
};

// Cosine of two vectors of float or double; 0 when empty, of different
// sizes, or one is zero.
template <typename A, typename B>
double Cosine(const A& a, const B& b) {
  if (a.empty() || a.size() != b.size()) return 0.0;
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

// Smallest token span containing every distinct query term that occurs in
// the document, from `occ` (the positions of query-term tokens with their
// query slot, in order; `matched` distinct slots among them); returns
// matched / span (1 for one matched term, 0 for none).
double WindowDensity(const std::vector<std::pair<uint32_t, int>>& occ, int matched, size_t slots) {
  if (matched <= 1) return matched;
  std::vector<int> count(slots, 0);
  int have = 0;
  size_t best = SIZE_MAX, left = 0;
  for (size_t right = 0; right < occ.size(); ++right) {
    if (count[occ[right].second]++ == 0) ++have;
    while (have == matched) {
      best = std::min<size_t>(best, occ[right].first - occ[left].first + 1);
      if (--count[occ[left].second] == 0) --have;
      ++left;
    }
  }
  return static_cast<double>(matched) / static_cast<double>(best);
}

constexpr uint32_t kNoTerm = UINT32_MAX;

// A per-thread table from term id to a small value (a query slot), all -1
// outside the ids set through it; Clear() resets only those.
class SlotTable {
 public:
  void Reserve(size_t n) {
    if (slot_.size() < n) slot_.resize(n, -1);
  }
  void Set(uint32_t id, int v) {
    if (slot_[id] < 0) touched_.push_back(id);
    slot_[id] = v;
  }
  int operator[](uint32_t id) const { return slot_[id]; }
  void Clear() {
    for (uint32_t id : touched_) slot_[id] = -1;
    touched_.clear();
  }

 private:
  std::vector<int> slot_;
  std::vector<uint32_t> touched_;
};

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
  size_t sentence_col = 0;  // first sentence-feature column (with config.sentence_features)

  // Term dictionary of the cached documents: features compare term ids,
  // never strings. Grows with the vocabulary of the documents seen.
  mutable std::shared_mutex dict_mu;
  mutable std::unordered_map<std::string, uint32_t> dict;  // GUARDED_BY(dict_mu)

  void Intern(const std::vector<std::string>& terms, std::vector<uint32_t>* out) const {  // holds dict_mu
    for (const auto& t : terms) out->push_back(dict.emplace(t, static_cast<uint32_t>(dict.size())).first->second);
  }

  mutable std::mutex cache_mu;
  mutable std::list<std::string> lru;
  mutable std::unordered_map<std::string, std::pair<std::shared_ptr<const AnalysedDoc>,
                                                    std::list<std::string>::iterator>> cache;
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
      if (f.ok()) fwd = std::move(f).value();
      else if (!f.status().IsNotFound()) return f.status();
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
  if (config.kg && kg == nullptr)
    return Status::InvalidArgument("features: the KG features need a knowledge graph (--kg DIR)");
  auto impl = std::make_unique<Impl>();
  impl->engine = &engine;
  impl->kg = config.kg ? kg : nullptr;
  for (const auto& f : engine.searcher().vector_fields()) {
    if (!f.embedder.empty()) {
      impl->vector_field = f.name;
      impl->emb_dims = std::min(std::max(config.query_embedding_dims, 0), static_cast<int>(f.dimension));
      break;
    }
  }
  if (impl->vector_field.empty() && config.query_embedding_dims > 0) config.query_embedding_dims = 0;
  else config.query_embedding_dims = impl->emb_dims;
  impl->schema.pair_features = BasePairFeatures();
  if (config.kg) {
    for (const auto& n : KnowledgeContext::PairFeatureNames()) impl->schema.pair_features.push_back(n);
  }
  if (config.sentence_features) {
    impl->sentence_col = impl->schema.pair_features.size();
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
  impl->config = std::move(config);
  return std::unique_ptr<FeatureExtractor>(new FeatureExtractor(std::move(impl)));
}

Result<FeatureConfig> FeatureExtractor::ConfigFromSchema(const ranking::FeatureSchema& schema) {
  FeatureConfig c;
  c.query_embedding_dims = 0;
  std::set<std::string> pair_known(BasePairFeatures().begin(), BasePairFeatures().end());
  std::set<std::string> query_known(BaseQueryFeatures().begin(), BaseQueryFeatures().end());
  std::set<std::string> sentence(SentencePairFeatures().begin(), SentencePairFeatures().end());
  std::set<std::string> kg_pair(KnowledgeContext::PairFeatureNames().begin(), KnowledgeContext::PairFeatureNames().end());
  std::set<std::string> kg_query(KnowledgeContext::QueryFeatureNames().begin(),
                                 KnowledgeContext::QueryFeatureNames().end());
  for (const auto& n : schema.pair_features) {
    if (n.rfind(kCopyPrefix, 0) == 0) c.pair_query_features = true;
    else if (sentence.count(n)) c.sentence_features = true;
    else if (kg_pair.count(n)) c.kg = true;
    else if (n.rfind(kFieldSimPrefix, 0) == 0 || n.rfind(kFieldRankPrefix, 0) == 0) c.vector_field_features = true;
    else if (!pair_known.count(n)) return Status::InvalidArgument("model needs unknown pair feature \"" + n + "\"");
  }
  for (const auto& n : schema.query_features) {
    if (query_known.count(n)) continue;
    if (kg_query.count(n)) c.kg = true;
    else if (n.rfind(kEmbPrefix, 0) == 0) ++c.query_embedding_dims;
    else if (n.rfind(kDomainSharePrefix, 0) == 0) c.domains.push_back(n.substr(std::string(kDomainSharePrefix).size()));
    else if (n.rfind(kDomainBestPrefix, 0) == 0) continue;
    else if (n == kQueryHasText || n.rfind(kQueryFieldPrefix, 0) == 0) c.vector_field_features = true;
    else return Status::InvalidArgument("model needs unknown query feature \"" + n + "\"");
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
  const index::CollectionStatistics* stats =
      sources && sources->statistics ? sources->statistics : own_stats.get();
  const index::Bm25Params bm25 = query.bm25.bm25;
  ranking::QueryGroup g;
  g.query_id = query.id;
  const std::vector<std::string> terms = index::Analyze(s.analyzer(), query.text);
  std::vector<std::string> unique = terms;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());

  // Per-field idf of each distinct term; slot k is unique[k].
  const char* fields[3] = {"all", "title", "text"};
  const size_t q = unique.size();
  std::vector<std::array<double, 3>> idf(q);
  std::vector<double> idf_all;
  size_t oov = 0;
  for (size_t k = 0; k < q; ++k) {
    for (int f = 0; f < 3; ++f)
      idf[k][f] = index::Bm25Idf(stats->DocCount(fields[f]), stats->DocFreq(fields[f], unique[k]));
    idf_all.push_back(idf[k][0]);
    if (stats->DocFreq("all", unique[k]) == 0) ++oov;
  }
  std::vector<int> term_slot(terms.size());  // the slot of each query term, in query order
  for (size_t j = 0; j < terms.size(); ++j)
    term_slot[j] = static_cast<int>(std::lower_bound(unique.begin(), unique.end(), terms[j]) - unique.begin());
  double avgdl[3];
  for (int f = 0; f < 3; ++f) avgdl[f] = stats->AverageFieldLength(fields[f]);
  std::vector<float> qvec;
  if (!m.vector_field.empty()) {
    if (!query.vector.empty() && (query.vector_field.empty() || query.vector_field == m.vector_field)) {
      qvec = query.vector;
    } else {
      auto e = s.EmbedText(m.vector_field, query.text);
      if (e.ok()) qvec = std::move(e).value();
    }
  }

  const size_t n = hits.size();
  const size_t d = m.schema.pair_dim();
  g.doc_ids.reserve(n);
  g.pair_features.assign(n * d, 0.0);
  std::vector<std::shared_ptr<const AnalysedDoc>> docs(n);
  std::vector<double> bm25_all(n), dense(n);
  for (size_t i = 0; i < n; ++i) {
    g.doc_ids.push_back(hits[i].id);
    HYMIR_ASSIGN_OR_RETURN(docs[i], m.Doc(hits[i].id, sources));
  }
  // Query terms as dictionary ids (every candidate's terms are in the
  // dictionary by now), and a per-thread id -> slot table.
  thread_local SlotTable slot_of;
  thread_local SlotTable weight_of;
  struct ClearTables {
    ~ClearTables() {
      slot_of.Clear();
      weight_of.Clear();
    }
  } clear_tables;
  {
    std::shared_lock<std::shared_mutex> lock(m.dict_mu);
    slot_of.Reserve(m.dict.size());
    weight_of.Reserve(m.dict.size());
    for (size_t k = 0; k < q; ++k) {
      auto it = m.dict.find(unique[k]);
      if (it != m.dict.end()) slot_of.Set(it->second, static_cast<int>(k));
    }
  }
  const double total_idf = std::accumulate(idf_all.begin(), idf_all.end(), 0.0);
  std::vector<std::array<uint32_t, 2>> tf(q);  // title, text
  std::vector<std::pair<uint32_t, int>> occ;   // (position, slot) of query-term tokens
  std::vector<uint8_t> doc_bigram(q * q);      // (slot, slot) adjacent in the document
  for (size_t i = 0; i < n; ++i) {
    const AnalysedDoc& a = *docs[i];
    double* row = g.pair_features.data() + i * d;
    std::fill(tf.begin(), tf.end(), std::array<uint32_t, 2>{0, 0});
    std::fill(doc_bigram.begin(), doc_bigram.end(), 0);
    occ.clear();
    const size_t title_len = a.title.size();
    int prev = -1;
    for (size_t p = 0; p < a.ids.size(); ++p) {  // title then text, as one token sequence
      const int k = slot_of[a.ids[p]];
      if (k >= 0) {
        tf[k][p < title_len ? 0 : 1]++;
        occ.push_back({static_cast<uint32_t>(p), k});
        if (prev >= 0) doc_bigram[static_cast<size_t>(prev) * q + k] = 1;
      }
      prev = k;
    }
    const double len[3] = {static_cast<double>(a.title.size() + a.text.size()), static_cast<double>(a.title.size()),
                           static_cast<double>(a.text.size())};
    double score[3] = {0, 0, 0};
    double variant[2] = {0, 0};
    static const index::Bm25Params kVariants[2] = {{1.2, 0.75}, {2.0, 0.3}};
    size_t matched = 0, title_matched = 0;
    double idf_matched = 0;
    for (size_t j = 0; j < terms.size(); ++j) {  // repeated query terms count repeatedly, as in retrieval
      const size_t k = static_cast<size_t>(term_slot[j]);
      if (tf[k][0] + tf[k][1] == 0) continue;
      const double f[3] = {static_cast<double>(tf[k][0] + tf[k][1]), static_cast<double>(tf[k][0]),
                           static_cast<double>(tf[k][1])};
      for (int x = 0; x < 3; ++x)
        if (f[x] > 0) score[x] += idf[k][x] * index::Bm25Tf(f[x], len[x], avgdl[x], bm25);
      for (int v = 0; v < 2; ++v) variant[v] += idf[k][0] * index::Bm25Tf(f[0], len[0], avgdl[0], kVariants[v]);
    }
    for (size_t k = 0; k < q; ++k) {
      if (tf[k][0] + tf[k][1] == 0) continue;
      ++matched;
      idf_matched += idf[k][0];
      if (tf[k][0] > 0) ++title_matched;
    }
    size_t bigrams = 0, bigram_hits = 0;
    if (terms.size() >= 2) {
      for (size_t j = 0; j + 1 < terms.size(); ++j) {
        ++bigrams;
        if (doc_bigram[static_cast<size_t>(term_slot[j]) * q + term_slot[j + 1]]) ++bigram_hits;
      }
    }
    bm25_all[i] = score[0];
    dense[i] = !a.embedding.empty() && !qvec.empty() ? Cosine(qvec, a.embedding)
               : hits[i].vector.present              ? hits[i].vector.score
                                                     : 0.0;
    const double u = static_cast<double>(std::max<size_t>(unique.size(), 1));
    row[0] = score[0];
    row[1] = score[1];
    row[2] = score[2];
    row[4] = hits[i].bm25.present ? 1.0 / hits[i].bm25.rank : 0.0;
    row[5] = hits[i].bm25.present ? 1.0 : 0.0;
    row[6] = dense[i];
    row[8] = hits[i].vector.present ? 1.0 / hits[i].vector.rank : 0.0;
    row[9] = hits[i].fused.present ? hits[i].fused.score : hits[i].score;
    row[10] = 1.0 / static_cast<double>(hits[i].fused.present ? hits[i].fused.rank : hits[i].rank);
    row[11] = matched / u;
    row[12] = total_idf > 0 ? idf_matched / total_idf : 0.0;
    row[13] = title_matched / u;
    row[14] = WindowDensity(occ, static_cast<int>(matched), q);
    row[15] = bigrams ? static_cast<double>(bigram_hits) / bigrams : 0.0;
    row[16] = std::log1p(len[0]);
    row[17] = std::log1p(len[1]);
    row[18] = variant[0];
    row[19] = variant[1];
  }
  // Pseudo-relevance feedback from the top candidates (retrieval order):
  // cosine to the centroid of their embeddings, and a match score against
  // the terms that characterise them (RM3-like, query terms excluded).
  {
    const size_t top = std::min<size_t>(n, kPrfDocs);
    std::vector<double> centroid;
    for (size_t i = 0; i < top; ++i) {
      const auto& e = docs[i]->embedding;
      if (e.empty()) continue;
      if (centroid.empty()) centroid.assign(e.size(), 0.0);
      if (e.size() != centroid.size()) continue;
      double norm = 0;
      for (float x : e) norm += static_cast<double>(x) * x;
      norm = norm > 0 ? std::sqrt(norm) : 1.0;
      for (size_t k = 0; k < e.size(); ++k) centroid[k] += e[k] / norm;
    }
    // Feedback weight of each non-query term, with its string (owned by
    // the document that holds it; `docs` keeps them alive).
    struct Fb {
      double w = 0;
      const std::string* term = nullptr;
    };
    std::unordered_map<uint32_t, Fb> fb;
    std::unordered_map<uint32_t, std::pair<int, const std::string*>> doc_tf;
    for (size_t i = 0; i < top; ++i) {
      const AnalysedDoc& a = *docs[i];
      const double len = static_cast<double>(a.title.size() + a.text.size());
      if (len == 0) continue;
      doc_tf.clear();
      for (size_t p = 0; p < a.ids.size(); ++p) {
        auto& e = doc_tf[a.ids[p]];
        if (e.first++ == 0) e.second = p < a.title.size() ? &a.title[p] : &a.text[p - a.title.size()];
      }
      for (const auto& [id, e] : doc_tf) {
        if (slot_of[id] >= 0) continue;
        Fb& f = fb[id];
        f.w += e.first / len;
        f.term = e.second;
      }
    }
    std::vector<std::tuple<double, const std::string*, uint32_t>> ranked_terms;
    ranked_terms.reserve(fb.size());
    const uint64_t ndocs = stats->DocCount("all");
    // Terms by feedback weight, highest first; a term's idf is at most that
    // of df = 2 (idf falls with df), so once w * idf(2) is below the
    // kPrfTerms-th best weight found, no later term can enter the top and
    // their document frequencies are never looked up. The top is exact.
    // Statistics from `sources` are asked for every term: hymir::dist
    // records the terms a dry run looks up (with made-up frequencies, under
    // which the pruning would stop elsewhere) and gathers only those.
    const bool prune = sources == nullptr || sources->statistics == nullptr;
    std::vector<std::pair<double, uint32_t>> by_w;
    by_w.reserve(fb.size());
    for (const auto& [id, f] : fb) by_w.push_back({f.w, id});
    std::sort(by_w.begin(), by_w.end(), std::greater<>());
    const double idf_cap = index::Bm25Idf(ndocs, 2);
    std::priority_queue<double, std::vector<double>, std::greater<>> best;  // the kPrfTerms largest weights
    for (const auto& [w, id] : by_w) {
      if (prune && best.size() == kPrfTerms && w * idf_cap < best.top()) break;
      const Fb& f = fb[id];
      const uint64_t df = stats->DocFreq("all", *f.term);
      if (df < 2) continue;  // terms of one document say nothing about the topic
      const double weight = f.w * index::Bm25Idf(ndocs, df);
      ranked_terms.push_back({weight, f.term, id});
      best.push(weight);
      if (best.size() > kPrfTerms) best.pop();
    }
    const size_t keep = std::min<size_t>(ranked_terms.size(), kPrfTerms);
    std::partial_sort(ranked_terms.begin(), ranked_terms.begin() + keep, ranked_terms.end(),
                      [](const auto& a, const auto& b) {
                        return std::get<0>(a) > std::get<0>(b) ||
                               (std::get<0>(a) == std::get<0>(b) && *std::get<1>(a) < *std::get<1>(b));
                      });
    std::vector<double> weights(keep);
    for (size_t k = 0; k < keep; ++k) {
      weights[k] = std::get<0>(ranked_terms[k]);
      weight_of.Set(std::get<2>(ranked_terms[k]), static_cast<int>(k));
    }
    std::vector<double> lex(n, 0.0);
    std::vector<int> wtf(keep);
    for (size_t i = 0; i < n; ++i) {
      const AnalysedDoc& a = *docs[i];
      std::fill(wtf.begin(), wtf.end(), 0);
      for (uint32_t id : a.ids) {
        const int k = weight_of[id];
        if (k >= 0) ++wtf[k];
      }
      const double len = static_cast<double>(a.title.size() + a.text.size());
      for (size_t k = 0; k < keep; ++k)
        if (wtf[k] > 0) lex[i] += weights[k] * index::Bm25Tf(wtf[k], len, avgdl[0], bm25);
    }
    const double best_lex = n ? *std::max_element(lex.begin(), lex.end()) : 0.0;
    for (size_t i = 0; i < n; ++i) {
      double* row = g.pair_features.data() + i * d;
      row[20] = Cosine(centroid, docs[i]->embedding);
      row[21] = best_lex > 0 ? lex[i] / best_lex : 0.0;
    }
  }
  const double best_bm25 = n ? *std::max_element(bm25_all.begin(), bm25_all.end()) : 0.0;
  const double best_dense = n ? *std::max_element(dense.begin(), dense.end()) : 0.0;
  for (size_t i = 0; i < n; ++i) {
    double* row = g.pair_features.data() + i * d;
    row[3] = best_bm25 > 0 ? bm25_all[i] / best_bm25 : 0.0;
    row[7] = dense[i] - best_dense;
  }

  // Query features.
  g.query_features.reserve(m.schema.query_dim());
  const double nt = static_cast<double>(idf_all.size());
  double mean = nt ? total_idf / nt : 0.0, var = 0;
  for (double v : idf_all) var += (v - mean) * (v - mean);
  std::vector<double> sorted_bm25 = bm25_all;
  std::sort(sorted_bm25.rbegin(), sorted_bm25.rend());
  const double tenth = sorted_bm25.size() >= 10 ? sorted_bm25[9] : (sorted_bm25.empty() ? 0.0 : sorted_bm25.back());
  g.query_features = {static_cast<double>(terms.size()),
                      mean,
                      nt ? *std::max_element(idf_all.begin(), idf_all.end()) : 0.0,
                      nt ? *std::min_element(idf_all.begin(), idf_all.end()) : 0.0,
                      nt ? std::sqrt(var / nt) : 0.0,
                      unique.empty() ? 0.0 : static_cast<double>(oov) / unique.size(),
                      best_bm25,
                      best_bm25 > 0 ? (best_bm25 - tenth) / best_bm25 : 0.0};
  if (m.kg) {
    std::vector<std::vector<std::string>> doc_entities(n);
    for (size_t i = 0; i < n; ++i) doc_entities[i] = docs[i]->entities;
    HYMIR_ASSIGN_OR_RETURN(auto kgf, m.kg->Features(query.text, doc_entities));
    for (double v : kgf.query) g.query_features.push_back(v);
    const size_t base = BasePairFeatures().size(), kd = KnowledgeContext::PairFeatureNames().size();
    for (size_t i = 0; i < n; ++i)
      for (size_t k = 0; k < kd; ++k) g.pair_features[i * d + base + k] = kgf.pair[i * kd + k];
  }
  for (int i = 0; i < m.emb_dims; ++i) g.query_features.push_back(i < static_cast<int>(qvec.size()) ? qvec[i] : 0.0);
  if (!m.config.domains.empty()) {
    std::map<std::string, double> share, best;
    const size_t top = std::min(n, kDomainTop);
    for (size_t i = 0; i < top; ++i) share[docs[i]->domain] += 1.0 / static_cast<double>(top);
    for (size_t i = 0; i < n; ++i) best[docs[i]->domain] = std::max(best[docs[i]->domain], bm25_all[i]);
    for (const auto& dm : m.config.domains) g.query_features.push_back(share.count(dm) ? share[dm] : 0.0);
    for (const auto& dm : m.config.domains)
      g.query_features.push_back(best_bm25 > 0 && best.count(dm) ? best[dm] / best_bm25 : 0.0);
  }
  if (m.config.sentence_features) {
    for (size_t i = 0; i < n; ++i) {
      const AnalysedDoc& a = *docs[i];
      double best_cover = 0.0, best_cos = 0.0;
      std::vector<uint8_t> present(q);
      for (const auto& sentence : a.sentences) {
        std::fill(present.begin(), present.end(), 0);
        for (uint32_t id : sentence) {
          const int k = slot_of[id];
          if (k >= 0) present[k] = 1;
        }
        double cover = 0.0;
        for (size_t k = 0; k < q; ++k)
          if (present[k]) cover += idf[k][0];
        best_cover = std::max(best_cover, total_idf > 0 ? cover / total_idf : 0.0);
      }
      for (const auto& v : a.sentence_vectors) best_cos = std::max(best_cos, Cosine(qvec, v));
      g.pair_features[i * d + m.sentence_col] = best_cover;
      g.pair_features[i * d + m.sentence_col + 1] = best_cos;
    }
  }
  if (m.config.vector_field_features) {
    g.query_features.push_back(terms.empty() ? 0.0 : 1.0);
    const std::string primary =
        !query.vector_field.empty() ? query.vector_field : (m.vf_fields.empty() ? "" : m.vf_fields.front().name);
    for (size_t fi = 0; fi < m.vf_fields.size(); ++fi) {
      const index::VectorFieldSpec& field = m.vf_fields[fi];
      // The query's vector for this field and the stage that ranked it.
      const std::vector<float>* qv = nullptr;
      int clause = -1;  // -1: HybridQuery::vector's stage
      if (field.name == primary) {
        if (!query.vector.empty()) qv = &query.vector;
        else if (field.name == m.vector_field && !qvec.empty()) qv = &qvec;
      }
      for (size_t c = 0; c < query.more_vectors.size() && qv == nullptr; ++c) {
        if (query.more_vectors[c].field == field.name) {
          qv = &query.more_vectors[c].vector;
          clause = static_cast<int>(c);
        }
      }
      g.query_features.push_back(qv != nullptr ? 1.0 : 0.0);
      const size_t col = m.vf_col + 2 * fi;
      for (size_t i = 0; i < n && qv != nullptr; ++i) {
        const StageResult* stage = nullptr;
        if (clause < 0 && field.name == primary) stage = &hits[i].vector;
        else if (clause >= 0 && static_cast<size_t>(clause) < hits[i].more_vectors.size())
          stage = &hits[i].more_vectors[clause];
        g.pair_features[i * d + col + 1] = stage && stage->present ? 1.0 / stage->rank : 0.0;
        auto v = sources && sources->vector ? sources->vector(field.name, hits[i].id) : s.GetVector(field.name, hits[i].id);
        if (!v.ok() || v->size() != qv->size()) continue;  // no stored vector: similarity 0
        double sim = 0;
        if (field.metric == index::VectorMetric::kCosine) {
          sim = Cosine(*qv, *v);
        } else if (field.metric == index::VectorMetric::kL2) {
          for (size_t k = 0; k < v->size(); ++k) sim -= ((*qv)[k] - (*v)[k]) * static_cast<double>((*qv)[k] - (*v)[k]);
        } else {
          for (size_t k = 0; k < v->size(); ++k) sim += static_cast<double>((*qv)[k]) * (*v)[k];
        }
        g.pair_features[i * d + col] = sim;
      }
    }
  }
  for (const auto& [col, q] : m.copy_cols)
    for (size_t i = 0; i < n; ++i) g.pair_features[i * d + col] = g.query_features[q];
  return g;
}

Result<std::vector<ranking::QueryGroup>> FeatureExtractor::ExtractBatch(
    const std::vector<HybridQuery>& queries, const std::vector<std::vector<SearchHit>>& hits, int threads) const {
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
    std::vector<HybridQuery> chunk(queries.begin() + start,
                                   queries.begin() + std::min(queries.size(), start + kChunk));
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
