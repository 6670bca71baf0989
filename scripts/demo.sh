#!/usr/bin/env bash
# The demo: builds the simulator, runs Pastry lookups over 10,000 simulated peers on
# a transit-stub Internet, prints the JSON summary and draws the hop distribution;
# then puts a station on the air from a generated tone and listens to it through a
# second peer.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/demo.sh [stripecast-sim pastry flags...]

Installs missing Debian packages (scripts/deps.sh), builds build/stripecast-sim
(RelWithDebInfo), then runs

  build/stripecast-sim pastry --peers 10000 --lookups 10000 --seed 1 \
      --topology transit-stub --out "$OUT"

prints the JSON summary, and renders the hop distribution from $OUT/hops.csv into
$OUT/pastry_hops.png and $OUT/pastry_hops.svg (scripts/plot/pastry_hops.gp).

Then it builds build/stripecast and puts a station on the air for 10 s
(DEMO_STATION_S): ffmpeg encodes a 440 Hz tone to Ogg Opus and sends it by PUT,
as to an Icecast server, into 'stripecast broadcast --http' (docs/broadcast.md);
a 'stripecast listen' peer joins, writes the station to $OUT/station/listener.opus
and serves it to players over HTTP (mpv, VLC, a browser); the demo prints how to
listen, then checks that what the listener wrote decodes without an error.

  scripts/demo.sh --station [SECONDS]
runs only the station, for SECONDS (default 300): time to start a player.

Any flag you give replaces the default of the same name; others are passed through:
  scripts/demo.sh --peers 2000
  scripts/demo.sh --topology sphere --fail-fraction 0.1 --repair-s 60
See all flags with: build/stripecast-sim pastry --help

Real peers instead of the simulator:
  scripts/demo.sh --real-peers [scripts/cluster flags...]
builds build/stripecast and runs scripts/cluster: 30 stripecast processes on
127.0.0.1 and a source streaming 5 MB of random data at 3 Mbit/s, with 4 of the
receivers SIGKILLed mid-stream, one a second; prints the JSON summary (every
survivor's output byte-identical to the input, continuity, latency p50/p95)
into $OUT/cluster/. Flags after --real-peers go to scripts/cluster
(see scripts/cluster --help).

Environment:
  DEMO_OUT=DIR   output folder (default: demo-out); --out DIR wins over it
USAGE
}

for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
out=${DEMO_OUT:-demo-out}

# Free ports on 127.0.0.1: n in a row, UDP and TCP.
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 40000 - n)
    socks = []
    try:
        for q in range(base, base + n):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
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

# station_demo SECONDS: a station from a generated tone, heard by a second peer.
station_demo() {
  local secs=$1 dir="$out/station" sc="$root/build/stripecast"
  mkdir -p "$dir"
  echo "== build build/stripecast"
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_WERROR=ON \
    -DSC_SANITIZE=OFF >/dev/null
  cmake --build "$root/build" -j"$(nproc)" --target stripecast
  local base
  # The ingest port takes two: PORT for Icecast sources and PORT+1 for
  # SHOUTcast v1 ones (docs/broadcast.md).
  base=$(free_ports 6)
  local peer_b=$base peer_l=$((base + 1)) ingest=$((base + 2)) play=$((base + 4))
  local mount=/demo.opus pw="$dir/source-password"
  (umask 077 && printf '%s\n' "demo-$RANDOM$RANDOM" >"$pw")
  local pids=()
  # shellcheck disable=SC2317 # called by the trap
  stop_station() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  }
  trap stop_station EXIT INT TERM
  echo "== the station $mount on the air: broadcaster 127.0.0.1:$peer_b, encoders to 127.0.0.1:$ingest"
  # The station's key: the broadcaster signs with it, listeners name the
  # station by it (NAME@KEY).
  local key="$dir/station.key" pk
  rm -f "$key"
  pk=$("$sc" keygen --out "$key")
  "$sc" broadcast --station "$mount" --key "$key" --listen "127.0.0.1:$peer_b" \
    --http "127.0.0.1:$ingest" --source-password-file "$pw" \
    --stats "$dir/broadcaster.json" 2>"$dir/broadcaster.log" &
  pids+=($!)
  # The broadcaster is up once its ingest port answers: a listener joining
  # before that would wait for its join's retry (4 s).
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$ingest") 2>/dev/null && break
    sleep 0.1
  done
  # A listening peer; players connect to it as to an Icecast server.
  local serve=(--http "127.0.0.1:$play")
  "$sc" listen --station "$mount@$pk" --listen "127.0.0.1:$peer_l" --join "127.0.0.1:$peer_b" \
    --output "$dir/listener.opus" "${serve[@]}" \
    --stats "$dir/listener.json" 2>"$dir/listener.log" &
  pids+=($!)
  # The encoder: ffmpeg as a broadcaster would run it against Icecast.
  ffmpeg -nostdin -v error -re -f lavfi -i "sine=frequency=440:duration=$secs" \
    -c:a libopus -b:a 96k -content_type audio/ogg -f ogg \
    "icecast://source:$(cat "$pw")@127.0.0.1:$ingest$mount" 2>"$dir/ffmpeg.log" &
  local ff=$!
  pids+=("$ff")
  echo
  echo "   Listen while it plays ($secs s):"
  echo "     mpv http://127.0.0.1:$play$mount     (or VLC; a browser: http://127.0.0.1:$play/)"
  echo "     $sc listen --station $mount@$pk --listen 127.0.0.1:$((base + 5)) \\"
  echo "         --join 127.0.0.1:$peer_b --output - | mpv -"
  echo
  wait "$ff" || echo "demo.sh: ffmpeg exited $? (see $dir/ffmpeg.log)" >&2
  sleep 2 # the last generation reaches the listener
  stop_station
  trap - EXIT INT TERM
  local errs
  errs=$(ffmpeg -v error -i "$dir/listener.opus" -f null - 2>&1 | wc -l)
  local secs_got
  secs_got=$(ffprobe -v error -show_entries format=duration -of csv=p=0 \
    "$dir/listener.opus" 2>/dev/null || echo 0)
  echo "== the listener wrote $(stat -c %s "$dir/listener.opus") bytes, ${secs_got%.*} s of audio;" \
    "decode errors: $errs"
  echo "   Files in $dir/: listener.opus, broadcaster.json, listener.json, *.log"
  [[ $errs == 0 ]]
}

if [[ "${1:-}" == "--station" ]]; then
  bash ./scripts/deps.sh
  station_demo "${2:-300}"
  exit
fi

# The real-peer demo: stripecast processes on loopback (docs/runtime.md).
if [[ "${1:-}" == "--real-peers" ]]; then
  shift
  bash ./scripts/deps.sh
  echo "== build build/stripecast"
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_WERROR=ON \
    -DSC_SANITIZE=OFF >/dev/null
  cmake --build "$root/build" -j"$(nproc)" --target stripecast
  mkdir -p "$out/cluster"
  echo "== scripts/cluster: 30 receivers, 5 MB at 3 Mbit/s, 4 SIGKILLs"
  status=0
  ./scripts/cluster --peers 30 --bytes 5000000 --rate-kbps 3000 --out "$out/cluster" \
    --peer-args "--window-gens 256" --source-args "--root-refresh-ms 250" \
    --kill 3:1 --kill 4:1 --kill 5:1 --kill 6:1 "$@" >"$out/cluster/run.json" || status=$?
  if command -v jq >/dev/null 2>&1; then jq . "$out/cluster/run.json"; else cat "$out/cluster/run.json"; fi
  echo "== done (exit $status). Outputs, counters and logs in $out/cluster/"
  exit "$status"
fi

# has_flag NAME: whether the user gave --NAME (as "--NAME V" or "--NAME=V").
has_flag() {
  local a
  for a in "${user_args[@]}"; do
    [[ "$a" == "--$1" || "$a" == "--$1="* ]] && return 0
  done
  return 1
}

# flag_value NAME DEFAULT: the value the run will use for --NAME.
flag_value() {
  local i
  for ((i = 0; i < ${#user_args[@]}; i++)); do
    case "${user_args[i]}" in
      "--$1") [[ $((i + 1)) -lt ${#user_args[@]} ]] && { echo "${user_args[i + 1]}"; return; } ;;
      "--$1="*) echo "${user_args[i]#--"$1"=}"; return ;;
    esac
  done
  echo "$2"
}

user_args=("$@")
out=$(flag_value out "$out")
peers=$(flag_value peers 10000)
lookups=$(flag_value lookups 10000)
seed=$(flag_value seed 1)
topology=$(flag_value topology transit-stub)

args=()
has_flag peers || args+=(--peers "$peers")
has_flag lookups || args+=(--lookups "$lookups")
has_flag seed || args+=(--seed "$seed")
has_flag topology || args+=(--topology "$topology")
has_flag out || args+=(--out "$out")
# Progress (simulated time, events/s, ETA) on stderr, when someone is watching.
if [[ -t 2 ]] && ! has_flag progress; then
  args+=(--progress)
fi
args+=("${user_args[@]}")

bash ./scripts/deps.sh

# Same configuration as scripts/test.sh's build/ tree, so the two never make each
# other rebuild everything; only the simulator is built here.
echo "== build build/stripecast-sim"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_WERROR=ON \
  -DSC_SANITIZE=OFF >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target stripecast-sim

mkdir -p "$out"
summary="$out/run.json"
echo "== build/stripecast-sim pastry ${args[*]}"
if ! build/stripecast-sim pastry "${args[@]}" >"$summary"; then
  echo "demo.sh: stripecast-sim failed (its stdout is in $summary)" >&2
  exit 1
fi

echo
echo "== summary ($summary)"
if command -v jq >/dev/null 2>&1; then
  jq . "$summary"
else
  cat "$summary"
fi

hops="$out/hops.csv"
if [[ ! -s "$hops" ]]; then
  echo "demo.sh: $hops is missing or empty; no figure drawn" >&2
  exit 1
fi
title_extra="N = $peers peers, $lookups lookups, $topology, seed $seed"
gnuplot -e "infile=\"$hops\"; outbase=\"$out/pastry_hops\"; title_extra=\"${title_extra//\"/}\"" \
  scripts/plot/pastry_hops.gp

echo
echo "== simulator files in $out/:"
echo "  run.json          the JSON summary stripecast-sim printed (seed and parameters included)"
echo "  hops.csv          hop distribution (hops,count,fraction)"
echo "  pastry_hops.png   the figure; pastry_hops.svg the same as vector graphics"

echo
station_demo "${DEMO_STATION_S:-10}"
echo "== done"
