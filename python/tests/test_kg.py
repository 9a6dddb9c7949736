"""The knowledge graph from Python: triples, aliases, neighbours, expansion, loaders,
and KG query expansion in the pipeline (equal to the CLI's)."""

import hymir
import pytest

from conftest import cli_json

TRIPLES = [("e:lens", "rel:part_of", "e:eye"), ("e:eye", "rel:part_of", "e:head"),
           ("e:cornea", "rel:part_of", "e:eye"), ("e:heart", "rel:organ_of", "e:body")]
ALIASES = [("e:lens", "crystalline lens"), ("e:lens", "lens"), ("e:lens", "phacoid"),
           ("e:heart", "heart"), ("e:heart", "cardiac muscle pump")]


@pytest.fixture()
def kg_dir(tmp_path):
    path = tmp_path / "kg"
    tsv = tmp_path / "triples.tsv"
    tsv.write_text("".join(f"{s}\t{r}\t{o}\n" for s, r, o in TRIPLES), encoding="utf-8")
    store = hymir.TripleStore.open(str(path))
    progress = []
    stats = store.load_tsv(str(tsv), progress=progress.append)
    assert stats["added"] == len(TRIPLES) and progress and progress[-1]["triples"] == len(TRIPLES)
    for entity, alias in ALIASES:
        store.add_alias(entity, alias)
    del store  # closes it (one process may hold a KG for writing)
    return str(path)


def test_triples_neighbors_and_expansion(kg_dir):
    store = hymir.TripleStore.open(kg_dir)
    assert store.count() == len(TRIPLES) + len(ALIASES)
    assert store.exists("e:lens", "rel:part_of", "e:eye")
    assert sorted(store.match(relation="rel:part_of")) == sorted(t for t in TRIPLES if t[1] == "rel:part_of")
    into_eye = store.neighbors("e:eye", direction="in")
    assert sorted(n.entity for n in into_eye) == ["e:cornea", "e:lens"]
    assert all(n.direction == "in" and n.relation == "rel:part_of" for n in into_eye)
    reached = {r.entity: r.hops for r in store.expand("e:lens", max_hops=2)}
    assert reached == {"e:eye": 1, "e:cornea": 2, "e:head": 2}
    assert store.entities_for_alias("Crystalline_Lens") == ["e:lens"]
    assert store.add_batch([("e:a", "r", "e:b"), TRIPLES[0]]) == 1
    with pytest.raises(hymir.InvalidArgumentError):
        store.add("", "r", "o")


def test_second_writer_of_a_kg_is_busy(kg_dir):
    first = hymir.TripleStore.open(kg_dir)
    with pytest.raises(hymir.BusyError):
        hymir.TripleStore.open(kg_dir)
    reader = hymir.TripleStore.open(kg_dir, read_only=True)
    assert reader.count() == first.count()


def test_knowledge_graph_links_and_expands(kg_dir):
    kg = hymir.KnowledgeGraph.open(kg_dir)
    assert kg.link("the crystalline lens of the eye") == ["e:lens"]
    terms = kg.expand("crystalline lens")
    assert {t.text for t in terms} == {"phacoid"}  # lens and crystalline lens are in the query
    assert all(t.entity == "e:lens" and t.relation == "" for t in terms)
    assert [n.entity for n in kg.neighbors("e:lens")] == ["e:eye"]


def test_pipeline_expansion_equals_cli(sample_index, kg_dir):
    q = "heart and crystalline lens"
    expected = cli_json("search", "--index", sample_index, "--kg", kg_dir, "--query", q, "--k", "10", "--json")
    p = hymir.Pipeline.open(sample_index, kg_dir=kg_dir)
    r = p.search(q, k=10)
    assert r.expanded and {t.text for t in r.expansions} == {"phacoid", "cardiac muscle pump"}
    assert [(h.id, h.score) for h in r] == [(h["id"], h["score"]) for h in expected["hits"]]
    assert {t.text for t in p.expand(q)} == {t.text for t in r.expansions}
    assert not p.search(q, k=10, expand=False).expanded
    assert p.kg.link(q) == ["e:heart", "e:lens"]
