#!/usr/bin/env bash
# Chooses the MoE re-ranker's training defaults on the TRAIN split only:
# three-fold cross-validation over a collection's train queries, three seeds
# per fold (hymir-rerank-bench --cv-folds; folds are the judged train queries
# in query-file order, i mod 3), macro nDCG@10 over domains on the held-out
# folds, for each configuration. The test split is never read.
#   scripts/select_moe.sh INDEX [COLLECTION_DIR]
# INDEX: the collection indexed with --embed lsa:256 (default collection:
# ../shared/data/mixed). SELECT_ONLY=REGEX runs only matching configs;
# SEEDS=N changes the seeds per fold; SYSTEMS=a,b the systems (default
# moe-topk-shared; add lambdamart, mlp, moe-dense to compare).
# Each configuration spells out every flag that differs from the first
# defaults ($old), so rows stay comparable after the defaults change. About 70 s per
# configuration on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
index=$1
data=${2:-$here/../shared/data/mixed}
bench=$here/build/bin/hymir-rerank-bench
old="--no-log-inputs --no-list-inputs --no-refit --balance-power 0"   # the first defaults
ll="--log-inputs --list-inputs --no-refit --balance-power 0"
llr="--log-inputs --list-inputs --refit --balance-power 0"
def="--log-inputs --list-inputs --refit --balance-power 0.2 --ple-bins 0 --no-weighted-load --no-linear-skip --no-list-context"
CONFIGS=(
  "first defaults|$old"
  "+ log inputs|--log-inputs --no-list-inputs --no-refit --balance-power 0"
  "+ list inputs|--no-log-inputs --list-inputs --no-refit --balance-power 0"
  "+ log + list inputs|$ll"
  "log + list, dense warm-up 5|$ll --dense-warmup 5"
  "log + list, dense warm-up 10|$ll --dense-warmup 10"
  "log + list, softmax loss|$ll --loss softmax"
  "log + list, lr 0.002|$ll --lr 0.002"
  "log + list, 64 hidden|$ll --hidden 64"
  "log + list, EMA 0.9|$ll --ema 0.9"
  "log + list, EMA 0.95|$ll --ema 0.95"
  "log + list, balance power 0.3|$ll --balance-power 0.3"
  "log + list, balance power 0.5|$ll --balance-power 0.5"
  "+ refit|$llr"
  "refit, dense warm-up 5|$llr --dense-warmup 5"
  "refit, EMA 0.95|$llr --ema 0.95"
  "refit, balance power 0.2 (default)|--log-inputs --list-inputs --refit --balance-power 0.2"
  "refit, balance power 0.3|$llr --balance-power 0.3"
  "refit, balance power 0.5|$llr --balance-power 0.5"
  "refit, power 0.2, batch 8|$llr --balance-power 0.2 --batch 8"
  "refit, power 0.2, input noise 0.3|$llr --balance-power 0.2 --input-noise 0.3"
  # From the current defaults ($def): input encodings and expert shapes.
  "PLE 4 bins|$def --ple-bins 4"
  "PLE 8 bins|$def --ple-bins 8"
  "PLE 16 bins|$def --ple-bins 16"
  "weighted load|$def --weighted-load"
  "weighted load, PLE 8|$def --weighted-load --ple-bins 8"
  "weighted load, balance power 0|$def --weighted-load --balance-power 0"
  "linear skip|$def --linear-skip"
  "linear skip, PLE 8|$def --linear-skip --ple-bins 8"
  "list context|$def --list-context"
  "list context, PLE 8|$def --list-context --ple-bins 8"
  "seed ensemble (+ens row)|$def --cv-ensemble"
  "E = 4|$def --experts 4"
  "E = 16|$def --experts 16"
  "S = 2|$def --shared 2"
  "sentence features|$def --sentence-features"
  "LambdaRank at cutoff 10|$def --lambda-cutoff 10"
  "LambdaRank at cutoff 20|$def --lambda-cutoff 20"
  "re-rank depth 30|$def --depth 30"
  "re-rank depth 50|$def --depth 50"
  "re-rank depth 200|$def --depth 200"
)
printf "%-40s %8s %8s  %s\n" config macro micro "hybrid macro/micro"
for c in "${CONFIGS[@]}"; do
  name=${c%%|*}; args=${c#*|}
  if [ -n "${SELECT_ONLY:-}" ] && ! [[ $name =~ $SELECT_ONLY ]]; then continue; fi
  # shellcheck disable=SC2086
  out=$("$bench" --index "$index" --queries "$data/queries.jsonl" --train-qrels "$data/qrels/train.tsv" \
    --cv-folds 3 --cv-seeds "${SEEDS:-3}" --systems "${SYSTEMS:-moe-topk-shared}" $args 2>/dev/null)
  # One line per system of the summary table: name macro +- micro +-.
  echo "$out" | awk -v n="$name" '
    /^system/ {on = 1; next}
    on && NF == 0 {exit}
    on && $1 == "hybrid" {h = $2 "/" $4; next}
    on {rows[++k] = sprintf("%-40s %8s %8s", (k == 1 ? n : "  " $1), $2, $4)}
    END {for (i = 1; i <= k; ++i) print rows[i] (i == 1 ? "  " h : "")}'
done
