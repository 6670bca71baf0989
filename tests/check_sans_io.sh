#!/usr/bin/env bash
# check_sans_io.sh [--nm NM] LIBRARY...
# check_sans_io.sh [--nm NM] --canaries KIND=LIBRARY...
# check_sans_io.sh --kinds | --list | --canary-source KIND
#
# The sans-I/O libraries (the protocol core, the wire codec, the media framers) take
# time as an argument, push output through callbacks and take randomness from a seed
# (docs/ARCHITECTURE.md §2). This fails when any object in a LIBRARY (a static library
# or one object file) has an undefined reference to the world: a clock or the time
# zone, a file descriptor, a socket, stdio in or out, the file system, threads (C11
# or POSIX), a raw system call, the environment, OS entropy, a global PRNG, libev, the
# process, or an undefined weak symbol (which resolves to whatever the final link
# happens to provide, or to nothing).
#
# A check that cannot fail is a defect, so it also fails when a LIBRARY is missing,
# when nm fails, or when nm lists no object in it. And every kind of banned reference
# has a canary: --canary-source KIND prints a C file that references every symbol of
# KIND (and a name under each banned prefix); the build compiles one canary library
# per kind, and --canaries passes only when the check fails on each canary library
# naming every one of its symbols, and when every kind has its canary.
#
#   --kinds              print the kinds, one a line
#   --list               print "KIND NAME" for every banned name (NAME* a prefix,
#                        NAME[] a data object)
#   --canary-source KIND print the canary C source for KIND
#
# Exit: 0 clean (or every canary caught); 1 a forbidden reference (each named with its
# kind and object), nothing to check, or a canary not caught; 2 usage.
set -euo pipefail

prog=check_sans_io
usage() {
  sed -n '2,4s/^# //p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# --- the banned names ---------------------------------------------------------------
# ban KIND NAME... : NAME is an exact symbol, NAME* every symbol with that prefix,
# NAME[] a data object (matched like a symbol; the canary takes its address).
# glibc's spellings count: _FORTIFY_SOURCE's __*_chk, C99 scanf's __isoc99_*, the
# large-file *64 and the 64-bit time_t __*64 names, and the getc/putc macros' helpers.
kinds=()
banned=()
ban() {
  local kind=$1
  shift
  [[ " ${kinds[*]} " == *" $kind "* ]] || kinds+=("$kind")
  local n
  for n in "$@"; do banned+=("$kind $n"); done
}

ban clock clock_gettime clock_getres gettimeofday time clock timespec_get times \
  nanosleep clock_nanosleep sleep usleep alarm getitimer setitimer \
  __clock_gettime64 __gettimeofday64 __time64 __nanosleep64 \
  timer_create timer_settime timerfd_create timerfd_settime
ban timezone localtime localtime_r gmtime gmtime_r mktime timegm ctime ctime_r \
  asctime asctime_r strftime tzset __localtime64 __gmtime64 __mktime64 \
  'tzname[]' 'daylight[]'
ban fd open openat open64 openat64 creat read write close pread pwrite pread64 \
  pwrite64 readv writev lseek lseek64 dup dup2 dup3 pipe pipe2 fcntl ioctl mmap \
  mmap64 munmap fsync __open_2 __open64_2 __openat_2 __read_chk __pread_chk \
  'epoll_*' 'eventfd*' 'inotify_*' 'signalfd*'
ban socket socket socketpair bind connect listen accept accept4 shutdown sendto \
  recvfrom sendmsg recvmsg sendmmsg recvmmsg send recv select pselect poll ppoll \
  setsockopt getsockopt getsockname getpeername getaddrinfo freeaddrinfo \
  getnameinfo gethostbyname gethostbyaddr inet_pton inet_ntop inet_addr inet_aton \
  inet_ntoa if_nametoindex getifaddrs __recv_chk __recvfrom_chk __poll_chk __ppoll_chk
ban stdio_out printf fprintf vprintf vfprintf dprintf vdprintf __printf_chk \
  __fprintf_chk __vprintf_chk __vfprintf_chk __dprintf_chk __vdprintf_chk puts \
  putchar putc fputc fputs fwrite fflush perror putc_unlocked fputc_unlocked \
  fputs_unlocked fwrite_unlocked _IO_putc __overflow 'stdout[]' 'stderr[]'
ban stdio_in fread fgets getc fgetc getchar fscanf scanf vscanf vfscanf \
  __isoc99_scanf __isoc99_fscanf __isoc99_vscanf __isoc99_vfscanf getline getdelim \
  __getdelim ungetc fread_unlocked fgets_unlocked getc_unlocked fgetc_unlocked \
  getchar_unlocked __fread_chk __fgets_chk _IO_getc __uflow 'stdin[]'
ban files fopen fopen64 fdopen freopen freopen64 fclose tmpfile tmpfile64 popen \
  pclose fmemopen open_memstream fseek fseeko ftell ftello rewind fgetpos fsetpos \
  setvbuf setbuf fileno feof ferror clearerr stat fstat lstat fstatat access \
  unlink rename remove mkdir rmdir opendir readdir closedir getcwd chdir realpath \
  __xstat __fxstat __lxstat
ban c11_threads 'thrd_*' 'mtx_*' 'cnd_*' 'tss_*' call_once
ban pthread 'pthread_*' 'sem_*'
ban syscall syscall prctl
ban env getenv secure_getenv setenv unsetenv putenv clearenv 'environ[]' '__environ[]'
ban entropy getentropy getrandom arc4random arc4random_buf arc4random_uniform
ban prng rand random srand srandom rand_r random_r srandom_r initstate setstate \
  drand48 erand48 lrand48 nrand48 mrand48 jrand48 srand48 seed48 lcong48
ban libev 'ev_*'
ban process getpid getppid gettid getuid geteuid fork vfork execve execv execvp \
  execl system kill raise signal sigaction exit _exit atexit
# Not a name: any undefined weak reference (nm type w or v).
ban weak 'weak:'

list_banned() { printf '%s\n' "${banned[@]}"; }

# The names the canary for KIND references: every exact name, and NAME canary for a
# prefix; the weak kind gets one weak function and one weak object.
canary_names() {
  local kind=$1 k n
  for entry in "${banned[@]}"; do
    k=${entry%% *} n=${entry#* }
    [[ "$k" == "$kind" ]] || continue
    case "$n" in
      weak:) echo "sc_sans_io_canary_weak_fn"; echo "sc_sans_io_canary_weak_obj" ;;
      *\*) echo "${n%\*}canary" ;;
      *\[\]) echo "${n%\[\]}" ;;
      *) echo "$n" ;;
    esac
  done
}

canary_source() {
  local kind=$1 k n decls="" refs="" found=0
  for entry in "${banned[@]}"; do
    k=${entry%% *} n=${entry#* }
    [[ "$k" == "$kind" ]] || continue
    found=1
    case "$n" in
      weak:)
        decls+="extern void sc_sans_io_canary_weak_fn(void) __attribute__((weak));"$'\n'
        decls+="extern char sc_sans_io_canary_weak_obj[] __attribute__((weak));"$'\n'
        refs+="    (void *)sc_sans_io_canary_weak_fn, (void *)sc_sans_io_canary_weak_obj,"$'\n'
        ;;
      *\[\])
        decls+="extern char ${n%\[\]}[];"$'\n'
        refs+="    (void *)${n%\[\]},"$'\n'
        ;;
      *)
        [[ "$n" == *\* ]] && n="${n%\*}canary"
        decls+="void $n(void);"$'\n'
        refs+="    (void *)$n,"$'\n'
        ;;
    esac
  done
  ((found)) || { echo "$prog: no such kind: $kind" >&2; exit 2; }
  # No headers: the declarations only have to make the compiler emit undefined
  # references (built with -fno-builtin, never linked, never run).
  printf '/* Generated by tests/check_sans_io.sh --canary-source %s: deliberately not\n' "$kind"
  printf ' * sans-I/O, to prove that the check catches every %s reference. */\n' "$kind"
  printf '%s' "$decls"
  printf 'void *const sc_sans_io_canary_%s[] = {\n%s};\n' "$kind" "$refs"
}

# check LIBRARY : the check itself; prints the violations, exits as documented above.
check() {
  local lib=$1 nm_out report objects violations
  if [[ ! -f "$lib" ]]; then
    echo "$prog: FAIL: library not found: $lib" >&2
    return 1
  fi
  # Plain `nm` on an archive prints a "member.o:" header before each member's symbols
  # (even for a member with no symbols), and "  U name" for each undefined one ("w" or
  # "v" when it is weak).
  if ! nm_out=$("$nm_bin" "$lib" 2>&1); then
    echo "$prog: FAIL: $nm_bin $lib failed:" >&2
    printf '%s\n' "$nm_out" >&2
    return 1
  fi
  report=$(
    printf '%s\n' "$nm_out" | SC_BANNED="$(list_banned)" awk -v single="$(basename "$lib")" '
      BEGIN {
        n = split(ENVIRON["SC_BANNED"], lines, "\n")
        for (i = 1; i <= n; i++) {
          split(lines[i], f, " "); kind = f[1]; name = f[2]
          if (name == "weak:") continue
          if (name ~ /\[\]$/) name = substr(name, 1, length(name) - 2)
          if (name ~ /\*$/) { np++; pre[np] = substr(name, 1, length(name) - 1); pkind[np] = kind }
          else bad[name] = kind
        }
        obj = single; objects = 0
      }
      # Archive member header: "name.o:" alone on a line.
      /^[^ \t]+:$/ { obj = substr($0, 1, length($0) - 1); objects++; next }
      # Undefined symbol: "  U name" (no address column); w and v are weak ones.
      ($1 == "U" || $1 == "w" || $1 == "v") && NF == 2 {
        sym = $2; sub(/@.*/, "", sym)          # drop a version suffix, if any
        if (sym ~ /^__(asan|ubsan|lsan|sanitizer)_/) next   # SC_SANITIZE instrumentation
        kind = ""
        if (sym in bad) kind = bad[sym]
        for (i = 1; i <= np && kind == ""; i++)
          if (index(sym, pre[i]) == 1) kind = pkind[i]
        if (kind == "" && $1 != "U") kind = "weak"
        if (kind != "") printf "forbidden reference %s (%s) in %s\n", sym, kind, obj
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
    local lines
    mapfile -t lines <<<"$violations"
    printf "$prog: FAIL: %s\n" "${lines[@]}"
    echo "$prog: $(basename "$lib") must stay sans-I/O (docs/ARCHITECTURE.md §2): pass time" \
      "in, push output through the callbacks, take randomness from the seed"
    return 1
  fi
  if [[ -z "$objects" || "$objects" -eq 0 ]]; then
    echo "$prog: FAIL: $nm_bin found no objects in $lib"
    return 1
  fi
  echo "$prog: ok: $objects objects in $(basename "$lib"), no forbidden references"
}

# canaries KIND=LIBRARY... : every kind has a canary, and the check fails on each one
# naming every symbol of its kind.
canaries() {
  local spec kind lib out rc missed=0 given=()
  for spec in "$@"; do
    kind=${spec%%=*} lib=${spec#*=}
    [[ "$spec" == *=* && -n "$kind" && -n "$lib" ]] || usage
    given+=("$kind")
    set +e
    out=$(check "$lib" 2>&1)
    rc=$?
    set -e
    if ((rc != 1)); then
      echo "$prog: canary $kind NOT CAUGHT: the check exited $rc on $lib:"
      printf '%s\n' "$out"
      missed=1
      continue
    fi
    local names=() absent=()
    mapfile -t names < <(canary_names "$kind")
    if ((${#names[@]} == 0)); then
      echo "$prog: canary $kind: no such kind"
      missed=1
      continue
    fi
    mapfile -t absent < <(printf '%s\n' "${names[@]}" | grep -vxF -f <(
      sed -n "s/^$prog: FAIL: forbidden reference \([^ ]*\) ($kind) in .*/\1/p" <<<"$out"
    ) || true)
    if ((${#absent[@]})); then
      echo "$prog: canary $kind NOT CAUGHT: ${absent[*]} not named; the check said:"
      printf '%s\n' "$out"
      missed=1
    else
      echo "$prog: canary $kind caught: ${names[*]}"
    fi
  done
  for kind in "${kinds[@]}"; do
    if [[ " ${given[*]} " != *" $kind "* ]]; then
      echo "$prog: kind $kind has no canary library (tests/CMakeLists.txt)"
      missed=1
    fi
  done
  if ((missed)); then
    echo "$prog: FAIL: the check can miss a banned reference"
    return 1
  fi
  echo "$prog: ok: all ${#kinds[@]} canaries caught"
}

nm_bin=nm
case "${1:-}" in
  --kinds) printf '%s\n' "${kinds[@]}"; exit 0 ;;
  --list) list_banned; exit 0 ;;
  --canary-source) (($# == 2)) || usage; canary_source "$2"; exit 0 ;;
  --nm) (($# >= 2)) || usage; nm_bin=$2; shift 2 ;;
esac
(($# >= 1)) || usage
if [[ "$1" == --canaries ]]; then
  shift
  (($# >= 1)) || usage
  canaries "$@"
  exit $?
fi
status=0
for lib in "$@"; do
  check "$lib" || status=1
done
exit "$status"
