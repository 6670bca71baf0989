#!/usr/bin/env python3
"""check_directory.py STRIPECAST — the station directory with real peers on
loopback (docs/directory.md).

Two signed broadcasters (one described with --name, --description and
--genre, with a player of its own on its --http port) and a listener of the
first, which writes the stream out and serves players. `stripecast stations
--join LISTENER` must list both stations with the fields their broadcasters
gave: key, id, station spec, name, mount, description, genre, codec, a
measured bitrate near the feed's 128 kbit/s, the start time; the listened
station online with its listeners (the broadcaster's player, and the
listener's output when the tally brings it: a tally tree whose root is the
other broadcaster does not, core/tally.h), the other offline with none,
listened first. /stations.json on the listener's HTTP
port says the same. When the second broadcaster leaves (SIGTERM) it is
listed off the air. Usage errors exit 2, a peer that does not answer exits 1
with a reason. Skips (77) without ffmpeg, which makes the feed.
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

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/stripecast"
# Ports apart from the other runtime tests' (22000..32720).
BASE = 33000 + (os.getpid() % 9) * 20
HANG_S = 90
COMMON = ["--heartbeat-ms", "500", "--eof-exit-ms", "60000"]


class Fail(Exception):
    pass


def log(msg):
    print(f"check_directory: {msg}", file=sys.stderr, flush=True)


def addr(i):
    return f"127.0.0.1:{BASE + i}"


def stations(i, *extra):
    r = subprocess.run([BIN, "stations", "--join", addr(i), *extra],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=30)
    return r.returncode, r.stdout, r.stderr


def listing(i):
    rc, out, err = stations(i, "--json")
    if rc != 0:
        raise Fail(f"stations --json: exit {rc}: {err.strip()}")
    return json.loads(out)


def wait_for(what, cond, timeout=HANG_S):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = cond()
            if last is True:
                return
        except (OSError, ValueError, Fail) as e:
            last = e
        time.sleep(0.5)
    raise Fail(f"{what}: not within {timeout} s (last: {last})")


def keygen(tmp, name):
    path = os.path.join(tmp, name + ".key")
    pk = subprocess.run([BIN, "keygen", "--out", path], check=True, text=True,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
    return path, pk


def make_mp3(tmp, seconds):
    path = os.path.join(tmp, "tone.mp3")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=f=440:r=44100:d={seconds}", "-ac", "2", "-c:a", "libmp3lame",
                    "-b:a", "128k", path], check=True)
    return path


def check_usage():
    r = subprocess.run([BIN, "stations"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 2 or "--join" not in r.stderr:
        raise Fail(f"stations without --join: exit {r.returncode}: {r.stderr.strip()}")
    r = subprocess.run([BIN, "stations", "--help"], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0 or "usage: stripecast stations" not in r.stdout:
        raise Fail("stations --help")
    # Nobody at this port: a reason and exit 1 once --wait-ms has passed.
    rc, _, err = stations(19, "--wait-ms", "300")
    if rc != 1 or "no answer from" not in err:
        raise Fail(f"stations --join to nobody: exit {rc}: {err.strip()}")


def check_listing(got, pk1, pk2, started):
    by_key = {s["key"]: s for s in got}
    if set(by_key) != {pk1, pk2}:
        return f"keys {sorted(by_key)}"
    a, b = by_key[pk1], by_key[pk2]
    want_a = {"name": "Night Jazz", "mount": "/jazz.mp3", "description": "late jazz, live",
              "genre": "jazz", "codec": "mp3", "station": "/jazz.mp3@" + pk1,
              "on_air": True, "online": True}
    want_b = {"name": "talk.mp3", "mount": "/talk.mp3", "description": "", "genre": "talk",
              "codec": "mp3", "station": "/talk.mp3@" + pk2, "on_air": True,
              "online": False, "listeners": 0}
    if a["listeners"] not in (1, 2):
        return f"/jazz.mp3: listeners {a['listeners']}, want the player (and the output)"
    for s, want in ((a, want_a), (b, want_b)):
        for k, v in want.items():
            if s[k] != v:
                return f"{s['mount']}: {k} is {s[k]!r}, want {v!r}"
        if not 100 <= s["bitrate_kbps"] <= 160:
            return f"{s['mount']}: bitrate {s['bitrate_kbps']}"
        if abs(s["started_unix_s"] - started) > 30:
            return f"{s['mount']}: started {s['started_unix_s']}, about {started} wanted"
        if len(s["id"]) != 32:
            return f"{s['mount']}: id {s['id']!r}"
    if got[0]["key"] != pk1:
        return "the listened station is not ranked first"
    return True


def scenario(tmp, procs):
    check_usage()
    src = make_mp3(tmp, 150)
    k1, pk1 = keygen(tmp, "jazz")
    k2, pk2 = keygen(tmp, "talk")
    started = int(time.time())

    def spawn(name, argv):
        err = open(os.path.join(tmp, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        procs.append(p)
        return p

    spawn("b1", [BIN, "broadcast", "--station", "/jazz.mp3", "--key", k1, "--name",
                 "Night Jazz", "--description", "late jazz, live", "--genre", "jazz",
                 "--listen", addr(0), "--source", src, "--http", str(BASE + 11)] + COMMON)
    time.sleep(0.5)
    b2 = spawn("b2", [BIN, "broadcast", "--station", "/talk.mp3", "--key", k2, "--genre",
                      "talk", "--listen", addr(1), "--join", addr(0), "--source", src]
               + COMMON)
    spawn("l", [BIN, "listen", "--station", "/jazz.mp3@" + pk1, "--listen", addr(2),
                "--join", addr(0), "--output", os.path.join(tmp, "l.out"),
                "--http", str(BASE + 10)] + COMMON[:2])
    # A player at the broadcaster: counted there whatever the tally tree.
    spawn("player", [sys.executable, "-c",
                     "import sys, time, urllib.request\n"
                     "while True:\n"
                     "    try:\n"
                     "        r = urllib.request.urlopen(sys.argv[1], timeout=10)\n"
                     "        while r.read(4096):\n"
                     "            pass\n"
                     "    except OSError:\n"
                     "        time.sleep(0.5)\n",
                     f"http://127.0.0.1:{BASE + 11}/jazz.mp3"])
    wait_for("both stations listed at the listener, with their fields",
             lambda: check_listing(listing(2), pk1, pk2, started), timeout=150)
    log("stations --json at the listener lists both, as broadcast")
    with urllib.request.urlopen(f"http://127.0.0.1:{BASE + 10}/stations.json",
                                timeout=10) as r:
        if r.headers.get_content_type() != "application/json":
            raise Fail(f"/stations.json: {r.headers.get_content_type()}")
        page = json.loads(r.read())
    if check_listing(page, pk1, pk2, started) is not True:
        raise Fail(f"/stations.json: {check_listing(page, pk1, pk2, started)}")
    log("/stations.json says the same")
    rc, out, err = stations(0)
    if rc != 0 or "Night Jazz" not in out or "/talk.mp3@" + pk2 not in out:
        raise Fail(f"the table at the broadcaster: exit {rc}: {out} {err}")
    log("the table for people at a broadcaster lists both")
    b2.send_signal(signal.SIGTERM)

    def talk_off_air():
        s = {x["key"]: x for x in listing(2)}.get(pk2)
        return True if s and not s["on_air"] and not s["online"] else s

    wait_for("the stopped station listed off the air", talk_off_air, timeout=30)
    log("a broadcaster that left is listed off the air")


def main():
    if not shutil.which("ffmpeg"):
        log("skipped: no ffmpeg")
        return 77
    tmp = tempfile.mkdtemp(prefix="check_directory.")
    procs = []
    try:
        scenario(tmp, procs)
        log("ok")
        return 0
    except (Fail, subprocess.CalledProcessError, OSError) as e:
        log(f"FAIL: {e}")
        try:
            log(f"the listener lists: {stations(2, '--json')[1]}")
        except (OSError, subprocess.SubprocessError):
            pass
        for name in ("b1", "b2", "l"):
            path = os.path.join(tmp, name + ".log")
            if os.path.exists(path):
                with open(path) as f:
                    sys.stderr.write(f"--- {name}.log\n" + f.read()[-2000:])
        return 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
