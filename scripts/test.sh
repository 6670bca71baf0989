#!/usr/bin/env bash
# The one command that proves a checkout: installs missing Debian packages, builds
# two trees and runs the whole ctest suite in each.
#
#   build/       RelWithDebInfo, warnings are errors
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer (leak checks on),
#                warnings are errors
#
# Incremental: re-running rebuilds only what changed.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/test.sh [--help]

Installs missing Debian packages (scripts/deps.sh), then configures, builds and
tests two build trees:

  1. build/       RelWithDebInfo, -DSC_WERROR=ON; ctest (all labels)
  2. build-asan/  -DSC_SANITIZE=ON -DSC_WERROR=ON (Debug at -O1); ctest (all labels)
                  with ASAN_OPTIONS=detect_leaks=1 and
                  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

A build error stops the script at once (the other tree would fail the same way);
test failures in the first pass still let the sanitizer pass run, since its report
often explains them. Prints a summary: per pass and in total, the tests passed,
failed and skipped (each skipped test named with its reason; a skipped test is
never counted as passed and does not fail the run). Exits non-zero on any failure.

Environment:
  SC_TEST_SKIP_ASAN=1   skip the sanitizer pass (quick local iteration; CI runs both)
  SC_TEST_JOBS=N        parallel build and test jobs (default: nproc)

Run a single test afterwards with e.g.
  ctest --test-dir build --output-on-failure -R test_leafset
  ctest --test-dir build -L unit
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
jobs=${SC_TEST_JOBS:-$(nproc)}

bash ./scripts/deps.sh

summary=()      # one line per pass, printed at the end
passed_total=0
failed_total=0
skipped_total=0
status=0
build_failed=0

# build_tree DIR CMAKE_ARGS... : configure (re-configure is cheap) and build.
build_tree() {
  local dir=$1
  shift
  echo "== configure $dir"
  cmake -S "$root" -B "$root/$dir" "$@"
  echo "== build $dir"
  if ! cmake --build "$root/$dir" -j"$jobs"; then
    summary+=("$dir: BUILD FAILED (compiler output above)")
    build_failed=1
    print_summary
    exit 1
  fi
}

# run_ctest DIR LABEL : run every test in DIR and count each one once as passed,
# failed or skipped. ctest's closing "N% tests passed" counts skipped tests as
# passed, so the counts come from its JUnit file and its list of failed tests
# (scripts/lib/ctest_junit.py), which also catches a CMocka program whose cases
# were skipped (it exits 0). A skipped
# test does not fail the run; it is listed with its reason and never counted as
# passed.
run_ctest() {
  local dir=$1 label=$2 log junit rc total report counts passed failed skipped line
  log="$root/$dir/ctest.log"
  junit="$root/$dir/ctest-junit.xml"
  rm -f "$junit"
  echo "== ctest $dir ($label)"
  set +e
  # The whole output of every test goes into the JUnit file (ctest keeps only
  # 1 kB of a passed test's output by default, which can cut CMocka's summary).
  ctest --test-dir "$root/$dir" --output-on-failure --no-tests=error -j"$jobs" \
    --output-junit "$junit" --test-output-size-passed 1048576 \
    --test-output-size-failed 1048576 --test-output-truncation middle \
    2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  # ctest closes with "NN% tests passed, F tests failed out of T".
  total=$(sed -n 's/.*tests passed, [0-9][0-9]* tests* failed out of \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
  if [[ -z "$total" ]] || ! report=$(python3 "$root/scripts/lib/ctest_junit.py" "$junit" "$log"); then
    summary+=("$label: ctest ran no tests or crashed (exit $rc); see $dir/ctest.log")
    status=1
    return
  fi
  counts=$(printf '%s\n' "$report" | sed -n 's/^counts //p')
  read -r passed failed skipped <<<"$counts"
  passed_total=$((passed_total + passed))
  failed_total=$((failed_total + failed))
  skipped_total=$((skipped_total + skipped))
  if ((rc != 0 && failed == 0)); then
    # ctest failed but no test did (e.g. a test could not be started): say so.
    failed=1
    failed_total=$((failed_total + 1))
    report+=$'\n'"failed ctest: exit $rc with no failed test in $dir/ctest-junit.xml"
  fi
  if ((failed != 0)); then
    status=1
    summary+=("$label: FAILED: $passed passed, $failed failed, $skipped skipped of $total (log: $dir/ctest.log)")
  else
    summary+=("$label: ok: $passed passed, $failed failed, $skipped skipped of $total")
  fi
  while IFS= read -r line; do
    [[ "$line" == counts* || -z "$line" ]] && continue
    summary+=("    $line")
  done <<<"$report"
}

print_summary() {
  echo
  echo "================ test.sh summary ================"
  printf '%s\n' "${summary[@]}"
  if ((!build_failed)); then
    echo "tests: $passed_total passed, $failed_total failed, $skipped_total skipped"
  fi
}

# --- pass 1: plain ---
build_tree build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_WERROR=ON -DSC_SANITIZE=OFF
run_ctest build "plain (build/)"

# --- pass 2: ASan + UBSan ---
# Debug at -O1: no optimiser surprises in sanitizer reports, yet several times
# faster than -O0 for the simulation tests. Asserts are on in every build type.
if [[ "${SC_TEST_SKIP_ASAN:-0}" == 1 ]]; then
  summary+=("asan+ubsan (build-asan/): SKIPPED (SC_TEST_SKIP_ASAN=1)")
else
  build_tree build-asan -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-g -O1" \
    -DSC_SANITIZE=ON -DSC_WERROR=ON
  export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  run_ctest build-asan "asan+ubsan (build-asan/)"
fi

print_summary
exit "$status"
