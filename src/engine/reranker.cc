// Reranker: retrieval, features, MoE scoring and reordering.
#include "hymir/reranker.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "hymir/index/analyzer.h"
#include "src/engine/parallel.h"

namespace hymir {

Reranker::Reranker(const Engine& engine, ranking::MoeModel model, std::unique_ptr<FeatureExtractor> features)
    : engine_(engine), model_(std::move(model)), features_(std::move(features)) {}
Reranker::~Reranker() = default;

Result<std::unique_ptr<Reranker>> Reranker::Open(const Engine& engine, const std::string& model_path,
                                                 const KnowledgeContext* kg) {
  auto model = ranking::MoeModel::Load(model_path);
  if (!model.ok()) return model.status();
  return Create(engine, std::move(model).value(), kg);
}

Result<std::unique_ptr<Reranker>> Reranker::Create(const Engine& engine, ranking::MoeModel model,
                                                   const KnowledgeContext* kg) {
  auto config = FeatureExtractor::ConfigFromSchema(model.schema());
  if (!config.ok()) return config.status().WithContext("re-ranker model");
  if (config->UsesKg() && kg == nullptr)
    return Status::InvalidArgument("the re-ranker model uses KG features: give the knowledge graph (--kg DIR)");
  auto features = FeatureExtractor::Create(engine, *config, kg);
  if (!features.ok()) return features.status();
  if (!((*features)->schema() == model.schema()))
    return Status::InvalidArgument(
        "the re-ranker model's features do not match this index (was it trained on an index with another "
        "vector field dimension?)");
  return std::unique_ptr<Reranker>(new Reranker(engine, std::move(model), std::move(features).value()));
}

namespace {
HybridQuery Widen(const HybridQuery& q, size_t depth) {
  HybridQuery w = q;
  w.offset = 0;
  w.k = std::max(depth, q.offset + q.k);
  return w;
}
}  // namespace

Result<RerankedResult> Reranker::Rerank(const HybridQuery& query, std::vector<SearchHit> hits,
                                        const RerankOptions& options, const ExtractSources* sources) const {
  RerankedResult r;
  const size_t depth = std::min(options.depth, hits.size());
  std::vector<SearchHit> head(hits.begin(), hits.begin() + depth);
  HYMIR_ASSIGN_OR_RETURN(ranking::QueryGroup group, features_->Extract(query, head, sources));
  HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel::Forward f, model_.RunForward(group));
  model_.ApplyRetrievalPrior(group, f.scores);
  if (model_.has_trust()) {  // per-query blend with the pre-trained model (hymir/ranking/query_trust.h)
    r.trust = TrustOf(query);
    HYMIR_RETURN_IF_ERROR(model_.BlendTrusted(group, r.trust, f.scores));
  }
  std::vector<size_t> order(depth);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return f.scores[a] > f.scores[b]; });
  std::vector<SearchHit> ranked;
  ranked.reserve(hits.size());
  for (size_t i = 0; i < depth; ++i) {
    SearchHit h = head[order[i]];
    h.score = f.scores[order[i]];
    // Scores strictly decrease with the rank. Tied model scores (a few
    // trees' leaves, a network that is still all zeros) keep the retrieval
    // order, and the later one moves one representable step below the
    // earlier, so that whoever re-sorts by score (trec_eval breaks ties by
    // document id) sees this order.
    if (i > 0 && !(h.score < ranked.back().score)) h.score = std::nextafter(ranked.back().score, -HUGE_VAL);
    h.rank = static_cast<uint32_t>(i + 1);
    h.rerank = {true, h.score, h.rank};
    ranked.push_back(std::move(h));
  }
  // Below the depth: retrieval order, scores placed under the re-ranked ones
  // (the retrieval score stays in `fused`).
  const double floor = depth ? ranked.back().score - 1.0 : 0.0;
  for (size_t i = depth; i < hits.size(); ++i) {
    SearchHit h = std::move(hits[i]);
    h.rank = static_cast<uint32_t>(i + 1);
    h.score = floor - 1e-4 * static_cast<double>(i - depth);
    ranked.push_back(std::move(h));
  }
  for (size_t i = query.offset; i < ranked.size() && i < query.offset + query.k; ++i)
    r.hits.push_back(std::move(ranked[i]));
  r.routing = std::move(f.routing);
  if (options.keep_features) r.features = std::move(group);
  return r;
}

double Reranker::TrustOf(const HybridQuery& query) const {
  if (!model_.has_trust()) return 1.0;
  return model_.BlendWeight(index::Analyze(engine_.searcher().analyzer(), query.text));
}

Result<RerankedResult> Reranker::Search(const HybridQuery& query, const RerankOptions& options) const {
  HYMIR_ASSIGN_OR_RETURN(std::vector<SearchHit> hits, engine_.Search(Widen(query, options.depth)));
  return Rerank(query, std::move(hits), options);
}

Result<std::vector<RerankedResult>> Reranker::SearchBatch(const std::vector<HybridQuery>& queries,
                                                          const RerankOptions& options, int threads) const {
  std::vector<HybridQuery> wide;
  wide.reserve(queries.size());
  for (const auto& q : queries) wide.push_back(Widen(q, options.depth));
  HYMIR_ASSIGN_OR_RETURN(auto all, engine_.SearchBatch(wide));
  std::vector<RerankedResult> out(queries.size());
  HYMIR_RETURN_IF_ERROR(internal::ParallelFor(queries.size(), threads, [&](size_t i) -> Status {
    auto r = Rerank(queries[i], std::move(all[i]), options);
    if (!r.ok()) return r.status().WithContext(queries[i].id.empty() ? "query" : "query " + queries[i].id);
    out[i] = std::move(r).value();
    return Status::OK();
  }));
  return out;
}

Result<ranking::MoeExplanation> Reranker::Explain(const RerankedResult& result, const std::string& doc_id) const {
  const auto& ids = result.features.doc_ids;
  auto it = std::find(ids.begin(), ids.end(), doc_id);
  if (it == ids.end())
    return Status::NotFound("explain: \"" + doc_id + "\" was not re-ranked (or features were not kept)");
  return model_.Explain(result.features, static_cast<size_t>(it - ids.begin()), 6);
}

}  // namespace hymir
