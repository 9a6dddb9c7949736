#!/usr/bin/env bash
# Reproduces the table of bench/results/2026-12-07-english-stemming.md: BM25
# (k1=0.9, b=0.4, title+text) on the test split of each ../shared/data
# collection with hymir's english-lucenepp30 analyzer (Lucene++'s stemmer, as
# indexes of format 1-2 have it), its english analyzer, and Java Lucene 8.8's
# EnglishAnalyzer (bench/java/run_baseline.sh), all scored by `hymir eval`.
#   scripts/eval_english_stemming.sh [DATA_DIR] [WORK_DIR]
# env: COLLECTIONS="scifact cranfield ..." to restrict; JAVA_RUNS=DIR to reuse
#      the <collection>.trec runs of an earlier bench/java/run_baseline.sh DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/data}
work=${2:-$(mktemp -d)}
hymir=$here/build/bin/hymir
collections=${COLLECTIONS:-scifact cranfield cisi med cacm mixed}
mkdir -p "$work"

metrics() {  # qrels run -> "ndcg@10 recall@100"
  "$hymir" eval --qrels "$1" --run "$2" | awk '$2=="all"{v[$1]=$3} END{printf "%.4f %.4f\n", v["ndcg_cut_10"], v["recall_100"]}'
}

available=()
for c in $collections; do
  [ -f "$data/$c/corpus.jsonl" ] && available+=("$c") || echo "skip $c: $data/$c absent" >&2
done
java_runs=${JAVA_RUNS:-$work/java}
[ -n "${JAVA_RUNS:-}" ] || COLLECTIONS="${available[*]}" "$here/bench/java/run_baseline.sh" "$java_runs" "$data" >&2

printf "%-10s %7s | %-15s | %-15s | %-15s | %8s %8s\n" collection queries "lucenepp30 nDCG R@100" \
  "english nDCG R@100" "Lucene nDCG R@100" "Δ fixed" "Δ Lucene"
for c in "${available[@]}"; do
  qrels=$data/$c/qrels/test.tsv
  for a in english-lucenepp30 english; do
    rm -rf "$work/$c.$a"
    "$hymir" index --corpus "$data/$c/corpus.jsonl" --index "$work/$c.$a" --analyzer "$a" --threads 2 >/dev/null 2>&1
    "$hymir" search --index "$work/$c.$a" --queries "$data/$c/queries.jsonl" --qrels "$qrels" \
      --run "$work/$c.$a.trec" --k 1000 2>/dev/null
  done
  read -r on or < <(metrics "$qrels" "$work/$c.english-lucenepp30.trec")
  read -r nn nr < <(metrics "$qrels" "$work/$c.english.trec")
  read -r jn jr < <(metrics "$qrels" "$java_runs/$c.trec")
  queries=$(cut -f1 "$qrels" | tail -n +2 | sort -u | wc -l)
  printf "%-10s %7d | %7.4f %7.4f | %7.4f %7.4f | %7.4f %7.4f | %+8.4f %+8.4f\n" "$c" "$queries" "$on" "$or" \
    "$nn" "$nr" "$jn" "$jr" "$(echo "$nn - $on" | bc -l)" "$(echo "$nn - $jn" | bc -l)"
done
