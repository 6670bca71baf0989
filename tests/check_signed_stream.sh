#!/usr/bin/env bash
# check_signed_stream.sh STRIPECAST CLUSTER CASE — the signed stream with real
# peers on loopback (docs/broadcast.md, "Signed stations"; ARCHITECTURE.md §3).
#
#   keys    stripecast keygen writes an owner-only key and prints its public
#           key; it never overwrites a file; a key others may read is refused
#           (exit 2) with the reason; a broadcast without --key makes its key
#           in $XDG_STATE_HOME/stripecast/ and says so; bad --station forms
#           exit 2
#   forge   scripts/cluster: a signed source and 16 receivers, one of which
#           (the first, an interior peer of several trees) alters every chunk
#           it forwards or serves (--forge-chunks): every receiver's output is
#           byte-identical to the input (no forged byte played), continuity
#           >= 0.999, the forged chunks are counted and parents replaced
#   loss    scripts/cluster: a signed source and 16 receivers that each drop 5%
#           of the datagrams they receive (--loss; the forest keeps re-forming
#           at that loss, so the stream starts after 15 s whatever its state):
#           every output byte-identical
#           to the input, the first generation and the last included. A
#           generation with fewer than d chunks is staged unverified, unknown
#           to playout: it is asked for (auth.staged_asks > 0) and playout
#           waits for it instead of starting after it
#   sim     stripecast-sim stream --payload --sign --forgers 2: the same checks
#           in the simulator (every delivered byte compared with what was sent)
set -euo pipefail

sc=$1
cluster=$2
case_=$3

# Ports below the ephemeral range, apart from the other runtime tests' (22000..31700):
# each case its own range (ctest runs them at once), different between concurrent
# runs of one case.
case $case_ in
loss) base=$((32360 + ($$ % 9) * 40)) ;;
*) base=$((32000 + ($$ % 9) * 40)) ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL ($case_): $*" >&2
  exit 1
}

case $case_ in
keys)
  pk=$("$sc" keygen --out "$work/a.key" 2>"$work/err") || fail "keygen: $(cat "$work/err")"
  [[ $pk =~ ^[0-9a-f]{64}$ ]] || fail "keygen printed '$pk'"
  [[ $(stat -c %a "$work/a.key") == 600 ]] || fail "mode $(stat -c %a "$work/a.key")"
  grep -q "public $pk" "$work/a.key" || fail "the file does not hold the public key printed"
  before=$(sha256sum <"$work/a.key")
  set +e
  "$sc" keygen --out "$work/a.key" >/dev/null 2>"$work/err"
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "keygen over an existing key: exit $rc"
  grep -q "never overwritten" "$work/err" || fail "keygen: '$(cat "$work/err")'"
  [[ $(sha256sum <"$work/a.key") == "$before" ]] || fail "the existing key changed"
  # A key others may read is refused before anything starts.
  cp "$work/a.key" "$work/open.key"
  chmod 640 "$work/open.key"
  set +e
  "$sc" broadcast --station /k --key "$work/open.key" --listen 127.0.0.1:9 \
    --source /dev/null 2>"$work/err"
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "a group-readable key: exit $rc, want 2"
  grep -q "open to others (mode 0640)" "$work/err" || fail "'$(cat "$work/err")'"
  # Without --key: made once in the state directory, owner-only, reported.
  XDG_STATE_HOME=$work/state "$sc" broadcast --station /k/d --listen "127.0.0.1:$((base + 30))" \
    --source /dev/null --eof-exit-ms 0 --grace-ms 0 2>"$work/err" ||
    fail "broadcast without --key: $(cat "$work/err")"
  kf=$work/state/stripecast/k_d.key
  [[ -f $kf && $(stat -c %a "$kf") == 600 ]] || fail "no owner-only $kf: $(cat "$work/err")"
  grep -q "station /k/d@[0-9a-f]\{64\} (key $kf, made now)" "$work/err" ||
    fail "'$(cat "$work/err")'"
  kpk=$(sed -n 's/^public //p' "$kf")
  XDG_STATE_HOME=$work/state "$sc" broadcast --station /k/d --listen "127.0.0.1:$((base + 30))" \
    --source /dev/null --eof-exit-ms 0 --grace-ms 0 2>"$work/err" ||
    fail "second broadcast: $(cat "$work/err")"
  grep -q "station /k/d@$kpk (key $kf)" "$work/err" || fail "not reused: '$(cat "$work/err")'"
  # Station forms a listener may not give.
  for bad in "/x@abcd" "x y@$pk" "/x@${pk:0:63}"; do
    set +e
    "$sc" listen --station "$bad" --listen 127.0.0.1:9 2>"$work/err"
    rc=$?
    set -e
    [[ $rc == 2 ]] || fail "listen --station '$bad': exit $rc, want 2"
  done
  set +e
  "$sc" broadcast --station "/x@$pk" --listen 127.0.0.1:9 --source /dev/null 2>"$work/err"
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "broadcast --station NAME@KEY: exit $rc, want 2"
  echo "ok: keys"
  ;;

forge)
  pk=$("$sc" keygen --out "$work/s.key" 2>/dev/null)
  # Process 0 is the first receiver, joined before the others: a forwarder
  # in several trees.
  "$cluster" --binary "$sc" --base-port $((base + 1)) --peers 16 --bytes 1500000 --rate-kbps 1500 \
    --out "$work/c" --source-args "--key $work/s.key" --peer-args "--verify-key $pk" \
    --proc-args "0:--forge-chunks" >"$work/summary.json" 2>"$work/cluster.err" ||
    fail "cluster: $(tail -3 "$work/cluster.err"); $(jq -c '.mismatched' "$work/summary.json")"
  jq -e '.all_identical and .continuity_min >= 0.999' "$work/summary.json" >/dev/null ||
    fail "$(jq -c '{all_identical, continuity_min}' "$work/summary.json")"
  jq -s '[.[].peers[]] | {forged: (map(.auth.chunks_forged) | add),
         switches: (map(.auth.parent_switches) | add),
         tx_forged: (map(.drops.tx_forged) | add),
         good: (map(.auth.chunks_good) | add),
         sig_failures: (map(.auth.sig_failures) | add)}' "$work"/c/stats/*.json \
    >"$work/auth.json"
  jq -e '.tx_forged > 0 and .forged > 0 and .switches > 0 and .good > 0' \
    "$work/auth.json" >/dev/null || fail "counters: $(jq -c . "$work/auth.json")"
  echo "ok: forge $(jq -c . "$work/auth.json") continuity_min" \
    "$(jq .continuity_min "$work/summary.json")"
  ;;

loss)
  pk=$("$sc" keygen --out "$work/s.key" 2>/dev/null)
  "$cluster" --binary "$sc" --base-port $((base + 1)) --peers 16 --bytes 1500000 --rate-kbps 1500 \
    --settle-s 15 --out "$work/c" --source-args "--key $work/s.key" \
    --peer-args "--verify-key $pk --loss 0.05" \
    >"$work/summary.json" 2>"$work/cluster.err" ||
    fail "cluster: $(tail -3 "$work/cluster.err"); $(jq -c '.mismatched' "$work/summary.json")"
  jq -e '.all_identical' "$work/summary.json" >/dev/null ||
    fail "$(jq -c '{all_identical, continuity_min}' "$work/summary.json")"
  staged=$(jq -s '[.[].peers[].auth.staged_asks] | add' "$work"/c/stats/*.json)
  ((staged > 0)) || fail "no generation was asked for while staged"
  echo "ok: loss staged_asks $staged continuity_min $(jq .continuity_min "$work/summary.json")"
  ;;

sim)
  # The simulator's forging peers (sim/world.c), same checks: 60 peers, 2 of
  # them forging, real bytes checked at every receiver.
  sim=${4:?sim needs the stripecast-sim binary}
  "$sim" stream --peers 60 --seed 3 --duration 30 --rate-kbps 128 --churn none \
    --payload --sign --forgers 2 >"$work/sim.json" 2>"$work/sim.err" ||
    fail "stripecast-sim: $(tail -3 "$work/sim.err")"
  jq -e '.payload_mismatches == 0 and .continuity_min >= 0.999 and .forged_sent > 0
         and .chunks_forged > 0 and .auth_parent_switches > 0 and .chunks_good > 0' \
    "$work/sim.json" >/dev/null ||
    fail "$(jq -c '{payload_mismatches, continuity_min, forged_sent, chunks_forged,
                   auth_parent_switches, chunks_good}' "$work/sim.json")"
  echo "ok: sim $(jq -c '{continuity_min, forged_sent, chunks_forged,
                         auth_parent_switches}' "$work/sim.json")"
  ;;

*)
  echo "usage: $0 STRIPECAST CLUSTER keys|forge|loss|sim [STRIPECAST-SIM]" >&2
  exit 2
  ;;
esac
