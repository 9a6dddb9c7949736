#!/usr/bin/env bash
# Transfer: a model pre-trained on one index re-ranking another. With the
# default (corpus-independent) features a model's schema is the same on
# every index, so `hymir search --rerank` accepts it anywhere. For each
# model given (default: the mixed pre-trained model of
# scripts/eval_finetune.sh and each collection's own from
# scripts/eval_pretrain.sh), nDCG@10 on each collection's test queries
# against hybrid.
#   scripts/eval_transfer.sh [MODEL...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}
work=${WORK:-/tmp/hymir-pretrain-eval}
hymir=${HYMIR_BIN:-$here/build/bin}/hymir
cols="cranfield cisi med cacm scifact"
models=("$@")
[ ${#models[@]} -eq 0 ] && models=("$work/mixed.pre.moe" "$work/scifact.final.moe" "$work/cranfield.final.moe")
ndcg() { "$hymir" eval --qrels "$2" --run "$1" | awk '$1=="ndcg_cut_10" && $2=="all"{print $3}'; }
printf "%-28s" "model \\ index"; for c in $cols; do printf " %10s" "$c"; done; printf " %10s\n" mean
printf "%-28s" "hybrid"
for c in $cols; do
  "$hymir" search --index "$work/$c" --queries "$data/$c/queries.jsonl" --qrels "$data/$c/qrels/test.tsv" --k 100 \
    --run "$work/transfer.$c.hybrid.trec" >/dev/null 2>&1
  printf " %10.4f" "$(ndcg "$work/transfer.$c.hybrid.trec" "$data/$c/qrels/test.tsv")"
done
printf "\n"
for m in "${models[@]}"; do
  printf "%-28s" "$(basename "$m" .moe)"
  sum=0
  for c in $cols; do
    q=$data/$c/qrels/test.tsv
    "$hymir" search --index "$work/$c" --queries "$data/$c/queries.jsonl" --qrels "$q" --k 100 --rerank "$m" \
      --run "$work/transfer.$c.trec" >/dev/null 2>&1
    h=$(ndcg "$work/transfer.$c.hybrid.trec" "$q"); p=$(ndcg "$work/transfer.$c.trec" "$q")
    d=$(echo "$p - $h" | bc -l); sum=$(echo "$sum + $d" | bc -l)
    printf " %+10.4f" "$d"
  done
  printf " %+10.4f\n" "$(echo "$sum / 5" | bc -l)"
done
