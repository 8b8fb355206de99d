"""A realistic ovs-vsctl session (seeds + integrator command lines) run in
order against a real ovsdb-server and against the server under test; the
normalised stdout, stderr and exit code of every step must be identical.

The reference outputs are recorded at test time from the real server, not
from a stored golden file.  For impl=ovs the "server under test" is a second
real ovsdb-server, which proves the normalisation removes every source of
nondeterminism (random UUIDs, hash order)."""

import json
import re

from conftest import UUID_RE, vsctl

VM1 = "c1018351-a229-4209-9faf-42446e0b53e5"
IFACE1 = "5a70be5b-5576-4734-9f61-61cdfc4a884a"
IFACE2 = "ef717aa4-23b3-4fbe-82bb-193033f933b1"
SYSID = "180c5636-2d3d-4e08-9c95-fe5e47f1e5fa"

# (how to make the output order deterministic, argv)
#   None: compare as is; "blocks": records separated by blank lines;
#   "table": heading lines then one row per line; "json": one JSON document
#   per line; "show": indentation tree; "lines": every line.
SCENARIO = [
    (None, ["init"]),
    ("show", ["show"]),
    # seed 000: the switch, a fake VLAN bridge, the trunk uplink
    (None, ["add-br", "ovsbr0"]),
    (None, ["add-br", "brlv140", "ovsbr0", "140"]),
    (None, ["add-br", "ovsbr0"]),                           # duplicate
    (None, ["--may-exist", "add-br", "ovsbr0"]),
    (None, ["--may-exist", "add-br", "brlv140"]),           # shape mismatch
    (None, ["--may-exist", "add-br", "brlv140", "ovsbr0", "141"]),
    (None, ["add-br", "brx", "ovsbr0"]),                     # 2 args
    (None, ["add-br", "bry", "nobr", "5"]),
    (None, ["add-br", "brz", "brlv140", "7"]),
    (None, ["add-br", "brv", "ovsbr0", "5000"]),
    (None, ["set", "port", "ens3f4", "trunks=120,130"]),    # before add-port
    (None, ["add-port", "ovsbr0", "ens3f4"]),
    (None, ["set", "port", "ens3f4", "trunks=120,130"]),
    (None, ["add-port", "ovsbr0", "vlan120", "tag=120", "--", "set",
            "interface", "vlan120", "type=internal"]),
    (None, ["add-port", "ovsbr0", "vxlan0", "--", "set", "Interface", "vxlan0",
            "type=vxlan", "options:remote_ip=192.0.2.2"]),
    # seed 002: management internal port with a fixed MAC, native-untagged
    (None, ["add-port", "ovsbr0", "ovsbr0p1", "--", "set", "interface",
            "ovsbr0p1", "type=internal", "--", "set", "interface", "ovsbr0p1",
            "mac=02\\:00\\:00\\:00\\:00\\:01"]),
    (None, ["get", "Interface", "ovsbr0p1", "mac", "type"]),
    (None, ["add-port", "ovsbr0", "eth1", "vlan_mode=native-untagged",
            "tag=2"]),
    # libvirt attach (current shape) on the fake bridge and via a portgroup
    (None, ["--", "--may-exist", "add-port", "brlv140", "vme001c42c68006",
            "--", "set", "Port", "vme001c42c68006", "other_config:transient=true",
            "--", "set", "Interface", "vme001c42c68006",
            'external-ids:attached-mac="00:1c:42:c6:80:06"',
            "--", "set", "Interface", "vme001c42c68006",
            'external-ids:iface-id="%s"' % IFACE1,
            "--", "set", "Interface", "vme001c42c68006",
            'external-ids:vm-id="%s"' % VM1,
            "--", "set", "Interface", "vme001c42c68006",
            "external-ids:iface-status=active"]),
    (None, ["--", "--may-exist", "add-port", "ovsbr0", "vme001c42c8f1cd",
            "--", "set", "Port", "vme001c42c8f1cd", "other_config:transient=true",
            "vlan_mode=native-untagged", "tag=120", "trunk=120,130",
            "--", "set", "Interface", "vme001c42c8f1cd",
            'external-ids:attached-mac="00:1c:42:c8:f1:cd"',
            "--", "set", "Interface", "vme001c42c8f1cd",
            'external-ids:iface-id="%s"' % IFACE2,
            "--", "set", "Interface", "vme001c42c8f1cd",
            'external-ids:vm-id="%s"' % VM1,
            "--", "set", "Interface", "vme001c42c8f1cd",
            "external-ids:iface-status=active"]),
    # libvirt ~2018 shape
    (None, ["--", "--if-exists", "del-port", "vme3", "--", "add-port", "ovsbr0",
            "vme3", "tag=130", "--", "set", "Interface", "vme3",
            'external-ids:iface-id="%s"' % IFACE2]),
    (None, ["--may-exist", "add-port", "brlv140", "vme001c42c68006"]),
    (None, ["--may-exist", "add-port", "ovsbr0", "vme001c42c68006"]),
    (None, ["add-port", "ovsbr0", "vlan120"]),               # duplicate
    (None, ["add-port", "nobr", "p9"]),
    (None, ["add-port", "ovsbr0", "brlv140"]),                # clashes w/ bridge
    (None, ["get", "Port", "vme001c42c68006", "tag"]),        # fake bridge tag
    (None, ["--if-exists", "--format=list", "--data=json", "--no-headings",
            "--columns=statistics", "list", "Interface", "vme001c42c68006"]),
    (None, ["--if-exists", "--format=list", "--data=json", "--no-headings",
            "--columns=statistics", "list", "Interface", "nosuchif"]),
    (None, ["--if-exists", "get", "Interface", "vme001c42c68006",
            "external_ids:PortData"]),
    (None, ["set", "Interface", "vme001c42c68006",
            "external_ids:PortData=some data with spaces"]),
    (None, ["--if-exists", "get", "Interface", "vme001c42c68006",
            "external_ids:PortData"]),
    (None, ["--", "--if-exists", "clear", "Port", "vme001c42c8f1cd", "tag",
            "--", "--if-exists", "clear", "Port", "vme001c42c8f1cd", "trunk",
            "--", "--if-exists", "clear", "Port", "vme001c42c8f1cd", "vlan_mode",
            "--", "--if-exists", "set", "Port", "vme001c42c8f1cd", "tag=42"]),
    (None, ["get", "Port", "vme001c42c8f1cd", "tag", "trunks", "vlan_mode"]),
    (None, ["iface-to-br", "vme001c42c68006"]),
    (None, ["iface-to-br", "nosuchif"]),
    (None, ["port-to-br", "vlan120"]),
    (None, ["port-to-br", "vme001c42c68006"]),
    (None, ["br-to-vlan", "brlv140"]),
    (None, ["br-to-vlan", "ovsbr0"]),
    (None, ["br-to-parent", "brlv140"]),
    (None, ["br-to-parent", "ovsbr0"]),
    (None, ["br-exists", "brlv140"]),
    (None, ["br-exists", "nobr"]),
    (None, ["list-br"]),
    (None, ["--real", "list-br"]),
    (None, ["list-br", "--real"]),                        # option after name
    (None, ["--fake", "list-br"]),
    (None, ["list-ports", "ovsbr0"]),
    (None, ["list-ports", "brlv140"]),
    (None, ["list-ifaces", "ovsbr0"]),
    # libvirt QoS chain on a plain port
    (None, ["add-port", "ovsbr0", "eth0"]),
    (None, ["--no-heading", "--columns=_uuid", "find", "queue",
            'external-ids:vm-id="%s"' % VM1, 'external-ids:ifname="eth0"']),
    (None, ["set", "port", "eth0", "qos=@qos1", 'external-ids:vm-id="%s"' % VM1,
            'external-ids:ifname="eth0"',
            "--", "--id=@qos1", "create", "qos", "type=linux-htb",
            "other_config:min-rate=8192000", "queues:0=@queue0",
            'external-ids:vm-id="%s"' % VM1, 'external-ids:ifname="eth0"',
            "--", "--id=@queue0", "create", "queue",
            "other_config:min-rate=8192000",
            'external-ids:vm-id="%s"' % VM1, 'external-ids:ifname="eth0"']),
    (None, ["--no-heading", "--columns=_uuid", "find", "queue",
            'external-ids:vm-id="%s"' % VM1, 'external-ids:ifname="eth0"']),
    ("blocks", ["list", "QoS"]),
    (None, ["set", "Interface", "eth0", "ingress_policing_rate=0",
            "ingress_policing_burst=0"]),
    (None, ["get", "Port", "eth0", "qos"]),
    (None, ["clear", "Port", "eth0", "qos", "--", "--all", "destroy", "QoS",
            "--", "--all", "destroy", "Queue"]),
    ("blocks", ["list", "Queue"]),
    # integration guide (seed 003) and ovs-ctl
    (None, ["--", "init", "--", "set", "Open_vSwitch", ".",
            'db-version="8.3.1"']),
    (None, ["set", "Open_vSwitch", ".", 'ovs-version="3.1.0"',
            'external-ids:system-id="\\"%s\\""' % SYSID,
            'external-ids:rundir="\\"/var/run/openvswitch\\""',
            'system-type="\\"debian\\""', 'system-version="\\"12\\""']),
    (None, ["set", "open_vswitch", ".", 'external-ids:system-id="%s"' % SYSID]),
    (None, ["add", "Open_vSwitch", ".", "external-ids", 'hostname="node1"']),
    (None, ["set", "Open_vSwitch", ".", "other_config:enable-statistics=true"]),
    (None, ["get", "Open_vSwitch", ".", "external_ids", "ovs_version",
            "db_version", "system_type"]),
    (None, ["set", "Bridge", "ovsbr0", 'external-ids:bridge-id="b1"']),
    (None, ["set", "Bridge", "ovsbr0", 'other_config:hwaddr="12:34:56:78:90:ab"']),
    (None, ["br-get-external-id", "ovsbr0"]),
    (None, ["br-set-external-id", "brlv140", "k1", "v1"]),
    (None, ["br-get-external-id", "brlv140", "k1"]),
    (None, ["br-get-external-id", "brlv140", "nokey"]),
    ("blocks", ["--bare", "--", "--columns=name", "find", "port",
            "other_config:transient=true"]),
    # database commands, formats
    (None, ["get", "Bridge", "ovsbr0", "other_config:hwaddr", "name"]),
    (None, ["get", "br", "ovsbr0", "name"]),
    (None, ["get", "p", "vlan120", "tag"]),
    (None, ["add", "Port", "vlan120", "trunks", "5", "6"]),
    (None, ["remove", "Port", "vlan120", "trunks", "5"]),
    (None, ["get", "Port", "vlan120", "trunks"]),
    (None, ["set", "Port", "vlan120", "other_config:k=orig"]),
    (None, ["add", "Port", "vlan120", "other_config", "k=new"]),
    (None, ["add", "Port", "vlan120", "other_config", "k=new2", "--", "get",
            "Port", "vlan120", "tag"]),
    (None, ["get", "Port", "vlan120", "other_config"]),
    (None, ["remove", "Port", "vlan120", "other_config", "k"]),
    (None, ["clear", "Port", "vlan120", "trunks"]),
    (None, ["set", "Port", "vlan120", "trunks=1-3,7"]),
    (None, ["get", "Port", "vlan120", "trunks"]),
    ("blocks", ["list", "Bridge"]),
    ("blocks", ["list", "Port"]),
    ("blocks", ["list", "Interface", "vme001c42c68006"]),
    ("blocks", ["--columns=name,tag,trunks,vlan_mode", "list", "Port"]),
    ("blocks", ["--columns=name,type", "find", "Interface", "type=internal"]),
    ("table", ["--format=table", "--columns=name,tag,trunks", "find", "Port",
               "tag=120"]),
    ("table", ["--format=csv", "--columns=name,tag,trunks", "find", "Port",
               "tag=120"]),
    ("json", ["--format=json", "--columns=name,tag,trunks,interfaces", "find",
              "Port", "tag=120"]),
    ("json", ["--format=json", "--pretty", "--columns=name,tag", "find", "Port",
              "tag=140"]),
    ("lines", ["--format=html", "--columns=name,tag", "find", "Port", "tag=140"]),
    ("blocks", ["--bare", "--columns=name", "find", "Port", "tag=120"]),
    ("blocks", ["--data=bare", "--columns=name,trunks", "find", "Port",
                "trunks{>=}120"]),
    ("blocks", ["--columns=name", "find", "Port", "tag<5"]),
    ("blocks", ["--no-headings", "--columns=name", "find", "Interface",
                "external_ids:iface-status=active"]),
    ("json", ["--oneline", "--format=json", "--", "--may-exist", "add-port",
              "ovsbr0", "tap1", "--", "set", "Port", "tap1", "tag=5",
              "--", "set", "Interface", "tap1",
              "external_ids:iface-id=%s" % IFACE1,
              "external_ids:iface-status=active",
              "external_ids:attached-mac=fa:16:3e:00:00:01",
              "external_ids:vm-uuid=%s" % VM1,
              "--", "list", "Port", "tap1"]),
    ("json", ["--oneline", "--format=json", "--", "--columns=mtu_request",
              "list", "Interface", "tap1"]),
    # neutron's manager bootstrap, twice (the second hits the index)
    (None, ["--id=@manager", "--", "create", "Manager",
            'target="ptcp:6640:127.0.0.1"', "--", "add", "Open_vSwitch", ".",
            "manager_options", "@manager"]),
    (None, ["--id=@manager", "--", "create", "Manager",
            'target="ptcp:6640:127.0.0.1"', "--", "add", "Open_vSwitch", ".",
            "manager_options", "@manager"]),
    (None, ["--", "set", "Manager", "ptcp:6640:127.0.0.1",
            "inactivity_probe=5000"]),
    (None, ["get", "Manager", "ptcp:6640:127.0.0.1", "inactivity_probe"]),
    (None, ["get-manager"]),
    # controller / fail mode / bond
    (None, ["set-controller", "ovsbr0", "tcp:127.0.0.1:6633"]),
    (None, ["get-controller", "ovsbr0"]),
    (None, ["set-controller", "brlv140", "tcp:127.0.0.1:6633"]),
    (None, ["set-fail-mode", "ovsbr0", "secure"]),
    (None, ["get-fail-mode", "ovsbr0"]),
    (None, ["set-fail-mode", "ovsbr0", "bogus"]),
    (None, ["add-bond", "ovsbr0", "bond0", "ens1", "ens2", "lacp=active"]),
    (None, ["add-bond", "ovsbr0", "bond1", "ens3"]),
    (None, ["get", "Port", "bond0", "lacp"]),
    ("show", ["show"]),
    # error cases with exact wording
    (None, ["set", "Port", "vlan120", "tag=5000"]),
    (None, ["set", "Port", "vlan120", "vlan_mode=bogus"]),
    (None, ["set", "Port", "vlan120", "nocol=1"]),
    (None, ["set", "Port", "vlan120", "tag=abc"]),
    (None, ["set", "Port", "vlan120", "tag=1,2"]),
    (None, ["set", "Port", "vlan120", "tag"]),
    (None, ["set", "Bridge", "ovsbr0", "name=x"]),
    (None, ["set", "Interface", "vlan120", 'mac="unterminated']),
    (None, ["get", "Port", "nope", "name"]),
    (None, ["--if-exists", "get", "Port", "nope", "name"]),
    (None, ["get", "Port", "vlan120", "other_config:nokey"]),
    (None, ["--if-exists", "get", "Port", "vlan120", "other_config:nokey"]),
    (None, ["get", "Nope", "x", "y"]),
    (None, ["find", "Bridge", "name=ovsbr0", "--columns=name"]),
    (None, ["--columns=mtu_requestx", "list", "Interface"]),
    (None, ["clear", "Port", "vlan120", "interfaces"]),
    (None, ["frobnicate"]),
    (None, ["del-br", "nobr"]),
    (None, ["--if-exists", "del-br", "nobr"]),
    (None, ["del-port", "nope"]),
    (None, ["--if-exists", "del-port", "nope"]),
    (None, ["del-port", "ovsbr0"]),                          # local port
    (None, ["del-port", "ovsbr0", "vme001c42c68006"]),        # on fake child
    (None, ["--", "--may-exist", "add-br", "ovsbr0", "--"]),  # Debian ifupdown
    # teardown
    (None, ["del-port", "ovsbr0", "vlan120"]),
    (None, ["--", "--if-exists", "del-port", "vme001c42c8f1cd"]),
    (None, ["del-br", "brlv140"]),
    (None, ["list-ports", "ovsbr0"]),
    (None, ["port-to-br", "vme001c42c68006"]),
    ("show", ["show"]),
    (None, ["del-br", "ovsbr0"]),
    (None, ["list-br"]),
    ("show", ["show"]),
    ("blocks", ["list", "Interface"]),
]

NAMED = [("Bridge", "name"), ("Port", "name"), ("Interface", "name"),
         ("Manager", "target"), ("Controller", "target"), ("Mirror", "name"),
         ("Open_vSwitch", None)]

PLACEHOLDER = r'<[A-Za-z_]+(?::[^<>]*)?>|<U\d+>'


class Normaliser:
    """Maps each server's UUIDs to stable placeholders: rows with a name get
    <Table:name>, other rows <U1>, <U2>, ... in order of first appearance."""

    def __init__(self, server):
        self.server = server
        self.names = {}
        self.anon = {}

    def refresh(self):
        with self.server.rpc() as c:
            ops = [{"op": "select", "table": t, "where": [],
                    "columns": ["_uuid"] + ([col] if col else [])}
                   for t, col in NAMED]
            res = c.transact(*ops)
        for (table, col), r in zip(NAMED, res):
            for row in r["rows"]:
                u = row["_uuid"][1]
                self.names[u] = ("<%s:%s>" % (table, row[col])) if col \
                    else "<%s>" % table

    def uuids(self, text):
        def repl(m):
            u = m.group(0)
            if u in self.names:
                return self.names[u]
            if u not in self.anon:
                self.anon[u] = "<U%d>" % (len(self.anon) + 1)
            return self.anon[u]
        return UUID_RE.sub(repl, text)


def _sort_placeholder_sets(text):
    """Sets of row references print in UUID order; sort them by name."""
    def repl(m):
        items = m.group(1).split(", ")
        return "[" + ", ".join(sorted(items)) + "]"
    return re.sub(r"\[((?:%s)(?:, (?:%s))+)\]" % (PLACEHOLDER, PLACEHOLDER),
                  repl, text)


def _sort_json(v):
    if isinstance(v, list):
        v = [_sort_json(x) for x in v]
        if len(v) == 2 and v[0] == "set" and isinstance(v[1], list):
            return ["set", sorted(v[1], key=json.dumps)]
        return v
    if isinstance(v, dict):
        v = {k: _sort_json(x) for k, x in v.items()}
        if "data" in v and "headings" in v:
            v["data"] = sorted(v["data"], key=json.dumps)
        return v
    return v


def _sort_show(text):
    lines = text.split("\n")

    def parse(i, depth):
        nodes = []
        while i < len(lines) and lines[i]:
            ind = len(lines[i]) - len(lines[i].lstrip(" "))
            if ind < depth:
                break
            label = lines[i]
            children, i = parse(i + 1, ind + 1)
            nodes.append((label, children))
        return nodes, i

    def dump(nodes):
        out = []
        for label, ch in sorted(nodes, key=lambda n: (n[0], repr(n[1]))):
            out.append(label)
            out.extend(dump(ch))
        return out

    nodes, _ = parse(0, 0)
    return "\n".join(dump(nodes)) + "\n"


def normalise(kind, text, norm):
    text = norm.uuids(text)
    text = _sort_placeholder_sets(text)
    if kind == "blocks":
        blocks = [b for b in text.strip("\n").split("\n\n")]
        text = "\n\n".join(sorted(blocks))
    elif kind == "table":
        ls = text.splitlines()
        head = 2 if len(ls) > 1 and set(ls[1]) <= set("- ") else 1
        text = "\n".join(ls[:head] + sorted(ls[head:]))
    elif kind == "json":
        out = []
        for ln in text.splitlines():
            try:
                out.append(json.dumps(_sort_json(json.loads(ln)), sort_keys=True))
            except ValueError:
                out.append(ln)
        if "--pretty" in text or (text.lstrip().startswith("{") and len(out) > 1):
            try:
                out = [json.dumps(_sort_json(json.loads(text)), sort_keys=True)]
            except ValueError:
                pass
        text = "\n".join(out)
    elif kind == "show":
        text = _sort_show(text)
    elif kind == "lines":
        text = "\n".join(sorted(text.splitlines()))
    return text


def normalise_err(text, norm):
    # Log lines carry a timestamp and sequence number.
    text = re.sub(r"^\S+\|\d+\|", "", text, flags=re.M)
    text = norm.uuids(text)

    # An index clash names the two rows in UUID order: sort them.
    def pair(m):
        rows = sorted([(m.group(1), m.group(2)), (m.group(3), m.group(4))])
        return "First row, with UUID %s, %s.  Second row, with UUID %s, %s." % (
            rows[0][0], rows[0][1], rows[1][0], rows[1][1])
    return re.sub(r"First row, with UUID (<[^>]*>), (.*?)\.  "
                  r"Second row, with UUID (<[^>]*>), (.*?)\.", pair, text)


def run_scenario(server):
    norm = Normaliser(server)
    results = []
    for kind, argv in SCENARIO:
        norm.refresh()
        r = vsctl(server, *argv)
        norm.refresh()
        results.append((r.rc, normalise(kind, r.out, norm),
                        normalise_err(r.err, norm)))
    return results


def test_vsctl_scenario_matches_real_server(impl, server_factory):
    ref = server_factory("ovs", name="ref")
    sut = server_factory(impl, name="sut")
    want = run_scenario(ref)
    got = run_scenario(sut)

    # Sanity checks on the reference itself, so that a broken scenario
    # (everything failing the same way on both servers) cannot pass.
    by_cmd = {" ".join(a): w for (k, a), w in zip(SCENARIO, want)}
    assert by_cmd["list-br"][1] in ("", "brlv140\novsbr0\n")
    assert by_cmd["br-exists nobr"][0] == 2
    assert by_cmd["br-to-vlan brlv140"][1] == "140\n"
    assert "already exists" in by_cmd["add-br ovsbr0"][2]
    assert by_cmd["get Port vme001c42c68006 tag"][1] == "140\n"
    assert sum(1 for w in want if w[0] == 0) > 100

    diffs = []
    for (kind, argv), w, g in zip(SCENARIO, want, got):
        if w != g:
            diffs.append("ovs-vsctl %s\n  real:    %r\n  %s: %r"
                         % (" ".join(argv), w, impl, g))
    assert not diffs, "%d of %d steps differ:\n%s" % (
        len(diffs), len(SCENARIO), "\n".join(diffs))


def test_concurrent_add_port_all_succeed(server):
    """Twenty ovs-vsctl processes add ports to one bridge at once (libvirt
    starting many VMs).  Each rewrites Bridge.ports guarded by a 'wait'
    op; the losers of a race must get "timed out", re-read and retry, so
    every command succeeds and no port is lost."""
    import subprocess
    from conftest import tool_env
    vsctl(server, "add-br", "br0", check=True)
    procs = [subprocess.Popen(
        ["ovs-vsctl", "--db=" + server.remote, "--no-wait", "--timeout=60",
         "add-port", "br0", "vif%02d" % i, "tag=%d" % (i + 1)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=tool_env(server.dir)) for i in range(20)]
    results = [(p.wait(90), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(rc == 0 for rc, _ in results), results
    r = vsctl(server, "list-ports", "br0", check=True)
    assert r.out.split() == ["vif%02d" % i for i in range(20)]
    r = vsctl(server, "get", "Port", "vif07", "tag", check=True)
    assert r.out == "8\n"
