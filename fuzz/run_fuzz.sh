#!/usr/bin/env bash
# run_fuzz.sh FUZZER SEEDS_BIN WORKDIR SECONDS
#
# Makes a fresh seed corpus with SEEDS_BIN, then runs the libFuzzer binary on
# it for SECONDS. Fails (non-zero) on any crash, sanitizer report, leak,
# timeout (10 s per input) or out-of-memory (2 GB); the input that did it is
# left in WORKDIR as crash-*, leak-*, timeout-* or oom-*.
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: run_fuzz.sh FUZZER SEEDS_BIN WORKDIR SECONDS" >&2; exit 2; }
fuzzer=$1 seeds_bin=$2 work=$3 secs=$4
rm -rf "$work/corpus"
mkdir -p "$work/corpus"
"$seeds_bin" "$work/corpus"
# -max_len: one byte more than the largest datagram, like the runtime's read.
exec "$fuzzer" -max_total_time="$secs" -max_len=1401 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus"
