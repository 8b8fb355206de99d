"""Dummy ports: frames injected with `netdev-dummy/receive` and read back
with `netdev-dummy/pop`, through lanyard-appctl, no namespaces.

One bridge of dummy ports in every VLAN mode; scapy builds each frame, and
every port's output is checked byte for byte (tags pushed and popped as
ovs-vswitchd.conf.db(5) says), together with MAC learning in fdb/show and
fdb/flush, and the commands' error replies.

Frames are switched by a forwarding thread, so each case ends with a
barrier: once the input port has counted the frame as received, a marker
frame is injected on a separate probe port; with one forwarding thread
(switchd's default) the marker reaches the sink port only after the case's
frame has been sent everywhere it goes."""
import json
import os
import re
import shutil
import socket
import struct
import subprocess

import pytest
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether,
                       ICMPv6EchoRequest, IPv6, Raw, rdpcap)

from switchd_env import APPCTL, env, sh, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready

# Port -> Port column settings.  VLAN 10: a1, a2 (access), t (trunk), nt
# (native, tagged), nu (trunked); VLAN 20: a3 (access), t, nt, nu (native,
# untagged).  probe/sink only carry the barrier markers (VLAN 4000).
PORTS = {
    "a1": ["tag=10"],
    "a2": ["tag=10"],
    "a3": ["tag=20"],
    "t": ["trunks=10,20"],
    "nt": ["vlan_mode=native-tagged", "tag=10", "trunks=20"],
    "nu": ["vlan_mode=native-untagged", "tag=20", "trunks=10"],
    "probe": ["tag=4000"],
    "sink": ["tag=4000"],
}
DATA = ["a1", "a2", "a3", "t", "nt", "nu"]
OURS = "02:d0:"                   # Source MACs of the frames we inject.
MARKER_SRC = "02:d0:ff:ff:ff:ff"
BCAST = "ff:ff:ff:ff:ff:ff"
OVS_APPCTL = shutil.which("ovs-appctl")


def mac(n):
    return "02:d0:00:00:00:%02x" % n


def tags(frame):
    """[(tpid, vid, pcp)] of the leading VLAN headers, and the rest (MACs +
    inner type + payload) with those headers removed."""
    out, b = [], frame
    while b[12:14] in (b"\x81\x00", b"\x88\xa8"):
        tci = int.from_bytes(b[14:16], "big")
        out.append((int.from_bytes(b[12:14], "big"), tci & 0xfff, tci >> 13))
        b = b[:12] + b[16:]
    return out, b


class Dummy:
    def __init__(self, switch_env):
        self.env = switch_env
        self.br = switch_env.ns("br")
        self.n_markers = 0

    def ctl(self, *args, check=True):
        return sh(APPCTL, "-t", self.env.swctl, *args, check=check)

    def receive(self, port, *frames):
        args = [f if isinstance(f, str) else bytes(f).hex() for f in frames]
        self.ctl("netdev-dummy/receive", port, *args)

    def pop(self, port):
        """Our frames the switch sent on PORT (kernel chatter from the
        bridge's internal port is left out)."""
        out = self.ctl("netdev-dummy/pop", port).stdout.split()
        frames = [bytes.fromhex(h) for h in out]
        return [f for f in frames if f[6:12].hex(":").startswith(OURS)
                and f[6:12].hex(":") != MARKER_SRC]

    def rx_packets(self, port):
        text = self.ctl("dpif/show").stdout
        m = re.search(r"port \d+ %s \(dummy\): rx_packets=(\d+)" % port, text)
        return int(m.group(1))

    def barrier(self, port, before, n):
        assert wait_for(lambda: self.rx_packets(port) >= before + n, 5, 0.01)
        self.n_markers += 1
        marker = (Ether(src=MARKER_SRC, dst=BCAST) / IP() / UDP()
                  / Raw(b"marker%d" % self.n_markers))
        self.ctl("netdev-dummy/receive", "probe", bytes(marker).hex())
        want = bytes(marker)
        seen = []

        def arrived():
            hexes = self.ctl("netdev-dummy/pop", "sink").stdout.split()
            seen.extend(bytes.fromhex(h) for h in hexes)
            return want in seen
        assert wait_for(arrived, 5, 0.01), "barrier marker lost"

    def send(self, port, *frames):
        """Injects FRAMES on PORT and returns {port: [frames sent]} for
        every data port, once the switch is done with them."""
        for p in DATA:
            self.pop(p)
        before = self.rx_packets(port)
        self.receive(port, *frames)
        n = len(frames) - 2 * frames.count("--len")
        self.barrier(port, before, n)
        return {p: self.pop(p) for p in DATA}


def frame(src, dst=BCAST, vlans=(), pcp=0, payload=b"lanyard dummy"):
    """An IPv4/UDP frame with VLANS (outer first) of TPID 0x8100."""
    p = Ether(src=src, dst=dst)
    for i, vid in enumerate(vlans):
        p = p / Dot1Q(vlan=vid, prio=pcp if i == 0 else 0)
    return bytes(p / IP(src="198.51.100.1", dst="198.51.100.2") / UDP()
                 / Raw(payload.ljust(64, b".")))


def check(out, sent, expect):
    """OUT from Dummy.send(); SENT the frame sent; EXPECT {port: tag list}
    for every port that must emit exactly one copy (others: none)."""
    _, base = tags(sent)
    for port in DATA:
        got = out[port]
        if port not in expect:
            assert got == [], "%s emitted %r" % (port, got)
            continue
        assert len(got) == 1, "%s: %d copies" % (port, len(got))
        t, rest = tags(got[0])
        assert rest == base, "%s: frame changed beyond its tags" % port
        assert t == expect[port], "%s: tags %r, want %r" % (port, t,
                                                            expect[port])


def rpc(path, method, *params):
    """One JSON-RPC request on the unixctl socket at PATH, as appctl sends
    it; returns the reply object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(json.dumps({"method": method, "params": list(params),
                              "id": 0}).encode())
        buf = b""
        while True:
            chunk = s.recv(65536)
            assert chunk, "control socket closed without a reply"
            buf += chunk
            try:
                return json.loads(buf)
            except ValueError:
                continue


def q(vid, pcp=0):
    return (0x8100, vid, pcp)


@pytest.fixture
def dummy(env):
    br = env.ns("br")
    args = ["add-br", br]
    for name, settings in PORTS.items():
        args += ["--", "add-port", br, name] + settings
        args += ["--", "set", "interface", name, "type=dummy"]
    env.vsctl(*args)
    for name in PORTS:
        assert env.get("Interface", name, "error") in ("", "[]")
    return Dummy(env)


def test_vlans_and_learning(dummy):
    d = dummy
    m1, m2, m3, unknown = mac(1), mac(2), mac(3), mac(0x99)
    vlan10 = {"a2": [], "t": [q(10)], "nt": [q(10)], "nu": [q(10)]}

    # Untagged broadcast on an access port: VLAN 10, tagged on trunks and
    # on the native-tagged port, nothing into VLAN 20.
    f = frame(m1)
    check(d.send("a1", f), f, vlan10)
    # A tagged frame on an access port is dropped...
    f = frame(m1, vlans=[10])
    check(d.send("a1", f), f, {})
    # ...but a priority-tagged one is the access VLAN (PCP kept on trunks,
    # and no priority tag generated on access ports).
    f = frame(m1, vlans=[0], pcp=5)
    check(d.send("a1", f), f, {"a2": [], "t": [q(10, 5)], "nt": [q(10, 5)],
                               "nu": [q(10, 5)]})

    # Trunk: a trunked VLAN goes to its access and native ports, untagged
    # where it is native-untagged; untrunked VLANs and untagged frames
    # (VLAN 0 is not in trunks) are dropped.
    f = frame(m2, vlans=[20])
    check(d.send("t", f), f, {"a3": [], "nt": [q(20)], "nu": []})
    for vlans in ([30], [], [0]):
        f = frame(m2, vlans=vlans)
        check(d.send("t", f), f, {})

    # Native ports: untagged input is the native VLAN.
    f = frame(m3)
    check(d.send("nt", f), f, {"a1": [], "a2": [], "t": [q(10)],
                               "nu": [q(10)]})
    f = frame(mac(4))
    check(d.send("nu", f), f, {"a3": [], "t": [q(20)], "nt": [q(20)]})
    f = frame(mac(5), vlans=[10])
    check(d.send("nu", f), f, {"a1": [], "a2": [], "t": [q(10)],
                               "nt": [q(10)]})

    # Double-tagged on the trunk (vlan-limit 1): the outer tag is the VLAN,
    # the inner one is payload and stays.
    f = frame(mac(6), vlans=[10, 30])
    check(d.send("t", f), f, {"a1": [q(30)], "a2": [q(30)],
                              "nt": [q(10), q(30)], "nu": [q(10), q(30)]})
    # ...and is dropped on an access port (it is tagged).
    check(d.send("a2", f), f, {})

    # Unknown unicast floods within the VLAN; a learned one goes to the one
    # port, tag popped or pushed as that port needs.
    f = frame(mac(7), dst=unknown)
    check(d.send("a2", f), f, {"a1": [], "t": [q(10)], "nt": [q(10)],
                               "nu": [q(10)]})
    f = frame(mac(7), dst=m1)
    check(d.send("a2", f), f, {"a1": []})
    f = frame(mac(8), dst=m1, vlans=[10])
    check(d.send("t", f), f, {"a1": []})
    f = frame(mac(9), dst=m2)
    check(d.send("a3", f), f, {"t": [q(20)]})
    # Learning is per VLAN: m1 is known in VLAN 10 only.
    f = frame(mac(9), dst=m1)
    check(d.send("a3", f), f, {"t": [q(20)], "nt": [q(20)], "nu": []})

    fdb = d.ctl("fdb/show", d.br).stdout
    ofport = {p: d.env.get("Interface", p, "ofport") for p in PORTS}
    for port, vlan, m in (("a1", 10, m1), ("t", 20, m2), ("nt", 10, m3),
                          ("a3", 20, mac(9))):
        assert re.search(r"^\s+%s\s+%d\s+%s\s+\d+$" % (ofport[port], vlan, m),
                         fdb, re.M), (port, m, fdb)
    # A MAC move: m1 now speaks from a2.
    f = frame(m1)
    d.send("a2", f)
    fdb = d.ctl("fdb/show", d.br).stdout
    assert re.search(r"^\s+%s\s+10\s+%s\s" % (ofport["a2"], m1), fdb, re.M)
    f = frame(mac(8), dst=m1, vlans=[10])
    check(d.send("t", f), f, {"a2": []})

    # fdb/flush forgets everything: unicast to m1 floods again.
    assert "flushed" in d.ctl("fdb/flush", d.br).stdout
    assert m1 not in d.ctl("fdb/show", d.br).stdout
    f = frame(mac(2), dst=m1, vlans=[10])
    check(d.send("t", f), f, {"a1": [], "a2": [], "nt": [q(10)],
                              "nu": [q(10)]})


def test_receive_forms_and_pop(dummy):
    d = dummy
    # Several frames in one command, queued in order; pop N takes N.
    frames = [frame(mac(0x10), payload=b"one"), frame(mac(0x10),
                                                      payload=b"two")]
    out = d.send("a1", *frames)
    assert out["a2"] == frames
    d.receive("a1", *frames)
    assert wait_for(lambda: d.ctl("netdev-dummy/pop", "a2", "1").stdout, 5,
                    0.01) == bytes(frames[0]).hex() + "\n"
    assert wait_for(lambda: d.ctl("netdev-dummy/pop", "a2").stdout, 5,
                    0.01) == bytes(frames[1]).hex() + "\n"
    assert d.ctl("netdev-dummy/pop", "a2").stdout == ""
    # Hex with white space between bytes and OVS's --qid 0.
    spaced = " ".join("%02x" % b for b in frames[0])
    d.ctl("netdev-dummy/receive", "a1", "--qid", "0", spaced)
    assert wait_for(lambda: d.pop("a2"), 5, 0.01) == [frames[0]]
    # OVS's own ovs-appctl drives the same commands.
    if OVS_APPCTL:
        sh(OVS_APPCTL, "-t", d.env.swctl, "netdev-dummy/receive", "a1",
           frames[1].hex())
        assert wait_for(lambda: d.pop("a2"), 5, 0.01) == [frames[1]]

    # OVS datapath flow syntax: the frame scapy would build.
    flow = ("in_port(1),eth(src=%s,dst=%s),eth_type(0x8100),"
            "vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.1.2.3,"
            "dst=10.1.2.4,proto=17,tos=0x10,ttl=9,frag=no),udp(src=5,dst=6))"
            % (mac(0x11), BCAST))
    out = d.send("t", flow)
    got = out["a1"][0]
    want = (Ether(src=mac(0x11), dst=BCAST)
            / IP(src="10.1.2.3", dst="10.1.2.4", tos=0x10, ttl=9, id=0)
            / UDP(sport=5, dport=6))
    # Equal bytes: lengths and checksums as scapy computes them.
    assert got[:len(want)] == bytes(want), Ether(got).show(dump=True)
    assert len(got) == 56 and not any(got[len(want):])   # 60 - tag, zeros
    assert tags(out["nt"][0])[0] == [q(10, 3)]

    # IPv6/ICMPv6 and TCP flows, byte for byte as scapy builds them.
    flow = ("recirc_id(0),packet_type(ns=0,id=0),eth(src=%s,"
            "dst=33:33:00:00:00:01),eth_type(0x86dd),ipv6(src=2001:db8::1,"
            "dst=ff02::1,label=0x12345,proto=58,tclass=0x20,hlimit=255,"
            "frag=no),icmpv6(type=128,code=0)" % mac(0x14))
    want = (Ether(src=mac(0x14), dst="33:33:00:00:00:01")
            / IPv6(src="2001:db8::1", dst="ff02::1", fl=0x12345, tc=0x20,
                   hlim=255) / ICMPv6EchoRequest())
    assert d.send("a1", flow)["a2"] == [bytes(want)]
    flow = ("eth(src=%s,dst=%s),eth_type(0x0800),ipv4(src=10.1.2.3,"
            "dst=10.1.2.4,proto=6,tos=0,ttl=64,frag=no),tcp(src=80,dst=8080),"
            "tcp_flags(0x012)" % (mac(0x15), BCAST))
    want = bytes(Ether(src=mac(0x15), dst=BCAST)
                 / IP(src="10.1.2.3", dst="10.1.2.4", id=0)
                 / TCP(sport=80, dport=8080, flags=0x12, window=0))
    assert d.send("a1", flow)["a2"] == [want + bytes(60 - len(want))]

    # ICMP and ARP flows, and --len.
    flow = ("eth(src=%s,dst=%s),eth_type(0x0800),ipv4(src=10.1.2.3,"
            "dst=10.1.2.4,proto=1,ttl=64,frag=no),icmp(type=8,code=0)"
            % (mac(0x12), BCAST))
    got = d.send("a1", flow, "--len", "200")["a2"]
    assert len(got) == 1 and len(got[0]) == 200
    p = Ether(got[0])
    assert p[ICMP].type == 8 and p[IP].len == 186
    rebuilt = Ether(bytes(p))
    del rebuilt[IP].chksum, rebuilt[ICMP].chksum
    assert bytes(rebuilt) == got[0]     # checksums right
    flow = ("eth(src=%s,dst=%s),arp(sip=10.1.2.3,tip=10.1.2.4,op=1,"
            "sha=%s,tha=00:00:00:00:00:00)" % (mac(0x13), BCAST, mac(0x13)))
    got = d.send("a1", flow)["a2"][0]
    a = Ether(got)[ARP]
    assert (a.op, a.psrc, a.pdst, a.hwsrc) == (1, "10.1.2.3", "10.1.2.4",
                                               mac(0x13))


def test_command_errors(dummy):
    d = dummy
    good = frame(mac(0x20)).hex()

    def err(*args):
        r = d.ctl(*args, check=False)
        assert r.returncode != 0 and r.stdout == "", (args, r)
        return r.stderr

    assert "no such dummy netdev \"nope\"" in err("netdev-dummy/receive",
                                                  "nope", good)
    assert ("not a dummy port (its type is internal)"
            in err("netdev-dummy/receive", d.br, good))
    assert "bad hex digit 'g' at offset 4" in err("netdev-dummy/receive",
                                                  "a1", "0011gg")
    assert "odd number of hex digits" in err("netdev-dummy/receive", "a1",
                                             good + "0")
    assert "13 bytes is shorter than an Ethernet header (14" in err(
        "netdev-dummy/receive", "a1", "00" * 13)
    # One argument of 2 x 65536 hex digits is more than execve() passes:
    # talk JSON-RPC to the control socket directly.
    r = rpc(d.env.swctl, "netdev-dummy/receive", "a1", "00" * 65536)
    assert "65536 bytes is longer than the maximum of 65535" in r["error"]
    assert "bad rx queue id \"1\"" in err("netdev-dummy/receive", "a1",
                                          "--qid", "1", good)
    assert "no frame given" in err("netdev-dummy/receive", "a1", "--qid",
                                   "0")
    # Every frame is checked before any is queued.
    assert "frame 2: " in err("netdev-dummy/receive", "a1", good, "zz")
    for flow, msg in (
            ("eth(src=02:00:00:00:00:01,dst=%s)" % BCAST,
             "no eth_type"),
            ("eth(src=1,dst=%s),eth_type(0x0800)" % BCAST,
             "eth(src=1): not a MAC address"),
            ("eth(src=02:00:00:00:00:01/ff:ff:ff:ff:ff:ff),eth_type(0x0800)",
             "masks do not describe a frame"),
            ("eth(),eth_type(0x8100),vlan(vid=5000)",
             "vlan(vid=5000): not a number from 0 to 4095"),
            ("eth(),eth_type(0x8100),vlan(vid=5)",
             "must be followed by encap"),
            ("eth(),eth_type(0x0800),vlan(vid=5)",
             "must follow eth_type(0x8100)"),
            ("eth(),ipv6(src=::1),icmpv6(type=135),nd(target=::1)",
             "unsupported flow key \"nd\""),
            ("eth(),ipv6(src=::1),icmp(type=8)",
             "icmp(...) must follow ipv4(...) (once)"),
            ("eth(),ipv6(src=10.0.0.1)", "not an IPv6 address"),
            ("packet_type(ns=1,id=0x800),eth(),eth_type(0x0800)",
             "only Ethernet (ns=0,id=0)"),
            ("eth(),eth_type(0x0800),udp(src=1)",
             "udp(...) must follow ipv4"),
            ("eth(),ipv4(proto=6),udp(src=1)",
             "udp(...) contradicts ipv4(proto=6)"),
            ("eth(),ipv4(frag=first)", "only unfragmented"),
            ("eth(),eth_type(0x0800", "missing ')'"),
            ("eth(),eth_type(0x0806),ipv4()", "contradicts eth_type(0x0806)")):
        assert msg in err("netdev-dummy/receive", "a1", flow), flow
    assert "--len needs a frame size from 60" in err(
        "netdev-dummy/receive", "a1", "eth(),eth_type(0x0800)", "--len", "59")
    assert "--len must follow a flow" in err("netdev-dummy/receive", "a1",
                                             good, "--len", "100")
    assert "headers need 62 bytes" in err(
        "netdev-dummy/receive", "a1", "eth(),eth_type(0x88a8),vlan(vid=1),"
        "encap(eth_type(0x8100),vlan(vid=2),encap(ipv4(),tcp()))", "--len",
        "60")
    # Nothing of the failed commands reached the switch.
    assert d.rx_packets("a1") == 0

    assert "no such dummy netdev" in err("netdev-dummy/pop", "nope")
    assert "not a dummy port" in err("netdev-dummy/pop", d.br)
    assert "\"0\" is not a positive frame count" in err("netdev-dummy/pop",
                                                         "a1", "0")
    assert d.ctl("netdev-dummy/pop", "a1").stdout == ""

    # A receive queue holds 256 frames: more in one command may not fit
    # (the forwarding thread drains it concurrently), and the reply says
    # how many went in.
    r = d.ctl("netdev-dummy/receive", "a1", *[good] * 300, check=False)
    if r.returncode:
        m = re.search(r"a1: receive queue full, queued (\d+) of 300 frames",
                      r.stderr)
        assert m and int(m.group(1)) >= 256, r.stderr


def test_pcap_options(dummy, tmp_path):
    """OVS's options:tx_pcap, rxq_pcap and pcap on dummy ports."""
    d = dummy
    rx_file, tx_file, both = (str(tmp_path / n)
                              for n in ("a1-rx.pcap", "a2-tx.pcap", "a3.pcap"))
    d.env.vsctl("set", "interface", "a1", "options:rxq_pcap=" + rx_file,
                "--", "set", "interface", "a2", "options:tx_pcap=" + tx_file,
                "--", "set", "interface", "a3", "options:pcap=" + both)
    # Classic libpcap headers at once: magic (host order, microseconds),
    # 2.4, Ethernet.
    for f in (rx_file, tx_file, both):
        with open(f, "rb") as fh:
            magic, major, minor, _, _, _, link = struct.unpack("=IHHiIII",
                                                               fh.read())
        assert (magic, major, minor, link) == (0xa1b2c3d4, 2, 4, 1)

    def frames(path, n):
        return wait_for(lambda: len(rdpcap(path)) >= n and rdpcap(path),
                        5, 0.01)

    # a1 -> VLAN 10: recorded on receive; a2's copies go into its file
    # and are no longer queued for pop (OVS has no pop: the file is where
    # an OVS test reads them).  Not d.send(): its pops would race with the
    # control thread draining a2's queue into the file.
    f1 = frame(mac(0x30), payload=b"pcap one")
    f2 = frame(mac(0x30), payload=b"pcap two" + bytes(1400))
    d.receive("a1", f1, f2)
    assert [bytes(p) for p in rdpcap(rx_file)] == [f1, f2]
    got = frames(tx_file, 2)
    assert [bytes(p) for p in got] == [f1, f2]
    assert got[0].time <= got[1].time
    assert d.pop("a2") == []
    seen = []                   # a1's frames, trunked to nu, out of the way.
    assert wait_for(lambda: seen.extend(d.pop("nu")) or len(seen) == 2, 5,
                    0.01)
    # pcap=: both directions in one file (nu is untagged VLAN 20, as a3).
    f3, f4 = frame(mac(0x31)), frame(mac(0x32), payload=b"back")
    d.receive("a3", f3)
    assert wait_for(lambda: d.pop("nu"), 5, 0.01) == [f3]
    d.receive("nu", f4)
    assert [bytes(p) for p in frames(both, 2)] == [f3, f4]
    if shutil.which("tcpdump"):
        r = subprocess.run(["tcpdump", "-r", both, "-nn", "-e"],
                           capture_output=True, text=True, check=True)
        assert len(r.stdout.splitlines()) == 2 and mac(0x32) in r.stdout

    # Without the option, a2's frames are queued for pop again; the file
    # stays as it was.  A new setting appends to the existing file.
    d.env.vsctl("remove", "interface", "a2", "options", "tx_pcap")
    assert d.send("a1", f1)["a2"] == [f1]
    assert len(rdpcap(tx_file)) == 2
    size = os.path.getsize(tx_file)
    d.env.vsctl("set", "interface", "a2", "options:tx_pcap=" + tx_file)
    d.receive("a1", f2)
    assert [bytes(p) for p in frames(tx_file, 3)] == [f1, f2, f2]
    assert os.path.getsize(tx_file) == size + 16 + len(f2)

    # A file that cannot be opened is logged with the reason.
    bad = str(tmp_path / "missing-dir" / "x.pcap")
    d.env.vsctl("set", "interface", "a3", "options:pcap=" + bad)
    log = os.path.join(d.env.dir, "switchd.log")
    assert wait_for(lambda: ('a3: cannot open pcap file "%s" for appending '
                             '(No such file or directory)' % bad)
                    in open(log).read(), 5, 0.05)
