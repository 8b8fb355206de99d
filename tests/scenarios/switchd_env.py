"""Fixtures for lanyard-switchd namespace scenarios.

`SwitchEnv` starts a private lanyard-dbd and lanyard-switchd in a temp dir,
creates namespaces each joined to the host by a veth (the host end is what
gets added to the bridge), and tears everything down again.  Teardown fails
the test if a daemon died or logged an unexpected ERR/EMER line.

Names carry a random prefix "lsw" + 4 hex digits so parallel runs do not
collide; interface names stay within 15 characters.
"""
import os
import random
import re
import shutil
import subprocess
import tempfile
import time

import pytest

BUILD = os.path.abspath(os.environ.get(
    "LANYARD_BUILD", os.path.join(os.path.dirname(__file__), "../../build")))
DBD = os.path.join(BUILD, "dbd", "lanyard-dbd")
SWITCHD = os.path.join(BUILD, "switchd", "lanyard-switchd")
APPCTL = os.path.join(BUILD, "tools", "appctl", "lanyard-appctl")
VSCTL = shutil.which("ovs-vsctl")

skip_unless_ready = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for netns"),
    pytest.mark.skipif(not (os.path.exists(DBD) and os.path.exists(SWITCHD)),
                       reason="lanyard daemons not built"),
    pytest.mark.skipif(VSCTL is None, reason="ovs-vsctl not installed"),
]


def sh(*args, check=True, timeout=60, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True,
                          timeout=timeout, **kw)


def nsrun(ns, *args, **kw):
    return sh("ip", "netns", "exec", ns, *args, **kw)


def wait_for(pred, secs=10.0, step=0.1):
    deadline = time.monotonic() + secs
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


class SwitchEnv:
    def __init__(self):
        self.pfx = "lsw%04x" % random.randrange(0x10000)
        self.net = random.randrange(100, 250)
        self.dir = tempfile.mkdtemp(prefix=self.pfx + "-")
        self.sock = os.path.join(self.dir, "db.sock")
        self.dbfile = os.path.join(self.dir, "conf.db")
        self.dbctl = os.path.join(self.dir, "dbd.ctl")
        self.swctl = os.path.join(self.dir, "switchd.ctl")
        self.namespaces = []
        self.links = []          # host-side links we created
        # Regexes for ERR lines a test expects (none by default).
        self.allowed_err = []
        self.failed_daemon = None

    # ---- daemons -------------------------------------------------------
    def _log(self, name):
        return os.path.join(self.dir, name + ".log")

    def _pid(self, name):
        return os.path.join(self.dir, name + ".pid")

    def start_dbd(self):
        sh(DBD, "--remote=punix:" + self.sock, "--unixctl=" + self.dbctl,
           "--log-file=" + self._log("dbd"), "--pidfile=" + self._pid("dbd"),
           "--detach", "-vconsole:off", self.dbfile)
        assert wait_for(lambda: os.path.exists(self.sock), 5)

    def start_switchd(self):
        sh(SWITCHD, "--unixctl=" + self.swctl,
           "--log-file=" + self._log("switchd"),
           "--pidfile=" + self._pid("switchd"), "--detach", "-vconsole:off",
           "unix:" + self.sock)
        assert wait_for(lambda: os.path.exists(self.swctl), 5)

    def pid(self, name):
        try:
            with open(self._pid(name)) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def alive(self, name):
        pid = self.pid(name)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True

    def kill(self, name, sig=15):
        pid = self.pid(name)
        if pid is None:
            return
        try:
            os.kill(pid, sig)
        except OSError:
            return
        wait_for(lambda: not self.alive(name), 5)
        if self.alive(name):
            os.kill(pid, 9)
            wait_for(lambda: not self.alive(name), 5)

    def start(self):
        self.start_dbd()
        self.vsctl("init", no_wait=True)
        self.start_switchd()

    # ---- control -------------------------------------------------------
    def vsctl(self, *args, no_wait=False, check=True, timeout=20):
        extra = ["--no-wait"] if no_wait else []
        return sh(VSCTL, "--db=unix:" + self.sock, "--timeout=%d" % timeout,
                  *extra, *args, check=check, timeout=timeout + 5).stdout

    def appctl(self, *args, check=True):
        return sh(APPCTL, "-t", self.swctl, *args, check=check).stdout

    def get(self, table, record, column):
        return self.vsctl("--no-wait", "get", table, record,
                          column).strip().strip('"')

    # ---- namespaces ----------------------------------------------------
    def ns(self, name):
        return self.pfx + name

    def host_if(self, name):
        return self.pfx + name + "1"

    def ns_if(self, name):
        return self.pfx + name + "0"

    def ip(self, idx, net=None):
        return "10.%d.%d.%d" % (self.net, 0 if net is None else net, idx)

    def add_ns(self, name, addr=None):
        """Namespace NAME with veth <pfx>NAME0 inside and <pfx>NAME1 in the
        host (up, not yet on any bridge).  ADDR is 'a.b.c.d/len' or None."""
        ns, inner, outer = self.ns(name), self.ns_if(name), self.host_if(name)
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "link", "add", inner, "type", "veth", "peer", "name", outer)
        self.links.append(outer)
        sh("ip", "link", "set", inner, "netns", ns)
        nsrun(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        nsrun(ns, "ip", "link", "set", "lo", "up")
        nsrun(ns, "ip", "link", "set", inner, "up")
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % outer,
           check=False)
        sh("ip", "link", "set", outer, "up")
        if addr:
            nsrun(ns, "ip", "addr", "add", addr, "dev", inner)
        return ns

    def add_vlan_if(self, name, vid, addr):
        ns, inner = self.ns(name), self.ns_if(name)
        sub = "%s.%d" % (inner, vid)
        nsrun(ns, "ip", "link", "add", "link", inner, "name", sub, "type",
              "vlan", "id", str(vid))
        nsrun(ns, "ip", "addr", "add", addr, "dev", sub)
        nsrun(ns, "ip", "link", "set", sub, "up")
        return sub

    def ping(self, name, dst, count=2, wait=1):
        r = nsrun(self.ns(name), "ping", "-c", str(count), "-i", "0.2",
                  "-W", str(wait), "-q", dst, check=False)
        return r.returncode == 0

    def ping_eventually(self, name, dst, secs=8):
        return wait_for(lambda: self.ping(name, dst, count=1), secs, 0)

    # ---- teardown ------------------------------------------------------
    def log_problems(self):
        bad = []
        for name in ("dbd", "switchd"):
            try:
                with open(self._log(name)) as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for line in lines:
                if not re.search(r"\|(ERR|EMER)\|", line):
                    continue
                if any(re.search(p, line) for p in self.allowed_err):
                    continue
                bad.append("%s: %s" % (name, line))
        return bad

    def teardown(self):
        problems = []
        for name in ("switchd", "dbd"):
            if self.pid(name) is not None and not self.alive(name):
                problems.append("%s is not running (crashed?)" % name)
        problems += self.log_problems()
        for name in ("switchd", "dbd"):
            self.kill(name)
        for link in self.links:
            sh("ip", "link", "del", link, check=False)
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)
        # Internal ports are deleted by switchd on exit; be sure anyway.
        out = sh("ip", "-o", "link", "show", check=False).stdout
        for m in re.finditer(r"^\d+: (%s[^:@ ]*)" % self.pfx, out, re.M):
            sh("ip", "link", "del", m.group(1), check=False)
        if problems:
            keep = self.dir
            return problems, keep
        shutil.rmtree(self.dir, ignore_errors=True)
        return [], None


@pytest.fixture
def env():
    e = SwitchEnv()
    try:
        e.start()
        yield e
    finally:
        problems, kept = e.teardown()
    if problems:
        pytest.fail("daemon problems (logs kept in %s):\n%s"
                    % (kept, "\n".join(problems)))


# ---- scapy frame injection (shared by the switchd scenario tests) -------

PY = "/usr/bin/python3"

SNIFF = """
import sys
from scapy.all import sniff, Dot1Q, Dot1AD, conf
conf.verb = 0
iface, secs, mark = sys.argv[1], float(sys.argv[2]), sys.argv[3].encode()
def show(p):
    if mark not in bytes(p):
        return
    tags = []
    t = p.type
    q = p.payload
    while t in (0x8100, 0x88a8):
        tags.append("%04x:%d" % (t, q.vlan))
        t = q.type
        q = q.payload
    print(",".join(tags) or "untagged", flush=True)
print("ready", flush=True)
sniff(iface=iface, timeout=secs, prn=show, store=False)
"""

SEND = """
import sys
from scapy.all import Ether, Dot1Q, Dot1AD, IP, UDP, Raw, sendp, conf
conf.verb = 0
iface, mark, src, spec, dst = sys.argv[1:6]
p = Ether(dst=dst, src=src)
for tag in filter(None, spec.split(",")):
    tpid, vid = tag.split(":")
    p = p / (Dot1AD(vlan=int(vid)) if tpid == "88a8" else Dot1Q(vlan=int(vid)))
p = p / IP(src="198.51.100.1", dst="198.51.100.255") / UDP(dport=9) / Raw(mark)
sendp(p, iface=iface)
"""


def build_bridge(env, ports):
    """PORTS: name -> list of ovs-vsctl Port column settings."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    for name, settings in ports.items():
        env.add_ns(name)
        hif = env.host_if(name)
        extra = ["--", "set", "port", hif] + settings if settings else []
        env.vsctl("add-port", br, hif, *extra)
    return br


def inject(env, src, spec, names, n=0, dst="ff:ff:ff:ff:ff:ff", src_mac=None):
    """Send one frame tagged per SPEC ('8100:10,...' or '') into SRC and
    return {name: [tag description per received copy]} for NAMES."""
    mark = "%s-m%d-%s" % (env.pfx, n, spec.replace(":", "_"))
    procs = {}
    for name in names:
        procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", env.ns(name), PY, "-c", SNIFF,
             env.ns_if(name), "2.5", mark],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for p in procs.values():
        assert p.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    src_mac = src_mac or "02:00:00:%02x:%02x:%02x" % (n & 0xff, ord(src[0]), 1)
    nsrun(env.ns(src), PY, "-c", SEND, env.ns_if(src), mark, src_mac, spec,
          dst)
    out = {}
    for name, p in procs.items():
        text, _ = p.communicate(timeout=15)
        out[name] = [l for l in text.split() if l]
    return out
