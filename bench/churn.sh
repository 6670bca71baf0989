#!/usr/bin/env bash
# bench/churn.sh — the churn-resilience benchmark: continuity of a
# live stream at N peers under FEC off/on (16+0, 12+4) x repair off/on x churn
# {none; 10%, 25%, 40% of peers crashing at once; Weibull sessions with
# medians of 60, 10 and 2 minutes, shape 0.5, 10% polite} x seeds, plus the
# 2%-random-loss point. One JSON per run, one CSV of all runs, and a markdown
# summary (mean over seeds) on stdout.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/churn.sh [--peers N] [--duration S] [--seeds K] [-j J] [--out DIR] [--quick]

Runs `stripecast-sim stream` over the grid
  fec     16+0, 12+4
  repair  off, on
  churn   none, fail:10%@T, fail:25%@T, fail:40%@T (T = duration/2),
          weibull:median=60min/10min/2min,shape=0.5,polite=0.1
  seeds   1..K
plus `--loss 0.02` (no churn) for each fec x repair, with GNU parallel on J
jobs. Finished runs (their JSON exists) are skipped on a re-run.

  --peers N      peers (default 10000)
  --duration S   seconds of streaming (default 300)
  --seeds K      seeds per point (default 3)
  -j J           parallel runs (default 2)
  --out DIR      results (default bench/results/churn)
  --quick        500 peers, 120 s, 1 seed (a smoke test of the pipeline)

Writes DIR/runs/*.json, DIR/churn.csv (one row per run) and prints the
summary table. Needs jq and GNU parallel (scripts/deps.sh).
USAGE
}

peers=10000 duration=300 seeds=3 jobs=2 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) peers=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) peers=500 duration=120 seeds=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/churn.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sim=${SC_SIM:-$root/build/stripecast-sim}
[ -x "$sim" ] || { echo "bench/churn.sh: $sim not built (run scripts/test.sh or cmake --build build)" >&2; exit 1; }
out=${out:-$root/bench/results/churn}
mkdir -p "$out/runs"

half=$((duration / 2))
churns=(none "fail:10%@${half}s" "fail:25%@${half}s" "fail:40%@${half}s"
        "weibull:median=60min,shape=0.5,polite=0.1"
        "weibull:median=10min,shape=0.5,polite=0.1"
        "weibull:median=2min,shape=0.5,polite=0.1")

cmds=$(mktemp)
trap 'rm -f "$cmds"' EXIT
for fec in 16+0 12+4; do
  for repair in off on; do
    for seed in $(seq 1 "$seeds"); do
      for churn in "${churns[@]}" loss; do
        if [ "$churn" = loss ]; then
          tag="fec=$fec,repair=$repair,churn=none,loss=0.02,seed=$seed"
          args="--churn none --loss 0.02"
        else
          tag="fec=$fec,repair=$repair,churn=$churn,loss=0,seed=$seed"
          args="--churn $churn"
        fi
        f="$out/runs/$(echo "$tag" | tr '%:=,@' 'p_._-').json"
        [ -s "$f" ] && continue
        echo "$sim stream --peers $peers --duration $duration --fec $fec --repair $repair $args --seed $seed > $f.tmp 2>/dev/null && mv $f.tmp $f"
      done
    done
  done
done > "$cmds"
n=$(wc -l < "$cmds")
echo "bench/churn.sh: $n runs to do ($peers peers, ${duration}s, $seeds seeds, -j$jobs)" >&2
if [ "$n" -gt 0 ]; then
  parallel --bar -j "$jobs" < "$cmds" || echo "bench/churn.sh: some runs failed" >&2
fi

csv="$out/churn.csv"
{
  echo "peers,fec,repair,churn,loss,seed,continuity_mean,continuity_p01,survivors_continuity_mean,generations_lost_fraction,startup_ms_p50,lag_ms_p95,repair_pull_fraction,control_overhead_fraction,crashes,polite_departures,arrivals,uplink_drops,wall_s,peak_rss_mb"
  for f in "$out"/runs/*.json; do
    [ -s "$f" ] || continue
    jq -r '[.peers,.fec,(if .repair then "on" else "off" end),.churn,.loss,.seed,.continuity_mean,.continuity_p01,.survivors_continuity_mean,.generations_lost_fraction,.startup_ms_p50,.lag_ms_p95,.repair_pull_fraction,.control_overhead_fraction,.crashes,.polite_departures,.arrivals,.uplink_drops,.wall_s,.peak_rss_mb] | @csv' "$f"
  done
} > "$csv"
echo "bench/churn.sh: $(($(wc -l < "$csv") - 1)) runs in $csv" >&2

# Summary: mean over seeds of each point (read as TSV: churn specs hold commas).
echo "| churn | loss | fec | repair | runs | continuity_mean | continuity_p01 | survivors' mean | gens lost | repair pulls | control overhead | wall s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for f in "$out"/runs/*.json; do
  [ -s "$f" ] || continue
  jq -r '[.churn,.loss,.fec,(if .repair then "on" else "off" end),.continuity_mean,.continuity_p01,.survivors_continuity_mean,.generations_lost_fraction,.repair_pull_fraction,.control_overhead_fraction,.wall_s] | @tsv' "$f"
done | awk -F'\t' '
  { k = $1 "\t" $2 "\t" $3 "\t" $4; n[k]++; cm[k] += $5; cp[k] += $6; sm[k] += $7; gl[k] += $8;
    rp[k] += $9; co[k] += $10; w[k] += $11; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
  END { for (i = 1; i <= m; i++) { k = order[i]; split(k, a, "\t");
    printf "| %s | %s | %s | %s | %d | %.5f | %.4f | %.5f | %.5f | %.4f | %.3f | %.0f |\n",
      a[1], a[2], a[3], a[4], n[k], cm[k]/n[k], cp[k]/n[k], sm[k]/n[k], gl[k]/n[k], rp[k]/n[k], co[k]/n[k], w[k]/n[k] } }' | sort
