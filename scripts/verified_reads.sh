#!/usr/bin/env bash
# Verified reads at length: builds a >= 100k-document index (the mixed corpus
# of ../shared/data replicated COPIES times, ids made unique), then runs
# hymir-verified-reads-bench on it: the cost of block verification (verified
# vs unverified copies, same run) and TRIALS one-bit flips inside the postings,
# positions and stored records of queried terms (0 silent wrong answers is the
# bar). With SCIFACT=1 it also measures the cost on SciFact.
#   scripts/verified_reads.sh [TRIALS] [SEED] [COPIES]   (defaults: 120, 1, 9)
# Needs a build in build/ (or $BUILD) with targets hymir_cli and
# hymir_verified_reads_bench; works in $WORK (default: a temporary directory,
# removed at the end). Exit 0 when there was no silent wrong answer.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
data=${DATA:-$here/../shared/data}
trials=${1:-120}
seed=${2:-1}
copies=${3:-9}
hymir=$build/bin/hymir
bench=$build/bin/hymir-verified-reads-bench
for b in "$hymir" "$bench"; do
  [ -x "$b" ] || { echo "verified_reads.sh: $b not found (cmake --build build --target hymir_cli hymir_verified_reads_bench)" >&2; exit 2; }
done
[ -f "$data/mixed/corpus.jsonl" ] || { echo "verified_reads.sh: no $data/mixed (skipped)"; exit 0; }
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
echo "verified_reads.sh: work $work, $copies copies of mixed, $trials trials, seed $seed"
python3 - "$data/mixed/corpus.jsonl" "$copies" > "$work/corpus.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
for c in range(int(sys.argv[2])):
    for line in lines:
        d = json.loads(line)
        d["_id"] = f"{d['_id']}#{c}"
        print(json.dumps(d, ensure_ascii=False))
PY
rm -rf "$work/idx"
"$hymir" index --corpus "$work/corpus.jsonl" --index "$work/idx" >/dev/null
ls -l "$work"/idx/text/*.frq "$work"/idx/text/*.prx "$work"/idx/text/*.fdt
status=0
"$bench" --index "$work/idx" --queries "$data/mixed/queries.jsonl" --rounds 3 --seconds 3 || status=$?
"$bench" --index "$work/idx" --queries "$data/mixed/queries.jsonl" --damage "$trials" --seed "$seed" || status=$?
if [ "${SCIFACT:-0}" = 1 ] && [ -f "$data/scifact/corpus.jsonl" ]; then
  rm -rf "$work/scifact"
  "$hymir" index --corpus "$data/scifact/corpus.jsonl" --index "$work/scifact" >/dev/null
  "$bench" --index "$work/scifact" --queries "$data/scifact/queries.jsonl" --rounds 3 --seconds 3 || status=$?
fi
echo "verified_reads.sh: exit $status (replay: scripts/verified_reads.sh $trials $seed $copies)"
exit $status
