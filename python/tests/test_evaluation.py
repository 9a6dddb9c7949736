"""Runs and trec_eval metrics: equal to `hymir eval` on the same run."""

import hymir
import pytest

from conftest import SAMPLE, cli


def test_evaluate_equals_cli_eval(sample_index, tmp_path):
    run = tmp_path / "bm25.trec"
    qrels = str(SAMPLE / "qrels" / "test.tsv")
    cli("search", "--index", sample_index, "--queries", str(SAMPLE / "queries.jsonl"), "--qrels", qrels, "--run",
        str(run), "--k", "1000", "--retriever", "bm25")
    printed = {}
    for line in cli("eval", "--qrels", qrels, "--run", str(run)).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "all":
            printed[parts[0]] = parts[2]
    metrics = hymir.evaluate(qrels, str(run))
    assert metrics["num_q"] == 30 == int(printed["num_q"])
    for name in ("ndcg_cut_10", "recall_100", "map", "recip_rank", "P_10"):
        assert f"{metrics[name]:.4f}" == printed[name]
    # The same from memory: a dict run, and the Qrels object.
    in_memory = hymir.evaluate(hymir.Qrels.read(qrels), hymir.read_run(str(run)))
    assert in_memory["map"] == metrics["map"]
    assert set(in_memory["per_query"]) == set(hymir.Qrels.read(qrels).queries())


def test_search_results_write_and_read_back_as_a_run(sample_index, tmp_path):
    p = hymir.Pipeline.open(sample_index)
    results = p.search_batch(["lens protein", "heart rhythm"], ids=["q1", "q2"], k=20)
    path = str(tmp_path / "run.trec")
    hymir.write_run(results, path, tag="py")
    back = hymir.read_run(path)
    assert back == {r.query_id: [(h.id, h.score) for h in r] for r in results}
    assert (tmp_path / "run.trec").read_text().split("\n")[0].endswith(" py")


def test_bad_run_and_qrels_raise_with_the_place(tmp_path):
    bad = tmp_path / "bad.trec"
    bad.write_text("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 x 0.4 t\n")
    with pytest.raises(hymir.InvalidArgumentError, match=r"bad.trec:2"):
        hymir.read_run(str(bad))
    with pytest.raises(hymir.NotFoundError):
        hymir.Qrels.read(str(tmp_path / "missing.tsv"))
    q = hymir.Qrels.parse("q1 0 d1 2\nq1 0 d2 0\n")
    assert (q.grade("q1", "d1"), q.grade("q1", "d3"), q.num_relevant("q1")) == (2, None, 1)
    assert hymir.evaluate(q, {"q1": [("d1", 1.0), ("d2", 0.5)]})["ndcg_cut_10"] == pytest.approx(1.0)
