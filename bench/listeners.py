#!/usr/bin/env python3
"""bench/listeners.py — N concurrent HTTP listeners on one stripecast peer
beside icecast2 serving the same stream on the same machine: CPU time and
memory per listener, for both, and the ratio stripecast / icecast2.

One ffmpeg pushes a 128 kbit/s Ogg Opus stream (a file encoded beforehand
with CBR, sent in real time: -re, -c copy) through its tee muxer to icecast2
(a generated icecast.xml on loopback) and to `stripecast broadcast --http`,
whose station reaches a `stripecast listen --http` peer through the overlay:
the listening peer is the one that serves a household or a relay. With
--servers ...,broadcaster the broadcaster's own --http is measured too.

Per server: the CPU time (utime + stime of /proc/PID/stat, every thread)
over a window with no client (--base-s) and over the hold window with N
clients (--hold-s), VmRSS (/proc/PID/status) before the clients and at the
end of the hold. CPU per listener = (CPU rate with N - CPU rate with 0) / N,
stated as ms of CPU per listener per minute; memory per listener =
(RSS_N - RSS_0) / N.

The clients are one python3 process per server (this script, --client),
selectors over non-blocking sockets: each sends a GET and reads and discards,
counting its bytes. Over the hold window a client that received less than
--min-frac of the stream's rate, or whose connection closed, is a failure.

Progress on stderr, a JSON summary on stdout (and --out/summary.json), a
markdown table on stderr. Exit 0 when every client of every server held the
stream, 1 otherwise, 2 on a usage error.
"""
import argparse
import json
import os
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time

from benchlib import cpu_s, icecast_argv, icecast_conf, loadavg, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PW = "listeners-bench"
MOUNT = "/live.opus"
RECV_BYTES = 65536
HEAD_MAX_BYTES = 16384  # an answer head longer than this is a failure
FD_SPARE = 256  # descriptors beyond the clients: logs, pipes, the servers' own


def log(msg):
    print("listeners: " + msg, file=sys.stderr, flush=True)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    if hard != resource.RLIM_INFINITY and hard < want:
        raise SystemExit("listeners: RLIMIT_NOFILE hard limit %d < %d needed" % (hard, want))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


# ---------------------------------------------------------------- the client


class Client:
    __slots__ = ("sock", "state", "head", "status", "bytes", "closed", "last_rx", "max_gap")

    def __init__(self, sock):
        self.sock = sock
        self.state = "connect"
        self.head = b""
        self.status = None
        self.bytes = 0  # body bytes
        self.closed = None  # why, once closed
        self.last_rx = None
        self.max_gap = 0.0


def client_main(a):
    """N connections to one server; prints one JSON object on stdout."""
    raise_nofile(a.clients + FD_SPARE)
    sel = selectors.DefaultSelector()
    req = ("GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: listeners-bench\r\n"
           "Icy-MetaData: 0\r\n\r\n" % (a.path, a.host, a.port)).encode()
    clients = []
    t_start = time.time()
    snap = {}
    marks = [("hold0", a.hold_start), ("hold1", a.hold_end)]

    def close(c, why):
        if c.closed is None:
            c.closed = why
            try:
                sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
        c = Client(s)
        clients.append(c)
        rv = s.connect_ex((a.host, a.port))
        if rv not in (0, 115):  # EINPROGRESS
            close(c, "connect %d" % rv)
            return
        sel.register(s, selectors.EVENT_WRITE, c)

    def on_event(c, mask, now):
        if c.state == "connect":
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                close(c, "connect %d" % err)
                return
            try:
                c.sock.send(req)  # small: fits an empty send buffer whole
            except OSError as e:
                close(c, "send %s" % e.errno)
                return
            c.state = "head"
            sel.modify(c.sock, selectors.EVENT_READ, c)
            return
        try:
            data = c.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError as e:
            close(c, "recv %s" % e.errno)
            return
        if not data:
            close(c, "eof")
            return
        if c.last_rx is not None and c.state == "body":
            c.max_gap = max(c.max_gap, now - c.last_rx)
        c.last_rx = now
        if c.state == "head":
            c.head += data
            end = c.head.find(b"\r\n\r\n")
            if end < 0:
                if len(c.head) > HEAD_MAX_BYTES:
                    close(c, "head too long")
                return
            line = c.head.split(b"\r\n", 1)[0].split()
            c.status = int(line[1]) if len(line) > 1 and line[1].isdigit() else -1
            c.bytes = len(c.head) - end - 4
            c.head = b""
            c.state = "body"
            if c.status != 200:
                close(c, "status %d" % c.status)
            return
        c.bytes += len(data)

    while True:
        now = time.time()
        # Connect in batches, pacing the server's accept queue.
        while len(clients) < a.clients and now >= t_start + len(clients) / a.connect_rate:
            open_one()
        for name, at in marks:
            if name not in snap and now >= at:
                snap[name] = ([c.bytes if c.closed is None else -1 for c in clients], now)
                if name == "hold0":
                    for c in clients:
                        c.max_gap = 0.0  # the gap that counts is the hold's
        if now >= a.hold_end and len(snap) == len(marks):
            break
        timeout = 0.05 if len(clients) < a.clients else 0.5
        for key, mask in sel.select(timeout):
            on_event(key.data, mask, now)
    b0, t0 = snap["hold0"]
    b1, t1 = snap["hold1"]
    window = t1 - t0
    per = []
    fails = {}
    for i, c in enumerate(clients):
        if c.closed is not None or b0[i] < 0:
            why = c.closed or "closed before the hold"
            key = why.split()[0] if not why.startswith("status") else why
            fails[key] = fails.get(key, 0) + 1
            per.append(0)
            continue
        per.append(b1[i] - b0[i])
    ok = [b for i, b in enumerate(per) if clients[i].closed is None]
    gaps = sorted(c.max_gap for c in clients if c.closed is None)
    out = {
        "clients": len(clients), "open_at_end": len(ok), "closed": fails,
        "window_s": round(window, 2),
        "bytes_total": sum(per),
        "per_client_bytes": {"min": min(ok) if ok else 0,
                             "median": int(statistics.median(ok)) if ok else 0,
                             "max": max(ok) if ok else 0},
        "per_client_kbps": {"min": round(min(ok) * 8 / window / 1000, 1) if ok else 0,
                            "median": round(statistics.median(ok) * 8 / window / 1000, 1)
                            if ok else 0},
        "max_gap_s": {"median": round(statistics.median(gaps), 2) if gaps else None,
                      "max": round(gaps[-1], 2) if gaps else None},
        "per_client": per,
    }
    for c in clients:
        if c.closed is None:
            c.sock.close()
    print(json.dumps(out))
    return 0


# ---------------------------------------------------------------- the servers


def mount_up(port, timeout):
    """Until GET MOUNT answers 200 with body bytes."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(("GET %s HTTP/1.0\r\n\r\n" % MOUNT).encode())
            got = b""
            while b"\r\n\r\n" not in got or len(got) < got.find(b"\r\n\r\n") + 5:
                d = s.recv(4096)
                if not d:
                    break
                got += d
            s.close()
            if got.startswith(b"HTTP/1.0 200") or got.startswith(b"HTTP/1.1 200") or \
                    got.startswith(b"ICY 200"):
                if len(got) > got.find(b"\r\n\r\n") + 4:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


class Bench:
    def __init__(self, a):
        self.a = a
        self.procs = []
        self.load = []

    def spawn(self, name, argv, **kw):
        err = open(os.path.join(self.a.out, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", subprocess.DEVNULL), stderr=err,
                             **kw)
        self.procs.append(p)
        return p

    def icecast(self, port):
        a = self.a
        tmp = os.path.join(a.out, "icecast2")
        os.makedirs(tmp, exist_ok=True)
        # Icecast's burst in bytes, as stripecast's --burst-s at the stream's rate.
        conf = icecast_conf(tmp, port, PW, clients=a.clients + 64, queue_bytes=2097152,
                            burst_bytes=int(a.burst_s * a.kbps * 1000 / 8))
        p = self.spawn("icecast2", icecast_argv(conf, tmp))
        wait_port(port, "listeners")
        return p

    def encode(self):
        a = self.a
        src = os.path.join(a.out, "stream-%dk-%ds.opus" % (a.kbps, a.duration_s))
        if not os.path.exists(src):
            log("encoding %s" % src)
            # Noise, CBR: the stream's rate is the nominal one all along.
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                            "-i", "anoisesrc=c=pink:r=48000:a=0.2:d=%d" % a.duration_s,
                            "-ac", "2", "-c:a", "libopus", "-b:a", "%dk" % a.kbps,
                            "-vbr", "off", "-f", "ogg", src + ".part"], check=True)
            os.rename(src + ".part", src)
        return src

    def sample_load(self):
        self.load.append(loadavg()[0])

    def sleep(self, s):
        end = time.time() + s
        while time.time() < end:
            self.sample_load()
            time.sleep(min(1.0, max(0.0, end - time.time())))

    def run(self):
        a = self.a
        src = self.encode()
        stream_bps = os.path.getsize(src) * 8 / a.duration_s
        pwfile = os.path.join(a.out, "pw")
        with open(pwfile, "w") as f:
            f.write(PW + "\n")
        keyfile = os.path.join(a.out, "station.key")
        if not os.path.exists(keyfile):
            subprocess.run([a.binary, "keygen", "--out", keyfile], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        key = None
        base = a.base_port
        ports = {"icecast2": base - 20, "broadcaster": base - 10, "listener": base - 5}
        maxl = ["--max-listeners", str(a.clients + 16), "--burst-s", str(a.burst_s)]
        bc = self.spawn("broadcaster",
                        [a.binary, "broadcast", "--station", MOUNT, "--key", keyfile,
                         "--listen", "127.0.0.1:%d" % (base - 1), "--http",
                         "127.0.0.1:%d" % ports["broadcaster"], "--source-password-file",
                         pwfile, "--stats", os.path.join(a.out, "broadcaster.json")] + maxl)
        # The station's id, as the broadcaster prints it.
        end = time.time() + 10
        while key is None and time.time() < end:
            with open(os.path.join(a.out, "broadcaster.log")) as f:
                for line in f:
                    if "station " in line and "@" in line:
                        for w in line.split():
                            if w.startswith(MOUNT + "@"):
                                key = w
            time.sleep(0.2)
        if key is None:
            raise SystemExit("listeners: the broadcaster printed no station key")
        wait_port(ports["broadcaster"], "listeners")
        ln = self.spawn("listener",
                        [a.binary, "listen", "--station", key, "--listen",
                         "127.0.0.1:%d" % base, "--join", "127.0.0.1:%d" % (base - 1),
                         "--http", str(ports["listener"]), "--stats",
                         os.path.join(a.out, "listener.json")] + maxl)
        ic = self.icecast(ports["icecast2"])
        wait_port(ports["listener"], "listeners")
        self.sleep(a.settle_s)  # the listener in the station's trees
        url = "icecast://source:%s@127.0.0.1:%%d%s" % (PW, MOUNT)
        outs = "|".join("[f=ogg:content_type=audio/ogg]%s" % (url % ports[k])
                        for k in ("broadcaster", "icecast2"))
        ff = self.spawn("ffmpeg", ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i",
                                   src, "-c", "copy", "-map", "0", "-f", "tee", outs])
        t_ff = time.time()
        servers = {"listener": ln, "icecast2": ic, "broadcaster": bc}
        for name in a.servers:
            if not mount_up(ports[name], 30):
                raise SystemExit("listeners: %s does not serve %s" % (name, MOUNT))
            log("%s serves %s" % (name, MOUNT))
        # No client: the servers' own cost of the stream.
        self.sleep(max(0.0, 5 - (time.time() - t_ff)))
        c0 = {k: cpu_s(p.pid) for k, p in servers.items()}
        t0 = time.time()
        self.sleep(a.base_s)
        c1 = {k: cpu_s(p.pid) for k, p in servers.items()}
        t1 = time.time()
        rss0 = {k: rss_kb(p.pid) for k, p in servers.items()}
        # The clients, all servers at once.
        ramp_s = a.clients / a.connect_rate
        hold0 = time.time() + ramp_s + a.ramp_settle_s
        hold1 = hold0 + a.hold_s
        if hold1 - t_ff > a.duration_s - 10:
            raise SystemExit("listeners: the stream (%d s) ends before the hold; raise "
                             "--duration-s" % a.duration_s)
        cl = {}
        for name in a.servers:
            cl[name] = self.spawn(
                "client-" + name,
                [sys.executable, os.path.abspath(__file__), "--client", "--port",
                 str(ports[name]), "--path", MOUNT, "--clients", str(a.clients),
                 "--connect-rate", str(a.connect_rate), "--hold-start", repr(hold0),
                 "--hold-end", repr(hold1)], stdout=subprocess.PIPE)
        log("%d clients to each of %s, hold %.0f s from %.0f s on" %
            (a.clients, ",".join(a.servers), a.hold_s, hold0 - time.time()))
        self.sleep(max(0.0, hold0 - time.time()))
        h0 = {k: cpu_s(p.pid) for k, p in servers.items()}
        th0 = time.time()
        load_hold = []
        while time.time() < hold1:
            self.sleep(min(5.0, max(0.0, hold1 - time.time())))
            load_hold.append(loadavg()[0])
        h1 = {k: cpu_s(p.pid) for k, p in servers.items()}
        th1 = time.time()
        rssn = {k: rss_kb(p.pid) for k, p in servers.items()}
        thr = {k: threads(p.pid) for k, p in servers.items()}
        counts = {}
        for name, p in cl.items():
            out, _ = p.communicate(timeout=60)
            counts[name] = json.loads(out.decode() or "{}") if p.returncode == 0 else {}
        ff_alive = ff.poll() is None
        rows = {}
        window_expect = stream_bps / 8 * (th1 - th0)
        for name in ["listener", "icecast2", "broadcaster"]:
            base_rate = (c1[name] - c0[name]) / (t1 - t0)
            hold_rate = (h1[name] - h0[name]) / (th1 - th0)
            row = {"cpu_pct_0": round(100 * base_rate, 2),
                   "cpu_pct_n": round(100 * hold_rate, 2),
                   "rss_kb_0": rss0[name], "rss_kb_n": rssn[name], "threads": thr[name]}
            if name in a.servers:
                n = a.clients
                c = counts[name]
                row["cpu_ms_per_listener_min"] = round((hold_rate - base_rate) * 60000 / n, 3)
                row["cpu_pct_per_listener"] = round(100 * (hold_rate - base_rate) / n, 5)
                row["rss_kb_per_listener"] = round((rssn[name] - rss0[name]) / n, 2)
                held = [b for b in c.get("per_client", []) if b >= a.min_frac * window_expect]
                row["clients"] = {k: v for k, v in c.items() if k != "per_client"}
                row["clients"]["held_stream"] = len(held)
                row["clients"]["failed"] = n - len(held)
            rows[name] = row
        ratio = {}
        if "listener" in rows and "cpu_ms_per_listener_min" in rows["listener"]:
            for k in ("cpu_ms_per_listener_min", "rss_kb_per_listener"):
                i = rows["icecast2"][k]
                ratio["listener/icecast2 " + k] = round(rows["listener"][k] / i, 2) if i else None
        if "cpu_ms_per_listener_min" in rows["broadcaster"]:
            for k in ("cpu_ms_per_listener_min", "rss_kb_per_listener"):
                i = rows["icecast2"][k]
                ratio["broadcaster/icecast2 " + k] = round(rows["broadcaster"][k] / i, 2) \
                    if i else None
        summary = {
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "clients_per_server": a.clients, "servers": a.servers,
            "stream_kbps": round(stream_bps / 1000, 1), "base_window_s": round(t1 - t0, 1),
            "hold_window_s": round(th1 - th0, 1),
            "expected_bytes_per_client": int(window_expect), "min_frac": a.min_frac,
            "ffmpeg_running_at_end": ff_alive, "burst_s": a.burst_s,
            "loadavg_1min": {"min": min(self.load), "max": max(self.load),
                             "mean": round(sum(self.load) / len(self.load), 2),
                             "hold_mean": round(sum(load_hold) / len(load_hold), 2)
                             if load_hold else None},
            "cpus": os.cpu_count(), "servers_measured": rows, "ratios": ratio,
        }
        return summary


def table(s):
    rows = s["servers_measured"]
    lines = ["| server | CPU %%, 0 clients | CPU %%, %d clients | CPU ms / listener / min | "
             "RSS 0 (KB) | RSS N (KB) | RSS KB / listener | clients held / failed | "
             "min / median kbit/s |" % s["clients_per_server"],
             "|---|---|---|---|---|---|---|---|---|"]
    for name in s["servers"]:
        r = rows[name]
        c = r["clients"]
        kbps = c.get("per_client_kbps", {"min": 0.0, "median": 0.0})
        lines.append("| %s | %.2f | %.2f | %.2f | %d | %d | %.1f | %d / %d | %.1f / %.1f |" % (
            name, r["cpu_pct_0"], r["cpu_pct_n"], r["cpu_ms_per_listener_min"], r["rss_kb_0"],
            r["rss_kb_n"], r["rss_kb_per_listener"], c["held_stream"], c["failed"],
            kbps["min"], kbps["median"]))
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/listeners.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=1000,
                   help="concurrent HTTP listeners on each server (default 1000)")
    p.add_argument("--servers", default="listener,icecast2",
                   help="comma-separated, of listener (stripecast listen --http), icecast2, "
                   "broadcaster (stripecast broadcast --http) (default listener,icecast2)")
    p.add_argument("--hold-s", type=float, default=60, help="hold window (default 60)")
    p.add_argument("--base-s", type=float, default=20,
                   help="window with the stream and no client (default 20)")
    p.add_argument("--kbps", type=int, default=128, help="the stream's rate (default 128)")
    p.add_argument("--burst-s", type=int, default=2,
                   help="a new client's burst, both servers: stripecast --burst-s, "
                   "icecast2 <burst-size> as many bytes (default 2)")
    p.add_argument("--connect-rate", type=float, default=400,
                   help="clients connected a second, per server (default 400)")
    p.add_argument("--ramp-settle-s", type=float, default=10,
                   help="from the last connection to the hold (default 10)")
    p.add_argument("--settle-s", type=float, default=10,
                   help="the listening peer's time to join the station (default 10)")
    p.add_argument("--duration-s", type=int, default=0,
                   help="stream length (default: what the run needs, plus 30 s)")
    p.add_argument("--min-frac", type=float, default=0.8,
                   help="a client that received less than this fraction of the stream's "
                   "bytes over the hold is a failure (default 0.8)")
    p.add_argument("--base-port", type=int, default=46000,
                   help="the listening peer's UDP port; the servers take ports below it "
                   "(default 46000)")
    p.add_argument("--out", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                 "listeners"),
                   help="the encoded stream, logs, summary.json (default $TMPDIR/listeners)")
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "stripecast"),
                   help="stripecast (default build/stripecast)")
    # The client process (internal).
    p.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--path", default=MOUNT, help=argparse.SUPPRESS)
    p.add_argument("--hold-start", type=float, help=argparse.SUPPRESS)
    p.add_argument("--hold-end", type=float, help=argparse.SUPPRESS)
    p.add_argument("--rcvbuf", type=int, default=65536, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.servers = [x for x in a.servers.split(",") if x]
    for x in a.servers:
        if x not in ("listener", "icecast2", "broadcaster"):
            p.error("unknown server " + x)
    if "icecast2" not in a.servers and not a.client:
        p.error("--servers must include icecast2: it is the reference")
    if not 1 <= a.clients <= 4000:
        p.error("--clients from 1 to 4000")
    if not a.duration_s:
        a.duration_s = int(a.settle_s + 5 + a.base_s + a.clients / a.connect_rate +
                           a.ramp_settle_s + a.hold_s + 30)
    return a


def main(argv):
    a = parse_args(argv)
    if a.client:
        return client_main(a)
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    # Every server and client holds N sockets; children inherit the limit.
    raise_nofile(a.clients * 2 + FD_SPARE)
    b = Bench(a)
    try:
        s = b.run()
    finally:
        for q in b.procs:
            if q.poll() is None:
                q.send_signal(signal.SIGTERM)
        for q in b.procs:
            try:
                q.wait(timeout=10)
            except subprocess.TimeoutExpired:
                q.kill()
                q.wait()
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(s, f, indent=1)
    print(table(s), file=sys.stderr)
    for k, v in s["ratios"].items():
        print("%s: %s" % (k, v), file=sys.stderr)
    print(json.dumps(s, indent=1))
    ok = all(s["servers_measured"][n]["clients"]["failed"] == 0 for n in a.servers)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
