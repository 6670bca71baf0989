#!/usr/bin/env bash
# Rebuilds the SplitStream (SOSP 2003) evaluation from scratch: builds the simulator,
# runs the sweeps (scripts/sweep), aggregates them (scripts/aggregate) and draws every
# figure (scripts/plot/*.gp). README.md beside this script compares the results with
# the published ones.
set -euo pipefail

prog=run.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
all_parts="forest failure pastry churn"
# shellcheck source=../../scripts/lib/paper.sh
source "$root/scripts/lib/paper.sh"

usage() {
  cat <<USAGE
usage: papers/splitstream-sosp03/run.sh [--quick] [options]

Runs the SplitStream evaluation and draws its figures:

  forest    the six capacity configurations at 40,000 peers, 3 seeds: forest
            construction overhead (CDF of messages per peer, build time), children
            per peer, delay-penalty CDFs, link stress with the central server and
            IP multicast baselines
  failure   25% of the receivers crash at once (16x16, 40,000 peers, 3 seeds):
            attached fraction and repair traffic over time
  pastry    Pastry's mean hops against N (1,000 .. 100,000 peers, 3 seeds)
  churn     stripes received by ~2,000 peers under churn for 600 s (3 seeds;
            'stripecast-sim stream')

Full size: 25 minutes to an hour at -j2 on a 2-core machine (quiet to shared), 0.6 to 0.9 GB of memory per
40,000-peer job (recorded peaks). Figures and tables go to figures/ (committed); raw runs to out/full/
(not committed). Finished runs are kept: running again only redoes what is missing
and redraws every figure.

options:
  --quick          the CI size (2,000-peer forests, 1,000 for the failure, 2 seeds; a minute at
                   -j2): raw runs and figures go to out/quick/ unless --out is given
  --only PARTS     comma-separated subset of: $all_parts (default: all)
  -j, --jobs N     runs at once (default 2)
  --out DIR        raw runs to DIR/, figures and tables to DIR/figures/
  --sim PATH       use this simulator instead of building build/stripecast-sim
  -h, --help       this help
USAGE
}

paper_args "$@"
paper_setup

configs="16x16 16x18 16x32 16xNB dxd gnutella"

# --------------------------------------------------------------------------------
if want forest; then
  echo "$prog: forest: six configurations" >&2
  run_sweep forest --md build_s,complete_fraction,msgs_per_peer_mean,msgs_per_peer_max,children_max,capacity_violations,depth_mean,delay_penalty_mean,delay_penalty_p90,link_stress_mean,link_stress_max,central_server.mean,central_server.max,ip_multicast.mean,ip_multicast.max,anycast_failures,tree_check.cycles,tree_check.unattached
  d="$raw/forest"
  n=$(peers_of "$d") s=$(seeds_of "$d")
  mkdir -p "$d/pooled"
  pfiles="" dfiles=""
  for c in $configs; do
    mapfile -t ids < <(ids_where "$d" config "$c")
    pool "$d/pooled/$c-peers.csv" peers.csv "$d" "${ids[@]}"
    pool "$d/pooled/$c-delays.csv" delays.csv "$d" "${ids[@]}"
    pfiles+=" $d/pooled/$c-peers.csv" dfiles+=" $d/pooled/$c-delays.csv"
  done
  sub="$n peers, transit-stub, $s seeds pooled"
  plot cdf "files=\"$pfiles\"; titles=\"$configs\"; col=\"msgs_build\"; cond='column(\"peer\") > 0';
    outbase=\"$figs/overhead_cdf\"; logx=1;
    title=\"Forest construction overhead: messages received per peer ($sub)\";
    xlabel=\"forest messages received during the build (messages, log scale)\";
    ylabel=\"fraction of receivers (0–1)\""
  plot points "infile=\"$d/points.csv\"; outbase=\"$figs/build_time\"; xcol=\"config\";
    x_values=\"$configs\"; measure=\"build_s\"; ymin=0;
    title=\"Forest construction time ($n peers, mean and 95% CI over $s seeds)\";
    xlabel=\"configuration (in-degree x capacity)\"; ylabel=\"time to build the forest (s)\""
  plot cdf "files=\"$pfiles\"; titles=\"$configs\"; col=\"children\"; cond='column(\"peer\") > 0';
    outbase=\"$figs/children_cdf\"; xmin=0; xmax=40;
    title=\"Forwarding load: children per peer over all stripes ($sub)\";
    xlabel=\"children per peer (count; x axis cut at 40, maxima in the table)\";
    ylabel=\"fraction of receivers (0–1)\""
  plot cdf "files=\"$dfiles\"; titles=\"$configs\"; col=\"delay_penalty\";
    outbase=\"$figs/delay_penalty_cdf\"; logx=1; xmin=0.9;
    title=\"Delay penalty: tree delay / direct unicast delay per (peer, stripe) ($sub)\";
    xlabel=\"delay penalty (ratio, log scale)\"; ylabel=\"fraction of (receiver, stripe) pairs (0–1)\""
  plot points "infile=\"$d/points.csv\"; outbase=\"$figs/link_stress_max\"; xcol=\"config\";
    x_values=\"$configs\"; measure=\"link_stress_max\"; logy=1; key_pos=\"bottom left\";
    title=\"Maximum link stress, one message per stripe ($n peers, mean and 95% CI over $s seeds)\";
    xlabel=\"configuration (in-degree x capacity)\"; ylabel=\"copies on the busiest physical link (log scale)\";
    extra=', \"\" using (\$0):(column(\"central_server.max_mean\")) with linespoints dt 2 lw 2 pt 4 title \"central server\", \"\" using (\$0):(column(\"ip_multicast.max_mean\")) with linespoints dt 3 lw 2 pt 8 title \"IP multicast\"'"
  plot points "infile=\"$d/points.csv\"; outbase=\"$figs/link_stress_mean\"; xcol=\"config\";
    x_values=\"$configs\"; measure=\"link_stress_mean\"; ymin=0; key_pos=\"bottom left\";
    title=\"Mean link stress over used links, one message per stripe ($n peers, 95% CI over $s seeds)\";
    xlabel=\"configuration (in-degree x capacity)\"; ylabel=\"copies per used physical link (mean)\";
    extra=', \"\" using (\$0):(column(\"central_server.mean_mean\")) with linespoints dt 2 lw 2 pt 4 title \"central server\", \"\" using (\$0):(column(\"ip_multicast.mean_mean\")) with linespoints dt 3 lw 2 pt 8 title \"IP multicast\"'"
  cp -f "$d/points.md" "$figs/forest.md"
  cp -f "$d/points.csv" "$figs/forest_points.csv"
fi

# --------------------------------------------------------------------------------
if want failure; then
  echo "$prog: failure: 25% of receivers crash at once" >&2
  run_sweep failure --md build_s,crashed,repair_s,complete_fraction_after,repair_msgs_per_peer,tree_check.cycles,tree_check.unattached
  d="$raw/failure"
  n=$(peers_of "$d")
  mkdir -p "$d/aligned"
  files="" titles=""
  while IFS=$'\t' read -r id rest; do
    seed=${rest##*$'\t'}
    # Time since the crash: the first sample after it is the first 'repair' row;
    # samples are 1 s apart, so the alignment is good to 1 s.
    awk -F, -v OFS=, 'NR == 1 { print "t_since_crash_s", $0; next }
      { row[NR] = $0; t[NR] = $1; if (!t0 && $2 == "repair") t0 = $1 }
      END { if (!t0) exit 3; for (i = 2; i <= NR; i++) print t[i] - t0, row[i] }' \
      "$d/runs/$id/timeseries.csv" >"$d/aligned/$id.csv"
    files+=" $d/aligned/$id.csv" titles+=" seed=$seed"
  done < <(tail -n +2 "$d/manifest.tsv")
  plot timeseries "files=\"$files\"; titles=\"$titles\"; xcol=\"t_since_crash_s\";
    ycol=\"attached_fraction\"; y2col=\"forest_msgs\"; vline=0; vline_label=\"25% crash\"; xmin=-10;
    outbase=\"$figs/failure\"; key_pos=\"bmargin center horizontal\";
    title=\"Catastrophic failure: 25% of $n peers crash at once (16x16)\";
    xlabel=\"time since the crash (s; aligned to 1 s)\";
    ylabel=\"attached (receiver, stripe) pairs (fraction)\";
    y2label=\"forest messages per s\""
  cp -f "$d/points.md" "$figs/failure.md"
fi

# --------------------------------------------------------------------------------
if want pastry; then
  echo "$prog: pastry: hops against N" >&2
  run_sweep pastry --md hops_mean,hops_p99,correct_fraction,rdp_mean,rt_entries_mean,messages_per_peer
  d="$raw/pastry"
  s=$(seeds_of "$d")
  plot points "infile=\"$d/points.csv\"; outbase=\"$figs/pastry_hops\"; xcol=\"peers\";
    measure=\"hops_mean\"; logx=1; ymin=0; key_pos=\"top left\";
    title=\"Pastry: mean overlay hops per lookup against N (b = 4, l = 16; 95% CI over $s seeds)\";
    xlabel=\"peers N (log scale)\"; ylabel=\"overlay hops per lookup (mean)\";
    extra=', log(x)/log(16) with lines dt 2 lw 2 lc rgb \"#555555\" title \"log_{16} N (the reference: mean hops close to it)\", ceil(log(x)/log(16)) with steps dt 3 lw 2 lc rgb \"#aa5500\" title \"ceil(log_{16} N) (the reference: mean hops below it)\"'"
  # The hop histogram at the largest N, seed 1.
  big=$(awk -F '\t' 'NR > 1 && $NF == 1 && $2 + 0 > m { m = $2 + 0; id = $1 } END { print id }' "$d/manifest.tsv")
  bign=$(awk -F '\t' -v id="$big" '$1 == id { print $2 }' "$d/manifest.tsv")
  plot pastry_hops "infile=\"$d/runs/$big/hops.csv\"; outbase=\"$figs/pastry_hops_hist\";
    title_extra=\"N = $bign, transit-stub, seed 1\""
  cp -f "$d/points.md" "$figs/pastry.md"
fi

# --------------------------------------------------------------------------------
if want churn; then
  if ! "$sim" stream --help >/dev/null 2>&1; then
    die "churn: this simulator has no 'stream' command; build a newer checkout (or --only forest,failure,pastry)"
  fi
  echo "$prog: churn: stripes received under churn" >&2
  run_sweep churn --md continuity_mean,continuity_p01,generations_lost_fraction,survivors_continuity_mean,arrivals,crashes,polite_departures,uplink_drops,control_overhead_fraction
  d="$raw/churn"
  n=$(peers_of "$d")
  files="" titles=""
  while IFS=$'\t' read -r id rest; do
    files+=" $d/runs/$id/timeseries.csv" titles+=" seed=${rest##*$'\t'}"
  done < <(tail -n +2 "$d/manifest.tsv")
  plot timeseries "files=\"$files\"; titles=\"$titles\"; xcol=\"t_s\"; ycol=\"stripes_received_mean\";
    y2col=\"peers_online\"; ymin=0; ymax=16.5; outbase=\"$figs/churn\"; key_pos=\"bmargin center horizontal\";
    title=\"Churn: stripes received per peer, ~$n peers online, Weibull sessions (median 10 min)\";
    xlabel=\"time since the stream started (s)\";
    ylabel=\"stripes received per peer in that second (mean of 16)\"; y2label=\"peers online\""
  cp -f "$d/points.md" "$figs/churn.md"
fi

echo "$prog: figures and tables in $figs" >&2
