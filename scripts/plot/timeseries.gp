# Time series of one or two columns from several CSV files (one line per file), e.g.
# the attached fraction and the repair traffic after a catastrophic failure, from
# the timeseries.csv of `stripecast-sim forest --out` (or of `stream --out`).
#
#   gnuplot -e 'files="s1/timeseries.csv s2/timeseries.csv"; titles="seed=1 seed=2";
#               xcol="t_s"; ycol="attached_fraction"; outbase="fig/failure";
#               ylabel="attached (peer, stripe) pairs (fraction)"' scripts/plot/timeseries.gp
#
# files, titles  space-separated, one title per file (gnuplot words)
# xcol, ycol     columns by header name (x in seconds)
# y2col          optional second measure on the right axis (dashed lines)
# outbase        output path without extension; writes outbase.png and outbase.svg
# title, xlabel, ylabel, y2label   texts; put units in the labels
# xmin, xmax     optional x range; ymin, ymax optional left y range
# logy2          1 for a log right axis (default 0)
# vline          optional x of a vertical marker (e.g. the crash), vline_label its text
# key_pos        gnuplot 'set key' position (default "bottom right")

if (!exists("files"))   { print "timeseries.gp: set files=\"a.csv b.csv\""; exit status 1 }
if (!exists("titles"))  { print "timeseries.gp: set titles=\"A B\""; exit status 1 }
if (!exists("xcol"))    { xcol = "t_s" }
if (!exists("ycol"))    { print "timeseries.gp: set ycol=\"COLUMN\""; exit status 1 }
if (!exists("outbase")) { print "timeseries.gp: set outbase=\"path/without/ext\""; exit status 1 }
if (words(files) != words(titles)) { print "timeseries.gp: files and titles differ in number"; exit status 1 }
if (!exists("y2col"))  { y2col = "" }
if (!exists("title"))  { title = ycol . " over time" }
if (!exists("xlabel")) { xlabel = "time (s)" }
if (!exists("ylabel")) { ylabel = ycol }
if (!exists("y2label")) { y2label = y2col }
if (!exists("logy2"))  { logy2 = 0 }
if (!exists("key_pos")) { key_pos = "bottom right" }

set datafile separator ","
set title title noenhanced
set xlabel xlabel
set ylabel ylabel
set grid lc rgb "#dddddd"
eval "set key " . key_pos . " box opaque"
# A key under the plot needs room beneath the x label.
if (strstrt(key_pos, "bmargin") > 0 || strstrt(key_pos, "below") > 0) { set bmargin 7 }
if (exists("ymin") && exists("ymax")) { set yrange [ymin:ymax] }
if (exists("xmin") && exists("xmax")) { set xrange [xmin:xmax] }
if (exists("xmin") && !exists("xmax")) { set xrange [xmin:*] }
if (!exists("xmin") && exists("xmax")) { set xrange [*:xmax] }
if (strlen(y2col) > 0) {
  set y2label y2label
  set y2tics
  set ytics nomirror
  if (logy2) { set logscale y2 }
}
if (exists("vline")) {
  set arrow 1 from vline, graph 0 to vline, graph 1 nohead dt 3 lc rgb "#aa0000"
  if (exists("vline_label")) { set label 1 vline_label at vline, graph 0.96 offset 0.5,0 tc rgb "#aa0000" }
}

n = words(files)
draw_plot = "plot for [i=1:n] word(files, i) using (column(xcol)):(column(ycol)) with lines lw 2 lc i title word(titles, i)"
if (strlen(y2col) > 0) {
  draw_plot = draw_plot . ", for [i=1:n] word(files, i) using (column(xcol)):(column(y2col)) axes x1y2 with lines lw 1 dt 2 lc i title word(titles, i) . ' (' . y2label . ', right)'"
}

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
