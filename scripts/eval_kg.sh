#!/usr/bin/env bash
# KG query expansion (WordNet) on the evaluation collections: BM25 without and
# with `--kg` expansion (BM25 only: expansion adds weighted BM25 terms), scored
# on each collection's TEST split. Prints nDCG@10 and Recall@100 of both and
# the difference; for mixed also the per-domain and macro nDCG@10.
#   scripts/eval_kg.sh [DATA_DIR] [WORK_DIR]
# Environment: WORDNET (default /usr/share/wordnet); KG_FLAGS, extra `hymir
# search` flags for the expanded runs only (default none: the library's
# expansion defaults), e.g. KG_FLAGS="--kg-synonym-weight 0.1".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/data}
work=${2:-$(mktemp -d)}
hymir=$here/build/bin/hymir
wordnet=${WORDNET:-/usr/share/wordnet}
kg_flags=${KG_FLAGS:-}
collections="scifact cranfield cisi med cacm mixed"

echo "# data $data, work $work; commands (C in: $collections):"
echo "#   $hymir kg load --kg $work/wn --wordnet $wordnet"
echo "#   $hymir index --corpus $data/C/corpus.jsonl --index $work/C --threads 2"
echo "#   $hymir search --index $work/C --queries $data/C/queries.jsonl --qrels $data/C/qrels/test.tsv" \
  "--run $work/C.bm25.trec --retriever bm25"
echo "#   $hymir search --index $work/C --queries $data/C/queries.jsonl --qrels $data/C/qrels/test.tsv" \
  "--run $work/C.kg.trec --retriever bm25 --kg $work/wn${kg_flags:+ $kg_flags}"
echo "#   $hymir eval --qrels $data/C/qrels/test.tsv --run $work/C.{bm25,kg}.trec"
echo "#   $hymir eval --qrels $data/mixed/qrels/test.tsv --run $work/mixed.{bm25,kg}.trec --per-domain" \
  "--queries $data/mixed/queries.jsonl"
echo

mkdir -p "$work"
rm -rf "$work/wn"
"$hymir" kg load --kg "$work/wn" --wordnet "$wordnet" >"$work/wn.log" 2>&1 || { cat "$work/wn.log" >&2; exit 1; }

# metric values of a run: "<metric> <scope> <value>" lines
scores() {  # qrels run [eval flags...]
  "$hymir" eval --qrels "$1" --run "$2" "${@:3}" | awk '{print $1, $2, $3}'
}
pick() {  # file metric scope
  awk -v m="$2" -v s="$3" '$1==m && $2==s {print $3}' "$1"
}

printf "%-10s %7s | %8s %8s %8s | %8s %8s %8s\n" collection queries "nDCG@10" "+KG" delta "R@100" "+KG" delta
for c in $collections; do
  d=$data/$c
  [ -f "$d/corpus.jsonl" ] || { echo "skip $c: $d absent"; continue; }
  idx=$work/$c
  rm -rf "$idx"
  "$hymir" index --corpus "$d/corpus.jsonl" --index "$idx" --threads 2 >/dev/null 2>&1
  extra=()
  [ "$c" = mixed ] && extra=(--per-domain --queries "$d/queries.jsonl")
  for v in bm25 kg; do
    kg=()
    # shellcheck disable=SC2206  # KG_FLAGS is split into words on purpose
    [ "$v" = kg ] && kg=(--kg "$work/wn" $kg_flags)
    "$hymir" search --index "$idx" --queries "$d/queries.jsonl" --qrels "$d/qrels/test.tsv" \
      --run "$work/$c.$v.trec" --retriever bm25 "${kg[@]}" 2>/dev/null
    scores "$d/qrels/test.tsv" "$work/$c.$v.trec" "${extra[@]}" >"$work/$c.$v.eval"
  done
  a=$work/$c.bm25.eval b=$work/$c.kg.eval
  n0=$(pick "$a" ndcg_cut_10 all) n1=$(pick "$b" ndcg_cut_10 all)
  r0=$(pick "$a" recall_100 all) r1=$(pick "$b" recall_100 all)
  awk -v c="$c" -v q="$(pick "$a" num_q all)" -v n0="$n0" -v n1="$n1" -v r0="$r0" -v r1="$r1" \
    'BEGIN{printf "%-10s %7d | %8.4f %8.4f %+8.4f | %8.4f %8.4f %+8.4f\n", c, q, n0, n1, n1-n0, r0, r1, r1-r0}'
  if [ "$c" = mixed ]; then
    for s in $(awk '$1=="ndcg_cut_10" && $2 ~ /^domain:/ {print $2}' "$a") macro; do
      awk -v c="  $s" -v n0="$(pick "$a" ndcg_cut_10 "$s")" -v n1="$(pick "$b" ndcg_cut_10 "$s")" \
        -v r0="$(pick "$a" recall_100 "$s")" -v r1="$(pick "$b" recall_100 "$s")" \
        'BEGIN{printf "%-18s | %8.4f %8.4f %+8.4f | %8.4f %8.4f %+8.4f\n", c, n0, n1, n1-n0, r0, r1, r1-r0}'
    done
  fi
done
