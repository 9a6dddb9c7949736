#!/usr/bin/env bash
# Sweeps KG query expansion (WordNet) settings on TRAIN splits only: mixed
# (qrels/train.tsv, macro nDCG@10 over its five domains) and scifact
# (qrels/train.tsv). BM25 only. Test splits are never read.
#   scripts/tune_kg_expansion.sh [DATA_DIR] [WORK_DIR]
# Grid: synonym weight {0.05,0.1,0.2,0.3} x neighbour weight {0,0.05,0.1} x
# relations {wn:hypernym+wn:similar_to, wn:hypernym} (only when the neighbour
# weight is > 0) x max terms {5,10}.
# Selection rule: among the settings that lower neither mixed train macro
# nDCG@10 nor scifact train nDCG@10 (delta >= 0 against plain BM25), the one
# with the highest mixed train macro nDCG@10; ties go to the smaller weights
# (the earlier row). Prints "best: ..." or "best: none".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/data}
work=${2:-$(mktemp -d)}
hymir=$here/build/bin/hymir
wordnet=${WORDNET:-/usr/share/wordnet}
syn_grid="0.05 0.1 0.2 0.3"
nb_grid="0 0.05 0.1"
rel_grid="wn:hypernym,wn:similar_to wn:hypernym"
max_grid="5 10"

for c in mixed scifact; do
  [ -f "$data/$c/qrels/train.tsv" ] || { echo "$data/$c/qrels/train.tsv absent" >&2; exit 1; }
done
echo "# data $data, work $work; commands (C in: mixed scifact; TRAIN split only):"
echo "#   $hymir kg load --kg $work/wn --wordnet $wordnet"
echo "#   $hymir index --corpus $data/C/corpus.jsonl --index $work/C --threads 2"
echo "#   $hymir search --index $work/C --queries $data/C/queries.jsonl --qrels $data/C/qrels/train.tsv" \
  "--run $work/C.<setting>.trec --retriever bm25 [--kg $work/wn --kg-synonym-weight S --kg-neighbor-weight N" \
  "--kg-relations R --kg-max-terms M]"
echo "#   $hymir eval --qrels $data/C/qrels/train.tsv --run $work/C.<setting>.trec" \
  "[--per-domain --queries $data/mixed/queries.jsonl  (mixed)]"
echo

mkdir -p "$work"
rm -rf "$work/wn"
"$hymir" kg load --kg "$work/wn" --wordnet "$wordnet" >"$work/wn.log" 2>&1 || { cat "$work/wn.log" >&2; exit 1; }
for c in mixed scifact; do
  rm -rf "${work:?}/$c"
  "$hymir" index --corpus "$data/$c/corpus.jsonl" --index "$work/$c" --threads 2 >/dev/null 2>&1
done

# One setting on both collections; prints "mixed_all macro cacm cisi cranfield med scifact scifact_train".
measure() {  # name [search flags...]
  local name=$1 out=""
  shift
  for c in mixed scifact; do
    local d=$data/$c extra=()
    [ "$c" = mixed ] && extra=(--per-domain --queries "$d/queries.jsonl")
    "$hymir" search --index "$work/$c" --queries "$d/queries.jsonl" --qrels "$d/qrels/train.tsv" \
      --run "$work/$c.$name.trec" --retriever bm25 "$@" 2>/dev/null
    out+=$("$hymir" eval --qrels "$d/qrels/train.tsv" --run "$work/$c.$name.trec" "${extra[@]}" |
      awk -v c="$c" '$1=="ndcg_cut_10" {v[$2]=$3}
        END {if (c=="mixed") printf "%s %s %s %s %s %s %s ", v["all"], v["macro"], v["domain:cacm"],
               v["domain:cisi"], v["domain:cranfield"], v["domain:med"], v["domain:scifact"];
             else printf "%s", v["all"]}')
  done
  echo "$out"
}

base=$(measure bm25)
echo "train nDCG@10 deltas against plain BM25 (mixed: 1000 queries, macro over 5 domains; scifact: 809 queries)"
printf "%-5s %-5s %-26s %-3s | %7s %7s %8s | %7s %7s %7s %7s %7s | %8s\n" syn nbr relations max "mixed" macro "d.macro" \
  "d.cacm" "d.cisi" "d.cran" "d.med" "d.scif" "d.scifact"
echo "$base" | awk '{printf "%-5s %-5s %-26s %-3s | %7.4f %7.4f %8s | %7s %7s %7s %7s %7s | %8.4f\n",
  "-", "-", "(plain BM25)", "-", $1, $2, "-", "-", "-", "-", "-", "-", $8}'
: >"$work/sweep.tsv"
for s in $syn_grid; do
  for n in $nb_grid; do
    rels=$rel_grid
    [ "$n" = 0 ] && rels=none
    for r in $rels; do
      for m in $max_grid; do
        name="s$s.n$n.r${r//[:,]/_}.m$m"
        got=$(measure "$name" --kg "$work/wn" --kg-synonym-weight "$s" --kg-neighbor-weight "$n" \
          --kg-relations "$r" --kg-max-terms "$m")
        echo "$s $n $r $m $got $base" | awk '{
          printf "%-5s %-5s %-26s %-3s | %7.4f %7.4f %+8.4f | %+7.4f %+7.4f %+7.4f %+7.4f %+7.4f | %+8.4f\n",
            $1, $2, $3, $4, $5, $6, $6-$14, $7-$15, $8-$16, $9-$17, $10-$18, $11-$19, $12-$20}'
        echo "$s $n $r $m $got $base" | awk -v OFS='\t' '{print $1, $2, $3, $4, $6, $6-$14, $12-$20}' >>"$work/sweep.tsv"
      done
    done
  done
done
# columns: syn nbr relations max macro d.macro d.scifact
awk -F'\t' '$6 >= 0 && $7 >= 0 && (!found || $5 > best) {found=1; best=$5; line=$0}
  END {if (!found) {print "best: none (every setting lowers a train figure)"; exit}
       split(line, f, "\t");
       printf "best: --kg-synonym-weight %s --kg-neighbor-weight %s --kg-relations %s --kg-max-terms %s" \
              " (train: mixed macro nDCG@10 %.4f, %+.4f; scifact nDCG@10 %+.4f)\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7]}' \
  "$work/sweep.tsv"
