#!/usr/bin/env python3
"""bench/overhead.py — what a broadcasting peer sends, by message class.

A station on loopback: `stripecast broadcast --http`, N listeners (processes of
at most --per-proc peers), then ffmpeg pushing Ogg Opus at a constant 128 kbit/s
by PUT for --seconds in real time. The broadcaster's counters (`tx_by_class`
of --stats, docs/runtime.md) are read every second; the report splits its
sent bytes into three phases:

  join    the broadcaster up, listeners joining and building the forest,
          until every listener is attached in every stripe (no stream yet);
  stream  ffmpeg connected until it closed;
  tail    from then until the broadcaster exits (SIGTERM, polite departure).

Each class's bytes are given over the stream's bytes (ingest `bytes_in`):
for the whole run and for the stream phase alone. Prints one JSON object, and a
summary line per class on stderr.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from benchlib import station_key


HANG_S = 120


def log(msg):
    print("overhead: " + msg, file=sys.stderr, flush=True)


def stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def wait_for(pred, what, timeout=HANG_S):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.2)
    raise SystemExit("overhead: timed out: " + what)


def tx(doc):
    """The broadcaster's sent datagrams and bytes by class, plus the total."""
    p = doc["peers"][0]
    out = {k: tuple(v) for k, v in p.get("tx_by_class", {}).items()}
    out["total"] = (p["dgrams_out"], p["bytes_out"])
    return out


def diff(a, b):
    return {k: (b[k][0] - a.get(k, (0, 0))[0], b[k][1] - a.get(k, (0, 0))[1]) for k in b}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listeners", type=int, default=10)
    ap.add_argument("--per-proc", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--port", type=int, default=51000)
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..",
                                                     "build", "stripecast"))
    ap.add_argument("--args", default="", help="extra flags for every peer")
    ap.add_argument("--bc-args", default="", help="extra flags for the broadcaster")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="overhead.")
    key, pk = station_key(a.binary, tmp)
    procs = []
    extra = a.args.split()

    def start(name, args):
        err = open(os.path.join(tmp, name + ".log"), "w")
        p = subprocess.Popen([a.binary] + args + extra, stdout=subprocess.DEVNULL,
                             stderr=err)
        procs.append(p)
        return p

    try:
        pw = "overhead-%d" % os.getpid()
        pwfile = os.path.join(tmp, "pw")
        with open(pwfile, "w") as f:
            f.write(pw + "\n")
        http = a.port + 2000
        bc_stats = os.path.join(tmp, "broadcaster.json")
        bc = start("broadcaster", [
            "broadcast", "--station", "/ov.opus", "--key", key, "--listen", "127.0.0.1:%d" % a.port,
            "--http", "127.0.0.1:%d" % http, "--source-password-file", pwfile, "--stats",
            bc_stats, "--stats-interval-ms", "250"] + a.bc_args.split())
        def bc_up():
            if bc.poll() is not None:
                raise SystemExit("overhead: the broadcaster exited %d (see %s)" %
                                 (bc.returncode, os.path.join(tmp, "broadcaster.log")))
            return stats(bc_stats) is not None

        wait_for(bc_up, "broadcaster stats")
        t_start = time.time()
        lst = []
        port = a.port + 1
        left = a.listeners
        while left > 0:
            n = min(left, a.per_proc)
            path = os.path.join(tmp, "l%d.json" % port)
            start("l%d" % port, ["listen", "--station", "/ov.opus@" + pk, "--listen",
                                 "127.0.0.1:%d" % port, "--join", "127.0.0.1:%d" % a.port,
                                 "--peers", str(n), "--stats", path,
                                 "--stats-interval-ms", "1000"])
            lst.append(path)
            port += n
            left -= n

        def attached():
            if any(p.poll() is not None for p in procs):
                raise SystemExit("overhead: a peer process exited early")
            tot = 0
            for path in lst:
                st = stats(path)
                if st is None:
                    return False
                tot += st["totals"]["attached_all"]
            return tot == a.listeners

        wait_for(attached, "every listener attached in every stripe", HANG_S * 3)
        join_s = time.time() - t_start
        s_join = tx(stats(bc_stats))
        url = "icecast://source:%s@127.0.0.1:%d/ov.opus" % (pw, http)
        ff = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
                             "-i", "anoisesrc=c=pink:a=0.2:d=%d" % a.seconds, "-ac", "2",
                             "-c:a", "libopus", "-b:a", "128k", "-vbr", "off",
                             "-content_type", "audio/ogg", "-f", "ogg", url],
                            stderr=subprocess.PIPE, timeout=a.seconds + HANG_S)
        if ff.returncode != 0:
            raise SystemExit("overhead: ffmpeg: " + ff.stderr.decode())

        def ended():
            st = stats(bc_stats)
            return st is not None and st["ingest"]["live"] is None
        wait_for(ended, "the session ended")
        s_stream = tx(stats(bc_stats))
        time.sleep(3.0)  # the last generations down the trees, repairs
        bc.send_signal(signal.SIGTERM)
        bc.wait(timeout=HANG_S)
        final = stats(bc_stats)
        s_end = tx(final)
        stream_bytes = final["ingest"]["bytes_in"]
        for p in procs[1:]:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs[1:]:
            p.wait(timeout=HANG_S)
        cont, lost, n = 1.0, 0, 0
        for path in lst:
            st = stats(path)
            for peer in st["peers"]:
                s = peer.get("stream", {})
                n += 1
                lost += s.get("gens_lost", 0)
                cont = min(cont, s.get("continuity", 0.0))
        phases = {"join": s_join, "stream": diff(s_join, s_stream),
                  "tail": diff(s_stream, s_end)}
        rows = {}
        for k in s_end:
            rows[k] = {
                "dgrams": s_end[k][0], "bytes": s_end[k][1],
                "ratio": round(s_end[k][1] / stream_bytes, 4),
                "join_bytes": phases["join"].get(k, (0, 0))[1],
                "stream_bytes": phases["stream"].get(k, (0, 0))[1],
                "tail_bytes": phases["tail"].get(k, (0, 0))[1],
                "stream_ratio": round(phases["stream"].get(k, (0, 0))[1] / stream_bytes, 4)}
        out = {"listeners": a.listeners, "seconds": a.seconds, "join_s": round(join_s, 1),
               "stream_bytes": stream_bytes, "ratio": rows["total"]["ratio"],
               "ratio_stream_phase": rows["total"]["stream_ratio"],
               "station_source": final.get("station_source"),
               "broadcaster": {k: final["peers"][0].get("stream", {}).get(k) for k in
                               ("chunks_published", "publishes_routed", "root_changes",
                                         "roots_suspected", "chunks_resent")},
               "broadcaster_children_at_end": final["peers"][0].get("children"),
               "listeners_seen": n, "gens_lost": lost, "continuity_min": cont,
               "by_class": dict(sorted(rows.items(), key=lambda kv: -kv[1]["bytes"]))}
        print(json.dumps(out))
        log("%d listeners, %d s: stream %d bytes, ratio %.3f (stream phase %.3f), "
            "join %.1f s, continuity min %.4f" % (a.listeners, a.seconds, stream_bytes,
                                                   out["ratio"], out["ratio_stream_phase"],
                                                   join_s, cont))
        for k, r in out["by_class"].items():
            log("  %-18s %7d dgrams %10d B  %.4f  (join %d, stream %d, tail %d)" %
                (k, r["dgrams"], r["bytes"], r["ratio"], r["join_bytes"],
                 r["stream_bytes"], r["tail_bytes"]))
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if a.keep:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
