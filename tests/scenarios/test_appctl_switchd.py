"""The ovs-appctl commands an operator of OVS's userspace datapath reaches
for, on lanyard-switchd: fdb/add, fdb/del, fdb/stats-clear,
dpif-netdev/pmd-stats-show, pmd-stats-clear, pmd-rxq-show, dpctl/show,
dpctl/dump-dps, dpif/dump-dps, ofproto/list, memory/show, tnl/ports/show.

Dummy ports only (no namespaces).  Static MAC entries are checked where it
matters, in forwarding: a frame to the static MAC leaves on that port only,
a frame from it elsewhere does not move it, fdb/flush keeps it, fdb/del
removes it.  A private Open vSwitch 3.1 (netdev datapath, --enable-dummy)
runs the same commands as the reference: the texts both have (fdb replies
and errors, argument-count errors, list-commands usages) must be
identical, and the layouts (pmd-stats-show, pmd-rxq-show, dpctl/show -s,
memory/show, ...) line for line of the same shape."""
import os
import random
import re
import shutil
import subprocess
import tempfile

import pytest
from scapy.all import IP, UDP, Ether, Raw

from switchd_env import APPCTL, env, sh, skip_unless_ready, wait_for  # noqa: F401

OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
pytestmark = skip_unless_ready + [
    pytest.mark.skipif(shutil.which("ovs-vswitchd") is None
                       or not os.path.exists(OVS_SCHEMA),
                       reason="Open vSwitch not installed"),
]

M = "02:d0:00:00:00:01"           # The MAC the tests make static.
OTHER = "02:d0:00:00:00:02"
MARKER_SRC = "02:d0:ff:ff:ff:ff"


def frame(src, dst, payload=b"appctl"):
    return bytes(Ether(src=src, dst=dst) / IP(src="10.1.0.1", dst="10.1.0.2")
                 / UDP(sport=1, dport=2) / Raw(payload)).hex()


def reply(proc):
    """What a daemon answered: (True, stdout) or (False, its error)."""
    if proc.returncode == 0:
        return True, proc.stdout.rstrip("\n")
    return False, proc.stderr.splitlines()[0] if proc.stderr else ""


class Ovs:
    """A private ovsdb-server + ovs-vswitchd (netdev datapath, dummy
    ports), the reference for texts and layouts."""

    def __init__(self, pfx):
        self.dir = tempfile.mkdtemp(prefix=pfx + "-ovs-")
        self.br = pfx + "o"
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.ctl_path = self.dir + "/ovs-vswitchd.ctl"
        self.ns = pfx + "ovs"

    def run(self, *args, check=True):
        return subprocess.run(args, check=check, capture_output=True,
                              text=True, timeout=30, env=self.env)

    def start(self):
        d = self.dir
        # In a namespace of its own: the netdev datapath's tap devices
        # ("ovs-netdev", the bridge's) would clash with any other OVS.
        self.run("ip", "netns", "add", self.ns)
        self.netns = ["ip", "netns", "exec", self.ns]
        self.run("ovsdb-tool", "create", d + "/conf.db", OVS_SCHEMA)
        self.run(*self.netns, "ovsdb-server", d + "/conf.db",
                 "--remote=punix:%s/db.sock" % d,
                 "--pidfile=%s/ovsdb-server.pid" % d,
                 "--unixctl=%s/ovsdb-server.ctl" % d,
                 "--log-file=%s/ovsdb-server.log" % d, "--detach")
        self.vsctl("--no-wait", "init")
        self.run(*self.netns, "ovs-vswitchd", "unix:%s/db.sock" % d,
                 "--pidfile=%s/ovs-vswitchd.pid" % d,
                 "--unixctl=" + self.ctl_path, "--enable-dummy",
                 "--log-file=%s/ovs-vswitchd.log" % d, "--disable-system",
                 "--detach")
        args = ["add-br", self.br, "--", "set", "bridge", self.br,
                "datapath_type=netdev"]
        for i, (name, typ) in enumerate([("p1", "dummy"), ("p2", "dummy"),
                                         ("q1", "dummy-pmd")], 1):
            args += ["--", "add-port", self.br, name, "--", "set",
                     "interface", name, "type=" + typ,
                     "ofport_request=%d" % i]
        self.vsctl(*args)

    def vsctl(self, *args):
        return self.run("ovs-vsctl", "--db=unix:%s/db.sock" % self.dir,
                        "--timeout=20", *args).stdout

    def ctl(self, *args):
        return self.run("ovs-appctl", "-t", self.ctl_path, *args, check=False)

    def stop(self):
        for name in ("ovs-vswitchd", "ovsdb-server"):
            try:
                with open("%s/%s.pid" % (self.dir, name)) as f:
                    pid = int(f.read())
                os.kill(pid, 15)
                wait_for(lambda: not os.path.exists("/proc/%d" % pid), 5)
            except (OSError, ValueError):
                pass
        self.run("ip", "netns", "del", self.ns, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Lanyard:
    """Our switch with dummy ports p1..p3 (port numbers 1..3, VLAN 0) and
    probe/sink (VLAN 4000) for barriers."""

    def __init__(self, switch_env):
        self.env = switch_env
        self.br = switch_env.ns("br")
        args = ["add-br", self.br]
        for i, name in enumerate(["p1", "p2", "p3", "probe", "sink"], 1):
            args += ["--", "add-port", self.br, name, "--", "set",
                     "interface", name, "type=dummy", "ofport_request=%d" % i]
            if name in ("probe", "sink"):
                args += ["--", "set", "port", name, "tag=4000"]
        switch_env.vsctl(*args)
        self.n_markers = 0

    def ctl(self, *args):
        return sh(APPCTL, "-t", self.env.swctl, *args, check=False)

    def ok(self, *args):
        r = self.ctl(*args)
        assert r.returncode == 0, (args, r.stderr)
        return r.stdout

    def rx_packets(self, port):
        text = self.ok("dpctl/show", "-s")
        m = re.search(r"port \d+: %s \(dummy\)\n    RX packets:(\d+)" % port,
                      text)
        return int(m.group(1))

    def pop(self, port):
        """Frames the switch sent on PORT (kernel chatter from the bridge's
        internal port left out)."""
        out = self.ok("netdev-dummy/pop", port).split()
        return [f for f in (bytes.fromhex(h) for h in out)
                if f[6:12].hex(":").startswith("02:d0:")
                and f[6:12].hex(":") != MARKER_SRC]

    def send(self, port, hexframe):
        """Injects one frame on PORT; returns {port: frames sent} once the
        (single) forwarding thread is done with it."""
        for p in ("p1", "p2", "p3"):
            self.pop(p)
        before = self.rx_packets(port)
        self.ok("netdev-dummy/receive", port, hexframe)
        assert wait_for(lambda: self.rx_packets(port) > before, 5, 0.01)
        self.n_markers += 1
        marker = frame(MARKER_SRC, "ff:ff:ff:ff:ff:ff",
                       b"marker%d" % self.n_markers)
        self.ok("netdev-dummy/receive", "probe", marker)
        seen = []

        def arrived():
            seen.extend(self.ok("netdev-dummy/pop", "sink").split())
            return marker in seen
        assert wait_for(arrived, 5, 0.01), "barrier marker lost"
        return {p: self.pop(p) for p in ("p1", "p2", "p3")}

    def fdb_lines(self, mac):
        return [line for line in self.ok("fdb/show", self.br).splitlines()
                if mac in line]


@pytest.fixture
def lan(env):
    return Lanyard(env)


@pytest.fixture
def ovs(env):
    o = Ovs(env.pfx)
    try:
        o.start()
        yield o
    finally:
        o.stop()


def test_static_entries_steer_forwarding(lan):
    to_m = frame(OTHER, M)
    # Learned on p1 first: the frame to M goes to p1 only.
    lan.send("p1", frame(M, "ff:ff:ff:ff:ff:ff"))
    out = lan.send("p2", to_m)
    assert [len(out[p]) for p in ("p1", "p3")] == [1, 0]

    # Made static on p3: OVS's message names the learned entry's old port.
    assert lan.ok("fdb/add", lan.br, "p3", "0", M) \
        == "Overriding already existing dynamic entry on 1\n"
    assert lan.fdb_lines(M) == ["    3     0  %s  static" % M]
    out = lan.send("p2", to_m)
    assert [len(out[p]) for p in ("p1", "p3")] == [0, 1]
    assert bytes.fromhex(to_m) == out["p3"][0]

    # M sending from p1 does not move a static entry; fdb/flush keeps it.
    lan.send("p1", frame(M, "ff:ff:ff:ff:ff:ff"))
    assert lan.fdb_lines(M) == ["    3     0  %s  static" % M]
    assert lan.ok("fdb/flush", lan.br) == "table successfully flushed\n"
    assert lan.fdb_lines(M) == ["    3     0  %s  static" % M]
    out = lan.send("p2", to_m)
    assert [len(out[p]) for p in ("p1", "p3")] == [0, 1]
    # A static entry for another VLAN steers nothing in VLAN 0.
    assert lan.ok("fdb/add", lan.br, "p1", "10", OTHER) == ""
    assert "Current static MAC entries in the table : 2" in \
        lan.ok("fdb/stats-show", lan.br)

    # Deleted: unknown again, so flooded to both other ports.
    assert lan.ok("fdb/del", lan.br, "0", M) == ""
    assert lan.fdb_lines(M) == []
    out = lan.send("p2", to_m)
    assert [len(out[p]) for p in ("p1", "p3")] == [1, 1]

    # Our errors where OVS accepts nonsense or words it as a software error.
    assert lan.ctl("fdb/add", lan.br, "nope", "0", M).stderr.startswith(
        'no such port "nope" on bridge %s\n' % lan.br)
    for vlan in ("x", "-1", "4096"):
        assert lan.ctl("fdb/add", lan.br, "p1", vlan, M).stderr.startswith(
            'bad VLAN "%s" (a number from 0 to 4095)\n' % vlan)
    r = lan.ctl("fdb/add", lan.br, "p1", "0", "ff:ff:ff:ff:ff:ff")
    assert r.returncode == 2 and "is a multicast MAC address" in r.stderr
    # Stats cleared: totals zero, current counts kept.
    assert lan.ok("fdb/stats-clear", lan.br) \
        == "statistics successfully cleared\n"
    st = lan.ok("fdb/stats-show", lan.br)
    assert "Total number of learned MAC entries     : 0" in st
    assert "Current static MAC entries in the table : 1" in st


def test_pmd_and_dpctl_counters(lan):
    lan.ok("dpif-netdev/pmd-stats-clear")
    lan.send("p1", frame(M, "ff:ff:ff:ff:ff:ff"))
    lan.send("p2", frame(OTHER, M))             # Learned: unicast to p1.
    # Only our frames and the barrier markers, nothing from the kernel:
    # the counters are exact (2 frames + 2 markers received).
    text = lan.ok("dpif-netdev/pmd-stats-show")
    assert text.startswith("pmd thread numa_id 0 core_id 0:\n")
    assert text.count("pmd thread") == 1        # --threads=1 (default).
    n = int(re.search(r"packets received: (\d+)", text).group(1))
    assert n >= 4        # The local port's own chatter may add some.
    assert "avg. datapath passes per packet: 1.00\n" in text
    busy = int(re.search(r"processing cycles: (\d+)", text).group(1))
    assert busy > 0
    m = re.search(r"avg processing cycles per packet: [\d.]+ \((\d+)/(\d+)\)",
                  text)
    assert (int(m.group(1)), int(m.group(2))) == (busy, n)
    # -pmd filters; pmd-stats-clear restarts from zero.
    assert lan.ok("dpif-netdev/pmd-stats-show", "-pmd", "7") == ""
    assert lan.ok("dpif-netdev/pmd-stats-clear", "-pmd", "0") == ""
    text = lan.ok("dpif-netdev/pmd-stats-show", "-pmd", "0",
                  "netdev@" + lan.br)
    # (The local port's own chatter may have arrived meanwhile.)
    assert int(re.search(r"packets received: (\d+)", text).group(1)) <= 2

    rxq = lan.ok("dpif-netdev/pmd-rxq-show", "-secs", "15")
    assert rxq.startswith("Displaying last 20 seconds pmd usage %\n"
                          "pmd thread numa_id 0 core_id 0:\n"
                          "  isolated : false\n")
    polled = re.findall(r"^  port: (\S+) +queue-id:  0 \(enabled\)   "
                        r"pmd usage: NOT AVAIL$", rxq, re.M)
    assert polled == sorted(["p1", "p2", "p3", "probe", "sink", lan.br])

    # dpctl/show: per-bridge datapath, ports by number, counters.
    show = lan.ok("dpctl/show", "-s", lan.br)
    assert show.startswith("netdev@%s:\n  port 1: p1 (dummy)\n"
                           "    RX packets:1 errors:0 dropped:0 overruns:? "
                           "frame:?\n" % lan.br)
    assert "  port 65534: %s (internal)\n" % lan.br in show
    assert lan.ok("dpctl/dump-dps") == "netdev@%s\n" % lan.br
    assert lan.ok("dpif/dump-dps") == "netdev@%s\n" % lan.br
    assert lan.ok("ofproto/list") == lan.br + "\n"
    mem = lan.ok("memory/show")
    assert re.fullmatch(r"bridges:1 forwarding-threads:1 "
                        r"idl-cells-Open_vSwitch:\d+ mac-entries:\d+ "
                        r"ports:6 replica:ready\n", mem), mem

    # tnl/ports/show: one line per VXLAN receive socket, its users counted.
    port = random.randrange(20000, 60000)
    args = []
    for i, remote in enumerate(["10.77.0.2", "10.77.0.3", "fd00:77::3"]):
        name = "vx%d" % i
        args += ["--", "add-port", lan.br, name, "--", "set", "interface",
                 name, "type=vxlan", "options:remote_ip=" + remote,
                 "options:dst_port=%d" % (port + (i == 2))]
    lan.env.vsctl(*args[1:])
    assert sorted(lan.ok("tnl/ports/show").splitlines()) == sorted([
        "Listening ports:", "vxlan_sys_%d (udp4) ref_cnt=2" % port,
        "vxlan_sys_%d (udp6) ref_cnt=1" % (port + 1)])
    assert "vxlan_sys_%d (udp4) : rx=0 unknown_tunnel=0 malformed=0 " \
        "oversize=0\n" % port in lan.ok("tnl/ports/show", "-v")
    assert re.search(r"^  port [678]: vx1 \(vxlan\)$", lan.ok("dpctl/show"),
                     re.M)

    for args, err in [
            (["tnl/ports/show", "x"],
             'unknown option "x" (tnl/ports/show takes -v)'),
            (["dpctl/show", "nodp"],
             "lanyard-switchd: opening datapath nodp failed (No such device)"),
            (["dpctl/show", "-x"], 'unknown option "-x"'),
            (["dpif-netdev/pmd-stats-show", "-pmd", "x"],
             '-pmd: "x" is not a core id'),
            (["dpif-netdev/pmd-stats-show", "-pmd"], "-pmd needs a value"),
            (["dpif-netdev/pmd-rxq-show", "-secs", "0"],
             '-secs: "0" is not a positive number of seconds'),
            (["dpif-netdev/pmd-stats-clear", "nodp"],
             "please specify an existing datapath")]:
        r = lan.ctl(*args)
        assert r.returncode == 2 and r.stderr.startswith(err), (args, r)


def shape(text):
    """A layout: numbers, MACs and names replaced by placeholders."""
    text = re.sub(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", "MAC", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return text


def test_same_texts_and_layouts_as_ovs(lan, ovs):
    ob, lb = ovs.br, lan.br

    def both(*args):
        """(ovs reply, our reply) for ARGS with the bridge name BR put in."""
        o = ovs.ctl(*[ob if a == "BR" else a for a in args])
        ours = lan.ctl(*[lb if a == "BR" else a for a in args])
        return reply(o), reply(ours)

    # fdb: identical replies and errors.
    for args in [("fdb/add", "BR", "p1", "0", M),
                 ("fdb/add", "BR", "p1", "0", M),
                 ("fdb/add", "BR", "p2", "0", M),
                 ("fdb/add", "BR", "p2", "10", OTHER),
                 ("fdb/flush", "BR"),
                 ("fdb/del", "BR", "0", M),
                 ("fdb/del", "BR", "0", M),
                 ("fdb/del", "BR", "0", "zz"),
                 ("fdb/add", "BR", "p1", "0", "zz"),
                 ("fdb/add", "nobr", "p1", "0", M),
                 ("fdb/del", "nobr", "0", M),
                 ("fdb/add", "BR", "p1", "0"),
                 ("fdb/del", "BR", "0"),
                 ("fdb/stats-clear",),
                 ("fdb/stats-clear", "BR"),
                 ("fdb/stats-clear", "nobr"),
                 ("fdb/stats-clear", "a", "b"),
                 ("dpif-netdev/pmd-stats-show", "a", "b", "c", "d"),
                 ("dpif-netdev/pmd-stats-clear", "a", "b", "c", "d"),
                 ("dpif-netdev/pmd-rxq-show", "1", "2", "3", "4", "5", "6"),
                 ("dpctl/dump-dps", "x"),
                 ("ofproto/list", "x"),
                 ("memory/show", "x"),
                 ("tnl/ports/show",),
                 ("vlog/reopen",)]:
        o, ours = both(*args)
        assert o == ours, args
    # The static entry as fdb/show lists it, after fdb/flush too.
    o, ours = both("fdb/show", "BR")
    static = [line for line in o[1].splitlines() if "static" in line]
    assert static == ["    2    10  %s  static" % OTHER]
    assert [line for line in ours[1].splitlines() if "static" in line] \
        == static
    o, ours = both("fdb/stats-show", "BR")
    assert shape(o[1].replace(ob, "BR")) == shape(ours[1].replace(lb, "BR"))

    # Usages in list-commands.
    def usages(text):
        return dict(re.findall(r"^  (\S+) +(.*?)\s*$", text, re.M))
    ou = usages(ovs.ctl("list-commands").stdout)
    lu = usages(lan.ok("list-commands"))
    for cmd in ["fdb/add", "fdb/del", "fdb/stats-clear", "dpctl/show",
                "dpctl/dump-dps", "dpif/dump-dps", "ofproto/list",
                "memory/show", "dpif-netdev/pmd-stats-show",
                "dpif-netdev/pmd-stats-clear", "dpif-netdev/pmd-rxq-show",
                "tnl/ports/show", "version", "vlog/list", "vlog/reopen"]:
        assert lu.get(cmd) == ou[cmd], cmd

    # Layouts.  A 1,500-byte frame through a PMD-polled port of each.
    big = frame(OTHER, M, b"x" * 1458)
    assert ovs.ctl("netdev-dummy/receive", "q1", big).returncode == 0
    lan.send("p1", big)
    assert wait_for(lambda: "packets received: 0" not in ovs.ctl(
        "dpif-netdev/pmd-stats-show").stdout.split("main thread")[0], 5)
    o = ovs.ctl("dpif-netdev/pmd-stats-show").stdout
    o_pmd = o[:o.index("main thread:")]
    ours = lan.ok("dpif-netdev/pmd-stats-show")
    assert shape(o_pmd) == shape(ours)
    o = ovs.ctl("dpif-netdev/pmd-rxq-show").stdout
    ours = lan.ok("dpif-netdev/pmd-rxq-show")
    o_lines, our_lines = o.splitlines(), ours.splitlines()
    assert shape(o_lines[0]) == shape(our_lines[0])
    assert shape(o_lines[1]) == shape(our_lines[1])
    assert o_lines[2] == our_lines[2] == "  isolated : false"
    port_re = (r"  port: (\S+ +)queue-id: +\d+ \(enabled\)   "
               r"pmd usage: (NOT AVAIL| ?\d+ %)")
    o_port = re.fullmatch(port_re, o_lines[3])
    our_port = re.fullmatch(port_re, our_lines[3])
    assert o_port and our_port
    assert len(o_port.group(1)) == len(our_port.group(1)) == 18

    # dpctl/show -s: the per-port block of the port that received the
    # 1,500-byte frame ("RX bytes:N (N.N KiB)").
    def block(text, port):
        lines = text.splitlines()
        i = next(k for k, line in enumerate(lines)
                 if re.match(r"  port \d+: %s \(" % port, line))
        return "\n".join(lines[i:i + 5])
    o = ovs.ctl("dpctl/show", "-s").stdout
    ours = lan.ok("dpctl/show", "-s")
    ob_, lb_ = block(o, "q1"), block(ours, "p1")
    assert "KiB)" in ob_ and "KiB)" in lb_
    # OVS marks the dummy's unknown error counters "?"; ours keeps them.
    # Our TX bytes may include the local port's chatter: compare up to it.
    assert [shape(line.replace("?", "N")) for line in
            ob_.split("  TX bytes")[0].splitlines()[1:]] == \
        [shape(line.replace("?", "N")) for line in
         lb_.split("  TX bytes")[0].splitlines()[1:]]
    assert re.fullmatch(r"netdev@\S+:", o.splitlines()[0])
    assert re.fullmatch(r"netdev@\S+:", ours.splitlines()[0])

    o_list = ovs.ctl("ofproto/list").stdout
    assert o_list == ob + "\n" and lan.ok("ofproto/list") == lb + "\n"
    # memory/show: "name:count" pairs in name order.
    for text in (ovs.ctl("memory/show").stdout, lan.ok("memory/show")):
        pairs = re.findall(r"([a-zA-Z][\w -]*?):\S+", text)
        assert pairs == sorted(pairs) and "idl-cells-Open_vSwitch" in pairs
    o, ours = both("version")
    assert re.fullmatch(r"ovs-vswitchd \(Open vSwitch\) [\d.]+", o[1])
    assert re.fullmatch(r"lanyard-switchd \(Lanyard\) [\d.]+", ours[1])
