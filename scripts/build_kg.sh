#!/usr/bin/env bash
# Builds one knowledge graph holding every source scripts/setup.sh installed: WordNet
# (/usr/share/wordnet), the Gene Ontology (GO.sqlite) and FOLDOC, into OUT_DIR.
#   scripts/build_kg.sh OUT_DIR
# Entity ids keep their source apart ("wn:n:02084071", "GO:0006915", "foldoc:quicksort"), so
# the entity linker sees all of them at once. A source that is not installed is skipped with a
# message; none at all is an error. Loading is idempotent: running it again on OUT_DIR adds
# nothing. HYMIR (default build/bin/hymir) and HYMIR_KG_SOURCES (default
# /usr/local/share/hymir/kg-sources) can be overridden.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: scripts/build_kg.sh OUT_DIR" >&2; exit 2; }
out=$1
hymir=${HYMIR:-$here/build/bin/hymir}
sources=${HYMIR_KG_SOURCES:-/usr/local/share/hymir/kg-sources}
[ -x "$hymir" ] || { echo "build_kg.sh: $hymir not found (build the project first)" >&2; exit 2; }
loaded=0
load() {  # what flag path
  if [ -e "$3" ]; then
    echo "build_kg.sh: loading $1 from $3" >&2
    "$hymir" kg load --kg "$out" "$2" "$3" 2>/dev/null
    loaded=$((loaded + 1))
  else
    echo "build_kg.sh: $1 not installed ($3 missing; run scripts/setup.sh), skipped" >&2
  fi
}
load WordNet --wordnet /usr/share/wordnet
load "the Gene Ontology" --go "$sources/GO.sqlite"
load FOLDOC --foldoc "$sources/foldoc"
[ "$loaded" -gt 0 ] || { echo "build_kg.sh: no source installed" >&2; exit 1; }
"$hymir" kg stats --kg "$out"
