#!/usr/bin/env bash
# Checks the documentation's code.
#
#   check_docs.sh quickstart SOURCE_DIR
#     The README's first ```cpp block is byte-identical to
#     examples/quickstart/quickstart.cc.
#   check_docs.sh snippets SOURCE_DIR WORK_DIR CXX
#     Every ```cpp block of README.md and docs/*.md compiles on its own as one
#     translation unit (-std=c++20 -Wall -Wextra -Werror, include/ only), and
#     every fence that opens a block names its language.
set -euo pipefail

mode=$1
src=$2

# Writes block N of FILE (the N-th ```cpp block, counted from 1) to stdout;
# with WITH_LINE=1 a #line directive first, so errors point into FILE.
extract() {
  awk -v want="$2" -v with_line="${WITH_LINE:-0}" -v name="$1" '
    !inb && /^```cpp[ \t]*$/ { inb = 1; n++; if (n == want && with_line) printf "#line %d \"%s\"\n", NR + 1, name; next }
    inb && /^```[ \t]*$/    { inb = 0; next }
    inb && n == want         { print }' "$1"
}

# Number of ```cpp blocks in FILE.
count() { grep -c '^```cpp[[:space:]]*$' "$1" || true; }

case "$mode" in
  quickstart)
    readme="$src/README.md"
    if [ "$(count "$readme")" -lt 1 ]; then
      echo "README.md has no \`\`\`cpp block" >&2
      exit 1
    fi
    if ! diff -u "$src/examples/quickstart/quickstart.cc" <(extract "$readme" 1); then
      echo "README.md's first \`\`\`cpp block differs from examples/quickstart/quickstart.cc" >&2
      exit 1
    fi
    echo "README.md's first C++ block is examples/quickstart/quickstart.cc"
    ;;
  snippets)
    work=$3
    cxx=$4
    rm -rf "$work"
    mkdir -p "$work"
    failed=0
    total=0
    for md in "$src/README.md" "$src"/docs/*.md; do
      rel=${md#"$src/"}
      # A fence that opens a block must name its language (```cpp, ```sh,
      # ```text, ...), so that no C++ hides in an unchecked block.
      bad=$(awk '/^[ \t]*```/ { if (!inb) { inb = 1; if ($0 ~ /^[ \t]*```[ \t]*$/) print NR } else inb = 0 }' "$md")
      if [ -n "$bad" ]; then
        echo "$rel: a code block without a language opens on line(s) $(echo $bad)" >&2
        failed=1
      fi
      n=$(count "$md")
      for ((i = 1; i <= n; i++)); do
        out="$work/$(echo "$rel" | tr '/.' '__')-$i.cc"
        WITH_LINE=1 extract "$md" "$i" > "$out"
        total=$((total + 1))
        if ! "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I"$src/include" "$out"; then
          echo "$rel: C++ block $i does not compile" >&2
          failed=1
        fi
      done
    done
    echo "$total C++ blocks checked"
    exit $failed
    ;;
  *)
    echo "usage: check_docs.sh quickstart SOURCE_DIR | snippets SOURCE_DIR WORK_DIR CXX" >&2
    exit 2
    ;;
esac
