"""VXLAN tunnels between Lanyard and the kernel's vxlan device, Open vSwitch
and other Lanyard hosts.

Every "host" is a network namespace with one veth into a shared underlay
(a Linux bridge in its own namespace, 10.<n>.0.0/24).  A Lanyard host runs
its own lanyard-dbd (unix socket, so it can stay in the root namespace) and
its own lanyard-switchd *inside* the host namespace, so the tunnel's UDP
socket uses that namespace's addresses, routes and neighbours.  "VMs" are
namespaces joined to their host by a veth whose outer end lives in the host
namespace and is added to the host's bridge.
"""
import ast
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from switchd_env import (SWITCHD, SwitchEnv, nsrun, sh, skip_unless_ready,
                         wait_for)

pytestmark = skip_unless_ready + [
    pytest.mark.skipif(shutil.which("iperf3") is None,
                       reason="iperf3 not installed"),
]

OVS_VSWITCHD = "/usr/sbin/ovs-vswitchd"
OVSDB_SERVER = "/usr/sbin/ovsdb-server"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class LanyardHost(SwitchEnv):
    """A lanyard-dbd + lanyard-switchd pair whose switchd runs inside
    network namespace NS."""

    def __init__(self, pfx, ns):
        super().__init__()
        self.pfx = pfx
        self.hostns = ns

    def start_switchd(self):
        nsrun(self.hostns, SWITCHD, "--unixctl=" + self.swctl,
              "--log-file=" + self._log("switchd"),
              "--pidfile=" + self._pid("switchd"), "--detach",
              "-vconsole:off", "unix:" + self.sock)
        assert wait_for(lambda: os.path.exists(self.swctl), 5)

    def teardown(self):
        # Namespaces and links belong to the Underlay object.
        self.namespaces, self.links = [], []
        return super().teardown()


class Underlay:
    """Namespaces, the underlay bridge, VTEPs of every kind, and cleanup."""

    def __init__(self, mtu=1500):
        self.pfx = "lvx%04x" % random.randrange(0x10000)
        self.net = random.randrange(100, 250)
        self.mtu = mtu
        self.namespaces = []
        self.hosts = {}
        self.procs = []
        self.dirs = []
        self.ovs = []
        self.next_addr = 1
        try:
            self.ulns = self._ns("ul")
            nsrun(self.ulns, "ip", "link", "add", "ulbr", "type", "bridge")
            nsrun(self.ulns, "ip", "link", "set", "ulbr", "mtu", str(mtu),
                  "up")
        except Exception:
            self.cleanup()
            raise

    def _ns(self, name):
        ns = self.pfx + name
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        nsrun(ns, "ip", "link", "set", "lo", "up")
        nsrun(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        return ns

    def uaddr(self, idx):
        return "10.%d.0.%d" % (self.net, idx)

    def vm_addr(self, idx, net=1):
        return "10.%d.%d.%d" % (self.net, net, idx)

    def host_ns(self, name):
        """Namespace NAME with a veth 'u' into the underlay; returns (ns,
        underlay address)."""
        ns = self._ns(name)
        idx = self.next_addr
        self.next_addr += 1
        outer = "%s%su" % (self.pfx, name)
        sh("ip", "link", "add", "ul0", "netns", ns, "type", "veth", "peer",
           "name", outer, "netns", self.ulns)
        nsrun(self.ulns, "ip", "link", "set", outer, "master", "ulbr", "mtu",
              str(self.mtu), "up")
        nsrun(ns, "ip", "link", "set", "ul0", "mtu", str(self.mtu), "up")
        nsrun(ns, "ip", "addr", "add", self.uaddr(idx) + "/24", "dev", "ul0")
        return ns, self.uaddr(idx)

    def lanyard(self, name):
        ns, addr = self.host_ns(name)
        h = LanyardHost(self.pfx + name, ns)
        h.addr = addr
        h.start()
        self.hosts[name] = h
        h.vsctl("add-br", "br0")
        return h

    def vm(self, host, name, addr, mtu=1500, port_args=()):
        """Namespace NAME joined to HOST's bridge br0 (HOST is a LanyardHost
        or a namespace name for a kernel bridge)."""
        ns = self._ns(name)
        hostns = host.hostns if isinstance(host, LanyardHost) else host
        outer = "%s%s" % (name, "p")
        sh("ip", "link", "add", "e0", "netns", ns, "type", "veth", "peer",
           "name", outer, "netns", hostns)
        nsrun(hostns, "ip", "link", "set", outer, "mtu", str(mtu), "up")
        nsrun(ns, "ip", "link", "set", "e0", "mtu", str(mtu), "up")
        if addr:
            nsrun(ns, "ip", "addr", "add", addr + "/16", "dev", "e0")
        if isinstance(host, LanyardHost):
            host.vsctl("add-port", "br0", outer, *port_args)
        return ns

    def vxlan(self, host, name, remote, *opts):
        host.vsctl("add-port", "br0", name, "--", "set", "Interface", name,
                   "type=vxlan", "options:remote_ip=" + remote, *opts)

    def kernel_vtep(self, name, vni, remote, mtu=None, port=4789):
        """A host whose VM is the kernel vxlan device itself (address on the
        device).  Returns (host ns, underlay address)."""
        ns, addr = self.host_ns(name)
        # Bound to its lower device the kernel caps the MTU at the
        # underlay's minus 50; unbound it fragments what does not fit.
        lower = ["dev", "ul0"] if not mtu or mtu <= self.mtu - 50 else []
        nsrun(ns, "ip", "link", "add", "vx", "type", "vxlan", "id", str(vni),
              "dstport", str(port), "remote", remote, "local", addr, *lower)
        if mtu:
            nsrun(ns, "ip", "link", "set", "vx", "mtu", str(mtu))
        nsrun(ns, "ip", "link", "set", "vx", "up")
        return ns, addr

    def cleanup(self):
        problems = []
        for h in self.hosts.values():
            p, kept = h.teardown()
            problems += p
        for o in self.ovs:
            o.stop()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        return problems


@pytest.fixture
def ul():
    u = Underlay()
    try:
        yield u
    finally:
        problems = u.cleanup()
    if problems:
        pytest.fail("daemon problems:\n" + "\n".join(problems))


@pytest.fixture
def ul2000():
    u = Underlay(mtu=2000)
    try:
        yield u
    finally:
        problems = u.cleanup()
    if problems:
        pytest.fail("daemon problems:\n" + "\n".join(problems))


def ping(ns, dst, count=2, size=None, df=False, wait=1):
    args = ["ping", "-c", str(count), "-i", "0.2", "-W", str(wait), "-q"]
    if size is not None:
        args += ["-s", str(size)]
    if df:
        args += ["-M", "do"]
    return nsrun(ns, *args, dst, check=False).returncode == 0


def ping_eventually(ns, dst, secs=8, **kw):
    return wait_for(lambda: ping(ns, dst, count=1, **kw), secs, 0)


def port_stats(host, name):
    out = host.appctl("dpif/show")
    m = re.search(r"port \d+ %s \(vxlan\): (.*)" % re.escape(name), out)
    assert m, out
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def iface_stat(host, name, key):
    """KEY of Interface NAME's statistics column in the database, 0 if
    absent."""
    out = host.vsctl("--no-wait", "get", "Interface", name, "statistics")
    m = re.search(r"\b%s=(\d+)" % key, out)
    return int(m.group(1)) if m else 0


def endpoint_stats(host):
    out = host.appctl("dpif/show")
    m = re.search(r"vxlan endpoint udp4 port 4789: (.*)", out)
    assert m, out
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def iperf(client_ns, server_ns, server_addr, secs=2):
    srv = subprocess.Popen(["ip", "netns", "exec", server_ns, "iperf3", "-s",
                            "-1", "-B", server_addr],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        out = nsrun(client_ns, "iperf3", "-c", server_addr, "-t", str(secs),
                    "-J", timeout=secs + 20).stdout
    finally:
        srv.wait(10)
    r = json.loads(out)
    return r["end"]["sum_received"]["bits_per_second"]


# ---- Lanyard <-> kernel vxlan ----------------------------------------------

def test_kernel_vxlan_interop(ul):
    """Ping both ways, full-size frames for the 1450 inner MTU, oversize
    frames dropped and counted (not truncated), TCP with default offloads,
    MAC learned against the tunnel."""
    ly = ul.lanyard("ly")
    kns, kaddr = ul.kernel_vtep("kv", 100, ly.addr)
    nsrun(kns, "ip", "addr", "add", ul.vm_addr(2) + "/16", "dev", "vx")
    a = ul.vm(ly, "a", ul.vm_addr(1), mtu=1450)
    ul.vxlan(ly, "vx0", kaddr, "options:key=100")
    assert ly.get("Interface", "vx0", "error") in ("[]", "")
    assert ping_eventually(a, ul.vm_addr(2))
    assert ping(kns, ul.vm_addr(1))
    # Full-size: 1450-byte inner IP packets with DF, both directions.
    assert ping(a, ul.vm_addr(2), size=1422, df=True)
    assert ping(kns, ul.vm_addr(1), size=1422, df=True)
    # fdb: the kernel device's MAC is learned on the tunnel's port.
    kmac = nsrun(kns, "cat", "/sys/class/net/vx/address").stdout.strip()
    ofport = ly.get("Interface", "vx0", "ofport")
    fdb = ly.appctl("fdb/show", "br0")
    assert re.search(r"^\s*%s\s+0\s+%s" % (ofport, kmac), fdb, re.M), fdb
    # TCP with the hosts' default offloads (TSO/GSO frames from the veth).
    assert iperf(a, kns, ul.vm_addr(2)) > 50e6
    assert iperf(kns, a, ul.vm_addr(1)) > 50e6
    # A 1500-byte inner frame cannot cross a 1500 underlay with DF: dropped
    # and counted, never truncated.
    nsrun(a, "ip", "link", "set", "e0", "mtu", "1500")
    nsrun(ly.hostns, "ip", "link", "set", "ap", "mtu", "1500")
    before = port_stats(ly, "vx0")["tx_dropped"]
    assert not ping(a, ul.vm_addr(2), size=1472, df=True, count=1)
    assert port_stats(ly, "vx0")["tx_dropped"] > before


def test_kernel_vxlan_2000_underlay(ul2000):
    """1500-byte inner frames over a 2000-byte underlay (the seed's setup),
    TCP both ways with UDP checksums on (and so UDP GSO)."""
    ly = ul2000.lanyard("ly")
    kns, kaddr = ul2000.kernel_vtep("kv", 100, ly.addr, mtu=1500)
    nsrun(kns, "ip", "addr", "add", ul2000.vm_addr(2) + "/16", "dev", "vx")
    a = ul2000.vm(ly, "a", ul2000.vm_addr(1), mtu=1500)
    # csum=true: UDP checksums, which lets TSO frames leave as UDP GSO runs.
    ul2000.vxlan(ly, "vx0", kaddr, "options:key=100", "options:csum=true")
    assert ping_eventually(a, ul2000.vm_addr(2))
    assert ping(a, ul2000.vm_addr(2), size=1472, df=True)
    assert ping(kns, ul2000.vm_addr(1), size=1472, df=True)
    assert iperf(a, kns, ul2000.vm_addr(2)) > 50e6
    assert iperf(kns, a, ul2000.vm_addr(1)) > 50e6
    st = port_stats(ly, "vx0")
    assert st["tx_errors"] == 0 and st["tx_dropped"] == 0, st


def test_vni_mismatch_isolates(ul):
    ly = ul.lanyard("ly")
    kns, kaddr = ul.kernel_vtep("kv", 200, ly.addr)
    nsrun(kns, "ip", "addr", "add", ul.vm_addr(2) + "/16", "dev", "vx")
    a = ul.vm(ly, "a", ul.vm_addr(1), mtu=1450)
    ul.vxlan(ly, "vx0", kaddr, "options:key=100")
    assert not ping(a, ul.vm_addr(2), count=3)
    assert not ping(kns, ul.vm_addr(1), count=2)
    st = endpoint_stats(ly)
    assert st["unknown_tunnel"] > 0, st
    # The mismatch came from the tunnel's own remote: it shows in the
    # tunnel's rx_errors (and so in Interface.statistics).
    assert port_stats(ly, "vx0")["rx_errors"] > 0
    # Interface.statistics (written every 5 s) shows it too.
    assert wait_for(lambda: iface_stat(ly, "vx0", "rx_errors") > 0, 7)
    # Fixing the key makes them meet.
    ly.vsctl("set", "Interface", "vx0", "options:key=200")
    assert ping_eventually(a, ul.vm_addr(2))


# ---- Several Lanyard hosts --------------------------------------------------

def scapy(ns, code, timeout=30):
    """Runs CODE (Python using scapy) in namespace NS; returns its stdout."""
    prog = "from scapy.all import *\nconf.verb = 0\n" + code
    return nsrun(ns, "/usr/bin/python3", "-c", prog, timeout=timeout).stdout


def count_vxlan_copies(ul, marker, send):
    """Sniffs the underlay bridge while SEND() runs; returns how many VXLAN
    datagrams carried a frame containing MARKER, by source address."""
    sniffer = subprocess.Popen(
        ["ip", "netns", "exec", ul.ulns, "/usr/bin/python3", "-c",
         "from scapy.all import *\n"
         "from scapy.layers.vxlan import VXLAN\n"
         "import sys, collections\n"
         "c = collections.Counter()\n"
         "def f(p):\n"
         "    if UDP in p and p[UDP].dport == 4789 and (%r).encode() in bytes(p):\n"
         "        c[p[IP].src] += 1\n"
         "print('ready', flush=True)\n"
         "sniff(iface='ulbr', filter='udp port 4789', prn=f, timeout=4)\n"
         "print(dict(c))\n" % marker],
        stdout=subprocess.PIPE, text=True)
    try:
        assert sniffer.stdout.readline().strip() == "ready"
        time.sleep(1)
        send()
        out, _ = sniffer.communicate(timeout=20)
    finally:
        if sniffer.poll() is None:
            sniffer.kill()
    return ast.literal_eval(out.strip().splitlines()[-1])


def three_hosts(ul, links, split_horizon):
    """Three Lanyard hosts h1..h3 with one VM each (10.<n>.1.i/16); LINKS
    lists the tunnels (i, j) to create in both directions."""
    hosts = [ul.lanyard("h%d" % i) for i in (1, 2, 3)]
    vms = [ul.vm(h, "v%d" % (i + 1), ul.vm_addr(i + 1), mtu=1450)
           for i, h in enumerate(hosts)]
    sh_opt = ["--", "set", "Port", None, "other_config:split-horizon=true"]
    for i, j in links:
        for a, b in ((i, j), (j, i)):
            name = "vx%d" % (b + 1)
            extra = []
            if split_horizon:
                extra = sh_opt[:3] + [name, sh_opt[4]]
            ul.vxlan(hosts[a], name, hosts[b].addr, "options:key=77", *extra)
    return hosts, vms


def all_pairs_ping(ul, vms):
    for i, src in enumerate(vms):
        for j in range(len(vms)):
            if i != j:
                assert ping_eventually(src, ul.vm_addr(j + 1)), (i, j)


def test_full_mesh_split_horizon(ul):
    hosts, vms = three_hosts(ul, [(0, 1), (0, 2), (1, 2)], True)
    all_pairs_ping(ul, vms)
    # One broadcast from v1: head-end replication puts exactly one copy per
    # remote on the wire from h1, and split horizon keeps h2 and h3 from
    # sending it on to each other.
    marker = "lanyard-bcast-%d" % random.randrange(1 << 30)

    def send():
        scapy(vms[0], "sendp(Ether(dst='ff:ff:ff:ff:ff:ff')/IP(dst='10.255.255.255')"
                      "/UDP(dport=9)/Raw(%r), iface='e0')" % marker)
    copies = count_vxlan_copies(ul, marker, send)
    assert copies == {hosts[0].addr: 2}, copies
    # MACs learned against the right tunnels.
    v2mac = nsrun(vms[1], "cat", "/sys/class/net/e0/address").stdout.strip()
    ofport = hosts[0].get("Interface", "vx2", "ofport")
    fdb = hosts[0].appctl("fdb/show", "br0")
    assert re.search(r"^\s*%s\s+0\s+%s" % (ofport, v2mac), fdb, re.M), fdb


def test_full_mesh_without_split_horizon_loops(ul):
    """The control: the same mesh without split horizon floods a broadcast
    around the triangle (bounded here by the test's short sniff)."""
    hosts, vms = three_hosts(ul, [(0, 1), (0, 2), (1, 2)], False)
    marker = "lanyard-loop-%d" % random.randrange(1 << 30)

    def send():
        scapy(vms[0], "sendp(Ether(dst='ff:ff:ff:ff:ff:ff')/IP(dst='10.255.255.255')"
                      "/UDP(dport=9)/Raw(%r), iface='e0')" % marker)
    copies = count_vxlan_copies(ul, marker, send)
    assert sum(copies.values()) > 10, copies
    for h in hosts:
        h.vsctl("del-port", "br0", "vx1", check=False)
        h.vsctl("del-port", "br0", "vx2", check=False)
        h.vsctl("del-port", "br0", "vx3", check=False)


def test_hub_and_spoke(ul):
    hosts, vms = three_hosts(ul, [(0, 1), (0, 2)], False)
    all_pairs_ping(ul, vms)
    marker = "lanyard-hub-%d" % random.randrange(1 << 30)

    def send():
        scapy(vms[1], "sendp(Ether(dst='ff:ff:ff:ff:ff:ff')/IP(dst='10.255.255.255')"
                      "/UDP(dport=9)/Raw(%r), iface='e0')" % marker)
    # Spoke h2 sends one copy to the hub; the hub replicates it to h3 only.
    copies = count_vxlan_copies(ul, marker, send)
    assert copies == {hosts[1].addr: 1, hosts[0].addr: 1}, copies


def test_vlan_trunk_to_access(ul):
    """The seed's vlan120: tagged frames from a trunk VM on one host reach an
    access port tag=120 on the other untagged, and not tag=121."""
    h1, h2 = ul.lanyard("h1"), ul.lanyard("h2")
    trunk = ul.vm(h1, "t", None, mtu=1450)
    acc = ul.vm(h2, "a120", ul.vm_addr(2), mtu=1450, port_args=("tag=120",))
    other = ul.vm(h2, "a121", ul.vm_addr(3), mtu=1450, port_args=("tag=121",))
    ul.vxlan(h1, "vx0", h2.addr, "options:key=5")
    ul.vxlan(h2, "vx0", h1.addr, "options:key=5")
    marker = "lanyard-vlan-%d" % random.randrange(1 << 30)
    sniff = ("p = sniff(iface='e0', timeout=4, lfilter=lambda p: (%r).encode() in bytes(p),"
             " started_callback=lambda: print('ready', flush=True))\n"
             "print(len(p), [bool(x.haslayer(Dot1Q)) for x in p])\n" % marker)
    procs = [subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3",
                               "-c", "from scapy.all import *\n" + sniff],
                              stdout=subprocess.PIPE, text=True)
             for ns in (acc, other)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    scapy(trunk, "sendp(Ether(dst='ff:ff:ff:ff:ff:ff')/Dot1Q(vlan=120)"
                 "/IP(dst='10.255.255.255')/UDP(dport=9)/Raw(%r), iface='e0')"
                 % marker)
    outs = [p.communicate(timeout=20)[0].strip() for p in procs]
    assert outs[0] == "1 [False]", outs
    assert outs[1] == "0 []", outs
    # And back: untagged from the access port arrives tagged 120 on the trunk.
    back = "lanyard-back-%d" % random.randrange(1 << 30)
    p = subprocess.Popen(["ip", "netns", "exec", trunk, "/usr/bin/python3", "-c",
                          "from scapy.all import *\n"
                          "p = sniff(iface='e0', timeout=4, lfilter=lambda p: (%r).encode() in bytes(p),"
                          " started_callback=lambda: print('ready', flush=True))\n"
                          "print(len(p), [x[Dot1Q].vlan for x in p if Dot1Q in x])\n" % back],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    scapy(acc, "sendp(Ether(dst='ff:ff:ff:ff:ff:ff')/IP(dst='10.255.255.255')"
               "/UDP(dport=9)/Raw(%r), iface='e0')" % back)
    assert p.communicate(timeout=20)[0].strip() == "1 [120]"


# ---- Lanyard <-> Open vSwitch (userspace datapath) ---------------------------

class OvsHost:
    """A private ovsdb-server + ovs-vswitchd (datapath_type=netdev) run
    inside namespace NS.  OVS's userspace tunnels route through an OVS
    bridge, so the underlay veth goes into br-phy, which takes the host's
    underlay address."""

    def __init__(self, ul, name):
        self.ns, self.addr = ul.host_ns(name)
        self.dir = tempfile.mkdtemp(prefix=ul.pfx + "ovs-")
        ul.dirs.append(self.dir)
        self.db = "unix:%s/db.sock" % self.dir
        env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                   OVS_DBDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.env = env
        sh("ovsdb-tool", "create", self.dir + "/conf.db", OVS_SCHEMA)
        self.run(OVSDB_SERVER, self.dir + "/conf.db",
                 "--remote=punix:%s/db.sock" % self.dir,
                 "--pidfile=%s/ovsdb-server.pid" % self.dir,
                 "--unixctl=%s/ovsdb-server.ctl" % self.dir,
                 "--log-file=%s/ovsdb-server.log" % self.dir, "--detach")
        self.vsctl("--no-wait", "init")
        self.run(OVS_VSWITCHD, self.db,
                 "--pidfile=%s/ovs-vswitchd.pid" % self.dir,
                 "--unixctl=%s/ovs-vswitchd.ctl" % self.dir,
                 "--log-file=%s/ovs-vswitchd.log" % self.dir, "--detach")
        ul.ovs.append(self)
        self.vsctl("add-br", "br-phy", "--", "set", "Bridge", "br-phy",
                   "datapath_type=netdev")
        self.vsctl("add-port", "br-phy", "ul0")
        nsrun(self.ns, "ip", "addr", "flush", "dev", "ul0")
        nsrun(self.ns, "ip", "addr", "add", self.addr + "/24", "dev", "br-phy")
        nsrun(self.ns, "ip", "link", "set", "br-phy", "up")
        self.vsctl("add-br", "br-int", "--", "set", "Bridge", "br-int",
                   "datapath_type=netdev")

    def run(self, *args):
        return subprocess.run(["ip", "netns", "exec", self.ns, *args],
                              env=self.env, check=True, capture_output=True,
                              text=True, timeout=30).stdout

    def vsctl(self, *args):
        return self.run("ovs-vsctl", "--db=" + self.db, "--timeout=20", *args)

    def stop(self):
        for name in ("ovs-vswitchd", "ovsdb-server"):
            try:
                with open("%s/%s.pid" % (self.dir, name)) as f:
                    pid = int(f.read().strip())
                os.kill(pid, 15)
                wait_for(lambda: not os.path.exists("/proc/%d" % pid), 5)
            except (OSError, ValueError):
                pass


def test_ovs_userspace_vtep(ul):
    """Real ovs-vswitchd (userspace datapath) as the far VTEP: ping both
    ways, full-size frames, MACs learned on each side's tunnel."""
    ly = ul.lanyard("ly")
    ovs = OvsHost(ul, "ov")
    a = ul.vm(ly, "a", ul.vm_addr(1), mtu=1450)
    b = ul.vm(ovs.ns, "b", ul.vm_addr(2), mtu=1450)
    ovs.vsctl("add-port", "br-int", "bp")
    ovs.vsctl("add-port", "br-int", "vx0", "--", "set", "Interface", "vx0",
              "type=vxlan", "options:remote_ip=" + ly.addr, "options:key=300")
    ul.vxlan(ly, "vx0", ovs.addr, "options:key=300")
    assert ping_eventually(a, ul.vm_addr(2), secs=15)
    assert ping(b, ul.vm_addr(1))
    assert ping(a, ul.vm_addr(2), size=1422, df=True)
    assert ping(b, ul.vm_addr(1), size=1422, df=True)
    bmac = nsrun(b, "cat", "/sys/class/net/e0/address").stdout.strip()
    ofport = ly.get("Interface", "vx0", "ofport")
    fdb = ly.appctl("fdb/show", "br0")
    assert re.search(r"^\s*%s\s+0\s+%s" % (ofport, bmac), fdb, re.M), fdb
    # TCP with default offloads on our side.  OVS's userspace datapath
    # (3.1, no userspace TSO) cannot tunnel the 64 KB super-frames its own
    # veth hands it, so the OVS-side VM segments in software.
    assert iperf(a, b, ul.vm_addr(2)) > 50e6
    nsrun(b, "ethtool", "-K", "e0", "tso", "off", "gso", "off")
    assert iperf(b, a, ul.vm_addr(1)) > 50e6


def test_malformed_outer_dropped_and_counted(ul):
    ly = ul.lanyard("ly")
    kns, kaddr = ul.kernel_vtep("kv", 100, ly.addr)
    nsrun(kns, "ip", "addr", "add", ul.vm_addr(2) + "/16", "dev", "vx")
    a = ul.vm(ly, "a", ul.vm_addr(1), mtu=1450)
    ul.vxlan(ly, "vx0", kaddr, "options:key=100")
    assert ping_eventually(a, ul.vm_addr(2))
    xns, xaddr = ul.host_ns("x")
    before = endpoint_stats(ly)
    inner = ("Ether(dst='ff:ff:ff:ff:ff:ff', src='02:00:00:00:00:99')"
             "/IP(dst='10.255.255.255')/UDP(dport=9)/Raw(b'lanyard-bad')")
    send = ("u = IP(dst=%r)/UDP(sport=5555, dport=4789)\n"
            "pkts = [u/Raw(b'\\x08\\x00'),\n"                    # runt
            "        u/Raw(b'\\x00' * 8)/%s,\n"                   # no I flag
            "        u/Raw(b'\\x08\\x00\\x00\\x00\\x00\\x00\\x64\\x00' + b'x' * 10),\n"
            "        u/VXLAN(vni=999, flags=8)/%s]\n"             # unknown VNI
            "send(pkts)\n"
            # Outer UDP length larger than the packet: the host drops it.
            "send(IP(dst=%r)/UDP(sport=5555, dport=4789, len=400)/Raw(b'\\x08' * 20))\n"
            % (ly.addr, inner, inner, ly.addr))
    scapy(kns, "from scapy.layers.vxlan import VXLAN\n" + send)
    # A well-formed datagram from a host no tunnel is configured for.
    scapy(xns, "from scapy.layers.vxlan import VXLAN\n"
               "send(IP(dst=%r)/UDP(sport=5555, dport=4789)/VXLAN(vni=100, flags=8)/%s)"
               % (ly.addr, inner))
    after = wait_for(lambda: (lambda s: s if s["malformed"] - before["malformed"] >= 3
                              and s["unknown_tunnel"] - before["unknown_tunnel"] >= 2
                              else None)(endpoint_stats(ly)), 5)
    assert after, endpoint_stats(ly)
    assert after["malformed"] - before["malformed"] == 3, (before, after)
    assert after["unknown_tunnel"] - before["unknown_tunnel"] == 2, (before, after)
    # Nothing of it was learned or forwarded, and the tunnel still works.
    assert "02:00:00:00:00:99" not in ly.appctl("fdb/show", "br0")
    assert ping(a, ul.vm_addr(2))


def enable_ipv6(ns, addr):
    nsrun(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0")
    nsrun(ns, "sysctl", "-qw", "net.ipv6.conf.ul0.disable_ipv6=0")
    nsrun(ns, "ip", "-6", "addr", "add", addr + "/64", "dev", "ul0", "nodad")


def test_ipv6_underlay_kernel(ul):
    ly = ul.lanyard("ly")
    kns, _ = ul.host_ns("kv")
    net6 = "fd00:%x::" % ul.net
    enable_ipv6(ly.hostns, net6 + "1")
    enable_ipv6(kns, net6 + "2")
    nsrun(kns, "ip", "link", "add", "vx", "type", "vxlan", "id", "600",
          "dstport", "4789", "remote", net6 + "1", "local", net6 + "2",
          "dev", "ul0")
    nsrun(kns, "ip", "link", "set", "vx", "up")
    nsrun(kns, "ip", "addr", "add", ul.vm_addr(2) + "/16", "dev", "vx")
    a = ul.vm(ly, "a", ul.vm_addr(1), mtu=1430)
    ul.vxlan(ly, "vx6", net6 + "2", "options:key=600")
    assert ping_eventually(a, ul.vm_addr(2))
    assert ping(kns, ul.vm_addr(1))
    # 1430 is the inner MTU left by a 1500-byte IPv6 underlay (70 bytes).
    assert ping(a, ul.vm_addr(2), size=1402, df=True)
    out = ly.appctl("dpif/show")
    assert "vxlan endpoint udp6 port 4789" in out, out


def test_bad_options_reported(ul):
    ly = ul.lanyard("ly")
    a = ul.vm(ly, "a", ul.vm_addr(1))
    ul.vm(ly, "b", ul.vm_addr(2))
    cases = {
        "bad1": ("options:remote_ip=flow", "remote_ip=flow is not supported"),
        "bad2": ("options:remote_ip=10.1.1.1 options:key=abc",
                 "key: \"abc\" is not a VNI"),
        "bad3": ("options:key=5", "needs options:remote_ip"),
        "bad4": ("options:remote_ip=10.1.1.1 options:exts=gbp",
                 "unknown vxlan option \"exts"),
    }
    for name, (opts, _) in cases.items():
        ly.vsctl("add-port", "br0", name, "--", "set", "Interface", name,
                 "type=vxlan", *opts.split())
    for name, (_, text) in cases.items():
        err = ly.get("Interface", name, "error").replace('\\"', '"')
        assert text in err and name in err, (name, err)
        assert ly.get("Interface", name, "ofport") == "-1"
    assert ping_eventually(a, ul.vm_addr(2))
    # Fixing the options brings the port in.
    ly.vsctl("set", "Interface", "bad3", "options:remote_ip=10.1.1.3")
    assert ly.get("Interface", "bad3", "error") in ("[]", "")
    assert int(ly.get("Interface", "bad3", "ofport")) > 0


def test_outer_header_options(ul):
    """ttl, tos=inherit and df_default as seen on the wire; with
    df_default=false a 1500-byte inner frame crosses a 1500-byte underlay
    fragmented by the host (and reassembled by the kernel peer)."""
    ly = ul.lanyard("ly")
    kns, kaddr = ul.kernel_vtep("kv", 100, ly.addr, mtu=1500)
    nsrun(kns, "ip", "addr", "add", ul.vm_addr(2) + "/16", "dev", "vx")
    a = ul.vm(ly, "a", ul.vm_addr(1), mtu=1500)
    ul.vxlan(ly, "vx0", kaddr, "options:key=100", "options:ttl=7",
             "options:tos=inherit")
    assert ping_eventually(a, ul.vm_addr(2))
    out = scapy(ul.ulns,
                "import subprocess\n"
                "s = AsyncSniffer(iface='ulbr', filter='udp port 4789 and src %s')\n"
                "s.start(); time.sleep(0.5)\n"
                "subprocess.run(['ip', 'netns', 'exec', %r, 'ping', '-c', '1',"
                " '-Q', '0x28', %r], capture_output=True)\n"
                "time.sleep(0.5); p = s.stop()\n"
                "print([(x[IP].ttl, x[IP].tos, int(x[IP].flags)) for x in p])\n"
                % (ly.addr, a, ul.vm_addr(2)))
    seen = ast.literal_eval(out.strip().splitlines()[-1])
    assert (7, 0x28, 2) in seen, seen          # ttl 7, TOS copied, DF
    # 1500-byte inner frames: dropped with DF, fragmented without.
    assert not ping(a, ul.vm_addr(2), size=1472, df=True, count=1)
    ly.vsctl("set", "Interface", "vx0", "options:df_default=false")
    assert ping_eventually(a, ul.vm_addr(2), size=1472, df=True)
