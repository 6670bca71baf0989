#!/usr/bin/env bash
# ctest sweep_pipeline: the experiment pipeline end to end, so that it cannot rot.
#
#   tests/check_sweep.sh SIMULATOR
#
# 1. scripts/aggregate on a hand-made results folder: the rows, the CSV quoting and
#    the Student-t 95% interval against values worked out by hand.
# 2. scripts/sweep: usage errors exit 2 with a message; 'list' expands the product.
# 3. The --quick size of the SplitStream paper's failure and Pastry sweeps through
#    papers/splitstream-sosp03/run.sh (runner, aggregator, every plot of those
#    parts), then a re-run that must skip every finished run.
# 4. A run that fails is reported, leaves no JSON and is retried on the next run.
# 5. 'slurm' writes a job array whose task, run by hand, finishes its run.
set -euo pipefail

sim=${1:?usage: check_sweep.sh SIMULATOR}
[[ -x "$sim" ]] || { echo "check_sweep: no simulator at $sim" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sweep="$root/scripts/sweep"
aggregate="$root/scripts/aggregate"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
# expect_exit CODE PATTERN COMMAND...: exit status CODE and stderr matching PATTERN.
expect_exit() {
  local code=$1 pat=$2 rc=0
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if ((rc == code)) && grep -q -- "$pat" "$tmp/err"; then
    ok "exit $code, '$pat': $*"
  else
    bad "expected exit $code and '$pat' from: $* (got exit $rc; stderr: $(head -c 300 "$tmp/err"))"
  fi
}
is_png() { [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]]; }
is_svg() { grep -q '<svg' "$1" && grep -q '</svg>' "$1"; }

# ---------------------------------------------------------------------------
echo "== 1. aggregate on a fixture"
fx="$tmp/fixture"
mkdir -p "$fx/runs"
printf 'id\tlabel\tseed\n' >"$fx/manifest.tsv"
for s in 1 2 3 4 5; do
  printf 'a%s\tA\t%s\n' "$s" "$s" >>"$fx/manifest.tsv"
  printf '{"v":%s,"o":{"w":null,"z":%s},"s":"text","b":true,"seed":%s}\n' "$s" $((s * s)) "$s" \
    >"$fx/runs/a$s.json"
done
printf 'b1\tB,c\t1\nb2\tB,c\t2\nb3\tB,c\t3\n' >>"$fx/manifest.tsv"
echo '{"v":7}' >"$fx/runs/b1.json"
echo '{"v":7,"o":{"w":2}}' >"$fx/runs/b2.json"
# b3 has not finished: an error unless --allow-missing.
expect_exit 1 "have not finished" "$aggregate" "$fx"
check "aggregate --allow-missing" "$aggregate" "$fx" --allow-missing --md v,o.z
check "runs.csv header" grep -qx 'id,label,seed,v,o.w,o.z' "$fx/runs.csv"
check "runs.csv row (null is empty)" grep -qx 'a3,A,3,3,,9' "$fx/runs.csv"
check "runs.csv quotes a comma" grep -qx 'b2,"B,c",2,7,2,' "$fx/runs.csv"
check "runs.csv has 7 rows" test "$(wc -l <"$fx/runs.csv")" -eq 8
check "points.csv header" grep -qx 'label,runs,v_mean,v_ci95,v_n,o.w_mean,o.w_ci95,o.w_n,o.z_mean,o.z_ci95,o.z_n' "$fx/points.csv"
# v = 1..5: mean 3, s = 1.58114, t(0.975, 4) = 2.776445: half-width 1.96324.
# z = 1,4,9,16,25: mean 11, s = 9.66954: half-width 12.0063.
check "points.csv: mean and Student-t interval" grep -qx 'A,5,3,1.96324,5,,,0,11,12.0063,5' "$fx/points.csv"
# B: v = 7,7 (zero spread); w seen once (no interval); z never.
check "points.csv: n = 1 has no interval" grep -qx '"B,c",2,7,0,2,2,,1,,,0' "$fx/points.csv"
check "points.md" grep -qx '| A | 5 | 3 ± 1.96324 | 11 ± 12.0063 |' "$fx/points.md"
expect_exit 2 "no numeric field nosuch" "$aggregate" "$fx" --allow-missing --md nosuch
expect_exit 2 "manifest.tsv not found" "$aggregate" "$tmp"
# t quantiles at other degrees of freedom (two runs: 12.706; 31 runs: 2.042).
fx2="$tmp/fixture2"
mkdir -p "$fx2/runs"
printf 'id\tseed\n' >"$fx2/manifest.tsv"
for s in $(seq 1 31); do
  printf 'r%s\t%s\n' "$s" "$s" >>"$fx2/manifest.tsv"
  echo "{\"v\":$((s % 2))}" >"$fx2/runs/r$s.json"
done
"$aggregate" "$fx2" 2>/dev/null
# v alternates 1,0,...: mean 16/31, s = 0.508001; 2.042272 * s / sqrt(31) = 0.186336.
check "t(0.975, 30)" grep -qx 'runs,v_mean,v_ci95,v_n' "$fx2/points.csv"
check "t(0.975, 30) value" grep -qx '31,0.516129,0.186336,31' "$fx2/points.csv"

# ---------------------------------------------------------------------------
echo "== 2. sweep: usage and expansion"
check "sweep --help" "$sweep" --help >/dev/null
check "aggregate --help" "$aggregate" --help >/dev/null
printf 'name t\ncommand pastry\nbogus 1\n' >"$tmp/bad.sweep"
expect_exit 2 "bad.sweep:3: unknown directive 'bogus'" "$sweep" list "$tmp/bad.sweep" --results "$tmp/bad"
printf 'name t\ncommand pastry\nparam peers 10\n' >"$tmp/noseed.sweep"
expect_exit 2 "no 'seeds' line" "$sweep" list "$tmp/noseed.sweep" --results "$tmp/bad"
expect_exit 2 "cannot read sweep file" "$sweep" run "$tmp/missing.sweep"
cat >"$tmp/tiny.sweep" <<'EOF'
name tiny        # comments and blank lines are fine

command pastry
args --lookups 20 --topology sphere
param peers 40 60
flag no-pns off on
seeds 1..2 7
EOF
expect_exit 2 "no parameter 'nosuch'" "$sweep" list "$tmp/tiny.sweep" --results "$tmp/tiny" --set nosuch=1
expect_exit 2 "unknown option '--frob'" "$sweep" run "$tmp/tiny.sweep" --frob
"$sweep" list "$tmp/tiny.sweep" --results "$tmp/tiny" --sim "$sim" >"$tmp/list"
check "list: 2 x 2 x 3 = 12 runs" test "$(wc -l <"$tmp/list")" -eq 12
check "list: a flag that is on" grep -qF " pastry --peers 60 --no-pns --lookups 20 --topology sphere --seed 7" "$tmp/list"
check "list: a flag that is off" grep -qF " pastry --peers 40 --lookups 20 --topology sphere --seed 1" "$tmp/list"
"$sweep" list "$tmp/tiny.sweep" --results "$tmp/tiny" --set seeds=3 --set peers=50 >"$tmp/list2"
check "list --set" test "$(wc -l <"$tmp/list2")" -eq 2

# ---------------------------------------------------------------------------
echo "== 3. the paper's --quick failure and Pastry sweeps, end to end"
paper="$root/papers/splitstream-sosp03/run.sh"
out="$tmp/paper"
if "$paper" --quick --only failure,pastry -j 2 --sim "$sim" --out "$out" >"$tmp/paper.log" 2>&1; then
  ok "run.sh --quick --only failure,pastry"
else
  bad "run.sh --quick failed:"; tail -n 20 "$tmp/paper.log" >&2
fi
for f in failure pastry_hops pastry_hops_hist; do
  check "figure $f.png is a PNG" is_png "$out/figures/$f.png"
  check "figure $f.svg is an SVG" is_svg "$out/figures/$f.svg"
done
check "failure figure titled" grep -q 'Catastrophic failure' "$out/figures/failure.svg"
check "failure: every survivor repaired" \
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "complete_fraction_after_mean") c = i; next } c && $c > 0.99 { found = 1 } END { exit !found }' "$out/failure/points.csv"
check "pastry: one row per N" test "$(wc -l <"$out/pastry/points.csv")" -eq 4
check "pastry: hops rise with N" \
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "hops_mean_mean") c = i; next } { if (NR > 2 && $c <= prev) bad = 1; prev = $c } END { exit !c || bad }' "$out/pastry/points.csv"
check "pastry table" grep -q '^| 300 | 2 |' "$out/figures/pastry.md"
n_before=$(wc -l <"$out/pastry/joblog")
"$sweep" run "$root/papers/splitstream-sosp03/sweeps/pastry.sweep" --quick --sim "$sim" \
  --results "$out/pastry" 2>"$tmp/rerun.err"
check "re-run skips finished runs" grep -q '6 finished, 0 to run' "$tmp/rerun.err"
check "re-run ran nothing" test "$(wc -l <"$out/pastry/joblog")" -eq "$n_before"

# ---------------------------------------------------------------------------
echo "== 4. a failing run"
cat >"$tmp/failing.sweep" <<'EOF'
name failing
command pastry
args --lookups 10 --topology sphere
param peers 30 0
seeds 1
EOF
expect_exit 1 "did not finish" "$sweep" run "$tmp/failing.sweep" --results "$tmp/failing" --sim "$sim"
check "the good run finished" test -s "$tmp/failing/runs/peers=30,seed=1.json"
check "the bad run left no JSON" test ! -e "$tmp/failing/runs/peers=0,seed=1.json"
check "the bad run kept its stderr" test -s "$tmp/failing/runs/peers=0,seed=1.err"
"$sweep" status "$tmp/failing.sweep" --results "$tmp/failing" >"$tmp/status"
check "status counts it" grep -q '2 runs: 1 finished, 1 pending (1 of them tried before and failed' "$tmp/status"
expect_exit 1 "1 run(s) of .* have not finished" "$aggregate" "$tmp/failing"

# ---------------------------------------------------------------------------
echo "== 5. Slurm job array"
"$sweep" slurm "$tmp/tiny.sweep" --results "$tmp/slurm" --sim "$sim" --set peers=40 --set seeds=1..2 \
  --max-parallel 4 --slurm-opts "--partition=short --time=00:10:00" >"$tmp/sbatch" 2>/dev/null
check "slurm prints the sbatch command" grep -qx "sbatch $tmp/slurm/slurm.sh" "$tmp/sbatch"
check "slurm: array of 4, at most 4 at once" grep -qx '#SBATCH --array=1-4%4' "$tmp/slurm/slurm.sh"
check "slurm: extra options" grep -qx '#SBATCH --partition=short' "$tmp/slurm/slurm.sh"
SLURM_ARRAY_TASK_ID=3 bash "$tmp/slurm/slurm.sh" 2>/dev/null
check "slurm task 3 ran its run" test -s "$tmp/slurm/runs/peers=40,no-pns=on,seed=1.json"
"$sweep" status "$tmp/tiny.sweep" --results "$tmp/slurm" --set peers=40 --set seeds=1..2 >"$tmp/status"
check "status after one task" grep -q '4 runs: 1 finished, 3 pending' "$tmp/status"

echo
if ((fails)); then
  echo "check_sweep: $fails check(s) failed" >&2
  exit 1
fi
echo "check_sweep: all checks passed"
