#!/usr/bin/env bash
# Java Lucene 8.8 BM25 baseline runs (EnglishAnalyzer, k1=0.9, b=0.4, title + " " + text, top 1000)
# for every shared collection, test queries only.
#
# usage: bench/java/run_baseline.sh [OUT_DIR] [DATA_DIR]
#   OUT_DIR   default /tmp/hymir-java-runs      (writes OUT_DIR/<name>.trec)
#   DATA_DIR  default <repo>/../shared/data
# env: COLLECTIONS="scifact cranfield ..." to restrict, K=1000, JAVA=java,
#      ANALYZER=english-classic for EnglishAnalyzer's filters on the classic (Lucene 3.0) tokenizer
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-/tmp/hymir-java-runs}"
data="${2:-$repo/../shared/data}"
k="${K:-1000}"
java="${JAVA:-java}"
collections="${COLLECTIONS:-scifact cranfield cisi med cacm mixed}"

mvn=/usr/share/maven-repo/org/apache/lucene
CP="$mvn/lucene-core/8.x/lucene-core-8.x.jar:$mvn/lucene-analyzers-common/8.x/lucene-analyzers-common-8.x.jar"
for jar in ${CP//:/ }; do
  if [[ ! -f "$jar" ]]; then
    echo "missing $jar: apt-get install -y --no-install-recommends liblucene8-java default-jre-headless" >&2
    exit 1
  fi
done

mkdir -p "$out"
status=0
for name in $collections; do
  dir="$data/$name"
  run="$out/$name.trec"
  echo "== $name -> $run" >&2
  "$java" -cp "$CP" "$here/LuceneBaseline.java" run \
    --corpus "$dir/corpus.jsonl" --queries "$dir/queries.jsonl" \
    --qrels "$dir/qrels/test.tsv" --k "$k" --out "$run" --analyzer "${ANALYZER:-english}"
  # sanity: 6 columns, Q0, tag, ranks 1..n per query, scores non-increasing
  if ! awk -v k="$k" '
      NF != 6 || $2 != "Q0" || $6 != "lucene" { print FILENAME ":" NR ": bad line: " $0; bad = 1; exit }
      $1 != q { q = $1; if (q in seen) { print FILENAME ":" NR ": query " q " not contiguous"; bad = 1; exit }
                seen[q] = 1; want = 1; prev = "" }
      { if ($4 != want) { print FILENAME ":" NR ": rank " $4 ", expected " want; bad = 1; exit }
        if (want > k) { print FILENAME ":" NR ": more than k lines"; bad = 1; exit }
        if (prev != "" && $5 + 0 > prev + 0) { print FILENAME ":" NR ": score increases"; bad = 1; exit }
        prev = $5; want++ }
      END { if (!bad) printf "   ok: %d lines, %d queries\n", NR, length(seen) > "/dev/stderr"; exit bad }
    ' "$run"; then
    status=1
  fi
done
exit $status
