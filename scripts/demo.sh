#!/usr/bin/env bash
# The demo: builds the simulator, runs Pastry lookups over 10,000 simulated peers on
# a transit-stub Internet, prints the JSON summary and draws the hop distribution.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/demo.sh [stripecast-sim pastry flags...]

Installs missing Debian packages (scripts/deps.sh), builds build/stripecast-sim
(RelWithDebInfo), then runs

  build/stripecast-sim pastry --peers 10000 --lookups 10000 --seed 1 \
      --topology transit-stub --out "$OUT"

prints the JSON summary, and renders the hop distribution from $OUT/hops.csv into
$OUT/pastry_hops.png and $OUT/pastry_hops.svg (scripts/plot/pastry_hops.gp).

Any flag you give replaces the default of the same name; others are passed through:
  scripts/demo.sh --peers 2000
  scripts/demo.sh --topology sphere --fail-fraction 0.1 --repair-s 60
See all flags with: build/stripecast-sim pastry --help

Real peers instead of the simulator:
  scripts/demo.sh --real-peers [scripts/cluster flags...]
builds build/stripecast and runs scripts/cluster: 30 stripecast processes on
127.0.0.1 and a source streaming 5 MB of random data at 3 Mbit/s, with 4 of the
receivers SIGKILLed mid-stream, one a second; prints the JSON summary (every
survivor's output byte-identical to the input, continuity, latency p50/p95)
into $OUT/cluster/. Flags after --real-peers go to scripts/cluster
(see scripts/cluster --help).

Environment:
  DEMO_OUT=DIR   output folder (default: demo-out); --out DIR wins over it
USAGE
}

for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
out=${DEMO_OUT:-demo-out}

# The real-peer demo: stripecast processes on loopback (docs/runtime.md).
if [[ "${1:-}" == "--real-peers" ]]; then
  shift
  bash ./scripts/deps.sh
  echo "== build build/stripecast"
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_WERROR=ON \
    -DSC_SANITIZE=OFF >/dev/null
  cmake --build "$root/build" -j"$(nproc)" --target stripecast
  mkdir -p "$out/cluster"
  echo "== scripts/cluster: 30 receivers, 5 MB at 3 Mbit/s, 4 SIGKILLs"
  status=0
  ./scripts/cluster --peers 30 --bytes 5000000 --rate-kbps 3000 --out "$out/cluster" \
    --peer-args "--window-gens 256" --source-args "--root-refresh-ms 250" \
    --kill 3:1 --kill 4:1 --kill 5:1 --kill 6:1 "$@" >"$out/cluster/run.json" || status=$?
  if command -v jq >/dev/null 2>&1; then jq . "$out/cluster/run.json"; else cat "$out/cluster/run.json"; fi
  echo "== done (exit $status). Outputs, counters and logs in $out/cluster/"
  exit "$status"
fi

# has_flag NAME: whether the user gave --NAME (as "--NAME V" or "--NAME=V").
has_flag() {
  local a
  for a in "${user_args[@]}"; do
    [[ "$a" == "--$1" || "$a" == "--$1="* ]] && return 0
  done
  return 1
}

# flag_value NAME DEFAULT: the value the run will use for --NAME.
flag_value() {
  local i
  for ((i = 0; i < ${#user_args[@]}; i++)); do
    case "${user_args[i]}" in
      "--$1") [[ $((i + 1)) -lt ${#user_args[@]} ]] && { echo "${user_args[i + 1]}"; return; } ;;
      "--$1="*) echo "${user_args[i]#--"$1"=}"; return ;;
    esac
  done
  echo "$2"
}

user_args=("$@")
out=$(flag_value out "$out")
peers=$(flag_value peers 10000)
lookups=$(flag_value lookups 10000)
seed=$(flag_value seed 1)
topology=$(flag_value topology transit-stub)

args=()
has_flag peers || args+=(--peers "$peers")
has_flag lookups || args+=(--lookups "$lookups")
has_flag seed || args+=(--seed "$seed")
has_flag topology || args+=(--topology "$topology")
has_flag out || args+=(--out "$out")
# Progress (simulated time, events/s, ETA) on stderr, when someone is watching.
if [[ -t 2 ]] && ! has_flag progress; then
  args+=(--progress)
fi
args+=("${user_args[@]}")

bash ./scripts/deps.sh

# Same configuration as scripts/test.sh's build/ tree, so the two never make each
# other rebuild everything; only the simulator is built here.
echo "== build build/stripecast-sim"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_WERROR=ON \
  -DSC_SANITIZE=OFF >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target stripecast-sim

mkdir -p "$out"
summary="$out/run.json"
echo "== build/stripecast-sim pastry ${args[*]}"
if ! build/stripecast-sim pastry "${args[@]}" >"$summary"; then
  echo "demo.sh: stripecast-sim failed (its stdout is in $summary)" >&2
  exit 1
fi

echo
echo "== summary ($summary)"
if command -v jq >/dev/null 2>&1; then
  jq . "$summary"
else
  cat "$summary"
fi

hops="$out/hops.csv"
if [[ ! -s "$hops" ]]; then
  echo "demo.sh: $hops is missing or empty; no figure drawn" >&2
  exit 1
fi
title_extra="N = $peers peers, $lookups lookups, $topology, seed $seed"
gnuplot -e "infile=\"$hops\"; outbase=\"$out/pastry_hops\"; title_extra=\"${title_extra//\"/}\"" \
  scripts/plot/pastry_hops.gp

echo
echo "== done. Files in $out/:"
echo "  run.json          the JSON summary stripecast-sim printed (seed and parameters included)"
echo "  hops.csv          hop distribution (hops,count,fraction)"
echo "  pastry_hops.png   the figure; pastry_hops.svg the same as vector graphics"
