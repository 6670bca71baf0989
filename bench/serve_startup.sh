#!/usr/bin/env bash
# bench/serve_startup.sh — a player connecting to a peer that already carries
# the station (runtime/serve.h): time from connect to the first stream byte
# (after the head), and from starting ffmpeg on the URL to its first decoded
# PCM byte. A broadcaster fed Ogg Opus by ffmpeg at real time, a listening
# peer with --http; --trials players one after another, each for a moment.
# Prints p50/p95/max of both as a markdown table.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/serve_startup.sh [--trials N] [--burst-s S] [--codec opus|mp3] [--binary PATH]

  --trials N    players, one after another (default 20)
  --burst-s S   the listening peer's --burst-s (default 2)
  --codec C     the station: Ogg Opus 96 kbit/s or MP3 128 kbit/s (default opus)
  --binary PATH stripecast (default build/stripecast)
USAGE
}

here=$(cd "$(dirname "$0")/.." && pwd)
trials=20 burst=2 codec=opus binary=$here/build/stripecast
while [ $# -gt 0 ]; do
  case $1 in
  --trials) trials=$2; shift 2 ;;
  --burst-s) burst=$2; shift 2 ;;
  --codec) codec=$2; shift 2 ;;
  --binary) binary=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

read -r udp hp < <(python3 - <<'PY'
import socket, random
def free(kind, n):
    for _ in range(2000):
        b = random.randrange(20000, 40000)
        ss = []
        try:
            for q in range(b, b + n):
                s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", q)); ss.append(s)
        except OSError:
            continue
        finally:
            for s in ss: s.close()
        return b
print(free(socket.SOCK_DGRAM, 2), free(socket.SOCK_STREAM, 1))
PY
)

if [[ $codec == mp3 ]]; then
  mount=/live.mp3 enc=(-c:a libmp3lame -b:a 128k -f mp3)
else
  mount=/live.opus enc=(-c:a libopus -b:a 96k -f ogg)
fi
key=$work/station.key
pk=$("$binary" keygen --out "$key")
"$binary" broadcast --station $mount --key "$key" --listen "127.0.0.1:$udp" --source - 2>"$work/b.err" \
  < <(ffmpeg -v error -re -f lavfi -i "sine=f=440:d=600" "${enc[@]}" -) &
pids+=($!)
sleep 0.5
"$binary" listen --station "$mount@$pk" --listen "127.0.0.1:$((udp + 1))" --join "127.0.0.1:$udp" \
  --http "$hp" --burst-s "$burst" 2>"$work/l.err" &
pids+=($!)
url=http://127.0.0.1:$hp$mount
for _ in $(seq 300); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' -I "$url" || true) == 200 ]] && break
  sleep 0.1
done
sleep $((burst + 2)) # the peer carries the station, with a burst's worth

python3 - "$hp" "$mount" "$url" "$trials" <<'PY'
import socket, subprocess, sys, time
port, mount, url, trials = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
first_byte, first_pcm = [], []
for _ in range(trials):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.0\r\n\r\n" % mount).encode())
    got = b""
    while b"\r\n\r\n" not in got or len(got.partition(b"\r\n\r\n")[2]) == 0:
        d = s.recv(65536)
        if not d:
            sys.exit("closed before the first byte")
        got += d
    first_byte.append(time.monotonic() - t0)
    s.close()
    t0 = time.monotonic()
    p = subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-i", url, "-f", "s16le", "-"],
                         stdout=subprocess.PIPE)
    p.stdout.read(1)
    first_pcm.append(time.monotonic() - t0)
    p.kill()
    p.wait()
    time.sleep(0.2)

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]

print("| step (%d players) | p50 ms | p95 ms | max ms |" % trials)
print("|---|---|---|---|")
for name, v in (("connect to first stream byte", first_byte),
                ("ffmpeg start to first decoded PCM", first_pcm)):
    print("| %s | %.1f | %.1f | %.1f |" % (name, 1e3 * pct(v, 0.5), 1e3 * pct(v, 0.95),
                                           1e3 * max(v)))
PY
