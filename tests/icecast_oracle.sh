#!/usr/bin/env bash
# icecast_oracle.sh — record how a real Icecast 2.4 server answers the source,
# admin and SHOUTcast v1 requests that sc_http models.
#
# Runs icecast2 on 127.0.0.1 (tests/icecast_server.sh), sends a fixed list
# of raw requests, and writes what the server sent back to
# tests/data/icecast/answers.txt (or the file given as $1). tests/test_http.c replays the same requests through sc_http and checks
# the answers against that file, so regenerate and commit it together.
#
# Usage: tests/icecast_oracle.sh [OUT]   (needs icecast2 and python3)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/data/icecast/answers.txt}

source "$here/icecast_server.sh"

python3 - "$port" "$out" "$("$icecast" -v)" <<'PY'
import socket, sys, time

port = int(sys.argv[1])
out_path = sys.argv[2]
version = sys.argv[3]

# Wait for the server.
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("icecast_oracle: server did not start")

def esc(b):
    o = []
    for c in b:
        if c == 0x5C: o.append("\\\\")
        elif c == 0x0D: o.append("\\r")
        elif c == 0x0A: o.append("\\n")
        elif 0x20 <= c < 0x7F: o.append(chr(c))
        else: o.append("\\x%02x" % c)
    return "".join(o)

def exchange(req, port_off=0, idle=1.0, keep=False, then=b""):
    """Send req; read until the server closes or is idle for `idle` s; then
    send `then` (stream bytes: Icecast reads a SHOUTcast source's header lines
    only once more bytes arrive after the password line)."""
    s = socket.create_connection(("127.0.0.1", port + port_off), timeout=5)
    try:
        s.sendall(req)
    except OSError:
        pass
    s.settimeout(idle)
    got = b""
    closed = False
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not d:
            closed = True
            break
        got += d
    if then and not closed:
        s.sendall(then)
        time.sleep(0.5)
    if keep and not closed:
        return got, closed, s
    s.close()
    return got, closed, None

A = "Authorization: Basic "
import base64
def basic(u, p):
    return (A + base64.b64encode((u + ":" + p).encode()).decode() + "\r\n").encode()

OK = basic("source", "hackme")
BAD = basic("source", "wrong")

# (name, port offset, request bytes); requests run in this order.
cases = []
def case(name, req, off=0, then=b""):
    cases.append((name, off, req, then))

case("put_ok", b"PUT /m1 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + OK +
     b"Content-Type: audio/mpeg\r\nice-name: Test Radio\r\nice-public: 0\r\n\r\n")
case("put_wrong_password", b"PUT /m2 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + BAD +
     b"Content-Type: audio/mpeg\r\n\r\n")
case("put_no_auth", b"PUT /m3 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/mpeg\r\n\r\n")
case("put_other_user", b"PUT /m4 HTTP/1.1\r\n" + basic("dj", "hackme") +
     b"Content-Type: audio/mpeg\r\n\r\n")
case("put_no_content_type", b"PUT /m5 HTTP/1.1\r\n" + OK + b"\r\n")
case("put_odd_content_type", b"PUT /m6 HTTP/1.1\r\n" + OK + b"Content-Type: application/x-foo\r\n\r\n")
case("put_mount_no_slash", b"PUT m7 HTTP/1.1\r\n" + OK + b"Content-Type: audio/mpeg\r\n\r\n")
case("put_expect_100", b"PUT /m8 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n" + OK +
     b"Content-Type: audio/ogg\r\nExpect: 100-continue\r\nice-public: 1\r\n"
     b"ice-audio-info: samplerate=44100;bitrate=96;channels=2\r\n\r\n")
case("source_legacy", b"SOURCE /m9 HTTP/1.0\r\n" + OK + b"Content-Type: audio/mpeg\r\n\r\n")
case("source_legacy_no_content_type", b"SOURCE /m10 HTTP/1.0\r\n" + OK + b"\r\n")
case("source_lf_only", (b"SOURCE /m11 HTTP/1.0\n" + OK.replace(b"\r\n", b"\n") +
     b"Content-Type: audio/mpeg\nice-name: LF Radio\n\n"))
# DarkIce 1.4's login (IceCast2.cpp): bare LF line ends, CR LF CR LF at the end.
case("darkice_login", b"SOURCE /darkice HTTP/1.0\nContent-type: audio/mpeg\n" +
     OK.replace(b"\r\n", b"\n") + b"User-Agent: DarkIce/1.4 (http://code.google.com/p/darkice/)\n"
     b"ice-bitrate: 128\nice-public: 0\nice-name: DarkIce Radio\nice-description: Live\n"
     b"ice-url: http://example.org/\nice-genre: Rock\r\n\r\n")
case("put_lowercase_method", b"put /m17 HTTP/1.1\r\n" + OK + b"Content-Type: audio/mpeg\r\n\r\n")
case("source_ice_protocol", b"SOURCE /m14 ICE/1.0\r\n" + OK + b"Content-Type: audio/ogg\r\n\r\n")
case("source_double_slash", b"SOURCE //m15 HTTP/1.0\r\n" + OK + b"Content-Type: audio/ogg\r\n\r\n")
case("source_dot_segment", b"SOURCE /a/../m16 HTTP/1.0\r\n" + OK + b"Content-Type: audio/ogg\r\n\r\n")
case("libshout_probe", b"SOURCE /m12 HTTP/1.0\r\nHost: 127.0.0.1:8000\r\nUser-Agent: libshout/2.4.6\r\n"
     b"Content-Type: audio/mpeg\r\nContent-Length: 0\r\nConnection: Keep-Alive\r\nice-public: 0\r\n\r\n")
case("busy_mount", b"PUT /m1 HTTP/1.1\r\n" + OK + b"Content-Type: audio/mpeg\r\n\r\n")
case("oversized_head", b"PUT /m13 HTTP/1.1\r\n" + OK + b"X-Pad: " + b"a" * 5000 + b"\r\n\r\n")
case("garbage_line", b"\x01\x02 garbage\r\n\r\n")
case("unknown_method", b"BREW /pot HTTP/1.0\r\n\r\n")
case("bad_protocol", b"GET /m1 FOO/1.0\r\n\r\n")
case("admin_metadata_ok", b"GET /admin/metadata?mount=/m1&mode=updinfo&song=Artist%20-%20Title&charset=UTF-8 HTTP/1.0\r\n" + OK + b"\r\n")
case("admin_metadata_admin_user", b"GET /admin/metadata?mount=/m1&mode=updinfo&song=A+B HTTP/1.0\r\n" + basic("admin", "adminpw") + b"\r\n")
case("admin_metadata_wrong_password", b"GET /admin/metadata?mount=/m1&mode=updinfo&song=x HTTP/1.0\r\n" + BAD + b"\r\n")
case("admin_metadata_no_source", b"GET /admin/metadata?mount=/none&mode=updinfo&song=x HTTP/1.0\r\n" + OK + b"\r\n")
case("admin_metadata_bad_mode", b"GET /admin/metadata?mount=/m1&mode=foo&song=x HTTP/1.0\r\n" + OK + b"\r\n")
case("admin_metadata_no_mode", b"GET /admin/metadata?mount=/m1&song=x HTTP/1.0\r\n" + OK + b"\r\n")
case("admin_metadata_no_mount", b"GET /admin/metadata?mode=updinfo&song=x HTTP/1.0\r\n" + basic("admin", "adminpw") + b"\r\n")
case("admin_metadata_no_mount_source_login", b"GET /admin/metadata?mode=updinfo&song=x HTTP/1.0\r\n" + OK + b"\r\n")
case("admin_unknown_command", b"GET /admin/nosuch HTTP/1.0\r\n" + OK + b"\r\n")
case("shoutcast_wrong_password", b"wrong\r\nicy-name:SC\r\n\r\n", 1)
case("shoutcast_mount_suffix", b"hackme:#/other\r\nicy-name:SC\r\n\r\n", 1)
case("shoutcast_ok", b"hackme\r\nicy-name:SC Radio\r\nicy-genre:Jazz\r\nicy-pub:1\r\nicy-br:128\r\nicy-url:http://x/\r\n\r\n", 1,
     b"\xff\xfb\x90\x00" + b"\x00" * 412)
case("shoutcast_admin_ok", b"GET /admin.cgi?pass=hackme&mode=updinfo&song=Hello+World HTTP/1.0\r\nUser-Agent: Mozilla\r\n\r\n")
case("shoutcast_admin_wrong_password", b"GET /admin.cgi?pass=nope&mode=updinfo&song=x HTTP/1.0\r\n\r\n")
case("shoutcast_admin_no_pass", b"GET /admin.cgi?mode=updinfo&song=x HTTP/1.0\r\n\r\n")
case("admin_cgi_on_http_source", b"GET /admin.cgi?pass=hackme&mode=updinfo&song=x&mount=/m1 HTTP/1.0\r\n\r\n")
case("shoutcast_admin_bad_mode", b"GET /admin.cgi?pass=hackme&mode=foo&song=x HTTP/1.0\r\n\r\n")
case("listener_live_mp3_icy", b"GET /m1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: mpv 0.35.1\r\nIcy-MetaData: 1\r\n\r\n")
case("listener_live_mp3", b"GET /m1 HTTP/1.0\r\nUser-Agent: curl/7.88.1\r\n\r\n")
case("listener_live_ogg", b"GET /m8 HTTP/1.1\r\nHost: 127.0.0.1\r\nIcy-MetaData: 1\r\n\r\n")
case("listener_darkice_msie", b"GET /darkice HTTP/1.0\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0)\r\nIcy-MetaData: 1\r\n\r\n")
case("listener_shoutcast_source", b"GET /sc HTTP/1.0\r\nIcy-MetaData: 0\r\n\r\n")
case("listener_missing_mount", b"GET /nosuch HTTP/1.0\r\n\r\n")

held = []  # sockets of accepted sources, kept open so their mounts stay busy
lines = ["# Answers of a real " + version + " to raw",
         "# requests; generated by tests/icecast_oracle.sh, read by tests/test_http.c.",
         "# Escapes: \\r \\n \\\\ \\xHH. 'answer' is every byte the server sent before",
         "# it closed or went idle for 1 s, with the Date header value replaced by",
         "# <date>; 'closed yes' means the server closed the connection."]
for name, off, req, then in cases:
    got, closed, sock = exchange(req, off, keep=True, then=then)
    if sock is not None:
        held.append(sock)
    import re
    norm = re.sub(rb"Date: [^\r\n]*", b"Date: <date>", got)
    lines.append("")
    lines.append("case " + name)
    lines.append("port " + ("shoutcast" if off else "http"))
    lines.append("request " + esc(req))
    lines.append("answer " + esc(norm))
    lines.append("closed " + ("yes" if closed else "no"))
for s in held:
    s.close()
with open(out_path, "w") as f:
    f.write("\n".join(lines) + "\n")
PY
echo "icecast_oracle: wrote $out"
