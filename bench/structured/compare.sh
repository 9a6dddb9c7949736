#!/usr/bin/env bash
# hymir's Lucene classic syntax against Java Lucene 8.8 on the same corpus and queries: match counts,
# top-10 overlap and single-thread QPS, by query kind.
#
# usage: bench/structured/compare.sh CORPUS_DIR [SCHEMA]
#   CORPUS_DIR  holds corpus.jsonl (BEIR); its schema.json is used when SCHEMA is not given
#   SCHEMA      typed-field schema (JSON, see scripts/debian_schema.json); none: text fields only
# Steps: make_queries.py (N queries, SEED) -> LuceneStructured.java count / run --k 1000 / bench ->
#   when `hymir search --help` offers --syntax: hymir index + hymir search --syntax lucene
#   --counts --run, timed runs of each kind's queries, and the words of the mismatching queries
#   counted alone on both sides (to tell analysis differences from query ones) -> report.py.
# env:
#   HYMIR          hymir binary                       (default <repo>/build/bin/hymir)
#   JAVA           java launcher                      (default java)
#   OUT_DIR        work files and both indexes, kept  (default ${TMPDIR:-/tmp}/hymir-structured/<corpus dir name>)
#   QUERIES        use this queries.jsonl instead of generating one
#   N, SEED        generated queries and seed         (default 1000, 42)
#   KINDS          keep only these query kinds, comma-separated (e.g. term,phrase,bool: leaves out
#                  numrange/keyword/mixed for a hymir without typed fields)
#   BENCH_SECONDS  Java seconds per timed kind (ALL gets this, each kind half) (default 4)
#   REPEAT         hymir timing: each kind's queries run this many times   (default 3)
#   ANALYZER       Java analyser: english-classic (EnglishAnalyzer's chain on the Lucene 3.0 grammar
#                  that hymir's Lucene++ uses) or english (stock EnglishAnalyzer, UAX#29)
#                  (default english-classic)
# exit: 0 OK (also when hymir cannot run the syntax yet: Java only), 1 a step failed, 2 usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
usage() { sed -n '2,/^# exit:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }
if [[ $# -lt 1 || $# -gt 2 || "$1" == -h || "$1" == --help ]]; then
  usage
  exit 2
fi
dir="$1"
corpus="$dir/corpus.jsonl"
schema="${2:-}"
[[ -z "$schema" && -f "$dir/schema.json" ]] && schema="$dir/schema.json"
for f in "$corpus" ${schema:+"$schema"}; do
  [[ -f "$f" ]] || { echo "compare.sh: $f: no such file" >&2; exit 2; }
done
corpus="$(cd "$(dirname "$corpus")" && pwd)/corpus.jsonl"
[[ -n "$schema" ]] && schema="$(cd "$(dirname "$schema")" && pwd)/$(basename "$schema")"

hymir="${HYMIR:-$repo/build/bin/hymir}"
java="${JAVA:-java}"
name="$(basename "$(cd "$dir" && pwd)")"
out="${OUT_DIR:-${TMPDIR:-/tmp}/hymir-structured/$name}"
n="${N:-1000}"
seed="${SEED:-42}"
seconds="${BENCH_SECONDS:-4}"
repeat="${REPEAT:-3}"
analyzer="${ANALYZER:-english-classic}"
mkdir -p "$out"

mvn=/usr/share/maven-repo/org/apache/lucene
CP=""
for j in lucene-core lucene-analyzers-common lucene-queryparser lucene-facet; do
  jar="$mvn/$j/8.x/$j-8.x.jar"
  [[ -f "$jar" ]] || { echo "compare.sh: missing $jar (apt-get install liblucene8-java)" >&2; exit 2; }
  CP="${CP:+$CP:}$jar"
done
command -v "$java" >/dev/null 2>&1 || { echo "compare.sh: no '$java' (apt-get install default-jre-headless)" >&2; exit 2; }

# ---- queries
if [[ -n "${QUERIES:-}" ]]; then
  cp "$QUERIES" "$out/queries.jsonl"
else
  python3 "$here/make_queries.py" --corpus "$corpus" ${schema:+--schema "$schema"} --n "$n" --seed "$seed" \
    --out "$out/queries.jsonl"
fi
q="$out/queries.jsonl"
if [[ -n "${KINDS:-}" ]]; then
  python3 - "$q" "$KINDS" <<'EOF'
import json, sys
path, keep = sys.argv[1], set(sys.argv[2].split(","))
lines = [l for l in open(path, encoding="utf-8") if l.strip() and json.loads(l).get("kind") in keep]
if not lines:
    sys.exit(f"compare.sh: no query of the kinds {sorted(keep)}")
open(path, "w", encoding="utf-8").writelines(lines)
print(f"{path}: kept {len(lines)} queries of the kinds {','.join(sorted(keep))}", file=sys.stderr)
EOF
fi

# ---- Java Lucene
ls_java=("$java" -cp "$CP" "$repo/bench/java/LuceneStructured.java")
common=(--corpus "$corpus" --index "$out/lucene-index" --analyzer "$analyzer" ${schema:+--schema "$schema"})
echo "== lucene ($analyzer): count, run --k 1000, bench ($out)" >&2
"${ls_java[@]}" count "${common[@]}" --queries "$q" --out "$out/lucene.counts" 2> >(tee "$out/lucene.count.log" >&2) \
  || { echo "compare.sh: Java count failed" >&2; exit 1; }
"${ls_java[@]}" run "${common[@]}" --queries "$q" --k 1000 --out "$out/lucene.trec" 2>"$out/lucene.run.log" \
  || { cat "$out/lucene.run.log" >&2; echo "compare.sh: Java run failed" >&2; exit 1; }
"${ls_java[@]}" bench "${common[@]}" --queries "$q" --k 10 --seconds "$seconds" >"$out/lucene.bench" \
  || { echo "compare.sh: Java bench failed" >&2; exit 1; }

report=(python3 "$here/report.py" --queries "$q" --lucene-counts "$out/lucene.counts" --lucene-run "$out/lucene.trec"
        --lucene-bench "$out/lucene.bench" --mismatches "$out/mismatches.tsv")

# ---- hymir (when it has the syntax)
skip=""
if [[ ! -x "$hymir" ]]; then
  skip="$hymir is not built (cmake --build build --target hymir_cli, or set HYMIR)"
elif ! grep -q -- "--syntax" <<<"$("$hymir" search --help 2>&1 || true)"; then
  skip="$hymir search has no --syntax option yet"
fi
if [[ -n "$skip" ]]; then
  echo "compare.sh: Java only: $skip" >&2
  "${report[@]}"
  exit 0
fi

index_help="$("$hymir" index --help 2>&1 || true)"
search_help="$("$hymir" search --help 2>&1 || true)"
hidx=(--corpus "$corpus" --index "$out/hymir-index")
if [[ -n "$schema" ]]; then
  if grep -q -- "--schema" <<<"$index_help"; then
    hidx+=(--schema "$schema")
  else
    echo "compare.sh: warning: hymir index has no --schema: typed fields are not indexed, typed queries will differ" >&2
  fi
fi
grep -q -- "--threads" <<<"$index_help" && hidx+=(--threads 1)
hs=(search --index "$out/hymir-index" --syntax lucene --retriever bm25 --k1 0.9 --b 0.4 --k 10)
grep -q -- "--threads" <<<"$search_help" && hs+=(--threads 1)

if [[ ! -d "$out/hymir-index" || "$corpus" -nt "$out/hymir-index" || ( -n "$schema" && "$schema" -nt "$out/hymir-index" ) ]]; then
  rm -rf "$out/hymir-index"
  echo "== hymir index: $hymir ${hidx[*]}" >&2
  "$hymir" index "${hidx[@]}" >&2 || { echo "compare.sh: hymir index failed" >&2; exit 1; }
fi
echo "== hymir search: $hymir ${hs[*]} --queries $q --counts --run" >&2
"$hymir" "${hs[@]}" --queries "$q" --counts "$out/hymir.counts" --run "$out/hymir.trec" >/dev/null \
  || { echo "compare.sh: hymir search failed (KINDS=... leaves out the kinds it cannot run yet)" >&2; exit 1; }

# hymir timing: wall time of each kind's queries (repeated), less a one-query run (start-up, index open)
now() { date +%s.%N; }
python3 - "$q" "$out/kinds" "$repeat" <<'EOF'
import json, os, sys
src, dst, rep = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst, exist_ok=True)
by = {}
qs = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
for o in qs:
    by.setdefault(o.get("kind", "query"), []).append(o)
by["ALL"] = qs
for kind, lst in by.items():
    with open(os.path.join(dst, kind + ".jsonl"), "w", encoding="utf-8") as f:
        for r in range(rep):
            for o in lst:
                f.write(json.dumps({"_id": f"{o['_id']}~{r}", "text": o["text"]}, ensure_ascii=False) + "\n")
with open(os.path.join(dst, "one.jsonl"), "w", encoding="utf-8") as f:
    f.write(json.dumps({"_id": "one", "text": qs[0]["text"]}) + "\n")
EOF
: >"$out/hymir.qps"
t0="$(now)"; "$hymir" "${hs[@]}" --queries "$out/kinds/one.jsonl" --run "$out/kinds/one.trec" >/dev/null; t1="$(now)"
base="$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')"
for f in "$out"/kinds/*.jsonl; do
  kind="$(basename "$f" .jsonl)"
  [[ "$kind" == one ]] && continue
  nq="$(grep -c . "$f")"
  t0="$(now)"; "$hymir" "${hs[@]}" --queries "$f" --run "$out/kinds/$kind.trec" >/dev/null; t1="$(now)"
  secs="$(awk -v a="$t1" -v b="$t0" -v c="$base" 'BEGIN { printf "%.3f", a - b - c }')"
  printf '%s\t%s\t%s\n' "$kind" "$nq" "$secs" >>"$out/hymir.qps"
done

# the words of the mismatching queries, each counted alone on both sides: a mismatch whose words already
# differ alone comes from analysis (tokenizer, stemmer), not from the query language
python3 "$here/report.py" --queries "$q" --lucene-counts "$out/lucene.counts" --hymir-counts "$out/hymir.counts" \
  --write-words "$out/words.jsonl" >/dev/null
if [[ -s "$out/words.jsonl" ]]; then
  "${ls_java[@]}" count "${common[@]}" --queries "$out/words.jsonl" --out "$out/lucene.words" 2>/dev/null \
    || { echo "compare.sh: Java word counts failed" >&2; exit 1; }
  "$hymir" "${hs[@]}" --queries "$out/words.jsonl" --counts "$out/hymir.words" --run "$out/words.trec" >/dev/null \
    || { echo "compare.sh: hymir word counts failed" >&2; exit 1; }
  report+=(--lucene-words "$out/lucene.words" --hymir-words "$out/hymir.words")
fi
"${report[@]}" --hymir-counts "$out/hymir.counts" --hymir-run "$out/hymir.trec" --hymir-qps "$out/hymir.qps"
echo "(hymir QPS: wall time of 'hymir search' on each kind's queries x$repeat, less a one-query run of ${base}s;" \
     "lucene QPS: in-process IndexSearcher.search top-10, one thread, after warm-up; files in $out)"
