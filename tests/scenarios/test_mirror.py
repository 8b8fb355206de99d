"""Port mirroring (the Mirror table), differential against Open vSwitch 3.1.

The same ports and the same Mirror rows are configured in lanyard-switchd
and in a private ovs-vswitchd (netdev datapath), phase by phase; the same
frames go into both (the harness of test_switchd_vs_ovs.py) and every
port's output (tags and length of each frame) must be the same.  Phases
cover SPAN to a trunk, an access, a native-untagged and a dot1q-tunnel
port, select_src/dst_port, select_all with select_vlan, RSPAN to an
output VLAN (trunks and an access port of that VLAN, no copy of frames
already in it), several mirrors to one output (one copy), snaplen,
output_port given with output_vlan (OVS uses the port), frames from a
mirror output port (dropped), and removing the mirrors (the port forwards
again).  Mirror.statistics must match OVS's.

Order between a mirror copy and an ordinary frame on the same port is not
compared (Lanyard sends a batch's copies before its frames; OVS sends a
destination-port mirror's copy after the frame)."""
import json
import os
import re
import subprocess
import time

import test_switchd_vs_ovs as vs
from switchd_env import PY, env, nsrun, sh, wait_for  # noqa: F401

pytestmark = vs.pytestmark

# Port name -> Port settings, identical in both switches.
PORTS = {
    "a": ["tag=10"],
    "b": ["tag=10"],
    "c": ["tag=20"],
    "t": ["trunks=10,20"],
    "r": ["trunks=10,20,99"],
    "x": ["tag=99"],
    "m": [],                    # trunk: mirror output that keeps tags
    "k": ["tag=30"],            # access: mirror output that strips them
    "n": ["tag=10", "trunks=10,20", "vlan_mode=native-untagged"],
    "q": ["tag=30", "vlan_mode=dot1q-tunnel"],
}

BCAST = vs.BCAST
MAC_B = vs.MAC_B


def M(name, out=None, vlan=None, src=(), dst=(), all_=False, vlans=(),
      snaplen=None):
    return dict(name=name, out=out, vlan=vlan, src=src, dst=dst, all=all_,
                vlans=vlans, snaplen=snaplen)


# (mirrors, cases); a case is (source port, tags, destination MAC).
PHASES = [
    ("span a -> m",
     [M("m0", out="m", src=["a"], dst=["a"])],
     [("a", "", BCAST), ("b", "", BCAST), ("t", "8100:10", BCAST),
      ("t", "8100:20", BCAST), ("c", "", BCAST), ("a", "", MAC_B),
      ("t", "8100:10", MAC_B), ("m", "", BCAST), ("m", "8100:10", BCAST)]),
    ("select_all vlan 20 -> k",
     [M("m0", out="k", all_=True, vlans=[20])],
     [("a", "", BCAST), ("c", "", BCAST), ("t", "8100:20", BCAST),
      ("t", "8100:10", BCAST)]),
    ("rspan a,x -> vlan 99",
     [M("m0", vlan=99, src=["a", "x"])],
     [("a", "", BCAST), ("b", "", BCAST), ("t", "8100:10", BCAST),
      ("x", "", BCAST)]),
    ("one copy per output",
     [M("m0", out="m", src=["a"]), M("m1", out="m", dst=["b"]),
      M("m2", vlan=99, src=["a"])],
     [("a", "", BCAST), ("c", "", BCAST), ("t", "8100:10", BCAST)]),
    ("snaplen, output_port and output_vlan",
     [M("m0", out="m", vlan=99, src=["t"], snaplen=60)],
     [("t", "8100:10", BCAST), ("t", "8100:20", BCAST)]),
    ("native-untagged and dot1q-tunnel outputs",
     [M("m0", out="n", src=["t"]), M("m1", out="q", dst=["c"])],
     [("t", "8100:10", BCAST), ("t", "8100:20", BCAST), ("a", "", BCAST)]),
    ("removed", [],
     [("a", "", BCAST), ("c", "", BCAST), ("m", "8100:10", BCAST)]),
]

# Report each frame's length too (snaplen), and give every phase its own
# source MACs so that no datapath flow cached by OVS outlives a phase.
TRAFFIC = (vs.TRAFFIC
           .replace('append(tags_of(data))',
                    'append(tags_of(data) + "/%d" % len(data))')
           .replace('"02:00:00:00:%02x:%02x" % (n, ord(src))',
                    '"02:00:00:00:%02x:%02x" % (n + spec["base"], ord(src))'))


class NsOvs(vs.Ovs):
    """The private OVS with ovs-vswitchd in network namespace NS: its
    netdev datapath's "ovs-netdev" device is then its own, so this test
    runs beside other tests' OVS instances."""

    def __init__(self, pfx, ns):
        super().__init__(pfx)
        self.ns = ns

    def run(self, *args, **kw):
        if args[0] == "ovs-vswitchd":
            args = ("ip", "netns", "exec", self.ns) + args
        return super().run(*args, **kw)


def set_mirrors(vsctl, br, port_of, mirrors):
    if not mirrors:
        vsctl("clear", "Bridge", br, "mirrors")
        return
    args, refs = [], set()
    for m in mirrors:
        refs.update(m["src"])
        refs.update(m["dst"])
        if m["out"]:
            refs.add(m["out"])
    for name in sorted(refs):
        args += ["--", "--id=@p" + name, "get", "Port", port_of(name)]
    for m in mirrors:
        cols = ["name=" + m["name"]]
        if m["src"]:
            cols.append("select_src_port=[%s]"
                        % ",".join("@p" + p for p in m["src"]))
        if m["dst"]:
            cols.append("select_dst_port=[%s]"
                        % ",".join("@p" + p for p in m["dst"]))
        if m["all"]:
            cols.append("select_all=true")
        if m["vlans"]:
            cols.append("select_vlan=[%s]" % ",".join(map(str, m["vlans"])))
        if m["out"]:
            cols.append("output_port=@p" + m["out"])
        if m["vlan"]:
            cols.append("output_vlan=%d" % m["vlan"])
        if m["snaplen"]:
            cols.append("snaplen=%d" % m["snaplen"])
        args += ["--", "--id=@" + m["name"], "create", "Mirror"] + cols
    args += ["--", "set", "Bridge", br,
             "mirrors=[%s]" % ",".join("@" + m["name"] for m in mirrors)]
    vsctl(*args)


def mirror_stats(vsctl, name):
    out = vsctl("--columns=statistics", "find", "Mirror", "name=" + name)
    found = re.findall(r"(tx_\w+)=(\d+)", out)
    return {k: int(v) for k, v in found}


def test_mirrors_same_as_ovs(env):
    env.allowed_err.append(r"specifies both output port and output vlan")
    ons = env.ns("ovs")
    sh("ip", "netns", "add", ons)
    env.namespaces.append(ons)
    nsrun(ons, "ip", "link", "set", "lo", "up")
    for conf in ("all", "default"):
        nsrun(ons, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % conf)
    ovs = NsOvs(env.pfx, ons)
    try:
        ovs.start()
        obr, lbr = env.ns("obr"), env.ns("br")
        ovs.vsctl("add-br", obr, "--", "set", "Bridge", obr,
                  "datapath_type=netdev")
        env.vsctl("add-br", lbr)
        ports = {"lanyard": {}, "ovs": {}}
        for name, settings in PORTS.items():
            for sw, tag, vsctl, br in (("lanyard", name, env.vsctl, lbr),
                                       ("ovs", "o" + name, ovs.vsctl, obr)):
                env.add_ns(tag)
                hif = env.host_if(tag)
                if sw == "ovs":
                    sh("ip", "link", "set", hif, "netns", ons)
                    nsrun(ons, "ip", "link", "set", hif, "up")
                extra = ["--", "set", "Port", hif] + settings if settings \
                    else []
                vsctl("add-port", br, hif, *extra)
                ports[sw][name] = [env.ns(tag), env.ns_if(tag)]
        time.sleep(1)           # OVS netdev: let the PMD poll the new ports
        # Learn MAC_B on b in both, for the unicast cases.
        run_traffic(ports, [("b", "", BCAST)], 200)
        for k, (title, mirrors, cases) in enumerate(PHASES):
            set_mirrors(env.vsctl, lbr, env.host_if, mirrors)
            set_mirrors(ovs.vsctl, obr, lambda n: env.host_if("o" + n),
                        mirrors)
            time.sleep(1)       # OVS: revalidate cached flows
            res = run_traffic(ports, cases, 20 * k)
            if os.environ.get("LYDIFF_DUMP"):
                print(title, json.dumps(res, sort_keys=True))
            diffs = compare(title, cases, res)
            assert not diffs, "\n".join(diffs)
            if k == 0:
                check_trace(env, lbr)
            if k in STATS:
                check_stats(env, ovs, STATS[k])
    finally:
        ovs.stop()


def run_traffic(ports, cases, base):
    spec = {"ports": ports, "cases": cases, "mac_b": MAC_B, "wait": 0.3,
            "base": base}
    r = subprocess.run([PY, "-c", TRAFFIC], input=json.dumps(spec),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def compare(title, cases, res):
    diffs = []
    seen = 0
    for n, case in enumerate(cases):
        got = {sw: {p: sorted(v) for p, v in res[sw].get(str(n), {}).items()}
               for sw in ("lanyard", "ovs")}
        seen += sum(len(v) for v in got["ovs"].values())
        if got["lanyard"] != got["ovs"]:
            diffs.append("%s, case %s: lanyard %s ovs %s"
                         % (title, case, got["lanyard"], got["ovs"]))
    if not seen:
        diffs.append("%s: nothing came out of OVS" % title)
    return diffs


def check_trace(env, br):
    a = env.get("Interface", env.host_if("a"), "ofport")
    m = env.get("Interface", env.host_if("m"), "ofport")
    out = env.appctl("ofproto/trace", br, "in_port=%s,dl_src=02:00:00:00:01:"
                     "01,dl_dst=ff:ff:ff:ff:ff:ff" % a)
    assert "Mirror m0:" in out, out
    assert re.search(r"port %s \(%s\): sent 0x8100 vid 10"
                     % (m, env.host_if("m")), out), out
    out = env.appctl("ofproto/trace", br, "in_port=%s,dl_src=02:00:00:00:01:"
                     "02,dl_dst=ff:ff:ff:ff:ff:ff" % m)
    assert "Input port is a mirror output port" in out, out
    assert "Datapath actions: drop" in out, out


# Phase -> frames mirror m0 counts.  First phase: a's broadcast, b's
# broadcast (flooded to a), t's VLAN 10 broadcast and a's unicast to b.
# Second: only the two frames in VLAN 20 (select_vlan filters before
# counting, in OVS 3.1 too).
STATS = {0: 4, 1: 2}


def check_stats(env, ovs, n):
    """Both switches count the same frames for m0 (OVS writes statistics
    every 5 s, as Lanyard does)."""
    want = {}

    def counted():
        want["lanyard"] = mirror_stats(env.vsctl, "m0")
        want["ovs"] = mirror_stats(ovs.vsctl, "m0")
        return want["ovs"].get("tx_packets") == n == want["lanyard"].get(
            "tx_packets")
    assert wait_for(counted, 14, 0.5), want
    assert want["lanyard"] == want["ovs"], want


def test_mirror_output_not_on_bridge(env):
    """A mirror whose output port is on another bridge is ignored, with
    ovs-vswitchd's error; removing it is quiet."""
    env.allowed_err.append(r"mirror m9 outputs to port not on bridge")
    br, br2 = env.ns("br"), env.ns("b2")
    env.vsctl("add-br", br, "--", "add-br", br2)
    env.add_ns("a")
    env.vsctl("add-port", br, env.host_if("a"))
    env.vsctl("--", "--id=@o", "get", "Port", br2,
              "--", "--id=@a", "get", "Port", env.host_if("a"),
              "--", "--id=@m", "create", "Mirror", "name=m9",
              "select_src_port=@a", "output_port=@o",
              "--", "set", "Bridge", br, "mirrors=@m")
    log = os.path.join(env.dir, "switchd.log")
    assert wait_for(lambda: "mirror m9 outputs to port not on bridge"
                    in open(log).read(), 5)
    a = env.get("Interface", env.host_if("a"), "ofport")
    out = env.appctl("ofproto/trace", br, "in_port=%s,dl_src=02:00:00:00:01:"
                     "01,dl_dst=ff:ff:ff:ff:ff:ff" % a)
    assert "Mirror" not in out, out
    env.vsctl("clear", "Bridge", br, "mirrors")
