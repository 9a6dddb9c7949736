// SearchService: the HTTP face of the hymir pipeline (`hymir serve`), on
// cpp-httplib. Mount() registers these routes on a server:
//
//   GET /                 the search page (HTML + JavaScript, no external assets)
//   GET /api/search       q (required), k (1..max_k, default 10), offset,
//                         retriever (auto|bm25|vector|hybrid), filter=FIELD:VALUE
//                         (repeatable), rerank (0|1; default 1 with a model),
//                         expand (0|1; default 1 with a KG), explain (0|1)
//                         -> {"query", "retriever", "reranked", "took_ms",
//                             "hits": [{"rank", "id", "score", "title",
//                             "snippet", "stages": {bm25, vector, fused, rerank},
//                             "moe" (explain + rerank)}], "routing" (rerank),
//                             "expansions" (KG)}
//   GET /api/doc          id -> the stored document {"id", "title", "text",
//                         "domain", "fields"}
//   GET /api/info         documents, vector fields, fusion, re-ranker and KG
//
// Errors are JSON {"error": "..."}: 400 for a bad parameter (naming it), 404
// for an unknown document or path, 500 for a failure inside the pipeline.
//
// Every search goes through hymir::Pipeline (parameters read by
// hymir::ParseQueryParams, the query built by hymir::BuildQuery); the service
// adds only the HTTP replies.
//
// Thread-safety: after Mount(), the server may run handlers concurrently on
// its thread pool; the service only reads the pipeline, whose search methods
// allow concurrent calls. The pipeline (or the engine, re-ranker and KG) must
// outlive the server.
#ifndef HYMIR_EXAMPLES_SERVE_SEARCH_SERVICE_H_
#define HYMIR_EXAMPLES_SERVE_SEARCH_SERVICE_H_

#include <hymir/engine.h>
#include <hymir/knowledge.h>
#include <hymir/live_pipeline.h>
#include <hymir/pipeline.h>
#include <hymir/reranker.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace httplib {
class Server;
}

namespace hymir::serve {

struct ServiceOptions {
  size_t default_k = 10;
  size_t max_k = 1000;         // largest k (and offset + k) a request may ask for
  size_t rerank_depth = 100;   // candidates the re-ranker scores per query (parts constructor only;
                               // a pipeline's own depth applies otherwise)
  size_t snippet_chars = 280;  // length of a hit's text snippet
};

// What a handler answers: HTTP status, content type and body.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class SearchService {
 public:
  // Serves `pipeline` (borrowed).
  explicit SearchService(const Pipeline& pipeline, ServiceOptions options = {});
  // Serves the newest view of `live` (borrowed): each request runs on the
  // view current when it arrived, so commits never break one in flight.
  explicit SearchService(const LivePipeline& live, ServiceOptions options = {});
  // Serves a pipeline over these parts (borrowed); `reranker` and `kg` may be
  // null (no re-ranking, no KG expansion).
  SearchService(const Engine& engine, const Reranker* reranker, const KnowledgeContext* kg,
                ServiceOptions options = {});

  // The route handlers, callable without a server (params: the query
  // string's parameters; a repeated parameter appears repeatedly).
  Reply Search(const std::multimap<std::string, std::string>& params) const;
  Reply GetDocument(const std::multimap<std::string, std::string>& params) const;
  Reply Info() const;
  static Reply Page();

  // Registers the routes above (and JSON 404/500 handlers) on `server`.
  void Mount(httplib::Server& server) const;

 private:
  // The pipeline a request runs on (held for the whole request).
  std::function<std::shared_ptr<const Pipeline>()> current_;
  ServiceOptions options_;
};

}  // namespace hymir::serve

#endif  // HYMIR_EXAMPLES_SERVE_SEARCH_SERVICE_H_
