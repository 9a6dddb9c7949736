#!/usr/bin/env bash
# Structured search on MPI against one index, in the same run: indexes a
# corpus with a schema (DIR/corpus.jsonl, DIR/schema.json) with `hymir index`
# and with `hymir-mpi index` on 2 ranks, runs generated query-language
# queries (bench/structured/make_queries.py) through both with --counts and
# facets, checks that the totals are equal and the scores equal within 1e-9,
# and prints wall and CPU times with ratios to the single index.
#   scripts/bench_mpi_structured.sh DIR [WORKDIR]
# env: N (queries, default 1000), K (hits per query, default 10),
#      FACETS (facet flags; default: section, maintainer:20, tag:10, priority, the
#      facetable fields of scripts/debian_schema.json)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: bench_mpi_structured.sh DIR_WITH_CORPUS_AND_SCHEMA [WORKDIR]}
work=${2:-$(mktemp -d)}
n=${N:-1000}
k=${K:-10}
facets=${FACETS:---facet section --facet maintainer:20 --facet tag:10 --facet priority}
bin=$here/build/bin
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "-"}'; }

mkdir -p "$work"
rm -rf "$work/single" "$work/np2"
python3 "$here/bench/structured/make_queries.py" --corpus "$data/corpus.jsonl" --schema "$data/schema.json" \
  --out "$work/queries.jsonl" --n "$n" >/dev/null
t0=$(now); "$bin/hymir" index --corpus "$data/corpus.jsonl" --index "$work/single" --schema "$data/schema.json" \
  --threads 1 >/dev/null 2>&1; t1=$(now)
"${mpirun[@]}" -np 2 "$bin/hymir-mpi" index --corpus "$data/corpus.jsonl" --index "$work/np2" \
  --schema "$data/schema.json" >/dev/null; t2=$(now)
i_single=$(secs "$t0" "$t1"); i_np2=$(secs "$t1" "$t2")

cpu() { awk '{printf "%.2f", $1 + $2}' "$1"; }  # user + system seconds written by /usr/bin/time
search() {  # NAME EXTRA_FLAGS...: both sides, wall times in s_single / s_np2, CPU in c_single / c_np2
  local name=$1
  shift
  t0=$(now)
  /usr/bin/time -f "%U %S" -o "$work/cpu.single" "$bin/hymir" search --index "$work/single" --syntax lucene \
    --queries "$work/queries.jsonl" --k "$k" --run "$work/single.$name.trec" --counts "$work/single.$name.counts" \
    "$@" 2>/dev/null
  t1=$(now)
  /usr/bin/time -f "%U %S" -o "$work/cpu.np2" "${mpirun[@]}" -np 2 "$bin/hymir-mpi" search --index "$work/np2" \
    --syntax lucene --queries "$work/queries.jsonl" --k "$k" --run "$work/np2.$name.trec" \
    --counts "$work/np2.$name.counts" "$@" 2>/dev/null
  t2=$(now)
  s_single=$(secs "$t0" "$t1")
  s_np2=$(secs "$t1" "$t2")
  c_single=$(cpu "$work/cpu.single")
  c_np2=$(cpu "$work/cpu.np2")
}
same_scores() {  # the same scores per query (within 1e-9 relative)? Documents tied at the cut-off may differ.
  paste -d' ' <(awk '{print $1, $5}' "$1" | sort -k1,1 -k2,2g) <(awk '{print $1, $5}' "$2" | sort -k1,1 -k2,2g) |
    awk '$1 != $3 || ($2 - $4) > 1e-9 * ($4 > 1 ? $4 : 1) || ($4 - $2) > 1e-9 * ($4 > 1 ? $4 : 1) {bad = 1}
         END {print (bad || NR == 0) ? "NO" : "yes"}'
}
same_counts() { cmp -s "$1" "$2" && echo yes || echo NO; }

search plain
p_single=$s_single p_np2=$s_np2 pc_single=$c_single pc_np2=$c_np2
plain_scores=$(same_scores "$work/np2.plain.trec" "$work/single.plain.trec")
plain_counts=$(same_counts "$work/np2.plain.counts" "$work/single.plain.counts")
# shellcheck disable=SC2086
search facets $facets
f_single=$s_single f_np2=$s_np2 fc_single=$c_single fc_np2=$c_np2
facet_scores=$(same_scores "$work/np2.facets.trec" "$work/single.facets.trec")
facet_counts=$(same_counts "$work/np2.facets.counts" "$work/single.facets.counts")

echo
echo "corpus $(wc -l <"$data/corpus.jsonl") docs, $(wc -l <"$work/queries.jsonl") queries (query language), top $k;"
echo "wall seconds and CPU seconds (user + system, every rank) of the whole command (process start and"
echo "mpirun's launch included)"
printf "%-28s %8s %8s %6s  %8s %8s %6s  %s\n" "" wall "" "" cpu "" "" ""
printf "%-28s %8s %8s %6s  %8s %8s %6s  %s\n" "" single 2-shard ratio single 2-shard ratio "totals equal, scores equal"
printf "%-28s %8s %8s %6s\n" "index --schema" "$i_single" "$i_np2" "$(ratio "$i_np2" "$i_single")"
printf "%-28s %8s %8s %6s  %8s %8s %6s  %s, %s\n" "search --counts" "$p_single" "$p_np2" "$(ratio "$p_np2" "$p_single")" \
  "$pc_single" "$pc_np2" "$(ratio "$pc_np2" "$pc_single")" "$plain_counts" "$plain_scores"
printf "%-28s %8s %8s %6s  %8s %8s %6s  %s, %s\n" "search --counts + facets" "$f_single" "$f_np2" \
  "$(ratio "$f_np2" "$f_single")" "$fc_single" "$fc_np2" "$(ratio "$fc_np2" "$fc_single")" "$facet_counts" "$facet_scores"
printf "%-28s %8s %8s %6s  %8s %8s %6s\n" "the facets' extra time" "$(secs "$p_single" "$f_single")" \
  "$(secs "$p_np2" "$f_np2")" "$(ratio "$(secs "$p_np2" "$f_np2")" "$(secs "$p_single" "$f_single")")" \
  "$(secs "$pc_single" "$fc_single")" "$(secs "$pc_np2" "$fc_np2")" \
  "$(ratio "$(secs "$pc_np2" "$fc_np2")" "$(secs "$pc_single" "$fc_single")")"
