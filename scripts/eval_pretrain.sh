#!/usr/bin/env bash
# Pre-training, check 1 of docs/training.md: no judgements at all. For each collection
# (its own index, --embed lsa:256): hybrid, then `hymir pretrain` on the
# corpus and `hymir search --rerank` with the pre-trained model; nDCG@10 on
# the test split, and the mean difference.
#   scripts/eval_pretrain.sh [SPLIT] [-- PRETRAIN FLAGS...]
# SPLIT: test (default: cranfield cisi med cacm scifact, their test qrels) or
# select: the queries of mixed's TRAIN split, each collection's own (ids
# without the "name:" prefix; for scifact its train split). Settings are
# chosen on `select`; `test` reports. The classic collections' test qrels
# include the select queries (mixed splits them in halves), so the
# pre-training report also gives the other half (mixed's test queries) alone: SPLIT=heldout.
# COLLECTIONS="a b" overrides the list; WORK=DIR keeps indexes between runs
# (default /tmp/hymir-pretrain-eval); TAG names the runs; HYMIR_BIN=DIR runs the
# binaries of another build (default build/bin; the other eval scripts too).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}
work=${WORK:-/tmp/hymir-pretrain-eval}
hymir=${HYMIR_BIN:-$here/build/bin}/hymir
split=${1:-test}; shift || true
[ "${1:-}" = "--" ] && shift
tag=${TAG:-pt}
cols=${COLLECTIONS:-cranfield cisi med cacm scifact}
mkdir -p "$work/qrels"
qrels_of() {  # collection -> the qrels file of this split
  case $split in
    test) echo "$data/$1/qrels/test.tsv" ;;
    select|heldout)
      local part=train; [ "$split" = heldout ] && part=test
      local f=$work/qrels/$1.$part.tsv
      { printf 'query-id\tcorpus-id\tscore\n'; grep "^$1:" "$data/mixed/qrels/$part.tsv" | sed "s/^$1://; s/\t$1:/\t/"; } >"$f"
      echo "$f" ;;
    *) echo "unknown split $split" >&2; exit 2 ;;
  esac
}
ndcg() { "$hymir" eval --qrels "$2" --run "$1" | awk '$1=="ndcg_cut_10" && $2=="all"{print $3}'; }
printf "%-10s %8s %8s %8s   %s\n" collection hybrid pretrain delta "held-out pseudo-queries (hybrid -> model)"
sum=0; n=0
for c in $cols; do
  d=$data/$c
  [ -f "$d/corpus.jsonl" ] || { echo "skip $c: $d absent"; continue; }
  idx=$work/$c
  if [ ! -f "$idx/.indexed" ]; then
    rm -rf "$idx"
    "$hymir" index --corpus "$d/corpus.jsonl" --index "$idx" --embed lsa:256 --threads 2 >/dev/null 2>&1
    touch "$idx/.indexed"
  fi
  q=$(qrels_of "$c")
  "$hymir" search --index "$idx" --queries "$d/queries.jsonl" --qrels "$q" --k 100 --run "$work/$c.hybrid.trec" >/dev/null 2>&1
  "$hymir" pretrain --index "$idx" --model "$work/$c.$tag.moe" "$@" >"$work/$c.$tag.log" 2>"$work/$c.$tag.err"
  "$hymir" search --index "$idx" --queries "$d/queries.jsonl" --qrels "$q" --k 100 --rerank "$work/$c.$tag.moe" \
    --run "$work/$c.$tag.trec" >/dev/null 2>&1
  h=$(ndcg "$work/$c.hybrid.trec" "$q"); p=$(ndcg "$work/$c.$tag.trec" "$q")
  checks=$(awk '/^held-out/{printf "%s %s->%s  ", $2, $7, $9}' "$work/$c.$tag.log")
  printf "%-10s %8.4f %8.4f %+8.4f   %s\n" "$c" "$h" "$p" "$(echo "$p - $h" | bc -l)" "$checks"
  sum=$(echo "$sum + $p - $h" | bc -l); n=$((n + 1))
done
[ "$n" -gt 0 ] && printf "%-10s %8s %8s %+8.4f\n" mean "" "" "$(echo "$sum / $n" | bc -l)"
