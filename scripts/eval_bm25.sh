#!/usr/bin/env bash
# Reproduces the BM25 table of bench/results/2026-12-07-bm25-vs-lucene.md: indexes each ../shared/data collection
# with the defaults (english analyzer, k1=0.9, b=0.4, title+text) and prints
# nDCG@10, Recall@100 and MAP on its test split.
#   scripts/eval_bm25.sh [DATA_DIR] [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/data}
work=${2:-$(mktemp -d)}
hymir=$here/build/bin/hymir
printf "%-10s %8s %10s %10s %8s\n" collection queries nDCG@10 Recall@100 MAP
for c in scifact cranfield cisi med cacm mixed; do
  [ -f "$data/$c/corpus.jsonl" ] || { echo "skip $c: $data/$c absent"; continue; }
  rm -rf "$work/$c"
  "$hymir" index --corpus "$data/$c/corpus.jsonl" --index "$work/$c" --threads 2 >/dev/null 2>&1
  "$hymir" search --index "$work/$c" --queries "$data/$c/queries.jsonl" --qrels "$data/$c/qrels/test.tsv" \
    --run "$work/$c.trec" --k 1000 2>/dev/null
  "$hymir" eval --qrels "$data/$c/qrels/test.tsv" --run "$work/$c.trec" |
    awk -v c="$c" '$2=="all"{v[$1]=$3} END{printf "%-10s %8d %10.4f %10.4f %8.4f\n", c, v["num_q"], v["ndcg_cut_10"], v["recall_100"], v["map"]}'
done
