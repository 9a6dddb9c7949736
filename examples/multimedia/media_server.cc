#include "media_server.h"

#include <httplib.h>

#include <hymir/media/image.h>
#include <nlohmann/json.hpp>

#include "hymir/pipeline.h"

namespace hymir::media_cli {
namespace {

MediaReply Json(int status, const nlohmann::json& j) {
  return {status, "application/json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}
MediaReply Error(int status, const std::string& message) { return Json(status, {{"error", message}}); }
MediaReply ErrorFor(const Status& s) {
  return Error(s.IsInvalidArgument() ? 400 : s.IsNotFound() ? 404 : 500, s.ToString());
}

std::string One(const MediaParams& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

nlohmann::json Stage(const StageResult& s) {
  if (!s.present) return nullptr;
  return {{"score", s.score}, {"rank", s.rank}};
}

}  // namespace

MediaReply MediaSearch(const Engine& engine, const MediaParams& params) {
  const std::string text = One(params, "q"), like = One(params, "like");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos && like.empty())
    return Error(400, "give q (caption text) and/or like (a document id)");
  size_t k = 24;
  if (const std::string ks = One(params, "k"); !ks.empty()) {
    try {
      k = std::stoul(ks);
    } catch (...) {
      k = 0;
    }
    if (k < 1 || k > 1000) return Error(400, "parameter k=\"" + ks + "\" is not in 1..1000");
  }
  HybridQuery q;
  q.text = text;
  q.k = k;
  std::vector<std::string> filters;
  for (auto [b, e] = params.equal_range("filter"); b != e; ++b)
    if (!b->second.empty()) filters.push_back(b->second);
  if (Status s = hymir::ParseFilters(filters, &q.filters, "parameter filter"); !s.ok()) return ErrorFor(s);
  if (!like.empty()) {
    auto colour = engine.searcher().GetVector("colour", like);
    if (!colour.ok()) return ErrorFor(colour.status());
    auto texture = engine.searcher().GetVector("texture", like);
    if (!texture.ok()) return ErrorFor(texture.status());
    q.vector_field = "colour";
    q.vector = std::move(colour).value();
    q.more_vectors = {{"texture", std::move(texture).value()}};
    ranking::FusionOptions minmax;  // the best fusion measured on the stamps (bench/results, multimedia report)
    minmax.method = ranking::FusionMethod::kMinMax;
    q.fusion = minmax;
    q.retriever = text.empty() ? Retriever::kVector : Retriever::kHybrid;
  } else {
    q.retriever = Retriever::kBm25;
  }
  auto hits = engine.Search(q);
  if (!hits.ok()) return ErrorFor(hits.status());
  nlohmann::json out = nlohmann::json::array();
  for (const SearchHit& h : *hits) {
    auto doc = engine.searcher().GetDocument(h.id);
    if (!doc.ok() && !doc.status().IsNotFound()) return ErrorFor(doc.status());  // damaged, not deleted since
    nlohmann::json stages = {{"bm25", Stage(h.bm25)}, {"fused", Stage(h.fused)}};
    if (!like.empty()) {
      stages["colour"] = Stage(h.vector);
      stages["texture"] = h.more_vectors.empty() ? nullptr : Stage(h.more_vectors[0]);
    }
    out.push_back({{"rank", h.rank},
                   {"id", h.id},
                   {"score", h.score},
                   {"caption", doc.ok() ? doc->title : ""},
                   {"category", doc.ok() ? doc->domain.value_or("") : ""},
                   {"thumbnail", "/thumb?id=" + httplib::detail::encode_query_param(h.id)},
                   {"stages", stages}});
  }
  return Json(200, {{"q", text}, {"like", like}, {"hits", out}});
}

MediaReply MediaThumbnail(const Engine& engine, const MediaParams& params) {
  const std::string id = One(params, "id");
  if (id.empty()) return Error(400, "missing parameter id");
  auto doc = engine.searcher().GetDocument(id);
  if (!doc.ok()) return ErrorFor(doc.status());
  auto path = doc->fields.find("path");
  if (path == doc->fields.end()) return Error(404, "document " + id + " has no image");
  auto image = media::ReadImage(path->second);
  if (!image.ok()) return ErrorFor(image.status());
  auto small = media::Downscale(*image, kThumbnailSide);
  if (!small.ok()) return ErrorFor(small.status());
  auto png = media::EncodePng(*small);
  if (!png.ok()) return ErrorFor(png.status());
  return {200, "image/png", std::string(png->begin(), png->end())};
}

const char* MediaPage() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hymir media search</title>
<style>
body{font-family:sans-serif;margin:1.5em;max-width:70em}
form{margin-bottom:1em} input[type=text]{width:24em}
#query{color:#555;margin:.5em 0}
ol{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:12px}
li.hit{width:150px;border:1px solid #ddd;padding:6px;font-size:12px}
li.hit img{display:block;width:96px;height:96px;object-fit:contain;margin:auto;background:#f4f4f4}
.stages{color:#666}
</style></head><body>
<h1>hymir media search</h1>
<form id="f"><input type="text" id="q" name="q" placeholder="caption text, e.g. red kangaroo">
<input type="text" id="filter" name="filter" placeholder="filter, e.g. domain:animals">
<button>Search</button></form>
<div id="query"></div>
<ol id="results"></ol>
<script>
const params = new URLSearchParams(location.search);
let like = params.get('like') || '';
document.getElementById('q').value = params.get('q') || '';
document.getElementById('filter').value = params.get('filter') || '';
function stage(s){return s ? s.score.toFixed(3)+'@'+s.rank : '-';}
function run(){
  const p = new URLSearchParams();
  const q = document.getElementById('q').value, filter = document.getElementById('filter').value;
  if (q) p.set('q', q);
  if (like) p.set('like', like);
  if (filter) p.set('filter', filter);
  history.replaceState(null, '', '?' + p.toString());
  document.getElementById('query').textContent = (q ? 'text: ' + q + ' ' : '') + (like ? 'more like: ' + like : '');
  return fetch('/api/search?' + p.toString()).then(r => r.json()).then(j => {
    const ol = document.getElementById('results');
    ol.innerHTML = '';
    if (j.error) { document.getElementById('query').textContent = j.error; return; }
    for (const h of j.hits) {
      const li = document.createElement('li');
      li.className = 'hit';
      li.dataset.id = h.id;
      const img = document.createElement('img');
      img.src = h.thumbnail; img.alt = h.caption;
      const cap = document.createElement('div'); cap.className = 'caption'; cap.textContent = h.rank + '. ' + h.caption;
      const cat = document.createElement('div'); cat.className = 'category'; cat.textContent = h.category;
      const st = document.createElement('div'); st.className = 'stages';
      st.textContent = 'bm25 ' + stage(h.stages.bm25) + ' colour ' + stage(h.stages.colour) +
                       ' texture ' + stage(h.stages.texture) + ' fused ' + stage(h.stages.fused);
      const more = document.createElement('a');
      more.href = '#'; more.className = 'more'; more.textContent = 'more like this';
      more.onclick = e => { e.preventDefault(); like = h.id; document.getElementById('q').value = ''; run(); };
      li.append(img, cap, cat, st, more);
      ol.append(li);
    }
  });
}
document.getElementById('f').onsubmit = e => { e.preventDefault(); like = ''; run(); };
if (like || params.get('q')) run();
</script></body></html>
)HTML";
}

void MountMediaRoutes(const Engine& engine, httplib::Server& server) {
  auto send = [](httplib::Response& res, const MediaReply& r) {
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  };
  auto params = [](const httplib::Request& req) { return MediaParams(req.params.begin(), req.params.end()); };
  server.Get("/", [send](const httplib::Request&, httplib::Response& res) {
    send(res, {200, "text/html; charset=utf-8", MediaPage()});
  });
  server.Get("/api/search", [&engine, send, params](const httplib::Request& req, httplib::Response& res) {
    send(res, MediaSearch(engine, params(req)));
  });
  server.Get("/thumb", [&engine, send, params](const httplib::Request& req, httplib::Response& res) {
    send(res, MediaThumbnail(engine, params(req)));
  });
}

}  // namespace hymir::media_cli
