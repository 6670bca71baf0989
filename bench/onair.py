#!/usr/bin/env python3
"""bench/onair.py — a station on the air at scale, on loopback: `stripecast
listen` processes hosting --listeners peers (--per-proc a process), a
`stripecast broadcast --http` peer, and ffmpeg pushing a live Ogg Opus stream
to it by HTTP PUT, its bytes also written to a file by the same muxer (`-f
tee`, bit-exact). During the stream --late more listeners join the running
station one after another, a process each.

It reports, as JSON on stdout (and --out/summary.json):
  * every listener's output against what the encoder sent (sha256; a late
    listener's output must be the codec headers then a tail of the encoder's
    bytes) and its output continuity;
  * encoder-to-listener latency: for each generation a listener's output
    wrote, the write time minus the time its first byte reached the
    broadcaster (the output's write_latency histogram, merged);
  * press play to first byte of the late listeners (process start to the
    first byte its output wrote, and to the first generation delivered);
  * the broadcasting peer's UDP payload and IP bytes (payload + 28 a datagram)
    over the stream, against the stream's bytes;
  * CPU seconds and peak RSS of every process, the load average seen.

Progress on stderr. Exit 0 when every listener is byte-exact with
continuity 1, 1 otherwise, 2 on a usage error.
"""
import argparse
import glob
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

from benchlib import cpu_s, loadavg, station_key


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATION = "/live.opus"
PW = "onair-bench"
IP_UDP_HEADER_BYTES = 28  # IPv4 (20) + UDP (8) a datagram


def log(msg):
    print("onair: " + msg, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/onair.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--listeners", type=int, default=500,
                   help="listening peers in all, the late ones included (default 500)")
    p.add_argument("--late", type=int, default=30,
                   help="of them, listeners joining the running station (default 30)")
    p.add_argument("--per-proc", type=int, default=50,
                   help="peers a listen process hosts (default 50)")
    p.add_argument("--duration-s", type=int, default=120, help="stream length (default 120)")
    p.add_argument("--bitrate", default="128k", help="Opus bitrate (default 128k)")
    p.add_argument("--page-ms", type=int, default=0,
                   help="the Ogg muxer's page duration (ffmpeg -page_duration; default "
                   "0: ffmpeg's own, 1 s)")
    p.add_argument("--base-port", type=int, default=44000,
                   help="first listener's UDP port; the broadcaster takes base-1, its "
                   "HTTP ingest base-2 (default 44000)")
    p.add_argument("--settle-s", type=float, default=180,
                   help="longest wait for the listeners to attach (default 180)")
    p.add_argument("--spread-s", type=float, default=1.0,
                   help="pause between starting listen processes (default 1)")
    p.add_argument("--peer-args", default="", help="more flags for every stripecast process")
    p.add_argument("--out", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "onair"),
                   help="outputs, counters, logs and summary.json (default $TMPDIR/onair)")
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "stripecast"),
                   help="stripecast (default build/stripecast)")
    a = p.parse_args(argv)
    if a.listeners < 1 or not 0 <= a.late < a.listeners or a.per_proc < 1:
        p.error("need 0 <= --late < --listeners and --per-proc >= 1")
    if a.duration_s < 30:
        p.error("--duration-s of at least 30")
    return a


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def proc_cpu_s(pid):
    """utime + stime of a live process; None when it is gone."""
    try:
        return cpu_s(pid)
    except (OSError, IndexError, ValueError):
        return None


def hist_merge(into, pairs):
    for ms, n in pairs:
        into[ms] = into.get(ms, 0) + n


def hist_pct(h, pct):
    total = sum(h.values())
    if total == 0:
        return None
    want = pct / 100.0 * total
    acc = 0
    for ms in sorted(h):
        acc += h[ms]
        if acc >= want:
            return ms
    return max(h)


def pcts(values):
    v = sorted(x for x in values if x is not None and x >= 0)
    if not v:
        return {"n": 0}
    def q(p):
        return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]
    return {"n": len(v), "p50": q(50), "p95": q(95), "max": v[-1]}


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


class Bench:
    def __init__(self, a):
        self.a = a
        self.out = os.path.abspath(a.out)
        for sub in ("out", "stats", "logs"):
            os.makedirs(os.path.join(self.out, sub), exist_ok=True)
        for f in glob.glob(os.path.join(self.out, "*", "*")):
            os.unlink(f)
        self.key, self.pk = station_key(a.binary, self.out)
        self.procs = []  # (name, popen, peers)
        self.load = []
        self.extra = a.peer_args.split()

    def start(self, name, args, peers):
        err = open(os.path.join(self.out, "logs", name + ".log"), "w")
        p = subprocess.Popen([self.a.binary] + args + self.extra, stdout=subprocess.DEVNULL,
                             stderr=err)
        self.procs.append((name, p, peers))
        return p

    def listen_args(self, port, peers, stats, join=True):
        a = self.a
        args = ["listen", "--station", STATION + "@" + self.pk, "--listen", "127.0.0.1:%d" % port]
        if join:
            args += ["--join", "127.0.0.1:%d" % a.base_port]
        if peers > 1:
            args += ["--peers", str(peers)]
        args += ["--output", os.path.join(self.out, "out", "%p.opus" if peers > 1 else
                                          "%d.opus" % port),
                 "--stats", stats, "--stats-interval-ms", "5000"]
        return args

    def sample_load(self):
        self.load.append(loadavg()[0])

    def run(self):
        a = self.a
        initial = a.listeners - a.late
        nproc = (initial + a.per_proc - 1) // a.per_proc
        port = a.base_port
        log("%d listeners in %d processes, then %d late" % (initial, nproc, a.late))
        for i in range(nproc):
            k = min(a.per_proc, initial - i * a.per_proc)
            self.start("listen-%d" % i,
                       self.listen_args(port, k, os.path.join(self.out, "stats",
                                                             "proc-%d.json" % i), join=i > 0),
                       k)
            port += k
            time.sleep(a.spread_s)
        late_port = port
        pwfile = os.path.join(self.out, "pw")
        with open(pwfile, "w") as f:
            f.write(PW + "\n")
        http = a.base_port - 2
        bstats = os.path.join(self.out, "stats", "broadcaster.json")
        bc = self.start("broadcaster",
                        ["broadcast", "--station", STATION, "--key", self.key, "--listen",
                         "127.0.0.1:%d" % (a.base_port - 1), "--join",
                         "127.0.0.1:%d" % a.base_port, "--http", "127.0.0.1:%d" % http,
                         "--source-password-file", pwfile, "--stats", bstats,
                         "--stats-interval-ms", "1000"], 0)
        # Every listener attached in all its stripes.
        t0 = time.time()
        while True:
            self.sample_load()
            att = 0
            for i in range(nproc):
                st = read_json(os.path.join(self.out, "stats", "proc-%d.json" % i))
                att += st["totals"]["attached_all"] if st else 0
            if att >= initial or time.time() - t0 > a.settle_s:
                break
            for name, p, _ in self.procs:
                if p.poll() is not None:
                    raise SystemExit("onair: %s exited %d at start" % (name, p.returncode))
            time.sleep(2)
        log("%d of %d attached after %.0f s" % (att, initial, time.time() - t0))
        time.sleep(5)  # the broadcaster's own stripe roots
        ref = os.path.join(self.out, "encoder.opus")
        url = "icecast://source:%s@127.0.0.1:%d%s" % (PW, http, STATION)
        page = ":page_duration=%d" % (a.page_ms * 1000) if a.page_ms else ""
        ff = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
              "sine=f=440:d=%d" % a.duration_s, "-fflags", "+bitexact", "-c:a", "libopus",
              "-b:a", a.bitrate, "-map", "0:a", "-f", "tee",
              "[f=ogg:content_type=audio/ogg%s]%s|[f=ogg%s]%s" % (page, url, page, ref)]
        self.snapshot(bc, bstats, "start")
        t_ff = time.time()
        enc = subprocess.Popen(ff, stderr=open(os.path.join(self.out, "logs", "ffmpeg.log"), "w"))
        # Late listeners from 20 s in to 20 s before the end, evenly.
        span = a.duration_s - 40
        late = []
        for j in range(a.late):
            at = t_ff + 20 + (span * j / max(1, a.late - 1) if a.late > 1 else 0)
            while time.time() < at:
                self.sample_load()
                time.sleep(min(1.0, max(0.0, at - time.time())))
            lp = late_port + j
            self.start("late-%d" % lp,
                       self.listen_args(lp, 1, os.path.join(self.out, "stats",
                                                            "late-%d.json" % lp)), 1)
            late.append(lp)
        while enc.poll() is None:
            self.sample_load()
            time.sleep(1)
        if enc.returncode != 0:
            raise SystemExit("onair: ffmpeg exited %d" % enc.returncode)
        self.snapshot(bc, bstats, "end")
        log("encoder done after %.1f s" % (time.time() - t_ff))
        time.sleep(3)  # the last generation's way down the trees
        bc.send_signal(signal.SIGTERM)
        # END reaches the listeners: they leave by themselves.
        deadline = time.time() + 60
        for name, p, _ in self.procs:
            try:
                p.wait(timeout=max(1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                log("%s still running: SIGTERM" % name)
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        return self.analyse(ref, late)

    def snapshot(self, bc, path, name):
        """The broadcaster's counters now (SIGUSR1 writes them)."""
        before = (read_json(path) or {}).get("time_ns")
        bc.send_signal(signal.SIGUSR1)
        for _ in range(50):
            st = read_json(path)
            if st and st.get("time_ns") != before:
                break
            time.sleep(0.05)
        setattr(self, "bc_" + name, (st, proc_cpu_s(bc.pid), time.time()))

    def analyse(self, ref, late):
        a = self.a
        want = open(ref, "rb").read()
        want_sha = hashlib.sha256(want).hexdigest()
        bad = []
        cont = []
        wlat, nlat = {}, {}
        startup_write, startup_gen = [], []
        cpu, rss = [], []
        peers_total = 0
        for f in sorted(glob.glob(os.path.join(self.out, "stats", "*.json"))):
            st = read_json(f)
            name = os.path.basename(f)
            if name == "broadcaster.json" or st is None:
                continue
            cpu.append(st["cpu_s"])
            rss.append(st["max_rss_kb"])
            peers_total += st["hosted"]
            for p in st["peers"]:
                o = p["output"]
                cont.append(o["continuity"])
                hist_merge(wlat, o["write_latency_hist_ms"])
                hist_merge(nlat, p["stream"]["latency_hist_ms"])
                port = int(p["addr"].rsplit(":", 1)[1])
                path = os.path.join(self.out, "out", "%d.opus" % port)
                got = open(path, "rb").read() if os.path.exists(path) else b""
                if port in late:
                    startup_write.append(p["startup"]["first_write_ms"])
                    startup_gen.append(p["startup"]["first_byte_ms"])
                    ok = late_ok(got, want)
                else:
                    ok = hashlib.sha256(got).hexdigest() == want_sha
                if not ok or o["continuity"] != 1.0:
                    bad.append({"port": port, "late": port in late, "bytes": len(got),
                                "exact": ok, "continuity": o["continuity"]})
        b0, cpu0, t0 = self.bc_start
        b1, cpu1, t1 = self.bc_end
        bfinal = read_json(os.path.join(self.out, "stats", "broadcaster.json"))
        def wire(s0, s1):
            p0 = s0["peers"][0] if s0 else {"bytes_out": 0, "dgrams_out": 0}
            p1 = s1["peers"][0]
            i0 = s0["ingest"]["bytes_in"] if s0 else 0
            stream = s1["ingest"]["bytes_in"] - i0
            payload = p1["bytes_out"] - p0["bytes_out"]
            dgrams = p1["dgrams_out"] - p0["dgrams_out"]
            ip = payload + IP_UDP_HEADER_BYTES * dgrams
            return {"stream_bytes": stream, "udp_payload_bytes": payload, "dgrams": dgrams,
                    "ip_bytes": ip, "payload_ratio": round(payload / stream, 4) if stream else None,
                    "ip_ratio": round(ip / stream, 4) if stream else None}
        rc = [(n, p.returncode) for n, p, _ in self.procs if p.returncode != 0]
        summary = {
            "listeners": len(cont), "late": len(late), "expected": a.listeners,
            "per_proc": a.per_proc, "duration_s": a.duration_s, "bitrate": a.bitrate,
            "page_ms": a.page_ms or None,
            "encoder_bytes": len(want),
            "byte_exact_and_continuity_1": len(cont) - len(bad), "bad": bad[:20],
            "continuity_min": min(cont) if cont else None,
            "write_latency_ms": {"n": sum(wlat.values()), "p50": hist_pct(wlat, 50),
                                 "p95": hist_pct(wlat, 95), "p99": hist_pct(wlat, 99),
                                 "max": max(wlat) if wlat else None},
            "delivery_latency_ms": {"n": sum(nlat.values()), "p50": hist_pct(nlat, 50),
                                    "p95": hist_pct(nlat, 95), "p99": hist_pct(nlat, 99),
                                    "max": max(nlat) if nlat else None},
            "late_first_write_ms": pcts(startup_write),
            "late_first_gen_ms": pcts(startup_gen),
            "broadcaster_stream_window": wire(b0, b1),
            "broadcaster_whole_run": wire(None, bfinal),
            "broadcaster_cpu_s_stream_window": round(cpu1 - cpu0, 2) if cpu0 is not None
            and cpu1 is not None else None,
            "stream_window_s": round(t1 - t0, 1),
            "broadcaster_max_rss_kb": bfinal["max_rss_kb"],
            "listener_processes": len(cpu), "listener_peers": peers_total,
            "listener_cpu_s_total": round(sum(cpu), 1),
            "listener_rss_kb_total": sum(rss),
            "rss_kb_per_peer": round(sum(rss) / peers_total) if peers_total else None,
            "loadavg_1min": {"min": min(self.load), "max": max(self.load),
                             "mean": round(sum(self.load) / len(self.load), 2)}
            if self.load else None,
            "bad_exit": rc,
        }
        with open(os.path.join(self.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        print(json.dumps(summary, indent=1))
        return 0 if not bad and len(cont) == a.listeners and not rc else 1


def ogg_pages(b):
    """Offsets of the Ogg pages of b (capture pattern and whole headers)."""
    offs, i = [], 0
    while i + 27 <= len(b) and b[i:i + 4] == b"OggS":
        n = b[i + 26]
        size = 27 + n + sum(b[i + 27:i + 27 + n])
        offs.append(i)
        i += size
    return offs, i


def late_ok(got, want):
    """A late listener: the encoder's codec header pages (its first two), then
    every page from some page on, to the end."""
    offs, end = ogg_pages(want)
    if len(offs) < 3:
        return False
    head = want[:offs[2]]
    if not got.startswith(head):
        return False
    tail = got[len(head):]
    return len(tail) > 0 and want.endswith(tail) and (len(want) - len(tail)) in offs


def main(argv):
    a = parse_args(argv)
    b = Bench(a)
    try:
        return b.run()
    finally:
        for _, p, _ in b.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
