"""Differential test: lanyard-switchd against real Open vSwitch.

The same bridge and VLAN configuration is built in Lanyard and in a
private Open vSwitch 3.1 (ovsdb-server + ovs-vswitchd from a temp dir,
datapath_type=netdev), each with its own namespaces.  The same
scapy-crafted frames (untagged, tagged, priority-tagged, double-tagged;
broadcast, unknown unicast, learned unicast) go into the same ports of
both, and what comes out of every other port (tags included) must be
identical.

One helper process (TRAFFIC) does all the I/O: it opens a raw socket in
every namespace (setns), sends each case's frame into both switches at the
same moment, and reads every port back, re-inserting the VLAN tag that the
kernel moves into packet metadata (PACKET_AUXDATA)."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from switchd_env import PY, env, sh, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready + [
    pytest.mark.skipif(shutil.which("ovs-vswitchd") is None
                       or shutil.which("ovsdb-server") is None,
                       reason="Open vSwitch not installed")]

OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"

# Port name -> Port settings, identical in both switches.
PORTS = {
    "a": ["tag=10"],
    "b": ["tag=10"],
    "c": ["tag=20"],
    "t": ["trunks=10,20"],
    "u": [],
    "n": ["tag=10", "trunks=10,20", "vlan_mode=native-untagged"],
    "g": ["tag=10", "trunks=20", "vlan_mode=native-tagged"],
    "q": ["tag=30", "vlan_mode=dot1q-tunnel"],
}

BCAST = "ff:ff:ff:ff:ff:ff"
MAC_B = "02:00:00:00:0b:0b"
# (source port, tags "TPID:VID,...", destination MAC).  Order matters for
# the learned-unicast cases: b's MAC is learned by the case that sends
# from b before them.
CASES = [
    ("a", "", BCAST), ("a", "8100:0", BCAST), ("a", "8100:20", BCAST),
    ("a", "88a8:10", BCAST),
    ("t", "8100:10", BCAST), ("t", "8100:20", BCAST), ("t", "8100:30", BCAST),
    ("t", "", BCAST), ("t", "8100:0", BCAST),
    ("t", "88a8:20,8100:7", BCAST), ("t", "8100:10,8100:5", BCAST),
    ("u", "", BCAST), ("u", "8100:10", BCAST), ("u", "8100:0", BCAST),
    ("n", "", BCAST), ("n", "8100:20", BCAST), ("n", "8100:10", BCAST),
    ("g", "", BCAST), ("g", "8100:20", BCAST),
    ("q", "", BCAST), ("q", "8100:5", BCAST), ("t", "88a8:30,8100:5", BCAST),
    ("c", "", "02:00:00:00:0e:99"),            # unknown unicast
    ("b", "", BCAST),                         # learn MAC_B on b
    ("a", "", MAC_B), ("t", "8100:10", MAC_B), ("n", "", MAC_B),
    ("t", "8100:20", MAC_B),                  # other VLAN: unknown there
]

TRAFFIC = r"""
import ctypes, json, os, select, socket, struct, sys, time
from scapy.all import Ether, Dot1Q, Dot1AD, IP, UDP, Raw, conf
conf.verb = 0
spec = json.load(sys.stdin)
libc = ctypes.CDLL(None, use_errno=True)
home = os.open("/proc/self/ns/net", os.O_RDONLY)
SOL_PACKET, PACKET_AUXDATA = 263, 8
socks = {}                      # (switch, port) -> socket
for sw, ports in spec["ports"].items():
    for port, (ns, ifname) in ports.items():
        fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
        assert libc.setns(fd, 0x40000000) == 0, ctypes.get_errno()
        os.close(fd)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.bind((ifname, 0))
        s.setblocking(False)
        socks[(sw, port)] = s
libc.setns(home, 0x40000000)

def tags_of(data):
    tags, ofs = [], 12
    while ofs + 4 <= len(data):
        tpid, tci = struct.unpack("!HH", data[ofs:ofs + 4])
        if tpid not in (0x8100, 0x88a8):
            break
        tags.append("%04x:%d" % (tpid, tci & 0xfff))
        ofs += 4
    return ",".join(tags) or "untagged"

def drain(results):
    while True:
        ready, _, _ = select.select(list(socks.values()), [], [], 0)
        if not ready:
            return
        for s in ready:
            key = [k for k, v in socks.items() if v is s][0]
            try:
                data, anc, _, addr = s.recvmsg(65536, 256)
            except BlockingIOError:
                continue
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            for level, typ, val in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA:
                    st, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", val[:20])
                    if st & 0x10:
                        tpid = tpid if st & 0x40 else 0x8100
                        data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
            i = data.find(b"LYDIFF-")
            if i < 0:
                continue
            case = int(data[i + 7:i + 10])
            results[key[0]].setdefault(str(case), {}).setdefault(
                key[1], []).append(tags_of(data))

results = {sw: {} for sw in spec["ports"]}
time.sleep(0.2)
drain({sw: {} for sw in spec["ports"]})
for n, (src, tagspec, dst) in enumerate(spec["cases"]):
    smac = "02:00:00:00:%02x:%02x" % (n, ord(src))
    if src == "b" and dst == "ff:ff:ff:ff:ff:ff":
        smac = spec["mac_b"]
    p = Ether(dst=dst, src=smac)
    for tag in filter(None, tagspec.split(",")):
        tpid, vid = tag.split(":")
        p = p / (Dot1AD(vlan=int(vid)) if tpid == "88a8" else Dot1Q(vlan=int(vid)))
    p = p / IP(src="198.51.100.1", dst="198.51.100.2") / UDP(dport=9) \
        / Raw(b"LYDIFF-%03d-" % n + b"x" * 20)
    frame = bytes(p)
    for sw in spec["ports"]:
        socks[(sw, src)].send(frame)
    deadline = time.time() + spec["wait"]
    while time.time() < deadline:
        select.select(list(socks.values()), [], [], 0.02)
        drain(results)
drain(results)
json.dump(results, sys.stdout)
"""


class Ovs:
    """A private ovsdb-server + ovs-vswitchd (netdev datapath)."""

    def __init__(self, pfx):
        self.dir = tempfile.mkdtemp(prefix=pfx + "-ovs-")
        self.db = "unix:%s/db.sock" % self.dir
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir, OVS_SYSCONFDIR=self.dir)

    def run(self, *args, **kw):
        return subprocess.run(args, check=True, capture_output=True,
                              text=True, timeout=30, env=self.env, **kw)

    def start(self):
        d = self.dir
        self.run("ovsdb-tool", "create", d + "/conf.db", OVS_SCHEMA)
        self.run("ovsdb-server", d + "/conf.db", "--remote=punix:%s/db.sock" % d,
                 "--pidfile=%s/ovsdb-server.pid" % d,
                 "--unixctl=%s/ovsdb-server.ctl" % d,
                 "--log-file=%s/ovsdb-server.log" % d, "--detach")
        self.vsctl("--no-wait", "init")
        self.run("ovs-vswitchd", self.db, "--pidfile=%s/ovs-vswitchd.pid" % d,
                 "--unixctl=%s/ovs-vswitchd.ctl" % d,
                 "--log-file=%s/ovs-vswitchd.log" % d, "--disable-system",
                 "--detach")

    def vsctl(self, *args):
        return self.run("ovs-vsctl", "--db=" + self.db, "--timeout=20",
                        *args).stdout

    def stop(self):
        for name in ("ovs-vswitchd", "ovsdb-server"):
            try:
                with open("%s/%s.pid" % (self.dir, name)) as f:
                    pid = int(f.read())
                os.kill(pid, 15)
                wait_for(lambda: not os.path.exists("/proc/%d" % pid), 5)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def test_same_frames_as_ovs(env):
    ovs = Ovs(env.pfx)
    try:
        ovs.start()
        obr = env.ns("obr")
        ovs.vsctl("add-br", obr, "--", "set", "Bridge", obr,
                  "datapath_type=netdev")
        lbr = env.ns("br")
        env.vsctl("add-br", lbr)
        ports = {"lanyard": {}, "ovs": {}}
        for name, settings in PORTS.items():
            for sw, tag, vsctl, br in (("lanyard", name, env.vsctl, lbr),
                                       ("ovs", "o" + name, ovs.vsctl, obr)):
                env.add_ns(tag)
                hif = env.host_if(tag)
                extra = ["--", "set", "Port", hif] + settings if settings else []
                vsctl("add-port", br, hif, *extra)
                ports[sw][name] = [env.ns(tag), env.ns_if(tag)]
        for name in PORTS:
            assert int(ovs.vsctl("get", "Interface", env.host_if("o" + name),
                                 "ofport")) > 0
        time.sleep(1)           # OVS netdev: let the PMD poll the new ports
        spec = {"ports": ports, "cases": CASES, "mac_b": MAC_B, "wait": 0.4}
        r = subprocess.run([PY, "-c", TRAFFIC], input=json.dumps(spec),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        res = json.loads(r.stdout)
        if os.environ.get("LYDIFF_DUMP"):
            print(json.dumps(res, indent=None, sort_keys=True))
        diffs = []
        for n, case in enumerate(CASES):
            got_l = res["lanyard"].get(str(n), {})
            got_o = res["ovs"].get(str(n), {})
            if got_l != got_o:
                diffs.append("case %d %s: lanyard %s ovs %s"
                             % (n, case, got_l, got_o))
        assert not diffs, "\n".join(diffs)
        # The comparison must have had something to compare.
        assert sum(len(v) for v in res["ovs"].values()) >= 20, res["ovs"]
        learned = res["lanyard"][str(CASES.index(("a", "", MAC_B)))]
        assert learned == {"b": ["untagged"]}, learned
    finally:
        ovs.stop()
