#!/usr/bin/env python3
"""station_kill.py STRIPECAST — a station fed by an encoder survives the loss
of a quarter of its relaying peers: ffmpeg sends Ogg Opus by PUT, as to an
Icecast server, into `stripecast broadcast --http` (a signed station, the
broadcaster's defaults); 12 `stripecast listen`
peers, each its own process, are in the trees before it starts; once the
listeners write, the 3 with the most children (25%, all relaying) are
SIGKILLed at once. Every survivor writes byte for byte what ffmpeg sent
(sha256), and a listener that joins after the kills writes the codec headers
first and decodes with zero errors. Every survivor exits 0 by itself at the
broadcast's end.

ffmpeg's bytes are known from a second, bit-exact run into a pipe. Exit 0
pass, 1 fail, 77 skipped (no ffmpeg). Timeouts only bound a hang; no verdict
depends on timing.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
BASE = 29000 + (os.getpid() % 40) * 50
HANG_S = 90
COMMON = ["--heartbeat-ms", "500"]
PW = "kill-pw-%d" % os.getpid()
LISTENERS = 12
KILLED = LISTENERS // 4
SECONDS = 14
STATION = "/radio.opus"


def log(msg):
    print("station_kill: " + msg, file=sys.stderr, flush=True)


class Fail(Exception):
    pass


def wait_for(pred, what, timeout=HANG_S):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise Fail("%s (waited %d s)" % (what, timeout))


def stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def sha(b):
    return hashlib.sha256(b).hexdigest()[:16]


def ffmpeg_args():
    return ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
            "sine=f=440:d=%d" % SECONDS, "-fflags", "+bitexact", "-c:a", "libopus",
            "-b:a", "96k", "-f", "ogg"]


def run(tmp, procs):
    def start(name, args):
        err = open(os.path.join(tmp, name + ".log"), "w")
        p = subprocess.Popen([BIN] + args + COMMON, stdout=subprocess.DEVNULL, stderr=err)
        p.name = name
        procs.append(p)
        return p

    def addr(i):
        return "127.0.0.1:%d" % (BASE + i)

    keyfile = os.path.join(tmp, "station.key")
    pk = subprocess.check_output([BIN, "keygen", "--out", keyfile],
                                 stderr=subprocess.DEVNULL).decode().strip()

    def listener(i, join, name=None):
        name = name or "l%d" % i
        a = ["listen", "--station", STATION + "@" + pk, "--listen", addr(i), "--output",
             os.path.join(tmp, name + ".opus"), "--stats",
             os.path.join(tmp, name + ".json"), "--stats-interval-ms", "200"]
        if join is not None:
            a += ["--join", addr(join)]
        return start(name, a)

    # A signed station at the broadcaster's defaults (stripe roots re-located
    # every 30 s); listeners name it NAME@KEY.
    pwfile = os.path.join(tmp, "pw")
    with open(pwfile, "w") as f:
        f.write(PW + "\n")
    http = BASE + 45
    lis = [listener(0, None)]
    time.sleep(0.5)
    lis += [listener(i, 0) for i in range(1, LISTENERS)]
    bc_stats = os.path.join(tmp, "broadcaster.json")
    bc = start("broadcaster", ["broadcast", "--station", STATION, "--key", keyfile, "--listen",
                               addr(LISTENERS), "--join", addr(0), "--http",
                               "127.0.0.1:%d" % http, "--source-password-file", pwfile,
                               "--stats", bc_stats, "--stats-interval-ms", "200",
                               "--eof-exit-ms", "2000"])

    def all_attached():
        for p in lis:
            st = stats(os.path.join(tmp, p.name + ".json"))
            if st is None or st["totals"]["attached_all"] != 1:
                return False
        return True

    wait_for(all_attached, "every listener attached in every stripe")

    def ingest_up():
        try:
            socket.create_connection(("127.0.0.1", http), timeout=1).close()
            return True
        except OSError:
            return False

    wait_for(ingest_up, "the ingest server listening")
    time.sleep(2.0)  # the broadcaster's own forest (its stripe roots)
    want = subprocess.run(ffmpeg_args() + ["-"], stdout=subprocess.PIPE,
                          check=True).stdout
    url = "icecast://source:%s@127.0.0.1:%d%s" % (PW, http, STATION)
    ff = subprocess.Popen(["ffmpeg", "-re"] + ffmpeg_args()[1:] +
                          ["-content_type", "audio/ogg", url], stderr=subprocess.PIPE)
    procs.append(ff)

    # Mid-stream: every listener writes; the relaying peers with the most
    # children go at once.
    def all_playing():
        for p in lis:
            st = stats(os.path.join(tmp, p.name + ".json"))
            if st is None or st["peers"][0]["output"]["bytes_written"] < 8192:
                return False
        return True

    wait_for(all_playing, "every listener writing")
    kids = {}
    for p in lis:
        kids[p.name] = stats(os.path.join(tmp, p.name + ".json"))["peers"][0]["children"]
    victims = sorted(lis, key=lambda p: -kids[p.name])[:KILLED]
    if sum(kids[p.name] for p in victims) == 0:
        raise Fail("no listener relays: %s" % kids)
    for p in victims:
        p.send_signal(signal.SIGKILL)
    for p in victims:
        p.wait()
    log("SIGKILLed %s (children %s)" % ([p.name for p in victims],
                                         [kids[p.name] for p in victims]))
    survivors = [p for p in lis if p not in victims]
    # A listener that joins after the kills, through the broadcaster.
    time.sleep(2.0)
    late = listener(LISTENERS + 1, LISTENERS, "late")

    _, err = ff.communicate(timeout=HANG_S)
    if ff.returncode != 0:
        raise Fail("ffmpeg exited %d: %s" % (ff.returncode, err.decode()[:300]))

    def ended():
        st = stats(bc_stats)
        return st is not None and st["ingest"]["sources_ended"] == 1

    wait_for(ended, "the session ended at the broadcaster")
    time.sleep(1.0)  # the last generation's way down the trees
    bc.send_signal(signal.SIGTERM)
    if bc.wait(timeout=HANG_S) != 0:
        raise Fail("the broadcaster exited %d" % bc.returncode)
    ing = stats(bc_stats)["ingest"]
    if ing["bytes_in"] != len(want):
        raise Fail("the broadcaster got %d bytes, ffmpeg sent %d" % (ing["bytes_in"],
                                                                      len(want)))
    bad = []
    for p in survivors + [late]:
        try:
            rc = p.wait(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            raise Fail("%s did not end by itself" % p.name)
        if rc != 0:
            raise Fail("%s exited %d" % (p.name, rc))
    for p in survivors:
        with open(os.path.join(tmp, p.name + ".opus"), "rb") as f:
            got = f.read()
        if got != want:
            o = stats(os.path.join(tmp, p.name + ".json"))["peers"][0]["output"]
            bad.append("%s: %d bytes sha %s (%s)" % (p.name, len(got), sha(got),
                                                    json.dumps(o)))
    if bad:
        raise Fail("survivors' outputs differ from ffmpeg's %d bytes sha %s:\n  %s" %
                   (len(want), sha(want), "\n  ".join(bad)))
    late_out = os.path.join(tmp, "late.opus")
    with open(late_out, "rb") as f:
        got = f.read()
    if not got.startswith(b"OggS") or got.find(b"OpusHead") != 28:
        raise Fail("the late listener's output does not begin with the Opus headers")
    dec = subprocess.run(["ffmpeg", "-v", "error", "-i", late_out, "-f", "null", "-"],
                         capture_output=True, text=True)
    if dec.returncode != 0 or dec.stderr.strip():
        raise Fail("the late listener's stream: ffmpeg exit %d: %s" %
                   (dec.returncode, dec.stderr.strip()[:300]))
    log("ok: %d survivors wrote ffmpeg's %d bytes exactly (sha %s); the late listener "
        "wrote %d bytes that decode cleanly" % (len(survivors), len(want), sha(want),
                                                 len(got)))


def main():
    if not shutil.which("ffmpeg"):
        log("skipped: ffmpeg not found")
        return 77
    tmp = tempfile.mkdtemp(prefix="station_kill.")
    procs = []
    ok = False
    try:
        run(tmp, procs)
        ok = True
    except Fail as e:
        print("FAIL: station_kill: %s (logs in %s)" % (e, tmp), file=sys.stderr)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if ok and not os.environ.get("KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
