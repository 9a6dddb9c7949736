#!/usr/bin/env bash
# Reproduces the table of bench/results/2026-12-07-hybrid-retrieval.md on
# scifact and mixed: BM25, dense-only
# (built-in lsa:256), hybrid with the built-in default (convex, alpha 0.8),
# hybrid with equal-weight RRF, and hybrid with the fusion `hymir tune` picks
# on the TRAIN split. Everything is reported on the TEST split.
#   scripts/eval_hybrid.sh [DATA_DIR] [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/data}
work=${2:-$(mktemp -d)}
hymir=$here/build/bin/hymir
row() {  # name run qrels
  "$hymir" eval --qrels "$3" --run "$2" |
    awk -v n="$1" '$2=="all"{v[$1]=$3} END{printf "  %-34s nDCG@10 %.4f  Recall@100 %.4f\n", n, v["ndcg_cut_10"], v["recall_100"]}'
}
for c in scifact mixed; do
  d=$data/$c
  [ -f "$d/corpus.jsonl" ] || { echo "skip $c: $d absent"; continue; }
  idx=$work/$c
  rm -rf "$idx"
  "$hymir" index --corpus "$d/corpus.jsonl" --index "$idx" --embed lsa:256 --threads 2 >/dev/null 2>&1
  echo "$c (test split, $(tail -n +2 "$d/qrels/test.tsv" | cut -f1 | sort -u | wc -l) queries)"
  s() { "$hymir" search --index "$idx" --queries "$d/queries.jsonl" --qrels "$d/qrels/test.tsv" --run "$work/$c.$1.trec" "${@:2}" 2>/dev/null; }
  s bm25 --retriever bm25;      row "BM25" "$work/$c.bm25.trec" "$d/qrels/test.tsv"
  s vector --retriever vector;  row "dense (lsa:256)" "$work/$c.vector.trec" "$d/qrels/test.tsv"
  s rrf --fusion rrf;           row "hybrid, RRF k=60" "$work/$c.rrf.trec" "$d/qrels/test.tsv"
  s default --retriever hybrid; row "hybrid, default convex a=0.9" "$work/$c.default.trec" "$d/qrels/test.tsv"
  best=$("$hymir" tune --index "$idx" --queries "$d/queries.jsonl" --qrels "$d/qrels/train.tsv" | sed -n 's/^best: \(.*\) (train.*/\1/p')
  s tuned --retriever hybrid;   row "hybrid, tuned on train: $best" "$work/$c.tuned.trec" "$d/qrels/test.tsv"
done
