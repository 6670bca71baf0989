#!/usr/bin/env bash
# ingest_encoders.sh — real encoders go on the air through the ingest server
# (runtime/ingest.h, run by ingest_capture), and the station receives exactly
# the bytes they send.
#
# What each encoder sends is known without a relay: ffmpeg is run a second
# time with the same deterministic settings (-fflags +bitexact, one thread)
# into a pipe (not seekable, like the network, so the muxer writes the same
# bytes), and libshout's shout and ezstream send the frames of an MP3 file
# written without ID3 tag or Xing frame (they drop the tag) unchanged.
#
# Also checked: the password file (trailing newline stripped), a second
# source refused with 403 while the first keeps streaming, a wrong password
# (401, no session), garbage and oversized heads (closed, nothing else
# changes), a head that never ends (closed at the header deadline), a silent
# source (dropped at the source timeout, and the mount is free again),
# titles from /admin/metadata and /admin.cgi, and the counters.
#
# Usage: tests/ingest_encoders.sh INGEST_CAPTURE   (exit 77: ffmpeg missing)
set -euo pipefail

cap=$1
command -v ffmpeg >/dev/null || { echo "$0: ffmpeg not found" >&2; exit 77; }
command -v python3 >/dev/null || { echo "$0: python3 not found" >&2; exit 77; }

tmp=$(mktemp -d)
cap_pid=
cleanup() {
  if [[ -n $cap_pid ]]; then kill "$cap_pid" 2>/dev/null || true; wait "$cap_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

pw="on-air-$RANDOM$RANDOM"
printf '%s\n' "$pw" >"$tmp/pwfile"
mkdir "$tmp/cap"
"$cap" --dir "$tmp/cap" --mount /live.opus --source-password-file "$tmp/pwfile" \
  --source-timeout-ms 4000 --header-timeout-ms 1000 2>"$tmp/cap.log" &
cap_pid=$!
for _ in $(seq 100); do [[ -s $tmp/cap/port ]] && break; sleep 0.1; done
[[ -s $tmp/cap/port ]] || { echo "ingest_capture did not start"; cat "$tmp/cap.log"; exit 1; }

python3 - "$tmp" "$(cat "$tmp/cap/port")" "$pw" "$cap_pid" <<'PY'
import base64, json, os, re, shutil, signal, socket, subprocess, sys, time

tmp, port, pw, cap_pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
capdir = os.path.join(tmp, "cap")
failures = []
sessions = 0          # sessions the station should have seen so far

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)

def events():
    with open(os.path.join(capdir, "events.log")) as f:
        return f.read()

def wait_for(pred, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()

def session_bytes(n):
    with open(os.path.join(capdir, "session-%d.bin" % n), "rb") as f:
        return f.read()

def ended(n):
    return ("\nend %d\n" % n) in ("\n" + events())

FF = ["ffmpeg", "-nostdin", "-loglevel", "error"]
URL = "icecast://source:%s@127.0.0.1:%d/live.opus" % (pw, port)

def ffmpeg_args(inputs, codec, fmt):
    return FF + inputs + ["-fflags", "+bitexact", "-threads", "1"] + codec + ["-f", fmt]

def reference(inputs, codec, fmt):
    r = subprocess.run(ffmpeg_args(inputs, codec, fmt) + ["-"], stdout=subprocess.PIPE,
                       check=True)
    return r.stdout

def push(name, inputs, codec, fmt, ctype, extra=(), realtime=False, tail_loss_max=0):
    """One ffmpeg push; the session must hold exactly what ffmpeg produces."""
    global sessions
    ref = reference(inputs, codec, fmt)
    args = ffmpeg_args((["-re"] if realtime else []) + inputs, codec, fmt)
    args += ["-content_type", ctype] + list(extra) + [URL]
    r = subprocess.run(args, stderr=subprocess.PIPE, timeout=60)
    sessions += 1
    check(r.returncode == 0, "%s: ffmpeg exits 0 (%s)" % (name, r.stderr.decode()[-200:].strip()))
    check(wait_for(lambda: ended(sessions)), "%s: session %d ended" % (name, sessions))
    got = session_bytes(sessions)
    if tail_loss_max == 0:
        check(len(ref) > 1000 and got == ref,
              "%s: station got ffmpeg's %d bytes exactly (got %d)" % (name, len(ref), len(got)))
    else:
        check(len(ref) > 1000 and got == ref[:len(got)] and len(ref) - len(got) <= tail_loss_max,
              "%s: station got ffmpeg's %d bytes, at most the last %d lost (got %d)"
              % (name, len(ref), tail_loss_max, len(got)))

def raw(data, read_timeout=3.0, port_=None):
    """Send bytes on a new connection; return what comes back until close."""
    s = socket.create_connection(("127.0.0.1", port_ or port))
    s.settimeout(read_timeout)
    if data:
        s.sendall(data)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        out += b"<timeout>"
    except ConnectionResetError:
        pass  # closed with our bytes unread: still no answer
    s.close()
    return out

def auth(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

sine = ["-f", "lavfi", "-i", "sine=f=440:d=4"]
opus = ["-c:a", "libopus", "-b:a", "128k"]

# 1. Ogg Opus by PUT, in real time; meanwhile a second source, bad logins and
#    garbage must leave it alone.
ref1 = reference(sine, opus, "ogg")
args = ffmpeg_args(["-re"] + sine, opus, "ogg") + ["-content_type", "audio/ogg", URL]
live = subprocess.Popen(args, stderr=subprocess.PIPE)
sessions += 1
check(wait_for(lambda: ("begin %d ogg" % sessions) in events()), "opus put: session begins as ogg")
second = subprocess.run(ffmpeg_args(sine, opus, "ogg") + ["-content_type", "audio/ogg", URL],
                        stderr=subprocess.PIPE, timeout=60)
check(second.returncode != 0 and b"403" in second.stderr,
      "second source refused with 403 while one is live")
wrong = subprocess.run(ffmpeg_args(sine, opus, "ogg") +
                       ["-content_type", "audio/ogg", URL.replace(pw, pw + "x")],
                       stderr=subprocess.PIPE, timeout=60)
check(wrong.returncode != 0 and b"401" in wrong.stderr, "wrong password refused with 401")
a = raw(b"PUT /live.opus HTTP/1.1\r\nAuthorization: " + auth("source", pw).encode() + b"\r\n\r\n")
check(a.startswith(b"HTTP/1.0 403 Forbidden\r\n") and a.endswith(b"Mountpoint in use"),
      "busy mount is checked before Content-Type, as Icecast does")
check(raw(b"\x01\x02 garbage\r\n\r\n") == b"", "garbage head: closed without an answer")
check(raw(b"PUT /live.opus HTTP/1.1\r\nX-Pad: " + b"a" * 5000 + b"\r\n\r\n") == b"",
      "oversized head: closed without an answer")
check(raw(b"OPTIONS * HTTP/1.1\r\n\r\n") == b"", "OPTIONS *: closed, as Icecast does")
a = raw(b"GET /admin/!POKE HTTP/1.0\r\n\r\n")
check(a.startswith(b"HTTP/1.0 400 Bad Request\r\n"), "GET /admin/!POKE: 400")
t0 = time.time()
a = raw(b"SOURCE /live.opus HTTP/1.0\r\nAuthor", read_timeout=5.0)
check(a == b"" and time.time() - t0 < 4.0, "unfinished head closed at the header deadline")
q = "mount=/live.opus&mode=updinfo&song=Artist%20-%20Title"
a = raw(("GET /admin/metadata?%s HTTP/1.0\r\nAuthorization: %s\r\n\r\n" % (q, auth("source", pw))).encode())
check(a.startswith(b"HTTP/1.0 200 OK\r\n") and b"Metadata update successful" in a,
      "/admin/metadata with the source password: 200")
a = raw(("GET /admin/metadata?%s HTTP/1.0\r\nAuthorization: %s\r\n\r\n" % (q, auth("source", "nope"))).encode())
check(a.startswith(b"HTTP/1.0 401 ") and b"WWW-Authenticate: Basic" in a, "/admin/metadata, wrong password: 401")
r = live.wait(timeout=60)
check(r == 0, "opus put: ffmpeg exits 0")
check(wait_for(lambda: ended(sessions)), "opus put: session ended")
check(session_bytes(sessions) == ref1, "opus put: station got ffmpeg's %d bytes exactly" % len(ref1))
check("title Artist - Title" in events(), "title from /admin/metadata reached the station")

# 2. The other formats and the SOURCE method.
# With SOURCE, ffmpeg never reads the server's "200 OK"; closing with it
# unread makes its kernel reset the connection, and the server's kernel then
# drops what it had received but not yet handed over (Icecast loses the same
# tail). In real time the server keeps up, so at most the last writes go.
push("opus legacy SOURCE", sine, opus, "ogg", "audio/ogg", ["-legacy_icecast", "1"],
     realtime=True, tail_loss_max=8192)
push("mp3", sine, ["-c:a", "libmp3lame", "-b:a", "128k"], "mp3", "audio/mpeg")
push("ogg flac", sine, ["-c:a", "flac"], "ogg", "audio/ogg")
push("webm vp8+opus",
     ["-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=3", "-f", "lavfi", "-i", "sine=f=440:d=3"],
     ["-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus"], "webm", "video/webm")
check(("begin %d webm" % sessions) in events(), "webm: kind from Content-Type")

# 3. libshout's shout (HTTP, with its probe, and SHOUTcast v1) and ezstream.
mp3 = os.path.join(tmp, "plain.mp3")
subprocess.run(FF + ["-f", "lavfi", "-i", "sine=f=440:d=3", "-c:a", "libmp3lame", "-b:a",
                     "64k", "-id3v2_version", "0", "-write_xing", "0", "-y", mp3], check=True)
plain = open(mp3, "rb").read()
if shutil.which("shout"):
    for proto in ("http", "icy"):
        sessions += 1
        with open(mp3, "rb") as f:
            sh = subprocess.Popen(["shout", "--proto", proto, "--usage", "audio", "--format", "mp3",
                                   "-H", "127.0.0.1", "-P", str(port), "--user", "source",
                                   "--pass", pw, "--tls-mode", "disabled", "--mount", "/live.opus",
                                   "--station-name", "Shout Radio"], stdin=f,
                                  stderr=subprocess.PIPE)
        if proto == "icy":
            # A SHOUTcast title update while the SHOUTcast source is live.
            wait_for(lambda: ("begin %d" % sessions) in events())
            a = raw(("GET /admin.cgi?pass=%s&mode=updinfo&song=Shout+Song HTTP/1.0\r\n\r\n" % pw).encode())
            check(a.startswith(b"HTTP/1.0 200 OK\r\n"), "/admin.cgi with the password: 200")
            a = raw(b"GET /admin.cgi?pass=nope&mode=updinfo&song=x HTTP/1.0\r\n\r\n")
            check(a.startswith(b"HTTP/1.0 401 "), "/admin.cgi, wrong password: 401")
        rc = sh.wait(timeout=60)
        check(rc == 0, "shout %s: exits 0 (%s)" % (proto, sh.stderr.read().decode()[-200:].strip()))
        check(wait_for(lambda: ended(sessions)), "shout %s: session ended" % proto)
        check(session_bytes(sessions) == plain, "shout %s: station got the %d MP3 bytes exactly" % (proto, len(plain)))
    check("title Shout Song" in events(), "title from /admin.cgi reached the station")
    check(("\n".join(events().split("\n")[-12:])).count("name=Shout Radio") >= 1, "shout: station name passed on")
else:
    print("skip shout: not installed (libshout-tools)")
if shutil.which("ezstream"):
    conf = os.path.join(tmp, "ez.xml")
    with open(conf, "w") as f:
        f.write("""<ezstream>
  <servers><server><protocol>HTTP</protocol><hostname>127.0.0.1</hostname>
    <port>%d</port><user>source</user><password>%s</password><tls>none</tls></server></servers>
  <streams><stream><mountpoint>/live.opus</mountpoint><format>MP3</format>
    <stream_name>EZ Radio</stream_name></stream></streams>
  <intakes><intake><type>file</type><filename>%s</filename>
    <stream_once>yes</stream_once></intake></intakes>
</ezstream>
""" % (port, pw, mp3))
    os.chmod(conf, 0o600)
    sessions += 1
    r = subprocess.run(["ezstream", "-c", conf], stderr=subprocess.PIPE, timeout=60)
    check(r.returncode == 0, "ezstream: exits 0 (%s)" % r.stderr.decode()[-200:].strip())
    check(wait_for(lambda: ended(sessions)), "ezstream: session ended")
    check(session_bytes(sessions) == plain, "ezstream: station got the %d MP3 bytes exactly" % len(plain))
    check("title plain" in events(), "ezstream's title (the file's name) reached the station")
else:
    print("skip ezstream: not installed")

# 4. A source that goes silent is dropped; the mount is free again at once.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"SOURCE /live.opus HTTP/1.0\r\nAuthorization: " + auth("source", pw).encode() +
          b"\r\nContent-Type: audio/mpeg\r\n\r\nsome bytes")
sessions += 1
s.settimeout(10)
ans = s.recv(100)
t0 = time.time()
check(ans == b"HTTP/1.0 200 OK\r\n\r\n", "raw SOURCE login: 200")
try:
    closed = s.recv(100) == b""
except OSError:
    closed = True
check(closed and 3.0 < time.time() - t0 < 8.0, "silent source dropped after the source timeout")
s.close()
check(wait_for(lambda: ended(sessions)), "silent source: session ended")
check(session_bytes(sessions) == b"some bytes", "bytes after the head go to the station")

# 5. The counters.
os.kill(cap_pid, signal.SIGUSR1)
time.sleep(0.5)
st = json.load(open(os.path.join(capdir, "stats.json")))
print(json.dumps(st))
total = sum(len(session_bytes(i)) for i in range(1, sessions + 1))
check(st["sources_accepted"] == sessions, "counters: %d sources accepted" % sessions)
check(st["bytes_in"] == total, "counters: bytes_in is the sum of the sessions")
check(st["refused"]["mount_in_use"] == 2, "counters: 2 refused as mount in use")
check(st["refused"]["unauthorized"] >= 1, "counters: unauthorized counted")
check(st["refused"]["bad_head"] == 2, "counters: garbage and oversized heads counted")
check(st["refused"]["header_timeout"] == 1, "counters: the header deadline counted")
check(st["source_timeouts"] == 1, "counters: one source timeout")
check(st["titles"] >= 2, "counters: titles")
check(st["live"] is None, "counters: no source live at the end")
log = open(os.path.join(tmp, "cap.log")).read()
check(pw not in log, "the password never appears in the log")

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
