"""hymir.Pipeline against the `hymir search` CLI on the same index: the same hits,
scores and stage scores; errors as exceptions with their codes; threads."""

import threading
import time

import hymir
import pytest

from conftest import SAMPLE, cli, cli_json

QUERIES = ["crystalline lens in vertebrates", "electron microscopy of lung or bronchi",
           "effects of drugs on the heart rhythm"]


def stage(s):
    return None if s is None else {"score": s.score, "rank": s.rank}


@pytest.mark.parametrize("text", QUERIES)
def test_search_equals_cli_json_hit_for_hit(sample_index, text):
    expected = cli_json("search", "--index", sample_index, "--query", text, "--k", "10", "--json", "--explain")
    result = hymir.Pipeline.open(sample_index).search(text, k=10)
    assert result.retriever == "hybrid"
    got = [{"rank": h.rank, "id": h.id, "score": h.score,
            "stages": {"bm25": stage(h.bm25), "vector": stage(h.vector), "fused": stage(h.fused),
                       "rerank": stage(h.rerank)}} for h in result]
    want = [{k: h[k] for k in ("rank", "id", "score", "stages")} for h in expected["hits"]]
    assert got == want


def test_structured_query_equals_cli_with_total(sample_index):
    q = '"crystalline lens" +protein* -bovine'
    expected = cli_json("search", "--index", sample_index, "--syntax", "lucene", "--query", q, "--k", "5",
                        "--json", "--total")
    result = hymir.Pipeline.open(sample_index).search(q, k=5, syntax="lucene", count=True)
    assert result.total == expected["total"]
    assert [(h.id, h.score) for h in result] == [(h["id"], h["score"]) for h in expected["hits"]]


@pytest.mark.parametrize("retriever", ["bm25", "hybrid"])
def test_search_batch_equals_cli_run(sample_index, sample_queries, tmp_path, retriever):
    run = tmp_path / "run.trec"
    cli("search", "--index", sample_index, "--queries", str(SAMPLE / "queries.jsonl"), "--qrels",
        str(SAMPLE / "qrels" / "test.tsv"), "--run", str(run), "--k", "100", "--retriever", retriever)
    judged = set(hymir.Qrels.read(str(SAMPLE / "qrels" / "test.tsv")).queries())
    queries = [q for q in sample_queries if q["_id"] in judged]
    pipeline = hymir.Pipeline.open(sample_index)
    results = pipeline.search_batch([q["text"] for q in queries], ids=[q["_id"] for q in queries], k=100,
                                    retriever=retriever)
    got = {r.query_id: [(h.id, h.score) for h in r] for r in results}
    assert got == hymir.read_run(str(run))
    # One search per query gives the batch's answers (the batch's vector
    # scores come from one BLAS product, equal to the single ones up to
    # float rounding).
    for q in queries[:3]:
        single = pipeline.search(q["text"], k=100, retriever=retriever)
        assert [h.id for h in single] == [d for d, _ in got[q["_id"]]]
        assert [h.score for h in single] == pytest.approx([s for _, s in got[q["_id"]]], rel=1e-6)


def test_hits_carry_stages_documents_and_snippets(sample_index):
    result = hymir.Pipeline.open(sample_index).search("heart rhythm drugs", k=5, snippet_chars=40)
    assert len(result) == 5 and result[0].rank == 1 and result[-1].rank == 5
    for hit in result:
        assert hit.fused is not None and hit.fused.score == hit.score
        assert hit.bm25 is not None or hit.vector is not None
        assert hit.document["id"] == hit.id and hit.title == hit.document["title"]
        snippet = hit.snippet.removesuffix("\u2026")  # an ellipsis marks a cut text
        assert 0 < len(snippet.encode()) <= 40 and hit.document["text"].startswith(snippet)
    bare = hymir.Pipeline.open(sample_index).search("heart rhythm drugs", k=5, fetch_documents=False)
    assert all(h.document is None for h in bare)


def test_filters_offsets_and_retrievers(sample_index):
    p = hymir.Pipeline.open(sample_index)
    full = p.search("lens protein", k=10, retriever="bm25")
    page = p.search("lens protein", k=5, offset=5, retriever="bm25")
    assert [h.id for h in page] == [h.id for h in full][5:]
    assert [h.rank for h in page] == [6, 7, 8, 9, 10]
    vector_only = p.search("lens protein", k=5, retriever="vector")
    assert vector_only.retriever == "vector" and all(h.bm25 is None for h in vector_only)
    with pytest.raises(hymir.InvalidArgumentError, match="domain"):
        p.search("lens protein", filters=["domain:med"])  # the sample has no domains


def test_raw_vector_query_finds_the_document_itself(sample_index):
    p = hymir.Pipeline.open(sample_index)
    v = p.searcher.vector("lsa", "72")
    result = p.search("", k=3, vector=v, vector_field="lsa", retriever="vector")
    assert result[0].id == "72" and result[0].vector.score == pytest.approx(1.0, abs=1e-5)


def test_errors_keep_code_and_message(sample_index, tmp_path):
    with pytest.raises(hymir.NotFoundError) as e:
        hymir.Pipeline.open(str(tmp_path / "missing"))
    assert e.value.code == "NotFound" and str(tmp_path / "missing") in e.value.message
    p = hymir.Pipeline.open(sample_index)
    with pytest.raises(hymir.InvalidArgumentError) as e:
        p.search("lens", filters=["no-colon"])
    assert e.value.code == "InvalidArgument" and "no-colon" in e.value.message
    assert isinstance(e.value, ValueError)
    with pytest.raises(hymir.InvalidArgumentError, match="column"):
        p.search("(lens", syntax="lucene")
    with pytest.raises(hymir.InvalidArgumentError):
        p.search("lens", rerank=True)  # the pipeline has no model
    with pytest.raises(TypeError):
        p.search("lens", no_such_option=1)


@pytest.mark.parametrize("code,cls", [("InvalidArgument", hymir.InvalidArgumentError),
                                      ("NotFound", hymir.NotFoundError), ("Corruption", hymir.CorruptionError),
                                      ("IOError", hymir.IOError), ("Busy", hymir.BusyError),
                                      ("NotSupported", hymir.NotSupportedError),
                                      ("AlreadyExists", hymir.AlreadyExistsError),
                                      ("Internal", hymir.InternalError)])
def test_every_status_code_raises_its_class(code, cls):
    with pytest.raises(cls) as e:
        hymir._native._raise_status(code, "the message")
    assert isinstance(e.value, hymir.Error)
    assert (e.value.code, e.value.message) == (code, "the message")


def test_threads_search_concurrently_with_serial_answers(sample_index, sample_queries):
    p = hymir.Pipeline.open(sample_index)
    texts = [q["text"] for q in sample_queries]
    serial = {t: [(h.id, h.score) for h in p.search(t, k=10)] for t in texts}
    answers, errors = {}, []

    def worker(part):
        try:
            for t in part:
                answers[t] = [(h.id, h.score) for h in p.search(t, k=10)]
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(texts[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and answers == serial


def test_doc_and_set_bm25(sample_index):
    p = hymir.Pipeline.open(sample_index)
    assert p.doc("72")["id"] == "72" and p.doc("no-such-doc") is None
    default = [h.score for h in p.search("lens", k=3, retriever="bm25")]
    p.set_bm25(k1=1.2, b=0.75)
    changed = [h.score for h in p.search("lens", k=3, retriever="bm25")]
    assert changed == [h.score for h in p.search("lens", k=3, retriever="bm25", k1=1.2, b=0.75)]
    assert changed != default


def test_query_language_helpers_show_the_analysed_query():
    assert hymir.parse_query('+Hearts "heart attack" title:Lens*') == '+heart "heart attack" title:lens*'
    assert hymir.free_text('heart -surgery "valve repair"') == "heart valve repair"
    with pytest.raises(hymir.InvalidArgumentError, match="column 1"):
        hymir.parse_query(")")
    assert hymir.analyze("The Hearts", "english") == ["heart"]


def gil_free_progress(call):
    """How far a pure-Python thread counts while `call()` runs, and how long it ran. A
    call that holds the GIL lets the counter run for about one switch interval (5 ms)
    at most; a call that releases it, all along."""
    state = {"stop": False, "count": 0}

    def spin():
        while not state["stop"]:
            state["count"] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.01)
    before, t0 = state["count"], time.perf_counter()
    call()
    seconds = time.perf_counter() - t0
    during = state["count"] - before
    state["stop"] = True
    spinner.join()
    return during, seconds


def held_gil_progress(seconds):
    """The same for one C call that keeps the GIL for at least `seconds`."""
    t0 = time.perf_counter()
    sum(range(1_000_000))
    n = int(1_000_000 * 1.5 * seconds / (time.perf_counter() - t0)) + 1
    return gil_free_progress(lambda: sum(range(n)))[0]


def test_searches_release_the_gil(sample_index, sample_queries):
    p = hymir.Pipeline.open(sample_index)
    texts = [q["text"] for q in sample_queries] * 10
    released, seconds = gil_free_progress(lambda: p.search_batch(texts, k=100))
    assert released > 3 * held_gil_progress(seconds)
