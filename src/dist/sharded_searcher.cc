// ShardedSearcher: global BM25 statistics by one all-reduce, every shard's
// candidate lists (or sorted pages with their sort values) to the root,
// merged and fused there as Engine does; counts and facets summed.
#include "hymir/dist/sharded_searcher.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "hymir/features.h"
#include "hymir/index/analyzer.h"
#include "src/core/binary_io.h"
#include "src/dist/document_codec.h"
#include "src/dist/fingerprint.h"

namespace hymir::dist {
namespace {

// A fingerprint of the shard's vector fields (every shard must agree).
uint64_t FieldsFingerprint(const std::vector<index::VectorFieldSpec>& fields) {
  uint64_t h = fingerprint::kFnvOffset;
  for (const auto& f : fields) {
    h = fingerprint::AddPart(h, f.name);
    h = fingerprint::AddPart(h, std::to_string(f.dimension));
    h = fingerprint::AddPart(h, index::VectorMetricName(f.metric));
    h = fingerprint::AddPart(h, f.embedder);
  }
  return h;
}

// The candidates of rank `r`'s message for one query: BM25 list, then vector list.
bool ReadLists(internal::BinaryReader& r, int shard,
               std::vector<std::vector<std::pair<ranking::Candidate, int>>>& lists) {
  for (auto& list : lists) {
    uint32_t n = 0;
    if (!r.U32(&n)) return false;
    for (uint32_t i = 0; i < n; ++i) {
      ranking::Candidate c;
      if (!r.Str(&c.id) || !r.Raw(&c.score, sizeof c.score)) return false;
      list.push_back({std::move(c), shard});
    }
  }
  return true;
}

// A hit of a sorted query with the values it sorts by.
struct SortedHit {
  ranking::Candidate candidate;
  std::vector<index::SortValue> values;  // one per sort key
};

// Per hit: id, score, then `keys` sort values (absent ones when the
// searcher gave none).
void WriteSortedHits(internal::BinaryWriter& w, const index::SearchResults& r, size_t keys) {
  w.U32(static_cast<uint32_t>(r.hits.size()));
  for (size_t i = 0; i < r.hits.size(); ++i) {
    w.Str(r.hits[i].id);
    w.Raw(&r.hits[i].score, sizeof r.hits[i].score);
    std::vector<index::SortValue> values(keys);
    if (i < r.sort_values.size() && r.sort_values[i].size() == keys) values = r.sort_values[i];
    for (const index::SortValue& v : values) {
      w.U32(v.present ? 1 : 0);
      w.Raw(&v.key, sizeof v.key);
      w.Str(v.keyword);
    }
  }
}

bool ReadSortedHits(internal::BinaryReader& r, size_t keys, std::vector<SortedHit>& out) {
  uint32_t n = 0;
  if (!r.U32(&n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    SortedHit h;
    if (!r.Str(&h.candidate.id) || !r.Raw(&h.candidate.score, sizeof h.candidate.score)) return false;
    h.values.resize(keys);
    for (index::SortValue& v : h.values) {
      uint32_t present = 0;
      if (!r.U32(&present) || !r.Raw(&v.key, sizeof v.key) || !r.Str(&v.keyword)) return false;
      v.present = present != 0;
    }
    out.push_back(std::move(h));
  }
  return true;
}

// Orders the shards' hits as one index orders its matches (index::
// TextQuery::sort): key by key, documents without a value last in either
// direction, then score descending, then id; keeps the first `n`. A
// numeric key compares `key` (the keywords are empty), a keyword key its
// smallest value (the keys are 0).
void MergeSorted(const std::vector<index::SortField>& sort, size_t n, std::vector<SortedHit>& hits) {
  auto less = [&](const SortedHit& a, const SortedHit& b) {
    for (size_t j = 0; j < sort.size(); ++j) {
      const index::SortValue& x = a.values[j];
      const index::SortValue& y = b.values[j];
      if (x.present != y.present) return x.present;
      if (!x.present) continue;
      if (x.key != y.key) return sort[j].descending ? x.key > y.key : x.key < y.key;
      if (x.keyword != y.keyword) return sort[j].descending ? x.keyword > y.keyword : x.keyword < y.keyword;
    }
    if (a.candidate.score != b.candidate.score) return a.candidate.score > b.candidate.score;
    return a.candidate.id < b.candidate.id;
  };
  const size_t keep = std::min(n, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(keep), hits.end(), less);
  hits.resize(keep);
}

// Ranks a facet's summed value counts as one index does: by count
// descending, ties by the smaller value in the field's order (numbers,
// dates and booleans by value, keywords by bytes); keeps request.top_n.
void RankFacetValues(const index::Schema& schema, const index::FacetRequest& request,
                     std::vector<index::FacetCount>* counts) {
  const index::FieldSpec* spec = schema.Find(request.field);
  const bool numeric = spec && spec->type != index::FieldType::kKeyword;
  std::vector<std::pair<int64_t, size_t>> keys;  // (key, position) of numeric values
  keys.reserve(counts->size());
  for (size_t i = 0; i < counts->size(); ++i) {
    auto k = numeric ? index::TextKey(request.field, *spec, (*counts)[i].value) : Result<int64_t>(int64_t{0});
    keys.push_back({k.ok() ? *k : 0, i});
  }
  std::vector<size_t> order(counts->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t keep = std::min(request.top_n, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    [&](size_t a, size_t b) {
                      const index::FacetCount& x = (*counts)[a];
                      const index::FacetCount& y = (*counts)[b];
                      if (x.count != y.count) return x.count > y.count;
                      if (numeric && keys[a].first != keys[b].first) return keys[a].first < keys[b].first;
                      return x.value < y.value;
                    });
  std::vector<index::FacetCount> ranked;
  ranked.reserve(keep);
  for (size_t i = 0; i < keep; ++i) ranked.push_back(std::move((*counts)[order[i]]));
  *counts = std::move(ranked);
}

// Statistics that only note which terms are looked up (every term looks
// present, so that no lookup is skipped): a dry run of feature extraction
// with these lists the terms whose global statistics it needs.
class RecordingStatistics : public index::CollectionStatistics {
 public:
  uint64_t DocCount(std::string_view) const override { return 1000000; }
  uint64_t SumTotalTermFreq(std::string_view) const override { return 1000000; }
  uint64_t DocFreq(std::string_view, std::string_view term) const override {
    std::lock_guard<std::mutex> g(mu_);
    terms_.emplace(term);
    return 2;
  }
  std::set<std::string> Take() {
    std::lock_guard<std::mutex> g(mu_);
    return std::move(terms_);
  }

 private:
  mutable std::mutex mu_;
  mutable std::set<std::string> terms_;
};

}  // namespace

ShardedSearcher::ShardedSearcher(const Cluster& cluster, ShardLayout layout, std::unique_ptr<Engine> local)
    : cluster_(cluster), layout_(layout), local_(std::move(local)) {}

ShardedSearcher::~ShardedSearcher() = default;

Result<std::unique_ptr<ShardedSearcher>> ShardedSearcher::Open(const Cluster& cluster, const std::string& dir) {
  auto layout = ReadShardLayout(dir);
  Status s = layout.status();
  if (s.ok() && layout->shards != cluster.size())
    s = Status::InvalidArgument(dir + " has " + std::to_string(layout->shards) + " shards; run it with " +
                                std::to_string(layout->shards) + " ranks, not " + std::to_string(cluster.size()));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  const std::string shard_dir = ShardDir(dir, cluster.rank());
  auto local = Engine::Open(shard_dir);
  s = local.status();
  if (s.ok() && (*local)->searcher().analyzer() != layout->analyzer)
    s = Status::Corruption(shard_dir + ": analyzer " + index::AnalyzerName((*local)->searcher().analyzer()) +
                           " differs from the layout's " + index::AnalyzerName(layout->analyzer));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  HYMIR_ASSIGN_OR_RETURN(
      bool same, fingerprint::SameOnEveryRank(cluster, FieldsFingerprint((*local)->searcher().vector_fields())));
  if (!same) s = Status::Corruption(shard_dir + ": its vector fields differ from another shard's");
  HYMIR_RETURN_IF_ERROR(cluster.Agree(s));
  HYMIR_RETURN_IF_ERROR(cluster.Agree(fingerprint::CheckSameSchema(cluster, (*local)->searcher().schema(), dir)));
  return std::unique_ptr<ShardedSearcher>(new ShardedSearcher(cluster, *layout, std::move(local).value()));
}

Result<GlobalStatistics> ShardedSearcher::Statistics(const std::vector<HybridQuery>& queries) {
  // Every rank analyses the same texts with the same analyzer, so the term
  // lists agree; a fingerprint of the list guards that assumption.
  std::set<std::string> unique;
  for (const auto& q : queries) {
    if (q.syntax == QuerySyntax::kLucene && !IsBareTerms(q.text)) {
      // The query language: the terms of its term and phrase leaves (a
      // phrase's idf is the sum of its terms', so their global document
      // frequencies suffice; prefixes and ranges score a constant), leaves
      // on a text field of the schema analysed with that field's analyzer.
      auto tree = index::AnalyzeLuceneQuery(layout_.analyzer, q.text, local_->searcher().schema());
      if (!tree.ok()) return tree.status().WithContext(q.id.empty() ? "query" : "query " + q.id);
      for (auto& t : QueryTerms(*tree)) unique.insert(std::move(t));
    } else {
      for (auto& t : index::Analyze(layout_.analyzer, q.text)) unique.insert(std::move(t));
    }
    for (const auto& e : q.bm25.expansions)
      for (auto& t : index::Analyze(layout_.analyzer, e.text)) unique.insert(std::move(t));
  }
  std::vector<std::string> terms(unique.begin(), unique.end());
  uint64_t h = fingerprint::kFnvOffset;
  for (const auto& t : terms) h = fingerprint::AddPart(h, t);
  HYMIR_ASSIGN_OR_RETURN(bool same, fingerprint::SameOnEveryRank(cluster_, h));
  if (!same) return Status::Internal("ranks analysed the queries into different terms");  // the same on every rank
  return SumStatistics(terms);
}

Result<GlobalStatistics> ShardedSearcher::SumStatistics(const std::vector<std::string>& terms) {
  // Every field BM25 may score: title, text, all and the schema's text
  // fields (the same schema on every shard).
  const std::vector<std::string> fields = GlobalStatistics::FieldsOf(local_->searcher().schema());
  std::vector<uint64_t> values = GlobalStatistics::ToVector(*local_->searcher().Statistics(), terms, fields);
  HYMIR_RETURN_IF_ERROR(cluster_.SumInPlace(values));
  return GlobalStatistics::FromVector(terms, values, fields);
}

Result<std::vector<std::vector<SearchHit>>> ShardedSearcher::SearchBatch(const std::vector<HybridQuery>& queries) {
  // The shards exchange two lists per query (BM25, vector).
  Status lists_supported;
  for (const auto& q : queries)
    if (!q.more_vectors.empty())
      lists_supported = Status::NotSupported("sharded search: more_vectors (more than one vector list per query)");
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(lists_supported));
  HYMIR_ASSIGN_OR_RETURN(GlobalStatistics global, Statistics(queries));
  std::vector<HybridQuery> local = queries;
  for (auto& q : local) q.bm25.statistics = &global;
  // This shard's candidate lists, each to the depth Engine uses; a sorted
  // query's list is its top offset + k by the sort keys, with the values
  // each hit sorts by.
  std::vector<HybridQuery> unsorted;
  std::vector<index::SearchResults> sorted(local.size());
  Status s;
  for (size_t i = 0; i < local.size() && s.ok(); ++i) {
    if (local[i].sort.empty()) {
      unsorted.push_back(local[i]);
      continue;
    }
    auto r = local_->searcher().SearchStructured(Bm25TextQuery(local[i], local[i].offset + local[i].k));
    s = r.status().WithContext(local[i].id.empty() ? "query" : "query " + local[i].id);
    if (r.ok()) sorted[i] = std::move(r).value();
  }
  auto lists = local_->Candidates(unsorted);
  if (s.ok()) s = lists.status();
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(s));
  internal::BinaryWriter w;
  for (size_t i = 0, u = 0; i < local.size(); ++i) {
    if (!local[i].sort.empty()) {
      WriteSortedHits(w, sorted[i], local[i].sort.size());
      continue;
    }
    for (const auto& list : (*lists)[u++]) {
      w.U32(static_cast<uint32_t>(list.size()));
      for (const auto& c : list) {
        w.Str(c.id);
        w.Raw(&c.score, sizeof c.score);
      }
    }
  }
  HYMIR_ASSIGN_OR_RETURN(auto parts, cluster_.Gather(w.out()));
  std::vector<std::vector<SearchHit>> out(cluster_.is_root() ? queries.size() : 0);
  if (!cluster_.is_root()) return out;
  std::vector<internal::BinaryReader> readers;
  for (const auto& p : parts) readers.emplace_back(p);
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    const HybridQuery& q = local[qi];
    const size_t window = q.offset + q.k;
    std::vector<std::vector<ranking::Candidate>> global_lists(2);
    if (!q.sort.empty()) {
      // Every shard's top `window` by the keys holds the global top `window`.
      std::vector<SortedHit> merged;
      for (int r = 0; r < static_cast<int>(readers.size()); ++r)
        if (!ReadSortedHits(readers[r], q.sort.size(), merged))
          return Status::Internal("damaged sorted hits from rank " + std::to_string(r));
      MergeSorted(q.sort, window, merged);
      for (auto& h : merged) global_lists[0].push_back(std::move(h.candidate));
      HYMIR_ASSIGN_OR_RETURN(out[qi], local_->HitsFromCandidates(q, global_lists));
      continue;
    }
    // Each list merged over the shards: by score, equal scores in shard
    // order (then the shard's own order), cut at the length one index's
    // list would have.
    std::vector<std::vector<std::pair<ranking::Candidate, int>>> merged(2);
    for (int r = 0; r < static_cast<int>(readers.size()); ++r)
      if (!ReadLists(readers[r], r, merged))
        return Status::Internal("damaged candidate lists from rank " + std::to_string(r));
    for (size_t l = 0; l < 2; ++l) {
      auto& m = merged[l];
      std::stable_sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.first.score > b.first.score; });
      for (auto& c : m) global_lists[l].push_back(std::move(c.first));
    }
    // One index would have returned at most the depth each shard was asked for.
    const Retriever r = local_->ResolveRetriever(q);
    const size_t bm25_depth = r == Retriever::kBm25 ? window : std::max(q.bm25_depth, window);
    const size_t vector_depth = r == Retriever::kVector ? window : std::max(q.vector_depth, window);
    if (global_lists[0].size() > bm25_depth) global_lists[0].resize(bm25_depth);
    if (global_lists[1].size() > vector_depth) global_lists[1].resize(vector_depth);
    HYMIR_ASSIGN_OR_RETURN(out[qi], local_->HitsFromCandidates(q, global_lists));
  }
  return out;
}

Result<std::vector<index::SearchResults>> ShardedSearcher::Count(const std::vector<HybridQuery>& queries) {
  // Each shard counts its matches and every value of each facet (not only
  // its top N: a value can be in the global top N without being in any
  // shard's), so the sums are exact.
  internal::BinaryWriter w;
  Status s;
  for (const HybridQuery& q : queries) {
    HybridQuery all = q;
    for (auto& f : all.facets)
      if (f.buckets.empty() && f.top_n > 0) f.top_n = SIZE_MAX;
    auto r = local_->Count(all);
    if (!r.ok()) {
      s = r.status();
      break;
    }
    w.U64(r->total);
    w.U32(static_cast<uint32_t>(r->facets.size()));
    for (const index::FacetResult& f : r->facets) {
      w.U32(static_cast<uint32_t>(f.counts.size()));
      for (const index::FacetCount& c : f.counts) {
        w.Str(c.value);
        w.U64(c.count);
      }
    }
  }
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(s));
  HYMIR_ASSIGN_OR_RETURN(auto parts, cluster_.Gather(w.out()));
  std::vector<index::SearchResults> out;
  if (!cluster_.is_root()) return out;
  std::vector<internal::BinaryReader> readers;
  for (const auto& p : parts) readers.emplace_back(p);
  const index::Schema& schema = local_->searcher().schema();
  for (const HybridQuery& q : queries) {
    index::SearchResults total;
    // Per facet: value -> count summed over the shards, in first-seen order.
    std::vector<std::vector<index::FacetCount>> sums(q.facets.size());
    std::vector<std::unordered_map<std::string, size_t>> where(q.facets.size());
    for (size_t r = 0; r < readers.size(); ++r) {
      uint64_t n = 0;
      uint32_t facets = 0;
      if (!readers[r].U64(&n) || !readers[r].U32(&facets) || facets != q.facets.size())
        return Status::Internal("damaged counts from rank " + std::to_string(r));
      total.total += n;
      for (size_t f = 0; f < facets; ++f) {
        uint32_t values = 0;
        if (!readers[r].U32(&values)) return Status::Internal("damaged counts from rank " + std::to_string(r));
        for (uint32_t v = 0; v < values; ++v) {
          index::FacetCount c;
          if (!readers[r].Str(&c.value) || !readers[r].U64(&c.count))
            return Status::Internal("damaged counts from rank " + std::to_string(r));
          auto [it, added] = where[f].emplace(c.value, sums[f].size());
          if (added) {
            sums[f].push_back(std::move(c));
          } else {
            sums[f][it->second].count += c.count;
          }
        }
      }
    }
    for (size_t f = 0; f < q.facets.size(); ++f) {
      const index::FacetRequest& request = q.facets[f];
      index::FacetResult result;
      result.field = request.field;
      result.counts = std::move(sums[f]);
      // Buckets come in bound order from every shard; top values are
      // ranked as one index ranks them: by count, ties by the smaller value
      // (in the field's order: numbers and dates by value, keywords by bytes).
      if (request.buckets.empty()) RankFacetValues(schema, request, &result.counts);
      total.facets.push_back(std::move(result));
    }
    out.push_back(std::move(total));
  }
  return out;
}

Result<std::map<std::string, Document>> ShardedSearcher::GetDocuments(const std::vector<std::string>& ids,
                                                                      bool with_vectors) {
  std::string wanted;
  if (cluster_.is_root()) {
    internal::BinaryWriter w;
    w.Strings(ids);
    wanted = std::move(w.out());
  }
  HYMIR_RETURN_IF_ERROR(cluster_.Broadcast(wanted));
  std::vector<std::string> all;
  internal::BinaryReader ids_reader(wanted);
  if (!ids_reader.Strings(&all)) return Status::Internal("damaged document list from rank 0");
  internal::BinaryWriter docs_out;
  Status s;
  for (const auto& id : all) {
    if (ShardOf(id, layout_.shards) != cluster_.rank()) continue;
    auto doc = local_->searcher().GetDocument(id);
    if (!doc.ok()) {
      s = doc.status();
      break;
    }
    if (with_vectors) {
      for (const auto& f : local_->searcher().vector_fields()) {
        auto v = local_->searcher().GetVector(f.name, id);
        if (v.ok()) doc->vectors[f.name] = std::move(v).value();
      }
    }
    codec::EncodeDocument(docs_out, *doc);
  }
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(s));
  HYMIR_ASSIGN_OR_RETURN(auto parts, cluster_.Gather(docs_out.out()));
  std::map<std::string, Document> documents;
  for (size_t r = 0; r < parts.size(); ++r) {
    internal::BinaryReader reader(parts[r]);
    while (!reader.AtEnd()) {
      Document d;
      if (!codec::DecodeDocument(reader, &d))
        return Status::Internal("damaged documents from rank " + std::to_string(r));
      std::string id = d.id;
      documents.emplace(std::move(id), std::move(d));
    }
  }
  return documents;
}

Result<std::vector<RerankedResult>> ShardedSearcher::SearchAndRerank(const std::vector<HybridQuery>& queries,
                                                                     const Reranker* reranker,
                                                                     const RerankOptions& options) {
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(cluster_.is_root() && reranker == nullptr
                                           ? Status::InvalidArgument("sharded re-ranking needs a re-ranker on rank 0")
                                           : Status::OK()));
  // Retrieval from the top, deep enough for the re-ranker and the page.
  std::vector<HybridQuery> wide = queries;
  for (auto& q : wide) {
    q.k = std::max(options.depth, q.offset + q.k);
    q.offset = 0;
  }
  HYMIR_ASSIGN_OR_RETURN(auto hits, SearchBatch(wide));

  // The root names the candidates to re-rank; each rank sends the ones it holds.
  std::vector<std::string> wanted;
  if (cluster_.is_root()) {
    std::set<std::string> ids;
    for (const auto& list : hits)
      for (size_t i = 0; i < list.size() && i < options.depth; ++i) ids.insert(list[i].id);
    wanted.assign(ids.begin(), ids.end());
  }
  using Documents = std::map<std::string, Document>;
  HYMIR_ASSIGN_OR_RETURN(Documents documents, GetDocuments(wanted, /*with_vectors=*/true));
  Status s;
  ExtractSources sources;
  sources.document = [&documents](const std::string& id) -> Result<Document> {
    auto it = documents.find(id);
    if (it == documents.end()) return Status::NotFound("sharded re-ranking: no document \"" + id + "\"");
    return it->second;
  };
  sources.vector = [&documents](const std::string& field, const std::string& id) -> Result<std::vector<float>> {
    auto it = documents.find(id);
    if (it != documents.end()) {
      auto v = it->second.vectors.find(field);
      if (v != it->second.vectors.end()) return v->second;
    }
    return Status::NotFound("no vector \"" + field + "\" for \"" + id + "\"");
  };

  // A dry run of the features on the root lists every term whose statistics
  // they read; the shards sum those.
  std::string terms_bytes;
  if (cluster_.is_root()) {
    RecordingStatistics recorder;
    sources.statistics = &recorder;
    for (size_t qi = 0; qi < queries.size() && s.ok(); ++qi) {
      std::vector<SearchHit> head(hits[qi].begin(), hits[qi].begin() + std::min(options.depth, hits[qi].size()));
      s = reranker->features().Extract(wide[qi], head, &sources).status();
    }
    const std::set<std::string> terms = recorder.Take();
    internal::BinaryWriter w;
    w.Strings(std::vector<std::string>(terms.begin(), terms.end()));
    terms_bytes = std::move(w.out());
  }
  HYMIR_RETURN_IF_ERROR(cluster_.Agree(s));
  HYMIR_RETURN_IF_ERROR(cluster_.Broadcast(terms_bytes));
  std::vector<std::string> terms;
  internal::BinaryReader terms_reader(terms_bytes);
  if (!terms_reader.Strings(&terms)) return Status::Internal("damaged term list from rank 0");
  HYMIR_ASSIGN_OR_RETURN(const GlobalStatistics global, SumStatistics(terms));

  std::vector<RerankedResult> out;
  if (!cluster_.is_root()) return out;
  sources.statistics = &global;
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    HYMIR_ASSIGN_OR_RETURN(RerankedResult r, reranker->Rerank(queries[qi], std::move(hits[qi]), options, &sources));
    out.push_back(std::move(r));
  }
  return out;
}

Result<uint64_t> ShardedSearcher::NumDocs() {
  std::vector<uint64_t> v = {local_->searcher().NumDocs()};
  HYMIR_RETURN_IF_ERROR(cluster_.SumInPlace(v));
  return v[0];
}

Status ShardedSearcher::Refresh() { return cluster_.Agree(local_->Refresh()); }

}  // namespace hymir::dist
