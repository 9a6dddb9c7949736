// Searcher on Lucene++: a shared_ptr to the current Snapshot is swapped under
// a mutex by Refresh(); each search pins the snapshot it started with.
#include <lucene++/NoLockFactory.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "hymir/index/searcher.h"
#include "index/lucene/analysis.h"
#include "index/lucene/bm25_scorer.h"
#include "index/lucene/index_layout.h"
#include "index/lucene/lucene_util.h"
#include "index/lucene/query_evaluator.h"
#include "index/lucene/commit_manifest.h"
#include "index/lucene/snapshot.h"
#include "index/lucene/stored_source.h"
#include "index/lucene/typed_search.h"
#include "index/vector/field_embedder.h"
#include "index/vector/one_thread.h"

#include <faiss/utils/distances.h>
#include <cmath>

namespace hymir::index {
namespace {

using internal::Guard;
using internal::Snapshot;
using internal::Wide;

class LuceneSearcher final : public Searcher {
 public:
  LuceneSearcher(std::string dir, internal::IndexMeta meta, std::shared_ptr<Snapshot> snap,
                 std::map<std::string, std::shared_ptr<const Embedder>> embedders,
                 boost::shared_ptr<internal::VerifyingDirectory> directory, internal::VerifiedFiles verified)
      : dir_(std::move(dir)),
        directory_(std::move(directory)),
        meta_(std::move(meta)),
        kind_(meta_.analyzer),
        analyzer_(internal::MakeAnalyzer(kind_)),
        embedders_(std::move(embedders)),
        verified_(std::move(verified)),
        snap_(std::move(snap)) {}

  Result<std::vector<Hit>> SearchVector(const VectorQuery& query) const override {
    std::vector<float> v = query.vector;
    const VectorFieldSpec* spec = internal::FindVectorField(meta_, query.field);
    if (spec && !v.empty() && v.size() != spec->dimension) {
      return Status::InvalidArgument("vector field \"" + query.field + "\" expects " + std::to_string(spec->dimension) +
                                     " floats, got " + std::to_string(v.size()));
    }
    if (v.empty()) {
      if (query.text.empty())
        return Status::InvalidArgument("vector query on \"" + query.field + "\" has neither a vector nor text");
      // No term after analysis: nothing to match (see HybridQuery::text).
      if (spec && Analyze(kind_, query.text).empty()) return std::vector<Hit>();
      auto e = EmbedText(query.field, query.text);
      if (!e.ok()) return e.status();
      v = std::move(e).value();
    }
    auto lists = SearchVectorBatch(query, v);
    if (!lists.ok()) return lists.status();
    return std::move((*lists)[0]);
  }

  Result<std::vector<std::vector<Hit>>> SearchVectorBatch(const VectorQuery& q,
                                                          const std::vector<float>& vectors) const override {
    auto snap = Current();
    const VectorFieldSpec* spec = internal::FindVectorField(meta_, q.field);
    const internal::VectorStore* store = snap->vectors(q.field);
    if (!spec || !store) return Status::InvalidArgument(dir_ + ": unknown vector field \"" + q.field + "\"");
    const size_t d = spec->dimension;
    if (vectors.empty() || vectors.size() % d != 0) {
      return Status::InvalidArgument("vector field \"" + q.field + "\" expects " + std::to_string(d) +
                                     " floats per query, got " + std::to_string(vectors.size()));
    }
    for (float x : vectors) {
      if (!std::isfinite(x)) return Status::InvalidArgument("query vector for \"" + q.field + "\" holds NaN or inf");
    }
    const size_t nq = vectors.size() / d;
    const internal::OneThreadForOneQuery one(nq == 1);
    std::vector<float> qs = vectors;
    if (spec->metric == VectorMetric::kCosine) faiss::fvec_renorm_L2(d, nq, qs.data());

    std::vector<uint8_t> admitted;
    size_t admitted_count = 0;
    internal::DocFilter filter;
    bool filtered = !q.filters.empty() || !q.ranges.empty();
    if (filtered) {
      HYMIR_RETURN_IF_ERROR(Guard(dir_ + ": filter", [&]() -> Status {
        return internal::BuildTypedFilter(*snap, q.filters, q.ranges, dir_, &filter);
      }));
    }
    if (!q.constraint.empty()) {
      HYMIR_RETURN_IF_ERROR(Guard(dir_ + ": query constraints", [&]() -> Status {
        TextQuery tq;
        tq.text = q.constraint;
        tq.syntax = QuerySyntax::kLucene;
        HYMIR_ASSIGN_OR_RETURN(Structured st, Prepare(snap, tq));
        HYMIR_ASSIGN_OR_RETURN(std::optional<internal::DocFilter> c, internal::Constraints(*snap, st.tree, st.options));
        if (!c) return Status::OK();
        if (filter.empty()) {
          filter = std::move(*c);
        } else {
          for (size_t w = 0; w < filter.size(); ++w) filter[w] &= (*c)[w];
        }
        filtered = true;
        return Status::OK();
      }));
    }
    if (filtered) {
      admitted.assign((store->slots() + 7) / 8, 0);
      const auto& slots = snap->slots_by_doc(q.field);
      for (int32_t doc = 0; doc < snap->max_doc(); ++doc) {
        const int64_t slot = slots[doc];
        if (slot < 0 || !internal::Admits(filter, doc) || !store->is_live(slot)) continue;
        admitted[slot >> 3] |= static_cast<uint8_t>(1u << (slot & 7));
        ++admitted_count;
      }
    }
    std::vector<std::vector<internal::SlotScore>> found;
    HYMIR_RETURN_IF_ERROR(store->Search(qs.data(), nq, q.offset + q.k, filtered ? &admitted : nullptr, admitted_count,
                                        q.ef_search, q.nprobe, q.exact, &found));
    std::vector<std::vector<Hit>> out(nq);
    for (size_t i = 0; i < nq; ++i) {
      for (size_t r = q.offset; r < found[i].size(); ++r) {
        out[i].push_back(Hit{store->id(found[i][r].slot), found[i][r].score, static_cast<uint32_t>(r + 1)});
      }
    }
    return out;
  }

  Result<std::vector<float>> EmbedText(const std::string& field, const std::string& text) const override {
    const VectorFieldSpec* spec = internal::FindVectorField(meta_, field);
    if (!spec) return Status::InvalidArgument(dir_ + ": unknown vector field \"" + field + "\"");
    auto it = embedders_.find(field);
    if (it == embedders_.end() || !it->second) {
      return Status::InvalidArgument(dir_ + ": vector field \"" + field + "\" has no embedder; query it with a vector");
    }
    std::vector<float> v(spec->dimension);
    HYMIR_RETURN_IF_ERROR(it->second->Embed({text}, v.data()));
    return v;
  }

  const std::vector<VectorFieldSpec>& vector_fields() const override { return meta_.vector_fields; }

  Result<std::vector<Hit>> Search(const TextQuery& query, SearchStats* stats) const override {
    if (!query.sort.empty()) {  // a sort ranks every match: no pruning
      auto r = SearchStructured(query);
      if (!r.ok()) return r.status();
      return std::move(r->hits);
    }
    if (IsStructuredSyntax(query)) return RunStructured(query);
    return Run(query, /*exhaustive=*/false, stats);
  }

  Result<uint64_t> Count(const TextQuery& query) const override {
    if (IsStructuredSyntax(query)) {
      auto snap = Current();
      return Guard(dir_ + ": search", [&]() -> Result<uint64_t> {
        HYMIR_ASSIGN_OR_RETURN(Structured st, Prepare(snap, query));
        st.options.filter = &st.filter;
        HYMIR_ASSIGN_OR_RETURN(internal::Evaluation e, internal::Evaluate(*snap, st.tree, st.options, 0));
        return e.total;
      });
    }
    return CountPlain(query);
  }

  static bool IsStructuredSyntax(const TextQuery& q) {
    return q.syntax == QuerySyntax::kLucene && !IsBareTerms(q.text);
  }

  Result<SearchResults> SearchStructured(const TextQuery& q) const override {
    // A count alone (Engine::Count without facets or sort keys) needs no
    // scores: Count()'s postings union or its unscored evaluation.
    const bool match_all = q.text.empty() && q.expansions.empty();
    if (q.k == 0 && q.facets.empty() && q.sort.empty() && !match_all) {
      SearchResults out;
      HYMIR_ASSIGN_OR_RETURN(out.total, Count(q));
      return out;
    }
    auto snap = Current();
    return Guard(dir_ + ": search", [&]() -> Result<SearchResults> {
      std::vector<internal::ScoredDoc> matches;
      SearchResults out;
      if (IsStructuredSyntax(q)) {
        // Facets and sort keys need every match; a page by score needs the top only.
        HYMIR_ASSIGN_OR_RETURN(Structured st, Prepare(snap, q));
        st.options.filter = &st.filter;
        const bool every = !q.facets.empty() || !q.sort.empty();
        const size_t n = every ? static_cast<size_t>(snap->max_doc()) : q.offset + q.k;
        HYMIR_ASSIGN_OR_RETURN(internal::Evaluation e, internal::Evaluate(*snap, st.tree, st.options, n));
        matches = std::move(e.top);
        out.total = e.total;
      } else {
        std::vector<internal::ScoredTerm> terms;
        HYMIR_RETURN_IF_ERROR(Terms(snap, q, &terms));
        internal::DocFilter filter;
        HYMIR_RETURN_IF_ERROR(internal::BuildTypedFilter(*snap, q.filters, q.ranges, dir_, &filter));
        if (match_all && q.facets.empty() && q.sort.empty()) {  // score 0 throughout: the first documents
          matches = internal::AllAdmitted(*snap, filter, q.offset + q.k, &out.total);
        } else {
          matches =
              match_all ? internal::AllAdmitted(*snap, filter) : internal::AllMatches(*snap, terms, q.bm25, filter);
          out.total = matches.size();
        }
      }
      for (const FacetRequest& f : q.facets) {
        auto counts = internal::CountFacet(*snap, f, matches);
        if (!counts.ok()) return counts.status().WithContext(dir_);
        out.facets.push_back(std::move(counts).value());
      }
      HYMIR_RETURN_IF_ERROR(internal::SortMatches(*snap, q.sort, q.offset + q.k, &matches).WithContext(dir_));
      for (size_t i = q.offset; i < matches.size(); ++i) {
        out.hits.push_back(Hit{snap->id(matches[i].doc), matches[i].score, static_cast<uint32_t>(i + 1)});
        if (!q.sort.empty()) out.sort_values.push_back(internal::SortValuesOf(*snap, q.sort, matches[i].doc));
      }
      return out;
    });
  }

  Result<std::vector<Hit>> SearchExhaustive(const TextQuery& query) const override {
    if (query.syntax == QuerySyntax::kLucene && !IsBareTerms(query.text)) return RunStructured(query);
    return Run(query, /*exhaustive=*/true, nullptr);
  }

  Status Refresh() override {
    std::lock_guard<std::mutex> refresh_guard(refresh_mu_);
    auto current = Current();
    internal::VerifiedFiles verified = VerifiedCopy();
    HYMIR_ASSIGN_OR_RETURN(std::shared_ptr<Snapshot> snap, Newer(current, &verified));
    std::lock_guard<std::mutex> g(mu_);
    snap_ = std::move(snap);
    verified_ = std::move(verified);
    return Status::OK();
  }

  Result<std::unique_ptr<Searcher>> Reopen() const override {
    auto current = Current();
    internal::VerifiedFiles verified = VerifiedCopy();
    HYMIR_ASSIGN_OR_RETURN(std::shared_ptr<Snapshot> snap, Newer(current, &verified));
    return std::unique_ptr<Searcher>(
        new LuceneSearcher(dir_, meta_, std::move(snap), embedders_, directory_, std::move(verified)));
  }

  Result<Document> GetDocument(std::string_view id) const override {
    auto snap = Current();
    return Guard(dir_ + ": get \"" + std::string(id) + "\"", [&]() -> Result<Document> {
      Lucene::TermDocsPtr td = snap->reader()->termDocs(Lucene::newLucene<Lucene::Term>(internal::kIdField, Wide(id)));
      if (!td->next()) return Status::NotFound(dir_ + ": no document \"" + std::string(id) + "\"");
      Lucene::DocumentPtr ldoc = snap->reader()->document(td->doc());
      td->close();
      Document doc;
      doc.id = std::string(id);
      if (!internal::ReadStoredText(ldoc, &doc.title, &doc.text)) {
        return Status::Corruption(dir_ + "/" + internal::kTextDir + ": the stored title and text of \"" +
                                  std::string(id) + "\" do not decode (a damaged .fdt file)");
      }
      const std::string prefix = internal::kFilterPrefix;
      const std::string text_prefix = internal::kSchemaTextPrefix;
      for (const Lucene::FieldablePtr& f : ldoc->getFields()) {
        std::string name = internal::Utf8(f->name());
        if (name.rfind(text_prefix, 0) == 0) {  // a stored text field of the schema
          doc.values[name.substr(text_prefix.size())].push_back(internal::Utf8(f->stringValue()));
          continue;
        }
        if (name.rfind(prefix, 0) != 0) continue;
        name = name.substr(prefix.size());
        std::string value = internal::Utf8(f->stringValue());
        if (name == "domain") {
          doc.domain = value;
        } else {
          doc.fields[name] = value;
        }
      }
      if (const internal::DocValuesReader* values = snap->values()) {
        const uint64_t row = values->Find(doc.id);
        if (row < values->rows()) {
          const internal::TypedRow typed = values->Row(row);
          size_t f = 0;
          for (const auto& [name, spec] : internal::ValuesSchema(meta_.schema).fields) {
            if (spec.stored && (!typed.keys[f].empty() || !typed.keywords[f].empty())) {
              auto& out = doc.values[name];
              for (int64_t k : typed.keys[f]) out.push_back(KeyValue(spec.type, k));
              for (const std::string& v : typed.keywords[f]) out.push_back(v);
            }
            ++f;
          }
        }
      }
      return doc;
    });
  }

  Result<AnalysedDocument> GetAnalysed(std::string_view id) const override {
    auto snap = Current();
    const internal::ForwardIndexReader* f = snap->forward();
    if (f == nullptr) return Status::NotFound(dir_ + ": no forward index (written before it existed)");
    auto a = f->Get(id);
    if (!a.ok()) return a.status().WithContext(dir_);
    return a;
  }

  bool HasForwardIndex() const override { return Current()->forward() != nullptr; }

  Result<std::vector<float>> GetVector(const std::string& field, std::string_view id) const override {
    auto snap = Current();
    const internal::VectorStore* store = snap->vectors(field);
    if (store == nullptr) return Status::InvalidArgument(dir_ + ": unknown vector field \"" + field + "\"");
    const int64_t slot = store->SlotOf(std::string(id));
    if (slot < 0 || !store->is_live(slot)) {
      return Status::NotFound(dir_ + ": document \"" + std::string(id) + "\" has no vector in field \"" + field + "\"");
    }
    const float* v = store->vector(slot);
    return std::vector<float>(v, v + store->spec().dimension);
  }

  std::shared_ptr<const CollectionStatistics> Statistics() const override {
    return std::make_shared<internal::SnapshotStatistics>(Current());
  }

  uint64_t NumDocs() const override { return Current()->num_docs(); }
  Result<std::vector<std::string>> DocumentIds() const override {
    auto snap = Current();
    return Guard(dir_ + ": document ids", [&]() -> Result<std::vector<std::string>> {
      std::vector<std::string> ids;
      ids.reserve(snap->num_docs());
      for (int32_t d = 0; d < snap->max_doc(); ++d)
        if (!snap->reader()->isDeleted(d)) ids.push_back(snap->id(d));
      return ids;
    });
  }
  AnalyzerKind analyzer() const override { return kind_; }
  const Schema& schema() const override { return meta_.schema; }

 private:
  std::shared_ptr<Snapshot> Current() const {
    std::lock_guard<std::mutex> g(mu_);
    return snap_;
  }
  internal::VerifiedFiles VerifiedCopy() const {
    std::lock_guard<std::mutex> g(mu_);
    return verified_;
  }

  // A snapshot of the newest commit (`current` itself when nothing is new),
  // verified against the commit manifest (files in *verified by size only)
  // and sharing with `current` what the commits did not change.
  Result<std::shared_ptr<Snapshot>> Newer(const std::shared_ptr<Snapshot>& current,
                                          internal::VerifiedFiles* verified) const {
    internal::BlockTables tables;
    HYMIR_RETURN_IF_ERROR(
        internal::VerifyCommitManifest(dir_, internal::VerifyLevel::kOpen, nullptr, &tables, verified));
    HYMIR_RETURN_IF_ERROR(internal::CheckTermDictionaryHeaders(dir_));
    directory_->AddTables(tables);
    return Guard(dir_ + ": refresh", [&]() -> Result<std::shared_ptr<Snapshot>> {
      Lucene::IndexReaderPtr newer = current->reader()->reopen();
      if (newer == current->reader()) return current;
      auto snap = Snapshot::Load(newer, dir_, meta_, current.get());
      if (!snap.ok()) return snap.status();
      (*snap)->CarryPostings(*current);
      return std::shared_ptr<Snapshot>(std::move(snap).value());
    });
  }

  Result<std::vector<Hit>> Run(const TextQuery& q, bool exhaustive, SearchStats* stats) const {
    auto snap = Current();
    return Guard(dir_ + ": search", [&]() -> Result<std::vector<Hit>> {
      std::vector<internal::ScoredTerm> terms;
      HYMIR_RETURN_IF_ERROR(Terms(snap, q, &terms));
      internal::DocFilter filter;
      HYMIR_RETURN_IF_ERROR(internal::BuildTypedFilter(*snap, q.filters, q.ranges, dir_, &filter));

      const size_t want = q.offset + q.k;
      std::vector<internal::ScoredDoc> top = exhaustive
                                                 ? internal::TopKExhaustive(*snap, terms, q.bm25, filter, want)
                                                 : internal::TopKMaxScore(*snap, terms, q.bm25, filter, want, stats);
      std::vector<Hit> hits;
      for (size_t i = q.offset; i < top.size(); ++i) {
        hits.push_back(Hit{snap->id(top[i].doc), top[i].score, static_cast<uint32_t>(i + 1)});
      }
      return hits;
    });
  }

  // A query-language query ready to evaluate: its analysed tree (with the
  // expansions as optional clauses) and the evaluation options.
  struct Structured {
    QueryNode tree;
    internal::DocFilter filter;
    std::unique_ptr<internal::SnapshotStatistics> local;
    internal::EvaluationOptions options;
  };

  Result<Structured> Prepare(const std::shared_ptr<Snapshot>& snap, const TextQuery& q) const {
    Structured st;
    HYMIR_ASSIGN_OR_RETURN(st.tree, AnalyzeLuceneQuery(kind_, q.text, meta_.schema));
    if (!q.expansions.empty()) {
      // Expansion terms (KG) add optional clauses on the default fields.
      QueryNode top;
      if (st.tree.kind == QueryNode::Kind::kBoolean && st.tree.boost == 1.0) {
        top = std::move(st.tree);
      } else {
        top.kind = QueryNode::Kind::kBoolean;
        if (!(st.tree.kind == QueryNode::Kind::kBoolean && st.tree.clauses.empty())) {
          top.clauses.push_back({Occur::kShould, std::move(st.tree)});
        }
      }
      for (const WeightedText& e : q.expansions) {
        if (!(e.weight > 0) || !std::isfinite(e.weight)) {
          return Status::InvalidArgument("expansion \"" + e.text + "\": weight must be a positive number");
        }
        for (QueryToken& t : AnalyzePositions(kind_, e.text)) {
          QueryNode term;
          term.kind = QueryNode::Kind::kTerm;
          term.text = std::move(t.term);
          term.boost = e.weight;
          top.clauses.push_back({Occur::kShould, std::move(term)});
        }
      }
      st.tree = std::move(top);
    }
    for (const FieldWeight& fw : q.fields) {
      const int f = internal::TextFieldIndex(fw.field);
      if (f < 0)
        return Status::InvalidArgument("unknown text field \"" + fw.field + "\" (expected title, text or all)");
      if (!(fw.weight > 0)) return Status::InvalidArgument("field \"" + fw.field + "\": weight must be > 0");
    }
    st.options.default_fields.clear();
    for (const FieldWeight& fw : q.fields)
      st.options.default_fields.push_back({internal::TextFieldIndex(fw.field), fw.weight});
    st.options.bm25 = q.bm25;
    if (q.statistics) {
      st.options.statistics = q.statistics;
    } else {
      st.local = std::make_unique<internal::SnapshotStatistics>(snap);
      st.options.statistics = st.local.get();
    }
    HYMIR_RETURN_IF_ERROR(internal::BuildTypedFilter(*snap, q.filters, q.ranges, dir_, &st.filter));
    st.options.field_hook = [this, snap](const QueryNode& leaf) -> Result<std::optional<internal::DocFilter>> {
      return ExactValueLeaf(*snap, leaf);
    };
    return st;
  }

  // A leaf on an exact-value field ("domain", extra fields) or a typed field
  // of the schema: the documents it admits (MatchTypedValue, MatchTypedRange);
  // nullopt for a field the index lacks.
  Result<std::optional<internal::DocFilter>> ExactValueLeaf(const Snapshot& snap, const QueryNode& leaf) const {
    if (meta_.schema.fields.count(leaf.field)) {  // a typed field: values and ranges by its type
      if (leaf.kind == QueryNode::Kind::kRange) {
        RangeFilter r{leaf.field, leaf.lower, leaf.upper, leaf.include_lower, leaf.include_upper};
        HYMIR_ASSIGN_OR_RETURN(internal::DocFilter d, internal::MatchTypedRange(snap, r));
        return std::optional<internal::DocFilter>(std::move(d));
      }
      if (leaf.kind != QueryNode::Kind::kTerm) {
        return Status::InvalidArgument("typed field \"" + leaf.field + "\" takes a value or a range, not " +
                                       QueryToString(leaf));
      }
    } else {
      Lucene::HashSet<Lucene::String> known = snap.reader()->getFieldNames(Lucene::IndexReader::FIELD_OPTION_INDEXED);
      if (!known.contains(Wide(internal::kFilterPrefix + leaf.field))) return std::optional<internal::DocFilter>();
      if (leaf.kind != QueryNode::Kind::kTerm) {
        return Status::InvalidArgument("exact-value field \"" + leaf.field +
                                       "\" takes a single value (field:value), not " + QueryToString(leaf));
      }
    }
    HYMIR_ASSIGN_OR_RETURN(internal::DocFilter d, internal::MatchTypedValue(snap, leaf.field, leaf.text));
    return std::optional<internal::DocFilter>(std::move(d));
  }

  Result<std::vector<Hit>> RunStructured(const TextQuery& q) const {
    auto snap = Current();
    return Guard(dir_ + ": search", [&]() -> Result<std::vector<Hit>> {
      HYMIR_ASSIGN_OR_RETURN(Structured st, Prepare(snap, q));
      st.options.filter = &st.filter;
      st.options.exact_total = false;  // hits only: skipping that cannot change them is allowed
      HYMIR_ASSIGN_OR_RETURN(internal::Evaluation e, internal::Evaluate(*snap, st.tree, st.options, q.offset + q.k));
      std::vector<Hit> hits;
      for (size_t i = q.offset; i < e.top.size(); ++i) {
        hits.push_back(Hit{snap->id(e.top[i].doc), e.top[i].score, static_cast<uint32_t>(i + 1)});
      }
      return hits;
    });
  }

  // Documents having any analysed term of a plain query (or of its
  // expansions) in any of its fields, after its filters.
  Result<uint64_t> CountPlain(const TextQuery& q) const {
    auto snap = Current();
    return Guard(dir_ + ": count", [&]() -> Result<uint64_t> {
      std::vector<std::string> terms = Analyze(kind_, q.text);
      for (const WeightedText& e : q.expansions) {
        for (std::string& t : Analyze(kind_, e.text)) terms.push_back(std::move(t));
      }
      std::vector<std::shared_ptr<const internal::DecodedPostings>> lists;
      for (const FieldWeight& fw : q.fields) {
        const int f = internal::TextFieldIndex(fw.field);
        if (f < 0)
          return Status::InvalidArgument("unknown text field \"" + fw.field + "\" (expected title, text or all)");
        for (const std::string& t : terms) lists.push_back(snap->Postings(f, Wide(t)));
      }
      internal::DocFilter filter;
      HYMIR_RETURN_IF_ERROR(internal::BuildTypedFilter(*snap, q.filters, q.ranges, dir_, &filter));
      return internal::CountAdmitted(lists, filter, snap->max_doc());
    });
  }

  // The scored (field, term) pairs of `q`: analysed once, repeated terms and
  // weighted expansions counted, idf from the query's statistics.
  Status Terms(const std::shared_ptr<Snapshot>& snap, const TextQuery& q,
               std::vector<internal::ScoredTerm>* terms) const {
    internal::SnapshotStatistics local(snap);
    const CollectionStatistics& cs = q.statistics ? *q.statistics : local;

    // Analyse once; count multiplicities (a repeated term scores repeatedly).
    internal::TokenBuffer tokens;
    internal::AnalyzeInto(analyzer_, Wide(q.text), &tokens);
    std::map<Lucene::String, double> qtf;
    uint32_t begin = 0;
    for (uint32_t end : tokens.ends) {
      qtf[Lucene::String(tokens.chars.data() + begin, end - begin)] += 1.0;
      begin = end;
    }
    // Weighted extra terms (KG expansion): each analysed token adds `weight`.
    for (const WeightedText& e : q.expansions) {
      if (!(e.weight > 0) || !std::isfinite(e.weight)) {
        return Status::InvalidArgument("expansion \"" + e.text + "\": weight must be a positive number");
      }
      internal::TokenBuffer et;
      internal::AnalyzeInto(analyzer_, Wide(e.text), &et);
      uint32_t b = 0;
      for (uint32_t end : et.ends) {
        qtf[Lucene::String(et.chars.data() + b, end - b)] += e.weight;
        b = end;
      }
    }

    for (const FieldWeight& fw : q.fields) {
      int f = internal::TextFieldIndex(fw.field);
      if (f < 0) {
        return Status::InvalidArgument("unknown text field \"" + fw.field + "\" (expected title, text or all)");
      }
      if (!(fw.weight > 0)) {
        return Status::InvalidArgument("field \"" + fw.field + "\": weight must be > 0");
      }
      const std::string_view fname = internal::kTextFieldNames[f];
      const uint64_t n = cs.DocCount(fname);
      const double avgdl = cs.AverageFieldLength(fname);
      for (const auto& [term, count] : qtf) {
        const uint64_t df = cs.DocFreq(fname, internal::Utf8(term));
        if (df == 0) continue;
        internal::ScoredTerm t;
        t.field = f;
        t.term = term;
        t.weight = fw.weight * count * Bm25Idf(n, df);
        t.avgdl = avgdl;
        terms->push_back(std::move(t));
      }
    }
    // A document frequency that failed to read (a damaged index) came back 0.
    return cs.status();
  }

  const std::string dir_;
  // Verifies each block of the large files on its first read; shared by
  // every snapshot's reader (reopen keeps the directory).
  const boost::shared_ptr<internal::VerifyingDirectory> directory_;
  const internal::IndexMeta meta_;
  const AnalyzerKind kind_;
  Lucene::AnalyzerPtr analyzer_;
  const std::map<std::string, std::shared_ptr<const Embedder>> embedders_;
  std::mutex refresh_mu_;  // one Refresh() at a time
  mutable std::mutex mu_;
  internal::VerifiedFiles verified_;  // GUARDED_BY(mu_): files checksummed whole by this searcher's opens
  std::shared_ptr<Snapshot> snap_;    // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<Searcher>> Searcher::Open(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": no index directory");
  // Lucene++ 3.0 files carry no checksums: verify the commit against hymir's
  // manifest, and the term dictionary headers against their sizes, before
  // Lucene++ reads (and allocates by) a byte of them.
  // Large files are checked block by block as queries read them
  // (block_checksums.h).
  internal::BlockTables tables;
  internal::VerifiedFiles verified;
  HYMIR_RETURN_IF_ERROR(internal::VerifyCommitManifest(dir, internal::VerifyLevel::kOpen, nullptr, &tables, &verified));
  auto meta = internal::ReadMeta(dir);
  if (!meta.ok()) return meta.status();
  return Guard(dir, [&]() -> Result<std::unique_ptr<Searcher>> {
    auto directory = Lucene::newLucene<internal::VerifyingDirectory>(dir + "/" + internal::kTextDir);
    directory->AddTables(tables);
    if (!Lucene::IndexReader::indexExists(directory)) {
      return Status::Corruption(dir + "/" + internal::kTextDir + ": no committed Lucene++ index");
    }
    HYMIR_RETURN_IF_ERROR(internal::CheckTermDictionaryHeaders(dir));
    std::map<std::string, std::shared_ptr<const Embedder>> embedders;
    for (const auto& spec : meta->vector_fields) {
      auto e = internal::LoadFieldEmbedder(dir, spec);
      if (!e.ok()) return e.status();
      embedders[spec.name] = std::move(e).value();
    }
    Lucene::IndexReaderPtr reader = Lucene::IndexReader::open(directory, /*readOnly=*/true);
    auto snap = Snapshot::Load(reader, dir, *meta, nullptr);
    if (!snap.ok()) return snap.status();
    return std::unique_ptr<Searcher>(new LuceneSearcher(dir, *meta, std::move(snap).value(), std::move(embedders),
                                                        std::move(directory), std::move(verified)));
  });
}

}  // namespace hymir::index
