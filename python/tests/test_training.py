"""pretrain and train_reranker from Python, and re-ranked search equal to the CLI's
with the same model (scores, stages and the re-ranker's explanation)."""

import hymir
import pytest

from conftest import SAMPLE, cli_json


@pytest.fixture(scope="module")
def pretrained(sample_index, tmp_path_factory):
    model = str(tmp_path_factory.mktemp("model") / "pretrained.moe")
    lines = []
    report = hymir.pretrain(sample_index, model, queries=200, max_epochs=5, experts=4, top_k=1, threads=2,
                            progress=lines.append)
    assert lines and report["train_queries"] + report["check_queries"] <= 200
    assert {c["kind"] for c in report["checks"]} <= {"ict", "title", "terms"}
    return model


def test_reranked_search_equals_cli_with_explanations(sample_index, pretrained):
    q = "crystalline lens in vertebrates"
    expected = cli_json("search", "--index", sample_index, "--rerank", pretrained, "--query", q, "--k", "10",
                        "--json", "--explain")
    p = hymir.Pipeline.open(sample_index, rerank_model=pretrained)
    assert p.has_reranker
    r = p.search(q, k=10, explain=True)
    assert r.reranked and r.routing is not None and len(r.routing.chosen) == 1
    for hit, want in zip(r, expected["hits"], strict=True):
        assert (hit.id, hit.score, hit.rerank.score, hit.rerank.rank, hit.fused.score) == (
            want["id"], want["score"], want["stages"]["rerank"]["score"], want["stages"]["rerank"]["rank"],
            want["stages"]["fused"]["score"])
        ex = hit.explanation
        assert [c["expert"] for c in want["moe"]["experts"]] == ex.routing.chosen
        assert [f["feature"] for f in want["moe"]["top_features"]] == [f.feature for f in ex.top_features]
    plain = p.search(q, k=10, rerank=False)
    assert not plain.reranked and all(h.rerank is None for h in plain)


def test_fine_tuning_on_judged_queries(sample_index, pretrained, tmp_path):
    model = str(tmp_path / "tuned.moe")
    report = hymir.train_reranker(sample_index, str(SAMPLE / "queries.jsonl"), str(SAMPLE / "qrels" / "test.tsv"),
                                  model, init=pretrained, max_epochs=3, threads=2)
    assert report["queries"] == 30 and report["with_relevant"] > 0
    r = hymir.Pipeline.open(sample_index, rerank_model=model).search("heart rhythm", k=5)
    assert r.reranked and all(h.rerank is not None for h in r)
    with pytest.raises(hymir.NotFoundError):
        hymir.train_reranker(sample_index, str(tmp_path / "none.jsonl"), str(SAMPLE / "qrels" / "test.tsv"), model)
