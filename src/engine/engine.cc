#include "hymir/engine.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "hymir/index/index_writer.h"
#include "src/core/file_util.h"

namespace hymir {
namespace {

constexpr const char* kFusionFile = "fusion.json";

std::string FilterKey(const std::string& field, const HybridQuery& q, const std::string& constraint = "") {
  std::string key = field + '\x1c' + constraint;
  for (const auto& f : q.filters) {
    key += '\x1f' + f.field;
    for (const auto& v : f.values) key += '\x1e' + v;
  }
  for (const auto& r : q.ranges) {
    key += '\x1c' + r.field + (r.lo_inclusive ? "[" : "{") + (r.lo ? "=" + *r.lo : "*") + '\x1e' +
           (r.hi ? "=" + *r.hi : "*") + (r.hi_inclusive ? "]" : "}");
  }
  return key;
}

std::vector<ranking::Candidate> ToCandidates(const std::vector<index::Hit>& hits) {
  std::vector<ranking::Candidate> out;
  out.reserve(hits.size());
  for (const auto& h : hits) out.push_back({h.id, h.score});
  return out;
}

nlohmann::json FusionToJson(const ranking::FusionOptions& o) {
  return {
      {"method", ranking::FusionMethodName(o.method)}, {"rrf_k", o.rrf_k}, {"weights", o.weights}, {"alpha", o.alpha}};
}

Result<ranking::FusionOptions> FusionFromJson(const nlohmann::json& j, const std::string& path) {
  ranking::FusionOptions o;
  try {
    auto m = ranking::ParseFusionMethod(j.at("method").get<std::string>());
    if (!m.ok()) return m.status().WithContext(path);
    o.method = *m;
    o.rrf_k = j.value("rrf_k", o.rrf_k);
    o.weights = j.value("weights", o.weights);
    o.alpha = j.value("alpha", o.alpha);
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
  return o;
}

}  // namespace

Result<Retriever> ParseRetriever(std::string_view name) {
  if (name == "auto") return Retriever::kAuto;
  if (name == "bm25") return Retriever::kBm25;
  if (name == "vector") return Retriever::kVector;
  if (name == "hybrid") return Retriever::kHybrid;
  return Status::InvalidArgument("unknown retriever \"" + std::string(name) + "\" (expected bm25, vector or hybrid)");
}

const char* RetrieverName(Retriever r) {
  switch (r) {
    case Retriever::kAuto:
      return "auto";
    case Retriever::kBm25:
      return "bm25";
    case Retriever::kVector:
      return "vector";
    case Retriever::kHybrid:
      return "hybrid";
  }
  return "unknown";
}

Engine::Engine(std::string dir, std::unique_ptr<index::Searcher> searcher, ranking::FusionOptions fusion, bool tuned)
    : dir_(std::move(dir)), searcher_(std::move(searcher)), default_fusion_(std::move(fusion)), tuned_(tuned) {}

Engine::~Engine() = default;

namespace {

// The index's default fusion: <dir>/fusion.json when present (tuned), else
// convex at Engine::kDefaultAlpha.
Status ReadDefaultFusion(const std::string& dir, ranking::FusionOptions* out, bool* tuned_out) {
  ranking::FusionOptions fusion;
  fusion.method = ranking::FusionMethod::kConvex;
  fusion.alpha = Engine::kDefaultAlpha;
  bool tuned = false;
  const std::string path = dir + "/" + kFusionFile;
  auto text = internal::ReadFile(path);
  if (text.ok()) {
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) return Status::Corruption(path + ": not JSON");
    auto f = FusionFromJson(j, path);
    if (!f.ok()) return f.status();
    fusion = *f;
    tuned = true;
  } else if (!text.status().IsNotFound()) {
    return text.status();
  }
  *out = fusion;
  *tuned_out = tuned;
  return Status::OK();
}

}  // namespace

index::TextQuery Bm25TextQuery(const HybridQuery& query, size_t k) {
  index::TextQuery tq = query.bm25;
  tq.text = query.text;
  tq.syntax = query.syntax;
  tq.filters = query.filters;
  tq.ranges = query.ranges;
  tq.sort = query.sort;
  tq.facets.clear();
  tq.offset = 0;
  tq.k = k;
  return tq;
}

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& dir) {
  auto searcher = index::Searcher::Open(dir);
  if (!searcher.ok()) return searcher.status();
  ranking::FusionOptions fusion;
  bool tuned = false;
  HYMIR_RETURN_IF_ERROR(ReadDefaultFusion(dir, &fusion, &tuned));
  return std::unique_ptr<Engine>(new Engine(dir, std::move(searcher).value(), fusion, tuned));
}

Result<std::unique_ptr<Engine>> Engine::Reopen() const {
  HYMIR_ASSIGN_OR_RETURN(std::unique_ptr<index::Searcher> searcher, searcher_->Reopen());
  ranking::FusionOptions fusion;
  bool tuned = false;
  HYMIR_RETURN_IF_ERROR(ReadDefaultFusion(dir_, &fusion, &tuned));
  return std::unique_ptr<Engine>(new Engine(dir_, std::move(searcher), fusion, tuned));
}

Status Engine::SaveDefaultFusion(const std::string& dir, const ranking::FusionOptions& options) {
  const std::string text = FusionToJson(options).dump(2) + "\n";
  return index::WriteRecordedIndexFile(dir, kFusionFile, &text);
}

Status Engine::Refresh() { return searcher_->Refresh(); }

Result<std::string> Engine::FreeTextOf(const HybridQuery& q) {
  if (q.syntax != QuerySyntax::kLucene || IsBareTerms(q.text)) return q.text;
  HYMIR_ASSIGN_OR_RETURN(QueryNode raw, ParseQuery(q.text));
  return FreeText(raw);
}

Retriever Engine::ResolveRetriever(const HybridQuery& q) const {
  if (!q.sort.empty()) return Retriever::kBm25;  // sorting needs a match set
  if (q.retriever != Retriever::kAuto) return q.retriever;
  const auto& fields = searcher_->vector_fields();
  if (fields.empty()) return Retriever::kBm25;
  if (!q.vector.empty() || !q.more_vectors.empty()) return q.text.empty() ? Retriever::kVector : Retriever::kHybrid;
  for (const auto& f : fields) {
    if ((q.vector_field.empty() || f.name == q.vector_field) && !f.embedder.empty()) return Retriever::kHybrid;
    if (q.vector_field.empty()) break;  // the default field is the first
  }
  return Retriever::kBm25;
}

Result<std::vector<std::vector<std::vector<ranking::Candidate>>>> Engine::Candidates(
    const std::vector<HybridQuery>& queries) const {
  std::vector<std::vector<std::vector<ranking::Candidate>>> out(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) out[i].resize(2 + queries[i].more_vectors.size());
  // Vector queries grouped by (field, filters, depth) for batched search.
  struct Group {
    index::VectorQuery shared;
    std::vector<float> vectors;
    std::vector<size_t> members;
    std::vector<size_t> slots;  // the list each member's hits go to
  };
  std::map<std::string, Group> groups;
  for (size_t i = 0; i < queries.size(); ++i) {
    const HybridQuery& q = queries[i];
    const Retriever r = ResolveRetriever(q);
    const size_t window = q.offset + q.k;
    if (r == Retriever::kBm25 || r == Retriever::kHybrid) {
      auto hits = searcher_->Search(Bm25TextQuery(q, r == Retriever::kBm25 ? window : std::max(q.bm25_depth, window)));
      if (!hits.ok()) return hits.status().WithContext(q.id.empty() ? "query" : "query " + q.id);
      out[i][0] = ToCandidates(*hits);
    }
    if (r == Retriever::kVector || r == Retriever::kHybrid) {
      const std::string what = q.id.empty() ? std::string("query") : "query \"" + q.id + "\"";
      // The query language: embed its free text; its required and excluded
      // clauses filter the vector candidates.
      const bool structured = q.syntax == QuerySyntax::kLucene && !IsBareTerms(q.text);
      const std::string constraint = structured ? q.text : std::string();
      auto free_text = FreeTextOf(q);
      if (!free_text.ok()) return free_text.status().WithContext(what);
      // A single vector list is the answer (window deep); lists to fuse go
      // to vector_depth.
      const bool single = r == Retriever::kVector && q.more_vectors.empty();
      const size_t depth = single ? window : std::max(q.vector_depth, window);
      for (size_t c = 0; c < q.more_vectors.size(); ++c) {
        const VectorClause& clause = q.more_vectors[c];
        const index::VectorFieldSpec* spec = nullptr;
        for (const auto& f : searcher_->vector_fields())
          if (f.name == clause.field) spec = &f;
        if (spec == nullptr) return Status::InvalidArgument(what + ": unknown vector field \"" + clause.field + "\"");
        if (clause.vector.size() != spec->dimension)
          return Status::InvalidArgument(what + ": vector field \"" + clause.field + "\" expects " +
                                         std::to_string(spec->dimension) + " floats, got " +
                                         std::to_string(clause.vector.size()));
        Group& g = groups[FilterKey(clause.field, q, constraint) + '\x1d' + std::to_string(depth) + '\x1d' +
                          std::to_string(q.ef_search) + '\x1d' + std::to_string(q.nprobe)];
        g.shared.constraint = constraint;
        g.shared.field = clause.field;
        g.shared.ef_search = q.ef_search;
        g.shared.nprobe = q.nprobe;
        g.shared.filters = q.filters;
        g.shared.ranges = q.ranges;
        g.shared.k = depth;
        g.vectors.insert(g.vectors.end(), clause.vector.begin(), clause.vector.end());
        g.members.push_back(i);
        g.slots.push_back(2 + c);
      }
      // With more lists, the first vector list may be absent (no vector, no text).
      if (!q.more_vectors.empty() && q.vector.empty() && q.text.empty()) continue;
      std::string field = q.vector_field;
      if (field.empty()) {
        if (searcher_->vector_fields().empty()) {
          return Status::InvalidArgument(dir_ + ": the index has no vector field; use the bm25 retriever");
        }
        field = searcher_->vector_fields().front().name;
      }
      size_t dimension = 0;
      for (const auto& f : searcher_->vector_fields()) {
        if (f.name == field) dimension = f.dimension;
      }
      std::vector<float> v = q.vector;
      if (v.empty()) {
        // Nothing to embed: no vector candidates (embedding an empty text
        // would rank every document with one constant score).
        if (index::Analyze(searcher_->analyzer(), *free_text).empty()) continue;
        auto e = searcher_->EmbedText(field, *free_text);
        if (!e.ok()) return e.status();
        v = std::move(e).value();
        // No word the embedder knows gives the zero vector, which is as far
        // from every document as from every other: no vector candidates, so
        // hybrid answers what BM25 answers (nothing, for unknown words).
        if (std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; })) continue;
      } else if (dimension != 0 && v.size() != dimension) {
        // Checked per query: a batch only checks that its total is a multiple.
        return Status::InvalidArgument(what + ": vector field \"" + field + "\" expects " + std::to_string(dimension) +
                                       " floats, got " + std::to_string(v.size()));
      }
      Group& g = groups[FilterKey(field, q, constraint) + '\x1d' + std::to_string(depth) + '\x1d' +
                        std::to_string(q.ef_search) + '\x1d' + std::to_string(q.nprobe)];
      g.shared.constraint = constraint;
      g.shared.field = field;
      g.shared.ef_search = q.ef_search;
      g.shared.nprobe = q.nprobe;
      g.shared.filters = q.filters;
      g.shared.ranges = q.ranges;
      g.shared.k = depth;
      g.vectors.insert(g.vectors.end(), v.begin(), v.end());
      g.members.push_back(i);
      g.slots.push_back(1);
    }
  }
  for (auto& [key, g] : groups) {
    auto lists = searcher_->SearchVectorBatch(g.shared, g.vectors);
    if (!lists.ok()) return lists.status();
    for (size_t m = 0; m < g.members.size(); ++m) out[g.members[m]][g.slots[m]] = ToCandidates((*lists)[m]);
  }
  return out;
}

Result<std::vector<SearchHit>> Engine::HitsFromCandidates(
    const HybridQuery& q, const std::vector<std::vector<ranking::Candidate>>& lists) const {
  if (lists.size() != 2 + q.more_vectors.size())
    return Status::InvalidArgument("candidate lists: expected " + std::to_string(2 + q.more_vectors.size()) +
                                   " (BM25, vector, one per more_vectors clause), got " + std::to_string(lists.size()));
  const Retriever r = ResolveRetriever(q);
  std::vector<SearchHit> hits;
  if (r == Retriever::kHybrid || (r == Retriever::kVector && !q.more_vectors.empty())) {
    ranking::FusionOptions fusion = q.fusion ? *q.fusion : default_fusion_;
    if (!q.fusion && !q.more_vectors.empty()) {
      fusion = ranking::FusionOptions{};
      fusion.method = ranking::FusionMethod::kRrf;
    }
    auto fused = ranking::Fuse(lists, fusion);
    if (!fused.ok()) return fused.status();
    for (size_t j = q.offset; j < fused->size() && j < q.offset + q.k; ++j) {
      const ranking::FusedHit& f = (*fused)[j];
      SearchHit h;
      h.id = f.id;
      h.score = f.score;
      h.rank = static_cast<uint32_t>(j + 1);
      h.bm25 = {f.stages[0].present, f.stages[0].score, f.stages[0].rank};
      h.vector = {f.stages[1].present, f.stages[1].score, f.stages[1].rank};
      for (size_t c = 2; c < f.stages.size(); ++c)
        h.more_vectors.push_back({f.stages[c].present, f.stages[c].score, f.stages[c].rank});
      h.fused = {true, h.score, h.rank};
      hits.push_back(std::move(h));
    }
  } else {
    const auto& list = r == Retriever::kBm25 ? lists[0] : lists[1];
    for (size_t j = q.offset; j < list.size() && j < q.offset + q.k; ++j) {
      SearchHit h;
      h.id = list[j].id;
      h.score = list[j].score;
      h.rank = static_cast<uint32_t>(j + 1);
      StageResult stage{true, list[j].score, static_cast<uint32_t>(j + 1)};
      (r == Retriever::kBm25 ? h.bm25 : h.vector) = stage;
      h.fused = stage;
      h.more_vectors.resize(q.more_vectors.size());
      hits.push_back(std::move(h));
    }
  }
  return hits;
}

Result<std::vector<std::vector<SearchHit>>> Engine::SearchBatch(const std::vector<HybridQuery>& queries) const {
  auto cands = Candidates(queries);
  if (!cands.ok()) return cands.status();
  std::vector<std::vector<SearchHit>> out(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    HYMIR_ASSIGN_OR_RETURN(out[i], HitsFromCandidates(queries[i], (*cands)[i]));
  }
  return out;
}

Result<index::SearchResults> Engine::Count(const HybridQuery& q) const {
  index::TextQuery tq = q.bm25;
  tq.text = q.text;
  tq.syntax = q.syntax;
  tq.filters = q.filters;
  tq.ranges = q.ranges;
  tq.facets = q.facets;
  tq.sort.clear();
  tq.k = 0;
  tq.offset = 0;
  auto r = searcher_->SearchStructured(tq);
  if (!r.ok()) return r.status().WithContext(q.id.empty() ? "query" : "query " + q.id);
  return r;
}

Result<std::vector<SearchHit>> Engine::Search(const HybridQuery& query) const {
  auto all = SearchBatch({query});
  if (!all.ok()) return all.status();
  return std::move((*all)[0]);
}

}  // namespace hymir
