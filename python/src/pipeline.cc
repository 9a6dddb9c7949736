// hymir.Pipeline: the whole search path (KG expansion, BM25 and vectors,
// fusion, MoE re-ranking, documents and snippets), with every stage's score
// in each hit.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hymir/pipeline.h"
#include "hymir/query_spec.h"
#include "python/src/common.h"
#include "python/src/holders.h"

namespace hymir::python {
namespace {

std::optional<bool> OptionalBool(const py::handle& v) {
  if (v.is_none()) return std::nullopt;
  return v.cast<bool>();
}

py::object StageOrNone(const StageResult& s) { return s.present ? py::cast(s) : py::object(py::none()); }

py::dict FusionToDict(const ranking::FusionOptions& f) {
  py::dict d;
  d["method"] = ranking::FusionMethodName(f.method);
  d["rrf_k"] = f.rrf_k;
  d["weights"] = f.weights;
  d["alpha"] = f.alpha;
  return d;
}

// Applies the expansion keywords of Pipeline.open to `o`.
void ApplyExpansion(const py::dict& d, kg::ExpansionOptions* o) {
  for (auto [k, v] : d) {
    const std::string key = k.cast<std::string>();
    if (key == "synonym_weight")
      o->synonym_weight = v.cast<double>();
    else if (key == "neighbor_weight")
      o->neighbor_weight = v.cast<double>();
    else if (key == "relations")
      o->relations = StringList(v, "relations");
    else if (key == "max_neighbors_per_relation")
      o->max_neighbors_per_relation = v.cast<size_t>();
    else if (key == "max_aliases_per_entity")
      o->max_aliases_per_entity = v.cast<size_t>();
    else if (key == "max_terms")
      o->max_terms = v.cast<size_t>();
    else if (key == "skip_query_aliases")
      o->skip_query_aliases = v.cast<bool>();
    else
      throw py::value_error("expansion: unknown option \"" + key + "\"");
  }
}

}  // namespace

void ApplySearchKwargs(const py::kwargs& kwargs, SearchArgs* a) {
  QuerySpec& s = a->spec;
  for (auto [key_h, v] : kwargs) {
    const std::string key = key_h.cast<std::string>();
    if (key == "id")
      s.id = v.cast<std::string>();
    else if (key == "offset")
      s.offset = v.cast<size_t>();
    else if (key == "syntax")
      s.syntax = v.cast<std::string>();
    else if (key == "vector")
      s.vector = v.is_none() ? std::vector<float>() : FloatView(v, "vector").vector();
    else if (key == "vector_field")
      s.vector_field = v.cast<std::string>();
    else if (key == "retriever")
      s.retriever = v.cast<std::string>();
    else if (key == "filters")
      s.filters = StringList(v, "filters");
    else if (key == "sort")
      s.sort = StringList(v, "sort");
    else if (key == "facets")
      s.facets = StringList(v, "facets");
    else if (key == "fields")
      s.fields = StringList(v, "fields");
    else if (key == "k1")
      s.k1 = v.cast<double>();
    else if (key == "b")
      s.b = v.cast<double>();
    else if (key == "fusion")
      s.fusion = v.is_none() ? "" : v.cast<std::string>();
    else if (key == "alpha")
      s.alpha = v.is_none() ? -1.0 : v.cast<double>();
    else if (key == "rrf_k")
      s.rrf_k = v.cast<double>();
    else if (key == "weights")
      s.weights = v.is_none() ? std::vector<double>() : v.cast<std::vector<double>>();
    else if (key == "bm25_depth")
      s.bm25_depth = v.cast<size_t>();
    else if (key == "vector_depth")
      s.vector_depth = v.cast<size_t>();
    else if (key == "ef_search")
      s.ef_search = v.cast<int>();
    else if (key == "nprobe")
      s.nprobe = v.cast<int>();
    else if (key == "more_vectors") {
      a->more_vectors.clear();
      if (!v.is_none()) {
        for (auto [f, vec] : py::reinterpret_borrow<py::dict>(v)) {
          const std::string field = f.cast<std::string>();
          a->more_vectors.push_back({field, FloatView(vec, ("more_vectors[\"" + field + "\"]").c_str()).vector()});
        }
      }
    } else if (key == "expand")
      a->stages.expand = OptionalBool(v);
    else if (key == "rerank")
      a->stages.rerank = OptionalBool(v);
    else if (key == "explain")
      a->stages.explain = v.cast<bool>();
    else if (key == "fetch_documents")
      a->stages.fetch_documents = v.cast<bool>();
    else if (key == "snippet_chars")
      a->stages.snippet_chars = v.cast<size_t>();
    else if (key == "count")
      a->stages.count = v.cast<bool>();
    else
      throw py::type_error("search() got an unexpected keyword argument '" + key + "'");
  }
}

Result<HybridQuery> MakeQuery(const Pipeline& pipeline, const SearchArgs& args) {
  HYMIR_ASSIGN_OR_RETURN(HybridQuery q, pipeline.MakeQuery(args.spec));
  q.more_vectors = args.more_vectors;
  return q;
}

void RegisterPipeline(py::module_& m) {
  py::class_<StageResult>(m, "Stage", "One stage's score and 1-based rank of a hit.")
      .def_readonly("score", &StageResult::score)
      .def_readonly("rank", &StageResult::rank)
      .def("__repr__", [](const StageResult& s) {
        return "Stage(score=" + std::to_string(s.score) + ", rank=" + std::to_string(s.rank) + ")";
      });

  py::class_<ranking::Routing>(m, "Routing", "The gate's decision for a query.")
      .def_readonly("affinity", &ranking::Routing::affinity, "Affinity of every routed expert.")
      .def_readonly("chosen", &ranking::Routing::chosen, "The top-k experts, best first.")
      .def_readonly("weights", &ranking::Routing::weights, "The weight of each chosen expert.");

  py::class_<ranking::FeatureContribution>(m, "FeatureContribution")
      .def_readonly("feature", &ranking::FeatureContribution::feature)
      .def_readonly("value", &ranking::FeatureContribution::value)
      .def_readonly("contribution", &ranking::FeatureContribution::contribution)
      .def("__repr__", [](const ranking::FeatureContribution& f) {
        return "FeatureContribution('" + f.feature + "', value=" + std::to_string(f.value) +
               ", contribution=" + std::to_string(f.contribution) + ")";
      });

  py::class_<ranking::MoeExplanation>(m, "Explanation",
                                      "The re-ranker's explanation of a hit: routing, experts' scores and the "
                                      "largest feature contributions.")
      .def_readonly("routing", &ranking::MoeExplanation::routing)
      .def_readonly("score", &ranking::MoeExplanation::score)
      .def_readonly("routed_scores", &ranking::MoeExplanation::routed_scores)
      .def_readonly("shared_scores", &ranking::MoeExplanation::shared_scores)
      .def_readonly("trees", &ranking::MoeExplanation::trees)
      .def_readonly("tree_score", &ranking::MoeExplanation::tree_score)
      .def_readonly("top_features", &ranking::MoeExplanation::top_features);

  py::class_<kg::ExpansionTerm>(m, "ExpansionTerm", "A query term the knowledge graph added.")
      .def_readonly("text", &kg::ExpansionTerm::text)
      .def_readonly("weight", &kg::ExpansionTerm::weight)
      .def_readonly("entity", &kg::ExpansionTerm::entity)
      .def_readonly("via_entity", &kg::ExpansionTerm::via_entity)
      .def_readonly("relation", &kg::ExpansionTerm::relation, "'' for a synonym")
      .def("__repr__", [](const kg::ExpansionTerm& e) {
        return "ExpansionTerm('" + e.text + "', weight=" + std::to_string(e.weight) + ", entity='" + e.entity + "')";
      });

  py::class_<PipelineHit>(m, "SearchHit", "A pipeline hit: final rank and score, and every stage's score and rank.")
      .def_property_readonly("rank", [](const PipelineHit& h) { return h.hit.rank; })
      .def_property_readonly("id", [](const PipelineHit& h) { return h.hit.id; })
      .def_property_readonly(
          "docid", [](const PipelineHit& h) { return h.hit.id; }, "The id (Pyserini's name).")
      .def_property_readonly("score", [](const PipelineHit& h) { return h.hit.score; })
      .def_property_readonly(
          "bm25", [](const PipelineHit& h) { return StageOrNone(h.hit.bm25); },
          "BM25 score and rank (None: not a BM25 candidate).")
      .def_property_readonly(
          "vector", [](const PipelineHit& h) { return StageOrNone(h.hit.vector); },
          "Vector score and rank (None: not a vector candidate).")
      .def_property_readonly(
          "fused", [](const PipelineHit& h) { return StageOrNone(h.hit.fused); },
          "The retrieval score and rank before re-ranking.")
      .def_property_readonly(
          "rerank", [](const PipelineHit& h) { return StageOrNone(h.hit.rerank); },
          "The re-ranker's score and rank (None: not re-ranked).")
      .def_property_readonly(
          "more_vectors",
          [](const PipelineHit& h) {
            py::list l;
            for (const StageResult& s : h.hit.more_vectors) l.append(StageOrNone(s));
            return l;
          },
          "One Stage (or None) per more_vectors list, in its order.")
      .def_property_readonly(
          "document",
          [](const PipelineHit& h) -> py::object {
            return h.document ? DocumentToDict(*h.document) : py::object(py::none());
          },
          "The stored document as a dict (None when not fetched).")
      .def_property_readonly("title",
                             [](const PipelineHit& h) { return h.document ? h.document->title : std::string(); })
      .def_readonly("snippet", &PipelineHit::snippet)
      .def_property_readonly(
          "explanation",
          [](const PipelineHit& h) -> py::object { return h.moe ? py::cast(*h.moe) : py::object(py::none()); },
          "The re-ranker's Explanation (explain=True, re-ranked hits only), else None.")
      .def("__repr__", [](const PipelineHit& h) {
        return "SearchHit(rank=" + std::to_string(h.hit.rank) + ", id='" + h.hit.id +
               "', score=" + std::to_string(h.hit.score) + ")";
      });

  py::class_<PipelineResult>(m, "SearchResult",
                             "One query's answer: the hits (iterate or index it) and what each stage did.")
      .def_readonly("hits", &PipelineResult::hits)
      .def_property_readonly("query_id", [](const PipelineResult& r) { return r.query.id; })
      .def_property_readonly("query_text", [](const PipelineResult& r) { return r.query.text; })
      .def_property_readonly("syntax", [](const PipelineResult& r) { return QuerySyntaxName(r.query.syntax); })
      .def_property_readonly(
          "retriever", [](const PipelineResult& r) { return RetrieverName(r.retriever); },
          "The retriever used: 'bm25', 'vector' or 'hybrid'.")
      .def_property_readonly("fusion", [](const PipelineResult& r) { return FusionToDict(r.fusion); })
      .def_readonly("expanded", &PipelineResult::expanded)
      .def_readonly("expansions", &PipelineResult::expansions)
      .def_readonly("reranked", &PipelineResult::reranked)
      .def_property_readonly("routing",
                             [](const PipelineResult& r) -> py::object {
                               return r.reranked ? py::cast(r.routing) : py::object(py::none());
                             })
      .def_readonly("trust", &PipelineResult::trust)
      .def_property_readonly(
          "total",
          [](const PipelineResult& r) -> py::object { return r.total ? py::cast(*r.total) : py::object(py::none()); },
          "The exact number of matches (count=True, sort or facets), else None.")
      .def_property_readonly("facets", [](const PipelineResult& r) { return FacetsToDict(r.facets); })
      .def("__len__", [](const PipelineResult& r) { return r.hits.size(); })
      .def(
          "__iter__", [](const PipelineResult& r) { return py::make_iterator(r.hits.begin(), r.hits.end()); },
          py::keep_alive<0, 1>())
      .def(
          "__getitem__",
          [](const PipelineResult& r, py::ssize_t i) -> const PipelineHit& {
            const auto n = static_cast<py::ssize_t>(r.hits.size());
            if (i < 0) i += n;
            if (i < 0 || i >= n) throw py::index_error("hit index out of range");
            return r.hits[static_cast<size_t>(i)];
          },
          py::return_value_policy::reference_internal);

  py::class_<PyPipeline, std::shared_ptr<PyPipeline>>(
      m, "Pipeline",
      "The whole search path over one index: KG expansion, BM25 and vector retrieval, fusion, MoE re-ranking, "
      "stored documents and snippets.\n\nThread-safe: search() and search_batch() may run from many Python "
      "threads at once; they release the GIL.")
      .def_static(
          "open",
          [](const std::string& index_dir, const std::optional<std::string>& kg_dir,
             const std::optional<std::string>& rerank_model, const std::optional<double>& rerank_prior,
             const std::optional<size_t>& rerank_depth, int threads, bool recorded, const py::object& expansion) {
            auto p = std::make_shared<PyPipeline>();
            const bool plain = !kg_dir && !rerank_model && !rerank_prior && !rerank_depth && threads == 0 && recorded &&
                               expansion.is_none();
            if (plain) {
              p->pipeline = Unwrap(WithoutGil([&] { return Pipeline::Open(index_dir); }));
              return p;
            }
            PipelineOptions o;
            if (recorded) {
              o = Unwrap(RecordedPipelineOptions(index_dir));
            }
            o.index_dir = index_dir;
            if (kg_dir) o.kg_dir = *kg_dir;
            if (rerank_model) o.rerank_model = *rerank_model;
            if (rerank_prior) o.rerank_prior = *rerank_prior;
            if (rerank_depth) o.rerank_depth = *rerank_depth;
            o.threads = threads;
            if (!expansion.is_none()) ApplyExpansion(expansion.cast<py::dict>(), &o.knowledge.expansion);
            p->pipeline = Unwrap(WithoutGil([&] { return Pipeline::Open(o); }));
            return p;
          },
          py::arg("index_dir"), py::kw_only(), py::arg("kg_dir") = py::none(), py::arg("rerank_model") = py::none(),
          py::arg("rerank_prior") = py::none(), py::arg("rerank_depth") = py::none(), py::arg("threads") = 0,
          py::arg("recorded") = true, py::arg("expansion") = py::none(),
          "Opens the pipeline of `index_dir`: with no other argument, the index and the KG and re-ranker it "
          "records (pipeline.json), as Pipeline::Open(dir). kg_dir / rerank_model ('' for none) replace the "
          "recorded ones (recorded=False: start from the index alone); rerank_prior in [0, 1]; rerank_depth "
          "(candidates re-ranked, default 100); threads of search_batch's re-ranking (0: all cores); expansion: "
          "KG expansion options (synonym_weight, neighbor_weight, relations, max_terms, ...).")
      .def(
          "search",
          [](const PyPipeline& p, const std::string& text, size_t k, const py::kwargs& kwargs) {
            SearchArgs a;
            a.spec = p.defaults;
            a.spec.text = text;
            a.spec.k = k;
            ApplySearchKwargs(kwargs, &a);
            return Unwrap(WithoutGil([&]() -> Result<PipelineResult> {
              HYMIR_ASSIGN_OR_RETURN(HybridQuery q, MakeQuery(*p.pipeline, a));
              return p.pipeline->Search(q, a.stages);
            }));
          },
          py::arg("text"), py::arg("k") = 10,
          "One query through every stage; a SearchResult. Keywords (all optional): id, offset, syntax ('plain' | "
          "'lucene'), vector (float32 array), vector_field, more_vectors ({field: array}), retriever ('auto' | "
          "'bm25' | 'vector' | 'hybrid'), filters (['FIELD:VALUE', 'FIELD:[LO TO HI]', 'FIELD:>=V', ...]), sort "
          "(['FIELD[:asc|desc]']), facets (['FIELD[:N]', 'FIELD:buckets=B0,B1,...']), fields (['title:2']), k1, "
          "b, fusion ('rrf' | 'wrrf' | 'minmax' | 'zscore' | 'convex'), alpha, rrf_k, weights, bm25_depth, "
          "vector_depth, ef_search, nprobe, expand, rerank (None: when the pipeline has it), explain, "
          "fetch_documents, snippet_chars, count.")
      .def(
          "search_batch",
          [](const PyPipeline& p, const std::vector<std::string>& texts, const py::object& ids, size_t k,
             const py::object& vectors, const py::kwargs& kwargs) {
            SearchArgs a;
            a.spec = p.defaults;
            a.spec.k = k;
            a.stages.fetch_documents = false;
            ApplySearchKwargs(kwargs, &a);
            std::vector<std::string> qids = StringList(ids, "ids");
            if (!ids.is_none() && qids.size() != texts.size()) {
              throw py::value_error("search_batch: " + std::to_string(qids.size()) + " ids for " +
                                    std::to_string(texts.size()) + " queries");
            }
            std::optional<MatrixView> mv;
            if (!vectors.is_none()) {
              mv.emplace(vectors, "vectors");
              if (mv->rows() != texts.size()) {
                throw py::value_error("search_batch: vectors has " + std::to_string(mv->rows()) + " rows for " +
                                      std::to_string(texts.size()) + " queries");
              }
            }
            return Unwrap(WithoutGil([&]() -> Result<std::vector<PipelineResult>> {
              HYMIR_ASSIGN_OR_RETURN(HybridQuery base, MakeQuery(*p.pipeline, a));
              std::vector<HybridQuery> batch;
              batch.reserve(texts.size());
              for (size_t i = 0; i < texts.size(); ++i) {
                HybridQuery q = base;
                q.id = qids.empty() ? std::to_string(i) : qids[i];
                q.text = texts[i];
                if (mv) q.vector.assign(mv->row(i).begin(), mv->row(i).end());
                batch.push_back(std::move(q));
              }
              return p.pipeline->SearchBatch(batch, a.stages);
            }));
          },
          py::arg("queries"), py::arg("ids") = py::none(), py::arg("k") = 10, py::arg("vectors") = py::none(),
          "Many queries (a run): retrieval batched in the engine, re-ranking on the pipeline's threads. "
          "`ids` name the queries (default '0', '1', ...); `vectors` (n x dimension float32) gives each query "
          "a raw vector for vector_field. Other keywords as search(); documents are not fetched unless "
          "fetch_documents=True. A list of SearchResult in query order.")
      .def(
          "expand",
          [](const PyPipeline& p, const std::string& text) {
            return Unwrap(WithoutGil([&]() -> Result<std::vector<kg::ExpansionTerm>> {
              HybridQuery q;
              q.text = text;
              return p.pipeline->Expand(&q);
            }));
          },
          py::arg("text"), "The KG expansion terms of `text` (empty without a KG).")
      .def(
          "doc",
          [](const PyPipeline& p, const std::string& id) -> py::object {
            auto d = WithoutGil([&] { return p.pipeline->engine().searcher().GetDocument(id); });
            if (!d.ok() && d.status().IsNotFound()) return py::none();
            return DocumentToDict(Unwrap(std::move(d)));
          },
          py::arg("id"), "The stored document `id` as a dict, or None when absent.")
      .def(
          "set_bm25",
          [](PyPipeline& p, double k1, double b) {
            p.defaults.k1 = k1;
            p.defaults.b = b;
          },
          py::arg("k1") = 0.9, py::arg("b") = 0.4,
          "Sets the BM25 parameters later searches use by default (not while other threads search).")
      .def_property_readonly(
          "searcher",
          [](const std::shared_ptr<PyPipeline>& p) {
            auto s = std::make_shared<PySearcher>();
            s->searcher = &p->pipeline->engine().searcher();
            s->owner = py::cast(p);
            return s;
          },
          "The index's Searcher (raw BM25 and vector queries).")
      .def_property_readonly(
          "kg",
          [](const std::shared_ptr<PyPipeline>& p) -> py::object {
            if (!p->pipeline->kg()) return py::none();
            PyKnowledge k;
            k.context = p->pipeline->kg();
            k.owner = py::cast(p);
            return py::cast(std::move(k));
          },
          "The pipeline's KnowledgeGraph, or None.")
      .def_property_readonly("num_docs", [](const PyPipeline& p) { return p.pipeline->engine().searcher().NumDocs(); })
      .def_property_readonly("has_kg", [](const PyPipeline& p) { return p.pipeline->kg() != nullptr; })
      .def_property_readonly("has_reranker", [](const PyPipeline& p) { return p.pipeline->reranker() != nullptr; })
      .def_property_readonly("default_fusion",
                             [](const PyPipeline& p) { return FusionToDict(p.pipeline->engine().default_fusion()); })
      .def_property_readonly("options", [](const PyPipeline& p) {
        const PipelineOptions& o = p.pipeline->options();
        py::dict d;
        d["index_dir"] = o.index_dir;
        d["kg_dir"] = o.kg_dir;
        d["rerank_model"] = o.rerank_model;
        d["rerank_prior"] = o.rerank_prior ? py::cast(*o.rerank_prior) : py::object(py::none());
        d["rerank_depth"] = o.rerank_depth;
        d["threads"] = o.threads;
        return d;
      });

  m.def(
      "record_pipeline",
      [](const std::string& index_dir, const std::string& kg_dir, const std::string& rerank_model,
         const std::optional<double>& rerank_prior, size_t rerank_depth) {
        PipelineOptions o;
        o.kg_dir = kg_dir;
        o.rerank_model = rerank_model;
        o.rerank_prior = rerank_prior;
        o.rerank_depth = rerank_depth;
        Check(RecordPipelineOptions(index_dir, o));
      },
      py::arg("index_dir"), py::kw_only(), py::arg("kg_dir") = "", py::arg("rerank_model") = "",
      py::arg("rerank_prior") = py::none(), py::arg("rerank_depth") = 100,
      "Records in the index the KG and model Pipeline.open(index_dir) opens with it.");
}

}  // namespace hymir::python
