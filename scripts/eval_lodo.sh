#!/usr/bin/env bash
# Pre-training, check 2 of docs/training.md, leave one domain out: pre-train on the
# mixed corpus (the model of scripts/eval_finetune.sh, $WORK/mixed.pre.moe),
# fine-tune on mixed TRAIN without domain d's queries, and score d's TEST
# queries against hybrid (and the pre-trained model alone).
#   scripts/eval_lodo.sh [-- TRAIN FLAGS...]   (run scripts/eval_finetune.sh first)
# TAG names the fine-tuned models and runs (default lodo), e.g. TAG=plain with
# -- --finetune-alpha 1 for plain fine-tuning.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}/mixed
work=${WORK:-/tmp/hymir-pretrain-eval}
hymir=${HYMIR_BIN:-$here/build/bin}/hymir
idx=$work/mixed
[ "${1:-}" = "--" ] && shift
tag=${TAG:-lodo}
q=$data/qrels/test.tsv
dom() {  # run domain -> nDCG@10 of the domain's test queries
  "$hymir" eval --qrels "$q" --run "$1" --queries "$data/queries.jsonl" --per-domain |
    awk -v d="domain:$2" '$1=="ndcg_cut_10" && $2==d{print $3}'
}
printf "%-10s %8s %10s %12s %8s\n" "left out" hybrid pretrained "fine-tuned" delta
for d in cranfield cisi med cacm scifact; do
  sub=$work/$tag.$d.tsv
  { head -1 "$data/qrels/train.tsv"; tail -n +2 "$data/qrels/train.tsv" | grep -v "^$d:"; } >"$sub"
  "$hymir" train --index "$idx" --queries "$data/queries.jsonl" --qrels "$sub" --model "$work/$tag.$d.moe" \
    --init "$work/mixed.pre.moe" "$@" >"$work/$tag.$d.log" 2>&1
  "$hymir" search --index "$idx" --queries "$data/queries.jsonl" --qrels "$q" --k 100 --rerank "$work/$tag.$d.moe" \
    --run "$work/$tag.$d.trec" >/dev/null 2>&1
  h=$(dom "$work/mixed.hybrid.trec" "$d"); p=$(dom "$work/mixed.pre.trec" "$d"); f=$(dom "$work/$tag.$d.trec" "$d")
  printf "%-10s %8.4f %10.4f %12.4f %+8.4f\n" "$d" "$h" "$p" "$f" "$(echo "$f - $h" | bc -l)"
done
