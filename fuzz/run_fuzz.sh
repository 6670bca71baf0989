#!/usr/bin/env bash
# Runs a libFuzzer target of fuzz/CMakeLists.txt for a number of inputs.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: fuzz/run_fuzz.sh FUZZER CORPUS WORKDIR RUNS [LIBFUZZER_FLAG...]
       fuzz/run_fuzz.sh --target NAME [--runs N] [--build DIR] [--merge]
                        [LIBFUZZER_FLAG...]

The first form is ctest's fuzz_NAME: it runs FUZZER for RUNS inputs from a fixed
seed (-seed=1, so a run is repeatable), starting from the committed seed corpus
CORPUS, which is only read: new inputs go to WORKDIR/corpus (emptied first).

The second form is a long run of the target NAME as built in DIR (default: build)
for N inputs (default 10,000,000) from a random seed, with the work corpus kept in
DIR/tests/fuzz/NAME-long/corpus across runs. --merge then adds to
fuzz/corpus/NAME/ the inputs that reach new coverage (libFuzzer -merge=1), to be
committed.

Both fail (non-zero) on any crash, sanitizer report, leak, timeout (10 s per
input) or out-of-memory (2 GB); the input that did it is left in WORKDIR as crash-*,
leak-*, timeout-* or oom-* (reproduce it with: FUZZER FILE). LIBFUZZER_FLAGs (e.g.
-max_len=N, -jobs=N) are passed on; later flags win over the defaults.
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
merge=0
if [[ "${1:-}" == --target ]]; then
  [[ $# -ge 2 ]] || { usage >&2; exit 2; }
  name=$2 runs=10000000 build=$root/build seed=0
  shift 2
  while (($#)); do
    case "$1" in
      --runs) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; runs=$2; shift 2 ;;
      --build) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; build=$2; shift 2 ;;
      --merge) merge=1; shift ;;
      *) break ;;
    esac
  done
  fuzzer=$build/tests/fuzz/${name}_fuzz
  corpus=$root/fuzz/corpus/$name
  work=$build/tests/fuzz/$name-long
  # The target's own flags (e.g. -max_len), as fuzz/CMakeLists.txt wrote them.
  if [[ -f "$build/tests/fuzz/$name.options" ]]; then
    mapfile -t target_flags < <(grep -v '^$' "$build/tests/fuzz/$name.options" || true)
    set -- "${target_flags[@]}" "$@"
  fi
  [[ -x "$fuzzer" ]] || {
    echo "run_fuzz.sh: no fuzzer $fuzzer (build it: cmake --build $build --target ${name}_fuzz_build)" >&2
    exit 2
  }
  mkdir -p "$work/corpus"
else
  [[ $# -ge 4 ]] || { usage >&2; exit 2; }
  fuzzer=$1 corpus=$2 work=$3 runs=$4 seed=1
  shift 4
  rm -rf "$work/corpus"
  mkdir -p "$work/corpus"
fi
[[ "$runs" =~ ^[0-9]+$ && "$runs" -gt 0 ]] || { echo "run_fuzz.sh: RUNS must be a positive count: $runs" >&2; exit 2; }
[[ -d "$corpus" ]] && compgen -G "$corpus/*" >/dev/null || {
  echo "run_fuzz.sh: no seed corpus in $corpus" >&2
  exit 2
}

# libFuzzer writes new inputs into its first corpus directory: the work corpus,
# never the committed one. Its failures exit 77 by default, which ctest's
# SKIP_RETURN_CODE convention reads as "skipped": make every failure exit 1.
"$fuzzer" -runs="$runs" -seed="$seed" -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
  -artifact_prefix="$work/" "$@" "$work/corpus" "$corpus"
if ((merge)); then
  "$fuzzer" -merge=1 "$@" "$corpus" "$work/corpus"
fi
