// Pipeline: opening the stages, a parameter set into a query, and one query's
// path through expansion, retrieval, fusion, re-ranking and document fetch.
#include "hymir/pipeline.h"
#include "hymir/snippet.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "hymir/index/index_writer.h"
#include "src/core/crc32.h"
#include "src/core/file_util.h"

namespace hymir {

// ---- the pipeline ----

struct Pipeline::Plan {
  bool expand = false;
  bool rerank = false;
};

Pipeline::~Pipeline() = default;

// ---- the recorded pipeline of an index ----

namespace {

constexpr const char* kPipelineFile = "pipeline.json";
constexpr int kPipelineFormat = 1;

std::string Absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

}  // namespace

Status RecordPipelineOptions(const std::string& index_dir, const PipelineOptions& options) {
  nlohmann::json j = {{"format", kPipelineFormat}, {"rerank_depth", options.rerank_depth}};
  if (!options.kg_dir.empty()) j["kg_dir"] = Absolute(options.kg_dir);
  if (!options.rerank_model.empty()) {
    // The model's size and checksum, so that the record names one model, not
    // whatever later sits at its path.
    const std::string model = Absolute(options.rerank_model);
    HYMIR_ASSIGN_OR_RETURN(std::string bytes, internal::ReadFile(model));
    j["rerank_model"] = model;
    j["rerank_model_bytes"] = bytes.size();
    j["rerank_model_crc32"] = internal::Crc32(0, bytes.data(), bytes.size());
  }
  if (options.rerank_prior) j["rerank_prior"] = *options.rerank_prior;
  const std::string text = j.dump(2) + "\n";
  return index::WriteRecordedIndexFile(index_dir, kPipelineFile, &text);
}

Result<PipelineOptions> RecordedPipelineOptions(const std::string& index_dir) {
  PipelineOptions o;
  o.index_dir = index_dir;
  const std::string path = index_dir + "/" + kPipelineFile;
  if (!std::filesystem::exists(path)) return o;
  HYMIR_ASSIGN_OR_RETURN(std::string text, internal::ReadFile(path));
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    const int format = j.at("format").get<int>();
    if (format != kPipelineFormat)
      return Status::Corruption(path + ": format " + std::to_string(format) + ", this build reads " +
                                std::to_string(kPipelineFormat));
    o.kg_dir = j.value("kg_dir", std::string());
    o.rerank_model = j.value("rerank_model", std::string());
    if (j.contains("rerank_model_crc32")) {
      const uint64_t bytes = j.at("rerank_model_bytes").get<uint64_t>();
      const uint32_t crc = j.at("rerank_model_crc32").get<uint32_t>();
      auto model = internal::ReadFile(o.rerank_model);
      if (!model.ok()) return Status::Corruption(path + ": its model " + model.status().message());
      if (model->size() != bytes || internal::Crc32(0, model->data(), model->size()) != crc) {
        return Status::Corruption(o.rerank_model + ": not the model " + path + " recorded (" +
                                  std::to_string(model->size()) + " bytes, recorded " + std::to_string(bytes) +
                                  ", or another checksum): a damaged or replaced model file");
      }
    }
    if (j.contains("rerank_prior")) o.rerank_prior = j.at("rerank_prior").get<double>();
    o.rerank_depth = j.value("rerank_depth", o.rerank_depth);
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
  return o;
}

Result<std::unique_ptr<Pipeline>> Pipeline::Open(const std::string& index_dir) {
  HYMIR_ASSIGN_OR_RETURN(PipelineOptions options, RecordedPipelineOptions(index_dir));
  return Open(options);
}

Result<std::unique_ptr<Pipeline>> Pipeline::Open(const PipelineOptions& options) {
  HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(options.index_dir));
  HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<Pipeline> p, Open(*engine, options));
  p->owned_engine_ = std::move(engine);  // the object (and engine_) stays put
  return p;
}

Result<std::unique_ptr<Pipeline>> Pipeline::Open(const Engine& engine, const PipelineOptions& options) {
  std::unique_ptr<Pipeline> p(new Pipeline());
  p->options_ = options;
  p->engine_ = &engine;
  if (!options.kg_dir.empty()) {
    KnowledgeOptions k = options.knowledge;
    // "none" names no relation; a neighbour weight of 0 follows none (the
    // searcher rejects expansion terms of weight 0).
    std::erase(k.expansion.relations, std::string("none"));
    if (k.expansion.neighbor_weight == 0) k.expansion.relations.clear();
    HYMIR_ASSIGN_OR_RETURN(p->owned_kg_, KnowledgeContext::Open(options.kg_dir, engine.searcher().analyzer(), k));
    p->kg_ = p->owned_kg_.get();
  }
  if (!options.rerank_model.empty()) {
    HYMIR_ASSIGN_OR_RETURN(ranking::MoeModel model, ranking::MoeModel::Load(options.rerank_model));
    if (options.rerank_prior) {  // the same model with another retrieval-prior weight
      if (Status s = model.set_retrieval_prior("fused_rrank", *options.rerank_prior); !s.ok())
        return Status::InvalidArgument("rerank prior: " + s.message());
    }
    HYMIR_ASSIGN_OR_RETURN(p->owned_reranker_, Reranker::Create(engine, std::move(model), p->kg_));
    p->reranker_ = p->owned_reranker_.get();
  }
  return p;
}

std::unique_ptr<Pipeline> Pipeline::FromParts(const Engine& engine, const KnowledgeContext* kg,
                                              const Reranker* reranker, const PipelineOptions& options) {
  std::unique_ptr<Pipeline> p(new Pipeline());
  p->options_ = options;
  p->engine_ = &engine;
  p->kg_ = kg;
  p->reranker_ = reranker;
  return p;
}

Result<Pipeline::Plan> Pipeline::Resolve(const StageOptions& stages) const {
  Plan plan;
  plan.expand = stages.expand.value_or(kg_ != nullptr);
  if (plan.expand && !kg_)
    return Status::InvalidArgument("KG expansion asked for, but the pipeline has no knowledge graph");
  plan.rerank = stages.rerank.value_or(reranker_ != nullptr);
  if (plan.rerank && !reranker_) return Status::InvalidArgument("re-ranking asked for, but the pipeline has no model");
  return plan;
}

Result<std::vector<kg::ExpansionTerm>> Pipeline::Expand(HybridQuery* query) const {
  if (!kg_) return std::vector<kg::ExpansionTerm>();
  return kg_->ExpandQuery(query);
}

Result<PipelineResult> Pipeline::Finish(PipelineResult result, std::vector<SearchHit> hits,
                                        const RerankedResult* reranked, const StageOptions& stages) const {
  result.retriever = engine_->ResolveRetriever(result.query);
  result.fusion = result.query.fusion ? *result.query.fusion : engine_->default_fusion();
  result.reranked = reranked != nullptr;
  if (reranked) result.routing = reranked->routing;
  if (reranked) result.trust = reranked->trust;
  result.hits.reserve(hits.size());
  for (SearchHit& h : hits) {
    PipelineHit ph;
    ph.hit = std::move(h);
    if (stages.fetch_documents) {
      // NotFound: deleted since the search (the hit keeps no document);
      // anything else (a damaged stored document) fails the query rather
      // than showing the hit with an empty title and snippet.
      auto doc = engine_->searcher().GetDocument(ph.hit.id);
      if (doc.ok()) {
        if (stages.snippet_chars > 0) ph.snippet = Snippet(doc->text, stages.snippet_chars);
        ph.document = std::move(doc).value();
      } else if (!doc.status().IsNotFound()) {
        return doc.status();
      }
    }
    if (stages.explain && reranked && ph.hit.rerank.present) {
      auto ex = reranker_->Explain(*reranked, ph.hit.id);
      if (ex.ok()) ph.moe = std::move(ex).value();
    }
    result.hits.push_back(std::move(ph));
  }
  return result;
}

Result<PipelineResult> Pipeline::Search(const HybridQuery& query, const StageOptions& stages) const {
  HYMIR_ASSIGN_OR_RETURN(Plan plan, Resolve(stages));
  if (!query.sort.empty()) {  // a sort fixes the order: nothing to re-rank
    if (stages.rerank.value_or(false)) return Status::InvalidArgument("a sorted query cannot be re-ranked");
    plan.rerank = false;
  }
  PipelineResult result;
  result.query = query;
  if (stages.count || !query.facets.empty()) {
    HYMIR_ASSIGN_OR_RETURN(index::SearchResults counted, engine_->Count(query));
    result.total = counted.total;
    result.facets = std::move(counted.facets);
  }
  if (plan.expand) {
    HYMIR_ASSIGN_OR_RETURN(result.expansions, kg_->ExpandQuery(&result.query));
    result.expanded = true;
  }
  if (plan.rerank) {
    RerankOptions ro;
    ro.depth = options_.rerank_depth;
    ro.keep_features = stages.explain;
    HYMIR_ASSIGN_OR_RETURN(RerankedResult reranked, reranker_->Search(result.query, ro));
    std::vector<SearchHit> hits = reranked.hits;
    return Finish(std::move(result), std::move(hits), &reranked, stages);
  }
  HYMIR_ASSIGN_OR_RETURN(std::vector<SearchHit> hits, engine_->Search(result.query));
  return Finish(std::move(result), std::move(hits), nullptr, stages);
}

Result<std::vector<PipelineResult>> Pipeline::SearchBatch(const std::vector<HybridQuery>& queries,
                                                          const StageOptions& stages) const {
  HYMIR_ASSIGN_OR_RETURN(Plan plan, Resolve(stages));
  std::vector<PipelineResult> results(queries.size());
  bool structured = false;
  for (const HybridQuery& q : queries) structured |= !q.sort.empty() || !q.facets.empty() || stages.count;
  if (structured) {  // one by one: counts and sorts are per query anyway
    for (size_t i = 0; i < queries.size(); ++i) {
      HYMIR_ASSIGN_OR_RETURN(results[i], Search(queries[i], stages));
    }
    return results;
  }
  std::vector<HybridQuery> run;
  run.reserve(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    results[i].query = queries[i];
    if (plan.expand) {
      HYMIR_ASSIGN_OR_RETURN(results[i].expansions, kg_->ExpandQuery(&results[i].query));
      results[i].expanded = true;
    }
    run.push_back(results[i].query);
  }
  if (plan.rerank) {
    RerankOptions ro;
    ro.depth = options_.rerank_depth;
    ro.keep_features = stages.explain;
    HYMIR_ASSIGN_OR_RETURN(std::vector<RerankedResult> reranked, reranker_->SearchBatch(run, ro, options_.threads));
    for (size_t i = 0; i < results.size(); ++i) {
      std::vector<SearchHit> hits = std::move(reranked[i].hits);
      reranked[i].hits = {};
      HYMIR_ASSIGN_OR_RETURN(results[i], Finish(std::move(results[i]), std::move(hits), &reranked[i], stages));
    }
    return results;
  }
  HYMIR_ASSIGN_OR_RETURN(auto hits, engine_->SearchBatch(run));
  for (size_t i = 0; i < results.size(); ++i) {
    HYMIR_ASSIGN_OR_RETURN(results[i], Finish(std::move(results[i]), std::move(hits[i]), nullptr, stages));
  }
  return results;
}

}  // namespace hymir
