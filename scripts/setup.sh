#!/usr/bin/env bash
# Installs every Debian 12 package hymir needs to build, test and run its examples.
# Safe to run more than once; works as root and uses sudo otherwise.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  liblucene++-dev libboost-dev libboost-filesystem-dev libboost-system-dev libboost-thread-dev
  libfaiss-dev libopenblas-dev
  librocksdb-dev libzstd-dev
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
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
