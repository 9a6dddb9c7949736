#!/usr/bin/env bash
# The Python module's bars on one BEIR collection (default scifact): the CLI
# indexes it (BM25 + lsa:128), trains a re-ranker on the train split and
# writes BM25, hybrid and re-ranked runs of the test split; then
# bench/python_bench.py compares the module's runs with them score for score
# and times Python against C++ (search, two threads, NumPy ingest).
#   bench/python_bench.sh [COLLECTION_DIR] [WORK_DIR] [python_bench.py options...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
hymir=$here/build/bin/hymir
data=${1:-$here/../shared/data/scifact}
work=${2:-$(mktemp -d)}
shift $(( $# > 2 ? 2 : $# ))
python=${PYTHON:-python3}
# One OpenMP thread per search (FAISS): with two searching threads on two
# cores, FAISS's default team of two per call oversubscribes the machine.
# The CLI and the module run with the same setting.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$work"
if [ ! -f "$work/index/hymir.json" ]; then
  rm -rf "$work/index"
  "$hymir" index --corpus "$data/corpus.jsonl" --index "$work/index" --embed lsa:128 --threads "$(nproc)" >&2
fi
if [ ! -f "$work/model.moe" ]; then
  "$hymir" train --index "$work/index" --queries "$data/queries.jsonl" --qrels "$data/qrels/train.tsv" \
    --model "$work/model.moe" >&2
fi
for run in bm25 hybrid reranked; do
  extra=(--retriever "$run")
  [ "$run" = reranked ] && extra=(--rerank "$work/model.moe")
  "$hymir" search --index "$work/index" --queries "$data/queries.jsonl" --qrels "$data/qrels/test.tsv" \
    --run "$work/cli.$run.trec" --k 100 "${extra[@]}" 2>/dev/null
done
PYTHONPATH=$here/build/python "$python" "$here/bench/python_bench.py" --index "$work/index" \
  --model "$work/model.moe" --queries "$data/queries.jsonl" --qrels "$data/qrels/test.tsv" --runs "$work" "$@"
