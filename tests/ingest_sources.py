#!/usr/bin/env python3
"""ingest_sources.py ENCODER STRIPECAST — a radio station's own encoder goes
on the air through `stripecast broadcast --http`, headless, as a real source:
ENCODER is `liquidsoap` or `darkice`.

A `stripecast listen` peer that was in the trees before the first session
writes the station to a file. Each encoder session also dumps the encoded
bytes it sends to a file of its own (liquidsoap's `dumpfile`, DarkIce's
`localDumpFile`), so what it sent is known byte for byte. Checked, for every
session: the source is accepted, the broadcaster's ingest counted exactly the
bytes the encoder sent (`bytes_in`), the station dropped nothing but an
incomplete last frame (liquidsoap ends an MP3 stream in the middle of one),
the listener wrote exactly the rest, every session in order, and the
listener's bytes of each session decode with no error (`ffmpeg -v error`),
with the codec asked for and as long as what the encoder sent (ffprobe).
Then a wrong password: the encoder run against a real icecast2
(tests/icecast_server.sh) and against the broadcaster reports the same
refusal, and the broadcaster counts it.

liquidsoap (its own Icecast client, not libshout): sine() for 3 s; Ogg Opus
by PUT, Ogg Vorbis by SOURCE, MP3 by PUT with a title set while it streams
(liquidsoap sends it as /admin/metadata), MP3 as a SHOUTcast v1 source
(`protocol="icy"`, port+1) with a title (sent as /admin.cgi); each title
must reach the listener (its `output.title`). liquidsoap stops without
flushing its encoder, so what it sends is shorter than its input (Vorbis
most): the durations are compared with what it sent.

DarkIce (reads audio only from a sound device): ALSA's `file` plugin on the
`null` device reads 16-bit PCM from a FIFO that ffmpeg fills in real time
(`.asoundrc` in a temporary HOME; no sound card, no kernel module); 3 s each
of Ogg Vorbis, MP3 and Ogg Opus, by SOURCE with its bare-LF head.

Exit 0 pass, 1 fail, 77 skipped (the encoder, ffmpeg or icecast2 missing). Timeouts
only bound a hang; no verdict depends on timing.
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

ENCODER, BIN = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
HANG_S = 90
COMMON = ["--heartbeat-ms", "500"]
PW = "enc-pw-%d" % os.getpid()
SECONDS = 3.0
failures = []


def log(msg):
    print("ingest_sources %s: %s" % (ENCODER, msg), file=sys.stderr, flush=True)


def check(cond, what):
    log(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
    return cond


def wait_for(pred, what, timeout=HANG_S):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return check(True, what)
        time.sleep(0.1)
    return check(pred(), "%s (waited %d s)" % (what, timeout))


def stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def free_block():
    """A base port whose UDP base..base+2 (the peers) and TCP base+10,
    base+11 (the ingest server and its SHOUTcast port) are free: below the
    ephemeral range and apart from the other runtime tests' (18100..32720),
    each encoder its own range (ctest runs both at once), the slot from the
    pid, the next one on a collision."""
    first = {"liquidsoap": 16000, "darkice": 17000}[ENCODER]
    for k in range(40):
        base = first + ((os.getpid() + k) % 40) * 20
        want = [(socket.SOCK_DGRAM, base + i) for i in range(3)] + \
            [(socket.SOCK_STREAM, base + 10), (socket.SOCK_STREAM, base + 11)]
        ok = True
        for kind, port in want:
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return base
    raise SystemExit("FAIL: no free ports")


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                        "stream=codec_name:format=duration", "-of", "json", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        j = json.loads(r.stdout)
        return [s["codec_name"] for s in j["streams"]], float(j["format"]["duration"])
    except (ValueError, KeyError):
        return [], -1.0


def decode_errors(path):
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stderr.strip()


def codec_of(sess):
    return sess[5] if ENCODER == "liquidsoap" else sess[4]


def ext_of(sess):
    return sess[4] if ENCODER == "liquidsoap" else sess[3]


MP3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
MP3_RATES = [44100, 48000, 32000]


def is_partial_mp3_frame(b):
    """b starts with an MPEG-1 Layer III header whose frame is longer than b."""
    if len(b) < 4 or b[0] != 0xFF or (b[1] & 0xFE) != 0xFA:
        return False
    bi, si, pad = b[2] >> 4, (b[2] >> 2) & 3, (b[2] >> 1) & 1
    if not 0 < bi < 15 or si == 3:
        return False
    return len(b) < 144000 * MP3_KBPS[bi] // MP3_RATES[si] + pad


def listener_title(path):
    st = stats(path)
    if not st:
        return None
    for p in st["peers"]:
        if p.get("output"):
            return p["output"].get("title")
    return None


# ---- liquidsoap ----------------------------------------------------------

LIQ_HEAD = """settings.log.stdout.set(true)
settings.log.file.set(false)
settings.init.allow_root.set(true)
"""

# name, encoder, protocol, method, extension, codec, title
LIQ_SESSIONS = [
    ("opus put", "%opus(bitrate=96)", "http", "put", "opus", "opus", None),
    ("vorbis source", "%vorbis", "http", "source", "ogg", "vorbis", None),
    ("mp3 put", "%mp3(bitrate=128)", "http", "put", "mp3", "mp3",
     ("Liquid Artist", "Liquid Song")),
    ("mp3 icy", "%mp3(bitrate=128)", "icy", "source", "mp3", "mp3",
     ("Icy Artist", "Icy Song")),
]


def liq_script(tmp, n, sess, port, password, dump):
    _, enc, proto, method, _, _, title = sess
    s = LIQ_HEAD
    s += "s = sine(duration=%.1f, %d.)\n" % (SECONDS, 440 + 110 * n)
    if title:
        s += "s = insert_metadata(s)\n"
        s += ("thread.run(delay=1., fun () -> s.insert_metadata([(\"artist\", \"%s\"), "
              "(\"title\", \"%s\")]))\n" % title)
    s += ('def on_err(e) =\n  print("encoder error: " ^ e)\n  shutdown()\n  -1.\nend\n')
    s += ('output.icecast(%s, host="127.0.0.1", port=%d, password="%s", mount="/live.opus", '
          'protocol="%s", method="%s", dumpfile="%s", fallible=true, on_stop=shutdown, '
          'on_error=on_err, s)\n' % (enc, port, password, proto, method, dump))
    path = os.path.join(tmp, "s%d.liq" % n)
    with open(path, "w") as f:
        f.write(s)
    os.chmod(path, 0o600)
    return path


def liq_run(tmp, n, sess, port, password, dump, procs):
    script = liq_script(tmp, n, sess, port, password, dump)
    out = open(os.path.join(tmp, "enc%d.log" % n), "w")
    p = subprocess.Popen(["liquidsoap", script], stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    procs.append(p)
    rc = p.wait(timeout=HANG_S)
    with open(os.path.join(tmp, "enc%d.log" % n)) as f:
        text = f.read()
    return rc, text


# ---- DarkIce -------------------------------------------------------------

# name, format, sample rate, extension, codec
DK_SESSIONS = [
    ("vorbis", "vorbis", 44100, "ogg", "vorbis"),
    ("mp3", "mp3", 44100, "mp3", "mp3"),
    ("opus", "opus", 48000, "opus", "opus"),
]


def dk_setup(tmp, n):
    """A temporary HOME whose .asoundrc reads capture PCM from a FIFO."""
    home = os.path.join(tmp, "home%d" % n)
    os.makedirs(home)
    fifo = os.path.join(tmp, "pcm%d" % n)
    os.mkfifo(fifo)
    with open(os.path.join(home, ".asoundrc"), "w") as f:
        f.write('pcm.fromfile {\n  type file\n  slave.pcm "null"\n  file "/dev/null"\n'
                '  infile "%s"\n  format "raw"\n}\n' % fifo)
    return home, fifo


def dk_run(tmp, n, sess, port, password, dump, procs):
    _, fmt, rate, _, _ = sess
    home, fifo = dk_setup(tmp, n)
    cfg = os.path.join(tmp, "dk%d.cfg" % n)
    with open(cfg, "w") as f:
        f.write("[general]\nduration = %d\nbufferSecs = 1\nreconnect = no\n\n"
                "[input]\ndevice = fromfile\nsampleRate = %d\nbitsPerSample = 16\nchannel = 2\n\n"
                "[icecast2-0]\nbitrateMode = cbr\nformat = %s\nbitrate = 96\n"
                "server = 127.0.0.1\nport = %d\npassword = %s\nmountPoint = live.opus\n"
                "name = DarkIce Radio\nlocalDumpFile = %s\n"
                % (int(SECONDS), rate, fmt, port, password, dump))
    os.chmod(cfg, 0o600)
    # The PCM, in real time, a second longer than DarkIce reads: it stops
    # after `duration`, and the writer then finds the FIFO closed.
    feed = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "quiet", "-re", "-f", "lavfi",
                             "-i", "sine=f=%d:d=%d" % (440 + 110 * n, int(SECONDS) + 1),
                             "-ac", "2", "-ar", str(rate), "-f", "s16le", "-y", fifo],
                            stdin=subprocess.DEVNULL)
    procs.append(feed)
    out = open(os.path.join(tmp, "enc%d.log" % n), "w")
    env = dict(os.environ, HOME=home)
    p = subprocess.Popen(["darkice", "-v", "1", "-c", cfg], stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env)
    procs.append(p)
    rc = p.wait(timeout=HANG_S)
    if feed.poll() is None:
        # DarkIce failed before opening the FIFO: the writer waits on open.
        try:
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass
        try:
            feed.wait(timeout=5)
        except subprocess.TimeoutExpired:
            feed.kill()
            feed.wait()
    with open(os.path.join(tmp, "enc%d.log" % n)) as f:
        text = f.read()
    return rc, text


# ---- the oracle: a wrong password ----------------------------------------

def icecast_start(tmp, procs):
    """icecast2 through tests/icecast_server.sh; returns its port or None."""
    portfile = os.path.join(tmp, "icecast.port")
    p = subprocess.Popen(["bash", "-c", 'source "$1"; echo "$port" > "$2"; trap "exit 0" TERM; '
                          'wait "$icecast_pid"', "_", os.path.join(HERE, "icecast_server.sh"),
                          portfile], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    end = time.time() + 30
    while time.time() < end and p.poll() is None:
        try:
            port = int(open(portfile).read())
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return port, p
        except (OSError, ValueError):
            time.sleep(0.1)
    return None, p


def refusal(text):
    """What the encoder said about the refusal, with addresses set aside."""
    if ENCODER == "liquidsoap":
        lines = [ln.split("encoder error: ", 1)[1] for ln in text.splitlines()
                 if "encoder error: " in ln]
    else:
        lines = [ln for ln in text.splitlines() if "DarkIce:" in ln or "rror" in ln]
        lines = [ln.split(":", 2)[-1].strip() if ln.startswith("DarkIce:") else ln
                 for ln in lines]
    return lines


def oracle(tmp, sessions, http, procs, bc_stats):
    """The encoder with a wrong password, against icecast2 and the
    broadcaster (nothing live on either): the same refusal, and the
    broadcaster counts it."""
    port, ice = icecast_start(tmp, procs)
    if port is None:
        check(False, "icecast2 started (tests/icecast_server.sh)")
        return
    try:
        cases = ([s for s in sessions if s[2] == "http"][:1] + [s for s in sessions
                                                                 if s[2] == "icy"][:1]
                 if ENCODER == "liquidsoap" else sessions[:1])
        run = liq_run if ENCODER == "liquidsoap" else dk_run
        for k, sess in enumerate(cases):
            said = {}
            for srv, p in (("icecast2", port), ("stripecast", http)):
                before = stats(bc_stats)["ingest"]
                n = 100 + 2 * k + (srv == "stripecast")
                dump = os.path.join(tmp, "wrong%d.bin" % n)
                rc, text = run(tmp, n, sess, p, "not-" + PW, dump, procs)
                said[srv] = (rc, refusal(text))
                if srv == "stripecast":
                    key = ("shoutcast_password" if ENCODER == "liquidsoap" and sess[2] == "icy"
                           else "unauthorized")
                    wait_for(lambda: stats(bc_stats)["ingest"]["refused"][key] ==
                             before["refused"][key] + 1,
                             "%s, wrong password: refused and counted as %s" % (sess[0], key))
                    check(stats(bc_stats)["ingest"]["sources_accepted"] ==
                          before["sources_accepted"], "%s, wrong password: no source accepted" %
                          sess[0])
            check(said["icecast2"] == said["stripecast"] and said["icecast2"][1],
                  "%s, wrong password: %s says the same of icecast2 and the broadcaster (%r)"
                  % (sess[0], ENCODER, said))
    finally:
        ice.send_signal(signal.SIGTERM)
        try:
            ice.wait(timeout=30)
        except subprocess.TimeoutExpired:
            ice.kill()
            ice.wait()


def main():
    enc_bin = {"liquidsoap": "liquidsoap", "darkice": "darkice"}[ENCODER]
    for prog in (enc_bin, "ffmpeg", "ffprobe", "icecast2"):
        if not shutil.which(prog):
            log("%s not found" % prog)
            return 77
    run = liq_run if ENCODER == "liquidsoap" else dk_run
    sessions = LIQ_SESSIONS if ENCODER == "liquidsoap" else DK_SESSIONS
    tmp = tempfile.mkdtemp(prefix="ingest_sources.")
    procs = []

    def start(name, args):
        err = open(os.path.join(tmp, name + ".log"), "w")
        p = subprocess.Popen([BIN] + args + COMMON, stdout=subprocess.DEVNULL, stderr=err)
        procs.append(p)
        return p

    try:
        base = free_block()
        http = base + 10
        pwfile = os.path.join(tmp, "pw")
        with open(pwfile, "w") as f:
            f.write(PW + "\n")
        key = os.path.join(tmp, "station.key")
        pk = subprocess.run([BIN, "keygen", "--out", key], check=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True).stdout.strip()
        station = "/live.opus@" + pk
        out = os.path.join(tmp, "out.bin")
        l0 = start("l0", ["listen", "--station", station, "--listen", "127.0.0.1:%d" % base])
        time.sleep(0.5)
        lis_stats = os.path.join(tmp, "listener.json")
        lis = start("listener", ["listen", "--station", station, "--listen",
                                 "127.0.0.1:%d" % (base + 1), "--join", "127.0.0.1:%d" % base,
                                 "--output", out, "--stats", lis_stats,
                                 "--stats-interval-ms", "200"])
        bc_stats = os.path.join(tmp, "broadcaster.json")
        bc = start("broadcaster", ["broadcast", "--station", "/live.opus", "--key", key,
                                   "--listen", "127.0.0.1:%d" % (base + 2), "--join",
                                   "127.0.0.1:%d" % base, "--http", "127.0.0.1:%d" % http,
                                   "--source-password-file", pwfile, "--stats", bc_stats,
                                   "--stats-interval-ms", "200", "--verbose"])

        def attached():
            st = stats(lis_stats)
            return st is not None and st["totals"]["attached_all"] == 1

        def ingest_up():
            try:
                socket.create_connection(("127.0.0.1", http), timeout=1).close()
                return True
            except OSError:
                return False

        if not (wait_for(attached, "the listener attached in every stripe") and
                wait_for(ingest_up, "the ingest server listening") and
                wait_for(lambda: stats(bc_stats) is not None, "the broadcaster's counters")):
            return 1
        time.sleep(2.0)  # the broadcaster's own forest (its stripe roots)

        dumps, counted = [], []
        for n, sess in enumerate(sessions):
            name = sess[0]
            dump = os.path.join(tmp, "dump%d.%s" % (n, ext_of(sess)))
            st0 = stats(bc_stats)
            before = st0["ingest"]["bytes_in"]
            tail_before = st0["station_source"]["tail_dropped_bytes"]
            rc, text = run(tmp, n, sess, http, PW, dump, procs)
            ok = rc == 0 and "encoder error" not in text
            check(ok, "%s: %s exits 0 without an error%s" %
                  (name, ENCODER, "" if ok else " (%s)" % text[-400:].strip()))

            def ended(k=n + 1):
                st = stats(bc_stats)
                return (st is not None and st["ingest"]["sources_ended"] == k
                        and st["ingest"]["live"] is None)

            if not wait_for(ended, "%s: session %d ended at the broadcaster" % (name, n + 1)):
                return 1
            ing = stats(bc_stats)["ingest"]
            check(ing["sources_accepted"] == n + 1, "%s: the source was accepted" % name)
            with open(dump, "rb") as f:
                sent = f.read()
            got = ing["bytes_in"] - before
            ss = stats(bc_stats)["station_source"]
            tail = ss["tail_dropped_bytes"] - tail_before
            check(ss["lead_dropped_bytes"] == 0 and ss["garbage_bytes"] == 0,
                  "%s: the station took the session from its first byte, no garbage" % name)
            check(len(sent) > 4000 and got == len(sent),
                  "%s: the broadcaster counted the %d bytes %s sent (got %d)" %
                  (name, len(sent), ENCODER, got))
            # An encoder that stops in the middle of a frame or page (liquidsoap
            # ends an MP3 stream with a partial frame) sent bytes no decoder can
            # use: the station drops them and counts them, nothing else.
            is_mp3 = codec_of(sess) == "mp3"
            partial = is_mp3 and tail < 1441 and is_partial_mp3_frame(sent[got - tail:got])
            check(tail == 0 or partial,
                  "%s: nothing dropped but an incomplete last frame (%d bytes)" % (name, tail))
            dumps.append(sent[:got - tail])
            counted.append(got)
            title = sess[6] if ENCODER == "liquidsoap" else None
            if title:
                want_title = "%s - %s" % title
                wait_for(lambda: listener_title(lis_stats) == want_title,
                         "%s: the title %r reached the listener" % (name, want_title))

        # A wrong password: the same refusal from icecast2 and the broadcaster.
        oracle(tmp, sessions, http, procs, bc_stats)

        time.sleep(1.0)  # the last generation's way down the trees
        bc.send_signal(signal.SIGTERM)
        check(bc.wait(timeout=HANG_S) == 0, "the broadcaster exits 0")
        check(lis.wait(timeout=HANG_S) == 0, "the listener exits 0 at the broadcast's end")
        with open(out, "rb") as f:
            got = f.read()
        want = b"".join(dumps)
        st = stats(bc_stats)
        ing = st["ingest"]
        log("listener wrote %d bytes, the broadcaster got %d; ingest %s" %
            (len(got), ing["bytes_in"], json.dumps(ing)))
        check(ing["bytes_in"] == sum(counted), "the broadcaster's bytes_in is the sessions' sum")
        check(got == want, "the listener wrote exactly the bytes %s sent, every session in "
              "order, less the incomplete frames dropped (%d of %d)" %
              (ENCODER, len(got), len(want)))
        check(st["station_source"]["sessions"] == len(sessions),
              "the station source saw %d sessions" % len(sessions))
        check(ing["sources_accepted"] == len(sessions) and
              ing["sources_ended"] == len(sessions), "%d sources accepted and ended" %
              len(sessions))

        # Each session's bytes as the listener wrote them decode cleanly, to
        # the codec asked for and as long as what the encoder sent.
        off = 0
        for n, (sess, d) in enumerate(zip(sessions, dumps)):
            name = sess[0]
            codec, ext = codec_of(sess), ext_of(sess)
            seg = os.path.join(tmp, "listened%d.%s" % (n, ext))
            with open(seg, "wb") as f:
                f.write(got[off:off + len(d)])
            off += len(d)
            rc, err = decode_errors(seg)
            check(rc == 0 and err == "", "%s: the listener's bytes decode with no error (%s)" %
                  (name, err[:200]))
            codecs, dur = probe(seg)
            _, sent_dur = probe(os.path.join(tmp, "dump%d.%s" % (n, ext)))
            check(codecs == [codec] and abs(dur - sent_dur) < 0.05 and
                  1.0 < dur < SECONDS + 0.2,
                  "%s: %s, %.3f s as sent (%.3f s; of %.0f s of input)" %
                  (name, codecs, dur, sent_dur, SECONDS))

        if ENCODER == "liquidsoap":
            want_titles = ["%s - %s" % x[6] for x in sessions if x[6]]
            check(ing["titles"] == len(want_titles),
                  "the broadcaster took %d titles (%d)" % (len(want_titles), ing["titles"]))

        with open(os.path.join(tmp, "broadcaster.log")) as f:
            check(PW not in f.read(), "the password never reaches the broadcaster's log")
        l0.send_signal(signal.SIGTERM)
        check(l0.wait(timeout=HANG_S) == 0, "the first peer leaves and exits 0")
        for name in ("broadcaster", "listener", "l0"):
            with open(os.path.join(tmp, name + ".log")) as f:
                check("Sanitizer" not in f.read(), "no sanitizer report from the %s" % name)
        return 0
    finally:
        if failures:
            for name in ("broadcaster", "listener", "l0"):
                try:
                    with open(os.path.join(tmp, name + ".log")) as f:
                        log("%s's log ends:\n%s" % (name, f.read()[-1500:]))
                except OSError:
                    pass
        # SIGTERM first: icecast_server.sh's shell stops its icecast2 then.
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if os.environ.get("KEEP_TMP"):
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # Stopped from outside (ctest's timeout, ^C): the children go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rc = main()
    if rc == 0 and failures:
        rc = 1
    if rc == 0:
        log("all checks passed")
    elif rc == 1:
        log("%d check(s) failed" % max(1, len(failures)))
    sys.exit(rc)
