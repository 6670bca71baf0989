# One measure against one sweep parameter, mean ± 95% confidence interval across
# seeds, from the points.csv of scripts/aggregate; one line per series.
#
#   gnuplot -e 'infile="sweep-out/x/points.csv"; outbase="fig/build"; xcol="config";
#               x_values="16x16 16x18 16x32"; measure="build_s";
#               ylabel="forest build time (s)"' scripts/plot/points.gp
#
# infile         points.csv of scripts/aggregate (a header row)
# outbase        output path without extension; writes outbase.png and outbase.svg
# xcol           column of the x axis (a parameter)
# measure        the measure M: columns M_mean and M_ci95 are plotted
# x_values       optional: the x values in order, space-separated. Given, xcol is a
#                category (evenly spaced, labelled); else xcol must be numeric
# series         optional: a column whose values give one line each ..., or two
#                columns (space-separated), whose values are then joined with "/"
# series_values  ... these values, space-separated (required with series), e.g.
#                "off/0 off/0.01 on/0 on/0.01" for series="repair loss"
# series_label   optional: legend prefix for a series (default: series."=")
# series_dt      optional: dash type per series, space-separated (default all 1)
# filter         optional: a gnuplot expression choosing rows, e.g.
#                'strcol("loss") eq "0.01"' (default: every row)
# title, xlabel, ylabel  texts (defaults: the column names); put units in the labels
# logx, logy     1 for a log scale (default 0)
# ymin           optional lower end of the y axis (default: automatic)
# key_pos        gnuplot 'set key' position (default "top left")
# extra          optional: more plot clauses appended, e.g.
#                ', log(x)/log(16) with lines dt 2 title "log_{16} N"'
# Rows whose y mean is empty are skipped. Error bars are absent where n < 2.

if (!exists("infile"))  { print "points.gp: set infile=\"points.csv\""; exit status 1 }
if (!exists("outbase")) { print "points.gp: set outbase=\"path/without/ext\""; exit status 1 }
if (!exists("xcol"))    { print "points.gp: set xcol=\"COLUMN\""; exit status 1 }
if (!exists("measure")) { print "points.gp: set measure=\"MEASURE\" (plots MEASURE_mean, MEASURE_ci95)"; exit status 1 }
if (exists("series") && !exists("series_values")) { print "points.gp: series needs series_values"; exit status 1 }
if (!exists("series")) { series = "" }
if (!exists("series_values")) { series_values = "" }
if (!exists("series_label")) { series_label = series . "=" }
if (!exists("x_values")) { x_values = "" }
if (!exists("title"))  { title = measure . " against " . xcol }
if (!exists("xlabel")) { xlabel = xcol }
if (!exists("ylabel")) { ylabel = measure }
if (!exists("logx")) { logx = 0 }
if (!exists("logy")) { logy = 0 }
if (!exists("key_pos")) { key_pos = "top left" }
if (!exists("extra")) { extra = "" }
if (!exists("filter")) { filter = "1" }
if (!exists("series_dt")) { series_dt = "" }
sdt(i) = (words(series_dt) >= i) ? int(word(series_dt, i)) : 1

set datafile separator ","
set datafile missing ""
ymean = measure . "_mean"
yci = measure . "_ci95"
nser = (strlen(series) > 0) ? words(series_values) : 1
ncat = words(x_values)

# Category index of a string (1-based; 0 if absent).
catidx(s) = sum [cat_k=1:ncat] ((word(x_values, cat_k) eq s) ? cat_k : 0)
# Series i's rows only; a small offset per series keeps their error bars apart.
skey(dummy) = (words(series) > 1) ? strcol(word(series, 1)) . "/" . strcol(word(series, 2)) : strcol(series)
inser(i) = (strlen(series) == 0) ? 1 : (skey(0) eq word(series_values, i))
off(i) = (ncat > 0 && nser > 1) ? (i - (nser + 1) / 2.0) * 0.08 : 0
xpos(i) = (ncat > 0) ? catidx(strcol(xcol)) - 1 + off(i) : column(xcol)
ok(i) = inser(i) && (@filter) && strlen(strcol(ymean)) > 0 && (ncat == 0 || catidx(strcol(xcol)) > 0)
ciof(dummy) = (strlen(strcol(yci)) > 0) ? column(yci) : 0
sertitle(i) = (strlen(series) == 0) ? "mean, 95% CI" : series_label . word(series_values, i)

set title title noenhanced
set xlabel xlabel
set ylabel ylabel
set grid lc rgb "#dddddd"
eval "set key " . key_pos . " box opaque"
if (logx) { set logscale x }
if (logy) { set logscale y }
if (exists("ymin")) { set yrange [ymin:*] }
if (ncat > 0) {
  set xrange [-0.5 : ncat - 0.5]
  set xtics ()
  do for [i=1:ncat] { set xtics add (word(x_values, i) i - 1) }
} else {
  set offsets graph 0.03, graph 0.03, 0, 0
}
set pointsize 1.2
set bars 2

draw_plot = "plot for [ser_i=1:nser] infile using (ok(ser_i) ? xpos(ser_i) : NaN):(ok(ser_i) ? column(ymean) : NaN):(ok(ser_i) ? ciof(0) : NaN) \
  with yerrorlines lw 2 dt sdt(ser_i) pt (5 + ser_i) title sertitle(ser_i) " . extra

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
