#!/usr/bin/env python3
"""check_status.py STRIPECAST SCENARIO [ICECAST_PORT] — status pages, admin
and metrics of real `stripecast` processes on loopback.

  tally    four listening peers and a broadcaster; players (HTTP clients)
           on some, --output on others: every peer's /status-json.xsl (read
           as butt reads it), /7.html and /metrics report the same
           station-wide count, the sum of every peer's players and outputs.
           Admin: a wrong password gets 401 with WWW-Authenticate and kills
           nobody; the right one lists the players, kills one, and the
           station-wide count follows.
  icecast  the same encoder (ffmpeg, MP3 with ice-* headers) on icecast2 (at
           ICECAST_PORT, started by check_status_icecast.sh) and on a
           stripecast broadcaster: /status-json.xsl has the same keys with
           the same types, butt's parse finds the mount on both, the .m3u
           playlists name the same mount, admin stats and listmounts parse
           with the same elements.

Exit status 0 (pass), 1 (fail), 77 (skipped: ffmpeg or icecast2 missing).
Waits poll for a state with a bound that only catches a hang.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import status_client as sc  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/stripecast"
SCENARIO = sys.argv[2] if len(sys.argv) > 2 else ""
SLOTS = {"tally": 0, "icecast": 1}
BASE = 26000 + (os.getpid() % 40) * 100 + SLOTS.get(SCENARIO, 0) * 40
HANG_S = 90
COMMON = ["--heartbeat-ms", "500"]
STATION = "/s.mp3"
ADMIN_PW = "adminpw"


class Fail(Exception):
    pass


def log(msg):
    print(f"check_status {SCENARIO}: {msg}", file=sys.stderr, flush=True)


def addr(i):
    return f"127.0.0.1:{BASE + i}"


def http_url(i):
    return f"http://127.0.0.1:{BASE + 20 + i}"


def get(url, user=None, pw=None):
    """(status, headers, body) of a GET; HTTP errors are answers too."""
    req = urllib.request.Request(url)
    if user is not None:
        tok = base64.b64encode(f"{user}:{pw}".encode()).decode()
        req.add_header("Authorization", "Basic " + tok)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


def wait_for(what, cond, timeout=HANG_S):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = cond()
            if last is True:
                return
        except (OSError, ValueError, sc.Bad) as e:
            last = e
        time.sleep(0.5)
    raise Fail(f"{what}: not within {timeout} s (last: {last})")


class Run:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def spawn(self, name, argv):
        err = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        p.name = name
        self.procs.append(p)
        return p

    def station_key(self):
        """The station's key (made once): broadcasters sign with it, listeners
        name the station by it (NAME@KEY)."""
        if not hasattr(self, "key"):
            self.key = os.path.join(self.tmp, "station.key")
            self.pk = subprocess.run([BIN, "keygen", "--out", self.key], check=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True).stdout.strip()
        return self.key, self.pk

    def peer(self, name, cmd, i, join, extra=()):
        key, pk = self.station_key()
        if cmd == "broadcast":
            a = [BIN, cmd, "--station", STATION, "--key", key, "--listen", addr(i)]
        else:
            a = [BIN, cmd, "--station", STATION + "@" + pk, "--listen", addr(i)]
        if join is not None:
            a += ["--join", addr(join)]
        p = self.spawn(name, a + list(extra) + COMMON)
        p.peer = True
        return p

    def player(self, name, url):
        """A player that reads the stream until the end (or until killed)."""
        return self.spawn(name, ["curl", "-s", "-N", "-o", "/dev/null", url])

    def stop_all(self):
        """SIGTERM to all; the peers' exit statuses that were not 0 (an ASan
        build's leak check included), as 'name: status' strings."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        bad = []
        for p in self.procs:
            try:
                rc = p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
                bad.append(f"{p.name}: hung after SIGTERM")
                continue
            if getattr(p, "peer", False) and rc != 0:
                bad.append(f"{p.name}: exit {rc}")
        return bad


def make_mp3(tmp, seconds):
    path = os.path.join(tmp, "tone.mp3")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=f=440:r=44100:d={seconds}", "-ac", "2", "-c:a", "libmp3lame",
                    "-b:a", "128k", path], check=True)
    return path


def status_of(url):
    return json.loads(get(url + "/status-json.xsl")[2])


def admin_xml(url, path, pw=ADMIN_PW):
    code, _, body = get(url + path, "admin", pw)
    if code != 200:
        raise Fail(f"{path}: {code} {body[:200]}")
    return ET.fromstring(body)


# ---------------------------------------------------------------- tally

def scenario_tally(run):
    src = make_mp3(run.tmp, 120)
    pw = ["--admin-password", ADMIN_PW]
    # Peer i serves players on http_url(i); peer 3 has no --http.
    run.peer("l0", "listen", 0, None, ["--http", http_url(0)[7:]])
    time.sleep(0.5)
    run.peer("l1", "listen", 1, 0, ["--http", http_url(1)[7:]] + pw)
    run.peer("l2", "listen", 2, 0, ["--http", http_url(2)[7:], "--output",
                                    os.path.join(run.tmp, "l2.out")] + pw)
    run.peer("l3", "listen", 3, 0, ["--output", os.path.join(run.tmp, "l3.out")])
    run.peer("b", "broadcast", 10, 0, ["--source", src, "--http", http_url(10)[7:],
                                       "--start-delay-ms", "2000"] + pw)
    serving = [0, 1, 2, 10]
    for i in serving:
        wait_for(f"peer {i} on the air",
                 lambda i=i: sc.sources(status_of(http_url(i))) != [])
    run.player("p1a", http_url(1) + STATION)
    run.player("p1b", http_url(1) + STATION)
    run.player("p2a", http_url(2) + STATION)
    run.player("pba", http_url(10) + STATION)
    want = 2 + 1 + 1 + 1 + 1  # players on 1, 2 and b; outputs of 2 and 3

    def all_report(n):
        got = [sc.butt_listeners(status_of(http_url(i)), STATION) for i in serving]
        return True if got == [n] * len(got) else got

    wait_for(f"every peer reports {want}", lambda: all_report(want))
    log(f"every peer reports {want} listeners")
    for i in serving:
        body = get(http_url(i) + "/7.html")[2]
        fields = body.removeprefix("<html><body>").removesuffix("</body></html>")
        cur, status, peak = fields.split(",")[:3]
        if int(cur) < want - 1 or status != "1" or int(peak) < want:
            raise Fail(f"peer {i}: /7.html {body!r}")
        code, hdr, text = get(http_url(i) + "/metrics")
        if code != 200 or not hdr["Content-Type"].startswith("text/plain; version=0.0.4"):
            raise Fail(f"peer {i}: /metrics {code} {hdr['Content-Type']}")
        values = sc.check_metrics(text)
        if values.get("stripecast_listener_peak", 0) < want:
            raise Fail(f"peer {i}: metrics peak {values.get('stripecast_listener_peak')}")
        if values.get("stripecast_playout_latency_seconds_count", 0) <= 0 and i != 10:
            raise Fail(f"peer {i}: no latency samples")

    # Admin: the wrong password changes nothing.
    u = http_url(1)
    for path in ("/admin/listclients?mount=" + STATION, "/admin/killclient?mount="
                 + STATION + "&id=1", "/admin/stats", "/admin/listmounts", "/admin/"):
        code, hdr, _ = get(u + path, "admin", "wrong")
        if code != 401 or "Basic realm=" not in (hdr.get("WWW-Authenticate") or ""):
            raise Fail(f"{path} with a wrong password: {code}")
        code, _, _ = get(u + path)
        if code != 401:
            raise Fail(f"{path} without credentials: {code}")
    code, _, _ = get(http_url(0) + "/admin/stats", "admin", ADMIN_PW)
    if code != 401:
        raise Fail(f"a peer without an admin password answered {code}")
    lc = admin_xml(u, "/admin/listclients?mount=" + STATION)
    ids = [int(x.text) for x in lc.iter("ID")]
    if len(ids) != 2 or lc.find("source/Listeners").text != "2":
        raise Fail(f"listclients after wrong passwords: {ET.tostring(lc)}")
    ms = admin_xml(u, "/admin/listmounts")
    if ms.find("source").get("mount") != STATION:
        raise Fail(f"listmounts: {ET.tostring(ms)}")
    st = admin_xml(u, "/admin/stats")
    if int(st.find("source/listeners").text) != want:
        raise Fail(f"stats: {ET.tostring(st)}")
    code, _, page = get(u + "/admin/", "admin", ADMIN_PW)
    if code != 200 or STATION not in page:
        raise Fail(f"admin page: {code}")
    code, _, body = get(u + "/admin/listclients?mount=/nope", "admin", ADMIN_PW)
    if code != 400 or "Source does not exist" not in body:
        raise Fail(f"listclients of another mount: {code} {body}")
    r = admin_xml(u, f"/admin/killclient?mount={STATION}&id={ids[0]}")
    if r.find("return").text != "1" or r.find("message").text != f"Client {ids[0]} removed":
        raise Fail(f"killclient: {ET.tostring(r)}")
    r = admin_xml(u, f"/admin/killclient?mount={STATION}&id={ids[0]}")
    if r.find("return").text != "0":
        raise Fail(f"killclient of a gone client: {ET.tostring(r)}")
    lc = admin_xml(u, "/admin/listclients?mount=" + STATION)
    if [int(x.text) for x in lc.iter("ID")] != ids[1:]:
        raise Fail(f"listclients after killclient: {ET.tostring(lc)}")
    wait_for(f"every peer reports {want - 1}", lambda: all_report(want - 1))
    log(f"after killclient every peer reports {want - 1}")
    # The peak stays.
    s = sc.sources(status_of(http_url(2)))[0]
    if s["listener_peak"] < want:
        raise Fail(f"peak fell: {s}")


# ---------------------------------------------------------------- icecast

def push(run, name, port, mount):
    """ffmpeg as an encoder with the usual ice-* headers, paced in real time."""
    return run.spawn(name, ["ffmpeg", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
                            "sine=f=440:r=44100:d=120", "-ac", "2", "-c:a", "libmp3lame",
                            "-b:a", "128k", "-content_type", "audio/mpeg", "-ice_name",
                            "One", "-ice_description", "First station", "-ice_genre",
                            "rock", "-ice_url", "http://example.org", "-f", "mp3",
                            f"icecast://source:hackme@127.0.0.1:{port}{mount}"])


def scenario_icecast(run, ice_port):
    ice = f"http://127.0.0.1:{ice_port}"
    pwfile = os.path.join(run.tmp, "pw")
    with open(pwfile, "w") as f:
        f.write("hackme\n")
    run.peer("l0", "listen", 0, None, ["--http", http_url(0)[7:]])
    time.sleep(0.5)
    run.peer("b", "broadcast", 10, 0, ["--http", http_url(10)[7:],
                                       "--source-password-file", pwfile,
                                       "--admin-password", "adminpw"])
    sca = http_url(10)
    # Both without a source: no "source" key (icecast2 2.4.4 writes invalid
    # JSON then, so only stripecast's is parsed).
    wait_for("stripecast's HTTP port", lambda: get(sca + "/status-json.xsl")[0] == 200)
    if "source" in status_of(sca)["icestats"]:
        raise Fail("a source before any encoder")
    push(run, "ff_ice", ice_port, STATION)
    push(run, "ff_sc", BASE + 30, STATION)
    for u in (ice, sca):
        wait_for(f"{u} on the air", lambda u=u: sc.sources(status_of(u)) != [])
    run.player("p_ice", ice + STATION)
    run.player("p_sc", sca + STATION)
    for u in (ice, sca):
        wait_for(f"{u}: one listener",
                 lambda u=u: sc.butt_listeners(status_of(u), STATION) == 1)
    a, b = sc.shape(status_of(ice)), sc.shape(status_of(sca))
    if a != b:
        raise Fail(f"status-json shapes differ:\n icecast2   {a}\n stripecast {b}")
    log(f"status-json: same keys and types ({len(a['source'])} source keys)")
    for u in (ice, sca):
        code, hdr, body = get(u + STATION + ".m3u")
        lines = [x for x in body.splitlines() if x and not x.startswith("#")]
        if code != 200 or len(lines) != 1 or not lines[0].endswith(STATION):
            raise Fail(f"{u}{STATION}.m3u: {code} {body!r}")
    # Admin XML: the same elements for the station.
    tags = []
    for u in (ice, sca):
        st = admin_xml(u, "/admin/stats")
        src = st.find("source")
        if src is None or src.get("mount") != STATION:
            raise Fail(f"{u}/admin/stats: no {STATION}")
        tags.append({e.tag for e in src})
        lm = admin_xml(u, "/admin/listmounts")
        tags.append({e.tag for e in lm.find("source")})
    common = {"genre", "listener_peak", "listeners", "listenurl", "server_description",
              "server_name", "server_type", "server_url", "stream_start",
              "stream_start_iso8601", "max_listeners", "public"}
    for t in (tags[0], tags[2]):
        if not common <= t:
            raise Fail(f"admin stats lacks {common - t}")
    if tags[1] != tags[3]:
        raise Fail(f"listmounts elements differ: {tags[1]} {tags[3]}")
    lc = [admin_xml(u, "/admin/listclients?mount=" + STATION) for u in (ice, sca)]
    if [{e.tag for e in x.find("source/listener")} for x in lc] != [
            {"IP", "UserAgent", "Connected", "ID"}] * 2:
        raise Fail("listclients elements differ")
    # A title update through /admin/metadata reaches the status page.
    for u in (ice, sca):
        code, _, body = get(u + f"/admin/metadata?mount={STATION}&mode=updinfo"
                            "&song=Hello%20World", "admin", "adminpw")
        if code != 200 or "<return>1</return>" not in body:
            raise Fail(f"{u} metadata: {code} {body}")
    for u in (ice, sca):
        wait_for(f"{u}: title", lambda u=u: sc.sources(status_of(u))[0].get("title")
                 == "Hello World")


def main():
    if SCENARIO not in SLOTS:
        print(__doc__, file=sys.stderr)
        return 2
    if not shutil.which("ffmpeg") or not shutil.which("curl"):
        log("skipped: ffmpeg or curl missing")
        return 77
    tmp = tempfile.mkdtemp(prefix="check_status.")
    run = Run(tmp)
    ok = False
    try:
        if SCENARIO == "tally":
            scenario_tally(run)
        else:
            scenario_icecast(run, int(sys.argv[3]))
        ok = True
    except (Fail, sc.Bad, subprocess.CalledProcessError, OSError, ValueError) as e:
        log(f"FAIL: {e}")
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".log"):
                with open(os.path.join(tmp, name)) as f:
                    tail = f.read()[-1500:]
                if tail.strip():
                    log(f"--- {name}:\n{tail}")
    finally:
        bad = run.stop_all()
        if bad:
            log(f"FAIL: peers after SIGTERM: {bad}; see {tmp}")
            ok = False
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
