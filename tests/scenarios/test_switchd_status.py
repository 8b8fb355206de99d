"""Status and device settings lanyard-switchd takes from / writes to the
database, per ovs-vswitchd.conf.db(5): Interface ofport_request (and port
numbers that survive restarts and re-adds), mtu_request, Bridge
other_config:hwaddr and datapath_id, Open_vSwitch statistics, and ports
with several interfaces (bonds) configured with a setting this switch
cannot realise (an unknown bond-detect-mode), which it reports as an
error."""
import re
import time

from switchd_env import env, sh, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready


def ofports(env):
    out = env.vsctl("--no-wait", "--columns=name,ofport", "-f", "csv",
                    "--no-headings", "list", "Interface")
    return {n: int(o) for n, o in (l.split(",") for l in out.split())}


def link_field(name, field):
    out = sh("ip", "-o", "link", "show", name).stdout
    return re.search(r"\b%s (\S+)" % field, out).group(1)


def test_ofport_request_and_stable_numbers(env):
    br = env.ns("br")
    env.vsctl("add-br", br)
    a, b, c = (env.host_if(n) for n in "abc")
    for n in "abc":
        env.add_ns(n)
    env.vsctl("add-port", br, a, "--", "set", "Interface", a,
              "ofport_request=10")
    env.vsctl("add-port", br, b)
    env.vsctl("add-port", br, c)
    first = ofports(env)
    assert first[a] == 10, first
    # A request that another port holds: the port still gets a number
    # (another one), as ovs-vswitchd does; the holder keeps its number.
    env.vsctl("set", "Interface", c, "ofport_request=10")
    now = ofports(env)
    assert now[a] == 10 and now[c] not in (10, -1, now[b]), now
    assert env.get("Interface", c, "error") in ("", "[]")
    # Changing the request re-adds the port with the new number.
    env.vsctl("set", "Interface", c, "ofport_request=20")
    assert ofports(env)[c] == 20
    before = ofports(env)

    # Restart switchd: every interface gets the number it had.
    env.kill("switchd")
    env.start_switchd()
    env.vsctl("set", "Bridge", br, "external_ids:x=1")   # wait until live
    assert ofports(env) == before
    # Delete and re-add a port: it gets its number back.
    env.vsctl("del-port", br, b)
    env.vsctl("add-port", br, b)
    assert ofports(env) == before
    out = env.appctl("dpif/show")
    assert re.search(r"^\s+%s 10$" % a, out, re.M), out


def test_mtu_request(env):
    br = env.ns("br")
    env.vsctl("add-br", br)
    env.add_ns("a")
    sysp, intp = env.host_if("a"), env.ns("in")
    env.vsctl("add-port", br, sysp, "--", "set", "Interface", sysp,
              "mtu_request=1400")
    env.vsctl("add-port", br, intp, "--", "set", "Interface", intp,
              "type=internal", "mtu_request=1280")
    env.vsctl("set", "Interface", br, "mtu_request=2000")
    for name, mtu in ((sysp, 1400), (intp, 1280), (br, 2000)):
        assert link_field(name, "mtu") == str(mtu), name
        assert wait_for(lambda: env.get("Interface", name, "mtu")
                        == str(mtu), 8), name
    env.vsctl("set", "Interface", sysp, "mtu_request=1450")
    assert link_field(sysp, "mtu") == "1450"


def test_hwaddr_and_datapath_id(env):
    br = env.ns("br")
    env.vsctl("add-br", br)
    dpid = env.get("Bridge", br, "datapath_id")
    mac = link_field(br, "link/ether")
    assert dpid == "0000" + mac.replace(":", ""), (dpid, mac)

    env.vsctl("set", "Bridge", br, "other_config:hwaddr=02:12:34:56:78:9a")
    assert link_field(br, "link/ether") == "02:12:34:56:78:9a"
    assert env.get("Bridge", br, "datapath_id") == "000002123456789a"
    assert wait_for(lambda: env.get("Interface", br, "mac_in_use")
                    == "02:12:34:56:78:9a", 8)

    env.vsctl("set", "Bridge", br, "other_config:datapath-id=0123456789ABCDEF")
    assert env.get("Bridge", br, "datapath_id") == "0123456789abcdef"
    # Not 16 hex digits: ignored, the id comes from the MAC again.
    env.vsctl("set", "Bridge", br, "other_config:datapath-id=12345")
    assert env.get("Bridge", br, "datapath_id") == "000002123456789a"


def test_system_statistics(env):
    env.vsctl("set", "Open_vSwitch", ".", "other_config:enable-statistics=true")

    def stats():
        out = env.vsctl("--no-wait", "get", "Open_vSwitch", ".", "statistics")
        return dict(re.findall(r'([\w-]+)="([^"]*)"', out))

    s = wait_for(lambda: stats().get("process_lanyard-switchd") and stats(), 8)
    assert s, stats()
    assert int(s["cpu"]) >= 1
    assert re.fullmatch(r"[\d.]+,[\d.]+,[\d.]+", s["load_average"])
    mem = [int(x) for x in s["memory"].split(",")]
    assert len(mem) in (3, 5) and mem[0] >= mem[1] > 0
    proc = [int(x) for x in s["process_lanyard-switchd"].split(",")]
    assert len(proc) == 6 and proc[0] >= proc[1] > 0 and proc[3] == 0
    assert re.match(r"/\S*,\d+,\d+", s["file_systems"])
    # Refreshed every 5 s: the process' age grows.
    assert wait_for(lambda: int(stats()["process_lanyard-switchd"]
                                .split(",")[4]) > proc[4], 8)
    env.vsctl("set", "Open_vSwitch", ".",
              "other_config:enable-statistics=false")
    assert wait_for(lambda: stats() == {}, 8)


def test_bond_port_reports_error(env):
    """add-bond creates a Port with two interfaces.  A bond-detect-mode
    other than carrier/miimon cannot be realised: both interfaces get an
    Interface.error naming the setting and ofport -1; every other port keeps
    forwarding.
    (Working bonds: test_bond.py.)"""
    br = env.ns("br")
    env.vsctl("add-br", br)
    for i, n in enumerate("xy"):
        env.add_ns(n, env.ip(i + 1) + "/24")
        env.vsctl("add-port", br, env.host_if(n))
    env.add_ns("p")
    env.add_ns("q")
    bond, p, q = env.ns("bond"), env.host_if("p"), env.host_if("q")
    env.vsctl("add-bond", br, bond, p, q,    # returns: cur_cfg was updated
              "other_config:bond-detect-mode=arp")
    for iface in (p, q):
        err = env.get("Interface", iface, "error")
        assert "unknown bond-detect-mode" in err and bond in err, err
        assert env.get("Interface", iface, "ofport") == "-1"
    assert env.ping("x", env.ip(2))
    # Turning the bond back into a single-interface port makes it work.
    env.vsctl("del-port", br, bond, "--", "add-port", br, p)
    assert int(env.get("Interface", p, "ofport")) > 0
    assert env.get("Interface", p, "error") in ("", "[]")
