# Cumulative distributions of one column from several CSV files, one line each:
# the fraction of rows with a value <= x. For per-peer and per-(peer, stripe) files of
# `stripecast-sim forest --out` (peers.csv, delays.csv, linkstress.csv).
#
#   gnuplot -e 'files="a/delays.csv b/delays.csv"; titles="16x16 16xNB";
#               col="delay_penalty"; outbase="fig/delay_cdf";
#               xlabel="delay penalty (tree delay / unicast delay)"' scripts/plot/cdf.gp
#
# files     space-separated CSV paths (with a header row; no blanks in the paths)
# titles    space-separated legend entries, one per file (gnuplot words: quote a
#           title with blanks, e.g. "'central server' 16x16")
# col       the column to distribute (by header name)
# outbase   output path without extension; writes outbase.png and outbase.svg
# cond      optional gnuplot expression choosing rows, e.g. 'column("peer") > 0'
#           (peers.csv: leave out the source) (default: every row)
# title, xlabel, ylabel   texts (ylabel default "fraction of rows (0-1)")
# logx      1 for a log x axis (default 0)
# xmin, xmax  optional x range
# key_pos   gnuplot 'set key' position (default "bottom right")

if (!exists("files"))   { print "cdf.gp: set files=\"a.csv b.csv\""; exit status 1 }
if (!exists("titles"))  { print "cdf.gp: set titles=\"A B\""; exit status 1 }
if (!exists("col"))     { print "cdf.gp: set col=\"COLUMN\""; exit status 1 }
if (!exists("outbase")) { print "cdf.gp: set outbase=\"path/without/ext\""; exit status 1 }
if (words(files) != words(titles)) { print "cdf.gp: files and titles differ in number"; exit status 1 }
if (!exists("cond"))   { cond = "1" }
if (!exists("title"))  { title = "CDF of " . col }
if (!exists("xlabel")) { xlabel = col }
if (!exists("ylabel")) { ylabel = "fraction of rows (0–1)" }
if (!exists("logx"))   { logx = 0 }
if (!exists("key_pos")) { key_pos = "bottom right" }

set datafile separator ","
set title title noenhanced
set xlabel xlabel
set ylabel ylabel
set yrange [0:1.02]
set ytics 0.1
set grid lc rgb "#dddddd"
eval "set key " . key_pos . " box opaque"
if (logx) { set logscale x }
if (exists("xmin") && exists("xmax")) { set xrange [xmin:xmax] }
if (exists("xmin") && !exists("xmax")) { set xrange [xmin:*] }
if (!exists("xmin") && exists("xmax")) { set xrange [*:xmax] }

# smooth cnormal: the cumulative sum of the second column, normalised to 1 (rows
# failing cond contribute nothing), first into a table per file, then drawn with at
# most ~2,000 of its steps: a CDF of millions of rows stays a small SVG.
n = words(files)
do for [i=1:n] {
  eval sprintf("set table \$cdf%d", i)
  plot word(files, i) using (column(col)):((@cond) ? 1 : 0) smooth cnormal
  unset table
}
set datafile separator whitespace
array thin[n]
do for [i=1:n] {
  eval sprintf("thin[%d] = int(|\$cdf%d| / 2000) + 1", i, i)
}
draw_plot = "plot for [i=1:n] sprintf('$cdf%d', i) using 1:2 every thin[i] with steps lw 2 title word(titles, i)"

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
