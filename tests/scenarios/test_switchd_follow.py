"""Internal ports follow the bridge's smallest MTU, as in ovs-vswitchd.

An internal port without mtu_request (the bridge's local port included)
takes the smallest MTU of the bridge's other ports: system ports and
internal ports that asked for an MTU; 1500 when there are none.  The rules
are those of Open vSwitch 3.1 (ofproto.c, update_mtu()): the minimum is
recomputed when such a port comes, goes or changes its MTU, and every
follower is then set to it."""
from switchd_env import env, sh, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready


def dev_mtu(name):
    with open("/sys/class/net/%s/mtu" % name) as f:
        return int(f.read())


def test_internal_ports_follow_min_mtu(env):
    br = env.ns("br")
    i1, i2 = env.ns("i1"), env.ns("i2")
    env.vsctl("add-br", br, "--", "add-port", br, i1, "--", "set",
              "Interface", i1, "type=internal")
    assert wait_for(lambda: dev_mtu(br) == 1500 and dev_mtu(i1) == 1500, 5)

    # A system port with MTU 3000: the minimum rises, the followers too.
    env.add_ns("v")
    v = env.host_if("v")
    sh("ip", "link", "set", v, "mtu", "3000")
    env.vsctl("add-port", br, v)
    assert wait_for(lambda: dev_mtu(br) == 3000 and dev_mtu(i1) == 3000, 5)
    assert wait_for(lambda: env.get("Interface", i1, "mtu") == "3000", 8)

    # An internal port that asks for 2000 counts as well, and keeps it.
    env.vsctl("add-port", br, i2, "--", "set", "Interface", i2,
              "type=internal", "mtu_request=2000")
    assert wait_for(lambda: dev_mtu(br) == 2000 and dev_mtu(i1) == 2000, 5)
    assert dev_mtu(i2) == 2000 and dev_mtu(v) == 3000

    # The system port's MTU changes outside the database: seen by the 5 s
    # poll, followed.
    sh("ip", "link", "set", v, "mtu", "1400")
    assert wait_for(lambda: dev_mtu(br) == 1400 and dev_mtu(i1) == 1400, 12)
    assert dev_mtu(i2) == 2000

    # It leaves: the minimum is the requested 2000 again.
    env.vsctl("del-port", br, v)
    assert wait_for(lambda: dev_mtu(br) == 2000 and dev_mtu(i1) == 2000, 5)

    # i2 gives up its request: it follows too, and with no port left to
    # set it the minimum is 1500.
    env.vsctl("clear", "Interface", i2, "mtu_request")
    assert wait_for(lambda: all(dev_mtu(p) == 1500 for p in (br, i1, i2)), 5)
    assert wait_for(lambda: env.get("Interface", i2, "mtu") == "1500", 8)


def dev_mac(name):
    try:
        with open("/sys/class/net/%s/address" % name) as f:
            return f.read().strip()
    except OSError:
        return None             # Not (yet) there: switchd restarting.


def uuid_mac(uuid):
    """The first 6 bytes of the uuid as stored (32-bit words, little
    endian), marked locally administered: as ovs-vswitchd derives a
    bridge's default MAC."""
    h = uuid.replace("-", "")
    raw = bytes.fromhex(h[6:8] + h[4:6] + h[2:4] + h[0:2] + h[14:16]
                        + h[12:14])
    raw = bytes([(raw[0] & ~1) | 2]) + raw[1:]
    return ":".join("%02x" % c for c in raw)


def test_bridge_mac_from_ports(env):
    """Without other_config:hwaddr the bridge takes the smallest globally
    administered MAC of its ports (the locally administered ones of veths
    and internal ports do not count), else a MAC made from its uuid; the
    datapath_id follows."""
    br = env.ns("br")
    env.vsctl("add-br", br, "--", "add-port", br, env.ns("i1"), "--", "set",
              "Interface", env.ns("i1"), "type=internal")
    derived = uuid_mac(env.get("Bridge", br, "_uuid"))
    assert wait_for(lambda: dev_mac(br) == derived, 5)
    assert wait_for(lambda: env.get("Bridge", br, "datapath_id")
                    == "0000" + derived.replace(":", ""), 5)

    ports = {}
    for name, mac in (("a", "00:16:3e:00:00:20"), ("b", "00:16:3e:00:00:10"),
                      ("c", "02:16:3e:00:00:01")):
        env.add_ns(name)
        ports[name] = env.host_if(name)
        sh("ip", "link", "set", ports[name], "address", mac)
    env.vsctl("add-port", br, ports["c"])          # Local: no change.
    env.vsctl("add-port", br, ports["a"])
    assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:20", 5)
    env.vsctl("add-port", br, ports["b"])
    assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:10", 5)
    assert wait_for(lambda: env.get("Bridge", br, "datapath_id")
                    == "000000163e000010", 5)
    assert wait_for(lambda: env.get("Interface", br, "mac_in_use")
                    == "00:16:3e:00:00:10", 8)
    # other_config:hwaddr wins; without it the smallest again.
    env.vsctl("set", "Bridge", br, "other_config:hwaddr=00:16:3e:00:00:99")
    assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:99", 5)
    env.vsctl("remove", "Bridge", br, "other_config", "hwaddr")
    assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:10", 5)
    # The port holding it leaves: the next smallest; then its MAC changes
    # outside the database (seen by the 5 s poll).
    env.vsctl("del-port", br, ports["b"])
    assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:20", 5)
    sh("ip", "link", "set", ports["a"], "address", "00:16:3e:00:00:05")
    assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:05", 12)
    # Stable over a restart of switchd.
    env.kill("switchd")
    env.start_switchd()
    assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:05", 8)
    env.vsctl("del-port", br, ports["a"])
    assert wait_for(lambda: dev_mac(br) == derived, 5)


def test_ovs_does_the_same(env):
    """The expectations above, checked on a private Open vSwitch 3.1
    (netdev datapath): the uuid-derived MAC, the smallest global MAC,
    internal ports following the smallest MTU up and down."""
    import shutil
    if not (shutil.which("ovs-vswitchd") and shutil.which("ovsdb-server")):
        import pytest
        pytest.skip("Open vSwitch is not installed")
    from test_switchd_vs_ovs import Ovs
    ovs = Ovs(env.pfx)
    try:
        ovs.start()
        br, i1 = env.ns("obr"), env.ns("oi1")
        ovs.vsctl("add-br", br, "--", "set", "Bridge", br,
                  "datapath_type=netdev", "--", "add-port", br, i1, "--",
                  "set", "Interface", i1, "type=internal")
        derived = uuid_mac(ovs.vsctl("get", "Bridge", br, "_uuid").strip())
        assert wait_for(lambda: dev_mac(br) == derived, 20), (dev_mac(br),
                                                              derived)
        ports = {}
        for name, mac, mtu in (("oa", "00:16:3e:00:00:20", 3000),
                               ("ob", "02:16:3e:00:00:01", 4000)):
            env.add_ns(name)
            ports[name] = env.host_if(name)
            sh("ip", "link", "set", ports[name], "address", mac, "mtu",
               str(mtu))
            ovs.vsctl("add-port", br, ports[name])
        assert wait_for(lambda: dev_mac(br) == "00:16:3e:00:00:20", 10)
        assert wait_for(lambda: dev_mtu(br) == 3000 and dev_mtu(i1) == 3000,
                        10)
        sh("ip", "link", "set", ports["oa"], "mtu", "1400")
        assert wait_for(lambda: dev_mtu(i1) == 1400, 12)
        ovs.vsctl("del-port", br, ports["oa"])
        assert wait_for(lambda: dev_mac(br) == derived
                        and dev_mtu(i1) == 4000, 10)
    finally:
        ovs.stop()
