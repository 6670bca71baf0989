"""bench/benchlib.py — what the Python benchmarks share: a station key of the
run's own, a process's CPU time, the load, waiting for a port, and icecast2
configured and started on loopback as the side-by-side server."""
import os
import socket
import subprocess
import time


def station_key(binary, directory):
    """A station key of the run's own (stripecast keygen): the broadcaster signs
    with it (--key), listeners name the station by it (NAME@KEY)."""
    path = os.path.join(directory, "station.key")
    if os.path.exists(path):
        os.unlink(path)
    pk = subprocess.run([binary, "keygen", "--out", path], check=True,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                        text=True).stdout.strip()
    return path, pk


def cpu_s(pid):
    """utime + stime of a live process (every thread), from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    """The 1, 5 and 15 minute load averages."""
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def wait_port(port, who, timeout=15):
    """Until something accepts TCP connections on 127.0.0.1:port."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("%s: nothing listens on port %d" % (who, port))


def icecast_conf(tmp, port, password, clients=64, queue_bytes=8388608, burst_bytes=0):
    """An icecast.xml in tmp for 127.0.0.1:port: source password, admin
    password-admin, a new listener's burst of burst_bytes (0: none)."""
    os.makedirs(os.path.join(tmp, "log"), exist_ok=True)
    path = os.path.join(tmp, "icecast.xml")
    with open(path, "w") as f:
        f.write("""<icecast>
  <limits><clients>%d</clients><sources>4</sources><queue-size>%d</queue-size>
    <client-timeout>30</client-timeout><header-timeout>5</header-timeout>
    <source-timeout>30</source-timeout><burst-on-connect>%d</burst-on-connect>
    <burst-size>%d</burst-size></limits>
  <authentication><source-password>%s</source-password>
    <admin-user>admin</admin-user><admin-password>%s-admin</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>%s</basedir><logdir>%s/log</logdir><webroot>%s</webroot>
    <adminroot>%s</adminroot><pidfile>%s/icecast.pid</pidfile></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog>
    <loglevel>2</loglevel></logging>
  <security><chroot>0</chroot></security>
</icecast>
""" % (clients, queue_bytes, 1 if burst_bytes else 0, burst_bytes, password, password,
       port, tmp, tmp, tmp, tmp, tmp))
    return path


def icecast_argv(conf, tmp):
    """The command that runs icecast2 on conf: as nobody when we are root
    (Icecast refuses to run as root), tmp then handed to nobody."""
    argv = ["icecast2", "-c", conf]
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "nobody", tmp], check=True)
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + argv
    return argv
