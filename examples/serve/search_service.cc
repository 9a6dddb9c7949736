// SearchService: request parsing, the pipeline call and the JSON replies.
#include "serve/search_service.h"

#include <httplib.h>

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/hit_json.h"
#include "serve/search_page.h"

namespace hymir::serve {
namespace {

using Params = std::multimap<std::string, std::string>;

std::string Dump(const nlohmann::json& j) {
  // Stored text is not guaranteed to be valid UTF-8; never throw on it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Reply JsonReply(int status, const nlohmann::json& j) { return {status, "application/json", Dump(j)}; }
Reply Error(int status, const std::string& message) { return JsonReply(status, {{"error", message}}); }
Reply ErrorFor(const Status& s) {
  return Error(s.IsInvalidArgument() ? 400 : s.IsNotFound() ? 404 : 500, s.ToString());
}

// The value of a parameter given at most once (nullopt when absent).
Result<std::optional<std::string>> One(const Params& params, const std::string& name) {
  if (params.count(name) > 1) return Status::InvalidArgument("parameter " + name + " is given more than once");
  auto it = params.find(name);
  if (it == params.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

nlohmann::json ValueJson(const FieldValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

Params ParamsOf(const httplib::Request& req) { return Params(req.params.begin(), req.params.end()); }

void Send(httplib::Response& res, const Reply& r) {
  res.status = r.status;
  res.set_content(r.body, r.content_type.c_str());
}

}  // namespace

namespace {
PipelineOptions PartsOptions(const ServiceOptions& o) {
  PipelineOptions p;
  p.rerank_depth = o.rerank_depth;
  return p;
}
}  // namespace

SearchService::SearchService(const Pipeline& pipeline, ServiceOptions options)
    : current_([p = std::shared_ptr<const Pipeline>(&pipeline, [](const Pipeline*) {})] { return p; }),
      options_(options) {}

SearchService::SearchService(const LivePipeline& live, ServiceOptions options)
    : current_([&live] { return live.Current(); }), options_(options) {}

SearchService::SearchService(const Engine& engine, const Reranker* reranker, const KnowledgeContext* kg,
                             ServiceOptions options)
    : current_([p = std::shared_ptr<const Pipeline>(Pipeline::FromParts(engine, kg, reranker, PartsOptions(options)))] {
        return p;
      }),
      options_(options) {}

Reply SearchService::Search(const Params& params) const {
  const auto started = std::chrono::steady_clock::now();
  QuerySpec spec;
  StageOptions stages;
  if (Status s = ParseQueryParams(params, {options_.default_k, options_.max_k}, &spec, &stages); !s.ok())
    return ErrorFor(s);
  const std::shared_ptr<const Pipeline> held = current_();
  const Pipeline& pipeline = *held;
  if (stages.rerank.value_or(false) && !pipeline.reranker())
    return Error(400, "rerank=1 but this service has no re-ranking model (start it with --rerank MODEL)");
  if (stages.expand.value_or(false) && !pipeline.kg())
    return Error(400, "expand=1 but this service has no knowledge graph (start it with --kg DIR)");
  stages.snippet_chars = options_.snippet_chars;
  auto query = pipeline.MakeQuery(spec);
  if (!query.ok()) return ErrorFor(query.status());
  auto result = pipeline.Search(*query, stages);
  if (!result.ok()) return ErrorFor(result.status());
  const PipelineResult& r = *result;

  nlohmann::json out;
  if (r.expanded) {
    nlohmann::json added = nlohmann::json::array();
    for (const auto& e : r.expansions) added.push_back(app::ExpansionJson(e));
    out["expansions"] = added;
  }
  if (r.reranked) out["routing"] = {{"experts", r.routing.chosen}, {"weights", r.routing.weights}};
  nlohmann::json hits = nlohmann::json::array();
  for (const PipelineHit& ph : r.hits) {
    const SearchHit& h = ph.hit;
    nlohmann::json j = {{"rank", h.rank}, {"id", h.id}, {"score", h.score}, {"stages", app::StagesJson(h)}};
    j["title"] = ph.document ? ph.document->title : "";  // no document: deleted since the search
    j["snippet"] = ph.snippet;
    if (ph.document && ph.document->domain) j["domain"] = *ph.document->domain;
    if (ph.moe) j["moe"] = app::ExplanationJson(*ph.moe);
    hits.push_back(std::move(j));
  }
  out["query"] = r.query.text;
  out["syntax"] = QuerySyntaxName(r.query.syntax);
  out["retriever"] = RetrieverName(r.retriever);
  out["reranked"] = r.reranked;
  out["k"] = r.query.k;
  out["offset"] = r.query.offset;
  out["hits"] = std::move(hits);
  if (r.total) out["total"] = *r.total;
  if (!r.query.facets.empty()) out["facets"] = app::FacetsJson(r.facets);
  out["took_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return JsonReply(200, out);
}

Reply SearchService::GetDocument(const Params& params) const {
  auto id = One(params, "id");
  if (!id.ok()) return ErrorFor(id.status());
  if (!*id || (*id)->empty()) return Error(400, "missing parameter id (a document id)");
  const std::shared_ptr<const Pipeline> held = current_();
  const Pipeline& pipeline = *held;
  auto doc = pipeline.engine().searcher().GetDocument(**id);
  if (!doc.ok()) return ErrorFor(doc.status());
  nlohmann::json j = {{"id", doc->id}, {"title", doc->title}, {"text", doc->text}, {"fields", doc->fields}};
  j["domain"] = doc->domain ? nlohmann::json(*doc->domain) : nlohmann::json(nullptr);
  if (!doc->values.empty()) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [name, vs] : doc->values) {
      nlohmann::json a = nlohmann::json::array();
      for (const FieldValue& v : vs) a.push_back(ValueJson(v));
      values[name] = std::move(a);
    }
    j["values"] = std::move(values);
  }
  return JsonReply(200, j);
}

Reply SearchService::Info() const {
  const std::shared_ptr<const Pipeline> held = current_();
  const Pipeline& pipeline = *held;
  const index::Searcher& s = pipeline.engine().searcher();
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& f : s.vector_fields())
    fields.push_back({{"name", f.name},
                      {"dimension", f.dimension},
                      {"metric", index::VectorMetricName(f.metric)},
                      {"index", f.index},
                      {"embedder", f.embedder}});
  nlohmann::json typed = nlohmann::json::array();
  for (const auto& [name, f] : s.schema().fields)
    typed.push_back(
        {{"name", name}, {"type", index::FieldTypeName(f.type)}, {"sort", f.sortable}, {"facet", f.facetable}});
  HybridQuery probe;
  probe.text = "x";
  const ranking::FusionOptions& fusion = pipeline.engine().default_fusion();
  nlohmann::json j = {{"documents", s.NumDocs()},
                      {"vector_fields", fields},
                      {"typed_fields", typed},
                      {"text_query_retriever", RetrieverName(pipeline.engine().ResolveRetriever(probe))},
                      {"fusion",
                       {{"method", ranking::FusionMethodName(fusion.method)},
                        {"alpha", fusion.alpha},
                        {"rrf_k", fusion.rrf_k},
                        {"tuned", pipeline.engine().has_tuned_fusion()}}},
                      {"knowledge_graph", pipeline.kg() != nullptr},
                      {"limits", {{"default_k", options_.default_k}, {"max_k", options_.max_k}}}};
  if (const Reranker* reranker = pipeline.reranker()) {
    const auto& c = reranker->model().config();
    j["reranker"] = {{"routed_experts", c.routed_experts},
                     {"shared_experts", c.shared_experts},
                     {"top_k", c.top_k},
                     {"trees", reranker->model().trees().rounds()},
                     {"pair_features", reranker->model().schema().pair_dim()},
                     {"query_features", reranker->model().schema().query_dim()},
                     {"depth", pipeline.options().rerank_depth}};
  } else {
    j["reranker"] = nullptr;
  }
  return JsonReply(200, j);
}

Reply SearchService::Page() { return {200, "text/html; charset=utf-8", std::string(kSearchPage)}; }

void SearchService::Mount(httplib::Server& server) const {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) { Send(res, Page()); });
  server.Get("/api/search",
             [this](const httplib::Request& req, httplib::Response& res) { Send(res, Search(ParamsOf(req))); });
  server.Get("/api/doc",
             [this](const httplib::Request& req, httplib::Response& res) { Send(res, GetDocument(ParamsOf(req))); });
  server.Get("/api/info", [this](const httplib::Request&, httplib::Response& res) { Send(res, Info()); });
  // Unknown paths and methods: a JSON body instead of httplib's empty one
  // (handlers that set a body of their own keep it).
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string what;
    if (res.status == 414) {
      what = "request line too long (at most 8192 bytes)";
    } else if (res.status == 413) {
      what = "request body too large";
    } else if (res.status == 400) {
      what = "malformed request";  // httplib could not parse the request line or headers
    } else if (res.status == 404 && req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      what = "method " + req.method + " is not allowed (this service answers GET)";
    } else {
      what = res.status == 404 ? "no such path: " + req.path : "bad request: " + req.target;
    }
    res.set_content(Dump({{"error", what}}), "application/json");
  });
  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(Dump({{"error", "internal error on " + req.path + ": " + what}}), "application/json");
  });
}

}  // namespace hymir::serve
