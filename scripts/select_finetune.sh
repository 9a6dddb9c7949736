#!/usr/bin/env bash
# Choosing --finetune-alpha (WiSE-FT, how far fine-tuning moves the model from
# the pre-trained one) on mixed's TRAIN split only: the model pre-trained on
# the mixed corpus (no judgements), fine-tuned and scored by
# hymir-rerank-bench in two cross-validations of the train judgements:
#   lodo: leave one domain out (each domain scored by a model fine-tuned on
#         the other four, what check 2 of docs/training.md
#         asks on the test split)
#   cv3:  three folds over all train queries (in-distribution)
#   scripts/select_finetune.sh [lodo|cv3|both] [-- BENCH FLAGS...]
# WORK=DIR keeps the index and the pre-trained model between runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}/mixed
work=${WORK:-/tmp/hymir-pretrain-eval}
bin=${HYMIR_BIN:-$here/build/bin}
mode=${1:-both}; [ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
grid=${ALPHA_GRID:-0.25,0.5,0.75}
idx=$work/mixed
mkdir -p "$work"
if [ ! -f "$idx/.indexed" ]; then
  rm -rf "$idx"
  "$bin/hymir" index --corpus "$data/corpus.jsonl" --index "$idx" --embed lsa:256 --threads 2 >/dev/null 2>&1
  touch "$idx/.indexed"
fi
[ -f "$work/mixed.pre.moe" ] || "$bin/hymir" pretrain --index "$idx" --model "$work/mixed.pre.moe" >"$work/mixed.pre.log" 2>&1
bench() {
  "$bin/hymir-rerank-bench" --index "$idx" --queries "$data/queries.jsonl" --train-qrels "$data/qrels/train.tsv" \
    --init "$work/mixed.pre.moe" --systems moe-finetuned --alpha-grid "$grid" --speed-reps 1 "$@" 2>"$work/select_finetune.err"
}
case $mode in
  lodo) bench --cv-by-domain "$@" ;;
  cv3) bench --cv-folds 3 "$@" ;;
  both) bench --cv-by-domain "$@"; bench --cv-folds 3 "$@" ;;
  *) echo "usage: $0 [lodo|cv3|both] [-- BENCH FLAGS]" >&2; exit 2 ;;
esac
