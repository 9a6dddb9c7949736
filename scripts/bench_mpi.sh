#!/usr/bin/env bash
# Sharded indexing and search on MPI against one index, in the same run:
# indexes a BEIR corpus with `hymir index` (one index) and with
# `hymir-mpi index` on 1 and 2 ranks, runs every query (BM25, k = 1000)
# through each, checks that the sharded runs equal the single index's, and
# prints times with ratios to the single index.
#   [K=1000] scripts/bench_mpi.sh ../shared/data/mixed [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: bench_mpi.sh BEIR_DIR [WORKDIR]}
work=${2:-$(mktemp -d)}
k=${K:-1000}  # hits per query
bin=$here/build/bin
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

rm -rf "$work/single" "$work/np1" "$work/np2"
rm -rf "$work/single2"
t0=$(now); "$bin/hymir" index --corpus "$data/corpus.jsonl" --index "$work/single2" --threads 2 >/dev/null 2>&1; t1=$(now)
i_threads2=$(secs "$t0" "$t1")
t0=$(now); "$bin/hymir" index --corpus "$data/corpus.jsonl" --index "$work/single" --threads 1 >/dev/null 2>&1; t1=$(now)
"${mpirun[@]}" -np 1 "$bin/hymir-mpi" index --corpus "$data/corpus.jsonl" --index "$work/np1" >/dev/null; t2=$(now)
"${mpirun[@]}" -np 2 "$bin/hymir-mpi" index --corpus "$data/corpus.jsonl" --index "$work/np2"; t3=$(now)
i_single=$(secs "$t0" "$t1"); i_np1=$(secs "$t1" "$t2"); i_np2=$(secs "$t2" "$t3")

t0=$(now); "$bin/hymir" search --index "$work/single" --queries "$data/queries.jsonl" --run "$work/single.trec" \
  --retriever bm25 --k "$k" 2>/dev/null; t1=$(now)
"${mpirun[@]}" -np 1 "$bin/hymir-mpi" search --index "$work/np1" --queries "$data/queries.jsonl" --run "$work/np1.trec" --k "$k" 2>/dev/null; t2=$(now)
"${mpirun[@]}" -np 2 "$bin/hymir-mpi" search --index "$work/np2" --queries "$data/queries.jsonl" --run "$work/np2.trec" --k "$k" 2>/dev/null; t3=$(now)
s_single=$(secs "$t0" "$t1"); s_np1=$(secs "$t1" "$t2"); s_np2=$(secs "$t2" "$t3")

same() {  # the same scores per query (within 1e-9 relative)? Documents tied at the cut-off may differ.
  paste -d' ' <(awk '{print $1, $5}' "$1" | sort -k1,1 -k2,2g) <(awk '{print $1, $5}' "$2" | sort -k1,1 -k2,2g) |
    awk '$1 != $3 || ($2 - $4) > 1e-9 * ($4 > 1 ? $4 : 1) || ($4 - $2) > 1e-9 * ($4 > 1 ? $4 : 1) {bad = 1}
         END {print (bad || NR == 0) ? "NO" : "yes"}'
  [ "$(wc -l <"$1")" -eq "$(wc -l <"$2")" ] || echo "(line counts differ)"
}
queries=$(wc -l <"$data/queries.jsonl")
echo
echo "corpus $(wc -l <"$data/corpus.jsonl") docs, $queries queries, BM25 top $k; wall seconds (whole command, process start included)"
printf "%-28s %8s %8s %8s %s\n" "" index ratio search "ratio  scores equal to one index's"
printf "%-28s %8s %8s %8s %s\n" "hymir (one index, 1 thread)" "$i_single" 1.00 "$s_single" "1.00   -"
printf "%-28s %8s %8s\n" "hymir (one index, 2 threads)" "$i_threads2" "$(ratio "$i_threads2" "$i_single")"
printf "%-28s %8s %8s %8s %s   %s\n" "hymir-mpi, 1 rank" "$i_np1" "$(ratio "$i_np1" "$i_single")" "$s_np1" \
  "$(ratio "$s_np1" "$s_single")" "$(same "$work/np1.trec" "$work/single.trec")"
printf "%-28s %8s %8s %8s %s   %s\n" "hymir-mpi, 2 ranks (shards)" "$i_np2" "$(ratio "$i_np2" "$i_single")" "$s_np2" \
  "$(ratio "$s_np2" "$s_single")" "$(same "$work/np2.trec" "$work/single.trec")"
