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

from switchd_env import build_bridge, env, inject, skip_unless_ready  # noqa: F401

pytestmark = skip_unless_ready

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


def test_trunk_vlan0_and_8021ad(env):
    """Untagged input on a trunk whose trunks set lacks 0 is dropped (OVS
    logs "dropping VLAN 0 packet"); an outer 0x88a8 tag VID 20 on that
    trunk puts the frame in VLAN 20 with the inner tag left as payload
    (other_config:vlan-limit defaults to 1), so the access port tag=20 emits
    it with the inner 0x8100 tag.  With vlan-limit=2 the inner VID is the
    customer VLAN and access ports refuse the frame, as in ovs-vswitchd
    (regression: the datapath used to behave as vlan-limit=2 always)."""
    ports = {"a": ["tag=10"], "c": ["tag=20"], "u": [],
             "t": ["trunks=10,20"]}
    build_bridge(env, ports)
    r = inject(env, "t", "", ["a", "c", "u"], 1)
    assert r == {"a": [], "c": [], "u": []}, r
    r = inject(env, "t", "88a8:20,8100:7", ["a", "c", "u"], 2)
    assert r == {"a": [], "c": ["8100:7"], "u": ["88a8:20,8100:7"]}, r
    env.vsctl("set", "Open_vSwitch", ".", "other_config:vlan-limit=2")
    r = inject(env, "t", "88a8:20,8100:7", ["a", "c", "u"], 3)
    assert r == {"a": [], "c": [], "u": ["88a8:20,8100:7"]}, r


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
