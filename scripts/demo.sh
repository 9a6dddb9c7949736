#!/usr/bin/env bash
# The main job: index the bundled sample collection (MED) with BM25 and the
# built-in LSA embedder, run example queries through the hybrid pipeline
# (BM25 + vectors, fused; each stage's score@rank shown), then evaluate the
# sample's 30 judged queries with BM25 alone and with hybrid retrieval.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
hymir=$here/build/bin/hymir
sample=$here/data/sample
work=${HYMIR_DEMO_DIR:-$(mktemp -d)}
index=$work/sample-index

rm -rf "$index"
echo "== hymir index (bundled sample: MED, $(wc -l <"$sample/corpus.jsonl") documents; BM25 + lsa:128 vectors)"
"$hymir" index --corpus "$sample/corpus.jsonl" --index "$index" --embed lsa:128 --threads "$(nproc)"

for q in "crystalline lens in vertebrates" \
         "electron microscopy of lung or bronchi" \
         "effects of drugs on the heart rhythm"; do
  echo
  echo "== hymir search --explain --query \"$q\""
  "$hymir" search --index "$index" --query "$q" --k 5 --explain
done

echo
echo "== the same judged queries through BM25 alone and through hybrid retrieval"
for r in bm25 hybrid; do
  "$hymir" search --index "$index" --queries "$sample/queries.jsonl" --qrels "$sample/qrels/test.tsv" \
    --run "$work/sample.$r.trec" --k 1000 --retriever "$r" 2>/dev/null
  printf "%-7s " "$r"
  "$hymir" eval --qrels "$sample/qrels/test.tsv" --run "$work/sample.$r.trec" |
    awk '$2=="all" && ($1=="ndcg_cut_10" || $1=="recall_100" || $1=="map") {printf "%s %s  ", $1, $3} END {print ""}'
done
echo
echo "index and runs kept in $work"
