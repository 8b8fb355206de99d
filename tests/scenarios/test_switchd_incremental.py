"""Incremental reconfiguration on a bridge with many ports.

switchd applies each database change as a difference: the replica patches
the Bridge row's "ports" set in place, bridge.c looks only at the ports the
difference names, and the datapath copies only the changed elements into
its two forwarding snapshots (datapath/dp-snap.c).  A bookkeeping slip in any of
these shows as a port that floods where it should not, misses a flood,
keeps a stale MAC entry, or keeps its old VLAN; this test looks for each,
after additions and removals one at a time and many at once, in the middle
and at the end of the datapath's arrays.

Dummy ports, no namespaces; which ports a frame left by is read from the
tx_packets counters of dpif/show (one call for every port)."""
import re

from scapy.all import IP, UDP, Ether, Raw

from switchd_env import APPCTL, env, sh, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready

BCAST = "ff:ff:ff:ff:ff:ff"
N_FILL = 200                     # Filler ports: even VLAN 10, odd VLAN 20.
SINK = "02:e1:00:00:ff:ff"       # Learned on "sink" for the barrier.


def mac(n):
    return "02:e1:00:00:%02x:%02x" % (n >> 8, n & 0xff)


def frame(src, dst=BCAST):
    return bytes(Ether(src=src, dst=dst) / IP(src="198.51.100.1",
                                              dst="198.51.100.2")
                 / UDP() / Raw(b"incremental".ljust(40, b".")))


class Bridge:
    def __init__(self, env):
        self.env = env
        self.br = env.ns("br")

    def ctl(self, *args):
        return sh(APPCTL, "-t", self.env.swctl, *args).stdout

    def ports(self):
        """{name: (ofport, rx_packets, tx_packets)} from dpif/show."""
        out = {}
        for m in re.finditer(r"port (\d+) (\S+) \((\w+)\): rx_packets=(\d+)"
                             r".* tx_packets=(\d+)", self.ctl("dpif/show")):
            out[m.group(2)] = (int(m.group(1)), int(m.group(4)),
                               int(m.group(5)))
        return out

    def add(self, names_tags):
        args = []
        for name, tag in names_tags:
            args += ["--", "add-port", self.br, name, "tag=%d" % tag,
                     "--", "set", "Interface", name, "type=dummy"]
        self.env.vsctl(*args[1:])

    def send(self, port, data):
        """Injects DATA on PORT; returns the set of ports that sent it on.
        Frames are switched by a forwarding thread: once PORT has counted
        the frame, a marker goes from "probe" to "sink" (VLAN 4000, unicast
        to the MAC learned there, so no other port sees it); with one
        thread it arrives after the frame has gone everywhere."""
        before = self.ports()
        self.ctl("netdev-dummy/receive", port, data.hex())
        assert wait_for(lambda: self.ports()[port][1] > before[port][1], 5,
                        0.01)
        self.ctl("netdev-dummy/receive", "probe",
                 frame(mac(0xffe), dst=SINK).hex())
        assert wait_for(lambda: self.ports()["sink"][2] > before["sink"][2],
                        5, 0.01), "barrier marker lost"
        after = self.ports()
        return {name for name, (_, _, tx) in after.items()
                if name in before and tx > before[name][2]
                and name != "sink"}

    def fdb_ofports(self):
        """{mac: ofport} from fdb/show."""
        out = {}
        for line in self.ctl("fdb/show", self.br).splitlines()[1:]:
            f = line.split()
            out[f[2]] = f[0]
        return out


def test_many_ports_incremental(env):
    b = Bridge(env)
    env.vsctl("add-br", b.br)
    fill = ["f%d" % i for i in range(N_FILL)]
    b.add([(n, 10 if i % 2 == 0 else 20) for i, n in enumerate(fill)]
          + [("a", 10), ("b", 10), ("c", 20), ("probe", 4000),
             ("sink", 4000)])
    sh(APPCTL, "-t", env.swctl, "netdev-dummy/receive", "sink",
       frame(SINK).hex())
    assert wait_for(lambda: SINK in b.fdb_ofports(), 5, 0.01)
    # The bridge's local port has no tag: it carries every VLAN.
    vlan10 = {"b", b.br} | {n for i, n in enumerate(fill) if i % 2 == 0}

    # A broadcast in VLAN 10 reaches exactly the VLAN 10 ports.
    assert b.send("a", frame(mac(1))) == vlan10

    # Learning, then the learned port is deleted: its entries go, and a new
    # port that takes its ofport is not sent the old port's traffic.
    b.send("b", frame(mac(2)))
    assert b.send("a", frame(mac(1), dst=mac(2))) == {"b"}
    old_ofport = b.ports()["b"][0]
    assert b.fdb_ofports()[mac(2)] == str(old_ofport)
    env.vsctl("del-port", b.br, "b")
    assert mac(2) not in b.fdb_ofports()
    b.add([("b2", 10)])
    assert b.ports()["b2"][0] == old_ofport
    vlan10 = vlan10 - {"b"} | {"b2"}
    assert b.send("a", frame(mac(1), dst=mac(2))) == vlan10

    # Removals in the middle of the datapath's arrays (each is replaced by
    # the last port) and at the end, one at a time and 40 at once.
    for name in ("f0", "f101", "c", "f150"):
        env.vsctl("del-port", b.br, name)
    args = []
    for name in fill[10:50]:
        args += ["--", "del-port", b.br, name]
    env.vsctl(*args[1:])
    gone = {"f0", "f101", "f150", "c"} | set(fill[10:50])
    vlan10 -= gone
    ports = b.ports()
    assert not gone & set(ports)
    assert b.send("a", frame(mac(1))) == vlan10
    # Port numbers stay unique.
    numbers = [v[0] for v in ports.values()]
    assert len(numbers) == len(set(numbers))

    # VLAN changes take effect in place: f51 (VLAN 20) joins VLAN 10, f52
    # (VLAN 10) leaves it.
    env.vsctl("set", "Port", "f51", "tag=10", "--", "set", "Port", "f52",
              "tag=20")
    vlan10 = vlan10 - {"f52"} | {"f51"}
    assert b.send("a", frame(mac(1))) == vlan10
    # A VLAN 20 broadcast from f52 now reaches the VLAN 20 ports only.
    vlan20 = {n for i, n in enumerate(fill) if i % 2 and n not in gone
              and n != "f51"} | {"f52", b.br}
    assert b.send("f52", frame(mac(3))) == vlan20 - {"f52"}

    # Ports added one at a time after the removals (they take the freed
    # places), then a port moved to another bridge in one transaction.
    b.add([("g1", 10)])
    b.add([("g2", 20)])
    b.add([("g3", 10)])
    vlan10 |= {"g1", "g3"}
    assert b.send("a", frame(mac(1))) == vlan10
    other = env.ns("o")
    env.vsctl("add-br", other)
    uuid = env.vsctl("get", "Port", "g3", "_uuid").strip()
    env.vsctl("remove", "Bridge", b.br, "ports", uuid, "--",
              "add", "Bridge", other, "ports", uuid)
    vlan10 -= {"g3"}
    assert "g3" in b.ports()
    assert b.send("a", frame(mac(1))) == vlan10

    # What the database says is what the datapath has.
    listed = set(env.vsctl("list-ports", b.br).split())
    dp_ports = set(b.ports()) - {b.br, other, "g3"}
    assert listed == dp_ports
