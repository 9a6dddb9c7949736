#!/usr/bin/env bash
# Compiles every ```cpp block of a Markdown file as a complete translation
# unit with -Wall -Wextra -Werror against include/ (the documentation's
# examples stay true to the API).
#   tests/docs_examples.sh CXX FILE.md...
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cxx=$1; shift
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
n=0
for md in "$@"; do
  awk -v dir="$work" -v base="$(basename "$md" .md)" '
    /^```cpp[[:space:]]*$/ { inside = 1; n++; file = dir "/" base "_" n ".cc"; next }
    /^```/ && inside { inside = 0; close(file); next }
    inside { print > file }' "$md"
done
for f in "$work"/*.cc; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  "$cxx" -std=c++20 -Wall -Wextra -Werror -I"$here/include" -c "$f" -o "$f.o" || { echo "docs_examples: $f failed:" >&2; cat -n "$f" >&2; exit 1; }
done
echo "docs_examples: $n blocks compiled"
