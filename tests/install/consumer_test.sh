#!/usr/bin/env bash
# Installs hymir from BUILD_DIR into a temporary prefix, builds the consumer
# project against the installed package (find_package(hymir)) and runs it,
# then a BM25-only project that asks for the index component alone.
#   consumer_test.sh BUILD_DIR [CXX_FLAGS [EXE_LINKER_FLAGS]]
# The flags are the build's own (e.g. -fsanitize=... in scripts/sanitize.sh).
set -euo pipefail
build_dir=$1
src_dir=$(cd "$(dirname "$0")" && pwd)/consumer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$src_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="${2:-}" -DCMAKE_EXE_LINKER_FLAGS="${3:-}" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
"$work/build/consumer" "$work/index"
if [ -x "$work/build/dist_consumer" ]; then
  "$work/build/dist_consumer" "$work/sharded"
fi
# A BM25-only consumer configures and links with MPI and RocksDB out of reach.
cmake -S "$(dirname "$src_dir")/index_consumer" -B "$work/index_build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON -DCMAKE_DISABLE_FIND_PACKAGE_RocksDB=ON \
  -DCMAKE_CXX_FLAGS="${2:-}" -DCMAKE_EXE_LINKER_FLAGS="${3:-}" >/dev/null
cmake --build "$work/index_build" -j2 >/dev/null
"$work/index_build/index_consumer" "$work/index_only"
