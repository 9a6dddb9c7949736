#!/usr/bin/env bash
# hymir's English analysis against Java Lucene 8.8's on real text: the corpus
# and query texts of each BEIR collection given.
#
# usage: bench/stem_compare.sh COLLECTION_DIR...
# env:   OUT (default /tmp/hymir-stem-compare), HYMIR_ANALYZE (default
#        <repo>/build/bin/hymir-analyze: cmake --build build --target hymir_analyze),
#        JAVA (default java)
#
# For each collection:
#  words  every distinct word (Java's UAX#29 tokenizer, possessive and lower-case
#         filters) and its stem by Java's PorterStemFilter, against hymir's
#         english and english-lucenepp30 terms for the word alone. A word counts
#         where the tokenizations agree: hymir's standard analyzer (no stemming)
#         returns it as one term, unchanged.
#  texts  each text through Java's English chain on ClassicTokenizer (the
#         Lucene 3.0 grammar hymir's tokenizer implements) against hymir's
#         english and english-lucenepp30: texts whose terms are identical.
# Differences go to OUT/<name>.*.diff.tsv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="${OUT:-/tmp/hymir-stem-compare}"
analyze="${HYMIR_ANALYZE:-$repo/build/bin/hymir-analyze}"
java="${JAVA:-java}"
mvn=/usr/share/maven-repo/org/apache/lucene
CP="$mvn/lucene-core/8.x/lucene-core-8.x.jar:$mvn/lucene-analyzers-common/8.x/lucene-analyzers-common-8.x.jar"
[[ -x "$analyze" ]] || { echo "missing $analyze (cmake --build build --target hymir_analyze)" >&2; exit 1; }
[[ $# -gt 0 ]] || { echo "usage: $0 COLLECTION_DIR..." >&2; exit 2; }
mkdir -p "$out"

printf '%-10s %8s %8s %10s %10s %8s %10s %10s\n' collection words agree "diff-new" "diff-old" texts "same-new" "same-old"
for dir in "$@"; do
  name="$(basename "$dir")"
  o="$out/$name"
  {
    jq -r '[(.title // ""), (.text // "")] | join(" ")' "$dir/corpus.jsonl"
    jq -r '.text // ""' "$dir/queries.jsonl"
  } | tr -d '\r' >"$o.texts"

  "$java" -cp "$CP" "$here/java/StemWords.java" words <"$o.texts" >"$o.java-words.tsv"
  cut -f1 "$o.java-words.tsv" >"$o.words"
  "$analyze" --analyzer standard <"$o.words" >"$o.standard"
  "$analyze" --analyzer english <"$o.words" >"$o.english"
  "$analyze" --analyzer english-lucenepp30 <"$o.words" >"$o.legacy"
  # word, java stem, hymir standard, english, english-lucenepp30
  paste "$o.java-words.tsv" "$o.standard" "$o.english" "$o.legacy" >"$o.words.tsv"
  read -r words agree diff_new diff_old < <(awk -F'\t' -v new="$o.words.english.diff.tsv" -v old="$o.words.legacy.diff.tsv" '
    { ++n }
    $3 == $1 {
      ++agree
      if ($4 != $2) { ++dn; print $1 "\t" $2 "\t" $4 > new }
      if ($5 != $2) { ++do_; print $1 "\t" $2 "\t" $5 > old }
    }
    END { printf "%d %d %d %d\n", n, agree, dn, do_ }' "$o.words.tsv")

  "$java" -cp "$CP" "$here/java/StemWords.java" lines english-classic <"$o.texts" >"$o.java-lines"
  "$analyze" --analyzer english <"$o.texts" >"$o.english-lines"
  "$analyze" --analyzer english-lucenepp30 <"$o.texts" >"$o.legacy-lines"
  texts=$(wc -l <"$o.texts")
  same_new=$(paste -d'\n' "$o.java-lines" "$o.english-lines" | awk 'NR % 2 { a = $0; next } a == $0 { ++s } END { print s + 0 }')
  same_old=$(paste -d'\n' "$o.java-lines" "$o.legacy-lines" | awk 'NR % 2 { a = $0; next } a == $0 { ++s } END { print s + 0 }')
  paste "$o.java-lines" "$o.english-lines" | awk -F'\t' '$1 != $2 { print NR "\t" $0 }' >"$o.texts.english.diff.tsv"
  printf '%-10s %8d %8d %10d %10d %8d %10d %10d\n' "$name" "$words" "$agree" "$diff_new" "$diff_old" "$texts" \
    "$same_new" "$same_old"
done
