#!/usr/bin/env bash
# Formats the C sources with the one pinned clang-format (major version 14, Debian
# 12's `clang-format`) and the repository's .clang-format. Another major version
# formats differently, so it is refused rather than used.
set -euo pipefail

readonly want_major=14

usage() {
  cat <<'USAGE'
usage: scripts/format.sh [--check] [FILE...]

Runs clang-format 14 with the repository's .clang-format on FILE... (default: every
tracked *.c and *.h; generated code, *.pb-c.[ch], is never formatted).

  --check   change nothing; print each file that clang-format would change and exit
            1 if there is any (0 when all are formatted)
  --help    print this help

Environment:
  SC_CLANG_FORMAT=PATH   the clang-format to use (default: clang-format-14, else
                         clang-format); its major version must be 14
USAGE
}

check=0
files=()
while (($#)); do
  case "$1" in
    --check) check=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; files+=("$@"); break ;;
    -*) usage >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
style="$root/.clang-format"
[[ -f "$style" ]] || { echo "format.sh: no $style" >&2; exit 2; }

cf=${SC_CLANG_FORMAT:-}
if [[ -z "$cf" ]]; then
  if command -v clang-format-14 >/dev/null 2>&1; then
    cf=clang-format-14
  else
    cf=clang-format
  fi
fi
install_hint="install it with: sudo apt-get install clang-format (Debian 12), or
clang-format-14 where another version is the default (scripts/deps.sh installs it)"
if ! command -v "$cf" >/dev/null 2>&1; then
  echo "format.sh: $cf not found; $install_hint" >&2
  exit 2
fi
version=$("$cf" --version | head -n 1)
major=$(sed -n 's/.*clang-format version \([0-9][0-9]*\)\..*/\1/p' <<<"$version")
if [[ "$major" != "$want_major" ]]; then
  echo "format.sh: refusing $cf: it is \"$version\", not major version $want_major" >&2
  echo "format.sh: another version formats differently; $install_hint" >&2
  exit 2
fi

if ((${#files[@]} == 0)); then
  # Paths relative to the checkout, as git lists them.
  cd "$root"
  mapfile -t files < <(git ls-files -- '*.c' '*.h')
  if ((${#files[@]} == 0)); then
    echo "format.sh: git lists no *.c or *.h files in $root" >&2
    exit 2
  fi
fi

targets=()
for f in "${files[@]}"; do
  case "$f" in
    *.pb-c.c | *.pb-c.h) continue ;; # protoc-c output
    *.c | *.h) ;;
    *) echo "format.sh: not a C source, skipped: $f" >&2; continue ;;
  esac
  [[ -f "$f" ]] || { echo "format.sh: no such file: $f" >&2; exit 2; }
  targets+=("$f")
done

if ((!check)); then
  ((${#targets[@]} == 0)) || "$cf" --style="file:$style" -i -- "${targets[@]}"
  exit 0
fi

# One clang-format process for all files (one per file takes a minute on a busy
# machine): --dry-run --Werror reports "FILE:LINE:COL: error: code should be
# clang-formatted" for each change it would make, and anything else is a real error.
((${#targets[@]})) || { echo "format.sh: no files to check" >&2; exit 2; }
rc=0
out=$("$cf" --style="file:$style" --dry-run --Werror -- "${targets[@]}" 2>&1) || rc=$?
violation=': error: code should be clang-formatted'
other=$(grep -E '^[^ ].*: (error|warning): ' <<<"$out" | grep -vF "$violation" || true)
if [[ -n "$other" ]]; then
  echo "format.sh: $cf failed:" >&2
  printf '%s\n' "$other" >&2
  exit 2
fi
mapfile -t differ < <(grep -F "$violation" <<<"$out" |
  sed 's/^\(.*\):[0-9][0-9]*:[0-9][0-9]*: error: .*/\1/' | awk '!seen[$0]++')
if ((rc != 0 && ${#differ[@]} == 0)); then
  echo "format.sh: $cf exited $rc without naming a file:" >&2
  printf '%s\n' "$out" >&2
  exit 2
fi
if ((${#differ[@]})); then
  printf '%s\n' "${differ[@]}"
  echo "format.sh: ${#differ[@]} of ${#targets[@]} files differ from clang-format $want_major" \
    "(scripts/format.sh FILE... formats them)" >&2
  exit 1
fi
echo "format.sh: ok: ${#targets[@]} files formatted"
