#!/usr/bin/env bash
# Chooses the MoE re-ranker's training defaults on the TRAIN split only:
# two-fold cross-validation over mixed's train queries (folds by query
# order), macro nDCG@10 over domains on the held-out fold, for each
# configuration. The test split is never read.
#   scripts/select_moe.sh INDEX [DATA_DIR] [WORK_DIR] -- extra configs are in CONFIGS below
# INDEX: mixed indexed with --embed lsa:256. SELECT_ONLY=REGEX runs only matching configs.
# Every row but validation-30 pins the validation share at 0.15, the value used
# when the rows were run (the default became 0.3 after the last round).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
index=$1
data=${2:-$here/../shared/data}/mixed
work=${3:-$(mktemp -d)}
hymir=$here/build/bin/hymir
# Fold qrels: train queries alternate between folds in file order.
awk -F'\t' 'NR==1 {print > "'"$work"'/fold0.tsv"; print > "'"$work"'/fold1.tsv"; next}
  !($1 in f) {f[$1] = n++ % 2} {print > ("'"$work"'/fold" f[$1] ".tsv")}' "$data/qrels/train.tsv"
CONFIGS=(
  "softmax|--validation 0.15 --no-balance-domains --loss softmax --lr 0.002 --weight-decay 0.0001 --bias-rate 0.002"
  "softmax-nobias|--validation 0.15 --no-balance-domains --loss softmax --lr 0.002 --weight-decay 0.0001 --bias-rate 0"
  "lambdarank|--validation 0.15 --no-balance-domains --loss lambdarank --lr 0.002 --weight-decay 0.0001 --bias-rate 0.002"
  "lambdarank-nobias|--validation 0.15 --no-balance-domains --loss lambdarank --lr 0.002 --weight-decay 0.0001 --bias-rate 0"
  "lambdarank-nobias-slow|--validation 0.15 --no-balance-domains --loss lambdarank --lr 0.001 --weight-decay 0.001 --bias-rate 0"
  "lambdarank-bias-slow|--validation 0.15 --no-balance-domains --loss lambdarank --lr 0.001 --weight-decay 0.001 --bias-rate 0.002"
  "softmax-nobias-slow|--validation 0.15 --no-balance-domains --loss softmax --lr 0.001 --weight-decay 0.001 --bias-rate 0"
  "lambdarank-nobias-slow-balanced|--validation 0.15 --loss lambdarank --lr 0.001 --weight-decay 0.001 --bias-rate 0"
  "lambdarank-nobias-balanced|--validation 0.15 --loss lambdarank --lr 0.002 --weight-decay 0.0001 --bias-rate 0"
  "softmax-balanced|--validation 0.15 --loss softmax --lr 0.002 --weight-decay 0.0001 --bias-rate 0.002"
  "lambdarank-bias-slow-balanced|--validation 0.15 --loss lambdarank --lr 0.001 --weight-decay 0.001 --bias-rate 0.002"
  # Model shapes, with the training defaults chosen above.
  "shape-e4-k2|--validation 0.15 --experts 4 --top-k 2"
  "shape-e16-k2|--validation 0.15 --experts 16 --top-k 2"
  "shape-e8-k4|--validation 0.15 --top-k 4"
  "shape-e8-k2-s2|--validation 0.15 --shared 2"
  "shape-hidden64|--validation 0.15 --hidden 64"
  "shape-gate-mlp16|--validation 0.15 --gate-hidden 16"
  # Features: experts also see the query features.
  "pair-query-features|--validation 0.15 --pair-query-features"
  # Early stopping: a larger validation slice, more patience.
  "validation-30|--validation 0.3"
  "patience-20|--validation 0.15 --patience 20"
)
printf "%-34s %8s %8s %8s\n" config fold0 fold1 mean
for c in "${CONFIGS[@]}"; do
  name=${c%%|*}; args=${c#*|}
  if [ -n "${SELECT_ONLY:-}" ] && ! [[ $name =~ $SELECT_ONLY ]]; then continue; fi
  vals=()
  for f in 0 1; do
    other=$((1 - f))
    # shellcheck disable=SC2086
    "$hymir" train --index "$index" --queries "$data/queries.jsonl" --qrels "$work/fold$other.tsv" \
      --model "$work/$name.$f.model" $args >/dev/null 2>&1
    "$hymir" search --index "$index" --queries "$data/queries.jsonl" --qrels "$work/fold$f.tsv" \
      --run "$work/$name.$f.trec" --rerank "$work/$name.$f.model" 2>/dev/null
    vals+=("$("$hymir" eval --qrels "$work/fold$f.tsv" --run "$work/$name.$f.trec" --queries "$data/queries.jsonl" \
      --per-domain | awk '$1=="ndcg_cut_10" && $2=="macro" {print $3}')")
  done
  awk -v n="$name" -v a="${vals[0]}" -v b="${vals[1]}" 'BEGIN {printf "%-34s %8.4f %8.4f %8.4f\n", n, a, b, (a + b) / 2}'
done
# The hybrid baseline on the same folds, for reference.
for f in 0 1; do
  "$hymir" search --index "$index" --queries "$data/queries.jsonl" --qrels "$work/fold$f.tsv" --run "$work/hybrid.$f.trec" 2>/dev/null
  printf "hybrid fold%d %s\n" "$f" "$("$hymir" eval --qrels "$work/fold$f.tsv" --run "$work/hybrid.$f.trec" \
    --queries "$data/queries.jsonl" --per-domain | awk '$1=="ndcg_cut_10" && $2=="macro" {print $3}')"
done
