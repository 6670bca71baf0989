#!/usr/bin/env bash
# check_sans_io.sh LIBRARY [NM]
#
# Fails when any object in LIBRARY (the sc_core static library, or one object file)
# has an undefined reference to the world: a clock, a socket, libev, stdio, a global
# PRNG, the process id, or threads. The core is sans-I/O (docs/ARCHITECTURE.md §2): time comes in
# as an argument, output goes out through callbacks, randomness comes in as a seed.
#
# A check that cannot fail is a defect, so this also fails when LIBRARY is missing,
# when nm fails, or when nm lists no object at all.
#
# Exit: 0 clean; 1 a forbidden reference (each named with its object) or nothing to
# check; 2 usage.
set -euo pipefail

if (($# < 1 || $# > 2)); then
  echo "usage: $0 LIBRARY [NM]" >&2
  exit 2
fi
lib=$1
nm_bin=${2:-nm}

if [[ ! -f "$lib" ]]; then
  echo "check_sans_io: FAIL: library not found: $lib" >&2
  exit 1
fi

# Exact names. The printf family includes glibc's _FORTIFY_SOURCE spellings
# (__printf_chk, ...), which the compiler substitutes for the plain ones.
forbidden=(
  # clocks and sleeping
  clock_gettime clock_getres gettimeofday time clock timespec_get
  nanosleep clock_nanosleep sleep usleep
  # sockets and file descriptors
  socket bind connect listen accept accept4 sendto recvfrom sendmsg recvmsg
  send recv select poll ppoll open openat read write close
  # stdio
  printf fprintf vprintf vfprintf dprintf vdprintf
  __printf_chk __fprintf_chk __vprintf_chk __vfprintf_chk __dprintf_chk
  puts putchar putc fputc fputs fwrite fflush perror fopen fdopen
  stdin stdout stderr
  # global or OS randomness
  rand random srand srandom drand48 erand48 lrand48 nrand48 mrand48 jrand48
  srand48 rand_r getrandom arc4random
  # process identity
  getpid
)
# Prefixes: all of libev, all of pthreads, all of epoll.
forbidden_prefixes=(ev_ pthread_ epoll_)

# Plain `nm` on an archive prints a "member.o:" header before each member's symbols
# (even for a member with no symbols), and "  U name" for each undefined one.
if ! nm_out=$("$nm_bin" "$lib" 2>&1); then
  echo "check_sans_io: FAIL: $nm_bin $lib failed:" >&2
  printf '%s\n' "$nm_out" >&2
  exit 1
fi

report=$(
  printf '%s\n' "$nm_out" | awk \
    -v names="${forbidden[*]}" \
    -v prefixes="${forbidden_prefixes[*]}" \
    -v single="$(basename "$lib")" '
    BEGIN {
      n = split(names, list, " "); for (i = 1; i <= n; i++) bad[list[i]] = 1
      np = split(prefixes, plist, " ")
      obj = single; objects = 0; hits = 0
    }
    # Archive member header: "name.o:" alone on a line.
    /^[^ \t]+:$/ { obj = substr($0, 1, length($0) - 1); objects++; next }
    # Undefined symbol: "  U name" (no address column).
    $1 == "U" && NF == 2 {
      sym = $2; sub(/@.*/, "", sym)          # drop a version suffix, if any
      if (sym ~ /^__(asan|ubsan|lsan|sanitizer)_/) next   # SC_SANITIZE instrumentation
      hit = (sym in bad)
      for (i = 1; i <= np && !hit; i++)
        if (index(sym, plist[i]) == 1) hit = 1
      if (hit) { printf "forbidden reference %s in %s\n", sym, obj; hits++ }
    }
    /[^ \t]/ { seen_symbol = 1 }
    END {
      # A lone object file has no member headers; count it if nm listed anything.
      if (objects == 0 && seen_symbol) objects = 1
      printf "objects %d\n", objects
    }'
)

objects=$(printf '%s\n' "$report" | sed -n 's/^objects //p')
violations=$(printf '%s\n' "$report" | grep '^forbidden reference ' || true)

if [[ -n "$violations" ]]; then
  mapfile -t lines <<<"$violations"
  printf 'check_sans_io: FAIL: %s\n' "${lines[@]}" >&2
  echo "check_sans_io: the core must stay sans-I/O (docs/ARCHITECTURE.md §2): pass time in," \
    "push output through the callbacks, take randomness from the seed" >&2
  exit 1
fi
if [[ -z "$objects" || "$objects" -eq 0 ]]; then
  echo "check_sans_io: FAIL: $nm_bin found no objects in $lib" >&2
  exit 1
fi
echo "check_sans_io: ok: $objects objects in $(basename "$lib"), no forbidden references"
