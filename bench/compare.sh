#!/usr/bin/env bash
# hymir vs Java Lucene 8.8 on the same files in the same run: runs
# build/bin/hymir-bench and `LuceneBaseline.java bench`, keeps both outputs and
# prints hymir/lucene ratios (indexing docs/s; QPS at k=10 and k=1000 with 1
# and N threads, for each search mode both printed).
#
# usage: bench/compare.sh CORPUS [QUERIES]
#   Without QUERIES, hymir samples random 2-3-term queries (fixed seed) and
#   writes them out, so Lucene runs the very same queries.
# env:
#   HYMIR_BENCH  hymir-bench binary           (default <repo>/build/bin/hymir-bench)
#   JAVA         java launcher                (default java)
#   THREADS      N for the N-thread runs      (default: nproc)
#   BENCH_SECONDS  seconds per search config  (default 5)
#   INDEX_RUNS   indexing runs, median kept   (default 3, both sides)
#   OUT_DIR      keep hymir.txt / lucene.txt / queries.jsonl here (default: a temp dir, removed)
# exit: 0 OK, 1 a benchmark failed, 2 usage / missing files.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

usage() { sed -n '2,/^# exit:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }
if [[ $# -lt 1 || $# -gt 2 || "$1" == -h || "$1" == --help ]]; then
  usage
  exit 2
fi
corpus="$1"
queries="${2:-}"
for f in "$corpus" ${queries:+"$queries"}; do
  [[ -f "$f" ]] || { echo "compare.sh: $f: no such file" >&2; exit 2; }
done

bench="${HYMIR_BENCH:-$repo/build/bin/hymir-bench}"
java="${JAVA:-java}"
threads="${THREADS:-$(nproc)}"
seconds="${BENCH_SECONDS:-5}"
index_runs="${INDEX_RUNS:-3}"
if [[ ! -x "$bench" ]]; then
  echo "compare.sh: $bench: not built (cmake --build build --target hymir_bench, or set HYMIR_BENCH)" >&2
  exit 2
fi

if [[ -n "${OUT_DIR:-}" ]]; then
  out="$OUT_DIR"
  mkdir -p "$out"
else
  out="$(mktemp -d "${TMPDIR:-/tmp}/hymir-compare-XXXXXX")"
  trap 'rm -rf "$out"' EXIT
fi

# ---- hymir
hymir_args=(--corpus "$corpus" --threads "$threads" --seconds "$seconds" --index-runs "$index_runs")
if [[ -n "$queries" ]]; then
  hymir_args+=(--queries "$queries")
  java_queries="$queries"
else
  hymir_args+=(--write-queries "$out/queries.jsonl")
  java_queries="$out/queries.jsonl"
fi
echo "== hymir: $bench ${hymir_args[*]}" >&2
if ! "$bench" "${hymir_args[@]}" | tee "$out/hymir.txt"; then
  echo "compare.sh: hymir-bench failed" >&2
  exit 1
fi

# ---- Java Lucene baseline (skipped with a message when it cannot run)
mvn=/usr/share/maven-repo/org/apache/lucene
CP="$mvn/lucene-core/8.x/lucene-core-8.x.jar:$mvn/lucene-analyzers-common/8.x/lucene-analyzers-common-8.x.jar"
baseline="$repo/bench/java/LuceneBaseline.java"
skip=""
if [[ ! -f "$baseline" ]]; then
  skip="$baseline does not exist yet"
elif ! command -v "$java" >/dev/null 2>&1; then
  skip="no '$java' on PATH (apt-get install default-jre-headless)"
else
  for jar in ${CP//:/ }; do
    [[ -f "$jar" ]] || skip="missing $jar (apt-get install liblucene8-java)"
  done
fi
if [[ -n "$skip" ]]; then
  echo "compare.sh: skipping the Java baseline: $skip" >&2
  exit 0
fi
java_args=(bench --corpus "$corpus" --queries "$java_queries" --threads "$threads" --seconds "$seconds"
           --index-runs "$index_runs")
echo "== lucene: $java -cp \$CP $baseline ${java_args[*]}" >&2
if ! "$java" -cp "$CP" "$baseline" "${java_args[@]}" | tee "$out/lucene.txt"; then
  echo "compare.sh: the Java baseline failed" >&2
  exit 1
fi

# ---- side by side
awk -v threads="$threads" '
  # value of key=... on the current line ("" when absent)
  function val(key,   i, kv) {
    for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) return substr($i, length(key) + 2)
    return ""
  }
  FNR == 1 { side = (FILENAME ~ /hymir\.txt$/) ? "hymir" : "lucene" }
  side == "hymir" && $1 == "hymir" && $2 == "index" { idx["hymir", val("threads")] = val("docs_per_s") }
  side == "hymir" && $1 == "hymir" && $2 == "index" && val("threads") == 1 { bytes["hymir"] = val("index_bytes") }
  side == "lucene" && $1 == "lucene" && $2 == "index" {
    idx["lucene", 1] = val("index_docs_per_s"); bytes["lucene"] = val("index_bytes")
  }
  side == "lucene" && $1 == "lucene" && $2 == "index_stored" {
    idx["lucene_stored", 1] = val("index_docs_per_s"); bytes["lucene_stored"] = val("index_bytes")
  }
  $2 == "search" && ($1 == "hymir" || $1 == "lucene") {
    key = val("hits") SUBSEP val("k") SUBSEP val("threads")
    qps[$1, key] = val("qps"); p50[$1, key] = val("p50_ms"); seen[key] = 1
  }
  function row(label, h, l) {
    if (h == "" || l == "") printf "%-44s %12s %12s %8s\n", label, (h == "" ? "-" : h), (l == "" ? "-" : l), "-"
    else printf "%-44s %12s %12s %8.2f\n", label, h, l, h / l
  }
  END {
    printf "\n%-44s %12s %12s %8s\n", "figure", "hymir", "lucene", "ratio"
    row("index docs/s, 1 thread", idx["hymir", 1], idx["lucene", 1])
    if (threads > 1)
      row("index docs/s, hymir " threads " threads vs lucene 1", idx["hymir", threads], idx["lucene", 1])
    row("index docs/s, 1 thread, lucene storing the body", idx["hymir", 1], idx["lucene_stored", 1])
    row("index MB (hymir: text stored + forward index)", bytes["hymir"] == "" ? "" : sprintf("%.2f", bytes["hymir"] / 1e6),
        bytes["lucene"] == "" ? "" : sprintf("%.2f", bytes["lucene"] / 1e6))
    row("index MB, lucene storing the body", bytes["hymir"] == "" ? "" : sprintf("%.2f", bytes["hymir"] / 1e6),
        bytes["lucene_stored"] == "" ? "" : sprintf("%.2f", bytes["lucene_stored"] / 1e6))
    split("default exhaustive", modes, " ")
    for (m = 1; m <= 2; m++)
      for (k = 10; k <= 1000; k *= 100)
        for (t = 1; t <= threads; t = (t == 1 && threads > 1) ? threads : threads + 1) {
          key = modes[m] SUBSEP k SUBSEP t
          if (!(key in seen)) continue
          row(sprintf("QPS k=%d threads=%d hits=%s", k, t, modes[m]), qps["hymir", key], qps["lucene", key])
          row(sprintf("  p50 ms (ratio > 1: hymir slower)"), p50["hymir", key], p50["lucene", key])
        }
    print "ratio = hymir / lucene (for docs/s and QPS: > 1 means hymir is faster; for MB: > 1 means hymir is larger)"
  }
' "$out/hymir.txt" "$out/lucene.txt"
