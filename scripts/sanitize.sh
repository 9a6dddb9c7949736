#!/usr/bin/env bash
# The whole ctest suite under a sanitizer, in its own build directory:
#   scripts/sanitize.sh asan [ctest args...]   build-asan: -fsanitize=address,undefined
#   scripts/sanitize.sh tsan [ctest args...]   build-tsan: -fsanitize=thread
# e.g. scripts/sanitize.sh tsan -R 'engine_test|serve_test'. Every binary the
# tests start (hymir, hymir-mpi, the crash writers, the install_consumer
# project) is built with the same flags. The first report stops the process
# (halt_on_error), so a report is a failing test; each prints its stack.
# Uninstrumented libraries' reports are suppressed by frame in
# tests/sanitize/*.supp (library frames only, each with its reason); under
# TSan, OpenMP regions run on one thread (OMP_THREAD_LIMIT=1, below).
# Environment: JOBS (build parallelism, default nproc), BUILD_DIR (default
# build-<kind>), CMAKE_ARGS (extra configure arguments), BUILD_TARGETS (build
# only these targets, e.g. "core_test kg_test", with the matching ctest -R;
# default: everything).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-}
case $kind in
  asan) san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
  tsan) san="-fsanitize=thread -fno-omit-frame-pointer" ;;
  *) echo "usage: scripts/sanitize.sh asan|tsan [ctest args...]" >&2; exit 2 ;;
esac
shift
build=${BUILD_DIR:-$here/build-$kind}
jobs=${JOBS:-$(nproc)}
supp=$here/tests/sanitize
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

# -O1 -g: usable stacks at a tolerable speed. Benchmarks are not tests.
# shellcheck disable=SC2086
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS="$san" -DCMAKE_C_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" -DCMAKE_SHARED_LINKER_FLAGS="$san" \
  -DHYMIR_BUILD_BENCHMARKS=OFF ${CMAKE_ARGS:-}
start=$(date +%s)
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" ${BUILD_TARGETS:+--target $BUILD_TARGETS}
echo "sanitize.sh: $kind build took $(( $(date +%s) - start )) s" >&2

common="halt_on_error=1:print_stacktrace=1"
export UBSAN_OPTIONS="$common:suppressions=$supp/ubsan.supp"
# fast_unwind_on_malloc=0: full allocation stacks, so that LSan can match the
# Open MPI suppressions (Open MPI has no frame pointers and unloads its
# components, so the fast unwinder stops at an unknown module).
export ASAN_OPTIONS="$common:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="$common:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0"
if [[ $kind == tsan ]]; then
  # OpenMP regions run on one thread under TSan. gcc's libgomp is not
  # instrumented: TSan sees its worker threads' accesses but not the fork,
  # barriers and join between them (futexes and spins inside libgomp), nor
  # omp locks, so every region looked racy (LSA training, RandomizedSvd's
  # AccumulateTransposed, FAISS's HNSW add and searches): all of hymir's
  # regions write per-iteration or per-slice data and read the results only
  # after the join. OMP_THREAD_LIMIT, not OMP_NUM_THREADS: it also caps the
  # num_threads(n) clauses (LsaOptions::threads, SvdOptions::threads).
  # hymir's own concurrency is std::thread (ingest, media ingest, TransE,
  # the HTTP server's ElasticTaskQueue, concurrent searchers and writers)
  # and stays checked; only the OpenMP regions' parallelism is not, and the
  # thread-count tests (RandomizedSvdTest.IndependentOfThreadCount,
  # LsaEmbedderTest.DeterministicForSeedAndThreads) compare one-thread runs
  # here, and the HTTP server test that counts each handler's OpenMP team
  # sees teams of one whatever the server does. Suppressing libgomp instead
  # would hide races of any kind on its threads (TSan matches thread
  # creation stacks too). The 22 such reports seen with 2 threads each
  # paired a worker with the main thread's accesses before the fork or
  # after the join; none paired two workers (10 more, inside regions, were
  # Lucene++'s own: tests/sanitize/tsan.supp).
  export OMP_THREAD_LIMIT=1
fi
# Open MPI under mpirun as root (CI), and without the ptrace-based single copy.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

start=$(date +%s)
rc=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" "$@" || rc=$?
echo "sanitize.sh: $kind ctest took $(( $(date +%s) - start )) s, exit $rc" >&2
exit $rc
