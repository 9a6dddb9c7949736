// Pipeline: opening the stages, a parameter set into a query, and one query's
// path through expansion, retrieval, fusion, re-ranking and document fetch.
#include "hymir/pipeline.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "src/core/file_util.h"

namespace hymir {

// ---- a parameter set into a query ----

Status ParseFilters(const std::vector<std::string>& specs, std::vector<index::FieldFilter>* out,
                    const std::string& what) {
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument(what + " \"" + spec + "\": expected FIELD:VALUE");
    }
    std::string field = spec.substr(0, colon), value = spec.substr(colon + 1);
    auto it = std::find_if(out->begin(), out->end(), [&](const index::FieldFilter& f) { return f.field == field; });
    if (it == out->end()) {
      out->push_back({field, {value}});
    } else {
      it->values.push_back(value);
    }
  }
  return Status::OK();
}

Status ParseFields(const std::vector<std::string>& specs, std::vector<index::FieldWeight>* out,
                   const std::string& what) {
  if (specs.empty()) return Status::OK();
  out->clear();
  for (const std::string& spec : specs) {
    auto colon = spec.find(':');
    index::FieldWeight fw{spec.substr(0, colon), 1.0};
    if (colon != std::string::npos) {
      // The whole rest must be a finite number: std::stod alone reads "2x" as 2 and "info" as inf.
      const std::string text = spec.substr(colon + 1);
      size_t used = 0;
      try {
        fw.weight = std::stod(text, &used);
      } catch (...) {
        used = 0;
      }
      if (used == 0 || used != text.size() || !std::isfinite(fw.weight)) {
        return Status::InvalidArgument(what + " \"" + spec + "\": weight is not a number");
      }
    }
    out->push_back(fw);
  }
  return Status::OK();
}

Status CheckQuerySpec(const QuerySpec& spec, const std::string& filter_name, const std::string& field_name) {
  std::vector<index::FieldFilter> filters;
  std::vector<index::FieldWeight> fields;
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec.filters, &filters, filter_name));
  return ParseFields(spec.fields, &fields, field_name);
}

Result<HybridQuery> BuildQuery(const QuerySpec& spec, const Engine& engine) {
  HybridQuery q;
  q.id = spec.id;
  q.text = spec.text;
  q.vector = spec.vector;
  q.vector_field = spec.vector_field;
  q.bm25.bm25.k1 = spec.k1;
  q.bm25.bm25.b = spec.b;
  q.k = spec.k;
  q.offset = spec.offset;
  q.bm25_depth = spec.bm25_depth;
  q.vector_depth = spec.vector_depth;
  q.ef_search = spec.ef_search;
  q.nprobe = spec.nprobe;
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec.filters, &q.filters));
  HYMIR_RETURN_IF_ERROR(ParseFields(spec.fields, &q.bm25.fields));
  HYMIR_ASSIGN_OR_RETURN(q.retriever, ParseRetriever(spec.retriever));
  // The fusion stays the index's default unless the spec changes it.
  if (!spec.fusion.empty() || spec.alpha >= 0 || !spec.weights.empty()) {
    ranking::FusionOptions o = engine.default_fusion();
    if (!spec.fusion.empty()) {
      HYMIR_ASSIGN_OR_RETURN(ranking::FusionMethod method, ranking::ParseFusionMethod(spec.fusion));
      o = ranking::FusionOptions();
      o.method = method;
      if (o.method == ranking::FusionMethod::kConvex) o.alpha = Engine::kDefaultAlpha;
    }
    o.rrf_k = spec.rrf_k;
    if (spec.alpha >= 0) o.alpha = spec.alpha;
    if (!spec.weights.empty()) o.weights = spec.weights;
    q.fusion = o;
  }
  return q;
}

namespace {

// The value of a parameter given at most once (nullopt when absent).
Result<std::optional<std::string>> One(const QueryParams& params, const std::string& name) {
  if (params.count(name) > 1) return Status::InvalidArgument("parameter " + name + " is given more than once");
  auto it = params.find(name);
  if (it == params.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<size_t> Size(const QueryParams& params, const std::string& name, size_t fallback, size_t lo, size_t hi) {
  HYMIR_ASSIGN_OR_RETURN(auto v, One(params, name));
  if (!v) return fallback;
  size_t used = 0;
  unsigned long long n = 0;
  try {
    if (v->empty() || (*v)[0] == '-' || (*v)[0] == '+') throw std::invalid_argument(*v);
    n = std::stoull(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v->size())
    return Status::InvalidArgument("parameter " + name + "=\"" + *v + "\" is not a whole number");
  if (n < lo || n > hi)
    return Status::InvalidArgument("parameter " + name + "=" + *v + " is outside [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + "]");
  return static_cast<size_t>(n);
}

Result<std::optional<bool>> Flag(const QueryParams& params, const std::string& name) {
  HYMIR_ASSIGN_OR_RETURN(auto v, One(params, name));
  if (!v) return std::optional<bool>();
  if (*v == "1" || *v == "true" || *v == "on" || v->empty()) return std::optional<bool>(true);
  if (*v == "0" || *v == "false" || *v == "off") return std::optional<bool>(false);
  return Status::InvalidArgument("parameter " + name + "=\"" + *v + "\" is not 0 or 1");
}

std::vector<std::string> All(const QueryParams& params, const std::string& name) {
  std::vector<std::string> out;
  auto [b, e] = params.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

}  // namespace

Status ParseQueryParams(const QueryParams& params, const ParamLimits& limits, QuerySpec* spec, StageOptions* stages) {
  HYMIR_ASSIGN_OR_RETURN(auto text, One(params, "q"));
  if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidArgument("missing parameter q (the query text)");
  spec->text = *text;
  HYMIR_ASSIGN_OR_RETURN(spec->k, Size(params, "k", limits.default_k, 1, limits.max_k));
  HYMIR_ASSIGN_OR_RETURN(spec->offset, Size(params, "offset", 0, 0, limits.max_k));
  if (spec->offset + spec->k > limits.max_k)
    return Status::InvalidArgument("offset + k = " + std::to_string(spec->offset + spec->k) +
                                   " exceeds the service's limit of " + std::to_string(limits.max_k));
  HYMIR_ASSIGN_OR_RETURN(auto retriever, One(params, "retriever"));
  if (retriever) {
    auto r = ParseRetriever(*retriever);
    if (!r.ok()) return Status::InvalidArgument("parameter retriever: " + r.status().message());
    spec->retriever = *retriever;
  }
  spec->filters = All(params, "filter");
  std::vector<index::FieldFilter> checked;  // named as a parameter here; BuildQuery parses them again
  HYMIR_RETURN_IF_ERROR(ParseFilters(spec->filters, &checked, "parameter filter"));
  HYMIR_ASSIGN_OR_RETURN(stages->rerank, Flag(params, "rerank"));
  HYMIR_ASSIGN_OR_RETURN(stages->expand, Flag(params, "expand"));
  HYMIR_ASSIGN_OR_RETURN(std::optional<bool> explain, Flag(params, "explain"));
  stages->explain = explain.value_or(false);
  return Status::OK();
}

std::string Snippet(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t cut = text.rfind(' ', limit);
  if (cut == std::string::npos || cut < limit / 2) {
    cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  return text.substr(0, cut) + "\xE2\x80\xA6";
}

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
  if (!options.rerank_model.empty()) j["rerank_model"] = Absolute(options.rerank_model);
  if (options.rerank_prior) j["rerank_prior"] = *options.rerank_prior;
  return internal::WriteFileAtomic(index_dir + "/" + kPipelineFile, j.dump(2) + "\n");
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
  if (plan.expand && !kg_) return Status::InvalidArgument("KG expansion asked for, but the pipeline has no knowledge graph");
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
      auto doc = engine_->searcher().GetDocument(ph.hit.id);  // NotFound: deleted since the search
      if (doc.ok()) {
        if (stages.snippet_chars > 0) ph.snippet = Snippet(doc->text, stages.snippet_chars);
        ph.document = std::move(doc).value();
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
  PipelineResult result;
  result.query = query;
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
