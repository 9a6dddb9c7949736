#!/usr/bin/env bash
# Pre-training, check 3 of docs/training.md, with judgements: on mixed (indexed with
# --embed lsa:256), hybrid vs `hymir train` from scratch vs `hymir pretrain`
# on the mixed corpus then `hymir train --init` on mixed TRAIN; per-domain,
# macro and pooled nDCG@10 on mixed TEST.
#   scripts/eval_finetune.sh [-- PRETRAIN FLAGS...]
# WORK=DIR keeps the index between runs (default /tmp/hymir-pretrain-eval).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}/mixed
work=${WORK:-/tmp/hymir-pretrain-eval}
hymir=${HYMIR_BIN:-$here/build/bin}/hymir
[ "${1:-}" = "--" ] && shift
idx=$work/mixed
mkdir -p "$work"
if [ ! -f "$idx/.indexed" ]; then
  rm -rf "$idx"
  "$hymir" index --corpus "$data/corpus.jsonl" --index "$idx" --embed lsa:256 --threads 2 >/dev/null 2>&1
  touch "$idx/.indexed"
fi
q=$data/qrels/test.tsv
run() { "$hymir" search --index "$idx" --queries "$data/queries.jsonl" --qrels "$q" --k 100 --run "$work/mixed.$1.trec" "${@:2}" >/dev/null 2>&1; }
run hybrid
"$hymir" train --index "$idx" --queries "$data/queries.jsonl" --qrels "$data/qrels/train.tsv" --model "$work/mixed.scratch.moe" >"$work/mixed.scratch.log" 2>&1
run scratch --rerank "$work/mixed.scratch.moe"
"$hymir" pretrain --index "$idx" --model "$work/mixed.pre.moe" "$@" >"$work/mixed.pre.log" 2>&1
run pre --rerank "$work/mixed.pre.moe"
"$hymir" train --index "$idx" --queries "$data/queries.jsonl" --qrels "$data/qrels/train.tsv" --model "$work/mixed.ft.moe" \
  --init "$work/mixed.pre.moe" >"$work/mixed.ft.log" 2>&1
run ft --rerank "$work/mixed.ft.moe"
printf "%-34s %8s %8s %8s %8s %8s %8s %8s\n" system cranfield cisi med cacm scifact macro pooled
for s in hybrid scratch pre ft; do
  "$hymir" eval --qrels "$q" --run "$work/mixed.$s.trec" --queries "$data/queries.jsonl" --per-domain |
    awk -v s="$s" '$1=="ndcg_cut_10"{sub("domain:", "", $2); v[$2]=$3} END{
      n["hybrid"]="hybrid"; n["scratch"]="train from scratch (judgements)"; n["pre"]="pretrain only (no judgements)"; n["ft"]="pretrain + fine-tune";
      m=(v["cranfield"]+v["cisi"]+v["med"]+v["cacm"]+v["scifact"])/5;
      printf "%-34s %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f\n", n[s], v["cranfield"], v["cisi"], v["med"], v["cacm"], v["scifact"], m, v["all"]}'
done
