#!/usr/bin/env python3
"""The Python module against the C++ library and the CLI, on one BEIR collection.

1. Runs: BM25, hybrid and re-ranked runs of the judged test queries through
   hymir.Pipeline.search_batch, compared score for score with the CLI's runs
   (`hymir search --queries ... --run`, written by bench/python_bench.sh).
2. Search cost: a top-10 Pipeline.search from Python against the same
   Pipeline::Search called from C++ (hymir._native._bench.search_loop), in the
   same process, rounds interleaved; the ratio of the medians.
3. Threads: the throughput of two Python threads sharing one Pipeline against
   one thread's.
4. Ingest: n x d float32 vectors from a NumPy matrix (IndexWriter.add, then
   commit) against the same vectors ingested from C++ (IngestDocuments over a
   C++ source, then commit), rounds interleaved.

Prints a Markdown report on stdout.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time

import numpy as np

import hymir
from hymir import _native


def judged_queries(queries_path, qrels_path):
    judged = set(hymir.Qrels.read(qrels_path).queries())
    out = []
    with open(queries_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                if q["_id"] in judged:
                    out.append((q["_id"], q["text"]))
    return out


def compare_runs(args, queries):
    print("## Runs equal the CLI's\n")
    print("| run | queries | (query, doc, score) lines | equal | largest score difference | nDCG@10 |")
    print("|---|---|---|---|---|---|")
    plain = hymir.Pipeline.open(args.index, recorded=False)
    reranking = hymir.Pipeline.open(args.index, recorded=False, rerank_model=args.model)
    ok = True
    for name, pipeline, retriever in (("bm25", plain, "bm25"), ("hybrid", plain, "hybrid"),
                                      ("reranked", reranking, "auto")):
        results = pipeline.search_batch([t for _, t in queries], ids=[q for q, _ in queries], k=args.depth,
                                        retriever=retriever)
        ours = {r.query_id: [(h.id, h.score) for h in r] for r in results}
        theirs = hymir.read_run(os.path.join(args.runs, f"cli.{name}.trec"))
        lines = sum(len(v) for v in theirs.values())
        equal = sum(a == b for q in theirs for a, b in zip(ours.get(q, []), theirs[q]))
        same_shape = all(len(ours.get(q, [])) == len(theirs[q]) for q in theirs) and set(ours) == set(theirs)
        diff = max((abs(a[1] - b[1]) for q in theirs for a, b in zip(ours.get(q, []), theirs[q])), default=0.0)
        ndcg = hymir.evaluate(args.qrels, results)["ndcg_cut_10"]
        ok &= same_shape and equal == lines
        print(f"| {name} | {len(theirs)} | {lines} | {equal} | {diff:.3g} | {ndcg:.4f} |")
    print(f"\nAll runs equal: **{'yes' if ok else 'NO'}**\n")


def search_cost(args, queries):
    print("## Top-10 search: Python call against the C++ call\n")
    print(f"{len(queries)} queries per pass, {args.rounds} rounds, Python and C++ passes interleaved (each first in every other round); "
          "default stages (documents and 280-byte snippets fetched).\n")
    print("| pipeline | C++ ms/query (median pass) | Python ms/query (median pass) | Python / C++ |")
    print("|---|---|---|---|")
    texts = [t for _, t in queries]
    for name, pipeline, retriever in (
            ("bm25", hymir.Pipeline.open(args.index, recorded=False), "bm25"),
            ("hybrid", hymir.Pipeline.open(args.index, recorded=False), "hybrid"),
            ("hybrid + re-ranked", hymir.Pipeline.open(args.index, recorded=False, rerank_model=args.model),
             "auto")):
        for t in texts[:20]:  # warm up both paths
            pipeline.search(t, k=10, retriever=retriever)
        _native._bench.search_loop(pipeline, texts[:20], 10, 1, retriever)
        cpp, py = [], []

        def python_pass():
            t0 = time.perf_counter()
            for t in texts:
                pipeline.search(t, k=10, retriever=retriever)
            py.append(time.perf_counter() - t0)

        for r in range(args.rounds):  # alternate which goes first
            if r % 2:
                python_pass()
            cpp.append(_native._bench.search_loop(pipeline, texts, 10, 1, retriever))
            if r % 2 == 0:
                python_pass()
        c, p = statistics.median(cpp), statistics.median(py)
        print(f"| {name} | {1000 * c / len(texts):.3f} | {1000 * p / len(texts):.3f} | {p / c:.3f} |")
    print()


def thread_scaling(args, queries):
    print("## Two Python threads against one\n")
    print("One Pipeline shared; each configuration searches every query `passes` times (top 10, default "
          "stages); throughput in queries/s, best of the rounds.\n")
    print("The control rows run the same searches in a C++ loop per thread (`_bench.search_loop`, GIL released "
          "for the whole loop): the scaling the machine allows at the time.\n")
    print("The last column is the process's CPU time per wall-clock second while two threads search (median "
          "round): above 1, the two searches ran at the same time.\n")
    print("| pipeline | caller | 1 thread q/s | 2 threads q/s | 2 / 1 | cores busy, 2 threads |")
    print("|---|---|---|---|---|---|")
    texts = [t for _, t in queries] * args.passes
    for name, retriever, caller in (("bm25", "bm25", "Python"), ("bm25", "bm25", "C++ loop (control)"),
                                    ("hybrid", "hybrid", "Python"), ("hybrid", "hybrid", "C++ loop (control)")):
        pipeline = hymir.Pipeline.open(args.index, recorded=False)

        def work(part):
            if caller != "Python":
                _native._bench.search_loop(pipeline, part, 10, 1, retriever)
                return
            for t in part:
                pipeline.search(t, k=10, retriever=retriever)

        def run(n):
            threads = [threading.Thread(target=work, args=(texts[i::n],)) for i in range(n)]
            t0, c0 = time.perf_counter(), time.process_time()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            return len(texts) / wall, (time.process_time() - c0) / wall

        run(2)  # warm up
        one, two, busy = [], [], []
        for _ in range(args.rounds):
            one.append(run(1)[0])
            q, cores = run(2)
            two.append(q)
            busy.append(cores)
        print(f"| {name} | {caller} | {max(one):.0f} | {max(two):.0f} | {max(two) / max(one):.2f} | "
              f"{statistics.median(busy):.2f} |")
    print()


def ingest_cost(args):
    print("## Ingesting vectors: NumPy against C++\n")
    n, d = args.vectors, args.dimension
    rng = np.random.default_rng(42)
    matrix = rng.standard_normal((n, d)).astype(np.float32)
    ids = [f"d{i}" for i in range(n)]
    spec, field = f"v:{d}:ip", "v"
    print(f"{n} x {d} float32 vectors into a new index with one flat `{spec}` field, then a commit; "
          f"{args.rounds} rounds, interleaved (each first in every other round); one ingest thread.\n")
    work = tempfile.mkdtemp(prefix="hymir-python-bench-")
    cpp, py = [], []
    try:
        for r in range(args.rounds):
            cdir, pdir = os.path.join(work, f"c{r}"), os.path.join(work, f"p{r}")
            if r % 2 == 0:
                cpp.append(_native._bench.ingest_loop(cdir, spec, field, matrix, 1))
            t0 = time.perf_counter()
            w = hymir.IndexWriter.open(pdir, vector_fields=[spec])
            w.add(ids, vectors={field: matrix})
            w.commit()
            w.close()
            py.append(time.perf_counter() - t0)
            if r % 2:
                cpp.append(_native._bench.ingest_loop(cdir, spec, field, matrix, 1))
            got = hymir.Searcher.open(pdir)
            assert got.num_docs == n and np.array_equal(got.vector(field, f"d{n // 2}"), matrix[n // 2])
            shutil.rmtree(cdir)
            shutil.rmtree(pdir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    c, p = statistics.median(cpp), statistics.median(py)
    print("| | C++ s (median) | Python s (median) | Python / C++ |")
    print("|---|---|---|---|")
    print(f"| ingest + commit | {c:.3f} | {p:.3f} | {p / c:.3f} |\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--qrels", required=True)
    ap.add_argument("--runs", required=True, help="directory of the CLI's cli.{bm25,hybrid,reranked}.trec")
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--vectors", type=int, default=50000)
    ap.add_argument("--dimension", type=int, default=128)
    args = ap.parse_args()
    queries = judged_queries(args.queries, args.qrels)
    print(f"hymir {hymir.__version__}, Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{os.cpu_count()} cores\n")
    compare_runs(args, queries)
    search_cost(args, queries)
    thread_scaling(args, queries)
    ingest_cost(args)


if __name__ == "__main__":
    main()
