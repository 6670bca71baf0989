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

expect_usage_error forest --peers 1
expect_usage_error forest --stripes 3
expect_usage_error forest --config 4x4
expect_usage_error forest --baselines --topology sphere
expect_usage_error stream --fec 8+4
expect_usage_error stream --stripes 8
expect_usage_error stream --repair maybe
expect_usage_error stream --peers 2e7
expect_usage_error stream --pretty=yes
expect_usage_error stream --duration 600x
expect_usage_error stream --duration 1ms

# The error line names the command, the flag and the bound, and points to --help.
err=$("$sim" forest --peers 0 2>&1 >/dev/null)
want="stripecast-sim forest: --peers: 0 is below the minimum 2; see --help"
[[ $err == "$want" ]] || { echo "FAIL: forest --peers 0 said: $err"; fail=1; }
err=$("$sim" pastry --topology mesh 2>&1 >/dev/null)
want="stripecast-sim pastry: --topology: 'mesh' is not one of transit-stub, sphere, plane; see --help"
[[ $err == "$want" ]] || { echo "FAIL: pastry --topology mesh said: $err"; fail=1; }

"$sim" --help | grep -q pastry || { echo "FAIL: --help does not list pastry"; fail=1; }
"$sim" pastry --help | grep -q -- --fail-fraction || { echo "FAIL: pastry --help"; fail=1; }
# Every command's --help (exit 0) carries the shared options with the same bounds,
# and its own defaults.
for cmd in pastry forest stream; do
  h=$("$sim" $cmd --help) || { echo "FAIL: $cmd --help exited $?"; fail=1; }
  for flag in --peers --seed --topology --loss --settle-s --join-rate --refine-per-row \
    --wire-check --progress --out --pretty; do
    [[ $h == *"  $flag"* ]] || { echo "FAIL: $cmd --help lacks $flag"; fail=1; }
  done
  [[ $h == *"(2..16777216; default 1000)"* ]] || { echo "FAIL: $cmd --peers bounds"; fail=1; }
done
"$sim" stream --help | grep -q "default sphere)" || { echo "FAIL: stream's topology default"; fail=1; }
"$sim" forest --help | grep -q "default transit-stub)" || { echo "FAIL: forest's topology default"; fail=1; }

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
# A time flag takes the churn grammar's units: 0.05min is 3 s.
out=$("$sim" stream --peers 20 --duration 0.05min --settle-s 5 --build-wait-s 20 2>/dev/null)
[[ $out == *'"duration_s":3,'* ]] || { echo "FAIL: --duration 0.05min: $out"; fail=1; }
exit $fail
