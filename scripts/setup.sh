#!/usr/bin/env bash
# Installs every Debian 12 package hymir needs to build, test and run its examples.
# Safe to run more than once; works as root and uses sudo otherwise. Also unpacks the Gene
# Ontology and FOLDOC data files for the knowledge graph (see below).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  liblucene++-dev libboost-dev libboost-filesystem-dev libboost-system-dev libboost-thread-dev
  libfaiss-dev libopenblas-dev
  librocksdb-dev libzstd-dev libsqlite3-dev zlib1g-dev
  libsimdjson-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev libxgboost-dev
  libopenmpi-dev openmpi-bin
  wordnet-base
  wrk python3 doxygen
  python3-dev pybind11-dev python3-numpy python3-pytest
  clang lld
  default-jre-headless liblucene8-java
  libopencv-imgproc-dev libopencv-imgcodecs-dev tuxpaint-stamps-default chromium libsndfile1-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
updated=0
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
else
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update
  updated=1
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Knowledge-graph sources whose packages would pull in what hymir does not need (R for the
# Gene Ontology's r-bioc-go.db, a dictionary server for dict-foldoc): their data files are
# taken from the .deb without installing it, into $KG_SOURCES (scripts/build_kg.sh reads them).
KG_SOURCES=${HYMIR_KG_SOURCES:-/usr/local/share/hymir/kg-sources}
extract() {  # package file-in-package destination
  local tmp; tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download "$1" >/dev/null 2>&1); then
    if [ "$updated" -eq 0 ]; then $SUDO apt-get update >/dev/null; updated=1; fi
    (cd "$tmp" && apt-get download "$1" >/dev/null)
  fi
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  $SUDO mkdir -p "$(dirname "$3")"
  $SUDO cp -rT "$tmp/x/$2" "$3"
  rm -rf "$tmp"
  echo "setup: $3 (from $1)"
}
[ -f "$KG_SOURCES/GO.sqlite" ] ||
  extract r-bioc-go.db usr/lib/R/site-library/GO.db/extdata/GO.sqlite "$KG_SOURCES/GO.sqlite"
[ -f "$KG_SOURCES/foldoc/foldoc.index" ] || extract dict-foldoc usr/share/dictd "$KG_SOURCES/foldoc"
