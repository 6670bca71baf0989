#!/usr/bin/env python3
"""bench/ingest_cpu.py — ingest CPU per Mbit/s of station bitrate: one ffmpeg
pushes the same stream, in real time (-re, -c copy of a file encoded
beforehand), to three servers at once through its tee muxer: `stripecast
broadcast --http` (with a small overlay: one `stripecast listen` process of
--overlay peers that relay the station), icecast2 with no listener, and
icecast2 with --icecast-listeners curl clients. The CPU time (utime + stime,
/proc/PID/stat) each server process used over the stream is reported as CPU
% and as CPU % per Mbit/s of the stream, with the ratio stripecast/icecast2.

Streams (--streams, comma-separated): opus128 (Ogg Opus 128 kbit/s),
flac44 (Ogg FLAC 44.1 kHz stereo white noise, ~0.6 Mbit/s), flac96
(Ogg FLAC 96 kHz stereo white noise, ~2.3 Mbit/s), webm4m (WebM VP8
640x360 noise, 4 Mbit/s). Prints a markdown table and writes
--out/summary.json. Exit 0, or 1 when a server did not take the stream.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from benchlib import cpu_s, icecast_argv, icecast_conf, station_key, wait_port


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PW = "ingest-cpu-bench"

STREAMS = {
    # name: (ffmpeg input and codec args, muxer, content type)
    "opus128": (["-f", "lavfi", "-i", "sine=f=440:d={d}", "-c:a", "libopus", "-b:a", "128k"],
                "ogg", "audio/ogg"),
    "flac44": (["-f", "lavfi", "-i", "anoisesrc=c=white:r=44100:a=0.3:d={d}", "-ac", "2",
                "-c:a", "flac", "-sample_fmt", "s16"], "ogg", "audio/ogg"),
    "flac96": (["-f", "lavfi", "-i", "anoisesrc=c=white:r=96000:a=1.0:d={d}", "-ac", "2",
                "-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"],
               "ogg", "audio/ogg"),
    "webm4m": (["-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d={d},noise=alls=30:allf=t",
                "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "4M",
                "-minrate", "4M", "-maxrate", "4M", "-g", "50", "-threads", "2"],
               "webm", "video/webm"),
}


def log(msg):
    print("ingest_cpu: " + msg, file=sys.stderr, flush=True)


class Run:
    def __init__(self, a):
        self.a = a
        self.procs = []

    def spawn(self, name, argv, **kw):
        err = open(os.path.join(self.a.out, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", subprocess.DEVNULL), stderr=err,
                             **kw)
        self.procs.append(p)
        return p

    def icecast(self, name, port):
        tmp = os.path.join(self.a.out, name)
        os.makedirs(tmp, exist_ok=True)
        conf = icecast_conf(tmp, port, PW)
        p = self.spawn(name, icecast_argv(conf, tmp))
        wait_port(port, "ingest_cpu")
        return p

    def stream(self, kind, mount_ext):
        a = self.a
        codec, mux, ctype = STREAMS[kind]
        src = os.path.join(a.out, "%s.%s" % (kind, mux))
        if not os.path.exists(src):
            log("encoding %s" % src)
            args = [x.replace("{d}", str(a.duration_s)) for x in codec]
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y"] + args +
                           ["-f", mux, src], check=True)
        size = os.path.getsize(src)
        mbps = size * 8 / a.duration_s / 1e6
        base = a.base_port
        mount = "/live." + mount_ext
        self.procs = []
        pwfile = os.path.join(a.out, "pw")
        with open(pwfile, "w") as f:
            f.write(PW + "\n")
        key, pk = station_key(a.binary, a.out)
        ov = self.spawn("overlay-" + kind,
                        [a.binary, "listen", "--station", mount + "@" + pk] + ["--listen", "127.0.0.1:%d" % base,
                                                         "--peers", str(a.overlay)])
        time.sleep(1)
        http = base - 10
        bc = self.spawn("broadcaster-" + kind,
                        [a.binary, "broadcast", "--station", mount, "--key", key] +
                        ["--listen", "127.0.0.1:%d" % (base - 1), "--join",
                         "127.0.0.1:%d" % base, "--http", "127.0.0.1:%d" % http,
                         "--source-password-file", pwfile, "--stats",
                         os.path.join(a.out, "broadcaster-%s.json" % kind)])
        ic0 = self.icecast("icecast0-" + kind, base - 20)
        icn = self.icecast("icecastN-" + kind, base - 30)
        wait_port(http, "ingest_cpu")
        time.sleep(a.settle_s)  # the overlay's forest
        url = "icecast://source:%s@127.0.0.1:%%d%s" % (PW, mount)
        outs = "|".join("[f=%s:content_type=%s]%s" % (mux, ctype, url % p)
                        for p in (http, base - 20, base - 30))
        ff = self.spawn("ffmpeg-" + kind,
                        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", src,
                         "-c", "copy", "-map", "0", "-f", "tee", outs])
        # icecast2's listeners, once the mount is up.
        t_mount = time.time()
        listeners = []
        while len(listeners) < a.icecast_listeners and time.time() - t_mount < 10:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d%s" % (base - 30, mount),
                                       timeout=1).close()
            except OSError:
                time.sleep(0.2)
                continue
            for _ in range(a.icecast_listeners):
                listeners.append(self.spawn(
                    "curl-%s-%d" % (kind, len(listeners)),
                    ["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d%s" %
                     (base - 30, mount)]))
        servers = {"stripecast": bc, "icecast2_0": ic0, "icecast2_%d" % a.icecast_listeners: icn,
                   "overlay": ov, "ffmpeg": ff}
        c0 = {k: cpu_s(p.pid) for k, p in servers.items()}
        t0 = time.time()
        ff.wait()
        c1 = {k: cpu_s(p.pid) for k, p in servers.items() if k != "ffmpeg"}
        t1 = time.time()
        bc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        st = json.load(open(os.path.join(a.out, "broadcaster-%s.json" % kind)))
        window = t1 - t0
        row = {"stream": kind, "mbps": round(mbps, 3), "window_s": round(window, 1),
               "ffmpeg_exit": ff.returncode, "stripecast_ingest_bytes": st["ingest"]["bytes_in"],
               "file_bytes": size, "overlay_peers": a.overlay,
               "icecast_listeners": len(listeners)}
        for k in c1:
            row[k + "_cpu_pct"] = round(100 * (c1[k] - c0[k]) / window, 2)
            row[k + "_cpu_pct_per_mbps"] = round(100 * (c1[k] - c0[k]) / window / mbps, 2)
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return row


def main(argv):
    p = argparse.ArgumentParser(prog="bench/ingest_cpu.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", default="opus128,flac44,flac96,webm4m",
                   help="comma-separated, of %s (default all four)" %
                   ",".join(STREAMS))
    p.add_argument("--duration-s", type=int, default=120, help="stream length (default 120)")
    p.add_argument("--overlay", type=int, default=8,
                   help="peers of the overlay relaying the station (default 8)")
    p.add_argument("--icecast-listeners", type=int, default=4,
                   help="curl listeners of the second icecast2 (default 4)")
    p.add_argument("--settle-s", type=float, default=15,
                   help="wait for the overlay's forest before the stream (default 15)")
    p.add_argument("--base-port", type=int, default=45000,
                   help="the overlay's first UDP port; the servers take ports below it, "
                   "each stream 100 above the last (default 45000)")
    p.add_argument("--out", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                 "ingest_cpu"),
                   help="encoded files, logs, counters, summary.json "
                   "(default $TMPDIR/ingest_cpu)")
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "stripecast"),
                   help="stripecast (default build/stripecast)")
    a = p.parse_args(argv)
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    rows = []
    r = Run(a)
    try:
        for i, kind in enumerate(a.streams.split(",")):
            if kind not in STREAMS:
                p.error("unknown stream " + kind)
            a.base_port += 100 * (i > 0)
            rows.append(r.stream(kind, STREAMS[kind][1]))
            log(json.dumps(rows[-1]))
    finally:
        for q in r.procs:
            if q.poll() is None:
                q.kill()
                q.wait()
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(rows, f, indent=1)
    n = a.icecast_listeners
    print("| stream | Mbit/s | stripecast CPU %% | icecast2, 0 listeners | icecast2, %d "
          "listeners | stripecast / icecast2 (0) | stripecast / icecast2 (%d) | "
          "overlay process CPU %% |" % (n, n))
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for row in rows:
        s, i0, i_n = (row["stripecast_cpu_pct"], row["icecast2_0_cpu_pct"],
                      row["icecast2_%d_cpu_pct" % n])
        ratio = lambda x, y: "%.1f" % (x / y) if y > 0 else "-"
        print("| %s | %.2f | %.2f (%.2f/Mbit/s) | %.2f (%.2f/Mbit/s) | %.2f (%.2f/Mbit/s) "
              "| %s | %s | %.2f |" %
              (row["stream"], row["mbps"], s, row["stripecast_cpu_pct_per_mbps"], i0,
               row["icecast2_0_cpu_pct_per_mbps"], i_n,
               row["icecast2_%d_cpu_pct_per_mbps" % n], ratio(s, i0), ratio(s, i_n),
               row["overlay_cpu_pct"]))
        ok = ok and row["ffmpeg_exit"] == 0 and row["stripecast_ingest_bytes"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
