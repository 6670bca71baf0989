#!/usr/bin/env bash
# check_sim_cli.sh SIM — the simulator's command line: wrong or missing flags
# give a one-line error and exit code 2; a small run prints one JSON object
# with every field the issue names.
set -u
sim=${1:?usage: check_sim_cli.sh path/to/stripecast-sim}
fail=0

expect_usage_error() {
  local err rc
  err=$("$sim" "$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -ne 2 ]]; then
    echo "FAIL: '$*' exited $rc, want 2"; fail=1
  elif [[ $(printf '%s\n' "$err" | wc -l) -ne 1 || -z "$err" ]]; then
    echo "FAIL: '$*' should print one line of error, printed: $err"; fail=1
  fi
}

expect_usage_error
expect_usage_error frobnicate
expect_usage_error pastry --peers 0
expect_usage_error pastry --peers -5
expect_usage_error pastry --peers abc
expect_usage_error pastry --peers
expect_usage_error pastry --fail-fraction 1
expect_usage_error pastry --fail-fraction -0.1
expect_usage_error pastry --fail-fraction nan
expect_usage_error pastry --topology mesh
expect_usage_error pastry --loss 2
expect_usage_error pastry --bogus
expect_usage_error pastry stray-argument

"$sim" --help | grep -q pastry || { echo "FAIL: --help does not list pastry"; fail=1; }
"$sim" pastry --help | grep -q -- --fail-fraction || { echo "FAIL: pastry --help"; fail=1; }

out=$("$sim" pastry --peers 50 --lookups 20 --seed 3 2>/dev/null)
rc=$?
if [[ $rc -ne 0 ]]; then echo "FAIL: small run exited $rc"; fail=1; fi
if [[ $(printf '%s\n' "$out" | wc -l) -ne 1 || $out != \{*\} ]]; then
  echo "FAIL: stdout is not one JSON object: $out"; fail=1
fi
for k in peers lookups correct_fraction hops_mean hops_p99 rdp_mean messages_per_peer \
  sim_events wall_s events_per_s peak_rss_mb seed; do
  [[ $out == *"\"$k\":"* ]] || { echo "FAIL: JSON lacks $k"; fail=1; }
done
[[ $out == *'"correct_fraction":1,'* ]] || { echo "FAIL: small run not fully correct: $out"; fail=1; }
exit $fail
