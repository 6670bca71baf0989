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
  "forest-crash|forest --peers 120 --seed 5 --fail-fraction 0.1 --baselines|6b42ebf35571a089|37879d05fa3bba25|\"build_s\":11.8488 \"repair_s\":54.9568 \"messages\":113684 \"sim_events\":118279 \"link_stress_max\":235"
  "forest-loss|forest --peers 80 --seed 2 --topology sphere --loss 0.01 --wire-check --config 16x32 --stripes 8|3888b784318743a8|ff54bd85faf9c2f8|\"build_s\":30.4734 \"complete_peers\":76 \"messages\":30236 \"sim_events\":31740"
  "stream-payload|stream --peers 60 --seed 3 --duration 20 --churn none --wire-check --payload --loss 0.01|5d8bf1b917815907|4be81c15409477e6|\"continuity_mean\":1 \"payload_mismatches\":0 \"messages\":59891 \"sim_events\":62245"
  "stream-churn|stream --peers 50 --seed 4 --topology transit-stub --duration 30 --churn exp:mean=20s+fail:20%@10s --fec 6+2 --stripes 8|5f7137d6b26f40c8|063c5ae7fa7f1496|\"continuity_mean\":0.998836 \"repair_shed\":1369 \"messages\":90326 \"sim_events\":100609"
  "directory|directory --peers 300 --stations 10 --spread-s 5 --measure-s 10 --seed 3 --wire-check|1998b5ad251c9c7d|6574e180f9311894|\"copies_per_peer\":0.9963 \"listed_99_reached\":10 \"wire_errors\":0"
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
