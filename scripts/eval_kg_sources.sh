#!/usr/bin/env bash
# KG query expansion by source on the evaluation collections: BM25 alone and
# expanded with WordNet, the Gene Ontology, FOLDOC, all three in one KG
# (scripts/build_kg.sh), the graph mined from each collection (hymir kg mine,
# its related phrases followed), and all three plus the mined graph. Scored on
# each split that exists (train where there is one: choose on it; test:
# report); prints nDCG@10 per variant and split, macro over mixed's domains.
#   scripts/eval_kg_sources.sh [DATA_DIR] [WORK_DIR]
# Environment: MINED_FLAGS (default "--kg-relations mined:related_to
# --kg-neighbor-weight 0.05"), the flags of the runs that follow the mined graph.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/data}
work=${2:-$(mktemp -d)}
hymir=$here/build/bin/hymir
mined_flags=${MINED_FLAGS:---kg-relations mined:related_to --kg-neighbor-weight 0.05}
collections=${COLLECTIONS:-scifact cranfield cisi med cacm mixed}
sources=${HYMIR_KG_SOURCES:-/usr/local/share/hymir/kg-sources}
mkdir -p "$work"
echo "# data $data, work $work"
if [ ! -d "$work/all" ]; then
  HYMIR=$hymir "$here/scripts/build_kg.sh" "$work/all" >"$work/all.log" 2>&1
  "$hymir" kg load --kg "$work/wn" --wordnet /usr/share/wordnet >"$work/wn.log" 2>&1
  "$hymir" kg load --kg "$work/go" --go "$sources/GO.sqlite" >"$work/go.log" 2>&1
  "$hymir" kg load --kg "$work/foldoc" --foldoc "$sources/foldoc" >"$work/foldoc.log" 2>&1
fi
ndcg() {  # qrels run [flags]
  "$hymir" eval --qrels "$1" --run "$2" "${@:3}" | awk '$1=="ndcg_cut_10" && ($2=="all" || $2=="macro") {v=$3} END {print v}'
}
printf "%-10s %-6s" collection split
variants="none wn go foldoc all mined all+mined"
for v in $variants; do printf " %9s" "$v"; done
echo
for c in $collections; do
  d=$data/$c
  [ -f "$d/corpus.jsonl" ] || continue
  idx=$work/$c
  if [ ! -d "$idx" ]; then
    "$hymir" index --corpus "$d/corpus.jsonl" --index "$idx" --threads 2 >/dev/null 2>&1
    "$hymir" kg mine --index "$idx" --kg "$work/$c.mined" >"$work/$c.mine.log"
    cp -r "$work/all" "$work/$c.allmined"
    "$hymir" kg mine --index "$idx" --kg "$work/$c.allmined" >/dev/null
  fi
  extra=()
  [ "$c" = mixed ] && extra=(--per-domain --queries "$d/queries.jsonl")
  for split in train test; do
    q=$d/qrels/$split.tsv
    [ -f "$q" ] || continue
    printf "%-10s %-6s" "$c" "$split"
    for v in $variants; do
      kg=()
      # shellcheck disable=SC2206  # MINED_FLAGS is split into words on purpose
      case $v in
        none) ;;
        wn | go | foldoc | all) kg=(--kg "$work/$v") ;;
        mined) kg=(--kg "$work/$c.mined" $mined_flags) ;;
        all+mined) kg=(--kg "$work/$c.allmined" $mined_flags) ;;
      esac
      run=$work/$c.$split.$v.trec
      "$hymir" search --index "$idx" --queries "$d/queries.jsonl" --qrels "$q" --run "$run" --retriever bm25 \
        "${kg[@]}" 2>/dev/null
      printf " %9s" "$(ndcg "$q" "$run" "${extra[@]}")"
    done
    echo
  done
done
