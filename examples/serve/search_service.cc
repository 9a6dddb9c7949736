// SearchService: request parsing, the pipeline call and the JSON replies.
#include "examples/serve/search_service.h"

#include <httplib.h>

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "examples/common/filters.h"
#include "examples/common/hit_json.h"
#include "examples/serve/search_page.h"

namespace hymir::serve {
namespace {

using Params = std::multimap<std::string, std::string>;

std::string Dump(const nlohmann::json& j) {
  // Stored text is not guaranteed to be valid UTF-8; never throw on it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Reply JsonReply(int status, const nlohmann::json& j) { return {status, "application/json", Dump(j)}; }
Reply Error(int status, const std::string& message) { return JsonReply(status, {{"error", message}}); }
Reply ErrorFor(const Status& s) { return Error(s.IsInvalidArgument() ? 400 : s.IsNotFound() ? 404 : 500, s.ToString()); }

std::vector<std::string> All(const Params& params, const std::string& name) {
  std::vector<std::string> out;
  auto [b, e] = params.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

// The value of a parameter given at most once (nullopt when absent).
Result<std::optional<std::string>> One(const Params& params, const std::string& name) {
  if (params.count(name) > 1) return Status::InvalidArgument("parameter " + name + " is given more than once");
  auto it = params.find(name);
  if (it == params.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<size_t> Size(const Params& params, const std::string& name, size_t fallback, size_t lo, size_t hi) {
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

Result<bool> Flag(const Params& params, const std::string& name, bool fallback) {
  HYMIR_ASSIGN_OR_RETURN(auto v, One(params, name));
  if (!v) return fallback;
  if (*v == "1" || *v == "true" || *v == "on" || v->empty()) return true;
  if (*v == "0" || *v == "false" || *v == "off") return false;
  return Status::InvalidArgument("parameter " + name + "=\"" + *v + "\" is not 0 or 1");
}

// The first `limit` bytes of `text`, cut at a space (or a UTF-8 character
// boundary) and marked with an ellipsis when shortened.
std::string Snippet(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t cut = text.rfind(' ', limit);
  if (cut == std::string::npos || cut < limit / 2) {
    cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  return text.substr(0, cut) + "\xE2\x80\xA6";
}

Params ParamsOf(const httplib::Request& req) { return Params(req.params.begin(), req.params.end()); }

void Send(httplib::Response& res, const Reply& r) {
  res.status = r.status;
  res.set_content(r.body, r.content_type.c_str());
}

}  // namespace

SearchService::SearchService(const Engine& engine, const Reranker* reranker, const KnowledgeContext* kg,
                             ServiceOptions options)
    : engine_(engine), reranker_(reranker), kg_(kg), options_(options) {}

Reply SearchService::Search(const Params& params) const {
  const auto started = std::chrono::steady_clock::now();
  auto text = One(params, "q");
  if (!text.ok()) return ErrorFor(text.status());
  if (!*text || (*text)->find_first_not_of(" \t\r\n") == std::string::npos)
    return Error(400, "missing parameter q (the query text)");
  HybridQuery query;
  query.text = **text;
  auto k = Size(params, "k", options_.default_k, 1, options_.max_k);
  if (!k.ok()) return ErrorFor(k.status());
  auto offset = Size(params, "offset", 0, 0, options_.max_k);
  if (!offset.ok()) return ErrorFor(offset.status());
  if (*offset + *k > options_.max_k)
    return Error(400, "offset + k = " + std::to_string(*offset + *k) + " exceeds the service's limit of " +
                          std::to_string(options_.max_k));
  query.k = *k;
  query.offset = *offset;
  auto retriever_name = One(params, "retriever");
  if (!retriever_name.ok()) return ErrorFor(retriever_name.status());
  if (*retriever_name) {
    auto r = ParseRetriever(**retriever_name);
    if (!r.ok()) return Error(400, "parameter retriever: " + r.status().message());
    query.retriever = *r;
  }
  if (Status s = app::ParseFilters(All(params, "filter"), &query.filters, "parameter filter"); !s.ok())
    return ErrorFor(s);
  auto rerank = Flag(params, "rerank", reranker_ != nullptr);
  if (!rerank.ok()) return ErrorFor(rerank.status());
  if (*rerank && !reranker_)
    return Error(400, "rerank=1 but this service has no re-ranking model (start it with --rerank MODEL)");
  auto expand = Flag(params, "expand", kg_ != nullptr);
  if (!expand.ok()) return ErrorFor(expand.status());
  if (*expand && !kg_) return Error(400, "expand=1 but this service has no knowledge graph (start it with --kg DIR)");
  auto explain = Flag(params, "explain", false);
  if (!explain.ok()) return ErrorFor(explain.status());

  nlohmann::json out;
  if (*expand) {
    auto terms = kg_->ExpandQuery(&query);
    if (!terms.ok()) return ErrorFor(terms.status());
    nlohmann::json added = nlohmann::json::array();
    for (const auto& e : *terms) added.push_back(app::ExpansionJson(e));
    out["expansions"] = added;
  }
  RerankedResult reranked;
  if (*rerank) {
    RerankOptions ro;
    ro.depth = options_.rerank_depth;
    ro.keep_features = *explain;
    auto r = reranker_->Search(query, ro);
    if (!r.ok()) return ErrorFor(r.status());
    reranked = std::move(r).value();
    out["routing"] = {{"experts", reranked.routing.chosen}, {"weights", reranked.routing.weights}};
  } else {
    auto r = engine_.Search(query);
    if (!r.ok()) return ErrorFor(r.status());
    reranked.hits = std::move(r).value();
  }
  nlohmann::json hits = nlohmann::json::array();
  for (const SearchHit& h : reranked.hits) {
    nlohmann::json j = {{"rank", h.rank}, {"id", h.id}, {"score", h.score}, {"stages", app::StagesJson(h)}};
    auto doc = engine_.searcher().GetDocument(h.id);  // NotFound: deleted since the search
    j["title"] = doc.ok() ? doc->title : "";
    j["snippet"] = doc.ok() ? Snippet(doc->text, options_.snippet_chars) : "";
    if (doc.ok() && doc->domain) j["domain"] = *doc->domain;
    if (*explain && *rerank && h.rerank.present) {
      auto ex = reranker_->Explain(reranked, h.id);
      if (ex.ok()) j["moe"] = app::ExplanationJson(*ex);
    }
    hits.push_back(std::move(j));
  }
  out["query"] = query.text;
  out["retriever"] = RetrieverName(engine_.ResolveRetriever(query));
  out["reranked"] = *rerank;
  out["k"] = query.k;
  out["offset"] = query.offset;
  out["hits"] = std::move(hits);
  out["took_ms"] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return JsonReply(200, out);
}

Reply SearchService::GetDocument(const Params& params) const {
  auto id = One(params, "id");
  if (!id.ok()) return ErrorFor(id.status());
  if (!*id || (*id)->empty()) return Error(400, "missing parameter id (a document id)");
  auto doc = engine_.searcher().GetDocument(**id);
  if (!doc.ok()) return ErrorFor(doc.status());
  nlohmann::json j = {{"id", doc->id}, {"title", doc->title}, {"text", doc->text}, {"fields", doc->fields}};
  j["domain"] = doc->domain ? nlohmann::json(*doc->domain) : nlohmann::json(nullptr);
  return JsonReply(200, j);
}

Reply SearchService::Info() const {
  const index::Searcher& s = engine_.searcher();
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& f : s.vector_fields())
    fields.push_back({{"name", f.name},
                      {"dimension", f.dimension},
                      {"metric", index::VectorMetricName(f.metric)},
                      {"index", f.index},
                      {"embedder", f.embedder}});
  HybridQuery probe;
  probe.text = "x";
  const ranking::FusionOptions& fusion = engine_.default_fusion();
  nlohmann::json j = {
      {"documents", s.NumDocs()},
      {"vector_fields", fields},
      {"text_query_retriever", RetrieverName(engine_.ResolveRetriever(probe))},
      {"fusion",
       {{"method", ranking::FusionMethodName(fusion.method)},
        {"alpha", fusion.alpha},
        {"rrf_k", fusion.rrf_k},
        {"tuned", engine_.has_tuned_fusion()}}},
      {"knowledge_graph", kg_ != nullptr},
      {"limits", {{"default_k", options_.default_k}, {"max_k", options_.max_k}}}};
  if (reranker_) {
    const auto& c = reranker_->model().config();
    j["reranker"] = {{"routed_experts", c.routed_experts},
                     {"shared_experts", c.shared_experts},
                     {"top_k", c.top_k},
                     {"pair_features", reranker_->model().schema().pair_dim()},
                     {"query_features", reranker_->model().schema().query_dim()},
                     {"depth", options_.rerank_depth}};
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
