#!/usr/bin/env bash
# Runs of two hymir builds on the bundled sample, compared: the same ranked
# documents per query and scores equal to 1e-9 (the library's Pipeline must
# not change what `hymir search`, `hymir serve`' page output and
# `hymir-mpi search` answer).
#
#   scripts/compare_runs.sh OLD_BIN_DIR NEW_BIN_DIR [WORK_DIR]
#
# OLD_BIN_DIR and NEW_BIN_DIR hold `hymir` (and `hymir-mpi`, optional). The
# index, KG and models are built once with the old binaries; every search runs
# with both. Exit 0 when every run and every one-query output agrees.
set -euo pipefail
old=$1
new=$2
work=${3:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
sample=$here/data/sample
mkdir -p "$work"
say() { printf '%s\n' "$*" >&2; }

if [[ ! -d $work/idx ]]; then
  say "building the index (lsa:32), KG and models with $old"
  "$old/hymir" index --corpus "$sample/corpus.jsonl" --index "$work/idx" --embed lsa:32 >/dev/null 2>&1
  printf 'ex:heart\thymir:alias\theart\nex:heart\thymir:alias\tcardiac\nex:lens\thymir:alias\tlens\nex:lens\thymir:alias\tcrystalline\nex:cancer\thymir:alias\tcancer\nex:cancer\thymir:alias\tneoplasm\nex:cancer\tex:related\tex:heart\n' >"$work/kg.tsv"
  "$old/hymir" kg load --kg "$work/kg" --tsv "$work/kg.tsv" >/dev/null 2>&1
  common=(--index "$work/idx" --queries "$sample/queries.jsonl" --qrels "$sample/qrels/test.tsv" --experts 4 --epochs 3 --depth 50)
  "$old/hymir" train "${common[@]}" --model "$work/m.moe" >/dev/null 2>&1
  "$old/hymir" train "${common[@]}" --kg "$work/kg" --model "$work/mkg.moe" >/dev/null 2>&1
fi

compare_runs() {  # A B: same docs in the same order per query, |score diff| <= 1e-9
  python3 - "$1" "$2" <<'EOF'
import sys
def read(p):
    runs = {}
    for line in open(p):
        q, _, d, r, s, _ = line.split()
        runs.setdefault(q, []).append((d, float(s)))
    return runs
a, b = read(sys.argv[1]), read(sys.argv[2])
if a.keys() != b.keys():
    sys.exit("different queries")
worst = 0.0
for q in a:
    if [d for d, _ in a[q]] != [d for d, _ in b[q]]:
        sys.exit("query %s: different documents or order" % q)
    worst = max([worst] + [abs(x - y) for (_, x), (_, y) in zip(a[q], b[q])])
if worst > 1e-9:
    sys.exit("largest score difference %g" % worst)
print("%d queries, %d hits, largest score difference %g" % (len(a), sum(len(v) for v in a.values()), worst))
EOF
}

fail=0
variants=(
  ""
  "--retriever bm25"
  "--retriever vector"
  "--fusion rrf"
  "--alpha 0.5"
  "--field text:2 --k1 1.2 --b 0.75"
  "--k 20 --offset 5"
  "--rerank $work/m.moe"
  "--rerank $work/m.moe --rerank-depth 30 --rerank-prior 0.5"
  "--kg $work/kg"
  "--kg $work/kg --kg-neighbor-weight 0.2 --kg-relations ex:related"
  "--kg $work/kg --no-expand --rerank $work/mkg.moe"
  "--kg $work/kg --rerank $work/mkg.moe"
)
for v in "${variants[@]}"; do
  # shellcheck disable=SC2086
  "$old/hymir" search --index "$work/idx" --queries "$sample/queries.jsonl" --run "$work/old.trec" $v 2>/dev/null
  # shellcheck disable=SC2086
  "$new/hymir" search --index "$work/idx" --queries "$sample/queries.jsonl" --run "$work/new.trec" $v 2>/dev/null
  if out=$(compare_runs "$work/old.trec" "$work/new.trec"); then
    say "search --queries ${v:-(defaults)}: equal ($out)"
  else
    say "search --queries ${v:-(defaults)}: DIFFERENT: $out"
    fail=1
  fi
  if [[ -f $work/old.trec.routing.tsv ]]; then
    if ! cmp -s "$work/old.trec.routing.tsv" "$work/new.trec.routing.tsv"; then
      say "  routing.tsv differs"
      fail=1
    fi
    rm -f "$work/old.trec.routing.tsv" "$work/new.trec.routing.tsv"
  fi
done

# One query: the printed hits (text, --explain and --json) are byte-identical.
one=(
  "--query lens"
  "--query lens --explain"
  "--query lens --json --explain"
  "--query cancer --kg $work/kg --explain"
  "--query cancer --kg $work/kg --rerank $work/mkg.moe --explain"
  "--query cancer --kg $work/kg --rerank $work/mkg.moe --json --explain"
  "--query heart --filter nosuch:x"
  "--query heart --filter nocolon"
  "--query heart --field text:heavy"
  "--query heart --rerank-prior 0.5 --rerank $work/mkg.moe"
)
for v in "${one[@]}"; do
  # shellcheck disable=SC2086
  "$old/hymir" search --index "$work/idx" $v >"$work/old.out" 2>"$work/old.err" || echo "exit $?" >>"$work/old.out"
  # shellcheck disable=SC2086
  "$new/hymir" search --index "$work/idx" $v >"$work/new.out" 2>"$work/new.err" || echo "exit $?" >>"$work/new.out"
  if cmp -s "$work/old.out" "$work/new.out" && cmp -s "$work/old.err" "$work/new.err"; then
    say "search ${v}: same output"
  else
    say "search ${v}: DIFFERENT output"
    diff "$work/old.out" "$work/new.out" >&2 || true
    diff "$work/old.err" "$work/new.err" >&2 || true
    fail=1
  fi
done

# `hymir index` (the library's IngestCorpus) writes the same index: the
# new search binary answers alike over the old and the new build's index,
# with entity linking (--kg) read back by the KG features of a re-ranker.
# One thread: with --threads 2 the documents' order differs from run to run
# and so do hybrid scores, by up to ~3e-8, with either build.
for b in old new; do
  if [[ ! -d $work/idx-kg-$b ]]; then
    bin=$old
    [[ $b == new ]] && bin=$new
    "$bin/hymir" index --corpus "$sample/corpus.jsonl" --index "$work/idx-kg-$b" --embed lsa:32 --kg "$work/kg" \
      --threads 1 >/dev/null 2>&1
  fi
done
for v in "" "--kg $work/kg --rerank $work/mkg.moe"; do
  for b in old new; do
    # shellcheck disable=SC2086
    "$new/hymir" search --index "$work/idx-kg-$b" --queries "$sample/queries.jsonl" --run "$work/$b.trec" $v 2>/dev/null
  done
  if out=$(compare_runs "$work/old.trec" "$work/new.trec"); then
    say "index --kg (old vs new build), search ${v:-(defaults)}: equal ($out)"
  else
    say "index --kg (old vs new build), search ${v:-(defaults)}: DIFFERENT: $out"
    fail=1
  fi
done

# hymir-mpi search on 2 shards, when both builds have it.
if [[ -x $old/hymir-mpi && -x $new/hymir-mpi ]] && command -v mpirun >/dev/null; then
  mpi=(mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np 2)
  if [[ ! -d $work/sharded ]]; then
    "${mpi[@]}" "$old/hymir-mpi" index --corpus "$sample/corpus.jsonl" --index "$work/sharded" --embed lsa:32 >/dev/null 2>&1
  fi
  for v in "" "--retriever bm25 --kg $work/kg" "--alpha 0.5" "--rerank $work/m.moe --rerank-depth 50"; do
    # shellcheck disable=SC2086
    "${mpi[@]}" "$old/hymir-mpi" search --index "$work/sharded" --queries "$sample/queries.jsonl" --run "$work/old.trec" $v >/dev/null 2>&1
    # shellcheck disable=SC2086
    "${mpi[@]}" "$new/hymir-mpi" search --index "$work/sharded" --queries "$sample/queries.jsonl" --run "$work/new.trec" $v >/dev/null 2>&1
    if out=$(compare_runs "$work/old.trec" "$work/new.trec"); then
      say "hymir-mpi search ${v:-(defaults)}: equal ($out)"
    else
      say "hymir-mpi search ${v:-(defaults)}: DIFFERENT: $out"
      fail=1
    fi
  done
  # `hymir-mpi index` (the library's dist::IngestCorpus) writes the same
  # shards: with entity linking and periodic commits, the new search binary
  # answers alike over the old and the new build's sharded index, and every
  # shard holds the same number of documents.
  for b in old new; do
    if [[ ! -d $work/sharded-kg-$b ]]; then
      bin=$old
      [[ $b == new ]] && bin=$new
      "${mpi[@]}" "$bin/hymir-mpi" index --corpus "$sample/corpus.jsonl" --index "$work/sharded-kg-$b" --embed lsa:32 \
        --kg "$work/kg" --commit-every 300 >"$work/index-$b.out" 2>&1
    fi
  done
  counts() { grep '^indexed' "$1" | sed 's/ in [0-9.]* s ([0-9]* docs\/s)//'; }
  if [[ -n $(counts "$work/index-new.out") && $(counts "$work/index-old.out") == $(counts "$work/index-new.out") ]]; then
    say "hymir-mpi index --kg (old vs new build): same documents per shard ($(counts "$work/index-new.out" | sed 's/.*live/live/'))"
  else
    say "hymir-mpi index --kg (old vs new build): DIFFERENT report"
    cat "$work/index-old.out" "$work/index-new.out" >&2
    fail=1
  fi
  for v in "" "--retriever bm25" "--kg $work/kg --rerank $work/mkg.moe"; do
    for b in old new; do
      # shellcheck disable=SC2086
      "${mpi[@]}" "$new/hymir-mpi" search --index "$work/sharded-kg-$b" --queries "$sample/queries.jsonl" \
        --run "$work/$b.trec" $v >/dev/null 2>&1
    done
    if out=$(compare_runs "$work/old.trec" "$work/new.trec"); then
      say "hymir-mpi index --kg (old vs new build), search ${v:-(defaults)}: equal ($out)"
    else
      say "hymir-mpi index --kg (old vs new build), search ${v:-(defaults)}: DIFFERENT: $out"
      fail=1
    fi
  done
fi
exit $fail
