#!/usr/bin/env bash
# ingest_oracle.sh — icecast2 as the oracle of the ingest server: the same
# requests and the same real clients against a running icecast2
# (tests/icecast_server.sh) and against the ingest server (ingest_capture,
# station mount /sc, Icecast's shoutcast-mount there) get the same answers,
# byte for byte once the Date and Server values are set aside.
#
# Left out on purpose: a source for another mount than the station's (Icecast
# creates the mount; a stripecast peer carries one station and answers 403).
#
# Usage: tests/ingest_oracle.sh INGEST_CAPTURE   (exit 77: icecast2 missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cap=$1
command -v python3 >/dev/null || { echo "$0: python3 not found" >&2; exit 77; }
source "$here/icecast_server.sh" # sets $tmp, $port, $icecast_pid; exit 77 without icecast2

cap_pid=
cleanup_all() {
  if [[ -n $cap_pid ]]; then kill "$cap_pid" 2>/dev/null || true; wait "$cap_pid" 2>/dev/null || true; fi
  cleanup
}
trap cleanup_all EXIT

mkdir -p "$tmp/cap"
"$cap" --dir "$tmp/cap" --mount /sc --source-password hackme 2>"$tmp/cap.log" &
cap_pid=$!
for _ in $(seq 100); do [[ -s $tmp/cap/port ]] && break; sleep 0.1; done
[[ -s $tmp/cap/port ]] || { echo "ingest_capture did not start"; exit 1; }
kill -0 "$icecast_pid" || { echo "icecast2 did not start"; cat "$tmp/stdout"; exit 1; }

python3 - "$port" "$(cat "$tmp/cap/port")" "$tmp" <<'PY'
import base64, os, re, shutil, socket, subprocess, sys, time

ports = {"icecast2": int(sys.argv[1]), "stripecast": int(sys.argv[2])}
tmp = sys.argv[3]
failures = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)

def norm(b):
    b = re.sub(rb"Date: [^\r\n]*", b"Date: <date>", b)
    return re.sub(rb"Server: [^\r\n]*", b"Server: <server>", b)

def auth(user, pw):
    return b"Authorization: Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode())

def connect(server, shoutcast=False):
    s = socket.create_connection(("127.0.0.1", ports[server] + (1 if shoutcast else 0)))
    s.settimeout(2.0)
    return s

def read(s, until=None):
    """Bytes until the answer ends: the marker, the close, or a quiet second."""
    out = b""
    while until is None or not out.endswith(until):
        try:
            d = s.recv(65536)
        except socket.timeout:
            out += b"<open>"
            break
        except ConnectionResetError:
            break
        if not d:
            break
        out += d
    return out

def ask(server, data, shoutcast=False, until=None):
    s = connect(server, shoutcast)
    s.sendall(data)
    a = read(s, until)
    s.close()
    return a

def same(name, fn):
    """Run fn(server) against both; the normalised answers must be equal."""
    got = {srv: fn(srv) for srv in ports}
    a, b = (norm(got[k]) for k in ("icecast2", "stripecast"))
    check(a == b, "%s: same answer (%r%s)" % (name, a[:60], "" if a == b else " vs %r" % b[:200]))

OK = b"HTTP/1.0 200 OK\r\n\r\n"
CT = b"Content-Type: audio/mpeg\r\n"
A = auth("source", "hackme") + b"\r\n"

# Requests from tests/data/icecast/answers.txt and clients.txt, on the one mount.
cases = [
    ("put_wrong_password", b"PUT /sc HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth("source", "wrong") + b"\r\n" + CT + b"\r\n"),
    ("put_no_auth", b"PUT /sc HTTP/1.1\r\nHost: 127.0.0.1\r\n" + CT + b"\r\n"),
    ("put_other_user", b"PUT /sc HTTP/1.1\r\n" + auth("dj", "hackme") + b"\r\n" + CT + b"\r\n"),
    ("put_no_content_type", b"PUT /sc HTTP/1.1\r\n" + A + b"\r\n"),
    ("put_mount_no_slash", b"PUT sc HTTP/1.1\r\n" + A + CT + b"\r\n"),
    ("source_double_slash", b"SOURCE //sc HTTP/1.0\r\n" + A + CT + b"\r\n"),
    ("source_dot_segment", b"SOURCE /a/../sc HTTP/1.0\r\n" + A + CT + b"\r\n"),
    ("libshout_probe", b"SOURCE /sc HTTP/1.0\r\nHost: 127.0.0.1:8000\r\nUser-Agent: libshout/2.4.6\r\n" + CT +
        b"Content-Length: 0\r\nConnection: Keep-Alive\r\nice-public: 0\r\n\r\n"),
    ("options_star", b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ("admin_poke", b"GET /admin/!POKE HTTP/1.0\r\n\r\n"),
    ("oversized_head", b"PUT /sc HTTP/1.1\r\n" + A + b"X-Pad: " + b"a" * 5000 + b"\r\n\r\n"),
    ("garbage_line", b"\x01\x02 garbage\r\n\r\n"),
    ("unknown_method", b"BREW /pot HTTP/1.0\r\n\r\n"),
    ("bad_protocol", b"GET /sc FOO/1.0\r\n\r\n"),
    ("admin_metadata_no_source", b"GET /admin/metadata?mount=/sc&mode=updinfo&song=x HTTP/1.0\r\n" + A + b"\r\n"),
    ("admin_metadata_no_mount_source_login", b"GET /admin/metadata?mode=updinfo&song=x HTTP/1.0\r\n" + A + b"\r\n"),
    ("admin_unknown_command", b"GET /admin/nosuch HTTP/1.0\r\n" + A + b"\r\n"),
    ("shoutcast_admin_no_pass", b"GET /admin.cgi?mode=updinfo&song=x HTTP/1.0\r\n\r\n"),
    ("shoutcast_admin_wrong_password", b"GET /admin.cgi?pass=nope&mode=updinfo&song=x HTTP/1.0\r\n\r\n"),
    ("listener_missing_mount", b"GET /nosuch HTTP/1.0\r\n\r\n"),
]
for name, req in cases:
    same(name, lambda srv: ask(srv, req))
same("shoutcast_wrong_password", lambda srv: ask(srv, b"wrong\r\nicy-name:SC\r\n\r\n", shoutcast=True))
same("shoutcast_mount_suffix", lambda srv: ask(srv, b"hackme:#/other\r\nicy-name:SC\r\n\r\n", shoutcast=True))

def with_live(login, login_until, shoutcast, checks):
    """Log a source in on each server, run checks while it is live, close it."""
    live = {}
    answers = {}
    for srv in ports:
        s = connect(srv, shoutcast)
        s.sendall(login)
        answers[srv] = read(s, login_until)
        s.sendall(b"\xff\xfb\x90\x00" * 64)  # some stream bytes
        live[srv] = s
    a, b = norm(answers["icecast2"]), norm(answers["stripecast"])
    check(a == b, "login %r: same answer (%r%s)" % (login[:30], a[:60], "" if a == b else " vs %r" % b))
    time.sleep(0.3)
    for name, fn in checks:
        same(name, fn)
    for s in live.values():
        s.close()
    time.sleep(1.0)  # Icecast frees the mount from its source thread

busy = [
    ("busy_mount", lambda srv: ask(srv, b"PUT /sc HTTP/1.1\r\n" + A + CT + b"\r\n")),
    ("busy_mount_before_content_type", lambda srv: ask(srv, b"PUT /sc HTTP/1.1\r\n" + A + b"\r\n")),
    ("busy_mount_wrong_password_first", lambda srv: ask(srv, b"PUT /sc HTTP/1.1\r\n" + auth("source", "x") + b"\r\n" + CT + b"\r\n")),
    ("admin_metadata_ok", lambda srv: ask(srv, b"GET /admin/metadata?mount=/sc&mode=updinfo&song=Artist%20-%20Title&charset=UTF-8 HTTP/1.0\r\n" + A + b"\r\n")),
    ("admin_metadata_wrong_password", lambda srv: ask(srv, b"GET /admin/metadata?mount=/sc&mode=updinfo&song=x HTTP/1.0\r\n" + auth("source", "wrong") + b"\r\n\r\n")),
    ("admin_metadata_bad_mode", lambda srv: ask(srv, b"GET /admin/metadata?mount=/sc&mode=foo&song=x HTTP/1.0\r\n" + A + b"\r\n")),
    ("admin_metadata_no_mode", lambda srv: ask(srv, b"GET /admin/metadata?mount=/sc&song=x HTTP/1.0\r\n" + A + b"\r\n")),
    ("admin_cgi", lambda srv: ask(srv, b"GET /admin.cgi?pass=hackme&mode=updinfo&song=Hello+World HTTP/1.0\r\n\r\n")),
    ("admin_cgi_bad_mode", lambda srv: ask(srv, b"GET /admin.cgi?pass=hackme&mode=foo&song=x HTTP/1.0\r\n\r\n")),
]
with_live(b"PUT /sc HTTP/1.1\r\nHost: 127.0.0.1\r\n" + A + CT + b"Expect: 100-continue\r\nice-name: Oracle\r\n\r\n",
          OK, False, busy)
with_live(b"SOURCE /sc HTTP/1.0\n" + A.replace(b"\r\n", b"\n") + b"Content-type: audio/mpeg\nUser-Agent: DarkIce/1.4\nice-name: LF Radio\n\n",
          OK, False, busy[:1])
def shoutcast_second(srv):
    """A second SHOUTcast source: Icecast answers once stream bytes follow OK2."""
    s = connect(srv, True)
    s.sendall(b"hackme\r\nicy-name:X\r\n\r\n")
    a = read(s, b"\r\n\r\n")
    try:
        s.sendall(b"\xff\xfb\x90\x00" * 16)
    except OSError:
        pass
    a += read(s)
    s.close()
    return a

with_live(b"hackme\r\nicy-name:SC Radio\r\nicy-genre:Jazz\r\nicy-pub:1\r\nicy-br:128\r\n\r\n",
          b"\r\n\r\n", True,
          [("busy_mount_http_vs_shoutcast", busy[0][1]), busy[7], busy[3],
           ("busy_mount_shoutcast", shoutcast_second)])
with_live(b"SOURCE /sc ICE/1.0\r\n" + A + b"Content-Type: audio/ogg\r\n\r\n", OK, False, [])
with_live(b"put /sc HTTP/1.1\r\n" + A + CT + b"\r\n", OK, False, [])

# Real clients: the same outcome (exit status, and the status code ffmpeg reports).
ff = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=440:d=1"]
def ffmpeg(srv, pw, extra):
    url = "icecast://source:%s@127.0.0.1:%d/sc" % (pw, ports[srv])
    r = subprocess.run(ff + extra + [url], stderr=subprocess.PIPE, timeout=60)
    time.sleep(1.0)
    code = re.search(rb"Server returned (\d+)", r.stderr)
    return r.returncode, code.group(1).decode() if code else None
if shutil.which("ffmpeg"):
    mp3 = ["-c:a", "libmp3lame", "-content_type", "audio/mpeg", "-f", "mp3"]
    for name, pw, extra in [("ffmpeg PUT", "hackme", mp3),
                            ("ffmpeg SOURCE", "hackme", mp3 + ["-legacy_icecast", "1"]),
                            ("ffmpeg wrong password", "nope", mp3),
                            ("ffmpeg ogg opus", "hackme",
                             ["-c:a", "libopus", "-content_type", "audio/ogg", "-f", "ogg"])]:
        got = {srv: ffmpeg(srv, pw, extra) for srv in ports}
        check(got["icecast2"] == got["stripecast"],
              "%s: same outcome %r vs %r" % (name, got["icecast2"], got["stripecast"]))
else:
    print("skip ffmpeg clients: ffmpeg not installed")
if shutil.which("shout"):
    tone = os.path.join(tmp, "tone.mp3")
    subprocess.run(ff + ["-c:a", "libmp3lame", "-y", tone], check=True)
    def shout(srv, proto, pw):
        with open(tone, "rb") as f:
            r = subprocess.run(["shout", "--proto", proto, "--usage", "audio", "--format", "mp3",
                                "-H", "127.0.0.1", "-P", str(ports[srv]), "--user", "source",
                                "--pass", pw, "--tls-mode", "disabled", "--mount", "/sc"],
                               stdin=f, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, timeout=60)
        time.sleep(1.0)
        return r.returncode
    for proto in ("http", "icy"):
        for pw in ("hackme", "nope"):
            got = {srv: shout(srv, proto, pw) for srv in ports}
            check(got["icecast2"] == got["stripecast"],
                  "shout %s, password %s: same exit status %r" % (proto, pw, got))
else:
    print("skip shout: not installed")

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
PY

# The server leaves cleanly (under sanitizers: no report).
kill -TERM "$cap_pid"
rc=0
wait "$cap_pid" || rc=$?
cap_pid=
if [[ $rc != 0 ]] || grep -q "Sanitizer" "$tmp/cap.log"; then
  echo "FAIL ingest_capture exit status $rc"
  cat "$tmp/cap.log"
  exit 1
fi
echo "ok   ingest_capture exits 0"
