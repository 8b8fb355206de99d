"""lanyard-switchd end to end: ovs-vsctl -> lanyard-dbd -> switchd -> veths.

Each test builds its own namespaces (prefix lsw + 4 hex digits) and a private
pair of daemons (see switchd_env.py); teardown fails the test if a daemon
crashed or logged an unexpected ERR/EMER.

Run as root:  LANYARD_BUILD=build /usr/bin/python3 -m pytest \
              tests/scenarios/test_switchd_basic.py
"""
import re
import subprocess
import time

import pytest

from switchd_env import env, nsrun, sh, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready


def access(env, br, name, idx, tag=None):
    env.add_ns(name, env.ip(idx) + "/24")
    args = ["add-port", br, env.host_if(name)]
    if tag is not None:
        args += ["tag=%d" % tag]
    env.vsctl(*args[:3], *(["--", "set", "port", env.host_if(name)]
                           + args[3:] if tag is not None else []))


def test_access_vlan_matrix(env):
    """(a) Same-VLAN access ports reach each other, others do not."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    plan = {"a": (1, 10), "b": (2, 10), "c": (3, 20), "d": (4, 20),
            "e": (5, None), "f": (6, None)}
    for name, (idx, tag) in plan.items():
        access(env, br, name, idx, tag)
    for src, (_, stag) in plan.items():
        for dst, (didx, dtag) in plan.items():
            if src >= dst:
                continue
            if stag == dtag:
                assert env.ping_eventually(src, env.ip(didx)), (src, dst)
    for src, (_, stag) in plan.items():
        for dst, (didx, dtag) in plan.items():
            if src != dst and stag != dtag:
                assert not env.ping(src, env.ip(didx), count=1), (src, dst)


def test_vsctl_waits_until_live(env):
    """(j) ovs-vsctl without --no-wait returns after switchd applied the
    change: the very first ping after add-port succeeds."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    env.add_ns("a", env.ip(1) + "/24")
    env.add_ns("b", env.ip(2) + "/24")
    env.vsctl("add-port", br, env.host_if("a"))
    env.vsctl("add-port", br, env.host_if("b"))
    assert env.ping("a", env.ip(2), count=1, wait=2)
    nxt = env.get("Open_vSwitch", ".", "next_cfg")
    cur = env.get("Open_vSwitch", ".", "cur_cfg")
    assert nxt == cur
    assert int(env.get("Interface", env.host_if("a"), "ofport")) > 0


def test_missing_netdev(env):
    """(h) A port whose netdev does not exist gets error + ofport -1 while the
    others keep forwarding.  When the device appears later it is picked up
    at the next reconfiguration (any database change), as OVS does."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    access(env, br, "a", 1)
    access(env, br, "b", 2)
    ghost = env.ns("gh")
    env.vsctl("add-port", br, ghost)
    err = env.get("Interface", ghost, "error")
    assert "could not open network device %s (No such device)" % ghost in err
    assert env.get("Interface", ghost, "ofport") == "-1"
    assert env.ping("a", env.ip(2), count=2)
    # Create it and poke the database: the port comes up.
    sh("ip", "link", "add", ghost, "type", "veth", "peer", "name", ghost + "p")
    env.links.append(ghost)
    sh("ip", "link", "set", ghost, "up")
    env.vsctl("set", "Interface", ghost, "external_ids:poke=1")
    assert wait_for(lambda: env.get("Interface", ghost, "ofport") not in
                    ("-1", "[]"), 10)
    assert env.get("Interface", ghost, "error") in ("[]", "")
    assert env.ping("a", env.ip(2), count=2)


def test_internal_port_mac(env):
    """(f) Interface.mac on an internal port sets the kernel device's MAC and
    mac_in_use reports it."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    ip = env.ns("ip")
    env.vsctl("add-port", br, ip, "--", "set", "Interface", ip,
              "type=internal", 'mac="00:01:02:03:04:05"')
    out = sh("ip", "-o", "link", "show", ip).stdout
    assert "link/ether 00:01:02:03:04:05" in out
    assert wait_for(lambda: env.get("Interface", ip, "mac_in_use")
                    == "00:01:02:03:04:05", 8)


def test_patch_ports(env):
    """(g) Two bridges joined by a patch pair forward between their ports;
    deleting one side of the patch cuts them apart."""
    b1, b2 = env.ns("x1"), env.ns("x2")
    env.vsctl("add-br", b1)
    env.vsctl("add-br", b2)
    access(env, b1, "a", 1)
    access(env, b2, "b", 2)
    p1, p2 = env.ns("p1"), env.ns("p2")
    env.vsctl("add-port", b1, p1, "--", "set", "Interface", p1, "type=patch",
              "options:peer=" + p2, "--", "add-port", b2, p2, "--", "set",
              "Interface", p2, "type=patch", "options:peer=" + p1)
    assert env.ping_eventually("a", env.ip(2))
    env.vsctl("del-port", b2, p2)
    assert not env.ping("a", env.ip(2), count=2)


def test_fake_bridge(env):
    """(d) add-br FAKE PARENT 140: its internal port, addressed in the host,
    reaches an access port with tag=140 and not one with tag=141."""
    br = env.ns("br")
    fake = env.ns("fk")
    env.vsctl("add-br", br)
    env.vsctl("add-br", fake, br, "140")
    access(env, br, "a", 1, 140)
    access(env, br, "b", 2, 141)
    sh("ip", "addr", "add", env.ip(9) + "/24", "dev", fake)
    sh("ip", "link", "set", fake, "up")
    assert env.get("Port", fake, "tag") == "140"
    assert env.ping_eventually("a", env.ip(9))
    assert not env.ping("b", env.ip(9), count=2)


FDB_HEAD = re.compile(r"^ port\s+VLAN\s+MAC\s+Age$")
# The port column is the OpenFlow port number, "LOCAL" for the bridge's
# local port (65534), as ovs-vswitchd prints it.
FDB_ROW = re.compile(r"^\s*(\d+|LOCAL)\s+\d+\s+([0-9a-f:]{17})\s+\d+$")


def test_fdb_show_and_flush(env):
    """(k) fdb/show has OVS's header and one row per learned MAC with the
    port's ofport and VLAN; fdb/flush empties it."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    access(env, br, "a", 1, 10)
    access(env, br, "b", 2, 10)
    assert env.ping("a", env.ip(2), count=2)
    mac_a = nsrun(env.ns("a"), "cat", "/sys/class/net/%s/address"
                  % env.ns_if("a")).stdout.strip()
    ofport_a = env.get("Interface", env.host_if("a"), "ofport")
    out = env.appctl("fdb/show", br).splitlines()
    assert FDB_HEAD.match(out[0]), out
    rows = [l.split() for l in out[1:]]
    assert all(FDB_ROW.match(l) for l in out[1:]), out
    assert [ofport_a, "10", mac_a] in [r[:3] for r in rows], out
    # The bridge's local port is OFPP_LOCAL everywhere (as ovs-vswitchd).
    assert env.get("Interface", br, "ofport") == "65534"
    assert "%s 65534" % br in env.appctl("dpif/show")
    env.appctl("fdb/flush", br)
    out = env.appctl("fdb/show", br).splitlines()
    assert len(out) == 1 and FDB_HEAD.match(out[0]), out


def test_iperf3_tcp(env):
    """(l) TCP with default offloads on passes through at > 0.5 Gbit/s."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    access(env, br, "a", 1)
    access(env, br, "b", 2)
    assert env.ping_eventually("a", env.ip(2))
    srv = subprocess.Popen(["ip", "netns", "exec", env.ns("b"), "iperf3",
                            "-s", "-1"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        r = nsrun(env.ns("a"), "iperf3", "-c", env.ip(2), "-t", "3", "-J",
                  timeout=30)
        import json
        bps = json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
        assert bps > 0.5e9, bps
    finally:
        srv.kill()
        srv.wait()


def test_link_state_refresh(env):
    """Interface.admin_state/link_state follow the device without any
    database change (polled every 5 s)."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    access(env, br, "a", 1)
    hif = env.host_if("a")
    assert wait_for(lambda: env.get("Interface", hif, "admin_state")
                    == "up", 8)
    sh("ip", "link", "set", hif, "down")
    assert wait_for(lambda: env.get("Interface", hif, "admin_state")
                    == "down" and env.get("Interface", hif, "link_state")
                    == "down", 12)
    sh("ip", "link", "set", hif, "up")
    assert wait_for(lambda: env.get("Interface", hif, "link_state")
                    == "up", 12)
