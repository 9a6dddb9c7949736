#!/usr/bin/env bash
# Per-query trust prototype, step 1: index mixed (--embed lsa:256),
# pre-train, fine-tune (default alpha 0.5) on all of train, on train without each
# domain (LODO) and on three folds of train; score EVERY query (train and test)
# at --k 100 with each model (run.NAME.trec). Then scripts/trust_select.py.
#   WORK=/tmp/trust-eval HYMIR_BIN=build/bin scripts/trust_runs.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}/mixed
work=${WORK:-/tmp/trust-eval}
hymir=${HYMIR_BIN:-$here/build/bin}/hymir
mkdir -p "$work"
idx=$work/mixed
N="nice -n 10"
log() { echo "$(date +%T) $*" >> $work/drive.log; }
if [ ! -f "$idx/.indexed" ]; then
  rm -rf "$idx"; log index
  $N "$hymir" index --corpus "$data/corpus.jsonl" --index "$idx" --embed lsa:256 --threads 2 >$work/index.log 2>&1
  touch "$idx/.indexed"
fi
run() { [ -s "$work/run.$1.trec" ] || { log "search $1"; $N "$hymir" search --index "$idx" --queries "$data/queries.jsonl" --k 100 --run "$work/run.$1.trec" "${@:2}" >$work/search.$1.log 2>&1; }; }
run hybrid
[ -f "$work/mixed.pre.moe" ] || { log pretrain; $N "$hymir" pretrain --index "$idx" --model "$work/mixed.pre.moe" >"$work/mixed.pre.log" 2>&1; }
run pre --rerank "$work/mixed.pre.moe"
ft() { # name qrels [flags]
  local name=$1 q=$2; shift 2
  [ -f "$work/$name.moe" ] || { log "train $name"; $N "$hymir" train --index "$idx" --queries "$data/queries.jsonl" --qrels "$q" --model "$work/$name.moe" --init "$work/mixed.pre.moe" "$@" >"$work/$name.log" 2>&1; }
  run "$name" --rerank "$work/$name.moe"
}
hdr=$(head -1 $data/qrels/train.tsv)
ft ft.all $data/qrels/train.tsv
for d in med cranfield cisi cacm scifact; do
  { echo "$hdr"; tail -n +2 $data/qrels/train.tsv | grep -v "^$d:"; } > $work/q.lodo.$d.tsv
  ft ft.lodo.$d $work/q.lodo.$d.tsv
done
# 3-fold over train queries (deterministic by hash of qid)
WORK=$work MIXED=$data python3 - <<'PY'
import hashlib, os
rows=open(os.environ['MIXED']+'/qrels/train.tsv').read().splitlines()
hdr,rows=rows[0],rows[1:]
def fold(q): return int(hashlib.md5(q.encode()).hexdigest(),16)%3
for f in range(3):
    with open(os.environ['WORK']+f'/q.cv{f}.tsv','w') as o:
        o.write(hdr+'\n')
        for r in rows:
            if fold(r.split('\t')[0])!=f: o.write(r+'\n')
PY
for f in 0 1 2; do ft ft.cv$f $work/q.cv$f.tsv; done
log done
