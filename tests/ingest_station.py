#!/usr/bin/env python3
"""ingest_station.py STRIPECAST — a station on the air from ffmpeg, end to end:
`stripecast broadcast --http` takes three encoder sessions one after the
other (Ogg Opus by PUT, WebM VP8 + Opus, Ogg Opus by SOURCE), and a
`stripecast listen` peer that was in the trees before the first writes
exactly the bytes ffmpeg sent, every session in order. The broadcaster's
SIGTERM ends the broadcast; the listener then exits 0 by itself. The broadcaster's counters say what its ingest saw.

ffmpeg's bytes are known from a second, bit-exact run into a pipe (not
seekable, like the network). Exit 0 pass, 1 fail, 77 skipped (no ffmpeg).
Timeouts only bound a hang; no verdict depends on timing.
"""
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
BASE = 27000 + (os.getpid() % 40) * 50
HANG_S = 90
COMMON = ["--heartbeat-ms", "500"]
PW = "station-pw-%d" % os.getpid()


def log(msg):
    print("ingest_station: " + msg, file=sys.stderr, flush=True)


def wait_for(pred, what, timeout=HANG_S):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise SystemExit("FAIL: %s (waited %d s)" % (what, timeout))


def stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ffmpeg_args(kind, freq):
    """Ogg Opus (the usual radio), or WebM VP8 + Opus (its framer syncs on
    video keyframes)."""
    ff = ["ffmpeg", "-nostdin", "-loglevel", "error"]
    if kind == "ogg":
        return ff + ["-f", "lavfi", "-i", "sine=f=%d:d=4" % freq, "-fflags", "+bitexact",
                     "-c:a", "libopus", "-b:a", "128k", "-f", "ogg"]
    return ff + ["-f", "lavfi", "-i", "testsrc=s=160x120:r=10:d=4", "-f", "lavfi", "-i",
                 "sine=f=%d:d=4" % freq, "-fflags", "+bitexact", "-threads", "1",
                 "-c:v", "libvpx", "-b:v", "200k", "-g", "10", "-c:a", "libopus",
                 "-b:a", "96k", "-f", "webm"]


CTYPE = {"ogg": "audio/ogg", "webm": "video/webm"}
# Three encoder sessions, one after the other: the brief's Ogg Opus by PUT,
# a WebM one, then Ogg Opus again by SOURCE (ffmpeg's -legacy_icecast).
SESSIONS = [("ogg", 440, []), ("webm", 550, []), ("ogg", 660, ["-legacy_icecast", "1"])]


def main():
    if not shutil.which("ffmpeg"):
        log("ffmpeg not found")
        return 77
    tmp = tempfile.mkdtemp(prefix="ingest_station.")
    procs = []

    def start(name, args):
        err = open(os.path.join(tmp, name + ".log"), "w")
        p = subprocess.Popen([BIN] + args + COMMON, stdout=subprocess.DEVNULL, stderr=err)
        procs.append(p)
        return p

    try:
        pwfile = os.path.join(tmp, "pw")
        with open(pwfile, "w") as f:
            f.write(PW + "\n")
        http = BASE + 40
        key = os.path.join(tmp, "station.key")
        pk = subprocess.run([BIN, "keygen", "--out", key], check=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True).stdout.strip()
        station = "/live.opus@" + pk
        out = os.path.join(tmp, "out.webm")
        l0 = start("l0", ["listen", "--station", station, "--listen",
                          "127.0.0.1:%d" % BASE])
        time.sleep(0.5)
        lis_stats = os.path.join(tmp, "listener.json")
        lis = start("listener", ["listen", "--station", station, "--listen",
                                 "127.0.0.1:%d" % (BASE + 1), "--join",
                                 "127.0.0.1:%d" % BASE, "--output", out, "--stats",
                                 lis_stats, "--stats-interval-ms", "200"])
        bc_stats = os.path.join(tmp, "broadcaster.json")
        bc = start("broadcaster", ["broadcast", "--station", "/live.opus", "--key", key,
                                   "--listen",
                                   "127.0.0.1:%d" % (BASE + 2), "--join",
                                   "127.0.0.1:%d" % BASE, "--http",
                                   "127.0.0.1:%d" % http, "--source-password-file",
                                   pwfile, "--stats", bc_stats, "--stats-interval-ms",
                                   "200", "--eof-exit-ms", "2000", "--verbose"])

        def attached():
            st = stats(lis_stats)
            return st is not None and st["totals"]["attached_all"] == 1

        wait_for(attached, "the listener attached in every stripe")

        def ingest_up():
            try:
                socket.create_connection(("127.0.0.1", http), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(ingest_up, "the ingest server listening")
        time.sleep(2.0)  # the broadcaster's own forest (its stripe roots)
        url = "icecast://source:%s@127.0.0.1:%d/live.opus" % (PW, http)
        want = b""
        for n, (kind, freq, extra) in enumerate(SESSIONS):
            ref = subprocess.run(ffmpeg_args(kind, freq) + ["-"], stdout=subprocess.PIPE,
                                 check=True).stdout
            r = subprocess.run(["ffmpeg", "-re"] + ffmpeg_args(kind, freq)[1:] +
                               ["-content_type", CTYPE[kind]] + extra + [url],
                               stderr=subprocess.PIPE, timeout=HANG_S)
            if r.returncode != 0:
                raise SystemExit("FAIL: ffmpeg session %d: %s" % (n + 1, r.stderr.decode()))
            want += ref

            def ended(k=n + 1):
                st = stats(bc_stats)
                return (st is not None and st["ingest"]["sources_accepted"] == k
                        and st["ingest"]["live"] is None)

            wait_for(ended, "session %d ended at the broadcaster" % (n + 1))
        time.sleep(1.0)  # the last generation's way down the trees
        bc.send_signal(signal.SIGTERM)
        if bc.wait(timeout=HANG_S) != 0:
            raise SystemExit("FAIL: the broadcaster exited %d" % bc.returncode)
        if lis.wait(timeout=HANG_S) != 0:
            raise SystemExit("FAIL: the listener exited %d" % lis.returncode)
        with open(out, "rb") as f:
            got = f.read()
        st = stats(bc_stats)
        ing = st["ingest"]
        log("listener wrote %d bytes, ffmpeg sent %d; ingest %s" %
            (len(got), len(want), json.dumps(ing)))
        # With SOURCE, ffmpeg's unread "200 OK" can make its close a reset
        # that loses the last bytes at the server (docs/broadcast.md): the
        # last session may miss its tail, nothing else.
        if ing["bytes_in"] == len(want):
            ok = got == want
        else:
            ok = len(want) - ing["bytes_in"] <= 8192 and got == want[:len(got)] and \
                len(got) == ing["bytes_in"]
        if not ok:
            raise SystemExit("FAIL: the listener's output is not what ffmpeg sent "
                             "(%d of %d bytes, ingest got %d)" %
                             (len(got), len(want), ing["bytes_in"]))
        if ing["sources_accepted"] != len(SESSIONS) or ing["sources_ended"] != len(SESSIONS):
            raise SystemExit("FAIL: ingest counters %s" % json.dumps(ing))
        if st["station_source"]["sessions"] != len(SESSIONS):
            raise SystemExit("FAIL: station source sessions %s" % st["source"])
        with open(os.path.join(tmp, "broadcaster.log")) as f:
            if PW in f.read():
                raise SystemExit("FAIL: the password reached the log")
        l0.send_signal(signal.SIGTERM)
        l0.wait(timeout=HANG_S)
        log("ok: the listener wrote exactly what the encoder sent, %d sessions" %
            len(SESSIONS))
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get("KEEP_TMP"):
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
