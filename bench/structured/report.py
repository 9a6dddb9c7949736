#!/usr/bin/env python3
"""Side-by-side report of hymir and Java Lucene on the same classic-syntax queries (standard library only).

    report.py --queries Q.jsonl --lucene-counts F [--hymir-counts F] [--lucene-run R] [--hymir-run R]
              [--lucene-bench B] [--hymir-qps T] [--k 10] [--list 40] [--mismatches OUT.tsv]

  counts   qid<TAB>total (-1 = parse error)
  runs     TREC run lines: qid Q0 docid rank score tag (Lucene's deeper than --k: ties at rank k)
  bench    the output of `LuceneStructured.java bench` (lines "... search kind=K n=N ... qps=X ...")
  qps      kind<TAB>queries<TAB>seconds, hymir's timings (compare.sh writes it)

Prints one row per query kind (and "ALL"): queries, count mismatches, parse errors on each side,
mean top-k overlap (|A ∩ B| / max(|A|, |B|), 1 when both are empty; with_ties also accepts a document
that Lucene scores equal to its k-th, see overlaps()), the largest relative score difference of a
document in both top-k lists, and QPS of both with the ratio
hymir / lucene. Then the mismatching queries, with both counts and the query text.
"""

import argparse
import json
import re
import sys
from collections import OrderedDict, defaultdict


def read_queries(path):
    qs = OrderedDict()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                qs[str(o["_id"])] = (o.get("text", ""), o.get("kind", "query"))
    return qs


def read_counts(path):
    out = {}
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 2 and p[0]:
                try:
                    out[p[0]] = int(p[1])
                except ValueError:
                    out[p[0]] = -1
    return out


def read_run(path):
    """{qid: [(docid, score)] in rank order}."""
    if not path:
        return None
    rows = defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if len(p) >= 5:
                rows[p[0]].append((int(p[3]), p[2], float(p[4])))
    return {q: [(d, sc) for _, d, sc in sorted(v)] for q, v in rows.items()}


def overlaps(lucene, hymir, k):
    """(strict, tie-aware) top-k overlap of one query.

    strict: |A ∩ B| / max(|A|, |B|) over the top k of each side (1 when both are empty).
    tie-aware: a hymir document also counts when Lucene scores it within 1e-5 (relative) of Lucene's
    k-th score: Lucene picks among equal scores by internal docid, so any of them is a right answer.
    Needs Lucene's run deeper than k to see the whole tie group.
    """
    A = [d for d, _ in lucene[:k]]
    B = [d for d, _ in hymir[:k]]
    if not A and not B:
        return 1.0, 1.0
    den = max(len(A), len(B))
    strict = len(set(A) & set(B)) / den
    if len(A) < k:
        return strict, strict
    kth = lucene[k - 1][1]
    tol = 1e-5 * max(1.0, abs(kth))
    ok = set(A) | {d for d, sc in lucene if abs(sc - kth) <= tol}
    return strict, sum(1 for d in B if d in ok) / den


def score_diff(lucene, hymir, k):
    """Largest relative score difference over the documents in both top-k lists (None: none shared)."""
    ls = dict(lucene)
    d = [abs(sc - ls[doc]) / max(abs(ls[doc]), 1e-9) for doc, sc in hymir[:k] if doc in ls]
    return max(d) if d else None


def read_bench(path):
    """{kind: qps} from LuceneStructured bench output."""
    out = {}
    if not path:
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            if " search " not in line:
                continue
            kv = dict(t.split("=", 1) for t in line.split() if "=" in t)
            if "kind" in kv and "qps" in kv:
                out[kv["kind"]] = float(kv["qps"])
    return out


def read_qps(path):
    out = {}
    if not path:
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split("\t")
            if len(p) >= 3 and float(p[2]) > 0:
                out[p[0]] = int(p[1]) / float(p[2])
    return out


WORD = re.compile(r"[A-Za-z]+")


def words_of_query(text):
    """The plain words of a classic-syntax query: no field names, operators, range bounds, prefix terms
    (those are not stemmed) or quoted keyword values with punctuation."""
    t = re.sub(r"[\[{][^\]}]*[\]}]", " ", text)            # ranges
    t = re.sub(r"(?<![\w:])(?!(?:title|text|all):)[A-Za-z_]+:(\"[^\"]*\"|[^\s()]*)", " ", t)  # other fields
    t = re.sub(r"(?:title|text|all):", " ", t)                 # text field names
    t = re.sub(r"[~^][0-9.]+", " ", t)                        # slop, boosts
    t = re.sub(r"\S*\*", " ", t)                               # prefix terms
    t = re.sub(r'"[^"]*[^A-Za-z\s"][^"]*"', " ", t)            # quoted values with punctuation
    out = []
    for w in WORD.findall(t):
        if w not in ("AND", "OR", "NOT", "TO") and w.lower() not in out:
            out.append(w.lower())
    return out


def fmt(x, spec):
    if x is None:
        width = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
        return "-".rjust(int(width or 0))
    return format(x, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", required=True)
    ap.add_argument("--lucene-counts", required=True)
    ap.add_argument("--hymir-counts")
    ap.add_argument("--lucene-run")
    ap.add_argument("--hymir-run")
    ap.add_argument("--lucene-bench")
    ap.add_argument("--hymir-qps")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--list", type=int, default=40, help="mismatches listed (default 40)")
    ap.add_argument("--mismatches", help="write every mismatch here (qid, kind, lucene, hymir, query)")
    ap.add_argument("--write-words", help="write the words of the mismatching queries as queries.jsonl, and stop")
    ap.add_argument("--lucene-words", help="counts of --write-words's queries by Lucene")
    ap.add_argument("--hymir-words", help="counts of --write-words's queries by hymir")
    a = ap.parse_args()

    qs = read_queries(a.queries)
    lc = read_counts(a.lucene_counts)
    hc = read_counts(a.hymir_counts)
    if a.write_words:
        words = []
        for q, (text, _) in qs.items():
            if hc is not None and lc.get(q, -1) != hc.get(q, -1):
                words += [w for w in words_of_query(text) if w not in words]
        with open(a.write_words, "w", encoding="utf-8") as f:
            for w in words:
                f.write(json.dumps({"_id": "w:" + w, "text": w}) + "\n")
        return
    lw = read_counts(a.lucene_words) or {}
    hw = read_counts(a.hymir_words) or {}
    lr = read_run(a.lucene_run)
    hr = read_run(a.hymir_run)
    lq = read_bench(a.lucene_bench)
    hq = read_qps(a.hymir_qps)

    kinds = OrderedDict([("ALL", [])])
    for qid, (_, kind) in qs.items():
        kinds.setdefault(kind, [])
    for qid, (_, kind) in qs.items():
        kinds["ALL"].append(qid)
        kinds[kind].append(qid)
    order = ["ALL"] + sorted(k for k in kinds if k != "ALL")

    mism = []
    head = f"{'kind':<11} {'queries':>7} {'l.err':>5} {'l.zero':>6} {'l.mean':>8}"
    if hc is not None:
        head += f" {'h.err':>5} {'mismatch':>8}"
    if lr is not None and hr is not None:
        head += f" {'top' + str(a.k) + '_overlap':>13} {'with_ties':>9} {'score_diff':>10}"
    head += f" {'lucene_qps':>10} {'hymir_qps':>10} {'ratio':>6}"
    print(head)
    for kind in order:
        ids = kinds[kind]
        lerr = sum(1 for q in ids if lc.get(q, -1) < 0)
        lzero = sum(1 for q in ids if lc.get(q, -1) == 0)
        vals = [lc[q] for q in ids if lc.get(q, -1) >= 0]
        row = f"{kind:<11} {len(ids):>7} {lerr:>5} {lzero:>6} {fmt(sum(vals) / len(vals) if vals else None, '8.1f')}"
        if hc is not None:
            herr = sum(1 for q in ids if hc.get(q, -1) < 0)
            bad = [q for q in ids if lc.get(q, -1) != hc.get(q, -1)]
            if kind == "ALL":
                mism = bad
            row += f" {herr:>5} {len(bad):>8}"
        if lr is not None and hr is not None:
            ov = [overlaps(lr.get(q, []), hr.get(q, []), a.k) for q in ids]
            n = len(ov) or 1
            row += f" {fmt(sum(o[0] for o in ov) / n if ov else None, '13.4f')}"
            row += f" {fmt(sum(o[1] for o in ov) / n if ov else None, '9.4f')}"
            diffs = [score_diff(lr.get(q, []), hr.get(q, []), a.k) for q in ids]
            diffs = [d for d in diffs if d is not None]
            row += f" {fmt(max(diffs) if diffs else None, '10.2e')}"
        lqps, hqps = lq.get(kind), hq.get(kind)
        ratio = hqps / lqps if lqps and hqps else None
        row += f" {fmt(lqps, '10.1f')} {fmt(hqps, '10.1f')} {fmt(ratio, '6.2f')}"
        print(row)
    if hc is None:
        print("(no hymir counts: Lucene only)")
        return
    print(f"\ncount mismatches: {len(mism)} of {len(qs)} queries")
    lines = []
    cause = {}
    if lw or hw:
        for q in mism:
            bad = [w for w in words_of_query(qs[q][0]) if lw.get("w:" + w) != hw.get("w:" + w)]
            cause[q] = "analysis:" + ",".join(
                f"{w}({lw.get('w:' + w, '?')}/{hw.get('w:' + w, '?')})" for w in bad) if bad else "query"
        n_an = sum(1 for c in cause.values() if c != "query")
        print(f"  {n_an} of them have a word whose own count already differs (analysis: tokenizer or stemmer,"
              f" shown as word(lucene/hymir)); {len(mism) - n_an} do not (the query language), listed first")
        mism = sorted(mism, key=lambda q: cause[q] != "query")
    for q in mism:
        text, kind = qs[q]
        lines.append(f"{q}\t{kind}\t{lc.get(q, 'missing')}\t{hc.get(q, 'missing')}\t{text}"
                     + (f"\t{cause[q]}" if cause else ""))
    for l in lines[: a.list]:
        print("  " + l)
    if len(lines) > a.list:
        print(f"  ... {len(lines) - a.list} more" + (f" in {a.mismatches}" if a.mismatches else ""))
    if a.mismatches:
        with open(a.mismatches, "w", encoding="utf-8") as f:
            f.write("qid\tkind\tlucene\thymir\tquery" + ("\tcause" if cause else "") + "\n")
            f.write("".join(l + "\n" for l in lines))
    sys.exit(0)


if __name__ == "__main__":
    main()
