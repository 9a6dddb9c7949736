// The HTML of the search page (see search_page.h).
#include "serve/search_page.h"

namespace hymir::serve {

const std::string_view kSearchPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hymir search</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
  header { background: #233; color: #eee; padding: 10px 24px; }
  header b { font-size: 18px; margin-right: 12px; }
  #info { font-size: 13px; color: #bcc; }
  main { max-width: 980px; margin: 0 auto; padding: 16px 24px; }
  form { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; }
  #q { flex: 1 1 420px; font-size: 17px; padding: 7px 9px; border: 1px solid #99a; border-radius: 4px; }
  button { font-size: 15px; padding: 7px 16px; }
  label { font-size: 13px; white-space: nowrap; }
  .hit { background: #fff; border: 1px solid #e2e2e6; border-radius: 5px; padding: 10px 14px; margin: 10px 0; }
  .hit h3 { margin: 0 0 3px; font-size: 16px; }
  .hit h3 a { color: #124e9c; text-decoration: none; cursor: pointer; }
  .meta { font-size: 12px; color: #667; }
  .meta span { margin-right: 12px; }
  .dom { background: #e4eef7; border-radius: 3px; padding: 0 5px; }
  .snip { margin: 5px 0 0; }
  mark { background: #fff1a8; padding: 0; }
  .moe { font-size: 12px; color: #444; margin-top: 5px; font-family: ui-monospace, monospace; }
  #status { font-size: 13px; color: #556; margin: 10px 0; }
  #error { color: #a00; font-weight: 600; }
  #doc { position: fixed; top: 0; right: 0; width: min(560px, 100%); height: 100%; overflow: auto;
         background: #fff; border-left: 1px solid #ccd; box-shadow: -4px 0 12px #0002; padding: 16px 20px;
         box-sizing: border-box; display: none; }
  #doc pre { white-space: pre-wrap; font: inherit; }
  #pager button { margin-right: 8px; }
  #layout { display: flex; gap: 18px; align-items: flex-start; }
  #facets { flex: 0 0 190px; font-size: 13px; }
  #facets:empty { display: none; }
  #facets h4 { margin: 12px 0 4px; font-size: 13px; color: #334; }
  #facets a { display: block; color: #124e9c; cursor: pointer; text-decoration: none; padding: 1px 0; }
  #facets a.chip { display: inline-block; background: #e4eef7; border-radius: 3px; padding: 1px 6px; margin: 2px 4px 2px 0; }
  #content { flex: 1; min-width: 0; }
</style>
</head>
<body>
<header><b>hymir</b><span id="info">loading index information&hellip;</span></header>
<main>
<form id="form">
  <input id="q" name="q" type="search" placeholder="Search&hellip;" autofocus autocomplete="off">
  <button type="submit">Search</button>
  <label>retriever <select id="retriever">
    <option value="auto">auto</option><option value="hybrid">hybrid</option>
    <option value="bm25">bm25</option><option value="vector">vector</option></select></label>
  <label>hits <select id="k"><option>10</option><option>20</option><option>50</option></select></label>
  <label><input id="rerank" type="checkbox"> MoE re-rank</label>
  <label><input id="expand" type="checkbox"> KG expansion</label>
  <label><input id="explain" type="checkbox"> explain</label>
  <label>filter <input id="filter" size="14" placeholder="field:value"></label>
</form>
<div id="layout">
<nav id="facets"></nav>
<div id="content">
<div id="status"></div>
<div id="error"></div>
<div id="results"></div>
<div id="pager"></div>
</div>
</div>
</main>
<aside id="doc"></aside>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let offset = 0;
// Facetable typed fields of the index (from /api/info), and the filters
// added by clicking facet values (shown as removable chips).
let facetFields = [];
let chips = [];
const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
    (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const fmt = (x) => (typeof x === "number" ? x.toFixed(4) : "-");
const stage = (s) => (s ? fmt(s.score) + " @" + s.rank : "-");

// Query words marked in a snippet: whole words and their plurals, and any
// longer form of words of four letters or more ("lens" marks "lenses");
// common words never.
const STOP = new Set(("a an and are as at be but by for from has have in into is it its not of on or " +
                      "that the their then there these they this to was were what when which who will with").split(" "));
function highlight(text, query) {
  const words = query.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1 && !STOP.has(w));
  if (!words.length) return esc(text);
  const pattern = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") +
                                   (w.length >= 4 ? "[\\p{L}\\p{N}]*" : "s?")).join("|");
  const re = new RegExp("(?<![\\p{L}\\p{N}])(?:" + pattern + ")(?![\\p{L}\\p{N}])", "giu");
  // Matched on the raw text, escaped piece by piece (never inside an entity).
  let html = "", last = 0;
  for (const m of String(text).matchAll(re)) {
    html += esc(text.slice(last, m.index)) + "<mark>" + esc(m[0]) + "</mark>";
    last = m.index + m[0].length;
  }
  return html + esc(text.slice(last));
}

async function getJson(url) {
  const res = await fetch(url);
  const body = await res.json().catch(() => ({error: "HTTP " + res.status}));
  if (!res.ok) throw new Error(body.error || ("HTTP " + res.status));
  return body;
}

async function loadInfo() {
  try {
    const info = await getJson("/api/info");
    const vf = info.vector_fields.map((f) => f.name + " (" + f.dimension + "d" +
                                      (f.embedder ? ", " + f.embedder : "") + ")").join(", ");
    $("info").textContent = info.documents + " documents" + (vf ? " · vectors: " + vf : "") +
        " · fusion " + info.fusion.method + (info.reranker ? " · MoE E=" + info.reranker.routed_experts +
        " top-" + info.reranker.top_k + " S=" + info.reranker.shared_experts +
        (info.reranker.trees ? " + " + info.reranker.trees + " trees" : "") : " · no re-ranker") +
        (info.knowledge_graph ? " · KG" : "");
    // Without a model the box is off and disabled (a disabled box that is
    // checked would still ask for re-ranking).
    $("rerank").disabled = !info.reranker;
    $("rerank").checked = !!info.reranker;
    $("expand").disabled = !info.knowledge_graph;
    $("expand").checked = info.knowledge_graph;
    facetFields = (info.typed_fields || []).filter((f) => f.facet).map((f) => f.name);
  } catch (e) {
    $("info").textContent = "index information unavailable: " + e.message;
  }
}

async function search() {
  const q = $("q").value.trim();
  if (!q) return;
  const p = new URLSearchParams({q, k: $("k").value, offset, retriever: $("retriever").value,
                                 rerank: $("rerank").checked ? 1 : 0, expand: $("expand").checked ? 1 : 0,
                                 explain: $("explain").checked ? 1 : 0});
  const f = $("filter").value.trim();
  if (f) p.append("filter", f);
  const hash = new URLSearchParams(p);
  for (const c of chips) {
    p.append("filter", c);
    hash.append("chip", c);
  }
  for (const name of facetFields) p.append("facet", name + ":8");
  history.replaceState(null, "", "#" + hash.toString());
  $("error").textContent = "";
  $("status").textContent = "searching…";
  try {
    const r = await getJson("/api/search?" + p.toString());
    render(r);
  } catch (e) {
    $("status").textContent = "";
    $("results").innerHTML = "";
    $("pager").innerHTML = "";
    $("error").textContent = e.message;
  }
}

function render(r) {
  let status = r.retriever + (r.reranked ? " + MoE re-rank" : "") + " · " + r.took_ms.toFixed(1) + " ms";
  if (r.routing) status += " · gate chose experts " + r.routing.experts.map((e, i) =>
      e + " (" + r.routing.weights[i].toFixed(2) + ")").join(", ");
  if (r.expansions && r.expansions.length)
    status += " · KG added " + r.expansions.map((e) => "\u201c" + e.text + "\u201d×" + e.weight).join(", ");
  if (typeof r.total === "number") status = r.total + " matches · " + status;
  $("status").textContent = status;
  let side = chips.map((c, i) => "<a class=chip data-remove=\"" + i + "\" title=\"remove\">" + esc(c) + " ×</a>").join("");
  for (const [field, counts] of Object.entries(r.facets || {})) {
    if (!counts.length) continue;
    side += "<h4>" + esc(field) + "</h4>" + counts.map((c) =>
        "<a data-filter=\"" + esc(field + ":" + c.value) + "\">" + esc(c.value) + " (" + c.count + ")</a>").join("");
  }
  $("facets").innerHTML = side;
  if (!r.hits.length) {
    $("results").innerHTML = "<p>No hits.</p>";
  } else {
    $("results").innerHTML = r.hits.map((h) => {
      let moe = "";
      if (h.moe) {
        moe = "<div class=moe>experts " + h.moe.experts.map((e) => "#" + e.expert + " w" + e.weight.toFixed(2) +
              " → " + e.score.toFixed(3)).join(", ") + (h.moe.shared.length ? " · shared " +
              h.moe.shared.map((s) => s.toFixed(3)).join(", ") : "") +
              (h.moe.trees ? " · " + h.moe.trees.count + " trees " + h.moe.trees.score.toFixed(3) : "") + "<br>features " +
              h.moe.top_features.map((c) => esc(c.feature) + "=" + Number(c.value).toPrecision(3) + " (" +
              (c.contribution >= 0 ? "+" : "") + c.contribution.toFixed(3) + ")").join(", ") + "</div>";
      }
      return "<div class=hit><h3>" + h.rank + ". <a data-id=\"" + esc(h.id) + "\">" +
             esc(h.title || h.snippet.slice(0, 80) || h.id) + "</a></h3><div class=meta>" +
             "<span>" + esc(h.id) + "</span>" + (h.domain ? "<span class=dom>" + esc(h.domain) + "</span>" : "") +
             "<span>score " + fmt(h.score) + "</span><span>bm25 " + stage(h.stages.bm25) + "</span><span>vector " +
             stage(h.stages.vector) + "</span><span>fused " + stage(h.stages.fused) + "</span>" +
             (h.stages.rerank ? "<span>rerank " + stage(h.stages.rerank) + "</span>" : "") + "</div>" +
             "<p class=snip>" + highlight(h.snippet, r.query) + "</p>" + moe + "</div>";
    }).join("");
  }
  const k = Number($("k").value);
  $("pager").innerHTML = (offset > 0 ? "<button id=prev>← previous</button>" : "") +
                         (r.hits.length === k ? "<button id=next>next →</button>" : "");
  if ($("prev")) $("prev").onclick = () => { offset = Math.max(0, offset - k); search(); };
  if ($("next")) $("next").onclick = () => { offset += k; search(); };
}

$("results").addEventListener("click", async (ev) => {
  const a = ev.target.closest("a[data-id]");
  if (!a) return;
  try {
    const d = await getJson("/api/doc?id=" + encodeURIComponent(a.dataset.id));
    $("doc").innerHTML = "<button id=close>close</button><h2>" + esc(d.title || d.id) + "</h2><div class=meta>" +
        esc(d.id) + (d.domain ? " · " + esc(d.domain) : "") + "</div><pre>" + esc(d.text) + "</pre>";
    $("doc").style.display = "block";
    $("close").onclick = () => { $("doc").style.display = "none"; };
  } catch (e) {
    $("error").textContent = e.message;
  }
});

$("facets").addEventListener("click", (ev) => {
  const add = ev.target.closest("a[data-filter]");
  const remove = ev.target.closest("a[data-remove]");
  if (add && !chips.includes(add.dataset.filter)) chips.push(add.dataset.filter);
  if (remove) chips.splice(Number(remove.dataset.remove), 1);
  if (!add && !remove) return;
  offset = 0;
  search();
});

$("form").addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; search(); });

loadInfo().then(() => {
  // A search in the address: /#q=... (kept by the page as it searches) or /?q=... (a link or a form).
  const given = location.hash.length > 1 ? location.hash.slice(1) : location.search.slice(1);
  if (new URLSearchParams(given).has("q")) {
    const p = new URLSearchParams(given);
    $("q").value = p.get("q") || "";
    offset = Number(p.get("offset") || 0);
    if (p.get("retriever")) $("retriever").value = p.get("retriever");
    if (p.get("k")) $("k").value = p.get("k");
    if (p.get("explain") === "1") $("explain").checked = true;
    if (p.get("filter")) $("filter").value = p.get("filter");
    chips = p.getAll("chip");
    search();
  }
});
</script>
</body>
</html>
)HTML";

}  // namespace hymir::serve
