#!/usr/bin/env bash
# Checks LuceneStructured.java on a 3-document corpus against hand-derived counts
# (testdata/queries.jsonl "expect": typed ranges, >= forms, keyword terms, dates, stop words,
# phrase holes, stemming vs prefixes), and that make_queries.py is deterministic and writes
# queries that Lucene parses. About 20 s.
# usage: bench/structured/selftest.sh        exit: 0 all passed, 1 a check failed, 2 setup
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
java="${JAVA:-java}"
mvn=/usr/share/maven-repo/org/apache/lucene
CP=""
for j in lucene-core lucene-analyzers-common lucene-queryparser lucene-facet; do
  jar="$mvn/$j/8.x/$j-8.x.jar"
  [[ -f "$jar" ]] || { echo "selftest: missing $jar (apt-get install liblucene8-java)" >&2; exit 2; }
  CP="${CP:+$CP:}$jar"
done
tmp="$(mktemp -d "${TMPDIR:-/tmp}/structured-selftest-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
td="$here/testdata"
a=(--corpus "$td/corpus.jsonl" --schema "$td/schema.json" --index "$tmp/idx")
javac -nowarn -cp "$CP" -d "$tmp/classes" "$repo/bench/java/LuceneStructured.java" 2>/dev/null
ls=("$java" -cp "$CP:$tmp/classes" LuceneStructured)

"${ls[@]}" count "${a[@]}" --queries "$td/queries.jsonl" --out "$tmp/counts" 2>"$tmp/count.log"
pass=0 fail=0
while IFS=$'\t' read -r id want text; do
  got="$(awk -F'\t' -v q="$id" '$1 == q { print $2 }' "$tmp/counts")"
  if [[ "$got" == "$want" ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $id: $text: lucene $got, expected $want"
  fi
done < <(python3 -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(l)
    print(o["_id"], o["expect"], o["text"], sep="\t")' "$td/queries.jsonl")

# make_queries.py: deterministic, and every query parses
python3 "$here/make_queries.py" --corpus "$td/corpus.jsonl" --schema "$td/schema.json" --n 60 --out "$tmp/q1.jsonl" 2>/dev/null
python3 "$here/make_queries.py" --corpus "$td/corpus.jsonl" --schema "$td/schema.json" --n 60 --out "$tmp/q2.jsonl" 2>/dev/null
if cmp -s "$tmp/q1.jsonl" "$tmp/q2.jsonl"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL make_queries.py is not deterministic"; fi
"${ls[@]}" count "${a[@]}" --queries "$tmp/q1.jsonl" --out "$tmp/c1" 2>/dev/null
if ! grep -q $'\t-1$' "$tmp/c1"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL generated queries with parse errors:"; grep $'\t-1$' "$tmp/c1"; fi

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
