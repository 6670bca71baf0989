#!/usr/bin/env bash
# Simulator scale benchmark: Pastry lookups over 10^3 .. 10^6 simulated peers.
# Measures; never asserts. Paste its Markdown into bench/RESULTS.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/pastry_scale.sh [N...]

For each peer count N (default: 1000 10000 100000 1000000) runs

  $SIM pastry --peers N --lookups L --seed $SEED --topology $TOPOLOGY

with L = min(N, 100000), collects each JSON summary, writes
  bench/results/pastry_scale-<UTC stamp>.csv    one row per N
  bench/results/pastry_scale-<UTC stamp>.jsonl  the raw summaries
  bench/results/pastry_scale-<UTC stamp>.md     the table below
and prints a Markdown table with the machine's facts, ready for bench/RESULTS.md.
bytes_per_peer = peak_rss_mb * 2^20 / peers (the whole process, topology included).

Environment:
  SIZES="1000 10000"   peer counts, when none are given as arguments
  LOOKUPS=L            lookups per run instead of min(N, 100000)
  TOPOLOGY=T           transit-stub (default), sphere or plane
  SEED=S               run seed (default 1)
  SIM=PATH             simulator binary (default build/stripecast-sim)

Build the simulator first: ./scripts/test.sh, or
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

if (($# > 0)); then
  read -r -a sizes <<<"$*"
else
  read -r -a sizes <<<"${SIZES:-1000 10000 100000 1000000}"
fi
topology=${TOPOLOGY:-transit-stub}
seed=${SEED:-1}
sim=${SIM:-build/stripecast-sim}

for n in "${sizes[@]}"; do
  if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
    echo "pastry_scale.sh: not a peer count: $n" >&2
    exit 2
  fi
done
if [[ -n "${LOOKUPS:-}" && ! "$LOOKUPS" =~ ^[1-9][0-9]*$ ]]; then
  echo "pastry_scale.sh: LOOKUPS must be a positive integer" >&2
  exit 2
fi
if [[ ! -x "$sim" ]]; then
  echo "pastry_scale.sh: $sim not found; build it first (see --help)" >&2
  exit 1
fi
command -v jq >/dev/null 2>&1 || { echo "pastry_scale.sh: needs jq (scripts/deps.sh)" >&2; exit 1; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results
mkdir -p "$results"
base="$results/pastry_scale-$stamp"
i=1
while [[ -e "$base.csv" ]]; do # two runs within one second
  base="$results/pastry_scale-$stamp-$i"
  i=$((i + 1))
done
csv_tmp="$base.csv.tmp"
jsonl_tmp="$base.jsonl.tmp"
run_tmp="$base.run.tmp"
trap 'rm -f "$csv_tmp" "$jsonl_tmp" "$run_tmp"' EXIT

# The summary fields this benchmark reads, in CSV order (bytes_per_peer goes after
# peak_rss_mb).
fields_json='["peers","lookups","correct_fraction","hops_mean","hops_p99","rdp_mean",
  "messages_per_peer","sim_events","wall_s","events_per_s","peak_rss_mb","seed"]'
echo "peers,lookups,correct_fraction,hops_mean,hops_p99,rdp_mean,messages_per_peer,sim_events,wall_s,events_per_s,peak_rss_mb,bytes_per_peer,seed,topology" >"$csv_tmp"
: >"$jsonl_tmp"

failed=()
for n in "${sizes[@]}"; do
  lookups=${LOOKUPS:-$((n < 100000 ? n : 100000))}
  cmd=("$sim" pastry --peers "$n" --lookups "$lookups" --seed "$seed" --topology "$topology")
  echo "== ${cmd[*]}" >&2
  if ! "${cmd[@]}" >"$run_tmp"; then
    echo "pastry_scale.sh: run failed for N=$n" >&2
    failed+=("$n")
    continue
  fi
  # Every field must be present and numeric; a missing one is a simulator bug.
  if ! row=$(jq -r --argjson f "$fields_json" --arg topo "$topology" '
      . as $j
      | [$f[] | select(($j[.] | type) != "number")] as $bad
      | if ($bad | length) > 0 then error("missing or non-numeric: " + ($bad | join(", ")))
        else
          [$f[0:11][] | $j[.]]
          + [($j.peak_rss_mb * 1048576 / $j.peers | floor), $j.seed, $topo]
          | map(tostring) | join(",")
        end' "$run_tmp"); then
    echo "pastry_scale.sh: bad JSON summary for N=$n:" >&2
    cat "$run_tmp" >&2
    failed+=("$n")
    continue
  fi
  echo "$row" >>"$csv_tmp"
  jq -c . "$run_tmp" >>"$jsonl_tmp"
done

mv "$csv_tmp" "$base.csv"
mv "$jsonl_tmp" "$base.jsonl"

# --- the Markdown report ---
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_gib=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
gcc_version=$(gcc --version 2>/dev/null | head -n 1 || echo unknown)
build_type=unknown
cache="$(dirname "$sim")/CMakeCache.txt"
if [[ -f "$cache" ]]; then
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
fi
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ "$commit" != unknown && -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="$commit (with local changes)"
fi
lookups_desc=${LOOKUPS:-"min(N,100000)"}
invocation="bench/pastry_scale.sh ${sizes[*]}"
for var in LOOKUPS TOPOLOGY SEED SIM; do
  [[ -n "${!var:-}" ]] && invocation="$var=${!var} $invocation"
done

{
  echo "### Pastry simulator scale, $(date -u +%Y-%m-%d)"
  echo
  echo "- machine: $(nproc) cores, $cpu, $mem_gib GiB RAM, Linux $(uname -r)"
  echo "- compiler: $gcc_version; build type: ${build_type:-unset}; commit: $commit"
  echo "- command: \`$invocation\`"
  echo "- each run: \`$sim pastry --peers N --lookups $lookups_desc --seed $seed --topology $topology\`"
  echo "- data: \`$base.csv\`"
  echo
  echo "| peers | lookups | correct | hops mean | hops p99 | RDP mean | msgs/peer | events | wall s | events/s | peak RSS MB | bytes/peer |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F, 'NR > 1 {
    printf "| %d | %d | %.4f | %.2f | %g | %.2f | %.1f | %d | %.1f | %.0f | %.1f | %d |\n",
      $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$base.csv"
  for n in "${failed[@]}"; do
    echo "| $n | — | run failed | | | | | | | | | |"
  done
} | tee "$base.md"

echo >&2
echo "pastry_scale.sh: wrote $base.csv, $base.jsonl, $base.md" >&2
if ((${#failed[@]} > 0)); then
  echo "pastry_scale.sh: failed for N = ${failed[*]}" >&2
  exit 1
fi
