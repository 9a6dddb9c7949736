#!/usr/bin/env bash
# Per-query trust, step 3: `hymir train --init PRE --trust` on all of
# mixed train (check 3 of docs/training.md) and on train without each domain
# (check 2), scored on TEST.
# Run scripts/trust_runs.sh first (index, pre-trained model, LODO qrels).
#   WORK=/tmp/trust-eval HYMIR_BIN=build/bin scripts/trust_e2e.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}/mixed; work=${WORK:-/tmp/trust-eval}; hymir=${HYMIR_BIN:-$here/build/bin}/hymir; idx=$work/mixed
N="nice -n 10"
T="--trust --trust-neighbours 1 --trust-floor 0.3 --trust-width 0.4"
log() { echo "$(date +%T) $*" >> $work/e2e.log; }
tr() { local name=$1 q=$2; log "train $name"
  $N $hymir train --index $idx --queries $data/queries.jsonl --qrels $q --model $work/$name.moe --init $work/mixed.pre.moe $T >$work/$name.log 2>&1
  log "search $name"
  $N $hymir search --index $idx --queries $data/queries.jsonl --qrels $data/qrels/test.tsv --k 100 --rerank $work/$name.moe --run $work/run.$name.trec >$work/search.$name.log 2>&1; }
tr trust.all $data/qrels/train.tsv
for d in med cranfield cisi cacm scifact; do tr trust.lodo.$d $work/q.lodo.$d.tsv; done
log done
