#!/usr/bin/env bash
# Knowledge fusion, zero judgements: per collection, `hymir pretrain` without
# the KG and with it in each way (KgUses: expand, features, gate,
# pseudo-queries), then `hymir search --rerank` (with --kg for the KG
# models; --no-expand when expansion is not one of the uses); nDCG@10 on
# SPLIT. Every variant is measured in the same run against "none".
#   scripts/eval_kg_fusion.sh KG [SPLIT]
# KG: the combined KG of scripts/build_kg.sh. SPLIT: test (each collection's
# test qrels) or select (mixed's TRAIN queries of the collection; settings are
# chosen there). VARIANTS="name=uses ..." (uses as --kg-uses takes them;
# "none" runs without --kg); COLLECTIONS, WORK (indexes are built there with
# `hymir index --embed lsa:256 --kg KG`, kept between runs), PRETRAIN_FLAGS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${DATA:-$here/../shared/data}
work=${WORK:-/tmp/kgfuse-eval}
hymir=${HYMIR_BIN:-$here/build/bin}/hymir
kg=${1:?usage: eval_kg_fusion.sh KG [SPLIT]}
split=${2:-test}
cols=${COLLECTIONS:-cranfield cisi med cacm scifact}
variants=${VARIANTS:-none=none all=default}
# shellcheck disable=SC2206  # split into words on purpose
pflags=(${PRETRAIN_FLAGS:-})
mkdir -p "$work/qrels"
qrels_of() {  # collection -> the qrels file of this split
  case $split in
    test) echo "$data/$1/qrels/test.tsv" ;;
    select)
      local f=$work/qrels/$1.train.tsv
      { printf 'query-id\tcorpus-id\tscore\n'; grep "^$1:" "$data/mixed/qrels/train.tsv" | sed "s/^$1://; s/\t$1:/\t/"; } >"$f"
      echo "$f" ;;
    *) echo "unknown split $split" >&2; exit 2 ;;
  esac
}
ndcg() { "$hymir" eval --qrels "$2" --run "$1" | awk '$1=="ndcg_cut_10" && $2=="all"{print $3}'; }
printf "%-10s" collection; for v in $variants; do printf " %10s" "${v%%=*}"; done; echo
for c in $cols; do
  d=$data/$c
  idx=$work/$c
  if [ ! -f "$idx/.indexed" ]; then
    rm -rf "$idx"
    "$hymir" index --corpus "$d/corpus.jsonl" --index "$idx" --embed lsa:256 --kg "$kg" --threads 2 >/dev/null 2>&1
    touch "$idx/.indexed"
  fi
  q=$(qrels_of "$c")
  printf "%-10s" "$c"
  for v in $variants; do
    name=${v%%=*} uses=${v#*=}
    model=$work/$c.$name.moe
    kgf=() sflags=()
    if [ "$uses" != none ]; then
      kgf=(--kg "$kg")
      sflags=(--kg "$kg")
      case ",$uses," in *,expand,* | ,default,) ;; *) sflags+=(--no-expand) ;; esac
      [ "$uses" = default ] || kgf+=(--kg-uses "$uses")
    fi
    if [ ! -f "$model" ]; then
      "$hymir" pretrain --index "$idx" --model "$model" "${kgf[@]}" "${pflags[@]}" >"$work/$c.$name.log" 2>&1
    fi
    "$hymir" search --index "$idx" --queries "$d/queries.jsonl" --qrels "$q" --k 100 --rerank "$model" \
      "${sflags[@]}" --run "$work/$c.$name.$split.trec" >/dev/null 2>&1
    printf " %10.4f" "$(ndcg "$work/$c.$name.$split.trec" "$q")"
  done
  echo
done
