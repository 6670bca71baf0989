#!/usr/bin/env bash
# Installs the Debian packages stripecast needs to build, test, benchmark and plot.
# This list is the one place where the project's system dependencies are named.
#
# Idempotent and quiet: asks dpkg-query first, and only when something is missing
# runs `apt-get update` and `apt-get install` for just those packages.
set -euo pipefail

# One package per line; a comment says who needs it.
SC_DEPS=(
  build-essential      # gcc, make, libc headers
  cmake                # the build (>= 3.25)
  pkg-config           # finds cmocka and protobuf-c
  binutils             # nm for the sans-I/O check (tests/check_sans_io.sh)
  libev-dev            # runtime/: the real peers' event loop
  libprotobuf-c-dev    # core/wire: the wire codec
  protobuf-c-compiler  # protoc-c generates proto/*.pb-c.[ch] into the build tree
  libisal-dev          # stream FEC: Reed-Solomon from ISA-L
  libsodium-dev        # core/auth.c: the signed stream (Ed25519, BLAKE2b); stripecast keygen
  libcmocka-dev        # unit tests
  clang                # fuzz targets (libFuzzer), SC_FUZZ=ON
  clang-format         # scripts/format.sh and ctest format: version 14 (Debian 12's), pinned
  gnuplot-nox          # figures (scripts/plot/*.gp)
  parallel             # parameter sweeps
  openssh-server       # tests/check_sweep_ssh.sh: sweeps over ssh (a private sshd on 127.0.0.1)
  jq                   # JSON summaries in scripts and benchmarks
  python3              # scripts/cluster (real-peer clusters); scripts/test.sh reads ctest's JUnit file
  libopusenc-dev       # runtime/encoder.c: broadcast --encode opus (Ogg Opus pages)
  libopus-dev          # the Opus codec under libopusenc
  libflac-dev          # runtime/encoder.c: broadcast --encode flac (Ogg FLAC)
  libogg-dev           # Ogg pages under libFLAC's Ogg encoder
  libcurl4-openssl-dev # runtime/relay.c: broadcast --relay URL (http and https)
  icecast2             # tests/check_broadcast_sources.sh: a real server to relay
  ezstream             # tests/ingest_encoders.sh: ezstream as an Icecast source
  libshout-tools       # tests/ingest_encoders.sh, ingest_oracle: the `shout` tool (libshout's HTTP and ICY sources)
  liquidsoap           # tests/ingest_sources.py (ctest ingest_liquidsoap): liquidsoap as an Icecast and SHOUTcast source
  darkice              # tests/ingest_sources.py (ctest ingest_darkice): DarkIce as an Icecast source, audio through ALSA's file plugin
  ffmpeg               # tests/check_media_video_late_start.sh: decodes a late listener's WebM / MPEG-TS
  mpv                  # tests/check_serve.sh: a real player on a peer's HTTP stream
  chromium             # tests/web_player.py: the peer's page played in headless Chromium
  chromium-driver      # tests/web_player.py: chromedriver, which selenium drives
  python3-selenium     # tests/web_player.py: the browser test itself
  libminiupnpc-dev     # runtime/portmap.c: a port mapping on the home router (UPnP-IGD)
  libnatpmp-dev        # runtime/portmap.c: the same through NAT-PMP
  desktop-file-utils   # tests/check_link.sh: desktop-file-validate on dist/stripecast.desktop
  iproute2             # tests/check_nat.sh: network namespaces as homes and routers
  nftables             # tests/check_nat.sh: the home routers' NAT and firewall
  miniupnpd-nftables   # tests/check_nat.sh: a home router that maps ports (UPnP-IGD, NAT-PMP)
)

usage() {
  cat <<USAGE
usage: scripts/deps.sh [--list | --help]

Installs any of stripecast's Debian packages that are missing (apt-get, with sudo
when not root). Prints nothing when everything is already installed.

  --list   print the package list, one per line, and exit
  --help   print this help and exit
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --list) printf '%s\n' "${SC_DEPS[@]}"; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: not a Debian system (no dpkg-query); install these yourself:" >&2
  printf '  %s\n' "${SC_DEPS[@]}" >&2
  exit 0
fi

missing=()
for pkg in "${SC_DEPS[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "deps.sh: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
