# scripts/lib/paper.sh — shared by the papers/*/run.sh scripts (sourced, not run).
#
# A paper script sets prog, here (its folder), root (the checkout), all_parts and a
# usage function, then calls paper_args "$@" and paper_setup. After that:
#   $raw      raw runs (one folder per sweep)     $figs   figures and tables
#   $sim      the simulator                       $quick  1 under --quick
#   want PART         true when PART was asked for (--only)
#   run_sweep NAME [aggregate options...]
#             runs $here/sweeps/NAME.sweep into $raw/NAME (resuming) and aggregates it
#   ids_where DIR COLUMN VALUE [COLUMN VALUE ...]
#             ids of the runs in DIR's manifest with those parameter values
#   pool OUT FILE DIR ID...   concatenates runs/ID/FILE (one header) into OUT
#   plot SCRIPT ASSIGNMENTS   gnuplot -e ASSIGNMENTS scripts/plot/SCRIPT.gp
#   peers_of DIR, seeds_of DIR   a run's peer count, the number of seeds

die() { echo "$prog: $*" >&2; exit 2; }

paper_args() {
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
  local p
  for p in $only; do
    [[ " $all_parts " == *" $p "* ]] || die "--only: unknown part '$p' ($all_parts)"
  done
}

want() { [[ " $only " == *" $1 "* ]]; }

paper_setup() {
  local tool size
  for tool in jq gnuplot parallel awk cmake; do
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
  return 0
}

run_sweep() {
  local name=$1
  shift
  "$root/scripts/sweep" run "$here/sweeps/$name.sweep" --results "$raw/$name" "${sweep_args[@]}"
  "$root/scripts/aggregate" "$raw/$name" "$@"
}

ids_where() {
  local dir=$1
  shift
  awk -F '\t' -v conds="$*" '
    NR == 1 {
      n = split(conds, w, " ")
      for (k = 1; k <= n; k += 2) {
        c[k] = 0
        for (i = 1; i <= NF; i++) if ($i == w[k]) c[k] = i
        if (!c[k]) { print "ids_where: no column " w[k] > "/dev/stderr"; exit 3 }
      }
      next
    }
    { for (k = 1; k <= n; k += 2) if ($c[k] != w[k + 1]) next; print $1 }' "$dir/manifest.tsv"
}

pool() {
  local outf=$1 file=$2 dir=$3 id
  shift 3
  local files=()
  for id in "$@"; do files+=("$dir/runs/$id/$file"); done
  ((${#files[@]})) || die "pool: no runs for $outf"
  awk 'FNR == 1 && NR != 1 { next } { print }' "${files[@]}" >"$outf"
}

plot() {
  gnuplot -e "$2" "$root/scripts/plot/$1.gp"
}

peers_of() {
  awk -F '\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "peers") c = i; next }
               c { print $c; exit }' "$1/manifest.tsv"
}

seeds_of() {
  awk -F '\t' 'NR > 1 { s[$NF] = 1 } END { n = 0; for (k in s) n++; print n }' "$1/manifest.tsv"
}
