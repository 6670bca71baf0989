# icecast_server.sh — sourced by icecast_oracle.sh and icecast_clients.sh:
# starts icecast2 on 127.0.0.1 with a generated minimal configuration in a
# temp directory (no chroot; as "nobody" when started as root, because
# Icecast refuses to run as root) and stops it on exit. Sets $tmp, $port
# (HTTP; SHOUTcast v1 sources on $port + 1, mount /sc) and $icecast_pid.
# Credentials: source/hackme, admin/adminpw.
icecast=${ICECAST:-icecast2}
command -v "$icecast" >/dev/null || { echo "$0: $icecast not found" >&2; exit 77; }

tmp=$(mktemp -d)
icecast_pid=
cleanup() {
  if [[ -n $icecast_pid ]]; then kill "$icecast_pid" 2>/dev/null || true; wait "$icecast_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A free port pair (Icecast also listens on port+1 for SHOUTcast v1 sources).
port=$(python3 - <<'PY'
import socket
for p in range(18100, 19000, 2):
    ok = True
    for q in (p, p + 1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(p)
        break
PY
)

mkdir -p "$tmp/log" "$tmp/web" "$tmp/admin"
cat >"$tmp/icecast.xml" <<XML
<icecast>
  <location>oracle</location>
  <admin>oracle@localhost</admin>
  <limits>
    <clients>64</clients>
    <sources>32</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>5</header-timeout>
    <source-timeout>120</source-timeout>
    <burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>hackme</source-password>
    <relay-password>relaypw</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>adminpw</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket>
    <port>$port</port>
    <bind-address>127.0.0.1</bind-address>
    <shoutcast-mount>/sc</shoutcast-mount>
  </listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>$tmp</basedir>
    <logdir>$tmp/log</logdir>
    <webroot>$tmp/web</webroot>
    <adminroot>$tmp/admin</adminroot>
    <pidfile>$tmp/icecast.pid</pidfile>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>4</loglevel>
  </logging>
  <security>
    <chroot>0</chroot>
  </security>
</icecast>
XML

run=()
if [[ $(id -u) == 0 ]]; then
  chown -R nobody "$tmp"
  run=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
"${run[@]}" "$icecast" -c "$tmp/icecast.xml" >"$tmp/stdout" 2>&1 &
icecast_pid=$!

# Wait until it accepts connections.
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done
