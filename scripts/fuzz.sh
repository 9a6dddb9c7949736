#!/usr/bin/env bash
# libFuzzer runs of hymir's file readers (tests/fuzz/): BEIR corpus and
# queries JSONL, qrels and TREC runs, MoE model files, N-Triples lines, TSV
# triple files, WordNet data files, OBO ontologies, FOLDOC's dictd files, TransE files, the commit manifest,
# vector field files, the forward index file, the doc values file, per-segment caches, stored document text and the
# HTTP service's query parameters and the query language's parser, hymir's analysis chain against Lucene++'s
# (any difference in tokens stops the run), and hymir's segment inverter against Lucene++'s IndexWriter (any
# byte of a segment file that differs stops the run). Each target and the sources it reads are
# compiled with clang and -fsanitize=fuzzer,address,undefined (so the readers themselves are
# instrumented, not only the harness), seeded from the bundled sample, then
# run for SECONDS each (default 60). A crash, sanitizer report or leak stops
# the run and leaves the input in $WORK/crash-*. Readers behind a checksum
# (model, transe, manifest, vector, forward, values) get it fixed up by the harness.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# targets: corpus judgements model ntriples tsv wordnet obo foldoc transe manifest vector forward values source params query
# analysis inverter
# (default: all); FUZZ_SEED=N fixes libFuzzer's seed (the ctests use 1, so
# that CI explores the same inputs from run to run). Inputs that once failed are kept in tests/fuzz/regressions/
# <target>/ and replayed, with the seeds in tests/fuzz/seeds/<target>/, by the
# ctest fuzz_replay_<target> (gcc, normal build).
# Needs clang and lld (Debian: apt-get install clang lld) and the project's packages
# (scripts/setup.sh); does not need a build of the project.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}; [ $# -gt 0 ] && shift
targets=${*:-corpus judgements model ntriples tsv wordnet obo foldoc transe manifest vector forward values source params query analysis inverter}
work=${WORK:-/tmp/hymir-fuzz}
cxx=${CXX_FUZZ:-clang++}
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (apt-get install clang)" >&2; exit 2; }
mkdir -p "$work"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$here/include" -I"$here" -isystem /usr/include/x86_64-linux-gnu/openblas-pthread)
core=("$here"/src/core/{status,document,beir,crc32,file_util,query_language}.cc)
ranking=("$here"/ranking/metrics/{metrics,qrels,run}.cc "$here"/ranking/moe/{moe_model,moe_model_io,moe_backward,boosted_trees,query_trust,ranking_data}.cc)
loader=("$here"/kg/load/{loader,wordnet,obo,foldoc}.cc "$here/kg/store/alias.cc")  # with the in-memory store of tests/fuzz/memory_triple_store.h
lucene=(-llucene++ -lboost_filesystem -lboost_system -lboost_thread)
build() {  # name sources... -- libs...
  local name=$1; shift
  local srcs=() libs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do srcs+=("$1"); shift; done
  [ $# -gt 0 ] && shift && libs=("$@")
  echo "fuzz.sh: building $name" >&2
  "$cxx" "${flags[@]}" "${srcs[@]}" -o "$work/$name" "${libs[@]}"
}
seed() {  # name -> a seed corpus directory
  local d=$work/seed-$1; rm -rf "$d"; mkdir -p "$d"
  case $1 in
    corpus) head -c 4000 "$here/data/sample/corpus.jsonl" >"$d/corpus"; head -c 2000 "$here/data/sample/queries.jsonl" >"$d/queries" ;;
    judgements) head -c 2000 "$here/data/sample/qrels/test.tsv" >"$d/qrels"
                printf 'q1 Q0 d1 1 3.5 run\nq1 Q0 d2 2 2.5 run\n' >"$d/run" ;;
    model) HYMIR_FUZZ_SEED_DIR=$d "$work/model_fuzz" -runs=0 >/dev/null 2>&1 ;;  # a real model, written by the target
    ntriples) printf '<http://a> <http://b> "c\\u00e9"@en .\n# comment\n_:x <http://p> <http://o> .\n' >"$d/nt" ;;
    tsv) printf 'dog\twn:hypernym\tcanine\n# comment\n\ncat\tis_a\tanimal\r\nbad line\nx\t\ty\n' >"$d/tsv" ;;
    wordnet) if [ -f /usr/share/wordnet/data.noun ]; then  # the licence header and a few synsets of each part of speech
               for p in noun verb adj adv; do head -c 3000 "/usr/share/wordnet/data.$p" >"$d/$p-head"
                 sed -n '3000,3010p' "/usr/share/wordnet/data.$p" >"$d/$p-mid"; done
             else printf '02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 02083346 n 0000 ~ 01322604 n 0000 | a dog\n' >"$d/wn"; fi ;;
    transe|manifest|vector|forward|values) HYMIR_FUZZ_SEED_DIR=$d "$work/${1}_fuzz" -runs=0 >/dev/null 2>&1 ;;  # written by the target
    params) printf 'q=heart+attack&k=5&offset=10&retriever=hybrid&filter=domain:med&filter=domain:bio&rerank=1&expand=off&explain=' >"$d/p1"
            printf 'q=%%E2%%80%%9Cmyocardial%%E2%%80%%9D%%20infarction&k=1000&field=title:2.5&field=text' >"$d/p2" ;;
    query) head -c 3000 "$here/data/sample/queries.jsonl" >"$d/queries" ;;
    analysis) { printf '\000'; head -c 3000 "$here/data/sample/corpus.jsonl"; } >"$d/utf8" ;;  # first byte 0: UTF-8
    inverter) head -c 2000 "$here/data/sample/corpus.jsonl" >"$d/corpus" ;;
  esac
  if [ -d "$here/tests/fuzz/seeds/$1" ]; then cp "$here/tests/fuzz/seeds/$1"/* "$d"/ 2>/dev/null || true; fi
  if [ -d "$here/tests/fuzz/regressions/$1" ]; then cp "$here/tests/fuzz/regressions/$1"/* "$d"/ 2>/dev/null || true; fi
  echo "$d"
}
for t in $targets; do
  case $t in
    corpus) build corpus_fuzz "$here/tests/fuzz/corpus_fuzz.cc" "${core[@]}" -- -lsimdjson -lz ;;
    judgements) build judgements_fuzz "$here/tests/fuzz/judgements_fuzz.cc" "${ranking[@]}" "${core[@]}" -- -lsimdjson -lz -lopenblas ;;
    model) build model_fuzz "$here/tests/fuzz/model_fuzz.cc" "${ranking[@]}" "${core[@]}" -- -lsimdjson -lz -lopenblas ;;
    ntriples) build ntriples_fuzz "$here/tests/fuzz/ntriples_fuzz.cc" "$here/kg/load/loader.cc" "$here/kg/store/alias.cc" "$here/kg/store/rocksdb_status.cc" \
                "$here/kg/store/rocksdb_triple_store.cc" "$here/kg/store/commit_record.cc" "${core[@]}" -- -lrocksdb -lsimdjson -lz ;;
    tsv) build tsv_fuzz "$here/tests/fuzz/tsv_fuzz.cc" "${loader[@]}" "${core[@]}" -- -lsimdjson -lz ;;
    wordnet) build wordnet_fuzz "$here/tests/fuzz/wordnet_fuzz.cc" "${loader[@]}" "${core[@]}" -- -lsimdjson -lz ;;
    obo) build obo_fuzz "$here/tests/fuzz/obo_fuzz.cc" "${loader[@]}" "${core[@]}" -- -lsimdjson -lz ;;
    foldoc) build foldoc_fuzz "$here/tests/fuzz/foldoc_fuzz.cc" "${loader[@]}" "${core[@]}" -- -lsimdjson -lz ;;
    transe) build transe_fuzz "$here/tests/fuzz/transe_fuzz.cc" "$here/kg/embed/transe_format.cc" "${core[@]}" -- -lsimdjson -lz ;;
    # index_layout.cc's hymir.json reader needs the analyzers (Lucene++ analysis): dropped by lld's
    # --gc-sections as in params, since the manifest checks use only its file names.
    manifest) build manifest_fuzz "$here/tests/fuzz/manifest_fuzz.cc" "$here"/index/lucene/{commit_manifest,block_checksums,lucene_util,index_layout}.cc \
                "$here/index/vector/manifest.cc" "$here/src/core/mapped_file.cc" "${core[@]}" -- -ffunction-sections -fdata-sections -fuse-ld=lld \
                -Wl,--gc-sections "${lucene[@]}" -lsimdjson -lz ;;
    vector) build vector_fuzz "$here/tests/fuzz/vector_fuzz.cc" "$here"/index/vector/{vector_store,vector_field}.cc "${core[@]}" \
              -- -lfaiss -fopenmp -lopenblas -lsimdjson -lz ;;
    # The forward index readers and LoadSegment over a small Lucene++ index the harness writes
    # (Lucene++ directly; the cache by segment_cache.cc's own writer); --gc-sections as in manifest.
    forward) build forward_fuzz "$here/tests/fuzz/forward_fuzz.cc" "$here"/index/lucene/{forward_index,segment_cache,lucene_util}.cc \
               "$here/src/core/mapped_file.cc" "${core[@]}" -- -ffunction-sections -fdata-sections -fuse-ld=lld \
               -Wl,--gc-sections "${lucene[@]}" -lsimdjson -lz ;;
    # The doc values file (typed fields), under a schema of every field type.
    # The schema names text fields' analyzers (analysis.cc, Lucene++); --gc-sections as in manifest.
    values) build values_fuzz "$here/tests/fuzz/values_fuzz.cc" "$here/index/lucene/doc_values.cc" "$here/index/schema.cc" \
              "$here"/index/lucene/{analysis,analysis_chain,porter_stemmer,lucene_util}.cc "$here/src/core/mapped_file.cc" "${core[@]}" \
              -- -ffunction-sections -fdata-sections -fuse-ld=lld -Wl,--gc-sections "${lucene[@]}" -llucene++-contrib \
              -lsimdjson -lz ;;
    # The stored title and text of a format 2 index (zstd); --gc-sections drops the Lucene++ reader.
    source) build source_fuzz "$here/tests/fuzz/source_fuzz.cc" "$here"/index/lucene/{stored_source,lucene_util}.cc "${core[@]}" \
              -- -ffunction-sections -fdata-sections -fuse-ld=lld -Wl,--gc-sections "${lucene[@]}" -lzstd -lsimdjson -lz ;;
    # The parameter parsing of query_spec.cc and engine.cc (ParseRetriever) without the engine's
    # Lucene++/FAISS/model dependencies: lld's --gc-sections drops the Engine and Pipeline
    # methods the harness never calls, and their references (GNU ld and gold keep them alive
    # through the sanitizer-coverage tables). Needs lld (Debian: apt-get install lld).
    params) build params_fuzz "$here/tests/fuzz/params_fuzz.cc" "$here"/src/engine/{pipeline,engine,query_spec,snippet}.cc "${core[@]}" \
              -- -ffunction-sections -fdata-sections -fuse-ld=lld -Wl,--gc-sections \
              $(pkg-config --cflags --libs cpp-httplib) -lsimdjson -lz ;;
    # The query language's parser and analysis (core only).
    query) build query_fuzz "$here/tests/fuzz/query_fuzz.cc" "${core[@]}" -- -lsimdjson -lz ;;
    # hymir's analysis chain against Lucene++'s (analysis.cc); --gc-sections as in values.
    analysis) build analysis_fuzz "$here/tests/fuzz/analysis_fuzz.cc" "$here"/index/lucene/{analysis,analysis_chain,porter_stemmer,lucene_util}.cc \
                "$here/index/schema.cc" "${core[@]}" -- -ffunction-sections -fdata-sections -fuse-ld=lld -Wl,--gc-sections "${lucene[@]}" \
                -llucene++-contrib -lsimdjson -lz ;;
    # hymir's segment inverter against Lucene++'s IndexWriter (analysis.cc for the token replay).
    inverter) build inverter_fuzz "$here/tests/fuzz/inverter_fuzz.cc" "$here"/index/lucene/{segment_inverter,analysis,analysis_chain,porter_stemmer,lucene_util}.cc \
                "$here/index/schema.cc" "${core[@]}" -- -ffunction-sections -fdata-sections -fuse-ld=lld -Wl,--gc-sections "${lucene[@]}" \
                -llucene++-contrib -lsimdjson -lz ;;
    *) echo "fuzz.sh: unknown target $t" >&2; exit 2 ;;
  esac
  s=$(seed "$t")
  mkdir -p "$work/corpus-$t"
  echo "fuzz.sh: running $t for ${secs}s" >&2
  (cd "$work" && "./${t}_fuzz" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
     "$work/corpus-$t" "$s" 2>&1 | grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|ERROR|SUMMARY|crash-|Done" || true)
  # (not `ls a* b* ...`: that fails, i.e. reports nothing, unless every kind of artifact exists)
  if [ -n "$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) -print -quit)" ]; then
    echo "fuzz.sh: $t found a failing input (see $work)" >&2; exit 1
  fi
done
echo "fuzz.sh: no crash, sanitizer report, leak, OOM or timeout in: $targets"
