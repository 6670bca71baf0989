#!/usr/bin/env bash
# Rebuilds the SplitStream (SOSP 2003) evaluation from scratch: builds the simulator,
# runs the sweeps (scripts/sweep), aggregates them (scripts/aggregate) and draws every
# figure (scripts/plot/*.gp). README.md beside this script compares the results with
# the published ones.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
prog=run.sh
all_parts="forest failure pastry churn"

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
  churn     stripes received under churn: needs 'stripecast-sim stream', which
            does not exist yet; skipped with a message until it does

Full size: about 30 minutes of CPU at -j2 and 0.7 GB of memory per job. Figures
and tables go to figures/ (committed); raw runs to out/full/ (not committed).
Finished runs are kept: running again only redoes what is missing.

options:
  --quick          the CI size (2,000-peer forests, 2 seeds; under a minute at -j2):
                   raw runs and figures go to out/quick/ unless --out is given
  --only PARTS     comma-separated subset of: $all_parts (default: all)
  -j, --jobs N     runs at once (default 2; this machine has $(nproc 2>/dev/null || echo '?') cores)
  --out DIR        raw runs to DIR/, figures and tables to DIR/figures/
  --sim PATH       use this simulator instead of building build/stripecast-sim
  -h, --help       this help
USAGE
}

die() { echo "$prog: $*" >&2; exit 2; }

quick=0 jobs=2 out="" sim="" only="$all_parts"
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --only) (($# >= 2)) || die "--only needs PARTS"; only=${2//,/ }; shift 2 ;;
    -j | --jobs) (($# >= 2)) || die "$1 needs N"; jobs=$2; shift 2 ;;
    -j[0-9]*) jobs=${1#-j}; shift ;;
    --out) (($# >= 2)) || die "--out needs DIR"; out=$2; shift 2 ;;
    --sim) (($# >= 2)) || die "--sim needs PATH"; sim=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (--help)" ;;
  esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive integer"
for p in $only; do
  [[ " $all_parts " == *" $p "* ]] || die "--only: unknown part '$p' ($all_parts)"
done
want() { [[ " $only " == *" $1 "* ]]; }

for tool in jq gnuplot parallel awk; do
  command -v "$tool" >/dev/null 2>&1 || die "needs $tool: run scripts/deps.sh"
done

if ((quick)); then size=quick; else size=full; fi
if [[ -n "$out" ]]; then
  mkdir -p "$out"
  raw=$(cd "$out" && pwd)
  figs="$raw/figures"
else
  raw="$here/out/$size"
  if ((quick)); then figs="$raw/figures"; else figs="$here/figures"; fi
fi
mkdir -p "$raw" "$figs"

# The simulator: built from this checkout unless given.
if [[ -z "$sim" ]]; then
  echo "$prog: building the simulator (build/, RelWithDebInfo)" >&2
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$root/build" -j"$jobs" --target stripecast-sim >/dev/null
  sim="$root/build/stripecast-sim"
fi
[[ -x "$sim" ]] || die "simulator '$sim' not found"

sweep_args=(-j "$jobs" --sim "$sim")
((quick)) && sweep_args+=(--quick)

# run_sweep NAME [aggregate args...]: run sweeps/NAME.sweep into $raw/NAME, aggregate.
run_sweep() {
  local name=$1
  shift
  "$root/scripts/sweep" run "$here/sweeps/$name.sweep" --results "$raw/$name" "${sweep_args[@]}"
  "$root/scripts/aggregate" "$raw/$name" "$@"
}

# ids_where DIR COLUMN VALUE: run ids of DIR's manifest whose COLUMN is VALUE.
ids_where() {
  awk -F '\t' -v col="$2" -v val="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; if (!c) exit 3; next }
    $c == val { print $1 }' "$1/manifest.tsv"
}

# pool OUT FILE DIR IDS...: concatenate runs/ID/FILE of the given runs (one header).
pool() {
  local outf=$1 file=$2 dir=$3
  shift 3
  local files=()
  for id in "$@"; do files+=("$dir/runs/$id/$file"); done
  awk 'FNR == 1 && NR != 1 { next } { print }' "${files[@]}" >"$outf"
}

plot() { # plot SCRIPT 'gnuplot -e assignments'
  gnuplot -e "$2" "$root/scripts/plot/$1.gp"
}

# The per-size facts that titles quote.
peers_of() { awk -F '\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "peers") c = i; next } c { print $c; exit }' "$1/manifest.tsv"; }
seeds_of() { awk -F '\t' 'NR > 1 { s[$NF] = 1 } END { n = 0; for (k in s) n++; print n }' "$1/manifest.tsv"; }

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
  n=$(peers_of "$d") s=$(seeds_of "$d")
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
    outbase=\"$figs/failure\"; key_pos=\"below\";
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
    extra=', \"$here/published_pastry_hops.csv\" using 1:2 with points pt 2 ps 2 lw 2 title \"Pastry paper (Middleware 2001)\", log(x)/log(16) with lines dt 2 lc rgb \"#777777\" title \"log_{16} N\"'"
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
    echo "$prog: churn: skipped: this simulator has no 'stream' command yet (README.md, 'Not produced')" >&2
  else
    echo "$prog: churn: stripes received under churn" >&2
    run_sweep churn --md continuity_mean,continuity_p01,generations_lost_fraction
    d="$raw/churn"
    s=$(seeds_of "$d")
    cp -f "$d/points.md" "$figs/churn.md"
  fi
fi

echo "$prog: figures and tables in $figs" >&2
