// The index module: IndexWriter (documents, vectors from NumPy, commits,
// bulk ingest with progress), Searcher (raw BM25 and vector queries with
// filters, sorting and facets) and LSA training.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hymir/index/analyzer.h"
#include "hymir/index/index_writer.h"
#include "hymir/index/lsa_embedder.h"
#include "hymir/index/schema.h"
#include "hymir/index/searcher.h"
#include "hymir/ingest.h"
#include "hymir/knowledge.h"
#include "hymir/query_language.h"
#include "hymir/query_spec.h"
#include "python/src/common.h"
#include "python/src/holders.h"

namespace hymir::python {
namespace {

index::VectorFieldSpec VectorFieldFrom(const py::handle& object) {
  if (py::isinstance<py::str>(object)) return Unwrap(index::ParseVectorFieldSpec(object.cast<std::string>()));
  if (!py::isinstance<py::dict>(object))
    throw py::type_error("vector_fields: expected \"NAME:DIM[:METRIC[:INDEX]]\" or a dict");
  py::dict d = py::reinterpret_borrow<py::dict>(object);
  index::VectorFieldSpec spec;
  for (auto [k, v] : d) {
    const std::string key = k.cast<std::string>();
    if (key == "name")
      spec.name = v.cast<std::string>();
    else if (key == "dimension")
      spec.dimension = v.cast<size_t>();
    else if (key == "metric")
      spec.metric = Unwrap(index::ParseVectorMetric(v.cast<std::string>()));
    else if (key == "index")
      spec.index = v.cast<std::string>();
    else if (key == "ef_construction")
      spec.ef_construction = v.cast<int>();
    else if (key == "ef_search")
      spec.ef_search = v.cast<int>();
    else if (key == "nprobe")
      spec.nprobe = v.cast<int>();
    else if (key == "embedder")
      spec.embedder = v.cast<std::string>();
    else
      throw py::value_error("vector_fields: unknown key \"" + key + "\"");
  }
  Check(index::ValidateVectorFieldSpec(spec));
  return spec;
}

py::dict VectorFieldToDict(const index::VectorFieldSpec& s) {
  py::dict d;
  d["name"] = s.name;
  d["dimension"] = s.dimension;
  d["metric"] = index::VectorMetricName(s.metric);
  d["index"] = s.index;
  d["ef_construction"] = s.ef_construction;
  d["ef_search"] = s.ef_search;
  d["nprobe"] = s.nprobe;
  d["embedder"] = s.embedder;
  return d;
}

py::list VectorFieldsToList(const std::vector<index::VectorFieldSpec>& specs) {
  py::list l;
  for (const auto& s : specs) l.append(VectorFieldToDict(s));
  return l;
}

py::object SchemaToPython(const index::Schema& schema) {
  return py::module_::import("json").attr("loads")(index::SchemaToJson(schema));
}

index::Schema SchemaFrom(const py::handle& object) {
  std::string json = py::isinstance<py::str>(object)
                         ? object.cast<std::string>()
                         : py::module_::import("json").attr("dumps")(object).cast<std::string>();
  return Unwrap(index::ParseSchemaJson(json));
}

py::dict ReportToDict(const IngestReport& r) {
  py::dict d;
  d["added"] = r.added;
  d["skipped"] = r.skipped;
  d["parsed"] = r.parsed;
  d["seconds"] = r.seconds;
  return d;
}

py::dict ProgressToDict(const IngestProgress& p) {
  py::dict d;
  d["bytes_read"] = p.bytes_read;
  d["total_bytes"] = p.total_bytes;
  d["added"] = p.added;
  d["skipped"] = p.skipped;
  d["seconds"] = p.seconds;
  return d;
}

// The documents of a Python iterable (dicts, or bare ids), each given row i
// of every matrix of `vectors` (read from the borrowed NumPy buffers).
class PythonSource : public DocumentSource {
 public:
  PythonSource(py::iterator it, std::vector<std::pair<std::string, MatrixView>> vectors, PendingError* pending)
      : it_(std::move(it)), vectors_(std::move(vectors)), pending_(pending) {}

  Result<bool> Next(Document* doc) override {
    bool more = false;
    bool ok = pending_->Run([&] {
      if (it_ == py::iterator::sentinel()) return;
      py::handle item = *it_;
      if (py::isinstance<py::str>(item)) {
        *doc = Document();
        doc->id = item.cast<std::string>();
      } else {
        *doc = DocumentFromDict(item);
      }
      ++it_;
      more = true;
    });
    if (!ok) return Status::Internal("the document iterable raised an exception");
    if (!more) {
      for (const auto& [field, m] : vectors_) {
        if (m.rows() != row_) {
          return Status::InvalidArgument("vectors[\"" + field + "\"] has " + std::to_string(m.rows()) +
                                         " rows but there are " + std::to_string(row_) + " documents");
        }
      }
      return false;
    }
    for (const auto& [field, m] : vectors_) {
      if (row_ >= m.rows()) {
        return Status::InvalidArgument("vectors[\"" + field + "\"] has " + std::to_string(m.rows()) +
                                       " rows, fewer than the documents (document " + doc->id + " is number " +
                                       std::to_string(row_ + 1) + ")");
      }
      auto r = m.row(row_);
      doc->vectors[field].assign(r.begin(), r.end());
    }
    ++row_;
    where_ = "document " + std::to_string(row_) + " (id " + doc->id + ")";
    return true;
  }
  std::string Where() const override { return where_; }

 private:
  py::iterator it_;
  std::vector<std::pair<std::string, MatrixView>> vectors_;
  PendingError* pending_;
  size_t row_ = 0;
  std::string where_;
};

IngestOptions IngestOptionsFrom(int threads, size_t batch_size, uint64_t commit_every, bool skip_bad,
                                const py::object& progress, const py::object& on_skip, const KnowledgeContext* kg,
                                PendingError* pending) {
  IngestOptions o;
  o.threads = threads;
  o.batch_size = batch_size;
  o.commit_every = commit_every;
  o.skip_bad = skip_bad;
  o.kg = kg;
  if (!progress.is_none()) {
    // The callables are borrowed (the caller's arguments outlive the
    // ingest): copying a py::object without the GIL would race on its count.
    const py::object* callback = &progress;
    o.on_progress = [callback, pending](const IngestProgress& p) {
      pending->Run([&] { (*callback)(ProgressToDict(p)); });
    };
  }
  if (!on_skip.is_none()) {
    const py::object* callback = &on_skip;
    o.on_skip = [callback, pending](const Status& s) {
      pending->Run([&] { (*callback)(CodeId(s.code()), s.message()); });
    };
  }
  return o;
}

}  // namespace

// ---- searcher helpers shared with the pipeline ----

void FillTextQuery(const TextQueryArgs& a, index::TextQuery* q) {
  q->text = a.text;
  q->syntax = Unwrap(ParseQuerySyntax(a.syntax));
  q->k = a.k;
  q->offset = a.offset;
  q->bm25.k1 = a.k1;
  q->bm25.b = a.b;
  Check(ParseFilters(a.filters, &q->filters, &q->ranges, "filters"));
  Check(ParseSort(a.sort, &q->sort, "sort"));
  Check(ParseFacets(a.facets, &q->facets, "facets"));
  Check(ParseFields(a.fields, &q->fields, "fields"));
}

TextQueryArgs TextQueryArgsFrom(const std::string& text, size_t k, const py::kwargs& kwargs) {
  TextQueryArgs a;
  a.text = text;
  a.k = k;
  for (auto [key_h, v] : kwargs) {
    const std::string key = key_h.cast<std::string>();
    if (key == "offset")
      a.offset = v.cast<size_t>();
    else if (key == "syntax")
      a.syntax = v.cast<std::string>();
    else if (key == "filters")
      a.filters = StringList(v, "filters");
    else if (key == "sort")
      a.sort = StringList(v, "sort");
    else if (key == "facets")
      a.facets = StringList(v, "facets");
    else if (key == "fields")
      a.fields = StringList(v, "fields");
    else if (key == "k1")
      a.k1 = v.cast<double>();
    else if (key == "b")
      a.b = v.cast<double>();
    else
      throw py::type_error("unexpected keyword argument '" + key + "'");
  }
  return a;
}

py::dict FacetsToDict(const std::vector<index::FacetResult>& facets) {
  py::dict d;
  for (const auto& f : facets) {
    py::list counts;
    for (const auto& c : f.counts) counts.append(py::make_tuple(c.value, c.count));
    d[py::str(f.field)] = counts;
  }
  return d;
}

void RegisterIndex(py::module_& m) {
  py::class_<index::Hit>(m, "Hit", "A BM25 or vector hit of Searcher: id, score and 1-based rank.")
      .def_readonly("id", &index::Hit::id)
      .def_property_readonly(
          "docid", [](const index::Hit& h) { return h.id; }, "The id (Pyserini's name).")
      .def_readonly("score", &index::Hit::score)
      .def_readonly("rank", &index::Hit::rank)
      .def("__repr__", [](const index::Hit& h) {
        return "Hit(rank=" + std::to_string(h.rank) + ", id='" + h.id + "', score=" + std::to_string(h.score) + ")";
      });

  py::class_<index::SearchResults>(m, "StructuredResult",
                                   "Searcher.search_structured's answer: the page, the exact total, the facets.")
      .def_readonly("hits", &index::SearchResults::hits)
      .def_readonly("total", &index::SearchResults::total)
      .def_property_readonly(
          "facets", [](const index::SearchResults& r) { return FacetsToDict(r.facets); },
          "Facet counts by field: a list of (value, count), by count descending (buckets in bound order).");

  py::class_<PySearcher, std::shared_ptr<PySearcher>>(
      m, "Searcher",
      "Raw BM25 and vector retrieval over a committed index (no fusion, KG or re-ranking).\n\n"
      "Thread-safe: every method may run concurrently from many threads; searches release the GIL.")
      .def_static(
          "open",
          [](const std::string& dir) {
            auto s = std::make_shared<PySearcher>();
            s->owned = Unwrap(WithoutGil([&] { return index::Searcher::Open(dir); }));
            s->searcher = s->owned.get();
            return s;
          },
          py::arg("index_dir"), "Opens the index at `index_dir` read-only (NotFoundError when there is none).")
      .def(
          "search",
          [](const PySearcher& s, const std::string& text, size_t k, const py::kwargs& kwargs) {
            index::TextQuery q;
            FillTextQuery(TextQueryArgsFrom(text, k, kwargs), &q);
            if (!q.sort.empty() || !q.facets.empty()) {
              throw py::type_error("search: sort and facets need search_structured()");
            }
            return Unwrap(WithoutGil([&] { return s.searcher->Search(q); }));
          },
          py::arg("text"), py::arg("k") = 10,
          "BM25 top k of `text`. Keywords: offset, syntax ('plain' | 'lucene'), filters (['FIELD:VALUE', "
          "'FIELD:[LO TO HI]', 'FIELD:>=V', ...]), fields (['title:2', 'text']), k1, b.")
      .def(
          "search_structured",
          [](const PySearcher& s, const std::string& text, size_t k, const py::kwargs& kwargs) {
            index::TextQuery q;
            FillTextQuery(TextQueryArgsFrom(text, k, kwargs), &q);
            return Unwrap(WithoutGil([&] { return s.searcher->SearchStructured(q); }));
          },
          py::arg("text") = "", py::arg("k") = 10,
          "Every match of `text` (all documents the filters admit when empty): the page in sort order "
          "(sort=['FIELD[:asc|desc]', ...]) or by score, the exact total and the facets (facets=['FIELD[:N]', "
          "'FIELD:buckets=B0,B1,...']). Other keywords as search().")
      .def(
          "count",
          [](const PySearcher& s, const std::string& text, const py::kwargs& kwargs) {
            index::TextQuery q;
            FillTextQuery(TextQueryArgsFrom(text, 10, kwargs), &q);
            return Unwrap(WithoutGil([&] { return s.searcher->Count(q); }));
          },
          py::arg("text"), "The exact number of live documents `text` matches after the filters.")
      .def(
          "search_vector",
          [](const PySearcher& s, const std::string& field, const py::object& vector, const std::string& text, size_t k,
             size_t offset, const py::object& filters, const std::string& constraint, int ef_search, int nprobe,
             bool exact) {
            index::VectorQuery q;
            q.field = field;
            if (!vector.is_none()) q.vector = FloatView(vector, "vector").vector();
            q.text = text;
            q.k = k;
            q.offset = offset;
            Check(ParseFilters(StringList(filters, "filters"), &q.filters, &q.ranges, "filters"));
            q.constraint = constraint;
            q.ef_search = ef_search;
            q.nprobe = nprobe;
            q.exact = exact;
            return Unwrap(WithoutGil([&] { return s.searcher->SearchVector(q); }));
          },
          py::arg("field"), py::arg("vector") = py::none(), py::kw_only(), py::arg("text") = "", py::arg("k") = 10,
          py::arg("offset") = 0, py::arg("filters") = py::none(), py::arg("constraint") = "", py::arg("ef_search") = 0,
          py::arg("nprobe") = 0, py::arg("exact") = false,
          "Nearest neighbours in vector field `field` of `vector` (1-D float32), or of `text` embedded with the "
          "field's embedder. Scores are similarities. `constraint`: a query-language query whose required and "
          "excluded clauses every hit must satisfy.")
      .def(
          "search_vector_batch",
          [](const PySearcher& s, const std::string& field, const py::object& vectors, size_t k,
             const py::object& filters) {
            MatrixView mv(vectors, "vectors");
            index::VectorQuery q;
            q.field = field;
            q.k = k;
            Check(ParseFilters(StringList(filters, "filters"), &q.filters, &q.ranges, "filters"));
            std::vector<float> flat(mv.data(), mv.data() + mv.rows() * mv.cols());
            return Unwrap(WithoutGil([&] { return s.searcher->SearchVectorBatch(q, flat); }));
          },
          py::arg("field"), py::arg("vectors"), py::kw_only(), py::arg("k") = 10, py::arg("filters") = py::none(),
          "Many vector queries (an n x dimension float32 array) in one batched FAISS call; n hit lists.")
      .def(
          "doc",
          [](const PySearcher& s, const std::string& id) -> py::object {
            auto d = WithoutGil([&] { return s.searcher->GetDocument(id); });
            if (!d.ok() && d.status().IsNotFound()) return py::none();
            return DocumentToDict(Unwrap(std::move(d)));
          },
          py::arg("id"), "The stored document `id` as a dict, or None when absent.")
      .def(
          "vector",
          [](const PySearcher& s, const std::string& field, const std::string& id) {
            return ToArray(Unwrap(s.searcher->GetVector(field, id)));
          },
          py::arg("field"), py::arg("id"), "The stored vector of document `id` in `field` (float32 array).")
      .def(
          "embed_text",
          [](const PySearcher& s, const std::string& field, const std::string& text) {
            return ToArray(Unwrap(WithoutGil([&] { return s.searcher->EmbedText(field, text); })));
          },
          py::arg("field"), py::arg("text"), "`text` embedded with `field`'s embedder (float32 array).")
      .def(
          "analyze",
          [](const PySearcher& s, const std::string& text) { return index::Analyze(s.searcher->analyzer(), text); },
          py::arg("text"), "The terms the index's analyzer makes of `text`.")
      .def(
          "document_ids", [](const PySearcher& s) { return Unwrap(s.searcher->DocumentIds()); },
          "The ids of the live documents, in index order.")
      .def(
          "refresh",
          [](PySearcher& s) {
            if (!s.owned) throw py::type_error("refresh: this searcher belongs to a Pipeline; reopen the pipeline");
            Check(WithoutGil([&] { return s.owned->Refresh(); }));
          },
          "Moves to the newest commit.")
      .def_property_readonly(
          "num_docs", [](const PySearcher& s) { return s.searcher->NumDocs(); }, "Live documents in the current view.")
      .def_property_readonly("analyzer",
                             [](const PySearcher& s) { return index::AnalyzerName(s.searcher->analyzer()); })
      .def_property_readonly("vector_fields",
                             [](const PySearcher& s) { return VectorFieldsToList(s.searcher->vector_fields()); })
      .def_property_readonly(
          "schema", [](const PySearcher& s) { return SchemaToPython(s.searcher->schema()); },
          "The typed fields as the schema JSON reads ({'fields': {...}}).");

  py::class_<PyWriter>(m, "IndexWriter",
                       "Adds, replaces and deletes documents of an index directory; commit() makes them durable.\n\n"
                       "One writer per directory (BusyError otherwise). Thread-safe: upsert/delete may run from many "
                       "threads; they release the GIL. Used as a context manager it commits on a clean exit and "
                       "rolls back on an exception, then closes.")
      .def_static(
          "open",
          [](const std::string& dir, const std::optional<std::string>& analyzer, const py::object& vector_fields,
             const py::object& schema, const py::object& embedder_models, bool create_if_missing, double ram_buffer_mb,
             int format_version, double max_dead_vector_fraction) {
            index::IndexWriterOptions o;
            if (analyzer) o.analyzer = Unwrap(index::ParseAnalyzerKind(*analyzer));
            if (!vector_fields.is_none()) {
              for (auto f : vector_fields) o.vector_fields.push_back(VectorFieldFrom(f));
            }
            if (!schema.is_none()) o.schema = SchemaFrom(schema);
            if (!embedder_models.is_none()) {
              o.embedder_models = embedder_models.cast<std::map<std::string, std::string>>();
            }
            o.create_if_missing = create_if_missing;
            o.ram_buffer_mb = ram_buffer_mb;
            o.format_version = format_version;
            o.max_dead_vector_fraction = max_dead_vector_fraction;
            PyWriter w;
            w.writer = Unwrap(WithoutGil([&] { return index::IndexWriter::Open(dir, o); }));
            return w;
          },
          py::arg("index_dir"), py::kw_only(), py::arg("analyzer") = py::none(), py::arg("vector_fields") = py::none(),
          py::arg("schema") = py::none(), py::arg("embedder_models") = py::none(), py::arg("create_if_missing") = true,
          py::arg("ram_buffer_mb") = 128.0, py::arg("format_version") = 0, py::arg("max_dead_vector_fraction") = 0.3,
          "Opens (creating when absent) the index at `index_dir`. analyzer: 'english' | 'standard' | "
          "'whitespace' | 'english-lucenepp30'; vector_fields: 'NAME:DIM[:METRIC[:INDEX]]' strings or dicts "
          "(name, dimension, metric, index, embedder, ...); schema: the typed fields as a dict or JSON text "
          "({'fields': {'year': {'type': 'int64', 'sort': True}}}); embedder_models: {field: LSA model path}.")
      .def(
          "upsert",
          [](PyWriter& w, const py::object& doc) {
            Document d = DocumentFromDict(doc);
            Check(WithoutGil([&] { return w.get().Upsert(d); }));
          },
          py::arg("doc"),
          "Adds `doc` (a dict: id, title, text, domain, fields, values, vectors {field: float32 array}; other "
          "scalar keys become fields), replacing any document with its id.")
      .def(
          "add",
          [](PyWriter& w, const py::object& docs, const py::object& vectors, int threads, size_t batch_size,
             uint64_t commit_every, bool skip_bad, const py::object& progress, const py::object& on_skip,
             const py::object& kg) {
            std::vector<std::pair<std::string, MatrixView>> mats;
            if (!vectors.is_none()) {
              for (auto [k, v] : py::reinterpret_borrow<py::dict>(vectors)) {
                const std::string field = k.cast<std::string>();
                mats.emplace_back(field, MatrixView(v, ("vectors[\"" + field + "\"]").c_str()));
              }
            }
            const KnowledgeContext* context = kg.is_none() ? nullptr : KnowledgeOf(kg);
            PendingError pending;
            PythonSource source(py::iter(docs), std::move(mats), &pending);
            IngestOptions o =
                IngestOptionsFrom(threads, batch_size, commit_every, skip_bad, progress, on_skip, context, &pending);
            auto report = WithoutGil([&] { return IngestDocuments(source, w.get(), o); });
            pending.RaiseIfAny();
            return ReportToDict(Unwrap(std::move(report)));
          },
          py::arg("docs"), py::arg("vectors") = py::none(), py::kw_only(), py::arg("threads") = 1,
          py::arg("batch_size") = 128, py::arg("commit_every") = 0, py::arg("skip_bad") = false,
          py::arg("progress") = py::none(), py::arg("on_skip") = py::none(), py::arg("kg") = py::none(),
          "Upserts every document of the iterable `docs` (dicts, or bare ids) on `threads` workers. `vectors` "
          "maps a vector field to an n x dimension float32 array whose row i is document i's vector (read from "
          "the array's buffer, not converted through Python). progress(dict) is called every 1024 documents and "
          "at the end; on_skip(code, message) for each document skipped with skip_bad; kg (a KnowledgeGraph) "
          "links each document's entities. Does not commit at the end (unless commit_every). Returns "
          "{'added', 'skipped', 'parsed', 'seconds'}.")
      .def(
          "delete", [](PyWriter& w, const std::string& id) { Check(WithoutGil([&] { return w.get().Delete(id); })); },
          py::arg("id"), "Deletes document `id` (no error when absent).")
      .def(
          "commit", [](PyWriter& w) { Check(WithoutGil([&] { return w.get().Commit(); })); },
          "Makes every change so far durable and visible to searchers opened or refreshed afterwards.")
      .def(
          "rollback", [](PyWriter& w) { Check(WithoutGil([&] { return w.get().Rollback(); })); },
          "Discards the changes since the last commit.")
      .def(
          "close", [](PyWriter& w) { WithoutGil([&] { w.writer.reset(); }); },
          "Releases the writer (and its lock); uncommitted changes are discarded.")
      .def_property_readonly(
          "num_docs", [](PyWriter& w) { return Unwrap(w.get().NumDocs()); },
          "Documents in the index including uncommitted changes.")
      .def_property_readonly("dir", [](PyWriter& w) { return w.get().dir(); })
      .def_property_readonly("analyzer", [](PyWriter& w) { return index::AnalyzerName(w.get().analyzer()); })
      .def_property_readonly("vector_fields", [](PyWriter& w) { return VectorFieldsToList(w.get().vector_fields()); })
      .def_property_readonly("schema", [](PyWriter& w) { return SchemaToPython(w.get().schema()); })
      .def(
          "__enter__", [](PyWriter& w) -> PyWriter& { return w; }, py::return_value_policy::reference)
      .def("__exit__", [](PyWriter& w, const py::object& type, const py::object&, const py::object&) {
        if (!w.writer) return false;
        Status s = WithoutGil([&] { return type.is_none() ? w.writer->Commit() : w.writer->Rollback(); });
        WithoutGil([&] { w.writer.reset(); });
        Check(s);
        return false;
      });

  m.def(
      "ingest_corpus",
      [](const std::string& corpus, PyWriter& w, int threads, size_t batch_size, uint64_t commit_every, bool skip_bad,
         const py::object& progress, const py::object& on_skip, const py::object& kg) {
        const KnowledgeContext* context = kg.is_none() ? nullptr : KnowledgeOf(kg);
        PendingError pending;
        IngestOptions o =
            IngestOptionsFrom(threads, batch_size, commit_every, skip_bad, progress, on_skip, context, &pending);
        auto report = WithoutGil([&] { return IngestCorpus(corpus, w.get(), o); });
        pending.RaiseIfAny();
        return ReportToDict(Unwrap(std::move(report)));
      },
      py::arg("corpus"), py::arg("writer"), py::kw_only(), py::arg("threads") = 1, py::arg("batch_size") = 128,
      py::arg("commit_every") = 0, py::arg("skip_bad") = false, py::arg("progress") = py::none(),
      py::arg("on_skip") = py::none(), py::arg("kg") = py::none(),
      "Upserts every document of a BEIR corpus.jsonl through `writer` (as `hymir index`); the caller commits.");

  m.def(
      "train_lsa",
      [](const std::string& corpus, const std::string& path, size_t dimension, const std::string& analyzer,
         bool skip_bad) {
        index::LsaOptions o;
        o.dimension = dimension;
        o.analyzer = Unwrap(index::ParseAnalyzerKind(analyzer));
        Check(WithoutGil([&] { return TrainLsaOnCorpus(corpus, o, path, skip_bad); }));
      },
      py::arg("corpus"), py::arg("path"), py::kw_only(), py::arg("dimension") = 256, py::arg("analyzer") = "english",
      py::arg("skip_bad") = false,
      "Trains the built-in LSA embedder on a corpus.jsonl and saves it at `path` (for IndexWriter.open's "
      "embedder_models and a vector field with embedder 'lsa').");

  m.def(
      "parse_query",
      [](const std::string& text, const std::string& analyzer) {
        const index::AnalyzerKind kind = Unwrap(index::ParseAnalyzerKind(analyzer));
        return QueryToString(Unwrap(index::AnalyzeLuceneQuery(kind, text)));
      },
      py::arg("text"), py::arg("analyzer") = "english",
      "A query-language text as `analyzer` analyses it, in Lucene's Query.toString() form "
      "('+heart \"attack aspirin\"~2 title:lens*'); InvalidArgumentError naming the column of a syntax error.");
  m.def(
      "free_text", [](const std::string& text) { return FreeText(Unwrap(ParseQuery(text))); }, py::arg("text"),
      "The positive free text of a query-language text (what the vector side embeds and the KG links).");

  m.def(
      "analyze",
      [](const std::string& text, const std::string& analyzer) {
        return index::Analyze(Unwrap(index::ParseAnalyzerKind(analyzer)), text);
      },
      py::arg("text"), py::arg("analyzer") = "english", "The index terms `analyzer` makes of `text`.");
}

}  // namespace hymir::python
