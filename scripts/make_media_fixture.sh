#!/usr/bin/env bash
# Copies a small slice of the Tux Paint stamps (Debian package
# tuxpaint-stamps-default) into DEST as a media test fixture: the first
# PER_CATEGORY PNG stamps (file-name order, variants left out) of each of
# three categories, with their caption .txt files and sound effects (.ogg), in
# the stamps' layout.
# Media are never committed; tests and demos make the fixture with this.
# (awk, not head: head would end the pipe early, which pipefail reports.)
#   scripts/make_media_fixture.sh DEST [PER_CATEGORY=4] [SRC=/usr/share/tuxpaint/stamps]
set -euo pipefail
dest=${1:?usage: make_media_fixture.sh DEST [PER_CATEGORY] [SRC]}
per=${2:-4}
src=${3:-/usr/share/tuxpaint/stamps}
if [ ! -d "$src" ]; then
  echo "make_media_fixture: $src not found (apt-get install tuxpaint-stamps-default)" >&2
  exit 2
fi
for category in animals food vehicles; do
  find "$src/$category" -name '*.png' ! -name '*_mirror.png' ! -name '*_flip.png' | LC_ALL=C sort | awk -v n="$per" 'NR <= n' |
    while read -r png; do
      rel=${png#"$src"/}
      mkdir -p "$dest/$(dirname "$rel")"
      cp "$png" "$dest/$rel"
      if [ -f "${png%.png}.txt" ]; then cp "${png%.png}.txt" "$dest/${rel%.png}.txt"; fi
      if [ -f "${png%.png}.ogg" ]; then cp "${png%.png}.ogg" "$dest/${rel%.png}.ogg"; fi
    done
done
