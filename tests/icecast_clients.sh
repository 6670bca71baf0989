#!/usr/bin/env bash
# icecast_clients.sh — record the exact bytes real source clients send when
# they go on the air, and what icecast2 answers them.
#
# Starts icecast2 on 127.0.0.1 (tests/icecast_server.sh) behind a logging TCP
# relay, runs each installed client for about two seconds of audio through
# the relay, and writes every connection's request head (and, for SHOUTcast
# v1, the password and header lines) with the server's first answer to
# tests/data/icecast/clients.txt (or $1). The runtime's Icecast-compatible
# server is built to accept exactly these. Clients not installed are left
# out (the file says which ran).
#
# Usage: tests/icecast_clients.sh [OUT]   (needs icecast2, python3, ffmpeg;
# uses libshout-tools' shout when present)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/data/icecast/clients.txt}

source "$here/icecast_server.sh"

command -v ffmpeg >/dev/null || { echo "$0: ffmpeg not found" >&2; exit 77; }
ffmpeg -nostdin -loglevel error -f lavfi -i sine=frequency=440:duration=3 \
  -c:a libmp3lame -b:a 64k "$tmp/tone.mp3"

python3 - "$port" "$out" "$tmp" "$("$icecast" -v)" <<'PY'
import os, re, shutil, socket, subprocess, sys, threading, time

port, out_path, tmp, version = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
HEAD_MAX = 4096

conns = []          # (listen kind, client bytes, server bytes), in accept order
lock = threading.Lock()

def pump(src, dst, buf, done):
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            if len(buf) < HEAD_MAX:
                buf += d[:HEAD_MAX - len(buf)]
            dst.sendall(d)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        done.set()

def relay(lsock, target, kind):
    while True:
        try:
            c, _ = lsock.accept()
        except OSError:
            return
        s = socket.create_connection(("127.0.0.1", target))
        cb, sb = bytearray(), bytearray()
        with lock:
            conns.append((kind, cb, sb))
        for a, b, buf in ((c, s, cb), (s, c, sb)):
            threading.Thread(target=pump, args=(a, b, buf, threading.Event()),
                             daemon=True).start()

def listener():
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", 0))
    l.listen(8)
    return l

# The relay's HTTP port and the port above it (libshout's ICY protocol and
# SHOUTcast encoders connect to port + 1).
for _ in range(50):
    lh = listener()
    p = lh.getsockname()[1]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        ls.bind(("127.0.0.1", p + 1))
        ls.listen(8)
        break
    except OSError:
        lh.close()
        ls.close()
else:
    sys.exit("no free port pair for the relay")
threading.Thread(target=relay, args=(lh, port, "http"), daemon=True).start()
threading.Thread(target=relay, args=(ls, port + 1, "shoutcast"), daemon=True).start()

tone = os.path.join(tmp, "tone.mp3")
ff = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
      "-i", "sine=frequency=440:duration=2"]
url = "icecast://source:hackme@127.0.0.1:%d" % p
clients = [
    ("ffmpeg_put_mp3", ff + ["-c:a", "libmp3lame", "-b:a", "64k", "-content_type",
        "audio/mpeg", "-ice_name", "FF Radio", "-ice_description", "A test",
        "-ice_genre", "Test", "-ice_url", "http://example.org/", "-ice_public", "1",
        "-f", "mp3", url + "/ff.mp3"], None),
    ("ffmpeg_legacy_mp3", ff + ["-c:a", "libmp3lame", "-b:a", "64k", "-content_type",
        "audio/mpeg", "-legacy_icecast", "1", "-f", "mp3", url + "/ff_legacy.mp3"], None),
    ("ffmpeg_ogg_opus", ff + ["-c:a", "libopus", "-b:a", "48k", "-content_type",
        "audio/ogg", "-f", "ogg", url + "/ff.opus"], None),
]
if shutil.which("shout"):
    # shout applies its options in order and checks the format against the
    # protocol and usage already set: --proto, --usage, then --format.
    def sh(proto, *more):
        return ["shout", "--proto", proto, "--usage", "audio", "--format", "mp3",
                "-H", "127.0.0.1", "-P", str(p), "--user", "source", "--pass", "hackme",
                "--station-name", "Shout Radio", "--station-genre", "Test"] + list(more)
    clients += [
        ("shout_http", sh("http", "--tls-mode", "disabled", "--mount", "/shout.mp3"), tone),
        ("shout_http_tls_auto", sh("http", "--mount", "/shout2.mp3"), tone),
        ("shout_icy", sh("icy", "--tls-mode", "disabled", "--mount", "/sc"), tone),
    ]

def esc(b):
    o = []
    for c in b:
        if c == 0x5C: o.append("\\\\")
        elif c == 0x0D: o.append("\\r")
        elif c == 0x0A: o.append("\\n")
        elif 0x20 <= c < 0x7F: o.append(chr(c))
        else: o.append("\\x%02x" % c)
    return "".join(o)

def head_of(b, kind):
    """The bytes up to the end of the head; the rest is the stream."""
    if kind == "shoutcast":
        # password line, header lines, empty line
        i = b.find(b"\n")
        if i < 0:
            return bytes(b)
        m = re.search(rb"\r?\r?\n\r?\r?\n", b[i:])
        if m is None:
            return bytes(b)
        # A header-less login has the empty line right after the password.
        return bytes(b[: i + m.end()])
    m = re.search(rb"\r?\n\r?\n", b)
    return bytes(b[: m.end()]) if m else bytes(b)

lines = ["# Source clients going on the air through a logging relay to a real",
         "# " + version + "; generated by tests/icecast_clients.sh.",
         "# Escapes: \\r \\n \\\\ \\xHH. Per client, each TCP connection in order:",
         "# 'sent' is the client's head (for SHOUTcast v1: password line, header",
         "# lines, empty line), 'stream' how many more bytes followed (of the first",
         "# %d kept), 'answer' the server's first bytes (Date value as <date>)." % HEAD_MAX]
for name, argv, stdin in clients:
    with lock:
        first = len(conns)
    try:
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
            r = subprocess.run(argv, stdin=f, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=20)
        rc = r.returncode
        err = r.stderr.decode(errors="replace").strip().replace("\n", " | ")
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    time.sleep(1.0)
    with lock:
        mine = conns[first:]
    lines.append("")
    lines.append("client " + name)
    lines.append("argv " + " ".join(a if a != tone else "<tone.mp3>" for a in argv[:1] + argv[1:]))
    lines.append("exit %s" % rc)
    if err:
        lines.append("stderr " + err[:300])
    for kind, cb, sb in mine:
        h = head_of(cb, kind)
        ans = re.sub(rb"Date: [^\r\n]*", b"Date: <date>", bytes(sb[:600]))
        lines.append("connection " + kind)
        lines.append("sent " + esc(h))
        lines.append("stream %d" % (len(cb) - len(h)))
        lines.append("answer " + esc(ans))
with open(out_path, "w") as f:
    f.write("\n".join(lines) + "\n")
PY
echo "icecast_clients: wrote $out"
