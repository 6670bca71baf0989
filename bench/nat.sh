#!/usr/bin/env bash
# bench/nat.sh — listeners behind home routers (docs/nat.md), measured: the
# namespace scenarios of tests/check_nat.sh (cone: 16 homes behind
# endpoint-independent routers; symmetric: 4 homes behind routers that map
# each destination apart, relayed; portmap: 4 homes whose routers run
# miniupnpd), each --runs times. Per run: listeners whose output is
# byte-identical to the input, the lowest continuity, the join (press play to
# Pastry joined: the BINDING exchange first) p50 and max, traversal's share
# of the listeners' sent bytes, and what the broadcaster relayed. Prints a
# markdown table. Needs root (network namespaces).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/nat.sh [--runs N] [--cases LIST] [--binary PATH]

  --runs N       runs of each case (default 3)
  --cases LIST   comma-separated, of cone, symmetric, portmap (default all three)
  --binary PATH  stripecast (default build/stripecast)
USAGE
}

here=$(cd "$(dirname "$0")/.." && pwd)
runs=3 cases=cone,symmetric,portmap binary=$here/build/stripecast
while [ $# -gt 0 ]; do
  case $1 in
  --runs) runs=$2; shift 2 ;;
  --cases) cases=$2; shift 2 ;;
  --binary) binary=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "| case | run | homes | byte-identical | continuity min | joined p50 / max ms | traversal share of listeners' bytes sent | relayed datagrams in / out at the broadcaster | test |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for c in ${cases//,/ }; do
  homes=4
  [[ $c == cone ]] && homes=16
  for r in $(seq 1 "$runs"); do
    out=$work/$c-$r
    echo "bench/nat.sh: $c, run $r" >&2
    set +e
    SC_NAT_HOMES=$homes SC_NAT_OUT=$out "$here/tests/check_nat.sh" "$binary" "$c" \
      >"$work/log" 2>&1
    rc=$?
    set -e
    verdict=passed
    ((rc == 0)) || verdict="failed: $(grep -m1 FAIL "$work/log" || tail -1 "$work/log")"
    insum=$(sha256sum <"$out/in.bin")
    same=0
    for k in $(seq 1 "$homes"); do
      [[ -f $out/out$k.bin && $(sha256sum <"$out/out$k.bin") == "$insum" ]] && same=$((same + 1))
    done
    jq -s -r --arg c "$c" --arg r "$r" --arg same "$same/$homes" --arg v "$verdict" '
      [.[] | .peers[0]] as $l
      | ($l | map(.startup.joined_ms) | sort) as $j
      | ($l | map(.tx_by_class.traversal[1] // 0) | add) as $tb
      | ($l | map(.bytes_out) | add) as $all
      | "| \($c) | \($r) | \($l | length) | \($same) | \($l | map(.stream.continuity) | min)"
        + " | \($j[($j | length) / 2 | floor] | round) / \($j[-1] | round)"
        + " | \(if $all > 0 then ($tb * 10000 / $all | round) / 100 else 0 end) %"
        + " | — | \($v) |"' "$out"/l[1-9]*.json \
      | sed "s#| — |#| $(jq -r '.peers[0].traversal | "\(.relay_dgrams_in) \/ \(.relay_dgrams_out)"' \
        "$out/bcast.json") |#"
  done
done
