#!/usr/bin/env bash
# SplitStream forest benchmark: forests of N peers (default 40,000, the
# paper's size) on the transit-stub model in every capacity configuration.
# Measures; never asserts. Paste its Markdown into bench/RESULTS.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/forest.sh [CONFIG...]

For each configuration (default: 16x16 16x18 16x32 16xNB dxd gnutella) runs

  $SIM forest --peers $PEERS --config CONFIG --seed $SEED --topology $TOPOLOGY --baselines

and writes
  bench/results/forest-<UTC stamp>.jsonl  the raw JSON summaries
  bench/results/forest-<UTC stamp>.csv    one row per configuration
  bench/results/forest-<UTC stamp>.md     a Markdown table for bench/RESULTS.md
  bench/results/forest-<UTC stamp>/CONFIG/ each run's --out files (per-peer CSVs)

Environment:
  PEERS=N      peers including the source (default 40000)
  SEED=S       run seed (default 1)
  TOPOLOGY=T   transit-stub (default; link stress needs it) or sphere
  SIM=PATH     simulator binary (default build/stripecast-sim)
USAGE
}
case "${1:-}" in -h | --help) usage; exit 0 ;; esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if (($# > 0)); then configs=("$@"); else configs=(16x16 16x18 16x32 16xNB dxd gnutella); fi
peers=${PEERS:-40000}
seed=${SEED:-1}
topology=${TOPOLOGY:-transit-stub}
sim=${SIM:-build/stripecast-sim}
[[ "$peers" =~ ^[1-9][0-9]*$ ]] || { echo "forest.sh: PEERS must be a positive integer" >&2; exit 2; }
[[ -x "$sim" ]] || { echo "forest.sh: $sim not found; run ./scripts/test.sh first" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "forest.sh: needs jq (scripts/deps.sh)" >&2; exit 1; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
head=$(git rev-parse --short HEAD) # the code measured, before any run
base=bench/results/forest-$stamp
mkdir -p "$base"
baselines=()
[[ "$topology" == transit-stub ]] && baselines=(--baselines)
: >"$base.jsonl"
for c in "${configs[@]}"; do
  echo "forest.sh: $c, $peers peers ..." >&2
  "$sim" forest --peers "$peers" --config "$c" --seed "$seed" --topology "$topology" \
    "${baselines[@]}" --out "$base/$c" >>"$base.jsonl"
done

fields='config peers build_s complete_fraction msgs_per_peer_mean msgs_per_peer_max children_max capacity_violations multi_interior_fraction depth_mean depth_max delay_penalty_mean delay_penalty_p90 link_stress_mean link_stress_max anycast_failures wall_s peak_rss_mb'
jqcols=$(for f in $fields; do printf '.%s,' "$f"; done | sed 's/,$//')
{
  echo "$fields" | tr ' ' ','
  jq -r "[$jqcols] | @csv" "$base.jsonl"
} >"$base.csv"
{
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%Y-%m-%d); commit $head"
  echo
  echo "| config | build s | complete | msgs/peer mean | max | children max | cap. violations | multi-interior | depth mean | max | delay penalty mean | p90 | link stress mean | max | anycast failures | wall s | RSS MB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  jq -r '"| \(.config) | \(.build_s // "—" | if type=="number" then (.*10|round/10) else . end) | \(.complete_fraction) | \(.msgs_per_peer_mean|round) | \(.msgs_per_peer_max) | \(.children_max) | \(.capacity_violations) | \(.multi_interior_fraction*1000|round/1000) | \(.depth_mean*100|round/100) | \(.depth_max) | \(.delay_penalty_mean*100|round/100) | \(.delay_penalty_p90*100|round/100) | \(.link_stress_mean // 0 |.*10|round/10) | \(.link_stress_max // "—") | \(.anycast_failures) | \(.wall_s*10|round/10) | \(.peak_rss_mb|round) |"' "$base.jsonl"
  if [[ "$topology" == transit-stub ]]; then
    echo
    jq -r 'select(.config=="16x16") | "Baselines on the same routers (\(.peers) peers, 16 stripes): central server mean \(.central_server.mean*10|round/10), max \(.central_server.max); IP multicast mean \(.ip_multicast.mean), max \(.ip_multicast.max); SplitStream 16x16 max \(.link_stress_max) (\(.central_server.max / .link_stress_max | round)x below the central server)."' "$base.jsonl"
  fi
} >"$base.md"
cat "$base.md"
