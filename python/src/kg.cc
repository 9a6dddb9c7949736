// The knowledge graph: TripleStore (triples, aliases, neighbours,
// breadth-first expansion), the N-Triples / TSV / WordNet loaders, and
// KnowledgeGraph (a KG linked on an index's analyzer: entity linking and
// query expansion as the pipeline does them).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hymir/index/analyzer.h"
#include "hymir/kg/loader.h"
#include "hymir/kg/triple_store.h"
#include "hymir/knowledge.h"
#include "python/src/common.h"
#include "python/src/holders.h"

namespace hymir::python {

const KnowledgeContext* KnowledgeOf(const py::handle& object) {
  if (!py::isinstance<PyKnowledge>(object)) throw py::type_error("kg: expected a hymir.KnowledgeGraph");
  return object.cast<const PyKnowledge&>().context;
}

namespace {

using Store = std::shared_ptr<kg::TripleStore>;

kg::Direction DirectionFrom(const std::string& name) {
  if (name == "out") return kg::Direction::kOut;
  if (name == "in") return kg::Direction::kIn;
  if (name == "both") return kg::Direction::kBoth;
  throw py::value_error("direction: expected 'out', 'in' or 'both', got '" + name + "'");
}
const char* DirectionName(kg::Direction d) {
  return d == kg::Direction::kOut ? "out" : d == kg::Direction::kIn ? "in" : "both";
}

py::tuple TripleTuple(const kg::Triple& t) { return py::make_tuple(t.subject, t.relation, t.object); }

kg::Triple TripleFrom(const py::handle& object) {
  auto t = object.cast<std::tuple<std::string, std::string, std::string>>();
  return {std::get<0>(t), std::get<1>(t), std::get<2>(t)};
}

py::dict StatsToDict(const kg::LoadStats& s) {
  py::dict d;
  d["lines"] = s.lines;
  d["triples"] = s.triples;
  d["added"] = s.added;
  d["bad_lines"] = s.bad_lines;
  d["entities"] = s.entities;
  d["seconds"] = s.seconds;
  d["errors"] = s.errors;
  return d;
}

// Runs a loader with the GIL released, `progress(dict)` called on this thread.
template <typename Loader>
py::dict Load(Loader loader, const Store& store, const std::string& path, bool skip_bad, size_t batch_size,
              const py::object& progress) {
  kg::LoadOptions o;
  o.skip_bad = skip_bad;
  o.batch_size = batch_size;
  PendingError pending;
  if (!progress.is_none()) {
    o.progress = [&](const kg::LoadProgress& p) {
      pending.Run([&] {
        py::dict d;
        d["file"] = p.file;
        d["bytes_read"] = p.bytes_read;
        d["bytes_total"] = p.bytes_total;
        d["lines"] = p.lines;
        d["triples"] = p.triples;
        progress(d);
      });
    };
  }
  auto stats = WithoutGil([&] { return loader(*store, path, o); });
  pending.RaiseIfAny();
  return StatsToDict(Unwrap(std::move(stats)));
}

}  // namespace

void RegisterKg(py::module_& m) {
  py::class_<kg::Neighbor>(m, "Neighbor", "An edge at an entity: its relation, the other end, and the direction.")
      .def_readonly("relation", &kg::Neighbor::relation)
      .def_readonly("entity", &kg::Neighbor::entity)
      .def_property_readonly("direction", [](const kg::Neighbor& n) { return DirectionName(n.direction); })
      .def("__repr__", [](const kg::Neighbor& n) {
        return "Neighbor('" + n.relation + "', '" + n.entity + "', '" + DirectionName(n.direction) + "')";
      });

  py::class_<kg::ReachedEntity>(m, "ReachedEntity", "A node reached by TripleStore.expand, breadth first.")
      .def_readonly("entity", &kg::ReachedEntity::entity)
      .def_readonly("hops", &kg::ReachedEntity::hops)
      .def_readonly("parent", &kg::ReachedEntity::parent)
      .def_readonly("relation", &kg::ReachedEntity::relation)
      .def_property_readonly("direction", [](const kg::ReachedEntity& r) { return DirectionName(r.direction); })
      .def("__repr__", [](const kg::ReachedEntity& r) {
        return "ReachedEntity('" + r.entity + "', hops=" + std::to_string(r.hops) + ")";
      });

  py::class_<kg::TripleStore, Store>(
      m, "TripleStore",
      "A persistent knowledge graph of (subject, relation, object) string triples with aliases (RocksDB).\n\n"
      "Thread-safe; one process at a time may open a directory for writing (BusyError otherwise).")
      .def_static(
          "open",
          [](const std::string& dir, bool create_if_missing, bool read_only, bool sync) {
            kg::TripleStoreOptions o;
            o.create_if_missing = create_if_missing;
            o.read_only = read_only;
            o.sync = sync;
            return Store(Unwrap(WithoutGil([&] { return kg::TripleStore::Open(dir, o); })));
          },
          py::arg("kg_dir"), py::kw_only(), py::arg("create_if_missing") = true, py::arg("read_only") = false,
          py::arg("sync") = false, "Opens (or creates) the store in `kg_dir`.")
      .def(
          "add",
          [](kg::TripleStore& s, const std::string& subject, const std::string& relation, const std::string& object) {
            Check(s.Add({subject, relation, object}));
          },
          py::arg("subject"), py::arg("relation"), py::arg("object"), "Adds one triple (no-op when present).")
      .def(
          "add_batch",
          [](kg::TripleStore& s, const py::iterable& triples) {
            std::vector<kg::Triple> ts;
            for (auto t : triples) ts.push_back(TripleFrom(t));
            size_t added = 0;
            Check(WithoutGil([&] { return s.AddBatch(ts, &added); }));
            return added;
          },
          py::arg("triples"), "Adds (subject, relation, object) tuples in one atomic write; returns how many were new.")
      .def(
          "delete",
          [](kg::TripleStore& s, const std::string& subject, const std::string& relation, const std::string& object) {
            Check(s.Delete({subject, relation, object}));
          },
          py::arg("subject"), py::arg("relation"), py::arg("object"))
      .def(
          "exists",
          [](const kg::TripleStore& s, const std::string& subject, const std::string& relation,
             const std::string& object) {
            return Unwrap(s.Exists({subject, relation, object}));
          },
          py::arg("subject"), py::arg("relation"), py::arg("object"))
      .def(
          "count", [](const kg::TripleStore& s) { return Unwrap(s.Count()); }, "Distinct stored triples.")
      .def(
          "match",
          [](const kg::TripleStore& s, const std::optional<std::string>& subject,
             const std::optional<std::string>& relation, const std::optional<std::string>& object, size_t limit) {
            kg::TriplePattern p{subject, relation, object};
            auto ts = Unwrap(WithoutGil([&] { return s.Match(p, limit); }));
            py::list l;
            for (const auto& t : ts) l.append(TripleTuple(t));
            return l;
          },
          py::arg("subject") = py::none(), py::arg("relation") = py::none(), py::arg("object") = py::none(),
          py::kw_only(), py::arg("limit") = 0,
          "Triples matching the pattern (None matches anything) as (s, r, o) tuples; limit 0 = all.")
      .def(
          "neighbors",
          [](const kg::TripleStore& s, const std::string& entity, const std::optional<std::string>& relation,
             const std::string& direction, size_t limit) {
            const kg::Direction d = DirectionFrom(direction);
            return Unwrap(WithoutGil([&] { return s.Neighbors(entity, relation, d, limit); }));
          },
          py::arg("entity"), py::arg("relation") = py::none(), py::kw_only(), py::arg("direction") = "out",
          py::arg("limit") = 0, "Edges at `entity` ('out', 'in' or 'both'); alias edges only when asked by name.")
      .def(
          "expand",
          [](const kg::TripleStore& s, const std::string& start, int max_hops, size_t max_nodes,
             const std::optional<std::string>& relation, const std::string& direction) {
            kg::ExpandOptions o;
            o.max_hops = max_hops;
            o.max_nodes = max_nodes;
            o.relation = relation;
            o.direction = DirectionFrom(direction);
            return Unwrap(WithoutGil([&] { return s.Expand(start, o); }));
          },
          py::arg("start"), py::kw_only(), py::arg("max_hops") = 2, py::arg("max_nodes") = 1000,
          py::arg("relation") = py::none(), py::arg("direction") = "both",
          "Breadth-first expansion from `start`, bounded by max_hops and max_nodes.")
      .def(
          "add_alias",
          [](kg::TripleStore& s, const std::string& entity, const std::string& alias) {
            Check(s.AddAlias(entity, alias));
          },
          py::arg("entity"), py::arg("alias"))
      .def(
          "aliases",
          [](const kg::TripleStore& s, const std::string& entity, size_t limit) {
            return Unwrap(s.Aliases(entity, limit));
          },
          py::arg("entity"), py::kw_only(), py::arg("limit") = 0)
      .def(
          "entities_for_alias",
          [](const kg::TripleStore& s, const std::string& alias, size_t limit) {
            return Unwrap(s.EntitiesForAlias(alias, limit));
          },
          py::arg("alias"), py::kw_only(), py::arg("limit") = 0)
      .def(
          "stats",
          [](const kg::TripleStore& s) {
            auto st = Unwrap(WithoutGil([&] { return s.Stats(); }));
            py::dict d;
            d["triples"] = st.triples;
            d["terms"] = st.terms;
            d["subjects"] = st.subjects;
            d["relations"] = st.relations;
            d["alias_triples"] = st.alias_triples;
            return d;
          },
          "Counters plus two full scans.")
      .def(
          "load_ntriples",
          [](const Store& s, const std::string& path, bool skip_bad, size_t batch_size, const py::object& progress) {
            return Load([](kg::TripleStore& st, const std::string& p,
                           const kg::LoadOptions& o) { return kg::LoadNTriples(st, p, o); },
                        s, path, skip_bad, batch_size, progress);
          },
          py::arg("path"), py::kw_only(), py::arg("skip_bad") = false, py::arg("batch_size") = 20000,
          py::arg("progress") = py::none(), "Loads an N-Triples file; returns the load's counters.")
      .def(
          "load_tsv",
          [](const Store& s, const std::string& path, bool skip_bad, size_t batch_size, const py::object& progress) {
            return Load([](kg::TripleStore& st, const std::string& p,
                           const kg::LoadOptions& o) { return kg::LoadTsv(st, p, o); },
                        s, path, skip_bad, batch_size, progress);
          },
          py::arg("path"), py::kw_only(), py::arg("skip_bad") = false, py::arg("batch_size") = 20000,
          py::arg("progress") = py::none(), "Loads subject<TAB>relation<TAB>object lines.")
      .def(
          "load_wordnet",
          [](const Store& s, const std::string& dir, bool skip_bad, size_t batch_size, const py::object& progress) {
            return Load([](kg::TripleStore& st, const std::string& p,
                           const kg::LoadOptions& o) { return kg::LoadWordNet(st, p, o); },
                        s, dir, skip_bad, batch_size, progress);
          },
          py::arg("dir") = "/usr/share/wordnet", py::kw_only(), py::arg("skip_bad") = false,
          py::arg("batch_size") = 20000, py::arg("progress") = py::none(),
          "Loads WordNet's data.{noun,verb,adj,adv} (synsets as entities, lemmas as aliases).")
      .def(
          "close", [](const Store& s) {}, "Kept for symmetry; the store closes when its last reference goes.");

  m.def("normalize_alias", &kg::NormalizeAlias, py::arg("alias"), "An alias as the store compares aliases.");

  py::class_<PyKnowledge>(m, "KnowledgeGraph",
                          "A knowledge graph as the pipeline uses it: entity linking and query expansion on an "
                          "index's analyzer. Immutable; every method may run concurrently.")
      .def_static(
          "open",
          [](const std::string& kg_dir, const std::string& analyzer, const py::object& expansion) {
            KnowledgeOptions o;
            if (!expansion.is_none()) {
              for (auto [k, v] : expansion.cast<py::dict>()) {
                const std::string key = k.cast<std::string>();
                if (key == "synonym_weight")
                  o.expansion.synonym_weight = v.cast<double>();
                else if (key == "neighbor_weight")
                  o.expansion.neighbor_weight = v.cast<double>();
                else if (key == "relations")
                  o.expansion.relations = v.cast<std::vector<std::string>>();
                else if (key == "max_terms")
                  o.expansion.max_terms = v.cast<size_t>();
                else if (key == "max_neighbors_per_relation")
                  o.expansion.max_neighbors_per_relation = v.cast<size_t>();
                else if (key == "max_aliases_per_entity")
                  o.expansion.max_aliases_per_entity = v.cast<size_t>();
                else if (key == "skip_query_aliases")
                  o.expansion.skip_query_aliases = v.cast<bool>();
                else
                  throw py::value_error("expansion: unknown option \"" + key + "\"");
              }
            }
            const index::AnalyzerKind kind = Unwrap(index::ParseAnalyzerKind(analyzer));
            PyKnowledge k;
            k.owned = Unwrap(WithoutGil([&] { return KnowledgeContext::Open(kg_dir, kind, o); }));
            k.context = k.owned.get();
            return k;
          },
          py::arg("kg_dir"), py::kw_only(), py::arg("analyzer") = "english", py::arg("expansion") = py::none(),
          "Opens an existing KG (builds its entity linker from every alias).")
      .def(
          "link",
          [](const PyKnowledge& k, const std::string& text) {
            return WithoutGil([&] { return k.context->LinkEntities(text); });
          },
          py::arg("text"), "The entities linked in `text`, in text order.")
      .def(
          "expand",
          [](const PyKnowledge& k, const std::string& text) {
            return Unwrap(WithoutGil([&] { return k.context->Expand(text); }));
          },
          py::arg("text"), "The expansion terms of a query text.")
      .def(
          "neighbors",
          [](const PyKnowledge& k, const std::string& entity, const std::optional<std::string>& relation,
             const std::string& direction, size_t limit) {
            const kg::Direction d = DirectionFrom(direction);
            return Unwrap(WithoutGil([&] { return k.context->store().Neighbors(entity, relation, d, limit); }));
          },
          py::arg("entity"), py::arg("relation") = py::none(), py::kw_only(), py::arg("direction") = "out",
          py::arg("limit") = 0, "Edges at `entity` in the KG's store.")
      .def(
          "aliases",
          [](const PyKnowledge& k, const std::string& entity) { return Unwrap(k.context->store().Aliases(entity)); },
          py::arg("entity"))
      .def_property_readonly("dir", [](const PyKnowledge& k) { return k.context->dir(); })
      .def_property_readonly("has_embeddings", [](const PyKnowledge& k) { return k.context->has_embeddings(); });
}

}  // namespace hymir::python
