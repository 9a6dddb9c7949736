// hymir-media: a multimedia retrieval pipeline on hymir. Ingests a tree of
// images (Tux Paint stamps: /usr/share/tuxpaint/stamps) into an index with a
// caption (BM25), a category and one vector field per image descriptor, then
// searches it by example image, by text, or both fused, through the same
// Engine as the text pipeline, and evaluates query by example with the
// categories as judgements.

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <hymir/engine.h>
#include <hymir/features.h>
#include <hymir/ranking/moe_trainer.h>
#include <hymir/ranking/routing_report.h>
#include <hymir/media/media_collection.h>
#include <hymir/media/media_describer.h>
#include <hymir/media/media_ingest.h>
#include <hymir/ranking/metrics.h>
#include <hymir/ranking/qrels.h>
#include <hymir/train_reranker.h>
#include <nlohmann/json.hpp>
#include <cmath>
#include <random>
#include <filesystem>
#include <set>

#include "common/app.h"
#include "common/cli_main.h"
#include "hymir/pipeline.h"
#include "media_server.h"
#include "serve/http_server.h"

namespace hymir::media_cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kName = "media";

int Fail(const Status& s, bool usage = false) {
  std::fprintf(stderr, "hymir-media: error: %s\n", s.ToString().c_str());
  if (usage || s.IsNotFound()) return app::kExitUsage;
  return app::kExitFailure;
}

// ---------------------------------------------------------------- ingest

struct IngestFlags {
  std::string dir, index;
  int threads = 1;
  int words = 256;
  int colour_bins = 4;
  bool sound = true;
  bool quiet = false;
};

// The image tree and index from --dir and --index, or from the older
// positional form (`ingest DIR INDEX`): the positionals fill, in order,
// whichever of the two the flags left unset.
Status ResolveIngestPaths(IngestFlags& f, const std::vector<std::string>& positionals) {
  size_t next = 0;
  for (auto [flag, value] : {std::pair{"--dir", &f.dir}, std::pair{"--index", &f.index}}) {
    if (value->empty() && next < positionals.size()) *value = positionals[next++];
    if (value->empty()) return Status::InvalidArgument(std::string(flag) + " is required");
  }
  if (next < positionals.size())
    return Status::InvalidArgument("unexpected argument '" + positionals[next] +
                                   "' (ingest takes --dir DIR --index INDEX, or DIR INDEX)");
  if (!std::filesystem::is_directory(f.dir)) return Status::NotFound(f.dir + ": no such directory");
  return Status::OK();
}

int RunIngest(IngestFlags f, const std::vector<std::string>& extra) {
  for (const std::string& arg : extra)
    if (!arg.empty() && arg[0] == '-') return Fail(Status::InvalidArgument("unknown option " + arg), true);
  if (Status s = ResolveIngestPaths(f, extra); !s.ok()) return Fail(s, true);
  auto collection = media::ScanMediaDirectory(f.dir);
  if (!collection.ok()) return Fail(collection.status());
  for (const auto& s : collection->skipped) std::fprintf(stderr, "skipped %s: %s\n", s.path.c_str(), s.reason.c_str());
  media::IngestOptions o;
  o.threads = f.threads;
  o.descriptors.vocabulary.words = f.words;
  o.descriptors.colour.bins_per_channel = f.colour_bins;
  o.descriptors.sound = f.sound;
  const auto start = Clock::now();
  const bool tty = app::StderrIsTerminal();
  if (!f.quiet) {
    o.progress = [&](size_t done, size_t total) {
      if (done != total && done % (tty ? 10 : 100) != 0) return;
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      std::fprintf(stderr, "%sdescribed %zu/%zu images (%.1f images/s)%s", tty ? "\r" : "", done, total,
                   s > 0 ? done / s : 0.0, tty && done != total ? "" : "\n");
    };
  }
  std::fprintf(stderr, "ingest: %zu images in %s, %d thread(s)\n", collection->items.size(), f.dir.c_str(), f.threads);
  auto report = media::IngestMedia(*collection, f.index, o);
  if (!report.ok()) return Fail(report.status(), report.status().code() == Status::Code::kAlreadyExists);
  for (const auto& s : report->failed)
    std::fprintf(stderr, "bad file, skipped: %s: %s\n", s.path.c_str(), s.reason.c_str());
  std::printf(
      "indexed %zu images (%zu with a sound) into %s in %.2f s (%.1f images/s); %zu bad files skipped, "
      "%zu variants left out\n",
      report->indexed, report->sounds, f.index.c_str(), report->seconds, report->indexed / report->seconds,
      report->failed.size(), collection->skipped.size());
  std::printf("stages: decode+describe %.2f s, vocabulary (%zu patches, %d words) %.2f s, encode+index+commit %.2f s\n",
              report->decode_seconds, report->local_descriptors, f.words, report->vocabulary_seconds,
              report->index_seconds);
  return app::kExitOk;
}

// ---------------------------------------------------------------- search

struct SearchFlags {
  std::string index;
  std::string image;  // a query image file
  std::string like;   // a document id: query by its stored vectors ("more like this")
  std::string sound;  // a query sound file
  std::string text;
  std::vector<std::string> fields = {media::kColourField, media::kTextureField};
  std::vector<std::string> filters;
  size_t k = 10;
  std::string fusion = "minmax";  // the best measured on the stamps (bench/results, multimedia report)
  std::vector<double> weights;
  bool json = false;
};

// The query vectors by field: from a file described as at ingest, or a
// document's stored vectors.
Result<std::map<std::string, std::vector<float>>> QueryVectors(const Engine& engine, const std::string& index,
                                                               const SearchFlags& f) {
  std::map<std::string, std::vector<float>> out;
  if (!f.sound.empty()) {
    HYMIR_ASSIGN_OR_RETURN(media::MediaDescriber describer, media::MediaDescriber::Load(index));
    HYMIR_ASSIGN_OR_RETURN(media::Audio audio, media::ReadAudio(f.sound));
    HYMIR_ASSIGN_OR_RETURN(out[media::kSoundField], describer.DescribeSound(audio));
  }
  if (!f.image.empty()) {
    HYMIR_ASSIGN_OR_RETURN(media::MediaDescriber describer, media::MediaDescriber::Load(index));
    HYMIR_ASSIGN_OR_RETURN(media::Image image, media::ReadImage(f.image));
    HYMIR_ASSIGN_OR_RETURN(auto vectors, describer.Describe(image));
    for (auto& [field, v] : vectors) out[field] = std::move(v);
  } else if (!f.like.empty()) {
    for (const auto& field : f.fields) {
      auto v = engine.searcher().GetVector(field, f.like);
      if (!v.ok()) return v.status().WithContext("--like " + f.like);
      out[field] = std::move(v).value();
    }
  }
  return out;
}

// A query over `fields` of `vectors` (first field as the primary vector
// list, the others as more lists), plus `text` for BM25.
HybridQuery MakeQuery(const std::map<std::string, std::vector<float>>& vectors, const std::vector<std::string>& fields,
                      const std::string& text) {
  HybridQuery q;
  q.text = text;
  bool first = true;
  for (const auto& field : fields) {
    auto it = vectors.find(field);
    if (it == vectors.end()) continue;
    if (first) {
      q.vector_field = field;
      q.vector = it->second;
      first = false;
    } else {
      q.more_vectors.push_back({field, it->second});
    }
  }
  return q;
}

std::string StageText(const StageResult& s) {
  if (!s.present) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f@%u", s.score, s.rank);
  return buf;
}

nlohmann::json StageJson(const StageResult& s) {
  if (!s.present) return nullptr;
  return {{"score", s.score}, {"rank", s.rank}};
}

int RunSearch(const SearchFlags& f) {
  if (f.image.empty() && f.like.empty() && f.text.empty() && f.sound.empty())
    return Fail(Status::InvalidArgument("give --image FILE, --like ID, --sound FILE and/or --text \"...\""), true);
  if (!f.image.empty() && !f.like.empty())
    return Fail(Status::InvalidArgument("--image and --like are two ways of giving the query image; give one"), true);
  for (const auto& field : f.fields)
    if (field != media::kColourField && field != media::kTextureField && field != media::kSoundField)
      return Fail(Status::InvalidArgument("--fields: unknown descriptor \"" + field + "\" (colour, texture, sound)"),
                  true);
  auto engine = Engine::Open(f.index);
  if (!engine.ok()) return Fail(engine.status());
  auto vectors = QueryVectors(**engine, f.index, f);
  if (!vectors.ok()) return Fail(vectors.status(), vectors.status().IsNotFound());
  if (!vectors->empty() && f.fields.empty()) return Fail(Status::InvalidArgument("--fields: none"), true);
  // A query sound searches the sound field besides the image fields.
  std::vector<std::string> fields = f.fields;
  if (vectors->count(media::kSoundField) && std::find(fields.begin(), fields.end(), media::kSoundField) == fields.end())
    fields.push_back(media::kSoundField);
  HybridQuery q = MakeQuery(*vectors, fields, f.text);
  q.k = f.k;
  q.vector_depth = std::max<size_t>(q.vector_depth, f.k);
  if (Status s = hymir::ParseFilters(f.filters, &q.filters, "--filter"); !s.ok()) return Fail(s, true);
  auto method = ranking::ParseFusionMethod(f.fusion);
  if (!method.ok()) return Fail(method.status(), true);
  ranking::FusionOptions fusion;
  fusion.method = *method;
  fusion.weights = f.weights;
  // Fused whenever there are two lists or more (BM25 + image lists, or
  // several image lists).
  if ((!q.text.empty() && !q.vector.empty()) || !q.more_vectors.empty()) q.fusion = fusion;
  if (q.fusion && q.fusion->method == ranking::FusionMethod::kConvex && 2 + q.more_vectors.size() > 2)
    return Fail(Status::InvalidArgument("--fusion convex takes two lists; this query has " +
                                        std::to_string(2 + q.more_vectors.size())),
                true);
  if (!vectors->empty() && q.text.empty()) q.retriever = Retriever::kVector;
  if (vectors->empty()) q.retriever = Retriever::kBm25;
  auto hits = (*engine)->Search(q);
  if (!hits.ok()) return Fail(hits.status(), hits.status().IsInvalidArgument());
  // Stage names: bm25, then one per vector list.
  std::vector<std::string> lists;
  if (!q.vector.empty()) lists.push_back(q.vector_field);
  for (const auto& c : q.more_vectors) lists.push_back(c.field);
  nlohmann::json out = nlohmann::json::array();
  for (const SearchHit& h : *hits) {
    auto doc = (*engine)->searcher().GetDocument(h.id);
    if (!doc.ok()) return Fail(doc.status());
    std::vector<StageResult> stages;
    if (!q.vector.empty()) stages.push_back(h.vector);
    for (const auto& s : h.more_vectors) stages.push_back(s);
    if (f.json) {
      nlohmann::json st = {{"bm25", StageJson(h.bm25)}, {"fused", StageJson(h.fused)}};
      for (size_t i = 0; i < lists.size(); ++i) st[lists[i]] = StageJson(stages[i]);
      out.push_back({{"id", h.id},
                     {"rank", h.rank},
                     {"score", h.score},
                     {"caption", doc->title},
                     {"category", doc->domain.value_or("")},
                     {"path", doc->fields["path"]},
                     {"stages", st}});
    } else {
      std::printf("%2u  %-40s %.5f  [%s] %s\n", h.rank, h.id.c_str(), h.score, doc->domain.value_or("").c_str(),
                  doc->title.c_str());
      std::printf("    bm25 %s", StageText(h.bm25).c_str());
      for (size_t i = 0; i < lists.size(); ++i) std::printf("  %s %s", lists[i].c_str(), StageText(stages[i]).c_str());
      std::printf("\n");
    }
  }
  if (f.json) std::printf("%s\n", out.dump(2).c_str());
  return app::kExitOk;
}

// ---------------------------------------------------------------- eval

struct EvalFlags {
  std::string index;
  size_t queries = 0;  // 0 = every document
  uint64_t seed = 42;
  std::vector<double> both_weights;  // wrrf weights (bm25, colour, texture) for "text+image"
  std::vector<std::string> fusions = {"rrf", "minmax"};
  bool json = false;
};

// The ranked lists of `hits` as a run, each query's own document left out,
// ranks as scores (from `depth` down) so that equal fused scores keep the
// engine's order.
ranking::Run RunWithoutSelf(const std::vector<HybridQuery>& queries, const std::vector<std::vector<SearchHit>>& hits,
                            size_t depth) {
  ranking::Run run;
  for (size_t j = 0; j < queries.size(); ++j) {
    auto& list = run[queries[j].id];
    double score = static_cast<double>(depth);
    for (const SearchHit& h : hits[j])
      if (h.id != queries[j].id) list.push_back({h.id, score--});
  }
  return run;
}

// For each of `queries` (ids), the other ids of `pool` in a random order.
ranking::Run RandomRun(const std::vector<std::string>& queries, const std::vector<std::string>& pool,
                       std::mt19937_64& rng) {
  ranking::Run run;
  for (const std::string& q : queries) {
    std::vector<std::string> others;
    for (const std::string& id : pool)
      if (id != q) others.push_back(id);
    std::shuffle(others.begin(), others.end(), rng);
    auto& list = run[q];
    for (size_t r = 0; r < others.size(); ++r) list.push_back({others[r], static_cast<double>(others.size() - r)});
  }
  return run;
}

int RunEval(const EvalFlags& f) {
  auto engine = Engine::Open(f.index);
  if (!engine.ok()) return Fail(engine.status());
  const index::Searcher& searcher = (*engine)->searcher();
  auto ids = searcher.DocumentIds();
  if (!ids.ok()) return Fail(ids.status());
  // Index order depends on how many threads ingested; runs must not.
  std::sort(ids->begin(), ids->end());
  struct Doc {
    std::string id, category, caption;
    std::map<std::string, std::vector<float>> vectors;
  };
  std::vector<Doc> docs;
  std::map<std::string, std::vector<std::string>> by_category;
  for (const auto& id : *ids) {
    auto d = searcher.GetDocument(id);
    if (!d.ok()) return Fail(d.status());
    Doc doc{id, d->domain.value_or(""), d->title, {}};
    for (const char* field : {media::kColourField, media::kTextureField}) {
      auto v = searcher.GetVector(field, id);
      if (!v.ok()) return Fail(v.status());
      doc.vectors[field] = std::move(v).value();
    }
    by_category[doc.category].push_back(id);
    docs.push_back(std::move(doc));
  }
  // Query documents: all, or an even sample.
  std::vector<size_t> chosen(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) chosen[i] = i;
  std::mt19937_64 rng(f.seed);
  if (f.queries > 0 && f.queries < docs.size()) {
    std::shuffle(chosen.begin(), chosen.end(), rng);
    chosen.resize(f.queries);
    std::sort(chosen.begin(), chosen.end());
  }
  ranking::Qrels qrels;
  for (size_t i : chosen)
    for (const auto& other : by_category[docs[i].category])
      if (other != docs[i].id) qrels.Set(docs[i].id, other, 1);
  const size_t depth = docs.size();
  struct RunSpec {
    std::string name;
    std::vector<std::string> fields;
    bool text;
    std::optional<ranking::FusionOptions> fusion;
  };
  std::vector<RunSpec> specs = {
      {"colour", {media::kColourField}, false, std::nullopt},
      {"texture", {media::kTextureField}, false, std::nullopt},
      {"caption text (bm25)", {}, true, std::nullopt},
  };
  for (const std::string& name : f.fusions) {
    auto method = ranking::ParseFusionMethod(name);
    if (!method.ok()) return Fail(method.status(), true);
    if (*method == ranking::FusionMethod::kConvex)
      return Fail(Status::InvalidArgument("--fusions: convex takes two lists; these runs fuse three"), true);
    ranking::FusionOptions o;
    o.method = *method;
    specs.push_back({"colour+texture (" + name + ")", {media::kColourField, media::kTextureField}, false, o});
    specs.push_back({"text+colour+texture (" + name + ")", {media::kColourField, media::kTextureField}, true, o});
  }
  if (!f.both_weights.empty()) {
    ranking::FusionOptions w;
    w.method = ranking::FusionMethod::kWeightedRrf;
    w.weights = f.both_weights;
    std::string name = "text+colour+texture (wrrf";
    for (double x : f.both_weights) name += " " + nlohmann::json(x).dump();
    specs.push_back({name + ")", {media::kColourField, media::kTextureField}, true, w});
  }
  std::vector<std::pair<std::string, ranking::Evaluation>> results;
  // Random ranking of the other documents.
  {
    std::vector<std::string> query_ids;
    for (size_t i : chosen) query_ids.push_back(docs[i].id);
    auto e = ranking::Evaluate(qrels, RandomRun(query_ids, *ids, rng));
    if (!e.ok()) return Fail(e.status());
    results.push_back({"random", std::move(e).value()});
  }
  for (const RunSpec& spec : specs) {
    std::vector<HybridQuery> queries;
    for (size_t i : chosen) {
      HybridQuery q = MakeQuery(docs[i].vectors, spec.fields, spec.text ? docs[i].caption : "");
      q.id = docs[i].id;
      q.k = depth;
      q.bm25_depth = depth;
      q.vector_depth = depth;
      q.fusion = spec.fusion;
      q.retriever = spec.fields.empty() ? Retriever::kBm25 : spec.text ? Retriever::kHybrid : Retriever::kVector;
      queries.push_back(std::move(q));
    }
    auto hits = (*engine)->SearchBatch(queries);
    if (!hits.ok()) return Fail(hits.status());
    auto e = ranking::Evaluate(qrels, RunWithoutSelf(queries, *hits, depth));
    if (!e.ok()) return Fail(e.status());
    results.push_back({spec.name, std::move(e).value()});
  }
  // Query by sound: the documents with a sound, among themselves (the image
  // lists restricted to them by the has_sound filter).
  std::vector<std::pair<std::string, ranking::Evaluation>> sound_results;
  std::vector<size_t> with_sound;
  for (size_t i = 0; i < docs.size(); ++i) {
    auto v = searcher.GetVector(media::kSoundField, docs[i].id);
    if (v.ok()) {
      docs[i].vectors[media::kSoundField] = std::move(v).value();
      with_sound.push_back(i);
    } else if (!v.status().IsNotFound() && !v.status().IsInvalidArgument()) {
      return Fail(v.status());
    }
  }
  std::map<std::string, size_t> sound_categories;
  if (with_sound.size() >= 2) {
    ranking::Qrels sound_qrels;
    std::map<std::string, std::vector<std::string>> sound_members;
    for (size_t i : with_sound) sound_members[docs[i].category].push_back(docs[i].id);
    for (const auto& [c, m] : sound_members) sound_categories[c] = m.size();
    for (size_t i : with_sound)
      for (const auto& other : sound_members[docs[i].category])
        if (other != docs[i].id) sound_qrels.Set(docs[i].id, other, 1);
    std::vector<std::string> sound_ids;
    for (size_t i : with_sound) sound_ids.push_back(docs[i].id);
    auto e = ranking::Evaluate(sound_qrels, RandomRun(sound_ids, sound_ids, rng));
    if (!e.ok()) return Fail(e.status());
    sound_results.push_back({"random", std::move(e).value()});
    ranking::FusionOptions minmax;
    minmax.method = ranking::FusionMethod::kMinMax;
    const std::vector<RunSpec> sound_specs = {
        {"sound", {media::kSoundField}, false, std::nullopt},
        {"colour+texture (minmax)", {media::kColourField, media::kTextureField}, false, minmax},
        {"sound+colour+texture (minmax)",
         {media::kSoundField, media::kColourField, media::kTextureField},
         false,
         minmax},
    };
    for (const RunSpec& spec : sound_specs) {
      std::vector<HybridQuery> queries;
      for (size_t i : with_sound) {
        HybridQuery q = MakeQuery(docs[i].vectors, spec.fields, "");
        q.id = docs[i].id;
        q.k = with_sound.size();
        q.vector_depth = with_sound.size();
        q.fusion = spec.fusion;
        q.retriever = Retriever::kVector;
        q.filters = {{"has_sound", {"yes"}}};
        queries.push_back(std::move(q));
      }
      auto hits = (*engine)->SearchBatch(queries);
      if (!hits.ok()) return Fail(hits.status());
      auto ev = ranking::Evaluate(sound_qrels, RunWithoutSelf(queries, *hits, depth));
      if (!ev.ok()) return Fail(ev.status());
      sound_results.push_back({spec.name, std::move(ev).value()});
    }
  }
  if (f.json) {
    nlohmann::json j = {{"queries", chosen.size()}, {"documents", docs.size()}, {"categories", by_category.size()}};
    for (const auto& [name, e] : results) j["runs"][name] = {{"P_10", e.mean.p_10}, {"map", e.mean.map}};
    j["sound_queries"] = with_sound.size();
    for (const auto& [name, e] : sound_results) j["sound_runs"][name] = {{"P_10", e.mean.p_10}, {"map", e.mean.map}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("query by example: %zu queries over %zu documents in %zu categories (relevant = same category)\n",
                chosen.size(), docs.size(), by_category.size());
    std::printf("%-36s %8s %8s\n", "run", "P@10", "mAP");
    for (const auto& [name, e] : results) std::printf("%-36s %8.4f %8.4f\n", name.c_str(), e.mean.p_10, e.mean.map);
    if (!sound_results.empty()) {
      std::printf("\nquery by sound: the %zu documents with a sound, among themselves, in %zu categories:",
                  with_sound.size(), sound_categories.size());
      for (const auto& [c, n] : sound_categories) std::printf(" %s %zu", c.c_str(), n);
      std::printf("\n%-36s %8s %8s\n", "run", "P@10", "mAP");
      for (const auto& [name, e] : sound_results)
        std::printf("%-36s %8.4f %8.4f\n", name.c_str(), e.mean.p_10, e.mean.map);
    }
  }
  return app::kExitOk;
}

// ---------------------------------------------------------------- moe

struct MoeFlags {
  std::string index;
  size_t depth = 100;
  int experts = 4;
  int top_k = 1;
  bool trees = false;  // the boosted shared expert (its media figures were measured without it)
  int epochs = 40;
  uint64_t seed = 42;
  std::string routing_svg;
};

// nDCG@10 (binary gains) and AP of a ranking of `ids` with `relevant` of them
// relevant out of `total_relevant`.
std::pair<double, double> NdcgAp(const std::vector<std::string>& ids, const std::set<std::string>& relevant,
                                 size_t total_relevant) {
  double dcg = 0, idcg = 0, ap = 0;
  size_t hits = 0;
  for (size_t r = 0; r < ids.size(); ++r) {
    if (!relevant.count(ids[r])) continue;
    ++hits;
    ap += static_cast<double>(hits) / static_cast<double>(r + 1);
    if (r < 10) dcg += 1.0 / std::log2(r + 2.0);
  }
  for (size_t r = 0; r < std::min<size_t>(10, total_relevant); ++r) idcg += 1.0 / std::log2(r + 2.0);
  return {idcg > 0 ? dcg / idcg : 0.0, total_relevant ? ap / total_relevant : 0.0};
}

// The MoE re-ranker trained on media queries: image (colour + texture), text
// (caption) and both, relevant = same category; train on the queries of half
// the documents, compare with the fused retrieval order on the other half,
// and report the gate's routing by query kind.
int RunMoe(const MoeFlags& f) {
  auto engine_or = Engine::Open(f.index);
  if (!engine_or.ok()) return Fail(engine_or.status());
  const Engine& engine = **engine_or;
  const index::Searcher& searcher = engine.searcher();
  auto ids = searcher.DocumentIds();
  if (!ids.ok()) return Fail(ids.status());
  // Index order depends on how many threads ingested; runs must not.
  std::sort(ids->begin(), ids->end());
  std::map<std::string, std::string> category;
  std::map<std::string, std::vector<std::string>> members;
  std::vector<TrainingQuery> queries;
  std::vector<std::string> kinds;  // per query
  std::vector<std::string> owner;  // per query: its document
  ranking::FusionOptions minmax;
  minmax.method = ranking::FusionMethod::kMinMax;
  for (const auto& id : *ids) {
    auto doc = searcher.GetDocument(id);
    if (!doc.ok()) return Fail(doc.status());
    category[id] = doc->domain.value_or("");
    members[category[id]].push_back(id);
    auto colour = searcher.GetVector(media::kColourField, id);
    auto texture = searcher.GetVector(media::kTextureField, id);
    if (!colour.ok()) return Fail(colour.status());
    if (!texture.ok()) return Fail(texture.status());
    for (const char* kind : {"image", "text", "both"}) {
      TrainingQuery t;
      HybridQuery& q = t.query;
      q.id = std::string(kind) + ":" + id;
      const bool image = std::string(kind) != "text", text = std::string(kind) != "image";
      if (text) q.text = doc->title;
      if (image) {
        q.vector_field = media::kColourField;
        q.vector = *colour;
        q.more_vectors = {{media::kTextureField, *texture}};
        q.fusion = minmax;
      }
      q.retriever = !image ? Retriever::kBm25 : text ? Retriever::kHybrid : Retriever::kVector;
      q.vector_depth = f.depth + 1;
      q.bm25_depth = f.depth + 1;
      t.exclude = {id};  // the query's own document is not a result
      queries.push_back(std::move(t));
      kinds.push_back(kind);
      owner.push_back(id);
    }
  }
  ranking::Qrels qrels;
  for (size_t i = 0; i < queries.size(); ++i)
    for (const auto& other : members[category[owner[i]]])
      if (other != owner[i]) qrels.Set(queries[i].query.id, other, 1);
  TrainRerankerOptions o;
  o.depth = f.depth;
  o.features.query_embedding_dims = 0;
  o.features.vector_field_features = true;
  o.domain_features = false;
  o.train.model.routed_experts = f.experts;
  o.train.model.top_k = f.top_k;
  o.train.max_epochs = f.epochs;
  o.train.seed = f.seed;
  o.train.balance_domains = false;
  o.train.tree_expert = f.trees;
  std::fprintf(stderr, "moe: retrieving %zu queries (depth %zu)\n", queries.size(), f.depth);
  auto set = BuildTrainingSet(engine, queries, qrels, o);
  if (!set.ok()) return Fail(set.status());
  // Split by document (all three kinds of a document on one side): every
  // other document in id order.
  std::map<std::string, bool> train_doc;
  for (size_t j = 0; j < ids->size(); ++j) train_doc[(*ids)[j]] = j % 2 == 0;
  TrainingSet train;
  train.extractor = set->extractor;
  std::vector<ranking::QueryGroup> test;
  std::vector<size_t> test_query;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (train_doc[owner[i]]) {
      train.groups.push_back(set->groups[i]);
    } else {
      test.push_back(set->groups[i]);
      test_query.push_back(i);
    }
  }
  TrainRerankerReport trained;
  std::fprintf(stderr, "moe: training on %zu queries, %zu pair and %zu query features\n", train.groups.size(),
               set->extractor->schema().pair_dim(), set->extractor->schema().query_dim());
  auto model = TrainReranker(engine, train, o, &trained);
  if (!model.ok()) return Fail(model.status());
  const ranking::TrainReport& report = trained.train;
  // Test: fused retrieval order vs the MoE's order, per kind.
  struct Sums {
    double n = 0, ndcg_h = 0, ap_h = 0, ndcg_m = 0, ap_m = 0;
  };
  std::map<std::string, Sums> by_kind;
  std::vector<ranking::QueryRouting> routings;
  std::map<std::string, std::string> kind_of;
  for (size_t t = 0; t < test.size(); ++t) {
    const ranking::QueryGroup& g = test[t];
    const size_t i = test_query[t];
    auto scores = model->Score(g);
    if (!scores.ok()) return Fail(scores.status());
    std::vector<size_t> order(g.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return (*scores)[a] > (*scores)[b]; });
    std::vector<std::string> moe_ids;
    for (size_t k : order) moe_ids.push_back(g.doc_ids[k]);
    std::set<std::string> relevant;
    for (const auto& other : members[category[owner[i]]])
      if (other != owner[i]) relevant.insert(other);
    auto [nh, ah] = NdcgAp(g.doc_ids, relevant, relevant.size());
    auto [nm, am] = NdcgAp(moe_ids, relevant, relevant.size());
    for (const std::string& key : {kinds[i], std::string("all")}) {
      Sums& s = by_kind[key];
      s.n += 1;
      s.ndcg_h += nh;
      s.ap_h += ah;
      s.ndcg_m += nm;
      s.ap_m += am;
    }
    auto routing = model->Route(g.query_features);
    if (!routing.ok()) return Fail(routing.status());
    routings.push_back({g.query_id, routing->chosen, routing->weights});
    kind_of[g.query_id] = kinds[i];
  }
  std::printf(
      "MoE re-ranker on media queries (%d experts, top-%d, 1 shared; %zu train / %zu test queries, "
      "depth %zu; best epoch %d)\n",
      f.experts, f.top_k, train.groups.size(), test.size(), f.depth, report.best_epoch);
  std::printf("%-8s %6s %14s %14s %14s %14s\n", "kind", "n", "hybrid nDCG@10", "MoE nDCG@10", "hybrid AP@100",
              "MoE AP@100");
  for (const char* kind : {"image", "text", "both", "all"}) {
    const Sums& s = by_kind[kind];
    if (s.n == 0) continue;
    std::printf("%-8s %6.0f %14.4f %14.4f %14.4f %14.4f\n", kind, s.n, s.ndcg_h / s.n, s.ndcg_m / s.n, s.ap_h / s.n,
                s.ap_m / s.n);
  }
  const ranking::RoutingMatrix matrix = ranking::BuildRoutingMatrix(routings, kind_of, f.experts);
  std::printf("routing (top-1 expert) by query kind:\n%s", ranking::RoutingMatrixText(matrix).c_str());
  if (!f.routing_svg.empty()) {
    std::FILE* out = std::fopen(f.routing_svg.c_str(), "w");
    if (out == nullptr) return Fail(Status::IOError(f.routing_svg + ": cannot write"));
    const std::string svg = ranking::RoutingMatrixSvg(matrix, "hymir-media: top-1 expert by query kind");
    std::fwrite(svg.data(), 1, svg.size(), out);
    std::fclose(out);
  }
  return app::kExitOk;
}

// ---------------------------------------------------------------- serve

struct ServeFlags {
  std::string index;
  std::string host = "127.0.0.1";
  int port = 8090;
};

int RunServe(const ServeFlags& f) {
  auto engine = Engine::Open(f.index);
  if (!engine.ok()) return Fail(engine.status());
  serve::HttpServer server;
  MountMediaRoutes(**engine, server);
  const int port = server.Bind(f.host, f.port);
  if (port < 0 && f.port != 0)
    return Fail(Status::IOError("cannot listen on " + f.host + ":" + std::to_string(f.port)));
  if (port < 0) return Fail(Status::IOError("cannot listen on " + f.host));
  std::printf("hymir-media serve: %llu images; listening on http://%s:%d/\n",
              static_cast<unsigned long long>((*engine)->searcher().NumDocs()), f.host.c_str(), port);
  std::fflush(stdout);
  return server.listen_after_bind() ? app::kExitOk : app::kExitFailure;
}

}  // namespace
}  // namespace hymir::media_cli

int main(int argc, char** argv) {
  using namespace hymir::media_cli;
  CLI::App app{"hymir-media: image retrieval on hymir (ingest, search by image/text/both, evaluate)", "hymir-media"};
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::help);
  int exit_code = 0;

  IngestFlags ingest;
  auto* in =
      app.add_subcommand("ingest", "Describe every image under --dir and build a new index at --index (one commit)");
  // --dir and --index, as every other command names its index; the older
  // positional form `ingest DIR INDEX` is still accepted (hidden from the help).
  in->add_option("--dir", ingest.dir, "Image tree (e.g. /usr/share/tuxpaint/stamps); required")
      ->check(CLI::ExistingDirectory);
  in->add_option("--index", ingest.index, "New index directory; required");
  in->allow_extras();  // the positional form, read by RunIngest
  in->footer("The older form `hymir-media ingest DIR INDEX [OPTIONS]` is also accepted.");
  in->add_option("--threads", ingest.threads, "Decode/describe threads")->check(CLI::Range(1, 256));
  in->add_option("--words", ingest.words, "Visual words (k-means clusters) of the texture descriptor")
      ->check(CLI::Range(1, 4096));
  in->add_option("--colour-bins", ingest.colour_bins, "Colour histogram bins per RGB channel")
      ->check(CLI::Range(1, 16));
  in->add_flag("!--no-sound", ingest.sound, "Do not index the images' sounds");
  in->add_flag("--quiet", ingest.quiet, "No progress lines");
  in->callback([&] { exit_code = RunIngest(ingest, in->remaining()); });

  SearchFlags search;
  auto* se = app.add_subcommand("search", "Query by example image (--image/--like), by caption text (--text), or both");
  se->add_option("--index", search.index, "Media index")->required();
  se->add_option("--image", search.image, "Query image file");
  se->add_option("--like", search.like, "Query by the stored image of a document (more like this)");
  se->add_option("--sound", search.sound, "Query sound file (searches field sound; with an image, fused)");
  se->add_option("--text", search.text, "Query text (BM25 over the captions)");
  se->add_option("--fields", search.fields, "Descriptors to search (colour, texture)")->delimiter(',');
  se->add_option("--filter", search.filters, "FIELD:VALUE filter (domain = category, subcategory), repeatable");
  se->add_option("--k", search.k, "Hits")->check(CLI::Range(1, 100000));
  se->add_option("--fusion", search.fusion, "rrf|wrrf|minmax|zscore (lists: bm25, then each field)");
  se->add_option("--weights", search.weights, "Per-list weights for wrrf/minmax/zscore (bm25 first)");
  se->add_flag("--json", search.json, "JSON output");
  se->callback([&] { exit_code = RunSearch(search); });

  EvalFlags eval;
  auto* ev = app.add_subcommand(
      "eval", "Query by example over the index: P@10 and mAP per descriptor, fused, text, both, random");
  ev->add_option("--index", eval.index, "Media index")->required();
  ev->add_option("--queries", eval.queries, "Query documents sampled (0 = every document)");
  ev->add_option("--seed", eval.seed, "Sample and random-ranking seed");
  ev->add_option("--both-weights", eval.both_weights,
                 "Also run text+image as wrrf with these 3 weights (bm25 colour texture)")
      ->expected(3);
  ev->add_option("--fusions", eval.fusions, "Fusion methods of the fused runs (rrf, wrrf, minmax, zscore)")
      ->delimiter(',');
  ev->add_flag("--json", eval.json, "JSON output");
  ev->callback([&] { exit_code = RunEval(eval); });

  MoeFlags moe;
  auto* mo = app.add_subcommand("moe",
                                "Train the MoE re-ranker on media queries (image, text, both) and compare with "
                                "hybrid on held-out documents; routing by query kind");
  mo->add_option("--index", moe.index, "Media index")->required();
  mo->add_option("--depth", moe.depth, "Candidates re-ranked per query")->check(CLI::Range(2, 10000));
  mo->add_option("--experts", moe.experts, "Routed experts")->check(CLI::Range(1, 64));
  mo->add_option("--top-k", moe.top_k, "Experts per query")->check(CLI::Range(1, 64));
  mo->add_flag("--trees,!--no-trees", moe.trees,
               "Give the model the boosted shared expert (default off here: the media figures are of the networks "
               "alone; not measured with it)");
  mo->add_option("--epochs", moe.epochs, "Most training epochs")->check(CLI::Range(1, 1000));
  mo->add_option("--seed", moe.seed, "Training seed");
  mo->add_option("--routing-plot", moe.routing_svg, "Write the routing matrix as an SVG heat map");
  mo->callback([&] { exit_code = RunMoe(moe); });

  ServeFlags serve;
  auto* sv = app.add_subcommand("serve", "Search page with thumbnails and \"more like this\" over HTTP");
  sv->add_option("--index", serve.index, "Media index")->required();
  sv->add_option("--host", serve.host, "Address to listen on")->capture_default_str();
  sv->add_option("--port", serve.port, "Port (0: any free port, printed at start)")->capture_default_str();
  sv->callback([&] { exit_code = RunServe(serve); });

  return hymir::app::ParseAndRun(app, argc, argv, exit_code);
}
