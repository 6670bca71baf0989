#!/usr/bin/env bash
# bench/startup.sh — press play to first byte: real peers on loopback, a
# source streaming to --receivers listeners, then --joins late listeners
# joining the running stream one after another (scripts/latejoin). Prints the
# p50/p95/max of each step since the join as a markdown table; the per-join
# JSON is kept in --out.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/startup.sh [--receivers N] [--joins J] [--rate-kbps R] [--heartbeat-ms MS]
                        [--out DIR] [--binary PATH]

  --receivers N     peers already listening (default 15)
  --joins J         late listeners, one after another (default 30)
  --rate-kbps R     source rate (default 128)
  --heartbeat-ms MS every peer's heartbeat (default 10000, the core's)
  --out DIR         results (default $TMPDIR/stripecast-startup)
  --binary PATH     stripecast (default build/stripecast)
USAGE
}

here=$(cd "$(dirname "$0")/.." && pwd)
receivers=15 joins=30 rate=128 hb=10000 out=${TMPDIR:-/tmp}/stripecast-startup
binary=$here/build/stripecast
while [ $# -gt 0 ]; do
  case $1 in
  --receivers) receivers=$2; shift 2 ;;
  --joins) joins=$2; shift 2 ;;
  --rate-kbps) rate=$2; shift 2 ;;
  --heartbeat-ms) hb=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --binary) binary=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
"$here/scripts/latejoin" --receivers "$receivers" --joins "$joins" --rate-kbps "$rate" \
  --heartbeat-ms "$hb" --binary "$binary" --out "$out/run" >"$out/latejoin.json" || true
python3 - "$out/latejoin.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"{d['joins']} late joins, {d['receivers']} receivers, {d['rate_kbps']} kbit/s, "
      f"no first byte: {d['no_first_byte']}")
print()
print("| step since join (ms) | n | p50 | p95 | max |")
print("|---|---|---|---|---|")
for k, v in d["summary"].items():
    f = lambda x: "-" if x is None else f"{x:.0f}"
    print(f"| {k} | {v['n']} | {f(v['p50'])} | {f(v['p95'])} | {f(v['max'])} |")
PY
