"""LACP bonds and balance-tcp in lanyard-switchd, with real Open vSwitch 3.1
as the partner (the kernel here has no bonding module).

Topology: namespace X (10.N.0.1) on Lanyard's bridge, namespace Y
(10.N.0.2) on a private OVS's bridge (datapath_type=netdev); two veth
pairs <pfx>l0/<pfx>o0 and <pfx>l1/<pfx>o1 join a Lanyard bond (the l ends)
to an OVS bond (the o ends).  ovs-vswitchd runs in a namespace of its own
(holding the o ends and Y's outer end), so that its netdev datapath's
"ovs-netdev" tap device cannot collide with another OVS on the host.
Malformed LACPDUs are crafted with scapy and sent from a namespace holding
the peer ends of a Lanyard bond."""
import re
import shutil
import subprocess
import time

import pytest

from switchd_env import (APPCTL, PY, env, nsrun, sh,  # noqa: F401
                         skip_unless_ready, wait_for)
from test_switchd_vs_ovs import OVS_SCHEMA, Ovs

pytestmark = skip_unless_ready + [
    pytest.mark.skipif(shutil.which("ovs-vswitchd") is None,
                       reason="Open vSwitch not installed")]


class OvsInNs(Ovs):
    """Ovs with ovs-vswitchd inside network namespace NS."""

    def __init__(self, pfx, ns):
        super().__init__(pfx)
        self.ns = ns

    def start(self):
        d = self.dir
        self.run("ovsdb-tool", "create", d + "/conf.db", OVS_SCHEMA)
        self.run("ovsdb-server", d + "/conf.db",
                 "--remote=punix:%s/db.sock" % d,
                 "--pidfile=%s/ovsdb-server.pid" % d,
                 "--unixctl=%s/ovsdb-server.ctl" % d,
                 "--log-file=%s/ovsdb-server.log" % d, "--detach")
        self.vsctl("--no-wait", "init")
        self.run("ip", "netns", "exec", self.ns, "ovs-vswitchd", self.db,
                 "--pidfile=%s/ovs-vswitchd.pid" % d,
                 "--unixctl=%s/ovs-vswitchd.ctl" % d,
                 "--log-file=%s/ovs-vswitchd.log" % d, "--disable-system",
                 "--detach")


class Pair:
    """Lanyard (env) and OVS bridges joined by a two-link bond."""

    def __init__(self, env):
        self.env = env
        self.ons = env.ns("o")
        self.ovs = OvsInNs(env.pfx, self.ons)

    def start(self):
        env = self.env
        sh("ip", "netns", "add", self.ons)
        env.namespaces.append(self.ons)
        nsrun(self.ons, "ip", "link", "set", "lo", "up")
        self.ovs.start()
        self.lbr, self.obr = env.ns("br"), env.ns("obr")
        self.lbond, self.obond = env.ns("lb"), env.ns("ob")
        self.l = [env.pfx + "l0", env.pfx + "l1"]
        self.o = [env.pfx + "o0", env.pfx + "o1"]
        env.add_ns("y", env.ip(2) + "/24")
        for a, b in zip(self.l, self.o):
            sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            env.links.append(a)
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % a,
               check=False)
            sh("ip", "link", "set", a, "up")
        for dev in self.o + [env.host_if("y")]:
            sh("ip", "link", "set", dev, "netns", self.ons)
            nsrun(self.ons, "ip", "link", "set", dev, "up")
        env.vsctl("add-br", self.lbr)
        env.add_ns("x", env.ip(1) + "/24")
        env.vsctl("add-port", self.lbr, env.host_if("x"))
        self.ovs.vsctl("add-br", self.obr, "--", "set", "Bridge", self.obr,
                       "datapath_type=netdev")
        self.ovs.vsctl("add-port", self.obr, env.host_if("y"))

    def olink(self, dev, state):
        nsrun(self.ons, "ip", "link", "set", dev, state)

    def bonds(self, lanyard, ovs):
        self.env.vsctl("add-bond", self.lbr, self.lbond, *self.l, *lanyard)
        self.ovs.vsctl("add-bond", self.obr, self.obond, *self.o, *ovs)

    def oappctl(self, *args):
        return self.ovs.run("ovs-appctl", "-t",
                            self.ovs.dir + "/ovs-vswitchd.ctl", *args).stdout

    def diagnose(self):
        """Both sides' view, for a failed negotiation."""
        out = []
        for f in (lambda: self.env.appctl("lacp/show", self.lbond),
                  lambda: self.oappctl("lacp/show", self.obond),
                  lambda: self.ovs.vsctl("--columns=name,ofport,error",
                                         "list", "Interface")):
            try:
                out.append(f())
            except subprocess.CalledProcessError as e:
                out.append(e.stderr)
        with open(self.ovs.dir + "/ovs-vswitchd.log") as f:
            out.append(f.read()[-3000:])
        return "\n".join(out)

    def stop(self):
        self.ovs.stop()


@pytest.fixture
def pair(env):
    p = Pair(env)
    try:
        p.start()
        yield p
    finally:
        p.stop()


def members_state(show):
    """{member: "current attached", ...} from lacp/show text."""
    return dict(re.findall(r"^member: (\S+): (\w+ \w+)$", show, re.M))


def member_info(show, member):
    """{"actor state": ..., "partner key": ...} of MEMBER in lacp/show."""
    part = show[show.index("member: %s:" % member):]
    part = part.split("\nmember: ")[0]
    return dict(re.findall(r"^  ((?:actor|partner) \w+):(.*)$", part, re.M))


def negotiated(show, members):
    st = members_state(show)
    return ("negotiated" in show.splitlines()[1]
            and all(st.get(m) == "current attached" for m in members))


def layout(text, names):
    """TEXT with member and bond NAMES and every value after a colon
    removed: what must be identical between Lanyard's and OVS's output."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "N")
    return [re.sub(r":( .*)?$", ":", ln) for ln in text.splitlines()
            if not re.match(r"  (hash \d+:|active member$)", ln)]


def tx_packets(dev):
    with open("/sys/class/net/%s/statistics/tx_packets" % dev) as f:
        return int(f.read())


FLOWS = """
import sys
from scapy.all import Ether, IP, UDP, TCP, Raw, sendp, conf
conf.verb = 0
iface, dst_mac, dst = sys.argv[1:4]
pkts = []
for i in range(32):
    l4 = (UDP if i % 2 else TCP)(sport=20000 + 7 * i, dport=5000 + i)
    pkts += [Ether(dst=dst_mac) / IP(dst=dst) / l4 / Raw(b"x" * 64)] * 4
sendp(pkts, iface=iface)
"""


def test_lacp_active_balance_tcp_with_ovs(env, pair):
    """Active on both sides, lacp-time=fast: negotiation, traffic,
    balance-tcp's spreading, and a member link going down."""
    fast = "other_config:lacp-time=fast"
    pair.bonds(["lacp=active", "bond_mode=balance-tcp", fast],
               ["lacp=active", "bond_mode=balance-tcp", fast])
    assert wait_for(lambda: negotiated(env.appctl("lacp/show", pair.lbond),
                                       pair.l), 8), pair.diagnose()
    assert wait_for(lambda: negotiated(pair.oappctl("lacp/show", pair.obond),
                                       pair.o), 5), pair.diagnose()
    show = env.appctl("lacp/show", pair.lbond)
    assert "  status: active negotiated\n" in show
    assert "  lacp_time: fast\n" in show
    assert "  sys_priority: 65534\n" in show
    with open("/sys/class/net/%s/address" % pair.lbr) as f:
        assert "  sys_id: %s\n" % f.read().strip() in show   # Bridge MAC.
    assert "  actor state: activity timeout aggregation synchronized " \
           "collecting distributing\n" in show
    # The partner OVS sees is us, and we see OVS's system id.
    ovs_sys = re.search(r"^  sys_id: (\S+)$", pair.oappctl("lacp/show"),
                        re.M).group(1)
    assert "  partner sys_id: %s\n" % ovs_sys in show
    for m in pair.l:
        assert wait_for(lambda: env.get("Interface", m, "lacp_current")
                        == "true", 5)
    # As OVS: each member's port id is its own OpenFlow port number.
    ofports = [env.get("Interface", m, "ofport") for m in pair.l]
    assert len(set(ofports)) == 2, ofports
    for m, no in zip(pair.l, ofports):
        assert re.search(r"^member: %s: current attached\n  port_id: %s\n"
                         % (m, no), show, re.M), show
    oshow = pair.oappctl("lacp/show", pair.obond)
    assert sorted(re.findall(r"partner port_id: (\d+)", oshow)) \
        == sorted(ofports), oshow
    # What OVS heard from each of our members is what we say we are, and
    # the other way round (once a periodic PDU has carried the last state
    # change: a cleared "expired" alone does not trigger one, as in OVS).
    def views_agree():
        ours_show = env.appctl("lacp/show", pair.lbond)
        theirs_show = pair.oappctl("lacp/show", pair.obond)
        for lm, om in zip(pair.l, pair.o):
            ours = member_info(ours_show, lm)
            theirs = member_info(theirs_show, om)
            for field in ("sys_id", "sys_priority", "port_id",
                          "port_priority", "key", "state"):
                if (theirs["partner " + field] != ours["actor " + field]
                        or ours["partner " + field]
                        != theirs["actor " + field]):
                    return False
        return True
    assert wait_for(views_agree, 4), pair.diagnose()
    # Same layouts as ovs-vswitchd's lacp/show, lacp/show-stats, bond/show.
    names = pair.l + pair.o + [pair.lbond, pair.obond]
    for cmd in ("lacp/show", "lacp/show-stats", "bond/show"):
        ours = env.appctl(cmd, pair.lbond)
        theirs = pair.oappctl(cmd, pair.obond)
        if cmd == "bond/show":      # Lanyard hashes without recirculation.
            theirs = theirs.replace("recirculation: yes", "recirculation: no")
        assert layout(ours, names) == layout(theirs, names), (ours, theirs)
    bshow = env.appctl("bond/show", pair.lbond)
    for line in ("bond_mode: balance-tcp", "lacp_status: negotiated",
                 "lacp_fallback_ab: false", "member %s: enabled" % pair.l[0],
                 "member %s: enabled" % pair.l[1]):
        assert line in bshow, bshow
    assert re.search(r"^next rebalance: \d+ ms$", bshow, re.M), bshow
    assert "---- %s statistics ----" % pair.lbond in env.appctl(
        "lacp/show-stats")
    assert env.ping_eventually("x", env.ip(2))

    # balance-tcp: 32 TCP/UDP flows from X leave on both members.
    before = [tx_packets(m) for m in pair.l]
    y_mac = nsrun(env.ns("y"), "cat", "/sys/class/net/%s/address"
                  % env.ns_if("y")).stdout.strip()
    nsrun(env.ns("x"), PY, "-c", FLOWS, env.ns_if("x"), y_mac, env.ip(2))
    time.sleep(0.3)
    sent = [tx_packets(m) - b for m, b in zip(pair.l, before)]
    assert sum(sent) >= 128 and min(sent) >= 16, sent

    # Member 0's link goes down on the OVS side: Lanyard disables it, its
    # partner information expires and then defaults; traffic stays up.
    pair.olink(pair.o[0], "down")
    assert wait_for(lambda: "member %s: disabled" % pair.l[0]
                    in env.appctl("bond/show", pair.lbond), 3)
    assert env.ping_eventually("x", env.ip(2), 5)
    assert wait_for(lambda: members_state(env.appctl(
        "lacp/show", pair.lbond)).get(pair.l[0]) == "defaulted detached", 6)
    stats = env.appctl("lacp/show-stats", pair.lbond)
    first = stats[stats.index("member: %s:" % pair.l[0]):]
    assert "  Link Defaulted: 1\n" in first, stats
    assert wait_for(lambda: env.get("Interface", pair.l[0], "lacp_current")
                    == "false", 5)
    assert env.get("Interface", pair.l[1], "lacp_current") == "true"

    # Back up: negotiated on both links again.
    pair.olink(pair.o[0], "up")
    assert wait_for(lambda: negotiated(env.appctl("lacp/show", pair.lbond),
                                       pair.l), 8)
    assert env.ping_eventually("x", env.ip(2), 5)


def test_lacp_passive_and_fallback_with_ovs(env, pair):
    """Passive against passive never comes up; lacp-fallback-ab brings the
    bonds up as active-backup; Lanyard turning active negotiates with the
    passive OVS."""
    fast = "other_config:lacp-time=fast"
    pair.bonds(["lacp=passive", fast,
                "other_config:bond-primary=" + pair.l[0]],
               ["lacp=passive", fast,
                "other_config:bond-primary=" + pair.o[0]])
    time.sleep(2.5)
    show = env.appctl("lacp/show", pair.lbond)
    assert "  status: passive\n" in show, show
    assert set(members_state(show).values()) == {"defaulted detached"}
    assert "lacp_status: configured" in env.appctl("bond/show", pair.lbond)
    assert not env.ping("x", env.ip(2), count=1)
    # Nothing was sent by either passive side.
    assert re.findall(r"TX PDUs: (\d+)", env.appctl("lacp/show-stats")) \
        == ["0", "0"]
    for m in pair.l:
        assert env.get("Interface", m, "lacp_current") == "false"
    assert env.get("Port", pair.lbond, "bond_active_slave") == "[]"

    # Fallback to active-backup on both sides (same primary link).
    env.vsctl("set", "Port", pair.lbond, "other_config:lacp-fallback-ab=true")
    pair.ovs.vsctl("set", "Port", pair.obond,
                   "other_config:lacp-fallback-ab=true")
    assert env.ping_eventually("x", env.ip(2), 6)
    bshow = env.appctl("bond/show", pair.lbond)
    assert "lacp_fallback_ab: true" in bshow
    assert re.search(r"^member %s: enabled\n  active member$" % pair.l[0],
                     bshow, re.M), bshow
    assert "defaulted attached" in env.appctl("lacp/show", pair.lbond)

    # Active (Lanyard, slow: the default) against passive (OVS, fast):
    # negotiated.
    env.vsctl("set", "Port", pair.lbond, "lacp=active", "--", "remove",
              "Port", pair.lbond, "other_config", "lacp-time")
    assert wait_for(lambda: negotiated(env.appctl("lacp/show", pair.lbond),
                                       pair.l), 8), pair.diagnose()
    assert "  lacp_time: slow\n" in env.appctl("lacp/show", pair.lbond)
    assert wait_for(lambda: negotiated(pair.oappctl("lacp/show", pair.obond),
                                       pair.o), 5)
    assert "lacp_status: negotiated" in env.appctl("bond/show", pair.lbond)
    assert env.ping_eventually("x", env.ip(2), 5)


BAD_PDUS = """
import sys
from scapy.all import Ether, Raw, sendp, conf
from scapy.contrib.lacp import LACP, MarkerProtocol, SlowProtocol
conf.verb = 0
iface = sys.argv[1]
slow = dict(dst="01:80:c2:00:00:02", type=0x8809)
good = bytes(SlowProtocol(subtype=1) / LACP(
    actor_system="02:00:00:00:aa:01", actor_key=7, actor_port_number=3,
    actor_state=0x3d))
frames = [
    Ether(**slow) / Raw(good[:40]),                       # truncated
    Ether(**slow) / Raw(good[:1] + b"\\x01\\x01\\x07" + good[4:]),  # TLV len
    Ether(**slow) / Raw(b"\\x01\\x01\\x02\\x14" + good[4:]),   # actor TLV 2
    Ether(**slow) / Raw(b"\\x03" + good[1:]),               # OAM subtype
    Ether(**slow) / Raw(b""),                              # empty
    Ether(**slow) / Raw(b"\\x02\\x01\\x01\\x05" + b"\\0" * 106),  # marker len
]
sendp(frames, iface=iface)
sendp(Ether(**slow) / SlowProtocol(subtype=2) / MarkerProtocol(
      requester_port=3,
      requester_system="02:00:00:00:aa:01", requester_transaction_id=42),
      iface=iface)
sendp(Ether(**slow) / Raw(good), iface=iface)
"""

SNIFF_SLOW = """
import sys
from scapy.all import sniff, conf
conf.verb = 0
print("ready", flush=True)
p = sniff(iface=sys.argv[1], timeout=float(sys.argv[2]),
          lfilter=lambda p: p.type == 0x8809)
print(len(p), flush=True)
"""


def test_malformed_lacpdus_counted_and_dropped(env):
    """Scapy-crafted bad LACPDUs: counted as bad, never forwarded, no
    crash; a marker request is answered; a good PDU makes a partner."""
    br, bond = env.ns("br"), env.ns("lb")
    env.vsctl("add-br", br)
    env.add_ns("x")
    env.vsctl("add-port", br, env.host_if("x"))
    u = env.ns("u")
    sh("ip", "netns", "add", u)
    env.namespaces.append(u)
    members = []
    for leg in "ab":
        inner, outer = env.ns_if(leg), env.host_if(leg)
        sh("ip", "link", "add", inner, "type", "veth", "peer", "name", outer)
        env.links.append(outer)
        sh("ip", "link", "set", inner, "netns", u)
        nsrun(u, "ip", "link", "set", inner, "up")
        sh("ip", "link", "set", outer, "up")
        members.append(outer)
    env.vsctl("add-bond", br, bond, *members, "lacp=passive")
    assert wait_for(lambda: "no such" not in env.appctl(
        "lacp/show", bond, check=False), 3)
    sniff_x = subprocess.Popen(
        ["ip", "netns", "exec", env.ns("x"), PY, "-c", SNIFF_SLOW,
         env.ns_if("x"), "4"], stdout=subprocess.PIPE, text=True)
    sniff_u = subprocess.Popen(
        ["ip", "netns", "exec", u, PY, "-c", SNIFF_SLOW, env.ns_if("a"),
         "4"], stdout=subprocess.PIPE, text=True)
    assert sniff_x.stdout.readline().strip() == "ready"
    assert sniff_u.stdout.readline().strip() == "ready"
    nsrun(u, PY, "-c", BAD_PDUS, env.ns_if("a"))
    assert int(sniff_x.communicate(timeout=10)[0]) == 0   # Not forwarded.
    # Back on the wire: the marker response and our LACPDUs (the good PDU
    # made the passive side talk), next to the 8 frames scapy sent.
    assert int(sniff_u.communicate(timeout=10)[0]) >= 8 + 2
    stats = env.appctl("lacp/show-stats", bond)
    first = stats[stats.index("member: %s:" % members[0]):]
    assert re.search(r"RX PDUs: 8\n  RX Bad PDUs: 6\n"
                     r"  RX Marker Request PDUs: 1\n", first), stats
    show = env.appctl("lacp/show", bond)
    assert "partner sys_id: 02:00:00:00:aa:01" in show, show
    assert "partner key: 7" in show
    assert env.appctl("lacp/show", "nope", check=False) == ""
    r = sh(APPCTL, "-t", env.swctl, "lacp/show", "nope", check=False)
    assert "no such lacp object" in r.stderr and r.returncode != 0
