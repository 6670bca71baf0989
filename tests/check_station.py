#!/usr/bin/env python3
"""check_station.py STRIPECAST SCENARIO — a station end to end on loopback:
real `stripecast broadcast` and `stripecast listen` processes, their outputs
and --stats checked here.

  restart       the source is SIGKILLed mid-broadcast and a new one starts
                1 s later: the listener's output holds the old source's bytes,
                then the new source's from its start, and the counters say
                what was lost between.
  two_sources   a second source starts while the first goes on: after the
                switch only the later epoch's bytes are written.
  late_ogg      an Ogg Opus file made by ffmpeg, broadcast; a listener that
                joins 5 s late starts from generations its parents hold,
                writes the codec headers first and decodes
                with zero errors (ffmpeg -v error), and began writing from
                the state a peer gave it on attaching, before the stream's
                next repeat of the state brought it.
  forged_state  a signed station whose every other peer, the broadcaster
                included, alters the state it gives a peer that asks
                (--forge-state): a late listener refuses each answer (the
                station's signature does not hold), writes nothing from
                them, and starts at the stream's own repeat of the state,
                with the true headers and title.
  first_listener  a broadcaster on the air alone, then its first listener:
                the stripes whose ids the listener is closer to have a new
                root, which the broadcaster locates at once (not at its
                30 s refresh), so the listener plays the rest of the
                broadcast, decoding cleanly.
  relay         a listener present from the start, among relaying peers,
                writes byte for byte what the source sent (sha256), and its
                counters say nothing was missed.
  paused        a listener whose reader pauses: the bounded queue drops whole
                records, and continuity < 1 with dropped bytes > 0 says so.

Every process must exit 0 by itself (listeners at the broadcast's END).
Timeouts only bound a hang; no verdict depends on timing.
Exit status 0 (pass), 1 (fail), 77 (skipped: a tool or a framer is missing).
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/stripecast"
SCENARIO = sys.argv[2] if len(sys.argv) > 2 else ""
SLOTS = {"restart": 0, "two_sources": 1, "late_ogg": 2, "relay": 3, "paused": 4,
         "forged_state": 5, "first_listener": 6}
# Each scenario 14 ports (addr(0) .. addr(10) used), seven in 100.
BASE = 24000 + (os.getpid() % 40) * 100 + SLOTS.get(SCENARIO, 0) * 14
HANG_S = 90  # bound on any wait: a hang, not a verdict
COMMON = ["--heartbeat-ms", "500"]


class Fail(Exception):
    pass


def log(msg):
    print(f"check_station {SCENARIO}: {msg}", file=sys.stderr, flush=True)


def addr(i):
    return f"127.0.0.1:{BASE + i}"


class Run:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []
        # A signed station, with a key of the test's own.
        self.key = os.path.join(tmp, "station.key")
        self.pk = subprocess.run([BIN, "keygen", "--out", self.key], check=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True).stdout.strip()

    def start(self, name, args, stdout=None):
        err = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen([BIN] + args + COMMON, stdout=stdout or subprocess.DEVNULL,
                             stderr=err)
        p.name = name
        self.procs.append(p)
        return p

    def listener(self, name, i, join, output=None, extra=(), stdout=None):
        a = ["listen", "--station", "/test.station@" + self.pk, "--listen", addr(i),
             "--stats", os.path.join(self.tmp, name + ".json")]
        if join is not None:
            a += ["--join", addr(join)]
        if output:
            a += ["--output", output]
        return self.start(name, a + list(extra), stdout)

    def broadcaster(self, name, i, join, source, extra=()):
        a = ["broadcast", "--station", "/test.station", "--key", self.key, "--listen",
             addr(i), "--source", source, "--eof-exit-ms", "3000",
             "--stats", os.path.join(self.tmp, name + ".json")]
        if join is not None:
            a += ["--join", addr(join)]
        return self.start(name, a + list(extra))

    def wait(self, p, timeout=HANG_S):
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"{p.name} did not exit within {timeout} s")
        return rc

    def expect_exit0(self, p, timeout=HANG_S):
        rc = self.wait(p, timeout)
        if rc != 0:
            raise Fail(f"{p.name} exited {rc}; see {self.tmp}/{p.name}.log")

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stats(self, name):
        with open(os.path.join(self.tmp, name + ".json")) as f:
            return json.load(f)


def text_file(path, tag, lines):
    """Lines no container framer mistakes for its own: opaque bytes."""
    with open(path, "w") as f:
        for i in range(lines):
            f.write(f"{tag} {i:07d} the quick brown fox jumps over the lazy dog\n")
    with open(path, "rb") as f:
        return f.read()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def output_of(st):
    return st["peers"][0]["output"]


def wait_playing(run, name, seconds=30):
    """Until the listener's stats (written every second) show it playing."""
    path = os.path.join(run.tmp, name + ".json")
    end = time.time() + seconds
    while time.time() < end:
        try:
            with open(path) as f:
                if json.load(f)["peers"][0]["output"]["playing"]:
                    return
        except (OSError, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.2)
    raise Fail(f"{name} never started playing")


def split_sources(out, a, b, tag_b):
    """out = (bytes of a) + (bytes of b): returns the two parts, checking that
    the first is a prefix of a and the second a contiguous piece of b."""
    cut = out.find(tag_b)
    if cut < 0:
        raise Fail("the new source's bytes never reached the output")
    # The switch happens at a record boundary, which is a line start only
    # by chance: back up to where b's bytes begin.
    part_a, part_b = out[:cut], out[cut:]
    # b's bytes before the cut may hold a newline (the tail of a line whose
    # start was missed): back up from where the output leaves a.
    common = 0
    while common < min(len(part_a), len(a)) and part_a[common] == a[common]:
        common += 1
    line_start = part_a.rfind(b"\n", 0, common) + 1
    # part_b may begin mid-line (a record boundary): find the b bytes it
    # starts with.
    if not a.startswith(part_a[:line_start]):
        raise Fail("the old source's bytes are not its stream's start")
    head = part_a[line_start:]
    for k in range(len(head) + 1):
        if b.find(head[k:] + part_b[:64]) >= 0 and a.find(part_a[:line_start] + head[:k]) == 0:
            return part_a[:line_start] + head[:k], head[k:] + part_b
    raise Fail("the output is not the old source's bytes followed by the new one's")


def scenario_restart(run, tmp):
    a = text_file(os.path.join(tmp, "a.txt"), "A", 60000)  # 3.5 MB: ~70 s
    b = text_file(os.path.join(tmp, "b.txt"), "B", 6000)  # 10 s
    run.listener("l0", 0, None)
    time.sleep(0.5)
    relays = [run.listener(f"r{i}", 1 + i, 0) for i in range(3)]
    out = os.path.join(tmp, "out.bin")
    lis = run.listener("listener", 5, 0, out, ["--stats-interval-ms", "1000"])
    src1 = run.broadcaster("src1", 10, 0, os.path.join(tmp, "a.txt"),
                           ["--rate-kbps", "400", "--start-delay-ms", "4000"])
    wait_playing(run, "listener")
    time.sleep(5)
    src1.send_signal(signal.SIGKILL)
    src1.wait()
    time.sleep(1)
    src2 = run.broadcaster("src2", 11, 0, os.path.join(tmp, "b.txt"),
                           ["--rate-kbps", "400"])
    run.expect_exit0(lis)
    run.expect_exit0(src2)
    got = read(out)
    part_a, part_b = split_sources(got, a, b, b"B 00")
    st = output_of(run.stats("listener"))
    log(f"output: {len(part_a)} bytes of the old source, {len(part_b)} of the new; "
        f"counters {st}")
    # The new source is heard from its start: its first bytes are the
    # output's next ones, or what is missing of them is counted.
    start = b.find(part_b[:4096])
    if start < 0:
        raise Fail("the new source's bytes are not contiguous")
    if start > 0 and st["gens_missed_at_start"] + st["gens_lost"] == 0:
        raise Fail(f"the new source's first {start} bytes are missing, uncounted")
    if start > 12 * 1024:
        raise Fail(f"the new source's first {start} bytes (more than a generation) "
                   "were not heard")
    if not b.endswith(part_b[-4096:]):
        raise Fail("the new source's end did not reach the output")
    if len(part_b) + start < len(b) and st["continuity"] >= 1.0:
        raise Fail("bytes of the new source are missing, uncounted")
    if st["epochs"] != 1:
        raise Fail(f"epochs {st['epochs']}, want 1")
    # The old source's last records were cut by its death: counted.
    if len(part_a) < len(a) and st["gens_lost"] + st["records_cut"] == 0 and \
            st["continuity"] >= 1.0:
        log("note: the old source's end was not missed by this listener")
    for r in relays:
        run.expect_exit0(r)


def scenario_two_sources(run, tmp):
    a = text_file(os.path.join(tmp, "a.txt"), "A", 12000)  # 20 s at 400 kbit/s
    b = text_file(os.path.join(tmp, "b.txt"), "B", 4000)
    run.listener("l0", 0, None)
    time.sleep(0.5)
    relays = [run.listener(f"r{i}", 1 + i, 0) for i in range(3)]
    out = os.path.join(tmp, "out.bin")
    lis = run.listener("listener", 5, 0, out, ["--stats-interval-ms", "1000"])
    src1 = run.broadcaster("src1", 10, 0, os.path.join(tmp, "a.txt"),
                           ["--rate-kbps", "400", "--start-delay-ms", "4000",
                            "--eof-exit-ms", "0"])
    wait_playing(run, "listener")
    time.sleep(4)
    src2 = run.broadcaster("src2", 11, 0, os.path.join(tmp, "b.txt"),
                           ["--rate-kbps", "400"])
    run.expect_exit0(lis)
    run.expect_exit0(src2)
    got = read(out)
    part_a, part_b = split_sources(got, a, b, b"B 00")
    if b"A 0" in part_b:
        raise Fail("the first source's bytes were written after the switch")
    st = output_of(run.stats("listener"))
    log(f"output: {len(part_a)} bytes of the first source, {len(part_b)} of the "
        f"second; counters {st}")
    if st["epochs"] != 1:
        raise Fail(f"epochs {st['epochs']}, want 1")
    run.expect_exit0(src1)
    for r in relays:
        run.expect_exit0(r)


def opus_tone(tmp, seconds, tagged=True):
    """An Ogg Opus file of a 440 Hz tone made by ffmpeg, tagged (OpusTags)
    "Test Tone" / "A 440" when tagged. Exits 77 (skipped) without ffmpeg."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        log("skipped: no ffmpeg")
        sys.exit(77)
    opus = os.path.join(tmp, "x.opus")
    tags = ["-metadata", "artist=Test Tone", "-metadata", "title=A 440"] if tagged else []
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", f"sine=f=440:d={seconds}",
                    "-c:a", "libopus", "-b:a", "64k"] + tags + [opus], check=True)
    return opus


def check_opus_start(got):
    """A late listener's output begins with the Opus headers: the codec's
    state comes first, however late it joined."""
    if not got.startswith(b"OggS") or got.find(b"OpusHead") != 28:
        raise Fail("the late listener's output does not begin with the Opus headers")


def check_decodes(path):
    """ffmpeg decodes path with zero errors: at -v error it prints nothing
    for a clean stream, so any line at all is a defect."""
    dec = subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-i", path, "-f", "null",
                          "-"], capture_output=True, text=True)
    if dec.returncode != 0 or dec.stderr.strip():
        raise Fail(f"ffmpeg: exit {dec.returncode}: {dec.stderr.strip()[:500]}")


def scenario_late_ogg(run, tmp):
    opus = opus_tone(tmp, 20)
    run.listener("l0", 0, None)
    time.sleep(0.5)
    relays = [run.listener(f"r{i}", 1 + i, 0) for i in range(3)]
    src = run.broadcaster("src", 10, 0, opus,
                          ["--start-delay-ms", "3000", "--stats-interval-ms", "500",
                           # No repeat while the late listener joins: it
                           # must start from the state a peer gives it.
                           "--state-every-ms", "60000"])
    # Joins about 5 s into the broadcast.
    time.sleep(3 + 5)
    try:
        ss = run.stats("src").get("station_source", {})
    except (OSError, ValueError):
        ss = {}
    if ss.get("header_sets", 0) == 0 or ss.get("media_us", -1) < 0:
        # Without the Ogg framer the file is opaque bytes at --rate-kbps: the
        # broadcast is over already and has no headers to test.
        log(f"skipped: this build's framer finds no Ogg headers or times ({ss})")
        sys.exit(77)
    out = os.path.join(tmp, "late.opus")
    lis = run.listener("late", 5, 0, out)
    run.expect_exit0(lis)
    run.expect_exit0(src)
    st = run.stats("src")
    info = st.get("station_source", {})
    if info.get("titles") != 1:
        raise Fail(f"the OpusTags title did not become the station's: {info}")
    got = read(out)
    check_opus_start(got)
    check_decodes(out)
    o = output_of(run.stats("late"))
    # It began writing before the stream brought the state again (the
    # source repeats it every 5 s): from the state its parent gave it on
    # attaching, not from the next repeat.
    if o.get("state_fetched", 0) < 1 or o.get("started_on_fetched_state") is not True:
        raise Fail(f"the late listener did not start from a fetched state: {o}")
    if o.get("title") != "Test Tone - A 440":
        raise Fail(f"the late listener's title is {o.get('title')!r}")
    # It began with generations its parents already held (the backfill),
    # not with the first one the stripes brought after it joined.
    stream = run.stats("late")["peers"][0].get("stream", {})
    if stream.get("backfill_asks", 0) < 1 or stream.get("backfilled_gens", 0) < 1:
        raise Fail("the late listener did not start from its parents' recent "
                   f"generations: {stream}")
    log(f"late listener: {len(got)} bytes, decodes cleanly; {o}; source {info}")
    for r in relays:
        run.expect_exit0(r)


def scenario_forged_state(run, tmp):
    opus = opus_tone(tmp, 24)
    forge = ["--forge-state"]
    run.listener("l0", 0, None, extra=forge)
    time.sleep(0.5)
    relays = [run.listener(f"r{i}", 1 + i, 0, extra=forge) for i in range(3)]
    src = run.broadcaster("src", 10, 0, opus,
                          ["--start-delay-ms", "3000"] + forge +
                          # The stream repeats the state every 8 s: what the
                          # late listener must wait for once every peer's
                          # answer is refused.
                          ["--state-every-ms", "8000"])
    time.sleep(3 + 5)
    out = os.path.join(tmp, "late.opus")
    lis = run.listener("late", 5, 0, out)
    run.expect_exit0(lis)
    run.expect_exit0(src)
    st = run.stats("late")["peers"][0]
    sf = st.get("state_fetch", {})
    o = st["output"]
    if sf.get("answers_refused", 0) < 1 or sf.get("answers", 0) != 0:
        raise Fail(f"forged states were not refused: {sf}")
    if o.get("started_on_fetched_state") is not False:
        raise Fail(f"the late listener started on a fetched (forged) state: {o}")
    got = read(out)
    check_opus_start(got)
    check_decodes(out)
    if o.get("title") != "Test Tone - A 440":
        raise Fail(f"the late listener's title is {o.get('title')!r}")
    log(f"late listener: {sf}; output {o}")
    for r in relays:
        run.expect_exit0(r)


def scenario_first_listener(run, tmp):
    opus = opus_tone(tmp, 16, tagged=False)
    src = run.broadcaster("src", 10, None, opus)
    time.sleep(4)
    out = os.path.join(tmp, "first.opus")
    lis = run.listener("first", 0, 10, out)
    run.expect_exit0(lis)
    run.expect_exit0(src)
    got = read(out)
    if not got.startswith(b"OggS"):
        raise Fail(f"the first listener wrote {len(got)} bytes, no Ogg stream")
    check_decodes(out)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", out], capture_output=True, text=True)
    dur = float(probe.stdout.strip() or 0)
    # It joined about 4 s into 16 s: most of the rest, not the last seconds
    # after a 30 s refresh (or nothing).
    if dur < 8:
        raise Fail(f"the first listener played {dur:.1f} s of the 12 s after it joined")
    log(f"first listener: {dur:.1f} s decoded")


def scenario_relay(run, tmp):
    path = os.path.join(tmp, "in.bin")
    data = text_file(path, "R", 15000)  # 750 KB
    rate = ["--rate-kbps", "600"]
    run.listener("l0", 0, None)
    time.sleep(0.5)
    relays = [run.listener(f"r{i}", 1 + i, 0) for i in range(4)]
    out = os.path.join(tmp, "out.bin")
    lis = run.listener("listener", 6, 2, out)
    time.sleep(1)
    src = run.broadcaster("src", 10, 0, path, rate + ["--start-delay-ms", "5000"])
    run.expect_exit0(lis)
    run.expect_exit0(src)
    got = read(out)
    st = output_of(run.stats("listener"))
    want_h, got_h = hashlib.sha256(data).hexdigest(), hashlib.sha256(got).hexdigest()
    log(f"sha256 in {want_h}, out {got_h}; {len(got)} of {len(data)} bytes; {st}")
    if got_h != want_h:
        if st["continuity"] >= 1.0:
            raise Fail("the output differs from the input and continuity says 1")
        raise Fail(f"the output differs from the input (continuity "
                   f"{st['continuity']}: the run lost data)")
    if st["continuity"] != 1.0 or st["bytes_dropped"] or st["gens_missed_at_start"]:
        raise Fail(f"a byte-exact output with counters that say otherwise: {st}")
    for r in relays:
        run.expect_exit0(r)


def scenario_paused(run, tmp):
    path = os.path.join(tmp, "in.bin")
    data = text_file(path, "P", 40000)  # 2.3 MB at 2000 kbit/s: ~9 s
    run.listener("l0", 0, None)
    time.sleep(0.5)
    relays = [run.listener(f"r{i}", 1 + i, 0) for i in range(3)]
    lis = run.listener("listener", 5, 0, "-", ["--stats-interval-ms", "500"],
                       stdout=subprocess.PIPE)
    src = run.broadcaster("src", 10, 0, path,
                          ["--rate-kbps", "2000", "--start-delay-ms", "4000"])
    # The reader does not read until the broadcast is over: the pipe fills,
    # then the queue, then whole records are dropped.
    run.expect_exit0(src, timeout=HANG_S)
    got = lis.stdout.read()
    run.expect_exit0(lis)
    st = output_of(run.stats("listener"))
    log(f"paused reader got {len(got)} of {len(data)} bytes; {st}")
    if not data.startswith(got[:4096]):
        raise Fail("the output does not begin with the stream's start")
    if len(got) >= len(data):
        raise Fail("the reader paused, yet nothing was dropped")
    if st["records_dropped"] == 0 or st["bytes_dropped"] == 0:
        raise Fail(f"dropped records uncounted: {st}")
    if st["continuity"] >= 1.0:
        raise Fail(f"continuity {st['continuity']} for an output missing "
                   f"{len(data) - len(got)} bytes")
    if st["bytes_written"] != len(got):
        raise Fail(f"bytes_written {st['bytes_written']}, the reader got {len(got)}")
    for r in relays:
        run.expect_exit0(r)


def main():
    fn = globals().get("scenario_" + SCENARIO)
    if not fn:
        print(f"usage: check_station.py STRIPECAST {'|'.join(SLOTS)}", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix=f"station-{SCENARIO}-")
    run = Run(tmp)
    ok = False
    try:
        fn(run, tmp)
        ok = True
    except Fail as e:
        print(f"FAIL: {SCENARIO}: {e} (logs in {tmp})", file=sys.stderr)
    finally:
        run.stop_all()
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"check_station {SCENARIO}: ok")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
