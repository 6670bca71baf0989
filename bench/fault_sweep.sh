#!/usr/bin/env bash
# fault_sweep.sh — the seeded fault sweep (docs/faults.md): runs
# `stripecast-sim faults --seed S` for many seeds with GNU parallel, shows
# progress, and prints a summary with every failing seed's replay command.
#
#   bench/fault_sweep.sh [--sim PATH] [--seeds N] [--from S] [--jobs J]
#                        [--repeat-every K] [--out FILE] [--allow KIND,...]
#
# --repeat-every K: every K-th seed runs twice and must give the same trace
# digest (determinism; 1 = every seed, the default). Every violation fails
# the sweep, except those of the kinds --allow names (known open findings,
# still counted and listed in the summary): cycles, capacity_excess,
# order_breaks, accounting, payload_mismatches, nondeterminism, crashed
# (safety), extra_roots, unattached, stalled, stuck_joining (liveness).
# Exit status: 0, 1 when a check failed, 2 on a usage error.
set -u
sim=build/stripecast-sim
seeds=200
from=1
jobs=2
every=1
out=""
allow=""

while [[ $# -gt 0 ]]; do
  case $1 in
  --sim) sim=$2; shift 2 ;;
  --seeds) seeds=$2; shift 2 ;;
  --from) from=$2; shift 2 ;;
  --jobs) jobs=$2; shift 2 ;;
  --repeat-every) every=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --allow) allow=$2; shift 2 ;;
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "fault_sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$seeds" "$from" "$jobs" "$every"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "fault_sweep.sh: '$n' is not a number" >&2; exit 2; }
done
[[ -x $sim ]] || { echo "fault_sweep.sh: no simulator at '$sim'" >&2; exit 2; }
command -v parallel >/dev/null || { echo "fault_sweep.sh: needs GNU parallel" >&2; exit 2; }
[[ $every -ge 1 ]] || every=1
[[ -n $out ]] || out=$(mktemp -t fault_sweep.XXXXXX.jsonl)
: >"$out"

last=$((from + seeds - 1))
start=$(date +%s)
echo "fault sweep: seeds $from..$last, $jobs jobs, determinism every $every seed(s), results in $out" >&2
# One JSON line per seed; a run that prints nothing (a crash) gets a line
# saying so, so no seed goes missing from the summary.
seq "$from" "$last" | parallel -j "$jobs" --line-buffer \
  "r=off; [ \$(( {} % $every )) -eq 0 ] && r=on;"' o=$('"$sim"' faults --seed {} --repeat $r 2>/dev/null); rc=$?;
   if [ -n "$o" ]; then echo "$o"; else echo "{\"seed\":{},\"ok\":false,\"crashed\":$rc,\"replay\":\"stripecast-sim faults --seed {}\"}"; fi' |
  tee -a "$out" |
  awk -v n="$seeds" -v t0="$start" '
    { done++; if ($0 !~ /"ok":true/) bad++ }
    done % 50 == 0 || done == n {
      el = systime() - t0
      printf "\rfault sweep: %d/%d seeds, %d with a violation, %ds", done, n, bad, el > "/dev/stderr"
      fflush("/dev/stderr")
    }
    END { printf "\n" > "/dev/stderr" }'

python3 - "$out" "$allow" "$(($(date +%s) - start))" <<'EOF'
import json, sys
path, wall = sys.argv[1], int(sys.argv[3])
allow = set(k for k in sys.argv[2].split(",") if k)
safety = ["cycles", "capacity_excess", "order_breaks", "accounting",
          "payload_mismatches", "nondeterminism", "crashed"]
liveness = ["extra_roots", "unattached", "stalled", "stuck_joining"]
rows = [json.loads(l) for l in open(path) if l.strip()]
seeds = {}
kinds = {k: [] for k in safety + liveness}
repeated = 0
for r in rows:
    if "trace_digest_repeat" in r:
        repeated += 1
    for k in kinds:
        if r.get(k):
            kinds[k].append(r)
print(f"seeds run: {len(rows)} in {wall} s; repeated for determinism: {repeated}")
unknown = allow - set(kinds)
if unknown:
    print(f"fault_sweep.sh: --allow names no check: {','.join(sorted(unknown))}")
    sys.exit(2)
bad_safety = {r["seed"] for k in safety for r in kinds[k]}
bad_live = {r["seed"] for k in liveness for r in kinds[k]}
failing = {r["seed"] for k in kinds if k not in allow for r in kinds[k]}
print(f"seeds with a safety violation: {len(bad_safety)}")
print(f"seeds with a liveness violation: {len(bad_live)}")
print(f"seeds failing (violations not allowed): {len(failing)}")
for k in safety + liveness:
    if not kinds[k]:
        continue
    ex = sorted(kinds[k], key=lambda r: r["seed"])[:5]
    cls = "safety" if k in safety else "liveness"
    note = ", allowed" if k in allow else ""
    print(f"  {k} ({cls}{note}): {len(kinds[k])} seeds, e.g.")
    for r in ex:
        print(f"    {r['replay']}   # {k}={r[k]}, peers {r.get('peers')}, "
              f"{r.get('config')}, churn {r.get('churn')}, loss {r.get('loss')}, "
              f"partition {r.get('partition_fraction')}")
sys.exit(1 if failing else 0)
EOF
