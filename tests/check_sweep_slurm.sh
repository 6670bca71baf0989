#!/usr/bin/env bash
# ctest sweep_slurm: 'scripts/sweep slurm' through a real Slurm cluster.
#
#   tests/check_sweep_slurm.sh SIMULATOR
#
# Needs a Slurm cluster that this user can submit to and whose nodes see this
# checkout and /tmp-like scratch at the same paths (SC_SLURM_SCRATCH, default: a
# folder under the build tree's parent). Writes the job array of a small sweep,
# submits it with sbatch, waits for it (squeue), and checks that every task
# finished its run and that 'status' and a second 'slurm' agree nothing is left.
# Exits 77 (ctest: skipped) when no Slurm controller answers (sinfo fails), which
# is the case on CI's machine; docs/sweeps.md tells how it was run on a one-node
# cluster.
set -euo pipefail

sim=${1:?usage: check_sweep_slurm.sh SIMULATOR}
[[ -x "$sim" ]] || { echo "check_sweep_slurm: no simulator at $sim" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v sbatch >/dev/null || ! timeout 10 sinfo -h >/dev/null 2>&1; then
  echo "check_sweep_slurm: skipped: no Slurm controller answers (sinfo)"
  exit 77
fi

scratch=${SC_SLURM_SCRATCH:-$(dirname "$sim")}
tmp=$(mktemp -d "$scratch/sweep-slurm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

res="$tmp/results"
"$root/scripts/sweep" slurm "$root/tests/tiny.sweep" --results "$res" --sim "$sim" \
  --slurm-opts "--mem=500M --time=00:05:00" --max-parallel 2 >"$tmp/submit" 2>"$tmp/err"
grep -q '^#SBATCH --array=1-4%2$' "$res/slurm.sh" && ok "array of 4 tasks, 2 at once" ||
  bad "no '--array=1-4%2' in $res/slurm.sh"
read -r submit_cmd script <"$tmp/submit"
[[ "$submit_cmd" == sbatch && "$script" == "$res/slurm.sh" ]] || bad "printed '$submit_cmd $script'"
job=$(sbatch --parsable "$script") || { bad "sbatch failed"; exit 1; }
job=${job%%;*}
ok "submitted job $job"
for _ in $(seq 1 120); do
  [[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] && break
  sleep 1
done
[[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] || bad "job $job still queued after 120 s"
n=$(find "$res/runs" -maxdepth 1 -name '*.json' -size +0 | wc -l)
((n == 4)) && ok "4 runs' JSON written by the array's tasks" || bad "expected 4 JSON files, found $n"
logs=$(find "$res" -maxdepth 1 -name "slurm-${job}_*.log" | wc -l)
((logs == 4)) && ok "4 task logs" || bad "expected 4 task logs, found $logs"
"$root/scripts/sweep" status "$root/tests/tiny.sweep" --results "$res" 2>&1 | grep -q '4 finished, 0 pending' &&
  ok "status: 4 finished" || bad "status does not count 4 finished"
"$root/scripts/sweep" slurm "$root/tests/tiny.sweep" --results "$res" --sim "$sim" 2>&1 | grep -q 'all 4 runs have finished; nothing to submit' &&
  ok "a second 'slurm' finds nothing left" || bad "a second 'slurm' still finds runs pending"

if ((fails)); then
  echo "check_sweep_slurm: $fails failure(s)" >&2
  exit 1
fi
echo "check_sweep_slurm: all checks passed"
