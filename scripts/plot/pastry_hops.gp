# Pastry lookup hop distribution: fraction of lookups against overlay hops.
#
#   gnuplot -e 'infile="demo-out/hops.csv"; outbase="demo-out/pastry_hops"' \
#           scripts/plot/pastry_hops.gp
#
# infile       CSV written by `stripecast-sim pastry`: header "hops,count,fraction",
#              then one row per hop count (0..max)
# outbase      output path without extension; writes outbase.png and outbase.svg
# title_extra  optional text appended to the title (e.g. "N = 10,000, transit-stub")
#
# For comparison, Pastry routes in at most ceil(log_16 N) hops in the usual case
# (Rowstron & Druschel 2001, §2.3).

if (!exists("infile"))  { print "pastry_hops.gp: set infile=\"...csv\""; exit status 1 }
if (!exists("outbase")) { print "pastry_hops.gp: set outbase=\"path/without/ext\""; exit status 1 }
if (!exists("title_extra")) { title_extra = "" }

set datafile separator ","

# Totals for the legend: lookups counted, mean hops weighted by count.
stats infile using 2 skip 1 nooutput name "CNT"
stats infile using ($1 * $2) skip 1 nooutput name "HOPSUM"
stats infile using 1 skip 1 nooutput name "HOPS"
stats infile using 3 skip 1 nooutput name "FRAC"
total_lookups = CNT_sum
mean_hops = (total_lookups > 0) ? HOPSUM_sum / total_lookups : 0

plot_title = "Pastry lookups: distribution of overlay hops"
if (strlen(title_extra) > 0) { plot_title = plot_title . "\n{/*0.8 " . title_extra . "}" }

set title plot_title
set xlabel "overlay hops per lookup (hops)"
set ylabel "fraction of lookups (0–1)"
set xrange [HOPS_min - 0.7 : HOPS_max + 0.7]
set xtics 1
set mxtics 1
# Headroom above the tallest bar for its value label and the legend.
set yrange [0 : (FRAC_max > 0 ? FRAC_max * 1.3 : 1)]
set ytics nomirror
set grid ytics lc rgb "#dddddd"
set key top right box opaque
set boxwidth 0.7 absolute
set style fill solid 0.85 border lc rgb "#1f3f6f"

bar_label = sprintf("%d lookups, mean %.2f hops", total_lookups, mean_hops)

# Each nonzero value above its bar, so that even a bar too thin to see is read.
draw_plot = "plot infile using 1:3 skip 1 with boxes lc rgb '#4a7ab5' title bar_label, \
  '' using 1:3:(($3 > 0) ? sprintf('%.3g', $3) : '') skip 1 with labels offset 0,0.7 font ',9' notitle"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,560 enhanced font "sans,11"
} else {
  set terminal png size 900,560 enhanced
}
set output outbase . ".png"
@draw_plot

set terminal svg size 900,560 dynamic enhanced font "sans,11"
set output outbase . ".svg"
@draw_plot

unset output
