#!/usr/bin/env bash
# Pre-training, check 5 of docs/training.md, the cost: wall time and pseudo-queries per
# second of `hymir pretrain` and of `mpirun -np 2 hymir-mpi pretrain` on
# scifact and mixed (default settings, 2,000 pseudo-queries), in one run.
#   scripts/bench_pretrain.sh     (WORK as scripts/eval_pretrain.sh; indexes reused)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}
work=${WORK:-/tmp/hymir-pretrain-eval}
bin=${HYMIR_BIN:-$here/build/bin}
mpirun="mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none"
printf "%-8s %-28s %8s %14s  %s\n" corpus program seconds "pseudo-q/s" "stages (generate, training index, features, train)"
for c in scifact mixed; do
  idx=$work/$c
  if [ ! -f "$idx/.indexed" ]; then
    rm -rf "$idx"
    "$bin/hymir" index --corpus "$data/$c/corpus.jsonl" --index "$idx" --embed lsa:256 --threads 2 >/dev/null 2>&1
    touch "$idx/.indexed"
  fi
  for prog in "hymir pretrain" "hymir-mpi pretrain, 2 ranks"; do
    start=$(date +%s.%N)
    if [ "$prog" = "hymir pretrain" ]; then
      out=$("$bin/hymir" pretrain --index "$idx" --model "$work/$c.cost.moe" 2>/dev/null)
    else
      out=$($mpirun -np 2 "$bin/hymir-mpi" pretrain --index "$idx" --model "$work/$c.cost-mpi.moe" 2>/dev/null)
    fi
    secs=$(echo "$(date +%s.%N) - $start" | bc -l)
    rate=$(echo "$out" | sed -n 's/.*, \([0-9.]*\) pseudo-queries\/s.*/\1/p')
    stages=$(echo "$out" | sed -n 's/.*(generate \(.*\))$/\1/p')
    printf "%-8s %-28s %8.1f %14s  %s\n" "$c" "$prog" "$secs" "$rate" "$stages"
  done
done
