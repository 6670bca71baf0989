# shellcheck shell=bash
# serve_common.sh — sourced by check_serve.sh and check_page.sh, which run real
# peers on loopback and check what they serve with HTTP clients. Expects $sc
# (the stripecast program) and $case_ (the case, named in failures). Sets:
#   fail MSG...        prints "FAIL (case): MSG" and exits 1
#   free_ports KIND N  the first of N free ports in a row on 127.0.0.1 (udp or tcp)
#   $work              a temp directory, removed on exit (kept when KEEP is set)
#   pids, peers        every background process, each stopped on exit; peers are
#                      those of them that are stripecast peers
#   peers_exit_ok      SIGTERM to every peer; fails unless each exits 0
#   $key, $pk          a new station key's file and its public key

fail() { echo "FAIL ($case_): $*" >&2; exit 1; }

# n free ports in a row on 127.0.0.1 (UDP for peers, TCP for --http).
free_ports() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, random
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
n = int(sys.argv[2])
for _ in range(2000):
    base = random.randrange(20000, 40000)
    socks = []
    try:
        for q in range(base, base + n):
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

pids=()
peers=() # stripecast processes: each must exit 0 after SIGTERM
work=$(mktemp -d)
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap stop_all EXIT

# SIGTERM to every peer: each leaves politely and exits 0 (in the sanitizer
# build, with the leak check).
peers_exit_ok() {
  local p rc left=()
  for p in "${peers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${peers[@]}"; do
    rc=0
    wait "$p" || rc=$?
    [[ $rc == 0 ]] || fail "a peer exited $rc: $(cat "$work"/*.err)"
  done
  # Waited for: not to be signalled again on exit (the id may be reused).
  for p in "${pids[@]}"; do [[ " ${peers[*]} " == *" $p "* ]] || left+=("$p"); done
  pids=("${left[@]}")
  peers=()
}

# The station's key: broadcasters sign with it, listeners name the station by it.
key=$work/station.key
pk=$("$sc" keygen --out "$key" 2>/dev/null) || { echo "keygen failed"; exit 1; }
