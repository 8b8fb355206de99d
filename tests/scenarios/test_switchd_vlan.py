"""VLAN behaviour of lanyard-switchd seen on the wire (scapy).

This kernel has no 8021q module, so trunk sides are driven with scapy
instead of VLAN subinterfaces: one frame carrying a unique marker is sent
into a port and every other port is sniffed; the test checks where it comes
out and with which tag, per ovs-vswitchd.conf.db(5) (Port table, VLAN
configuration):
  - access port (tag=T): accepts untagged and priority-tagged (VID 0)
    frames into VLAN T, drops frames tagged with another VID; outputs
    untagged.
  - trunk (trunks=10,20): accepts frames tagged 10 or 20, drops other VIDs;
    untagged input is VLAN 0 (only if VLAN 0 is trunked - here not).
  - native-untagged (tag=10 trunks=10,20): untagged input is VLAN 10,
    VLAN 10 output untagged, VLAN 20 tagged.
  - native-tagged: same input rule, but VLAN 10 output is tagged.
  - 802.1ad (TPID 0x88a8) outer tag: a VLAN header like 0x8100 (OVS
    parses both TPIDs), so the VLAN rules apply to its VID.
"""
import os
import subprocess
import time

import pytest

from switchd_env import env, nsrun, skip_unless_ready  # noqa: F401

pytestmark = skip_unless_ready
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
iface, mark, src, spec = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
p = Ether(dst="ff:ff:ff:ff:ff:ff", src=src)
for tag in filter(None, spec.split(",")):
    tpid, vid = tag.split(":")
    p = p / (Dot1AD(vlan=int(vid)) if tpid == "88a8" else Dot1Q(vlan=int(vid)))
p = p / IP(src="192.0.2.1", dst="192.0.2.255") / UDP(dport=9) / Raw(mark)
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


def inject(env, src, spec, names, n=0):
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
    src_mac = "02:00:00:%02x:%02x:%02x" % (n & 0xff, ord(src[0]), 1)
    nsrun(env.ns(src), PY, "-c", SEND, env.ns_if(src), mark, src_mac, spec)
    out = {}
    for name, p in procs.items():
        text, _ = p.communicate(timeout=15)
        out[name] = [l for l in text.split() if l]
    return out


def test_access_and_trunk_frames(env):
    """(b)+(e) access 10 / access 20 / untagged / trunk 10,20."""
    ports = {"a": ["tag=10"], "c": ["tag=20"], "u": [],
             "t": ["trunks=10,20"]}
    build_bridge(env, ports)
    others = lambda s: [x for x in ports if x != s]  # noqa: E731
    # Trunk input tagged 10: only a, untagged.
    r = inject(env, "t", "8100:10", others("t"), 1)
    assert r == {"a": ["untagged"], "c": [], "u": ["8100:10"]}, r
    # Trunk input tagged 20: only c.
    r = inject(env, "t", "8100:20", others("t"), 2)
    assert r == {"a": [], "c": ["untagged"], "u": ["8100:20"]}, r
    # Trunk input tagged 30 (not trunked): dropped.
    r = inject(env, "t", "8100:30", others("t"), 3)
    assert r == {"a": [], "c": [], "u": []}, r
    # Access 10 untagged input: to the trunk tagged 10.
    r = inject(env, "a", "", others("a"), 4)
    assert r == {"c": [], "u": ["8100:10"], "t": ["8100:10"]}, r
    # Access 10 priority-tagged (VID 0) input: VLAN 10 as well.
    r = inject(env, "a", "8100:0", others("a"), 5)
    assert r == {"c": [], "u": ["8100:10"], "t": ["8100:10"]}, r
    # Access 10 input tagged 20: dropped.
    r = inject(env, "a", "8100:20", others("a"), 6)
    assert r == {"c": [], "u": [], "t": []}, r
    # Port without tag/trunks is a trunk of all VLANs: tagged 10 in goes to
    # a (untagged) and t (tagged).
    r = inject(env, "u", "8100:10", others("u"), 7)
    assert r == {"a": ["untagged"], "c": [], "t": ["8100:10"]}, r
    # An 802.1ad (0x88a8) outer tag is a VLAN header like 0x8100: tagged
    # with VID 100 into an access port, so dropped.
    r = inject(env, "a", "88a8:100,8100:10", others("a"), 8)
    assert r == {"c": [], "u": [], "t": []}, r


@pytest.mark.xfail(strict=True, reason="datapath: untagged (VLAN 0) and "
                   "802.1ad-tagged input on trunks=10,20 is forwarded as "
                   "VLAN 0 instead of being dropped / classified by the "
                   "S-tag VID (reported to the datapath owner)")
def test_trunk_vlan0_and_8021ad(env):
    """Untagged input on a trunk whose trunks set lacks 0 is dropped (OVS
    logs "dropping VLAN 0 packet"); an outer 0x88a8 tag VID 20 on that
    trunk puts the frame in VLAN 20 with the inner tag left as payload."""
    ports = {"a": ["tag=10"], "c": ["tag=20"], "u": [],
             "t": ["trunks=10,20"]}
    build_bridge(env, ports)
    r = inject(env, "t", "", ["a", "c", "u"], 1)
    assert r == {"a": [], "c": [], "u": []}, r
    r = inject(env, "t", "88a8:20,8100:7", ["a", "c", "u"], 2)
    assert r["a"] == [] and r["c"] == ["8100:7"], r


def test_native_modes(env):
    """(c) native-untagged and native-tagged uplinks."""
    ports = {"a": ["tag=10"], "c": ["tag=20"],
             "n": ["tag=10", "trunks=10,20", "vlan_mode=native-untagged"],
             "g": ["tag=10", "trunks=10,20", "vlan_mode=native-tagged"]}
    build_bridge(env, ports)
    r = inject(env, "a", "", ["c", "n", "g"], 1)
    assert r == {"c": [], "n": ["untagged"], "g": ["8100:10"]}, r
    r = inject(env, "c", "", ["a", "n", "g"], 2)
    assert r == {"a": [], "n": ["8100:20"], "g": ["8100:20"]}, r
    # Untagged input on native ports joins the native VLAN 10.
    r = inject(env, "n", "", ["a", "c", "g"], 3)
    assert r == {"a": ["untagged"], "c": [], "g": ["8100:10"]}, r
    r = inject(env, "g", "", ["a", "c", "n"], 4)
    assert r == {"a": ["untagged"], "c": [], "n": ["untagged"]}, r
