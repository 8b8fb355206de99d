"""lanyard-dp on real veths: namespaces joined through the userspace datapath.

Topology (PFX is unique per test run):

    ns PFXa (10.N.0.1)  --veth--  PFXa1: access 10  \
    ns PFXb (10.N.0.2)  --veth--  PFXb1: access 10   } lanyard-dp --bridge br0
    ns PFXc (10.N.0.3)  --veth--  PFXc1: access 20   |
    ns PFXt (no IP)     --veth--  PFXt1: trunk 10,20 /

Checks: ping a<->b, VLAN isolation (c cannot reach a), frames tagged and
untagged on the wire as the VLAN rules say (scapy in the namespaces),
iperf3 TCP a->b with default offloads, and per-port statistics on SIGTERM.

Run as root:  LANYARD_BUILD=build /usr/bin/python3 -m pytest \
              tests/scenarios/test_datapath_basic.py
"""
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from dp_env import LANYARD_DP, PY, needs_root_and_dp, nsrun, sh

pytestmark = needs_root_and_dp


# Scapy helpers run inside a namespace (scapy needs the netns' interfaces).
PING = """
import sys
from scapy.all import IP, ICMP, sr1, conf
conf.verb = 0
ok = 0
for i in range(3):
    r = sr1(IP(dst=sys.argv[1]) / ICMP(seq=i), timeout=1)
    ok += r is not None and r.haslayer(ICMP) and r[ICMP].type == 0
sys.exit(0 if ok >= 2 else 1)
"""

# Sniffs IFACE for SECS seconds; prints one line per frame whose payload
# carries MARK: "vlan=<vid or none> tpid=<hex or none>".
SNIFF = """
import sys
from scapy.all import sniff, Dot1Q, Raw, conf
conf.verb = 0
iface, secs, mark = sys.argv[1], float(sys.argv[2]), sys.argv[3].encode()
def show(p):
    if mark not in bytes(p):
        return
    if p.haslayer(Dot1Q):
        print("vlan=%d tpid=0x%04x" % (p[Dot1Q].vlan, p.type), flush=True)
    else:
        print("vlan=none", flush=True)
sniff(iface=iface, timeout=secs, prn=show, store=False,
      started_callback=lambda: print("ready", flush=True))
"""

# Sends one broadcast UDP frame carrying MARK, tagged with VID if given.
SEND = """
import sys
from scapy.all import Ether, Dot1Q, IP, UDP, Raw, sendp, conf
conf.verb = 0
iface, mark, vid = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = sys.argv[4]
p = Ether(dst="ff:ff:ff:ff:ff:ff", src=src)
if vid >= 0:
    p = p / Dot1Q(vlan=vid)
p = p / IP(src="192.0.2.1", dst="192.0.2.255") / UDP(dport=9) / Raw(mark)
sendp(p, iface=iface)
"""


class Topo:
    def __init__(self):
        self.pfx = "ldp%04x" % random.randrange(0x10000)
        self.net = random.randrange(100, 200)
        self.proc = None
        self.ns = {}
        self.created = []

    def ip(self, name):
        return "10.%d.0.%d" % (self.net, {"a": 1, "b": 2, "c": 3}[name])

    def build(self, specs):
        for name in ("a", "b", "c", "t"):
            ns = self.pfx + name
            sh("ip", "netns", "add", ns)
            self.created.append(ns)
            inner, outer = self.pfx + name + "0", self.pfx + name + "1"
            sh("ip", "link", "add", inner, "type", "veth", "peer", "name",
               outer)
            sh("ip", "link", "set", inner, "netns", ns)
            nsrun(ns, "ip", "link", "set", "lo", "up")
            nsrun(ns, "ip", "link", "set", inner, "up")
            sh("ip", "link", "set", outer, "up")
            # No IPv6 chatter to confuse the frame checks.
            nsrun(ns, "sysctl", "-qw",
                  "net.ipv6.conf.all.disable_ipv6=1")
            if name != "t":
                nsrun(ns, "ip", "addr", "add", self.ip(name) + "/24", "dev",
                      inner)
            self.ns[name] = ns
        args = [LANYARD_DP, "--bridge", "br0"]
        for name, opts in specs:
            args += ["--port", self.pfx + name + "1" + opts]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        # Ports are opened before the threads start; give it a moment and
        # make sure it did not reject the command line.
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise RuntimeError("lanyard-dp exited: " +
                               self.proc.stderr.read())

    def stop(self):
        """SIGTERM lanyard-dp; returns (exit code, stdout)."""
        if not self.proc:
            return None, ""
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        rc = self.proc.returncode
        self.proc = None
        return rc, out

    def teardown(self):
        self.stop()
        for ns in self.created:
            for pid in sh("ip", "netns", "pids", ns,
                          check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", ns, check=False)
        for name in ("a", "b", "c", "t"):
            sh("ip", "link", "del", self.pfx + name + "1", check=False)

    def ping(self, frm, to):
        r = nsrun(self.ns[frm], PY, "-c", PING, self.ip(to), check=False)
        return r.returncode == 0

    def frames_seen(self, sniff_on, send_from, vid, secs=3.0):
        """Sends a marked broadcast from SEND_FROM (tagged VID, -1 = no
        tag) and returns what a sniffer in each namespace of SNIFF_ON
        saw."""
        mark = "%s-%d" % (self.pfx, random.randrange(1 << 30))
        sniffers = {}
        for name in sniff_on:
            ns = self.ns[name]
            p = subprocess.Popen(
                ["ip", "netns", "exec", ns, PY, "-c", SNIFF,
                 self.pfx + name + "0", str(secs), mark],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert p.stdout.readline().strip() == "ready"
            sniffers[name] = p
        time.sleep(0.3)
        nsrun(self.ns[send_from], PY, "-c", SEND, self.pfx + send_from + "0",
              mark, str(vid), "02:00:00:00:%02x:01" % ord(send_from))
        seen = {}
        for name, p in sniffers.items():
            out, _ = p.communicate(timeout=secs + 10)
            seen[name] = [l for l in out.splitlines() if l]
        return seen


@pytest.fixture
def topo():
    if not shutil.which("iperf3"):
        pytest.skip("iperf3 missing")
    t = Topo()
    try:
        t.build([("a", ":access=10"), ("b", ":access=10"),
                 ("c", ":access=20"), ("t", ":trunk=10,20")])
        time.sleep(0.5)
        yield t
    finally:
        t.teardown()


def test_ping_same_vlan(topo):
    assert topo.ping("a", "b")
    assert topo.ping("b", "a")


def test_vlan_isolation(topo):
    # c is in VLAN 20 on the same IP subnet: nothing gets through.
    assert not topo.ping("c", "a")
    assert topo.ping("a", "b")


def test_tagging_on_the_wire(topo):
    # Untagged broadcast from access port a (VLAN 10): b gets it untagged,
    # the trunk gets it tagged 10, c (VLAN 20) gets nothing.
    seen = topo.frames_seen(["b", "c", "t"], "a", -1)
    assert seen["b"] == ["vlan=none"]
    assert seen["t"] == ["vlan=10 tpid=0x8100"]
    assert seen["c"] == []

    # Tagged 20 from the trunk: only c, untagged.
    seen = topo.frames_seen(["a", "b", "c"], "t", 20)
    assert seen == {"a": [], "b": [], "c": ["vlan=none"]}

    # Tagged 30 is not trunked: dropped.  A tagged frame on an access port
    # is dropped too.
    seen = topo.frames_seen(["a", "b", "c"], "t", 30)
    assert seen == {"a": [], "b": [], "c": []}
    seen = topo.frames_seen(["b", "t"], "a", 10)
    assert seen == {"b": [], "t": []}


def test_iperf3_tcp_with_offloads(topo):
    assert topo.ping("a", "b")
    nsrun(topo.ns["b"], "iperf3", "-s", "-1", "-D")
    time.sleep(0.3)
    r = nsrun(topo.ns["a"], "iperf3", "-c", topo.ip("b"), "-t", "3", "-J",
              timeout=30)
    import json
    res = json.loads(r.stdout)
    bps = res["end"]["sum_received"]["bits_per_second"]
    assert bps > 100e6, bps
    rc, out = topo.stop()
    assert rc == 0
    assert "rx_packets=" in out and topo.pfx + "a1 (system)" in out


# Sniffs IFACE for SECS seconds; prints "vlan=<vid or none> len=<bytes>"
# for each frame carrying MARK.
SNIFF_LEN = """
import sys
from scapy.all import sniff, Dot1Q, conf
conf.verb = 0
iface, secs, mark = sys.argv[1], float(sys.argv[2]), sys.argv[3].encode()
def show(p):
    if mark in bytes(p):
        vlan = p[Dot1Q].vlan if p.haslayer(Dot1Q) else "none"
        print("vlan=%s len=%d" % (vlan, len(p)), flush=True)
sniff(iface=iface, timeout=secs, prn=show, store=False,
      started_callback=lambda: print("ready", flush=True))
"""

# Sends one broadcast UDP frame of SIZE payload bytes starting with MARK.
SEND_BIG = """
import sys
from scapy.all import Ether, Dot1Q, IP, UDP, Raw, sendp, conf
conf.verb = 0
iface, mark, vid, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:77:01")
if vid >= 0:
    p = p / Dot1Q(vlan=vid)
payload = mark.encode() + b"x" * (size - len(mark))
sendp(p / IP(src="10.99.0.1", dst="10.99.0.255") / UDP(dport=9) / Raw(payload),
      iface=iface)
"""


def test_jumbo_frames_keep_their_tags(topo):
    """Frames longer than a ring slot (2 KB) take the socket-queue path on
    receive and sendmsg() on transmit: the VLAN tag the kernel moved into
    metadata must be put back, and lengths must survive both ways."""
    for name in ("a", "t"):
        nsrun(topo.ns[name], "ip", "link", "set", topo.pfx + name + "0",
              "mtu", "9000")
        sh("ip", "link", "set", topo.pfx + name + "1", "mtu", "9000")

    def send(frm, to, vid, size):
        mark = "%s-%d" % (topo.pfx, random.randrange(1 << 30))
        sniffers = {}
        for name in to:
            sniffers[name] = subprocess.Popen(
                ["ip", "netns", "exec", topo.ns[name], PY, "-c", SNIFF_LEN,
                 topo.pfx + name + "0", "5", mark],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert sniffers[name].stdout.readline().strip() == "ready"
        time.sleep(0.3)
        nsrun(topo.ns[frm], PY, "-c", SEND_BIG, topo.pfx + frm + "0", mark,
              str(vid), str(size))
        return {n: p.communicate(timeout=15)[0].split()
                for n, p in sniffers.items()}

    # Trunk -> access: 4,000 bytes of payload tagged 10 arrive untagged.
    seen = send("t", ["a", "b"], 10, 4000)
    assert seen["a"] == ["vlan=none", "len=%d" % (14 + 28 + 4000)]
    assert seen["b"] == []      # MTU 1500: too big to send, not truncated.
    # Access -> trunk: tagged 10 on the way out, full length.
    seen = send("a", ["t"], -1, 6000)
    assert seen["t"] == ["vlan=10", "len=%d" % (18 + 28 + 6000)]
    rc, out = topo.stop()
    assert rc == 0
    b_line = [l for l in out.splitlines() if topo.pfx + "b1 " in l][0]
    assert "tx_errors=0" not in b_line, b_line
