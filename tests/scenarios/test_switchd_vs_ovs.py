"""Differential test: lanyard-switchd against real Open vSwitch.

The same bridge and VLAN configuration is built in Lanyard and in a
private Open vSwitch 3.1 (ovsdb-server + ovs-vswitchd from a temp dir,
datapath_type=netdev), each with its own namespaces.  The same
scapy-crafted frames (untagged, tagged, priority-tagged with a PCP,
double-tagged, 802.1ad; broadcast, IPv6 multicast, reserved protocol
addresses, unknown and learned unicast, MAC moves) go into the same ports
of both, and what comes out of every other port (tags and PCPs included)
must be identical.  The frames are sent in phases, the same configuration
change being made in both switches between phases: forward-bpdu,
mac-table-size (shrinking it and eviction when full), flood_vlans (which
flushes OVS's MAC table), a port's trunks (which forgets what was
learned on that port) and ports' other_config:priority-tags.

One helper process (TRAFFIC) does all the I/O: it opens a raw socket in
every namespace (setns), then for each phase sends each case's frames into
both switches at the same moment and reads every port back, re-inserting
the VLAN tag that the kernel moves into packet metadata (PACKET_AUXDATA).
"""
import json
import os
import re
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
    "v": [],
    "n": ["tag=10", "trunks=10,20", "vlan_mode=native-untagged"],
    "g": ["tag=10", "trunks=20", "vlan_mode=native-tagged"],
    "q": ["tag=30", "vlan_mode=dot1q-tunnel"],
    "w": ["tag=40", "vlan_mode=dot1q-tunnel", "cvlans=0,5,6",
          "other_config:qinq-ethtype=802.1q"],
}

BCAST = "ff:ff:ff:ff:ff:ff"
BRIDGE_MAC = "02:00:00:00:99:99"        # other_config:hwaddr of both
MAC_B = "02:00:00:00:0b:0b"
MAC_M = "02:00:00:00:0c:0c"             # learned, then moved
MAC_R = "02:00:00:00:0d:0d"             # only ever sends BPDUs
MAC_R2 = "02:00:00:00:0d:0e"            # the same with forward-bpdu
MAC_T = "02:00:00:00:0e:0e"             # learned on trunk t
STP = "01:80:c2:00:00:00"
LACP = "01:80:c2:00:00:02"
EAPOL = "01:80:c2:00:00:03"
LLDP = "01:80:c2:00:00:0e"
CDP = "01:00:0c:cc:cc:cc"
PVST = "01:00:0c:cc:cc:cd"
MAC_Y = "02:00:00:00:0f:0f"             # on c, oldest when the table shrinks
FILL = ["02:00:00:00:f0:%02x" % i for i in range(11)]

# A case is (source port, tags, destination MAC[, options]).  Tags are
# "TPID:VID[:PCP][:d]" joined by "," (d: the DEI bit).  Options: "smac"
# (else a MAC unique to the case), "type" (EtherType, or "llc" for an
# 802.3 frame with an STP-style LLC header), "smacs" (a burst: one frame
# per source MAC), "pause" (seconds to wait before sending), "size"
# (padded to this many bytes), and the known differences "ovs_drops_inner"
# and "ovs_no_dei" (see the cases).
# Order matters: learning cases precede the unicast cases that use them.
#
# OVS learns when a flow is set up and again when its revalidator pushes
# the flow's statistics (within ~0.5 s, refreshing the entry if a second
# has begun since): a MAC table change made before that push is partly
# undone.  So the cases that set up the table for a configuration change
# are followed by SETTLE seconds of quiet, and the checks after it do not
# depend on the order of entries within one port.  A frame identical to an
# earlier one (same port, MACs and tags) may match that frame's datapath
# flow in OVS and be learned only at that push, so every learning frame
# here is unique.
PHASE1 = [
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
    ("b", "", BCAST, {"smac": MAC_B}),         # learn MAC_B on b
    ("a", "", MAC_B), ("t", "8100:10", MAC_B), ("n", "", MAC_B),
    ("t", "8100:20", MAC_B),                  # other VLAN: unknown there
    # Priority bits and TPIDs of priority tags, VLAN 0 and 4095.
    ("a", "8100:0:5", BCAST), ("a", "88a8:0:3", BCAST),
    ("g", "88a8:0:1", BCAST), ("u", "8100:0:5", BCAST),
    # The DEI bit.  OVS's netdev receive path re-inserts the tag the kernel
    # delivered as metadata without it, so it never leaves OVS; tags that
    # stayed in the frame keep it.  Lanyard writes tags as OVS does but
    # keeps a customer tag it does not touch as received (known
    # difference, dot1q-tunnel ingress).
    ("t", "8100:20:3:d", BCAST), ("u", "8100:10:d", BCAST),
    ("a", "8100:0:2:d", BCAST), ("q", "8100:5:d", BCAST, {"ovs_no_dei": 1}),
    ("u", "8100:40,8100:5:d", BCAST),
    ("t", "8100:20:6", BCAST), ("g", "8100:0:4", BCAST),
    ("n", "8100:0:2", BCAST), ("q", "8100:0:7", BCAST),
    ("u", "8100:4095", BCAST), ("t", "8100:4095", BCAST),
    ("a", "8100:4095", BCAST), ("n", "8100:4095", BCAST),
    # 802.1ad on trunks and into the dot1q-tunnel port.
    ("t", "88a8:10", BCAST), ("q", "88a8:5", BCAST),
    ("u", "88a8:30,8100:5:3", BCAST), ("v", "88a8:30", BCAST),
    ("g", "8100:10", BCAST), ("a", "9100:10", BCAST), ("t", "9100:10", BCAST),
    # dot1q-tunnel with cvlans (0 included) and an 802.1q service tag.
    ("w", "8100:5", BCAST), ("w", "8100:7", BCAST), ("w", "", BCAST),
    ("w", "88a8:6", BCAST), ("u", "8100:40,8100:5", BCAST),
    ("v", "8100:40", BCAST),
    # Full-size frames gaining a tag on the way out (1514 -> 1518 bytes).
    ("a", "", BCAST, {"size": 1514}), ("t", "8100:20", BCAST, {"size": 1518}),
    # The all-zero MAC is a unicast address like any other.
    ("a", "", BCAST, {"smac": "00:00:00:00:00:00"}),
    ("b", "", "00:00:00:00:00:00"),
    # Reserved addresses (no forward-bpdu): never forwarded, not learned.
    ("a", "", STP, {"type": "llc"}), ("t", "8100:10", LLDP, {"type": 0x88cc}),
    ("u", "", LACP, {"type": 0x8809}), ("g", "", EAPOL, {"type": 0x888e}),
    ("a", "", "01:80:c2:00:00:0f"), ("t", "8100:20", CDP),
    ("t", "8100:20", PVST), ("q", "", "01:00:0c:cc:cc:c3"),
    ("a", "", "00:e0:2b:00:00:00"), ("a", "", "01:00:0c:cd:cd:cd"),
    ("b", "", STP, {"smac": MAC_R, "type": "llc"}),
    ("a", "", MAC_R),                         # unknown: flooded
    # Just outside the reserved set: switched as multicast.
    ("a", "", "01:80:c2:00:00:10"), ("a", "", "01:80:c2:00:00:21"),
    ("a", "", "01:00:0c:cc:cc:c8"),
    # IPv6 multicast, multicast source.
    ("a", "", "33:33:00:00:00:01"), ("t", "8100:20", "33:33:ff:00:00:01"),
    ("a", "", BCAST, {"smac": "01:00:5e:00:00:05"}),
    ("b", "", "01:00:5e:00:00:05"),
    # The bridge's own MAC as a source, then as a destination.
    ("a", "", BCAST, {"smac": BRIDGE_MAC}), ("b", "", BRIDGE_MAC),
    # MAC move: M learned on b, moves to n, then to t, then back to b.
    ("b", "", BCAST, {"smac": MAC_M}), ("a", "", MAC_M),
    ("n", "", BCAST, {"smac": MAC_M}), ("a", "", MAC_M),
    ("t", "8100:10", "02:00:00:00:0e:98", {"smac": MAC_M}), ("a", "", MAC_M),
    ("b", "", "02:00:00:00:0e:97", {"smac": MAC_M}), ("g", "", MAC_M),
    # The 12 most recent entries: Y on c, then 11 on a (phase 2 shrinks
    # the table to them).
    ("c", "", BCAST, {"smac": MAC_Y, "pause": 1.1}),
    ("a", "", BCAST, {"smacs": FILL}),
]
# forward-bpdu=true, mac-table-size=12: OVS keeps the 12 most recently
# used entries (Y and FILL; MAC_B goes), then makes room by evicting from
# the port with the most entries (a), not the oldest entry (Y).
PHASE2 = [
    ("a", "", MAC_B),
    ("t", "8100:20", MAC_Y),
    ("a", "", STP, {"type": "llc"}), ("t", "8100:10", LLDP, {"type": 0x88cc}),
    ("t", "8100:20", CDP), ("q", "", "01:00:0c:cc:cc:c3"),
    ("a", "", "00:e0:2b:00:00:00"), ("u", "", LACP, {"type": 0x8809}),
    ("b", "", STP, {"smac": MAC_R2, "type": "llc"}), ("a", "", MAC_R2),
    ("b", "", "02:00:00:00:0e:96", {"smac": MAC_B}),
    ("t", "8100:10", "02:00:00:00:0e:96", {"smac": MAC_T}),
]
# flood_vlans=30 (OVS flushes its whole MAC table on the change).
PHASE3 = [
    ("a", "", MAC_B), ("a", "", MAC_T),
    ("q", "", BCAST, {"smac": "02:00:00:00:0a:30"}),
    ("u", "8100:30", "02:00:00:00:0a:30"),
    ("b", "", "02:00:00:00:0e:95", {"smac": MAC_B}),
    ("t", "8100:10", "02:00:00:00:0e:95", {"smac": MAC_T}),
]
# t's trunks change: what was learned on t is forgotten, b's entry stays.
PHASE4 = [("a", "", MAC_T), ("a", "", MAC_B)]
# vlan-limit=2: the inner tag is a customer VLAN, which access ports and
# dot1q-tunnel ports' cvlans refuse or accept.
PHASE5 = [
    ("t", "8100:10,8100:5", BCAST), ("u", "8100:40,8100:5", BCAST),
    ("u", "8100:40,8100:7", BCAST),
    # Known difference: OVS's flow holds two VLAN headers, so pushing the
    # service tag onto two parsed customer tags loses the innermost one;
    # Lanyard keeps the customer's frame whole.
    ("w", "8100:5,8100:9", BCAST, {"ovs_drops_inner": "8100:9"}),
    ("t", "88a8:20,8100:7:2", BCAST),
]
# Port other_config:priority-tags: a if-nonzero, c the legacy "true", n,
# q and v always.  A frame leaving with no VLAN carries a priority tag
# with the received PCP (OVS never writes one by default); always adds
# one of TCI 0 only for VLAN 0 on a trunk, from a frame that had a tag.
# Not compared (known difference): OVS also rewrites the PCP of a customer
# tag left in the frame (native-untagged or dot1q-tunnel egress) to the
# received outer one; Lanyard leaves the customer tag alone.
PHASE6 = [
    ("b", "8100:0:5", BCAST), ("b", "", BCAST), ("b", "8100:0", BCAST),
    ("t", "8100:20:3", BCAST), ("t", "8100:10:6", BCAST), ("u", "", BCAST),
    ("u", "8100:0:2", BCAST), ("u", "8100:0", BCAST),
    ("q", "8100:5:3", BCAST), ("u", "88a8:30:2", BCAST),
    ("w", "", BCAST), ("a", "88a8:0:1", BCAST),
]
SETTLE = 1.1
# (configuration changes made in both switches first, SETTLE before them?,
# cases)
PHASES = [
    ([], False, PHASE1),
    ([("Bridge", "BR", "other_config:forward-bpdu=true",
       "other_config:mac-table-size=12")], True, PHASE2),
    ([("Bridge", "BR", "flood_vlans=30")], True, PHASE3),
    ([("Port", "t", "trunks=10,20,40")], True, PHASE4),
    ([("Open_vSwitch", ".", "other_config:vlan-limit=2")], False, PHASE5),
    ([("Port", "a", "other_config:priority-tags=if-nonzero"),
      ("Port", "c", "other_config:priority-tags=true"),
      ("Port", "n", "other_config:priority-tags=always"),
      ("Port", "q", "other_config:priority-tags=always"),
      ("Port", "v", "other_config:priority-tags=always")], False, PHASE6),
]

TRAFFIC = r"""
import ctypes, json, os, select, socket, struct, sys, time
from scapy.all import Ether, Dot1Q, Dot1AD, Dot3, LLC, IP, UDP, Raw, conf
conf.verb = 0
BCAST = "ff:ff:ff:ff:ff:ff"
spec = json.loads(sys.stdin.readline())
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
by_fd = {s.fileno(): k for k, s in socks.items()}

def tags_of(data):
    tags, ofs = [], 12
    while ofs + 4 <= len(data):
        tpid, tci = struct.unpack("!HH", data[ofs:ofs + 4])
        if tpid not in (0x8100, 0x88a8):
            break
        tag = "%04x:%d" % (tpid, tci & 0xfff)
        tag += ":%d" % (tci >> 13) if tci >> 13 else ""
        tags.append(tag + (":d" if tci & 0x1000 else ""))
        ofs += 4
    return ",".join(tags) or "untagged"

def drain(results):
    while True:
        ready, _, _ = select.select(list(socks.values()), [], [], 0)
        if not ready:
            return
        for s in ready:
            key = by_fd[s.fileno()]
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

def frame(n, src, tagspec, dst, smac, typ):
    marker = Raw(b"LYDIFF-%03d-" % n + b"x" * 20)
    if typ == "llc" and not tagspec:
        return bytes(Dot3(dst=dst, src=smac)
                     / LLC(dsap=0x42, ssap=0x42, ctrl=3) / marker)
    p = Ether(dst=dst, src=smac)
    for tag in filter(None, tagspec.split(",")):
        dei = tag.endswith(":d")
        f = [int(x) for x in tag.rstrip(":d").split(":")[1:]] + [0]
        cls = Dot1AD if tag.startswith("88a8") else Dot1Q
        if tag[:4] not in ("8100", "88a8"):     # not a VLAN TPID for either
            p.lastlayer().type = int(tag[:4], 16)
        p = p / cls(vlan=f[0], prio=f[1], id=int(dei))
    if typ is None:
        return bytes(p / IP(src="198.51.100.1", dst="198.51.100.2")
                     / UDP(dport=9) / marker)
    p.lastlayer().type = typ
    return bytes(p / marker)

def run_phase(cases, wait):
    results = {sw: {} for sw in spec["ports"]}
    drain({sw: {} for sw in spec["ports"]})
    for n, src, tagspec, dst, opt in cases:
        smacs = opt.get("smacs") or [
            opt.get("smac") or "02:00:00:00:%02x:%02x" % (n, ord(src))]
        time.sleep(opt.get("pause", 0))
        for smac in smacs:
            data = frame(n, src, tagspec, dst, smac, opt.get("type"))
            data += b"y" * (opt.get("size", 0) - len(data))
            for sw in spec["ports"]:
                socks[(sw, src)].send(data)
            time.sleep(0.005)
        deadline = time.time() + wait
        while time.time() < deadline:
            select.select(list(socks.values()), [], [], 0.02)
            drain(results)
    deadline = time.time() + 0.3       # stragglers of the last case
    while time.time() < deadline:
        select.select(list(socks.values()), [], [], 0.02)
        drain(results)
    return results

time.sleep(0.2)
if "cases" in spec:
    # One shot (test_mirror.py): (port, tags, dst) cases, all on stdin;
    # b's broadcasts come from spec["mac_b"].
    cases = [[n, src, tags, dst,
              {"smac": spec["mac_b"]} if (src, dst) == ("b", BCAST) else {}]
             for n, (src, tags, dst) in enumerate(spec["cases"])]
    json.dump(run_phase(cases, spec["wait"]), sys.stdout)
    sys.exit(0)
# Phases: one JSON line in ({"cases": [[n, port, tags, dst, options]...],
# "wait": s}), one JSON line of results out.
sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    phase = json.loads(line)
    sys.stdout.write(json.dumps(run_phase(phase["cases"], phase["wait"]))
                     + "\n")
    sys.stdout.flush()
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


def case_list(cases, base):
    """CASES as TRAFFIC wants them: numbered from BASE, options filled."""
    return [[base + k, c[0], c[1], c[2], c[3] if len(c) > 3 else {}]
            for k, c in enumerate(cases)]


def test_same_frames_as_ovs(env):
    ovs = Ovs(env.pfx)
    traffic = None
    try:
        ovs.start()
        obr = env.ns("obr")
        ovs.vsctl("add-br", obr, "--", "set", "Bridge", obr,
                  "datapath_type=netdev",
                  "other_config:hwaddr=\"%s\"" % BRIDGE_MAC)
        lbr = env.ns("br")
        env.vsctl("add-br", lbr, "--", "set", "Bridge", lbr,
                  "other_config:hwaddr=\"%s\"" % BRIDGE_MAC)
        ports = {"lanyard": {}, "ovs": {}}
        switches = (("lanyard", "", env.vsctl, lbr),
                    ("ovs", "o", ovs.vsctl, obr))
        for name, settings in PORTS.items():
            for sw, pfx, vsctl, br in switches:
                env.add_ns(pfx + name)
                hif = env.host_if(pfx + name)
                extra = ["--", "set", "Port", hif] + settings if settings else []
                vsctl("add-port", br, hif, *extra)
                ports[sw][name] = [env.ns(pfx + name), env.ns_if(pfx + name)]
        for name in PORTS:
            assert int(ovs.vsctl("get", "Interface", env.host_if("o" + name),
                                 "ofport")) > 0
        traffic = subprocess.Popen([PY, "-c", TRAFFIC], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        traffic.stdin.write(json.dumps({"ports": ports}) + "\n")
        traffic.stdin.flush()
        assert traffic.stdout.readline() == "ready\n", traffic.stderr.read()
        time.sleep(0.5)         # OVS netdev: let the PMD poll the new ports

        diffs, res = [], {"lanyard": {}, "ovs": {}}
        all_cases = []
        for changes, settle, cases in PHASES:
            if settle:
                time.sleep(SETTLE)
            for table, row, *values in changes:
                for sw, pfx, vsctl, br in switches:
                    name = (br if row == "BR" else row if row == "."
                            else env.host_if(pfx + row))
                    vsctl("set", table, name, *values)
            if changes:
                time.sleep(0.2)     # OVS shrinks the table in its run loop
            spec = {"cases": case_list(cases, len(all_cases)), "wait": 0.15}
            all_cases += cases
            traffic.stdin.write(json.dumps(spec) + "\n")
            traffic.stdin.flush()
            line = traffic.stdout.readline()
            assert line, traffic.stderr.read()[-2000:]
            for sw, got in json.loads(line).items():
                res[sw].update(got)
        if os.environ.get("LYDIFF_DUMP"):
            print(json.dumps(res, indent=None, sort_keys=True))
        for n, case in enumerate(all_cases):
            got_l = res["lanyard"].get(str(n), {})
            got_o = res["ovs"].get(str(n), {})
            opt = case[3] if len(case) > 3 else {}
            inner = opt.get("ovs_drops_inner")
            if opt.get("ovs_no_dei"):
                assert got_o, case
                got_l = {p: [t.replace(":d", "") for t in v]
                         for p, v in got_l.items()}
            if inner:
                assert got_o, case
                got_o = {p: [t + "," + inner for t in v]
                         for p, v in got_o.items()}
            if got_l != got_o:
                diffs.append("case %d %s: lanyard %s ovs %s"
                             % (n, case, got_l, got_o))
        assert not diffs, "\n".join(diffs)
        # The comparison must have had something to compare.
        assert sum(len(v) for v in res["ovs"].values()) >= 60, res["ovs"]
        learned = res["lanyard"][str(PHASE1.index(("a", "", MAC_B)))]
        assert learned == {"b": ["untagged"]}, learned
        stp = res["lanyard"].get(str(PHASE1.index(
            ("a", "", STP, {"type": "llc"}))))
        assert not stp, stp
        stp = res["lanyard"][str(len(PHASE1) + PHASE2.index(
            ("a", "", STP, {"type": "llc"})))]
        assert stp["b"] == ["untagged"], stp

        # Priority tags were written (if-nonzero on a, always on v).
        base = len(all_cases) - len(PHASE6)
        ptag = res["lanyard"][str(base)]
        assert ptag["a"] == ["8100:0:5"] and ptag["n"] == ["8100:0:5"], ptag
        ptag = res["lanyard"][str(base + PHASE6.index(("u", "8100:0", BCAST)))]
        assert ptag == {"v": ["8100:0"]}, ptag

        # Lanyard alone: ofproto/trace and coverage/show name the drop.
        env.vsctl("set", "Bridge", lbr, "other_config:forward-bpdu=false")
        out = env.appctl("ofproto/trace", lbr, "in_port=%s,dl_src=%s,"
                         "dl_dst=%s" % (env.host_if("a"), MAC_R, LLDP))
        assert "reserved address (LLDP)" in out, out
        assert "DROP (reserved-destination)" in out, out
        assert out.rstrip().endswith("Datapath actions: drop"), out
        # Phase 1's 11 frames to reserved addresses.
        cov = env.appctl("coverage/show")
        m = re.search(r"drop_reserved_destination .* total: (\d+)", cov)
        assert m and int(m.group(1)) == 11, cov
        # A priority-tags value OVS does not know is logged, read as never.
        env.vsctl("set", "Port", env.host_if("c"),
                  "other_config:priority-tags=sometimes")
        assert wait_for(lambda: 'ignoring invalid other_config:priority-tags '
                        '"sometimes"' in open(env._log("switchd")).read(), 5)
    finally:
        if traffic:
            traffic.kill()
            traffic.wait()
        ovs.stop()
