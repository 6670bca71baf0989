#!/usr/bin/env python3
"""web_player.py STRIPECAST audio|video [SCREENSHOT.png] — the page of a
listening peer in headless Chromium: a station on the air from ffmpeg
(audio: Ogg Opus from a sine; video: WebM, VP8 test pattern and Opus), pushed
to `stripecast broadcast --http`, and a `stripecast listen --http` peer that
serves it; the page at / of that peer plays it in its <audio> (or <video>)
element (currentTime advances, error stays null; a video has its picture's
size), shows the title the encoder sent and one listener, and its forest
view has a row for each of the 16 stripes, each attached. /peer.json is
checked on its own too. The audio station has a page of its own (broadcast
--page): the peer's page links to it, and at /page/ it renders while its
inline script does not run (the sandbox Content-Security-Policy). SCREENSHOT.png: where the page's picture goes (else
a temporary folder).

Needs chromium, chromedriver and python3-selenium (scripts/deps.sh), and
ffmpeg. Exit 0 pass, 1 fail, 77 skipped (one of them missing). Timeouts
only bound a hang; no verdict depends on timing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = sys.argv[1]
KIND = sys.argv[2]
SHOT = sys.argv[3] if len(sys.argv) > 3 else None
ELEMENT = {"audio": "audio", "video": "video"}[KIND]
CTYPE = {"audio": "audio/ogg", "video": "video/webm"}[KIND]
MOUNT = {"audio": "/live.opus", "video": "/live.webm"}[KIND]
# Ports: each kind its own range (ctest runs the two at once), apart from the
# other runtime tests' (signed streams from 32000, the directory from 33000).
BASE = {"audio": 31000, "video": 31500}[KIND] + (os.getpid() % 9) * 50
HANG_S = 90
COMMON = ["--heartbeat-ms", "500"]
PW = "web-pw-%d" % os.getpid()
TITLE = "Sine at 440 Hz"
STRIPES = 16


def log(msg):
    print("web_player: " + msg, file=sys.stderr, flush=True)


def import_selenium():
    """Debian's python3-selenium lives in Debian's dist-packages, which a
    python3 from elsewhere first in PATH does not search."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        return webdriver, Service
    except ImportError:
        return None, None


def wait_for(pred, what, timeout=HANG_S):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise SystemExit("FAIL: %s (waited %d s)" % (what, timeout))


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, dict(r.headers), r.read()
    except OSError:
        return None, None, None


def peer_json(port):
    st, _, body = get("http://127.0.0.1:%d/peer.json" % port)
    if st != 200:
        return None
    return json.loads(body)


def check_json(j):
    """The document's shape (docs/runtime.md lists its fields)."""
    if len(j["stripes"]) != STRIPES or j["stripes_attached"] != STRIPES:
        raise SystemExit("FAIL: peer.json stripes: %s" % json.dumps(j["stripes"])[:300])
    for s in j["stripes"]:
        if not s["attached"] or (s["parent"] is None) != s["root"]:
            raise SystemExit("FAIL: stripe %s: %s" % (s["stripe"], json.dumps(s)))
        if s["children"] != len(s["child_list"]):
            raise SystemExit("FAIL: stripe %s children: %s" % (s["stripe"], json.dumps(s)))
    if sum(s["chunks_in"] for s in j["stripes"]) == 0:
        raise SystemExit("FAIL: no chunk counted on any stripe")
    st = j["stations"][0]
    if st["mount"] != MOUNT or st["content_type"] != CTYPE:
        raise SystemExit("FAIL: peer.json station: %s" % json.dumps(st))


def ffmpeg_args():
    """As the ingest tests' encoders: a minute of a sine (and a test pattern)."""
    ff = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re"]
    if KIND == "audio":
        return ff + ["-f", "lavfi", "-i", "sine=f=440:d=60", "-c:a", "libopus", "-b:a", "96k",
                     "-f", "ogg"]
    return ff + ["-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=60", "-f", "lavfi", "-i",
                 "sine=f=440:d=60", "-threads", "1", "-c:v", "libvpx", "-b:v", "200k", "-g",
                 "10", "-c:a", "libopus", "-b:a", "96k", "-f", "webm"]


def browser(webdriver, Service):
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium")
    # As root Chromium needs --no-sandbox; autoplay without a gesture lets
    # the test start the player the way a click would.
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--autoplay-policy=no-user-gesture-required", "--window-size=1100,1500"]:
        o.add_argument(a)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=o)


def check_page(d, port, shot):
    d.get("http://127.0.0.1:%d/" % port)
    rows = wait_for(lambda: d.execute_script(
        "const r = document.querySelectorAll('#stripes tr.stripe');"
        "return r.length === %d && r[%d].children[1].textContent !== 'searching' && r.length;"
        % (STRIPES, STRIPES - 1)), "the forest view's 16 stripes")
    log("forest view: %d stripe rows" % rows)
    sel = "#stations " + ELEMENT
    wait_for(lambda: d.execute_script("return document.querySelector('%s')" % sel),
             "a <%s> element for the station" % ELEMENT)
    got = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.querySelector('%s').play()"
        ".then(() => done('playing'), e => done('refused: ' + e));" % sel)
    if got != "playing":
        raise SystemExit("FAIL: play(): %s" % got)
    state = "const a = document.querySelector('%s');" \
            "return [a.currentTime, a.error ? a.error.code + ' ' + a.error.message : null," \
            " a.paused, a.readyState, a.videoWidth || 0];" % sel
    t0 = wait_for(lambda: d.execute_script(state)[0] > 0 and d.execute_script(state),
                  "the audio element's first sample")
    time.sleep(4)
    t1 = d.execute_script(state)
    log("%s: currentTime %.2f -> %.2f, error %s, paused %s, readyState %s, width %s" %
        (ELEMENT, t0[0], t1[0], t1[1], t1[2], t1[3], t1[4]))
    if t1[1] is not None or t0[1] is not None:
        raise SystemExit("FAIL: the %s element reports an error: %s" % (ELEMENT, t1[1]))
    if t1[2] or t1[0] - t0[0] < 1.0:
        raise SystemExit("FAIL: playback did not advance: %s -> %s" % (t0, t1))
    if ELEMENT == "video" and t1[4] != 160:
        raise SystemExit("FAIL: the video's picture is %s pixels wide, not 160" % t1[4])
    # The station's title: from the Ogg comment header (WebM's is not read).
    title = KIND == "video" or wait_for(lambda: d.execute_script(
        "const t = document.querySelector('#stations .title');"
        "return t && t.textContent.includes(%s) && t.textContent;" % json.dumps(TITLE)),
        "the title on the page")
    listeners = wait_for(lambda: d.execute_script(
        "const m = document.querySelector('#stations .station p.dim');"
        "return m && /\\b1 listener\\b/.test(m.textContent) && m.textContent;"),
        "one listener shown (the page's own player)")
    log("now playing: %r; %s" % (title if KIND == "audio" else "-", listeners))
    time.sleep(1.5)  # one more poll: the chart and rates of a playing peer
    d.save_screenshot(shot)
    log("screenshot: " + shot)


PAGE_HTML = ("<!doctype html><title>Station page</title><h1 id=h>On the air</h1>"
             "<script>document.title = 'scripted';"
             " document.getElementById('h').textContent = 'scripted';</script>\n")


def check_station_page(d, port):
    """The peer's page links to the station's; that one renders, its script blocked."""
    href = wait_for(lambda: d.execute_script(
        "const p = document.querySelector('#stations .station p.page');"
        "return p && !p.hidden && p.querySelector('a').href;"), "the link to the station's page")
    if not href.endswith("/page/"):
        raise SystemExit("FAIL: the station's page link is %s" % href)
    d.get(href)
    h1 = wait_for(lambda: d.execute_script(
        "const h = document.getElementById('h'); return h && h.textContent;"),
        "the station's page")
    if d.title != "Station page" or h1 != "On the air":
        raise SystemExit("FAIL: the station's page ran its script: title %r, h1 %r" %
                         (d.title, h1))
    log("the station's page: %r, its script blocked" % h1)


def main():
    webdriver, Service = import_selenium()
    missing = [n for n in ("chromium", "chromedriver", "ffmpeg") if not shutil.which(n)]
    if webdriver is None:
        missing.append("python3-selenium")
    if missing:
        log("SKIPPED: not installed: %s (scripts/deps.sh)" % " ".join(missing))
        return 77
    tmp = tempfile.mkdtemp(prefix="web_player.")
    procs = []

    def start(name, args, cmd=None):
        err = open(os.path.join(tmp, name + ".log"), "w")
        p = subprocess.Popen(cmd or [BIN] + args + COMMON, stdout=subprocess.DEVNULL,
                             stderr=err)
        procs.append(p)
        return p

    t_start = time.time()
    d = None
    try:
        pwfile = os.path.join(tmp, "pw")
        with open(pwfile, "w") as f:
            f.write(PW + "\n")
        # The station's key: the broadcaster signs with it, listeners name it.
        key = os.path.join(tmp, "station.key")
        pk = subprocess.run([BIN, "keygen", "--out", key], check=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True).stdout.strip()
        # The ingest server takes its port and the one above (SHOUTcast v1).
        ingest, web = BASE + 40, BASE + 45
        start("l0", ["listen", "--station", MOUNT + "@" + pk, "--listen",
                     "127.0.0.1:%d" % BASE])
        time.sleep(0.5)
        lis = start("listener", ["listen", "--station", MOUNT + "@" + pk, "--listen",
                           "127.0.0.1:%d" % (BASE + 1), "--join", "127.0.0.1:%d" % BASE,
                           "--http", "127.0.0.1:%d" % web])
        page = []
        if KIND == "audio":
            os.mkdir(os.path.join(tmp, "page"))
            with open(os.path.join(tmp, "page", "index.html"), "w") as f:
                f.write(PAGE_HTML)
            page = ["--page", os.path.join(tmp, "page")]
        start("broadcaster", ["broadcast", "--station", MOUNT, "--key", key, "--listen",
                              "127.0.0.1:%d" % (BASE + 2), "--join", "127.0.0.1:%d" % BASE,
                              "--http", "127.0.0.1:%d" % ingest, "--source-password-file",
                              pwfile] + page)
        j = wait_for(lambda: (lambda j: j and j["stripes_attached"] == STRIPES and j)(
            peer_json(web)), "the listener attached in every stripe (its /peer.json)")
        log("attached: %d stripes, node %s" % (j["stripes_attached"], j["node"]["addr"]))
        st, hdr, body = get("http://127.0.0.1:%d/" % web)
        if st != 200 or not hdr["Content-Type"].startswith("text/html") or b"app.js" not in body:
            raise SystemExit("FAIL: GET / answered %s %s" % (st, hdr))
        time.sleep(2.0)  # the broadcaster's own forest (its stripe roots)
        url = "icecast://source:%s@127.0.0.1:%d%s" % (PW, ingest, MOUNT)
        start("ffmpeg", None, ffmpeg_args() + ["-metadata", "title=" + TITLE,
                                               "-content_type", CTYPE, url])
        j = wait_for(lambda: (lambda j: j and j["stream"]["playing"] and
                              j["stations"][0]["content_type"] and j)(peer_json(web)),
                     "the listener playing the station")
        check_json(j)
        d = browser(webdriver, Service)
        check_page(d, web, SHOT or os.path.join(tmp, "web-%s.png" % KIND))
        j = peer_json(web)
        if j["stations"][0]["listeners"] < 1:
            raise SystemExit("FAIL: peer.json counts no listener: %s" % j["stations"])
        if KIND == "audio":
            # The bundle: 18 bytes of framing and the one file.
            if j["stations"][0]["page_bytes"] != len(PAGE_HTML) + 18:
                raise SystemExit("FAIL: peer.json's page_bytes: %s" % j["stations"])
            check_station_page(d, web)
        d.quit()
        d = None
        # The serving peer leaves cleanly (in a sanitizer build: no report, no leak).
        lis.send_signal(signal.SIGTERM)
        if lis.wait(timeout=HANG_S) != 0:
            raise SystemExit("FAIL: the listener exited %d" % lis.returncode)
        with open(os.path.join(tmp, "listener.log")) as f:
            if "runtime error" in f.read():
                raise SystemExit("FAIL: a sanitizer report in the listener's log")
        log("ok: the page played the %s station and showed %d stripes (%.1f s)" %
            (KIND, STRIPES, time.time() - t_start))
        return 0
    finally:
        if d is not None:
            d.quit()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        if os.environ.get("KEEP_TMP"):
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
