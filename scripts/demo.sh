#!/usr/bin/env bash
# The main job: index the bundled sample collection (MED), run example queries
# through the pipeline, print ranked hits with scores, then evaluate all of
# the sample's judged queries.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
hymir=$here/build/bin/hymir
sample=$here/data/sample
work=${HYMIR_DEMO_DIR:-$(mktemp -d)}
index=$work/sample-index

rm -rf "$index"
echo "== hymir index (bundled sample: MED, $(wc -l <"$sample/corpus.jsonl") documents)"
"$hymir" index --corpus "$sample/corpus.jsonl" --index "$index" --threads "$(nproc)"

for q in "crystalline lens in vertebrates" \
         "electron microscopy of lung or bronchi" \
         "effects of drugs on the heart rhythm"; do
  echo
  echo "== hymir search --query \"$q\""
  "$hymir" search --index "$index" --query "$q" --k 5
done

echo
echo "== hymir search --queries (30 judged queries) -> TREC run, then hymir eval"
"$hymir" search --index "$index" --queries "$sample/queries.jsonl" --qrels "$sample/qrels/test.tsv" \
  --run "$work/sample.trec" --k 1000
"$hymir" eval --qrels "$sample/qrels/test.tsv" --run "$work/sample.trec"
echo
echo "index and run kept in $work"
