"""IndexWriter and Searcher: documents as dicts, NumPy vectors in and out, bulk
ingest with progress, raw BM25 and vector queries, filters, sorting, facets."""

import threading

import hymir
import numpy as np
import pytest

from conftest import SAMPLE, cli


def small_corpus(n=60, dim=8, seed=7):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    docs = [{"id": f"d{i}", "title": f"document {i}", "text": "alpha beta" if i % 2 else "gamma delta alpha",
             "year": 2000 + i % 5, "colour": ["red", "green", "blue"][i % 3]} for i in range(n)]
    return docs, vectors


SCHEMA = {"fields": {"year": {"type": "int64", "sort": True, "facet": True},
                     "colour": {"type": "keyword", "facet": True}}}


@pytest.fixture()
def vector_index(tmp_path):
    docs, vectors = small_corpus()
    path = str(tmp_path / "idx")
    with hymir.IndexWriter.open(path, vector_fields=["v:8:ip"], schema=SCHEMA) as w:
        report = w.add(docs, vectors={"v": vectors})
    assert report["added"] == len(docs)
    return path, docs, vectors


def test_numpy_vectors_round_trip_exactly(vector_index):
    path, docs, vectors = vector_index
    s = hymir.Searcher.open(path)
    assert s.num_docs == len(docs)
    for i in (0, 17, len(docs) - 1):
        got = s.vector("v", f"d{i}")
        assert got.dtype == np.float32 and np.array_equal(got, vectors[i])


def test_upsert_takes_a_vector_per_document_and_replaces(tmp_path):
    path = str(tmp_path / "idx")
    v = np.linspace(-1, 1, 8, dtype=np.float32)
    w = hymir.IndexWriter.open(path, vector_fields=[{"name": "v", "dimension": 8, "metric": "l2"}])
    w.upsert({"id": "a", "title": "first", "vectors": {"v": v}})
    w.upsert({"id": "a", "title": "second", "vectors": {"v": v[::-1]}})  # a strided view, converted once
    w.commit()
    assert w.num_docs == 1
    w.close()
    s = hymir.Searcher.open(path)
    assert s.num_docs == 1 and s.doc("a")["title"] == "second" and s.doc("b") is None
    assert np.array_equal(s.vector("v", "a"), v[::-1])


def test_vector_search_equals_brute_force_over_the_filtered_documents(vector_index):
    path, docs, vectors = vector_index
    s = hymir.Searcher.open(path)
    q = vectors[3] + 0.1
    hits = s.search_vector("v", q, k=5, filters=["colour:red"])
    admitted = [i for i, d in enumerate(docs) if d["colour"] == "red"]
    scores = vectors[admitted] @ q
    order = np.argsort(-scores, kind="stable")[:5]
    assert [h.id for h in hits] == [f"d{admitted[i]}" for i in order]
    assert [h.score for h in hits] == pytest.approx(scores[order].tolist(), rel=1e-5)
    batch = s.search_vector_batch("v", vectors[:4], k=3)
    assert [b[0].id for b in batch] == [s.search_vector("v", vectors[i], k=1)[0].id for i in range(4)]


def test_structured_search_sorts_counts_and_facets(vector_index):
    path, docs, _ = vector_index
    s = hymir.Searcher.open(path)
    r = s.search_structured("alpha", k=100, sort=["year:desc"], facets=["colour", "year"],
                            filters=["year:[2001 TO 2003]"])
    expected = [d for d in docs if 2001 <= d["year"] <= 2003]
    assert r.total == len(expected) == s.count("alpha", filters=["year:[2001 TO 2003]"])
    years = [int(s.doc(h.id)["values"]["year"][0]) for h in r.hits]
    assert years == sorted(years, reverse=True)
    colours = {c: sum(d["colour"] == c for d in expected) for c in ("red", "green", "blue")}
    assert dict(r.facets["colour"]) == colours
    assert sum(n for _, n in r.facets["year"]) == len(expected)
    gamma = s.search("gamma", k=100)
    assert {h.id for h in gamma} == {d["id"] for d in docs if "gamma" in d["text"]}
    assert s.search("gamma OR beta", k=3, syntax="lucene")[0].rank == 1


def test_add_reports_progress_and_checks_the_matrix(tmp_path):
    docs, vectors = small_corpus(n=2500)
    path = str(tmp_path / "idx")
    seen = []
    with hymir.IndexWriter.open(path, vector_fields=["v:8"]) as w:
        report = w.add((d["id"] for d in docs), vectors={"v": vectors}, threads=2, progress=seen.append)
    assert report["added"] == 2500 and seen[-1]["added"] == 2500 and len(seen) >= 3
    with hymir.IndexWriter.open(str(tmp_path / "short"), vector_fields=["v:8"]) as w:
        with pytest.raises(hymir.InvalidArgumentError, match="rows"):
            w.add(["a", "b", "c"], vectors={"v": vectors[:2]})


def test_errors_name_the_document_and_keep_committed_data(tmp_path):
    path = str(tmp_path / "idx")
    w = hymir.IndexWriter.open(path, vector_fields=["v:8"])
    w.upsert({"id": "kept", "vectors": {"v": np.ones(8, np.float32)}})
    w.commit()
    with pytest.raises(hymir.InvalidArgumentError, match="bad") as e:
        w.upsert({"id": "bad", "vectors": {"v": np.ones(5, np.float32)}})
    assert "5" in e.value.message and "8" in e.value.message
    with pytest.raises(hymir.BusyError):
        hymir.IndexWriter.open(path)
    with pytest.raises(TypeError):
        w.upsert({"id": "x", "title": 3})
    with pytest.raises(ValueError, match="id"):
        w.upsert({"title": "no id"})
    w.close()
    assert hymir.Searcher.open(path).document_ids() == ["kept"]


def test_exception_in_a_callback_or_iterator_reaches_the_caller(tmp_path):
    def docs():
        yield {"id": "a"}
        raise RuntimeError("the source broke")

    with hymir.IndexWriter.open(str(tmp_path / "idx")) as w:
        with pytest.raises(RuntimeError, match="the source broke"):
            w.add(docs())

    def progress(p):
        raise KeyError("from progress")

    with hymir.IndexWriter.open(str(tmp_path / "idx2")) as w:
        with pytest.raises(KeyError):
            w.add([{"id": "a"}], progress=progress)


def test_context_manager_rolls_back_on_an_exception(tmp_path):
    path = str(tmp_path / "idx")
    with hymir.IndexWriter.open(path) as w:
        w.upsert({"id": "first", "text": "one"})
    with pytest.raises(RuntimeError):
        with hymir.IndexWriter.open(path) as w:
            w.upsert({"id": "second", "text": "two"})
            raise RuntimeError("abort")
    assert hymir.Searcher.open(path).document_ids() == ["first"]


def test_ingest_corpus_equals_cli_index(tmp_path):
    path = str(tmp_path / "idx")
    cli_path = str(tmp_path / "cli")
    with hymir.IndexWriter.open(path) as w:
        report = hymir.ingest_corpus(str(SAMPLE / "corpus.jsonl"), w, threads=2)
    cli("index", "--corpus", str(SAMPLE / "corpus.jsonl"), "--index", cli_path)
    a, b = hymir.Searcher.open(path), hymir.Searcher.open(cli_path)
    assert report["added"] == a.num_docs == b.num_docs == 1033
    for q in ("lens protein", "heart", "renal failure in children"):
        assert [(h.id, h.score) for h in a.search(q, k=20)] == [(h.id, h.score) for h in b.search(q, k=20)]


def test_writers_upsert_from_threads(tmp_path):
    path = str(tmp_path / "idx")
    w = hymir.IndexWriter.open(path, vector_fields=["v:4:ip"])
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((400, 4)).astype(np.float32)

    def put(part):
        for i in part:
            w.upsert({"id": f"d{i}", "vectors": {"v": vecs[i]}})

    threads = [threading.Thread(target=put, args=(range(t, 400, 4),)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.commit()
    w.close()
    s = hymir.Searcher.open(path)
    assert s.num_docs == 400 and np.array_equal(s.vector("v", "d123"), vecs[123])


def test_skip_bad_reports_each_refused_document(tmp_path):
    skipped = []
    docs = [{"id": "ok1", "vectors": {"v": np.ones(4, np.float32)}},
            {"id": "short", "vectors": {"v": np.ones(3, np.float32)}},
            {"id": "ok2", "vectors": {"v": np.ones(4, np.float32)}}]
    with hymir.IndexWriter.open(str(tmp_path / "idx"), vector_fields=["v:4:ip"]) as w:
        report = w.add(docs, skip_bad=True, on_skip=lambda code, message: skipped.append((code, message)))
    assert (report["added"], report["skipped"]) == (2, 1)
    assert len(skipped) == 1 and skipped[0][0] == "InvalidArgument" and "short" in skipped[0][1]
    assert sorted(hymir.Searcher.open(str(tmp_path / "idx")).document_ids()) == ["ok1", "ok2"]


def test_pipeline_sorts_and_counts_facets_as_the_searcher(vector_index):
    path, docs, _ = vector_index
    r = hymir.Pipeline.open(path).search("alpha", k=5, sort=["year:desc"], facets=["colour"],
                                         filters=["colour:red", "colour:blue"])
    expected = [d for d in docs if d["colour"] in ("red", "blue")]
    assert r.total == len(expected) and r.retriever == "bm25"  # a sorted query runs BM25 only
    assert dict(r.facets["colour"]) == {c: sum(d["colour"] == c for d in expected) for c in ("red", "blue")}
    years = [h.document["values"]["year"][0] for h in r]
    assert years == sorted(years, reverse=True) and years[0] == max(d["year"] for d in expected)


def test_ingest_releases_the_gil(tmp_path):
    from test_pipeline import gil_free_progress, held_gil_progress

    docs, vectors = small_corpus(n=20000, dim=64)
    with hymir.IndexWriter.open(str(tmp_path / "idx"), vector_fields=["v:64:ip"]) as w:
        released, seconds = gil_free_progress(lambda: w.add([d["id"] for d in docs], vectors={"v": vectors}))
    assert released > 3 * held_gil_progress(seconds)
