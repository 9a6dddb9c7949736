#!/usr/bin/env bash
# Structured-search speed of hymir against Java Lucene 8.8 in the same run, both timed in-process on
# one thread after a warm-up, printed as hymir/lucene ratios of queries per CPU second of the timing
# thread (robust to other load on a shared machine) and, in brackets, of wall-clock QPS:
#   1. SciFact: phrases, sloppy phrases, conjunctions and plain OR queries of word pairs drawn from the
#      documents (hymir-query-bench --write-queries; the same file goes to LuceneStructured `bench`).
#   2. A synthetic corpus (default 1,000,000 documents; hymir-typed-bench --write-corpus: Zipfian text
#      plus int64 "size" and keyword "section") indexed by both: the same query kinds; a range on
#      size keeping 1 % of the documents (LongPoint.newRangeQuery), alone and filtering a common term;
#      the section facet over the common term's matches (SortedSetDocValuesFacetCounts).
#
# usage: bench/structured/speed.sh [SCIFACT_DIR]      (default ../shared/data/scifact)
# env:
#   BUILD          hymir build directory               (default <repo>/build)
#   OUT_DIR        indexes and outputs, kept and reused (default ${TMPDIR:-/tmp}/hymir-structured-speed)
#   DOCS           synthetic documents (0 skips part 2) (default 1000000)
#   PAIRS          word pairs per query kind            (default 500)
#   REPEAT         hymir passes over each query kind    (default 3)
#   BENCH_SECONDS  Java seconds per kind; hymir and Java seconds per typed step (default 4)
#   JAVA, JAVAC    Java launcher and compiler          (default java, javac)
# Needs: hymir, hymir-query-bench, hymir-typed-bench built (cmake --build build --target hymir_cli
#   hymir_query_bench hymir_typed_bench), liblucene8-java, a JDK.
# exit: 0 OK, 1 a step failed, 2 usage or missing input.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ $# -gt 1 || "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^# exit:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi
scifact="${1:-$repo/../shared/data/scifact}"
build="${BUILD:-$repo/build}"
out="${OUT_DIR:-${TMPDIR:-/tmp}/hymir-structured-speed}"
docs="${DOCS:-1000000}"
pairs="${PAIRS:-500}"
repeat="${REPEAT:-3}"
seconds="${BENCH_SECONDS:-4}"
java="${JAVA:-java}"
javac="${JAVAC:-javac}"
for b in hymir hymir-query-bench hymir-typed-bench; do
  [[ -x "$build/bin/$b" ]] || { echo "speed.sh: missing $build/bin/$b (build it first)" >&2; exit 2; }
done
[[ -f "$scifact/corpus.jsonl" ]] || { echo "speed.sh: $scifact/corpus.jsonl: no such file" >&2; exit 2; }
mvn=/usr/share/maven-repo/org/apache/lucene
CP=""
for j in lucene-core lucene-analyzers-common lucene-queryparser lucene-facet; do
  jar="$mvn/$j/8.x/$j-8.x.jar"
  [[ -f "$jar" ]] || { echo "speed.sh: missing $jar (apt-get install liblucene8-java)" >&2; exit 2; }
  CP="${CP:+$CP:}$jar"
done
mkdir -p "$out/classes"
"$javac" -nowarn -d "$out/classes" -cp "$CP" "$repo/bench/java/LuceneStructured.java"
lucene() { "$java" -Xms2g -Xmx4g -cp "$out/classes:$CP" LuceneStructured "$@"; }

echo "# speed.sh commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo n/a) loadavg=$(cut -d' ' -f1 /proc/loadavg)"

# Query kinds on one corpus: hymir-query-bench writes the queries and times them; Lucene times the same.
query_kinds() {  # name corpus hymir_index lucene_index [schema]
  local name="$1" corpus="$2" hidx="$3" lidx="$4" schema="${5:-}"
  local d="$out/$name"
  "$build/bin/hymir-query-bench" --index "$hidx" --queries "$pairs" --repeat "$repeat" \
    --write-queries "$d/queries.jsonl" >"$d/hymir-queries.txt"
  for hits in default exhaustive; do
    lucene bench --corpus "$corpus" --index "$lidx" ${schema:+--schema "$schema"} --analyzer english-classic \
      --queries "$d/queries.jsonl" --k 10 --seconds "$seconds" --warmup 2 --hits "$hits" \
      >"$d/lucene-queries-$hits.txt"
  done
  python3 - "$name" "$d/hymir-queries.txt" "$d/lucene-queries-default.txt" "$d/lucene-queries-exhaustive.txt" <<'EOF'
import re, sys
name, hfile, ldef, lexh = sys.argv[1:]
def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))
h = {}
for line in open(hfile):
    if line.startswith("hymir query "):
        f = kv(line)
        h[line.split()[2]] = (float(f["cpu_qps"]), float(f["qps"]))
def lq(path):
    out = {}
    for line in open(path):
        if line.startswith("lucene-structured search "):
            f = kv(line)
            out[f["kind"]] = (float(f["cpu_qps"]), float(f["qps"]))
    return out
ld, le = lq(ldef), lq(lexh)
print(f"{name}: top-10 queries per CPU second of the timing thread (wall-clock QPS ratio in brackets);")
print("  Lucene 'default' = IndexSearcher.search(q, 10) (hits counted up to 1000), 'exact' = every hit counted, as hymir")
print(f"  {'kind':<12} {'hymir':>8} {'lucene':>8} {'ratio':>6} {'(wall)':>8} {'exact':>8} {'ratio':>6} {'(wall)':>8}")
for hk, lk in [("phrase", "phrase"), ("sloppy", "sloppy"), ("conjunction", "conjunction"), ("plain-lucene", "terms"),
               ("plain", "terms")]:
    if hk in h and lk in ld and lk in le:
        print(f"  {hk:<12} {h[hk][0]:>8.0f} {ld[lk][0]:>8.0f} {h[hk][0] / ld[lk][0]:>5.2f}x ({h[hk][1] / ld[lk][1]:>5.2f}x) "
              f"{le[lk][0]:>8.0f} {h[hk][0] / le[lk][0]:>5.2f}x ({h[hk][1] / le[lk][1]:>5.2f}x)")
EOF
}

# ---- 1. SciFact
mkdir -p "$out/scifact"
if [[ ! -f "$out/scifact/hymir/hymir.json" ]]; then
  "$build/bin/hymir" index --corpus "$scifact/corpus.jsonl" --index "$out/scifact/hymir" >/dev/null
fi
query_kinds scifact "$scifact/corpus.jsonl" "$out/scifact/hymir" "$out/scifact/lucene"

[[ "$docs" -gt 0 ]] || exit 0

# ---- 2. Synthetic corpus with typed fields
s="$out/synthetic-$docs"
mkdir -p "$s"
if [[ ! -f "$s/corpus.jsonl" || ! -f "$s/term" ]]; then
  "$build/bin/hymir-typed-bench" --write-corpus "$s/corpus.jsonl" --write-schema "$s/schema.json" --docs "$docs" |
    sed -n 's/.*common_term=\([a-z]*\).*/\1/p' >"$s/term"
fi
term="$(cat "$s/term")"
if [[ ! -f "$s/hymir/hymir.json" ]]; then
  "$build/bin/hymir" index --corpus "$s/corpus.jsonl" --schema "$s/schema.json" --index "$s/hymir" >/dev/null
fi
query_kinds "synthetic-$docs" "$s/corpus.jsonl" "$s/hymir" "$s/lucene" "$s/schema.json"

# Range: Lucene picks the window (from the median value, 1 % of the documents); hymir runs the same bounds.
lucene range --corpus "$s/corpus.jsonl" --index "$s/lucene" --schema "$s/schema.json" --analyzer english-classic \
  --field size --keep 0.01 --query "$term" --seconds "$seconds" --warmup 2 >"$s/lucene-range.txt"
read -r from to < <(sed -n 's/.*query=size:\[\([0-9]*\) TO \([0-9]*\)\].*/\1 \2/p' "$s/lucene-range.txt")
lucene facets --corpus "$s/corpus.jsonl" --index "$s/lucene" --schema "$s/schema.json" --analyzer english-classic \
  --field section --query "$term" --seconds "$seconds" --warmup 2 >"$s/lucene-facets.txt"
"$build/bin/hymir-typed-bench" --compare --index "$s/hymir" --range-field size --from "$from" --to "$to" \
  --query "$term" --facet-field section --facet-query "$term" --seconds "$seconds" --warmup 1 >"$s/hymir-typed.txt"
python3 - "$s/hymir-typed.txt" "$s/lucene-range.txt" "$s/lucene-facets.txt" "$term" "$from" "$to" <<'EOF'
import re, sys
hfile, lrange, lfacets, term, lo, hi = sys.argv[1:]
def steps(path, prefix):
    out = {}
    for line in open(path):
        if line.startswith(prefix) and "step=" in line:
            f = dict(re.findall(r"(\w+)=(\S+)", line))
            out[f["step"]] = (float(f["cpu_qps"]), float(f["qps"]))
    return out
h = steps(hfile, "hymir typed")
l = {"range_" + k: v for k, v in steps(lrange, "lucene-structured range").items()}
l.update({"facets_" + k: v for k, v in steps(lfacets, "lucene-structured facets").items()})
matched = re.search(r"matched=(\d+)", open(lrange).read()).group(1)
print(f"typed fields: size:[{lo} TO {hi}] keeps {matched} documents; facet section over the matches of {term!r}")
print("  queries per CPU second of the timing thread (wall-clock QPS ratio in brackets)")
print(f"  {'hymir step':<22} {'lucene step':<28} {'hymir':>9} {'lucene':>9} {'ratio':>6} {'(wall)':>8}")
for hs, ls in [("range_count", "range_count"), ("range_top10", "range_top10"),
               ("query_filtered_top10", "range_query_filtered_top10"),
               ("query_filtered_count", "range_query_filtered_count"),
               ("facet_count", "facets_collect+count_top10"), ("facet_top10", "facets_top10+count_top10")]:
    if hs in h and ls in l:
        print(f"  {hs:<22} {ls:<28} {h[hs][0]:>9.1f} {l[ls][0]:>9.1f} {h[hs][0] / l[ls][0]:>5.2f}x "
              f"({h[hs][1] / l[ls][1]:>5.2f}x)")
EOF
echo "# done loadavg=$(cut -d' ' -f1 /proc/loadavg)"
