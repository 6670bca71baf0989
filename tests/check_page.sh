#!/usr/bin/env bash
# check_page.sh STRIPECAST CASE — the station's own page (broadcast --page DIR,
# runtime/page.h) with real peers on loopback, checked with curl.
#
#   page     a broadcaster with --page (index.html, a stylesheet, a binary image,
#            a text file) joining a listener with --http present from the start,
#            and a late listener that joins 8 s into the stream (the page is repeated
#            only once a minute: it has it from the state it fetched). Each of
#            the three serves /page/ and every /page/NAME byte-identical to the
#            files (sha256), with the file's Content-Type, Content-Length,
#            nosniff and a sandbox Content-Security-Policy; /page is a 301 to
#            /page/; an unknown name is a 404; /peer.json's station says the
#            page's bytes
#   nopage   a broadcaster without --page: its listener answers 404 at /page/
#            and /page/index.html, and /peer.json says 0 bytes
#   usage    a missing directory, no index.html, a bad name, a type the page
#            does not serve, a subdirectory, too many bytes: exit 2 with the
#            file named, nothing started
#
# Exit 77 (ctest's skip) only when a program from a Debian package is missing.
set -euo pipefail
sc=$1
case_=$2
for p in ffmpeg curl jq python3 sha256sum; do
  command -v "$p" >/dev/null || { echo "$0: $p not found" >&2; exit 77; }
done

# fail, free_ports, $work, pids and peers, peers_exit_ok, $key and $pk.
source "$(dirname "$0")/serve_common.sh"
mount=/live.opus

# The page: every byte value in the image, 30 KB in all.
page=$work/page
mkdir -p "$page"
printf '<!doctype html><meta charset=utf-8><title>Test Radio</title>\n<link rel=stylesheet href=style.css><h1>Test Radio</h1><img src=logo.png alt=logo>\n' >"$page/index.html"
printf 'h1 { color: #c00 }\n' >"$page/style.css"
python3 -c "import sys, random; random.seed(1); sys.stdout.buffer.write(bytes(range(256)) + bytes(random.randrange(256) for _ in range(28000)))" >"$page/logo.png"
printf 'Schedule: all day.\n' >"$page/about.txt"

# The broadcaster, fed Ogg Opus at 128 kbit/s by ffmpeg at real time. It joins
# the first listener and starts 2 s later, as in the README: a broadcaster that
# streams alone for a while leaves its first listeners waiting about 20 s for
# their first chunk (the page, sent at the start, would make that certain).
broadcast() {
  "$sc" broadcast --station $mount --key "$key" --listen "127.0.0.1:$udp" --source - \
    --join "127.0.0.1:$((udp + 1))" --start-delay-ms 2000 \
    --http "127.0.0.1:$hp" "$@" 2>"$work/b.err" \
    < <(ffmpeg -v error -re -f lavfi -i "sine=f=440:d=120" -c:a libopus -b:a 128k -f ogg -) &
  pids+=($!)
  peers+=($!)
}

# listen N [--join ...]: a listener on UDP port udp+N, serving players on TCP
# port hp+N.
listen() {
  local n=$1
  shift
  "$sc" listen --station "$mount@$pk" --listen "127.0.0.1:$((udp + n))" "$@" \
    --http "127.0.0.1:$((hp + n))" \
    --stats "$work/l$n.json" --stats-interval-ms 500 2>"$work/l$n.err" &
  pids+=($!)
  peers+=($!)
}

# Waits (up to secs) until url answers code.
wait_code() {
  local url=$1 code=$2 secs=$3
  for _ in $(seq $((secs * 10))); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) == "$code" ]] && return 0
    sleep 0.1
  done
  return 1
}

# check_file BASE NAME URLPATH TYPE: the answer is the file, with its head.
check_file() {
  local base=$1 name=$2 path=$3 type=$4
  curl -s -D "$work/h" -o "$work/got" "$base$path" || fail "$base$path: curl"
  tr -d '\r' <"$work/h" >"$work/hn"
  grep -qx 'HTTP/1.0 200 OK' "$work/hn" || fail "$base$path: $(head -1 "$work/hn")"
  local want got
  want=$(sha256sum <"$page/$name" | cut -d' ' -f1)
  got=$(sha256sum <"$work/got" | cut -d' ' -f1)
  [[ $want == "$got" ]] || fail "$base$path: sha256 $got, the file's $want"
  grep -qx "Content-Type: $type" "$work/hn" || fail "$base$path: $(grep -i content-type "$work/hn")"
  grep -qx "Content-Length: $(stat -c %s "$page/$name")" "$work/hn" || fail "$base$path: length"
  grep -qx 'X-Content-Type-Options: nosniff' "$work/hn" || fail "$base$path: no nosniff"
  grep -q '^Content-Security-Policy: sandbox allow-popups; default-src '"'"'none'"'"';' \
    "$work/hn" || fail "$base$path: CSP: $(grep -i security "$work/hn")"
}

# check_peer BASE: one peer serves the whole page.
check_peer() {
  local base=$1
  check_file "$base" index.html /page/ "text/html; charset=utf-8"
  check_file "$base" index.html /page/index.html "text/html; charset=utf-8"
  check_file "$base" style.css /page/style.css "text/css; charset=utf-8"
  check_file "$base" logo.png /page/logo.png "image/png"
  check_file "$base" about.txt /page/about.txt "text/plain; charset=utf-8"
  local code loc
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/page/nosuch.png")
  [[ $code == 404 ]] || fail "$base/page/nosuch.png answered $code"
  code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$base/page/../peer.json")
  [[ $code == 404 || $code == 400 ]] || fail "$base/page/../peer.json answered $code"
  read -r code loc < <(curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' "$base/page")
  [[ $code == 301 && $loc == "$base/page/" ]] || fail "$base/page: $code $loc"
  local bytes
  bytes=$(curl -s "$base/peer.json" | jq '.stations[0].page_bytes')
  [[ $bytes -gt 28000 && $bytes -le 49152 ]] || fail "$base/peer.json: page_bytes $bytes"
}

udp=$(free_ports udp 3)
hp=$(free_ports tcp 3)

case $case_ in
page)
  listen 1
  sleep 0.5
  broadcast --page "$page"
  wait_code "http://127.0.0.1:$((hp + 1))$mount.m3u" 200 30 ||
    fail "listener not on air: $(cat "$work/l1.err")"
  sleep 8 # the late listener joins well after the page went by
  listen 2 --join "127.0.0.1:$udp"
  t0=$(date +%s.%N)
  wait_code "http://127.0.0.1:$((hp + 2))/page/" 200 30 ||
    fail "late listener: no page: $(cat "$work/l2.err")"
  t1=$(date +%s.%N)
  echo "late listener: page served $(python3 -c "print(round($t1 - $t0, 1))") s after it started"
  for n in 0 1 2; do check_peer "http://127.0.0.1:$((hp + n))"; done
  peers_exit_ok
  # The page goes by at the start and a minute later: within 30 s of joining 8 s
  # in, the late listener can only have it from the state it fetched.
  echo "ok: page"
  ;;

nopage)
  listen 1
  sleep 0.5
  broadcast
  base=http://127.0.0.1:$((hp + 1))
  wait_code "$base$mount.m3u" 200 30 || fail "listener not on air: $(cat "$work/l1.err")"
  sleep 3
  for path in /page/ /page/index.html; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base$path")
    [[ $code == 404 ]] || fail "$path answered $code"
  done
  bytes=$(curl -s "$base/peer.json" | jq '.stations[0].page_bytes')
  [[ $bytes == 0 ]] || fail "peer.json: page_bytes $bytes"
  peers_exit_ok
  echo "ok: nopage"
  ;;

usage)
  # expect_usage WANT DIR: broadcast --page DIR exits 2 naming WANT, at once.
  expect_usage() {
    local want=$1 dir=$2 rc=0
    timeout 10 "$sc" broadcast --station /x --listen "127.0.0.1:$udp" --source /dev/null \
      --page "$dir" >"$work/out" 2>"$work/err" || rc=$?
    [[ $rc == 2 ]] || fail "exit $rc for --page $dir: $(cat "$work/err")"
    grep -q -- "$want" "$work/err" || fail "for --page $dir: $(cat "$work/err"), want '$want'"
  }
  expect_usage "$work/none: No such file" "$work/none"
  mkdir "$work/noindex"
  cp "$page/style.css" "$work/noindex/"
  expect_usage "no index.html" "$work/noindex"
  for bad in '.hidden' 'a b.txt' 'script.js' 'sub'; do
    d=$work/bad$RANDOM
    cp -r "$page" "$d"
    if [[ $bad == sub ]]; then mkdir "$d/sub"; else printf x >"$d/$bad"; fi
    want=$bad
    [[ $bad == sub ]] && want="sub is a directory"
    expect_usage "$want" "$d"
  done
  big=$work/big
  cp -r "$page" "$big"
  head -c 21000 /dev/zero >"$big/more.png"
  expect_usage "more.png (21000 bytes) takes the page over its 49152 bytes" "$big"
  echo "ok: usage"
  ;;

*)
  fail "unknown case"
  ;;
esac
