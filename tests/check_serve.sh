#!/usr/bin/env bash
# check_serve.sh STRIPECAST CASE — a peer serves its station to players as a
# small Icecast 2.4 server does (runtime/serve.h), checked with real clients.
#
#   broadcaster  the broadcasting peer (Ogg Opus from ffmpeg on --source -)
#                with --http: a late player's stream (curl, 3 s) starts with
#                the codec headers and decodes without one error, ffprobe
#                reads it as Opus; mpv plays 5 s and exits 0; HEAD; two
#                players at once; the m3u, pls and xspf playlists; 404
#   listen       the same from a listening peer (--http PORT, bare port),
#                with the time from connecting to the first byte printed
#   icy          an MP3 encoder (ffmpeg) logs in on the broadcaster's --http
#                port; players of the broadcaster and of a listening peer that
#                ask for ICY metadata see the title change when
#                /admin/metadata changes it; one that does not ask gets none
#   sessions     two MP3 encoders one after the other on the broadcaster's port:
#                a player connected across both gets both, and decodes
#   stalled      a player that stops reading is dropped (its queue is full:
#                --queue-kb) while another keeps receiving and decoding
#   limits       --max-listeners 1: a second player gets Icecast's 403 "max
#                listeners reached"; once the first leaves, a new one plays
#   bad_input    malformed heads, header floods, a slow-loris head, hundreds
#                of idle connections, path tricks, a huge query string: each
#                gets a clear answer or close, and a player connected all
#                along decodes without one error
#   usage        flags that do not go together fail at start with exit 2
#
# Exit 77 (ctest's skip) only when a program from a Debian package is missing.
set -euo pipefail
sc=$1
case_=$2
for p in ffmpeg ffprobe curl jq python3 mpv; do
  command -v "$p" >/dev/null || { echo "$0: $p not found" >&2; exit 77; }
done

# fail, free_ports, $work, pids and peers, peers_exit_ok, $key and $pk.
source "$(dirname "$0")/serve_common.sh"

wait_json() {
  local file=$1 expr=$2 secs=$3
  for _ in $(seq $((secs * 10))); do
    if [[ -s $file ]] && jq -e "$expr" "$file" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Waits until URL answers 200 to HEAD (a guard with a deadline, not a pass
# criterion).
wait_on_air() {
  for _ in $(seq 300); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' -I "$1" || true) == 200 ]]; then return 0; fi
    sleep 0.1
  done
  return 1
}

udp=$(free_ports udp 2)
hp=$(free_ports tcp 2)
mount=/live.opus
url=http://127.0.0.1:$hp$mount

# The broadcaster, fed Ogg Opus by ffmpeg at real time; extra flags follow.
broadcast_ogg() {
  # ffmpeg ends on the broken pipe when the broadcaster is stopped.
  "$sc" broadcast --station $mount --key "$key" --listen "127.0.0.1:$udp" --source - \
    --stats "$work/b.json" --stats-interval-ms 200 "$@" 2>"$work/b.err" \
    < <(ffmpeg -v error -re -f lavfi -i "sine=f=440:d=120" -c:a libopus -b:a 96k -f ogg -) &
  pids+=($!)
  peers+=($!)
}

# A player's stream: starts with Ogg Opus's headers, decodes with no error.
check_ogg() {
  local f=$1 what=$2
  [[ -s $f ]] || fail "$what: empty"
  head -c 4 "$f" | grep -q OggS || fail "$what: does not start with OggS"
  head -c 64 "$f" | grep -aq OpusHead || fail "$what: first page is not OpusHead"
  local errs
  errs=$(ffmpeg -v error -i "$f" -f null - 2>&1 | wc -l)
  [[ $errs == 0 ]] || fail "$what: $errs decode error lines: $(ffmpeg -v error -i "$f" -f null - 2>&1 | head -3)"
  local codec
  codec=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$f")
  [[ $codec == opus ]] || fail "$what: ffprobe says '$codec'"
}

# Checks the common player cases against url (a peer with --http).
players_common() {
  local where=$1
  # A late player: 3 s of stream.
  curl -s --max-time 3 -D "$work/h1" -o "$work/p1.ogg" "$url" || true
  check_ogg "$work/p1.ogg" "$where: late player"
  tr -d '\r' <"$work/h1" >"$work/h1n"
  grep -qx 'HTTP/1.0 200 OK' "$work/h1n" || fail "$where: status $(head -1 "$work/h1n")"
  grep -qx 'Content-Type: audio/ogg' "$work/h1n" || fail "$where: type: $(cat "$work/h1n")"
  grep -qx 'Access-Control-Allow-Origin: \*' "$work/h1n" || fail "$where: no CORS header"
  grep -qx 'Cache-Control: no-cache, no-store' "$work/h1n" || fail "$where: no Cache-Control"
  # Two players at once.
  curl -s --max-time 3 -o "$work/p2.ogg" "$url" &
  local c2=$!
  curl -s --max-time 3 -o "$work/p3.ogg" "$url" || true
  wait $c2 || true
  check_ogg "$work/p2.ogg" "$where: player 2 of 2"
  check_ogg "$work/p3.ogg" "$where: player 1 of 2"
  # HEAD: the same head, no body.
  python3 - "$hp" "$mount" >"$work/head.txt" <<'PY' || fail "$where: HEAD: $(cat "$work/head.txt")"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("HEAD %s HTTP/1.0\r\n\r\n" % sys.argv[2]).encode())
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
head, sep, body = got.partition(b"\r\n\r\n")
print(head.decode())
sys.exit(0 if sep and not body and head.startswith(b"HTTP/1.0 200 OK") and
         b"Content-Type: audio/ogg" in head else 1)
PY
  # Playlists pointing at this peer.
  local m3u
  m3u=$(curl -s "$url.m3u" | tr -d '\r')
  [[ $m3u == "$url" ]] || fail "$where: m3u '$m3u'"
  curl -s -D "$work/hm" -o /dev/null "$url.m3u"
  grep -q 'Content-Type: audio/x-mpegurl' "$work/hm" || fail "$where: m3u type"
  curl -s "$url.pls" | tr -d '\r' | grep -qx "File1=$url" || fail "$where: pls"
  curl -s "$url.xspf" | grep -q "<location>$url</location>" || fail "$where: xspf"
  curl -s "$url.xspf" | python3 -c "import sys, xml.dom.minidom as m; m.parseString(sys.stdin.buffer.read())" ||
    fail "$where: xspf is not XML"
  # An unknown mount: Icecast's 404.
  local code
  code=$(curl -s -o "$work/404" -w '%{http_code}' "http://127.0.0.1:$hp/nosuch")
  [[ $code == 404 ]] || fail "$where: /nosuch answered $code"
  grep -q '404 - The file you requested could not be found' "$work/404" || fail "$where: 404 page"
  # A real player.
  timeout 30 mpv --no-config --no-video --ao=null --length=5 "$url" >"$work/mpv.out" 2>&1 ||
    fail "$where: mpv exit $? ($(tail -3 "$work/mpv.out"))"
}

case $case_ in
broadcaster)
  broadcast_ogg --http "127.0.0.1:$hp"
  wait_on_air "$url" || fail "not on air: $(cat "$work/b.err")"
  sleep 2.5 # a burst's worth of stream
  players_common broadcaster
  wait_json "$work/b.json" '.serve.listeners >= 4 and .serve.bursts >= 4 and .serve.listeners_slow == 0' 5 ||
    fail "counters: $(jq -c .serve "$work/b.json")"
  peers_exit_ok
  echo "ok: broadcaster"
  ;;

listen)
  broadcast_ogg
  sleep 0.5
  # NAME@KEY: the peer serves the mount NAME, as its broadcaster does.
  "$sc" listen --station "$mount@$pk" --listen "127.0.0.1:$((udp + 1))" \
    --join "127.0.0.1:$udp" --http "$hp" --stats "$work/l.json" --stats-interval-ms 200 2>"$work/l.err" &
  pids+=($!)
  peers+=($!)
  wait_on_air "$url" || fail "not on air: $(cat "$work/l.err")"
  sleep 2.5
  players_common listen
  t=$(curl -s --max-time 2 -o /dev/null -w '%{time_connect} %{time_starttransfer}' "$url" || true)
  echo "connect, first byte (s): $t"
  peers_exit_ok
  echo "ok: listen"
  ;;

icy)
  mount=/live.mp3
  url=http://127.0.0.1:$hp$mount
  lp=$(free_ports tcp 1)
  lurl=http://127.0.0.1:$lp$mount
  "$sc" broadcast --station $mount --key "$key" --listen "127.0.0.1:$udp" \
    --http "127.0.0.1:$hp" --source-password hackme --stats "$work/b.json" \
    --stats-interval-ms 200 2>"$work/b.err" &
  pids+=($!)
  peers+=($!)
  sleep 0.5
  ffmpeg -v error -re -f lavfi -i "sine=f=440:d=120" -c:a libmp3lame -b:a 128k \
    -content_type audio/mpeg -ice_name "Test Radio" -f mp3 \
    "icecast://source:hackme@127.0.0.1:$hp$mount" 2>"$work/ffmpeg.err" &
  pids+=($!)
  "$sc" listen --station "$mount@$pk" --listen "127.0.0.1:$((udp + 1))" \
    --join "127.0.0.1:$udp" --http "127.0.0.1:$lp" 2>"$work/l.err" &
  pids+=($!)
  peers+=($!)
  wait_on_air "$url" || fail "broadcaster not on air: $(cat "$work/b.err" "$work/ffmpeg.err")"
  wait_on_air "$lurl" || fail "listener not on air: $(cat "$work/l.err")"
  set_title() {
    curl -sf -u source:hackme -o /dev/null \
      "http://127.0.0.1:$hp/admin/metadata?mount=$mount&mode=updinfo&song=$1" ||
      fail "title update refused"
  }
  set_title First+Song
  curl -s --max-time 8 -H 'Icy-MetaData: 1' -D "$work/hb" -o "$work/b.icy" "$url" &
  c1=$!
  curl -s --max-time 8 -H 'Icy-MetaData: 1' -D "$work/hl" -o "$work/l.icy" "$lurl" &
  c2=$!
  curl -s --max-time 4 -D "$work/hp" -o "$work/plain.mp3" "$url" || true
  set_title Second+Song
  wait $c1 || true
  wait $c2 || true
  grep -q 'icy-metaint:16000' "$work/hp" && fail "metadata without Icy-MetaData"
  grep -q 'icy-name:Test Radio' "$work/hp" || fail "no icy-name: $(cat "$work/hp")"
  for side in b l; do
    grep -q 'icy-metaint:16000' "$work/h$side" || fail "$side: no icy-metaint: $(cat "$work/h$side")"
    python3 - "$work/$side.icy" "$work/$side.mp3" <<'PY' || fail "$side: ICY stream"
import sys
data = open(sys.argv[1], "rb").read()
audio, titles, i = bytearray(), [], 0
while i < len(data):
    audio += data[i:i + 16000]
    i += 16000
    if i >= len(data):
        break
    n = data[i] * 16
    block = data[i + 1:i + 1 + n]
    if len(block) < n:
        break
    i += 1 + n
    if n:
        text = block.rstrip(b"\0").decode()
        assert text.startswith("StreamTitle='") and text.endswith("';"), text
        titles.append(text[13:-2])
open(sys.argv[2], "wb").write(audio)
print(titles)
# Each title once, when it changes (the station repeats its state for late
# listeners; Icecast sends a title block only on a change).
assert titles == ["First Song", "Second Song"], titles
PY
    errs=$(ffmpeg -v error -i "$work/$side.mp3" -f null - 2>&1 | grep -vc 'Header missing' || true)
    [[ $errs == 0 ]] || fail "$side: decode errors: $(ffmpeg -v error -i "$work/$side.mp3" -f null - 2>&1 | head -3)"
  done
  peers_exit_ok
  echo "ok: icy"
  ;;

sessions)
  mount=/live.mp3
  url=http://127.0.0.1:$hp$mount
  "$sc" broadcast --station $mount --key "$key" --listen "127.0.0.1:$udp" --http "127.0.0.1:$hp" \
    --source-password hackme --stats "$work/b.json" --stats-interval-ms 200 \
    2>"$work/b.err" &
  pids+=($!)
  peers+=($!)
  sleep 0.5
  push() { # one session: 3 s of MP3 at real time
    ffmpeg -v error -re -f lavfi -i "sine=f=$1:d=3" -c:a libmp3lame -b:a 128k \
      -content_type audio/mpeg -f mp3 "icecast://source:hackme@127.0.0.1:$hp$mount" \
      2>>"$work/ffmpeg.err"
  }
  push 440 &
  first=$!
  wait_on_air "$url" || fail "not on air: $(cat "$work/b.err" "$work/ffmpeg.err")"
  curl -s --max-time 9 -o "$work/across.mp3" "$url" &
  c=$!
  wait $first || true
  push 660 || true
  wait $c || true
  errs=$(ffmpeg -v error -i "$work/across.mp3" -f null - 2>&1 | wc -l)
  [[ $errs == 0 ]] || fail "decode errors: $(ffmpeg -v error -i "$work/across.mp3" -f null - 2>&1 | head -3)"
  # More than the first session's 3 s: the second one's audio came too.
  dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/across.mp3")
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 3.5 else 1)" "$dur" ||
    fail "the player got $dur s"
  jq -e '.ingest.sources_accepted == 2' "$work/b.json" >/dev/null ||
    fail "counters: $(jq -c .ingest "$work/b.json")"
  peers_exit_ok
  echo "ok: sessions ($dur s across two sessions)"
  ;;

stalled)
  # Ogg FLAC of noise: a high rate fills a stalled player's queue soon.
  ffmpeg -v error -f lavfi -i "anoisesrc=d=60:a=0.5:seed=3" -ac 2 -ar 44100 \
    -c:a pcm_s16le "$work/noise.wav"
  "$sc" broadcast --station /live.ogg --key "$key" --listen "127.0.0.1:$udp" --input "$work/noise.wav" \
    --encode flac --http "127.0.0.1:$hp" --queue-kb 64 --stats "$work/b.json" \
    --stats-interval-ms 200 2>"$work/b.err" &
  pids+=($!)
  peers+=($!)
  url=http://127.0.0.1:$hp/live.ogg
  wait_on_air "$url" || fail "not on air: $(cat "$work/b.err")"
  curl -s --max-time 12 -o "$work/good.ogg" "$url" &
  good=$!
  # A player that sends its request and never reads.
  python3 - "$hp" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /live.ogg HTTP/1.0\r\n\r\n")
time.sleep(15)
PY
  pids+=($!)
  wait_json "$work/b.json" '.serve.listeners_slow >= 1' 10 ||
    fail "the stalled player was not dropped: $(jq -c .serve "$work/b.json")"
  at_drop=$(stat -c %s "$work/good.ogg")
  wait $good || true
  end=$(stat -c %s "$work/good.ogg")
  ((end > at_drop + 100000)) || fail "the other player stopped: $at_drop -> $end bytes"
  errs=$(ffmpeg -v error -i "$work/good.ogg" -f null - 2>&1 | wc -l)
  [[ $errs == 0 ]] || fail "the other player's stream: $errs decode error lines"
  jq -e '.serve.listeners_slow == 1' "$work/b.json" >/dev/null ||
    fail "counters: $(jq -c .serve "$work/b.json")"
  peers_exit_ok
  echo "ok: stalled (other player $at_drop -> $end bytes)"
  ;;

limits)
  broadcast_ogg --http "127.0.0.1:$hp" --max-listeners 1
  wait_on_air "$url" || fail "not on air: $(cat "$work/b.err")"
  curl -s --max-time 4 -o "$work/first.ogg" "$url" &
  first=$!
  sleep 1
  code=$(curl -s --max-time 2 -o "$work/second" -w '%{http_code}' "$url" || true)
  [[ $code == 403 ]] || fail "second player: $code"
  grep -qx 'max listeners reached' "$work/second" || fail "refusal: $(cat "$work/second")"
  wait $first || true
  check_ogg "$work/first.ogg" "first player"
  sleep 0.5
  curl -s --max-time 2 -o "$work/third.ogg" "$url" || true
  check_ogg "$work/third.ogg" "a player after the first left"
  jq -e '.serve.refused.full == 1' "$work/b.json" >/dev/null ||
    fail "counters: $(jq -c .serve "$work/b.json")"
  peers_exit_ok
  echo "ok: limits"
  ;;

bad_input)
  broadcast_ogg --http "127.0.0.1:$hp"
  wait_on_air "$url" || fail "not on air: $(cat "$work/b.err")"
  curl -s --max-time 20 -o "$work/along.ogg" "$url" &
  along=$!
  python3 - "$hp" <<'PY' || fail "bad input"
import socket, sys, time
port = int(sys.argv[1])

def ask(raw, idle=3.0):
    """Send raw, return (answer, closed) once the server closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=idle)
    try:
        s.sendall(raw)
    except OSError:
        pass
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return got, True
            got += d
            if len(got) > 100000:
                return got, False
    except socket.timeout:
        return got, False
    except ConnectionResetError:
        return got, True
    finally:
        s.close()

def status(ans):
    return ans.split(b"\r\n", 1)[0].decode(errors="replace")

cases = [
    ("garbage line", b"GARBAGE\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("binary", bytes(range(256)) + b"\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("no version", b"GET /live.opus\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("header flood", b"GET /live.opus HTTP/1.0\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(300)) + b"\r\n", "HTTP/1.0 400 Bad Request"),
    ("huge head", b"GET /live.opus HTTP/1.0\r\nX: " + b"a" * 6000 + b"\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("huge query", b"GET /live.opus?" + b"q" * 20000 + b" HTTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("dot dot", b"GET /../live.opus HTTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("encoded dot dot", b"GET /%2e%2e/etc/passwd HTTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("encoded slash", b"GET /live.opus%2F..%2F..%2Fetc HTTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("double slash", b"GET //live.opus HTTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("encoded NUL", b"GET /live.opus%00 HTTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("bad escape", b"GET /live.opus%zz HTTP/1.0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("POST", b"POST /live.opus HTTP/1.0\r\nContent-Length: 0\r\n\r\n", "HTTP/1.0 400 Bad Request"),
    ("no source password", b"PUT /live.opus HTTP/1.1\r\nContent-Type: audio/ogg\r\n\r\n", "HTTP/1.0 401 "),
    ("unknown file", b"GET /etc/passwd HTTP/1.0\r\n\r\n", "HTTP/1.0 404 File Not Found"),
]
for name, raw, want in cases:
    ans, closed = ask(raw)
    if not status(ans).startswith(want) or not closed:
        sys.exit("%s: got %r (closed %s), want %s" % (name, ans[:200], closed, want))
    print("ok:", name, "->", status(ans))

# A long query that fits the head bound still plays.
ans, closed = ask(b"GET /live.opus?" + b"q" * 3000 + b" HTTP/1.0\r\n\r\n", idle=1.0)
if not ans.startswith(b"HTTP/1.0 200 OK") or b"OggS" not in ans:
    sys.exit("long query: %r" % ans[:200])
print("ok: long query plays")

# Slow loris: a head that trickles in is closed at the header deadline.
s = socket.create_connection(("127.0.0.1", port), timeout=2)
s.sendall(b"GET /live.opus HTTP/1.0\r\n")
t0, closed = time.time(), False
while time.time() - t0 < 12:
    try:
        s.sendall(b"X: y\r\n")
        d = s.recv(1)
        if d == b"":
            closed = True
            break
    except socket.timeout:
        continue
    except (BrokenPipeError, ConnectionResetError):
        closed = True
        break
if not closed:
    sys.exit("slow loris: still open after 12 s")
print("ok: slow loris closed after %.1f s" % (time.time() - t0))

# Hundreds of idle connections: beyond the bound, closed at once.
idle = []
for _ in range(400):
    try:
        idle.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        break
time.sleep(0.5)
shut = 0
for s in idle:
    s.settimeout(0.01)
    got = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except socket.timeout:
        continue
    except ConnectionResetError:
        pass
    # Closed, with Icecast's refusal when it arrived before the close.
    if got and not got.startswith(b"HTTP/1.0 403 Forbidden"):
        sys.exit("idle: refused with %r" % got[:100])
    shut += 1
if shut < len(idle) - 100:
    sys.exit("idle: only %d of %d closed" % (shut, len(idle)))
print("ok: %d of %d idle connections closed at once" % (shut, len(idle)))
# Meanwhile a new player is refused or served, never stuck; after they go,
# one plays.
for s in idle:
    s.close()
time.sleep(0.5)
ans, closed = ask(b"GET /live.opus HTTP/1.0\r\n\r\n", idle=1.0)
if not ans.startswith(b"HTTP/1.0 200 OK"):
    sys.exit("after the idle ones: %r" % ans[:200])
print("ok: plays after the idle flood")
PY
  wait $along || true
  check_ogg "$work/along.ogg" "the player connected all along"
  kill -0 "${pids[0]}" 2>/dev/null || fail "the broadcaster died"
  wait_json "$work/b.json" '.serve.refused.busy >= 100 and .serve.refused.header_timeout >= 1 and
    .serve.refused.bad_path >= 4 and .serve.refused.bad_head >= 4' 5 ||
    fail "counters: $(jq -c .serve "$work/b.json")"
  peers_exit_ok
  echo "ok: bad_input"
  ;;

usage)
  expect_usage() {
    local want=$1
    shift
    local rc=0
    "$sc" "$@" >"$work/out" 2>"$work/err" || rc=$?
    [[ $rc == 2 ]] || fail "exit $rc for $*: $(cat "$work/err")"
    grep -q -- "$want" "$work/err" || fail "for $*: $(cat "$work/err"), want '$want'"
  }
  expect_usage "max-listeners is for --http" listen --station /x --listen 127.0.0.1:9 \
    --max-listeners 3
  expect_usage "burst-s is for --http" listen --station /x --listen 127.0.0.1:9 --burst-s 1
  expect_usage "drop --peers" listen --station /x --listen 127.0.0.1:9 --http 8000 --peers 2
  expect_usage "one feed" broadcast --station /x --listen 127.0.0.1:9 --source - \
    --http 8000 --source-password pw
  expect_usage "broadcast needs" broadcast --station /x --listen 127.0.0.1:9 --http 8000
  expect_usage "expected \[IPv4:\]PORT" listen --station /x --listen 127.0.0.1:9 --http x:y
  echo "ok: usage"
  ;;

*)
  fail "unknown case"
  ;;
esac
