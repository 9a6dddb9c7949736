#!/usr/bin/env bash
# The main job: index the bundled sample collection (MED) with BM25 and the
# built-in LSA embedder, run example queries through the hybrid pipeline
# (BM25 + vectors, fused; each stage's score@rank shown), evaluate the
# sample's 30 judged queries with BM25 alone and with hybrid retrieval, load
# WordNet into the knowledge graph and show KG query expansion, pre-train the
# re-ranker without judgements, then fine-tune the
# MoE re-ranker on half of the judged queries and run the other half through
# the whole pipeline (retrieve, fuse, re-rank; experts and features explained),
# run a faceted search over the machine's Debian package list (typed fields),
# search the collection split over two MPI ranks, and ask the HTTP service
# one question.
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

q='"crystalline lens" +protein* -bovine'
echo
echo "== hymir search --syntax lucene --total --query '$q' (a phrase, a required prefix, an excluded term)"
"$hymir" search --index "$index" --syntax lucene --total --query "$q" --k 3

echo
echo "== the same judged queries through BM25 alone and through hybrid retrieval"
for r in bm25 hybrid; do
  "$hymir" search --index "$index" --queries "$sample/queries.jsonl" --qrels "$sample/qrels/test.tsv" \
    --run "$work/sample.$r.trec" --k 1000 --retriever "$r" 2>/dev/null
  printf "%-7s " "$r"
  "$hymir" eval --qrels "$sample/qrels/test.tsv" --run "$work/sample.$r.trec" |
    awk '$2=="all" && ($1=="ndcg_cut_10" || $1=="recall_100" || $1=="map") {printf "%s %s  ", $1, $3} END {print ""}'
done

if [ -d /usr/share/wordnet ]; then
  echo
  echo "== hymir kg load --wordnet /usr/share/wordnet (the knowledge graph, RocksDB)"
  rm -rf "$work/kg"
  "$hymir" kg load --kg "$work/kg" --wordnet /usr/share/wordnet 2>/dev/null
  kg_flag=" --kg $work/kg"
  q="cancer of the blood cells"
  echo
  echo "== hymir search --kg --explain --query \"$q\" (WordNet expansion, shown on stderr)"
  "$hymir" search --index "$index" --query "$q" --k 3 --explain --kg "$work/kg" 2>&1
fi

# The MoE re-ranker: trained on the odd-numbered judged queries, shown and
# evaluated on the even-numbered ones (15 + 15 queries: a demonstration of the
# pipeline, not a quality figure -- see bench/results/ for those).
awk -F'\t' 'NR==1 || $1 % 2 == 1' "$sample/qrels/test.tsv" >"$work/train.tsv"
awk -F'\t' 'NR==1 || $1 % 2 == 0' "$sample/qrels/test.tsv" >"$work/heldout.tsv"
echo
echo "== hymir pretrain: no judgements, 600 pseudo-queries made from the sample's own documents"
"$hymir" pretrain --index "$index" --model "$work/pre.model" --queries 600 2>/dev/null
echo
echo "== hymir train --init (fine-tune the pre-trained model) on 15 of the judged queries"
"$hymir" train --index "$index" --queries "$sample/queries.jsonl" --qrels "$work/train.tsv" \
  --model "$work/moe.model" --validation 0.2 --init "$work/pre.model" 2>/dev/null
q=$(awk -F'"' '/"_id": "2"/ {print $8; exit}' "$sample/queries.jsonl")
echo
echo "== hymir search --rerank --explain (held-out query 2: \"${q:0:60}...\")"
"$hymir" search --index "$index" --query "$q" --k 3 --rerank "$work/moe.model" --explain
echo
echo "== held-out queries: hybrid vs hybrid + pre-trained MoE (no judgements) vs + fine-tuned MoE"
"$hymir" search --index "$index" --queries "$sample/queries.jsonl" --qrels "$work/heldout.tsv" \
  --run "$work/heldout.hybrid.trec" --k 1000 2>/dev/null
"$hymir" search --index "$index" --queries "$sample/queries.jsonl" --qrels "$work/heldout.tsv" \
  --run "$work/heldout.pre.trec" --k 1000 --rerank "$work/pre.model" 2>/dev/null
"$hymir" search --index "$index" --queries "$sample/queries.jsonl" --qrels "$work/heldout.tsv" \
  --run "$work/heldout.moe.trec" --k 1000 --rerank "$work/moe.model" 2>/dev/null
for r in hybrid pre moe; do
  printf "%-7s " "$r"
  "$hymir" eval --qrels "$work/heldout.tsv" --run "$work/heldout.$r.trec" |
    awk '$2=="all" && ($1=="ndcg_cut_10" || $1=="recall_100" || $1=="map") {printf "%s %s  ", $1, $3} END {print ""}'
done

# Structured search on real data: this machine's Debian package list
# (apt-cache dumpavail) as a corpus with typed fields, made here and not
# kept in the repository. Synopses only (the long descriptions need a
# download: scripts/debian_corpus.py --fetch-translations). HYMIR_DEMO_PACKAGES=N
# keeps every k-th package so that about N remain (a deterministic subset).
if command -v apt-cache >/dev/null && [ -n "$(apt-cache dumpavail 2>/dev/null | head -c1)" ]; then
  echo
  echo "== Debian packages as a corpus with typed fields (scripts/debian_corpus.py; schema: scripts/debian_schema.json)"
  rm -rf "$work/debian" "$work/debian-index"
  python3 "$here/scripts/debian_corpus.py" --out "$work/debian" --no-translations 2>&1 | grep -v '^warning' || true
  if [ -n "${HYMIR_DEMO_PACKAGES:-}" ]; then
    total=$(wc -l <"$work/debian/corpus.jsonl")
    step=$(( (total + HYMIR_DEMO_PACKAGES - 1) / HYMIR_DEMO_PACKAGES ))
    awk -v s="$step" 'NR % s == 1 || s == 1' "$work/debian/corpus.jsonl" >"$work/debian/subset.jsonl"
    mv "$work/debian/subset.jsonl" "$work/debian/corpus.jsonl"
    echo "(a subset: every ${step}th package, $(wc -l <"$work/debian/corpus.jsonl") of $total)"
  fi
  "$hymir" index --corpus "$work/debian/corpus.jsonl" --index "$work/debian-index" \
    --schema "$work/debian/schema.json" --threads "$(nproc)"
  pkg=("$hymir" search --index "$work/debian-index" --syntax lucene)
  q='"image editor"'
  echo
  echo "== hymir search --syntax lucene --query '$q' --facet section --facet tag:6 (counts over every match)"
  "${pkg[@]}" --query "$q" --facet section:6 --facet tag:6 --k 5
  q='"image editor" AND installed_size:[* TO 10000]'
  echo
  echo "== the same, installed size at most 10,000 KiB, largest first: --query '$q' --sort installed_size:desc"
  "${pkg[@]}" --query "$q" --sort installed_size:desc --facet section:6 --k 5
  # The sort key of those hits, read back from the corpus.
  "${pkg[@]}" --query "$q" --sort installed_size:desc --k 5 --json | python3 -c '
import json, sys
hits = [h["id"] for h in json.load(sys.stdin)["hits"]]
sizes = {}
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    if d["_id"] in hits:
        sizes[d["_id"]] = d.get("installed_size")
print("installed_size (KiB):", ", ".join(f"{i} {sizes.get(i)}" for i in hits))' "$work/debian/corpus.jsonl"
  q='editor AND section:graphics AND tag:"works-with::image"'
  echo
  echo "== keyword fields in the query, smallest .deb first: --query '$q' --sort size --facet priority --facet architecture"
  "${pkg[@]}" --query "$q" --sort size:asc --facet priority --facet architecture --k 5
fi

# Sharded: the same collection in two shards (two MPI ranks), BM25 with
# global statistics and hybrid with one shared LSA model.
if command -v mpirun >/dev/null && [ -x "$here/build/bin/hymir-mpi" ]; then
  mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none -np 2)
  q="crystalline lens in vertebrates"
  echo
  echo "== hymir-mpi: the sample in 2 shards (mpirun -np 2), hybrid, \"$q\"; then one index, for comparison"
  rm -rf "$work/sharded"
  "${mpirun[@]}" "$here/build/bin/hymir-mpi" index --corpus "$sample/corpus.jsonl" --index "$work/sharded" \
    --embed lsa:128 2>/dev/null
  "${mpirun[@]}" "$here/build/bin/hymir-mpi" search --index "$work/sharded" --query "$q" --k 3 2>/dev/null
  "$hymir" search --index "$index" --query "$q" --k 3
fi

# The HTTP service: started on a free port, asked one question over a plain
# socket (bash's /dev/tcp), stopped with SIGTERM.
echo
echo "== hymir serve (HTTP + web page), one request: GET /api/search?q=lens+proteins&k=2"
"$hymir" serve --index "$index" --rerank "$work/moe.model" --port 0 --quiet >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
cat "$work/serve.out"
port=$(sed -n 's/.*:\([0-9][0-9]*\)\/$/\1/p' "$work/serve.out")
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /api/search?q=lens+proteins&k=2 HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
# The reply: status line, then the JSON body (its first 600 characters).
IFS= read -r status <&3
echo "${status%$'\r'}"
while IFS= read -r header <&3 && [ -n "${header%$'\r'}" ]; do :; done
cut -c1-600 <&3
exec 3<&-
kill -TERM "$serve_pid" && wait "$serve_pid"
echo
echo
echo "index, knowledge graph, model and runs kept in $work"
echo "browse them: $hymir serve --index $index --rerank $work/moe.model${kg_flag:-} and open http://127.0.0.1:8080/"
