#!/usr/bin/env bash
# check_broadcast_sources.sh STRIPECAST CASE — a broadcasting peer fed by its
# built-in encoder or by a relayed stream, heard by a real listener peer on
# loopback.
#
#   flac     a WAV (sine + seeded noise) encoded to Ogg FLAC: the listener's
#            stream decodes to exactly the input PCM (sha256), with the title
#   opus     the same WAV to Ogg Opus: decodes without one error, lasts as
#            long as the input, carries the title
#   raw      raw s16le from a pipe (--input - --input-format): FLAC, exact PCM
#   relay    an MP3 stream pushed into a real icecast2 is relayed: the
#            listener's stream is a clean chain of MP3 frames (no ICY
#            metadata left in it), the admin title arrives; icecast2 is
#            killed and restarted mid-stream: the relay reconnects (counted),
#            the listener goes on and the new title arrives; the stream
#            decodes without one error (the frame the killed server cut
#            short and the new connection's bytes before its first frame
#            are counted at the broadcaster, not relayed)
#   garbage  a server that answers with an icy-metaint and then random bytes:
#            no frame ever starts, so every session's bytes are counted as
#            bytes before its first frame (lead_dropped_bytes) and relayed to
#            nobody; the broadcaster stays up and reconnects
#   usage    bad inputs fail at start with exit 2 and one clear line
#
# Exit 77 (ctest's skip) only when a program from a Debian package is missing.
set -euo pipefail
sc=$1
case_=$2
for p in ffmpeg ffprobe jq python3 sha256sum; do
  command -v "$p" >/dev/null || { echo "$0: $p not found" >&2; exit 77; }
done

fail() { echo "FAIL ($case_): $*" >&2; exit 1; }

# Free UDP ports on 127.0.0.1, n in a row.
udp_ports() {
  python3 - "$1" <<'PY'
import socket, sys
n = int(sys.argv[1])
for base in range(21000 + (hash(socket.gethostname()) % 50) * 20, 40000, n):
    socks = []
    try:
        for q in range(base, base + n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", q))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PY
}

# Waits until the jq expression on FILE is true (deadline: a guard, not a
# pass criterion).
wait_json() {
  local file=$1 expr=$2 secs=$3
  for _ in $(seq $((secs * 10))); do
    if [[ -s $file ]] && jq -e "$expr" "$file" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Waits until FILE holds more than BYTES (deadline: a guard).
wait_size() {
  local file=$1 bytes=$2 secs=$3
  for _ in $(seq $((secs * 10))); do
    if [[ -f $file ]] && (($(stat -c %s "$file") > bytes)); then return 0; fi
    sleep 0.1
  done
  return 1
}

pids=()
work=$(mktemp -d)
# The stations are signed: a key of the test's own (a broadcaster without
# --key would keep one in the user's state directory).
key=$work/station.key
pk=$("$sc" keygen --out "$key" 2>/dev/null)
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}

make_wav() {
  # 3 s: a sine on the left, seeded noise on the right (no silence to hide
  # an error in), 44.1 kHz 16-bit stereo.
  ffmpeg -v error -f lavfi -i "sine=f=440:d=3" -f lavfi -i "anoisesrc=d=3:a=0.3:seed=7" \
    -filter_complex "[0][1]amerge=inputs=2" -ar 44100 -c:a pcm_s16le "$1"
}

# broadcast_and_listen OUT -- BROADCAST-ARGS...: one broadcaster, one
# listener that writes OUT and exits at the broadcast's end.
broadcast_and_listen() {
  local out=$1
  shift
  local base
  base=$(udp_ports 2)
  "$sc" broadcast --station /enc --key "$key" --listen "127.0.0.1:$base" --start-delay-ms 1500 \
    --eof-exit-ms 1000 --stats "$work/b.json" "$@" 2>"$work/b.err" &
  local bp=$!
  pids+=("$bp")
  sleep 0.3
  # A port taken between the choice and the bind (the machine is shared).
  kill -0 "$bp" 2>/dev/null || fail "broadcaster did not start: $(cat "$work/b.err")"
  timeout 60 "$sc" listen --station "/enc@$pk" --listen "127.0.0.1:$((base + 1))" \
    --join "127.0.0.1:$base" --output "$out" --stats "$work/l.json" 2>"$work/l.err" ||
    fail "listener: exit $? ($(cat "$work/l.err")); broadcaster: $(cat "$work/b.err")"
  wait "$bp" || fail "broadcaster: exit $? ($(cat "$work/b.err"))"
}

case $case_ in
flac | raw)
  trap stop_all EXIT
  make_wav "$work/in.wav"
  want=$(ffmpeg -v error -i "$work/in.wav" -f s16le - | sha256sum | cut -d' ' -f1)
  if [[ $case_ == flac ]]; then
    broadcast_and_listen "$work/out.ogg" --input "$work/in.wav" --encode flac \
      --title "Exact Song"
  else
    ffmpeg -v error -i "$work/in.wav" -f s16le "$work/in.raw"
    # A pipe: paced by arrival (cat writes it at once; the encoder keeps up).
    cat "$work/in.raw" | broadcast_and_listen "$work/out.ogg" --input - --encode flac \
      --input-format s16le:44100:2 --title "Exact Song"
  fi
  got=$(ffmpeg -v error -i "$work/out.ogg" -f s16le - | sha256sum | cut -d' ' -f1)
  [[ $got == "$want" ]] || fail "decoded PCM differs: $got, want $want"
  title=$(ffprobe -v error -show_entries stream_tags=title -of csv=p=0 "$work/out.ogg")
  [[ $title == "Exact Song" ]] || fail "title '$title'"
  # Live pages: 3 s of audio leave the encoder in at least 15 pages (one at
  # least every 200 ms).
  jq -e '.encoder.samples == 132300 and .encoder.odd_bytes == 0 and
         .station_source.titles >= 1 and .station_source.garbage_bytes == 0 and
         .station_source.units >= 15' \
    "$work/b.json" >/dev/null || fail "counters: $(jq -c '.encoder, .station_source' "$work/b.json")"
  echo "ok: $case_ (sha256 $got)"
  ;;

opus)
  trap stop_all EXIT
  make_wav "$work/in.wav"
  broadcast_and_listen "$work/out.opus" --input "$work/in.wav" --encode opus:96 \
    --title "Opus Song"
  errs=$(ffmpeg -v error -i "$work/out.opus" -f null - 2>&1 | wc -l)
  [[ $errs == 0 ]] || fail "$errs decode error lines"
  dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/out.opus")
  # The input lasts 3 s; Ogg Opus ends on a 20 ms frame with its granule.
  python3 -c "import sys; d=float(sys.argv[1]); sys.exit(0 if abs(d-3.0) < 0.05 else 1)" \
    "$dur" || fail "duration $dur, want 3.0"
  title=$(ffprobe -v error -show_entries stream_tags=title -of csv=p=0 "$work/out.opus")
  [[ $title == "Opus Song" ]] || fail "title '$title'"
  jq -e '.station_source.units >= 15 and .station_source.garbage_bytes == 0' \
    "$work/b.json" >/dev/null || fail "pages: $(jq -c .station_source "$work/b.json")"
  echo "ok: opus (duration $dur)"
  ;;

relay)
  command -v curl >/dev/null || { echo "$0: curl not found" >&2; exit 77; }
  # Starts icecast2 as nobody on a free port; its cleanup runs on exit.
  source "$(dirname "$0")/icecast_server.sh"
  trap 'stop_all; cleanup' EXIT
  chmod 777 "$work"
  mount=/live.mp3
  push() { # an MP3 stream into the mount, at real time
    ffmpeg -v error -re -f lavfi -i "sine=f=440:d=120" -c:a libmp3lame -b:a 128k \
      -content_type audio/mpeg -ice_name "Test Radio" -ice_genre Test -f mp3 \
      "icecast://source:hackme@127.0.0.1:$port$mount" 2>>"$work/ffmpeg.err" &
    ff=$!
    pids+=("$ff")
  }
  set_title() {
    for _ in $(seq 50); do
      if curl -sf -u admin:adminpw \
        "http://127.0.0.1:$port/admin/metadata?mount=$mount&mode=updinfo&song=$1" \
        >/dev/null; then return 0; fi
      sleep 0.1
    done
    fail "admin metadata update refused"
  }
  push
  set_title "First+Title"
  base=$(udp_ports 2)
  "$sc" broadcast --station /relay --key "$key" --listen "127.0.0.1:$base" --start-delay-ms 1000 \
    --relay "http://127.0.0.1:$port$mount" --stats "$work/b.json" \
    --stats-interval-ms 200 2>"$work/b.err" &
  bp=$!
  pids+=("$bp")
  "$sc" listen --station "/relay@$pk" --listen "127.0.0.1:$((base + 1))" \
    --join "127.0.0.1:$base" --output "$work/out.mp3" 2>"$work/l.err" &
  lp=$!
  pids+=("$lp")
  wait_json "$work/b.json" '.relay.title == "First Title" and .relay.meta_blocks >= 2' 60 ||
    fail "no title: $(jq -c .relay "$work/b.json")"
  # The listener hears the first connection (its output grows past a few
  # frames) before the server goes away.
  wait_size "$work/out.mp3" 8000 30 || fail "the listener wrote nothing"
  # The server goes away mid-stream, and comes back.
  kill "$icecast_pid"
  wait "$icecast_pid" 2>/dev/null || true
  kill "$ff" 2>/dev/null || true
  wait "$ff" 2>/dev/null || true
  wait_json "$work/b.json" '.relay.reconnects >= 1' 30 ||
    fail "no reconnect attempt: $(jq -c .relay "$work/b.json")"
  # All the first connection relayed: the listener has heard the second one
  # once its output is longer.
  first=$(jq .relay.audio_bytes "$work/b.json")
  "${run[@]}" "$icecast" -c "$tmp/icecast.xml" >>"$tmp/stdout" 2>&1 &
  icecast_pid=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  push
  set_title "Second+Title"
  wait_json "$work/b.json" '.relay.connects >= 2 and .relay.title == "Second Title"' 90 ||
    fail "no second connection: $(jq -c .relay "$work/b.json")"
  wait_size "$work/out.mp3" $((first + 16000)) 30 ||
    fail "the listener stopped: $first bytes relayed before the restart, $(stat -c %s "$work/out.mp3") written"
  kill -TERM "$bp"
  wait "$bp" || fail "broadcaster: exit $?"
  timeout 30 tail --pid="$lp" -f /dev/null || fail "the listener did not end"
  wait "$lp" || fail "listener: exit $?"
  # The listener's stream is whole MPEG-1 Layer III frames back to back: an
  # ICY block left in the audio (one every metaint bytes) would break the
  # chain each time. Where icecast2 was killed, the frame it was sending is
  # cut short, and the restarted server may begin the new connection
  # mid-frame: the broadcaster drops both (station_source.tail_dropped_bytes
  # and lead_dropped_bytes), so the chain has no break at all.
  python3 - "$work/out.mp3" <<'PY' || fail "not a clean chain of MP3 frames"
import sys
d = open(sys.argv[1], "rb").read()
rates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0]
hz = [44100, 48000, 32000, 0]
i, frames, breaks = 0, 0, []
while i + 4 <= len(d):
    h = d[i:i + 4]
    if h[0] == 0xFF and (h[1] & 0xFE) == 0xFA and rates[h[2] >> 4] and hz[(h[2] >> 2) & 3]:
        i += 144000 * rates[h[2] >> 4] // hz[(h[2] >> 2) & 3] + ((h[2] >> 1) & 1)
        frames += 1
        continue
    j = d.find(b"\xff\xfb", i + 1)
    j = len(d) if j < 0 else j
    breaks.append((i, j - i))
    i = j
print(f"{frames} frames, breaks (offset, bytes): {breaks}")
sys.exit(0 if frames > 100 and not breaks else 1)
PY
  errs=$(ffmpeg -v error -i "$work/out.mp3" -f null - 2>&1 | grep -c . || true)
  ((errs == 0)) || fail "$errs decode errors: $(ffmpeg -v error -i "$work/out.mp3" -f null - 2>&1 | head -3)"
  jq -e '.relay.connects >= 2 and .relay.reconnects >= 1 and .relay.meta_blocks >= 2 and
         .relay.meta_bad == 0 and .relay.metaint > 0 and .station_source.sessions >= 2' \
    "$work/b.json" >/dev/null || fail "counters: $(jq -c .relay "$work/b.json")"
  echo "ok: relay ($(jq -c .relay "$work/b.json"))"
  ;;

garbage)
  trap stop_all EXIT
  # A server answering every connection with an ICY head and random bytes
  # (metadata length bytes included), then closing.
  python3 - "$work/port" <<'PY' &
import os, socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
def serve(c):
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nicy-metaint: 1000\r\n"
                  b"icy-name: garbage\r\n\r\n")
        for _ in range(20):
            c.sendall(os.urandom(4096))
            time.sleep(0.05)
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
  pids+=($!)
  for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
  hport=$(cat "$work/port")
  base=$(udp_ports 1)
  "$sc" broadcast --station /garbage --key "$key" --listen "127.0.0.1:$base" \
    --relay "http://127.0.0.1:$hport/x" --stats "$work/b.json" --stats-interval-ms 200 \
    2>"$work/b.err" &
  bp=$!
  pids+=("$bp")
  wait_json "$work/b.json" '.relay.connects >= 2 and
      .station_source.lead_dropped_bytes + .station_source.garbage_bytes > 0' 60 ||
    fail "counters: $(jq -c '.relay, .station_source' "$work/b.json")"
  kill -0 "$bp" || fail "the broadcaster died"
  kill -TERM "$bp"
  wait "$bp" || fail "broadcaster: exit $?"
  echo "ok: garbage ($(jq -c '[.relay.meta_bad, .station_source.lead_dropped_bytes,
    .station_source.garbage_bytes]' "$work/b.json"))"
  ;;

usage)
  trap stop_all EXIT
  ffmpeg -v error -f lavfi -i "sine=d=0.2" -c:a pcm_u8 "$work/u8.wav"
  ffmpeg -v error -f lavfi -i "sine=d=0.2" -c:a pcm_f32le "$work/f32.wav"
  base=$(udp_ports 1)
  expect2() { # expect2 PATTERN ARGS...: exit 2 with PATTERN on stderr
    local pat=$1
    shift
    set +e
    "$sc" broadcast --station /u --key "$key" --listen "127.0.0.1:$base" "$@" 2>"$work/err"
    local rc=$?
    set -e
    [[ $rc == 2 ]] || fail "'$*': exit $rc, want 2"
    grep -q -- "$pat" "$work/err" || fail "'$*': '$(cat "$work/err")' lacks '$pat'"
  }
  expect2 "No such file" --input "$work/none.wav" --encode flac
  expect2 "not a WAV file" --input /etc/hostname --encode flac
  expect2 "8-bit samples" --input "$work/u8.wav" --encode flac
  expect2 "not PCM" --input "$work/f32.wav" --encode opus
  expect2 "expected opus" --input "$work/u8.wav" --encode mp3
  expect2 "opus bit rate" --input "$work/u8.wav" --encode opus:5000
  expect2 "s16le:RATE:CHANNELS" --input - --encode flac --input-format s24le:48000:2
  expect2 "--input needs --encode" --input "$work/u8.wav"
  expect2 "only http" --relay "ftp://127.0.0.1/x"
  expect2 "not a URL" --relay "http://"
  expect2 "give one" --relay "http://127.0.0.1/x" --input - --encode flac
  echo "ok: usage"
  ;;

*)
  echo "$0: unknown case $case_" >&2
  exit 2
  ;;
esac
