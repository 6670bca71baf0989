#!/usr/bin/env bash
# check_sim_digests.sh SIM [--print] — small fixed runs of every simulator
# command must reproduce their pinned results: the event-history hash
# (trace_digest), a few headline fields, and a SHA-256 of the whole JSON
# object less the fields that measure the machine (wall_s, events_per_s,
# peak_rss_mb). One seed gives one history (docs/ARCHITECTURE.md §6), so a
# refactoring that means to change nothing must leave every pin as it is.
# With --print, prints the current values in the table's format instead.
set -u
sim=${1:?usage: check_sim_digests.sh path/to/stripecast-sim [--print]}
mode=${2:-check}
self=tests/check_sim_digests.sh

# name | arguments | trace_digest | sha256 of the JSON less timings | fields "key":value
runs=(
  "pastry-crash|pastry --peers 300 --lookups 200 --seed 7 --fail-fraction 0.1|79172edcc5a88ca7|ff7383cbe2dbc0d4|\"correct_fraction\":1 \"hops_mean\":2.105 \"messages\":124990 \"sim_events\":130831 \"peers_crashed\":30"
  "pastry-loss|pastry --peers 200 --lookups 100 --seed 2 --loss 0.02 --wire-check --topology sphere --rt-maintenance-s 30|61de18f852a37376|a2dc807f54f8255d|\"messages_lost\":2741 \"hops_mean\":2.03 \"sim_events\":132706 \"wire_errors\":0"
  "forest-crash|forest --peers 120 --seed 5 --fail-fraction 0.1 --baselines|6b42ebf35571a089|0a7c67a7853d7a2b|\"build_s\":11.8488 \"repair_s\":54.9568 \"messages\":113684 \"sim_events\":118279 \"link_stress_max\":235"
  "forest-loss|forest --peers 80 --seed 2 --topology sphere --loss 0.01 --wire-check --config 16x32 --stripes 8|3888b784318743a8|b26c02cdc54a4a4c|\"build_s\":30.4734 \"complete_peers\":76 \"messages\":30236 \"sim_events\":31740"
  "stream-payload|stream --peers 60 --seed 3 --duration 20 --churn none --wire-check --payload --loss 0.01|4ecc2c1395ce1644|9570dc7349c4e5ab|\"continuity_mean\":1 \"payload_mismatches\":0 \"messages\":59971 \"sim_events\":62389"
  "stream-churn|stream --peers 50 --seed 4 --topology transit-stub --duration 30 --churn exp:mean=20s+fail:20%@10s --fec 6+2 --stripes 8|3857b4686544d172|e37826f6e3f81da6|\"continuity_mean\":0.99954 \"repair_shed\":1070 \"messages\":90448 \"sim_events\":100913"
  "directory|directory --peers 300 --stations 10 --spread-s 5 --measure-s 10 --seed 3 --wire-check|158d6b17a660b9c3|43c4a811358c8269|\"copies_per_peer\":0.9983 \"listed_99_reached\":10 \"wire_errors\":0"
)

# The JSON less the fields that measure the machine, not the run.
normalize() {
  sed -E 's/"(wall_s|events_per_s|peak_rss_mb)":[^,}]*,?//g; s/,}/}/g'
}

fail=0
for row in "${runs[@]}"; do
  IFS='|' read -r name args want_digest want_sha fields <<<"$row"
  # shellcheck disable=SC2086 # the arguments are words
  out=$("$sim" $args 2>/dev/null)
  rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "FAIL $name: '$args' exited $rc"
    fail=1
    continue
  fi
  digest=$(printf '%s\n' "$out" | sed -nE 's/.*"trace_digest":"([0-9a-f]+)".*/\1/p')
  sha=$(printf '%s\n' "$out" | normalize | sha256sum | cut -c1-16)
  if [[ $mode == --print ]]; then
    # The pinned fields with the values this run gives.
    now=""
    for f in $fields; do
      key=${f%%:*}
      val=$(printf '%s\n' "$out" | grep -oE "$key:[^,}]*" | head -n 1)
      now+="${now:+ }${val:-$key:missing}"
    done
    printf '%s|%s|%s|%s|%s\n' "$name" "$args" "$digest" "$sha" "$now"
    continue
  fi
  bad=""
  [[ $digest == "$want_digest" ]] || bad+=" trace_digest $digest (pinned $want_digest);"
  [[ $sha == "$want_sha" ]] || bad+=" JSON sha256 $sha (pinned $want_sha);"
  for f in $fields; do
    [[ $out == *"$f,"* || $out == *"$f}"* ]] || bad+=" field $f not found;"
  done
  if [[ -n $bad ]]; then
    echo "FAIL $name: stripecast-sim $args"
    echo "  results changed:$bad"
    echo "  if this was intended, update the pinned digest in $self"
    echo "  (run: $self $sim --print)"
    echo "  got: $out"
    fail=1
  else
    echo "ok   $name $digest"
  fi
done
exit $fail
