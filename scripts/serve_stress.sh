#!/usr/bin/env bash
# The HTTP service's load bars, measured on `hymir serve`:
#  1. with IDLE (default 1000) idle and SLOW (default 2) slow-loris
#     connections held open, a query every 0.5 s for STRESS_SECONDS (default
#     20): each answer's status and latency (bar: 200 in under 1 s);
#  2. wrk against /api/search (the sample's 30 queries in turn) for
#     WRK_SECONDS (default 60) at WRK_CONNECTIONS (default "2 16 256"), with
#     re-ranking and without: requests/s, p50/p99, errors and timeouts (wrk's
#     default 2 s timeout; bar: 0 errors and 0 timeouts at 256 with
#     re-ranking). WRK_SECONDS=0 skips it.
#   scripts/serve_stress.sh [INDEX MODEL]
# Without INDEX, indexes the bundled sample (lsa:128 vectors, as scripts/demo.sh)
# and trains a MoE model on its judgements into $WORK (default
# /tmp/hymir-serve-stress). Needs a build in build/ (or $BUILD), python3, wrk
# (Debian package `wrk`, in scripts/setup.sh). Prints the load average with
# each figure: the measurement needs the CPU.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
hymir=$build/bin/hymir
work=${WORK:-/tmp/hymir-serve-stress}
mkdir -p "$work"
index=${1:-}
model=${2:-}
if [ -z "$index" ]; then
  index=$work/sample-index
  model=$work/moe.model
  if [ ! -f "$model" ]; then
    rm -rf "$index"
    "$hymir" index --corpus "$here/data/sample/corpus.jsonl" --index "$index" --embed lsa:128 --threads 2 >/dev/null
    "$hymir" train --index "$index" --queries "$here/data/sample/queries.jsonl" \
      --qrels "$here/data/sample/qrels/test.tsv" --model "$model" >/dev/null 2>&1
  fi
fi
rerank=()
[ -n "$model" ] && rerank=(--rerank "$model")
"$hymir" serve --index "$index" "${rerank[@]}" --port 0 --quiet ${SERVE_FLAGS:-} >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\)\/.*/\1/p' "$work/serve.out")
[ -n "$port" ] || { echo "serve_stress.sh: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
echo "serve_stress.sh: $(head -1 "$work/serve.out")"
echo "serve_stress.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
python3 "$here/scripts/serve_stress.py" "$port" "${IDLE:-1000}" "${SLOW:-2}" "${STRESS_SECONDS:-20}" || status=1

secs=${WRK_SECONDS:-60}
if [ "$secs" != 0 ]; then
  command -v wrk >/dev/null || { echo "serve_stress.sh: wrk not found (apt-get install wrk)" >&2; exit 2; }
  python3 - "$here/data/sample/queries.jsonl" >"$work/queries.lua" <<'PY'
import json, sys, urllib.parse
qs = [urllib.parse.quote_plus(json.loads(l)["text"][:200]) for l in open(sys.argv[1]) if l.strip()]
print("local queries = {" + ",".join('"%s"' % q for q in qs) + "}")
print("local i = 0")
print("request = function()")
print("  i = i % #queries + 1")
print("  return wrk.format('GET', '/api/search?k=10&rerank=' .. (os.getenv('RERANK') or '1') .. '&q=' .. queries[i])")
print("end")
PY
  for mode in ${WRK_MODES:-1 0}; do
    [ "$mode" = 1 ] && [ -z "$model" ] && continue
    for c in ${WRK_CONNECTIONS:-2 16 256}; do
      t=2; [ "$c" -lt 2 ] && t=1
      out=$(RERANK=$mode wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$work/queries.lua" "http://127.0.0.1:$port" 2>&1)
      load=$(cut -d' ' -f1-3 /proc/loadavg)
      rps=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
      p50=$(awk '$1=="50%"{print $2}' <<<"$out")
      p99=$(awk '$1=="99%"{print $2}' <<<"$out")
      reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
      sockerr=$(sed -n 's/^ *Socket errors: //p' <<<"$out")
      non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: //p' <<<"$out")
      echo "serve_stress.sh: wrk -c $c -d ${secs}s rerank=$mode: $reqs requests, $rps req/s, p50 $p50, p99 $p99," \
           "socket errors: ${sockerr:-none}, non-2xx: ${non2xx:-0}; load average after: $load"
      if [ -n "$sockerr" ] || [ -n "$non2xx" ]; then status=1; fi
      [ -n "${WRK_VERBOSE:-}" ] && echo "$out"
    done
  done
fi
# The server's own account (printed at exit): requests, peaks, and per request
# the ms from arrival to handler, waiting for a slot, and in the handler.
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
sed -n 's/^hymir serve: /serve_stress.sh: server: /p' "$work/serve.err" | grep -v ': stopped$' || true
exit $status
