#!/usr/bin/env bash
# The looping kill -9 test at length: `hymir index` (text), `hymir index` with
# vector fields and upserts (which compact the vectors) and `hymir kg load`,
# each SIGKILLed at ITERATIONS random moments (default 50 per kind); after
# every kill each commit the writer reported must have survived, the index or
# KG must reopen and `hymir check --index` must pass. The ctest `kill9_test`
# runs the same test with 3 iterations per kind.
#   scripts/kill9.sh [ITERATIONS] [SEED]      (SEED default: the clock; printed)
# Needs a build in build/ (or $BUILD). Prints one line per kill point and a
# summary per kind; exit 0 when every kind passed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
bin=$build/bin/kill9_test
[ -x "$bin" ] || { echo "kill9.sh: $bin not found (build the project first)" >&2; exit 2; }
export HYMIR_KILL9_ITERATIONS=${1:-50}
export HYMIR_KILL9_SEED=${2:-$(( $(date +%s%N) % 1000000007 ))}
echo "kill9.sh: $HYMIR_KILL9_ITERATIONS iterations per kind, seed $HYMIR_KILL9_SEED"
start=$(date +%s)
status=0
"$bin" --gtest_color=no || status=$?
echo "kill9.sh: $(( $(date +%s) - start )) s, exit $status (replay: scripts/kill9.sh $HYMIR_KILL9_ITERATIONS $HYMIR_KILL9_SEED)"
exit $status
