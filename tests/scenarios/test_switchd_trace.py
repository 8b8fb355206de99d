"""ofproto/trace and coverage/show of lanyard-switchd.

The trace runs the datapath's own decision code, so each explanation is
checked against frames really sent through the switch (scapy)."""
import re

from switchd_env import (APPCTL, build_bridge, env, inject, sh,  # noqa: F401
                         skip_unless_ready)

pytestmark = skip_unless_ready

PORTS = {"a": ["tag=10"], "b": ["tag=10"], "c": ["tag=20"],
         "t": ["trunks=10,20"]}


def trace(env, br, flow, check=True):
    return env.appctl("ofproto/trace", br, flow, check=check)


def flow(env, port, src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff",
         extra=""):
    return "in_port=%s,dl_src=%s,dl_dst=%s%s" % (env.host_if(port), src, dst,
                                                 extra)


def out_line(text, env, port):
    m = re.search(r"^  port \d+ \(%s\): (.*)$" % env.host_if(port), text,
                  re.M)
    return m.group(1) if m else None


def test_trace_explains_decisions(env):
    br = build_bridge(env, PORTS)
    # Drops at VLAN input, with the reason.
    t = trace(env, br, flow(env, "t", extra=",dl_vlan=30"))
    assert "DROP (vlan-not-trunked)" in t and "VLAN 30" in t, t
    assert t.rstrip().endswith("Datapath actions: drop"), t
    t = trace(env, br, flow(env, "t"))
    assert "DROP (vlan-not-trunked)" in t and "untagged" in t, t
    t = trace(env, br, flow(env, "a", extra=",dl_vlan=20"))
    assert "DROP (tagged-on-access-port)" in t, t

    # Broadcast from an access port: flood within VLAN 10, tag pushed on
    # the trunk, nothing to VLAN 20; the same frame really sent agrees.
    t = trace(env, br, flow(env, "a"))
    assert "VLAN input: VLAN 10" in t and "broadcast: flood" in t, t
    assert out_line(t, env, "b").startswith("sent untagged"), t
    assert out_line(t, env, "t").startswith("sent 0x8100 vid 10"), t
    assert "pushed 0x8100 vid 10" in out_line(t, env, "t"), t
    assert out_line(t, env, "c").startswith("skipped"), t
    r = inject(env, "a", "", ["b", "c", "t"], 1)
    assert r == {"b": ["untagged"], "c": [], "t": ["8100:10"]}, r

    # Priority-tagged input on an access port is VLAN 10 as well.
    t = trace(env, br, flow(env, "a", extra=",dl_vlan=0"))
    assert "VLAN input: VLAN 10" in t and "priority tag" in t, t

    # Learning: b's MAC is learned by sending a frame, then a unicast trace
    # to it hits and goes to b only; the trace itself learns nothing.
    mac_b = "02:00:00:00:0b:0b"
    inject(env, "b", "", ["a"], 2, src_mac=mac_b)
    t = trace(env, br, flow(env, "a", dst=mac_b))
    assert re.search(r"is learned on VLAN 10 at port \d+ \(%s\): unicast"
                     % env.host_if("b"), t), t
    assert "would be learned" in t and "Output (unicast)" in t, t
    assert out_line(t, env, "t") is None and out_line(t, env, "b"), t
    assert "02:00:00:00:00:01" not in env.appctl("fdb/show", br)
    r = inject(env, "a", "", ["b", "c", "t"], 3, dst=mac_b)
    assert r == {"b": ["untagged"], "c": [], "t": []}, r
    # b's MAC seen on the trunk in VLAN 10: a move.
    t = trace(env, br, flow(env, "t", src=mac_b, extra=",dl_vlan=10"))
    assert "it would move" in t, t
    # Same-port destination: dropped.
    t = trace(env, br, flow(env, "b", src="02:00:00:00:00:05", dst=mac_b))
    assert "DROP (same-port)" in t, t

    # OVS spellings: port number, vlan_tci, dl_type, shorthand, LOCAL.
    no = env.get("Interface", env.host_if("t"), "ofport")
    t = env.appctl("ofproto/trace", br, "in_port=%s,vlan_tci=0x1014,"
                   "dl_src=02:00:00:00:00:09,dl_dst=ff:ff:ff:ff:ff:ff,arp" % no)
    assert "VLAN input: VLAN 20" in t and "type 0x0806" in t, t
    t = trace(env, br, "in_port=LOCAL,dl_src=02:00:00:00:00:09,"
              "dl_dst=ff:ff:ff:ff:ff:ff,dl_vlan=20")
    assert "Input port: " in t and "VLAN input: VLAN 20" in t, t

    # Clear errors.
    for args, msg in (([br, "in_port=99,dl_vlan=1"], "no such port"),
                      ([br, "dl_vlan=1"], "must give in_port"),
                      ([br, "in_port=1,dl_src=zz"], "not a MAC address"),
                      ([br, "in_port=1,nw_ttl=3"], "unknown field"),
                      (["nobr", "in_port=1"], "no such bridge")):
        r = sh(APPCTL, "-t", env.swctl, "ofproto/trace", *args, check=False)
        assert r.returncode != 0 and msg in r.stderr, (args, r.stderr)


def test_coverage_show(env):
    br = build_bridge(env, {"a": ["tag=10"], "b": ["tag=10"]})
    inject(env, "a", "8100:20", ["b"], 1)      # dropped: tagged on access
    inject(env, "a", "", ["b"], 2)             # flooded, learned
    out = env.appctl("coverage/show")
    lines = out.splitlines()
    assert re.fullmatch(r"Event coverage, avg rate over last: 5 seconds, "
                        r"last minute, last hour,  hash=[0-9a-f]{8}:",
                        lines[0]), lines[0]
    assert re.fullmatch(r"\d+ events never hit", lines[-1]), lines[-1]
    counts = {}
    for l in lines[1:-1]:
        m = re.fullmatch(r"(\S+) +[\d.]+/sec +[\d.]+/sec +[\d.]+/sec"
                         r"   total: (\d+)", l)
        assert m, l
        counts[m.group(1)] = int(m.group(2))
    assert counts.get("drop_tagged_on_access_port", 0) >= 1, counts
    assert counts.get("fwd_flood", 0) >= 1, counts
    assert counts.get("mac_learned", 0) >= 1, counts
    assert counts.get("port_add", 0) >= 3, counts    # a, b, local port
    assert counts.get("bridge_add") == 1, counts
    assert counts.get("txn_status_update", 0) >= 1, counts
    env.vsctl("del-br", br)
    after = env.appctl("coverage/show")
    assert "bridge_del" in after
    # Totals never go down when a bridge (and its counters) goes away.
    m = re.search(r"^fwd_flood .*total: (\d+)$", after, re.M)
    assert m and int(m.group(1)) >= counts["fwd_flood"], after
