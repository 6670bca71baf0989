#!/usr/bin/env bash
# check_link.sh STRIPECAST — a station's stripecast:// link (docs/runtime.md,
# "Links"): dist/stripecast.desktop is a valid desktop entry for the scheme
# (desktop-file-validate, when installed), and dist/stripecast-open, given a
# signed station's link, plays it: a broadcaster streams an Ogg Opus file on
# loopback, stripecast-open's player (here `cat`) gets exactly the file's bytes.
# Bad links are refused with a clear error.
set -euo pipefail

sc=$1
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$here/dist/stripecast.desktop" || fail "the desktop entry"
  grep -q '^MimeType=x-scheme-handler/stripecast;$' "$here/dist/stripecast.desktop" ||
    fail "the desktop entry does not claim the stripecast scheme"
fi

# Bad links: a usage error (2), saying what a link looks like.
set +e
"$here/dist/stripecast-open" http://example.org/x 2>"$work/err"
rc=$?
set -e
[[ $rc == 2 ]] && grep -q "not a stripecast:// link" "$work/err" || fail "open http: $rc"
for bad in "stripecast://" "stripecast://127.0.0.1:9" "stripecast://127.0.0.1:9/"; do
  set +e
  "$sc" listen "$bad" --listen 127.0.0.1:9 2>"$work/err"
  rc=$?
  set -e
  [[ $rc == 2 ]] && grep -q "HOST:PORT/STATION" "$work/err" || fail "listen '$bad': $rc"
done

base=$((33200 + ($$ % 9) * 20))
pk=$("$sc" keygen --out "$work/s.key" 2>/dev/null)
cp "$here/tests/data/media/opus.opus" "$work/in.opus"
"$sc" broadcast --station /live.opus --key "$work/s.key" --listen "127.0.0.1:$base" \
  --source "$work/in.opus" --start-delay-ms 3000 --eof-exit-ms 3000 \
  2>"$work/bcast.err" &
pids+=($!)
sleep 0.3
# As the desktop runs it: the link, nothing else; the player reads stdin.
STRIPECAST_BIN=$sc STRIPECAST_PORT=$((base + 1)) STRIPECAST_PLAYER=cat timeout 60 \
  "$here/dist/stripecast-open" "stripecast://127.0.0.1:$base/live.opus@$pk" \
  >"$work/out.opus" 2>"$work/open.err" || fail "stripecast-open: $(tail -2 "$work/open.err")"
cmp -s "$work/in.opus" "$work/out.opus" ||
  fail "played $(stat -c %s "$work/out.opus") bytes, not the $(stat -c %s "$work/in.opus") sent"
echo "ok: link played, $(stat -c %s "$work/out.opus") bytes identical"
