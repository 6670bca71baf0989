#!/usr/bin/env bash
# Erasure coding across SplitStream's stripes against pulling missing chunks (repair):
# runs sweeps/fec.sweep with `stripecast-sim stream`, aggregates it and draws the
# figures. README.md beside this script is the write-up.
set -euo pipefail

prog=run.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
all_parts="fec"
# shellcheck source=../../scripts/lib/paper.sh
source "$root/scripts/lib/paper.sh"

usage() {
  cat <<USAGE
usage: papers/fec-across-stripes/run.sh [--quick] [options]

Streams 128 kbit/s over a 16-stripe 16x32 forest of 1,000 peers for 300 s under
churn (Weibull sessions, median 5 min, shape 0.5) and random loss (0, 1%, 3%), with
the stripes coded 16+0, 14+2, 12+4 or 8+8 (data+parity, Reed-Solomon across the
stripes) and repair off or on: 72 runs (3 seeds), about 15 minutes at -j2.
Figures and tables go to figures/ (committed); raw runs to out/full/.
Finished runs are kept: running again only redoes what is missing.

options:
  --quick          200 peers, 60 s, 2 seeds (under a minute): raw runs and figures
                   go to out/quick/ unless --out is given
  -j, --jobs N     runs at once (default 2)
  --out DIR        raw runs to DIR/, figures and tables to DIR/figures/
  --sim PATH       use this simulator instead of building build/stripecast-sim
  -h, --help       this help
USAGE
}

paper_args "$@"
paper_setup
"$sim" stream --help >/dev/null 2>&1 ||
  die "this simulator has no 'stream' command; build a newer checkout"

run_sweep fec --md continuity_mean,continuity_p01,generations_lost_fraction,repair_pull_fraction,control_overhead_fraction,startup_ms_p50,lag_ms_p95
d="$raw/fec"
n=$(peers_of "$d") s=$(seeds_of "$d")
codes="16+0 14+2 12+4 8+8"
lines="off/0 off/0.01 off/0.03 on/0 on/0.01 on/0.03"
common="infile=\"$d/points.csv\"; xcol=\"fec\"; x_values=\"$codes\";
  series=\"repair loss\"; series_values=\"$lines\"; series_label=\"repair/loss \";
  series_dt=\"2 2 2 1 1 1\"; key_pos=\"bottom right\";
  xlabel=\"coding: data + parity chunks per generation (16 stripes)\""
plot points "$common; outbase=\"$figs/continuity_mean\"; measure=\"continuity_mean\";
  title=\"Continuity under churn and loss ($n peers, mean and 95% CI over $s seeds)\";
  ylabel=\"generations played in time (fraction, mean over receivers)\""
plot points "$common; outbase=\"$figs/continuity_p01\"; measure=\"continuity_p01\";
  title=\"The worst 1% of receivers ($n peers, mean and 95% CI over $s seeds)\";
  ylabel=\"continuity of the 1st-percentile receiver (fraction)\""
plot points "$common; outbase=\"$figs/repair_pull_fraction\"; measure=\"repair_pull_fraction\";
  filter='strcol(\"repair\") eq \"on\"'; series_values=\"on/0 on/0.01 on/0.03\"; series_dt=\"1 1 1\";
  key_pos=\"top right\";
  title=\"Chunks that repair had to pull ($n peers, mean and 95% CI over $s seeds)\";
  ylabel=\"repaired chunks / chunks delivered (fraction)\""
# Over time, 1% loss, seed 1: how each coding rides out the churn without repair.
files="" titles=""
for c in $codes; do
  id=$(ids_where "$d" repair off loss 0.01 fec "$c" seed 1)
  files+=" $d/runs/$id/timeseries.csv" titles+=" $c"
done
plot timeseries "files=\"$files\"; titles=\"$titles\"; xcol=\"t_s\"; ycol=\"continuity\";
  outbase=\"$figs/continuity_over_time\"; ymin=0; ymax=1.02; key_pos=\"bottom right\";
  title=\"Continuity per second without repair, 1% loss ($n peers, seed 1)\";
  xlabel=\"time since the stream started (s)\";
  ylabel=\"generations of that second played in time (fraction)\""
cp -f "$d/points.md" "$figs/fec.md"
cp -f "$d/points.csv" "$figs/fec_points.csv"
echo "$prog: figures and tables in $figs" >&2
