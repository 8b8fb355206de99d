"""What libvirt and Debian's ifupdown hook send, replayed through the name
`ovs-vsctl` (found in PATH, default database socket $OVS_RUNDIR/db.sock,
no --no-wait: a small fake switch thread acknowledges next_cfg), once with
the real ovs-vsctl and once with lanyard-vsctl, against both servers.
Outputs and the resulting database must match the real tool's, and the
rows the integrations rely on are checked explicitly.

libvirt's argument lists are those of src/util/virnetdevopenvswitch.c
(attach with and without VLANs/trunks/port profile, the older attach shape,
VLAN update, detach, migration data, statistics, iface-to-br, vhost-user
lookups, bandwidth QoS).  The ifupdown hook is Debian's own script
(/usr/share/openvswitch/scripts/ifupdown.sh), run with the variables
ifupdown exports; systemctl, ip, ifup and ifdown are stubbed so nothing on
the host changes."""

import os
import stat
import subprocess
import threading
import time
import zlib

import pytest

from vsctl_harness import (Rpc, clients, compare_outcomes,  # noqa: F401
                           names_bin, run_script, sanitizer_report, servers,
                           tool_env, workdir)

IFUPDOWN = "/usr/share/openvswitch/scripts/ifupdown.sh"
IMPLS = ["ovs", "lanyard"]
VM = "c1018351-a229-4209-9faf-42446e0b53e5"
IFID1 = "5a70be5b-5576-4734-9f61-61cdfc4a884a"
IFID2 = "ef717aa4-23b3-4fbe-82bb-193033f933b1"


class FakeSwitch:
    """Plays ovs-vswitchd's part of the handshake: gives new interfaces an
    ofport and copies next_cfg into cur_cfg."""

    def __init__(self, server):
        self.rpc = Rpc(server.sock)
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.error = None

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(5)
        self.rpc.close()
        if self.error:
            raise self.error

    def _loop(self):
        try:
            while not self.stop_flag.wait(0.01):
                self._step()
        except Exception as e:   # surfaced in __exit__
            self.error = e

    def _step(self):
        root, ifaces = self.rpc.call("transact", [
            "Open_vSwitch",
            {"op": "select", "table": "Open_vSwitch", "where": [],
             "columns": ["next_cfg", "cur_cfg"]},
            {"op": "select", "table": "Interface",
             "where": [["ofport", "==", ["set", []]]], "columns": ["name"]}])
        rows = root["rows"]
        if not rows or rows[0]["next_cfg"] == rows[0]["cur_cfg"]:
            return
        ops = [{"op": "update", "table": "Interface",
                "where": [["name", "==", r["name"]]],
                "row": {"ofport": zlib.crc32(r["name"].encode()) % 60000
                        + 1}} for r in ifaces["rows"]]
        ops.append({"op": "update", "table": "Open_vSwitch", "where": [],
                    "row": {"cur_cfg": rows[0]["next_cfg"]}})
        self.rpc.call("transact", ["Open_vSwitch"] + ops)


class Action:
    """One integration call: an ovs-vsctl argument list, or an ifupdown
    hook run (ENV: the IF_* variables, IFACE and MODE)."""

    def __init__(self, argv=None, env=None, mode="exact"):
        self.argv, self.env, self.mode = argv, env, mode

    def __repr__(self):
        if self.argv is not None:
            return "ovs-vsctl " + " ".join(self.argv)
        return "ifupdown.sh " + " ".join("%s=%s" % kv
                                         for kv in sorted(self.env.items()))


def vsctl(*argv, mode="exact"):
    return Action(argv=list(argv), mode=mode)


def hook(mode, iface, **vars):
    env = {"MODE": mode, "IFACE": iface,
           "PHASE": "pre-up" if mode == "start" else "post-down"}
    env.update({"IF_" + k.upper(): v for k, v in vars.items()})
    return Action(env=env)


def make_stubs(directory):
    """systemctl (service is active), ip, ifup, ifdown: record, change
    nothing."""
    os.makedirs(directory, exist_ok=True)
    for name in ("systemctl", "ip", "ifup", "ifdown"):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write('#!/bin/sh\necho "%s $*" >> "%s/calls.log"\nexit 0\n'
                    % (name, directory))
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return directory


def default_rundir(workdir, server):
    """An $OVS_RUNDIR whose db.sock is SERVER's socket: the integrations
    never pass --db."""
    d = os.path.join(workdir, "rundir-" + server.impl)
    os.makedirs(d, exist_ok=True)
    link = os.path.join(d, "db.sock")
    if not os.path.lexists(link):
        os.symlink(server.sock, link)
    return d


def make_runner(stubs):
    def run(client, server, action, rundir):
        env = tool_env(rundir, path_prefix=client + os.pathsep + stubs)
        if action.argv is not None:
            argv = ["ovs-vsctl"] + action.argv
        else:
            env.update(action.env)
            argv = ["sh", IFUPDOWN]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                           env=env)
        report = sanitizer_report(p.stderr)
        assert not report, "sanitizer report from %r:\n%s" % (action, report)
        return p.returncode, p.stdout, p.stderr
    return run


def replay(client, server, actions, workdir):
    stubs = make_stubs(os.path.join(workdir, "stubs"))
    rundir = default_rundir(workdir, server)
    setup = [vsctl("--no-wait", "init")]
    with FakeSwitch(server):
        out = run_script(client, server, setup + actions, rundir,
                         runner=make_runner(stubs))
    return out, server.snapshot()


def rows_by_name(snap, table):
    return {r["name"]: r for r in snap.get(table, {}).values()}


def mapping(value):
    assert value[0] == "map", value
    return dict(value[1])


def atoms(value):
    if isinstance(value, list) and value[0] == "set":
        return [a[1] if isinstance(a, list) else a for a in value[1]]
    return [value[1] if isinstance(value, list) else value]


# ---------------------------------------------------------------------------
# libvirt
# ---------------------------------------------------------------------------

def libvirt_attach(br, ifname, mac, ifid, vlan_args=(), profile=None):
    argv = ["--timeout=5", "--", "--may-exist", "add-port", br, ifname,
            "--", "set", "Port", ifname, "other_config:transient=true"]
    argv += list(vlan_args)
    argv += ["--", "set", "Interface", ifname,
             'external-ids:attached-mac="%s"' % mac,
             "--", "set", "Interface", ifname,
             'external-ids:iface-id="%s"' % ifid,
             "--", "set", "Interface", ifname,
             'external-ids:vm-id="%s"' % VM]
    if profile:
        argv += ["--", "set", "Interface", ifname,
                 'external-ids:port-profile="%s"' % profile,
                 "--", "set", "Interface", ifname,
                 'external-ids:ifname="%s"' % ifname]
    argv += ["--", "set", "Interface", ifname,
             "external-ids:iface-status=active"]
    return vsctl(*argv)


QOS_IDS = ['external-ids:vm-id="%s"' % VM, 'external-ids:ifname="vnet0"']

LIBVIRT = [
    vsctl("--timeout=5", "add-br", "virbr-ovs"),
    vsctl("--timeout=5", "add-br", "vlan42", "virbr-ovs", "42"),
    libvirt_attach("virbr-ovs", "vnet0", "52:54:00:11:22:33", IFID1),
    libvirt_attach("virbr-ovs", "vnet1", "52:54:00:11:22:34", IFID2,
                   ["tag=10"]),
    libvirt_attach("virbr-ovs", "vnet2", "52:54:00:11:22:35", IFID2,
                   ["trunk=10,20,30"]),
    libvirt_attach("virbr-ovs", "vnet3", "52:54:00:11:22:36", IFID2,
                   ["vlan_mode=native-untagged", "tag=5", "trunk=5,6"],
                   profile="gold"),
    libvirt_attach("virbr-ovs", "vnet4", "52:54:00:11:22:37", IFID2,
                   ["vlan_mode=native-tagged", "tag=7", "trunk=7,8"]),
    libvirt_attach("vlan42", "vnet5", "52:54:00:11:22:38", IFID2),
    # attach again (libvirtd restart): --may-exist keeps it
    libvirt_attach("virbr-ovs", "vnet0", "52:54:00:11:22:33", IFID1),
    # the ~2018 shape: delete then add, VLAN args on add-port
    vsctl("--timeout=5", "--", "--if-exists", "del-port", "vnet6", "--",
          "add-port", "virbr-ovs", "vnet6", "tag=11", "--", "set",
          "Interface", "vnet6", 'external-ids:attached-mac="52:54:00:aa:00:06"',
          "--", "set", "Interface", "vnet6",
          'external-ids:iface-id="%s"' % IFID1, "--", "set", "Interface",
          "vnet6", 'external-ids:vm-id="%s"' % VM, "--", "set", "Interface",
          "vnet6", "external-ids:iface-status=active"),
    # the 2012 shape: VLAN args directly on add-port
    vsctl("--timeout=5", "--", "--may-exist", "add-port", "virbr-ovs",
          "vnet7", "tag=12", "--", "set", "Interface", "vnet7",
          'external-ids:attached-mac="52:54:00:aa:00:07"'),
    # VLAN change on a running guest
    vsctl("--timeout=5", "--", "--if-exists", "clear", "Port", "vnet1",
          "tag", "--", "--if-exists", "clear", "Port", "vnet1", "trunk",
          "--", "--if-exists", "clear", "Port", "vnet1", "vlan_mode",
          "--", "--if-exists", "set", "Port", "vnet1", "trunk=100,200"),
    vsctl("--timeout=5", "--", "--if-exists", "clear", "Port", "nope",
          "tag", "--", "--if-exists", "clear", "Port", "nope", "trunk",
          "--", "--if-exists", "clear", "Port", "nope", "vlan_mode"),
    # migration data
    vsctl("--timeout=5", "--if-exists", "get", "Interface", "vnet0",
          "external_ids:PortData"),
    vsctl("--timeout=5", "set", "Interface", "vnet0",
          "external_ids:PortData=some opaque data, with=signs"),
    vsctl("--timeout=5", "--if-exists", "get", "Interface", "vnet0",
          "external_ids:PortData"),
    vsctl("--timeout=5", "--if-exists", "get", "Interface", "gone",
          "external_ids:PortData"),
    # statistics (the switch writes them; here a status writer does)
    vsctl("--no-wait", "set", "Interface", "vnet0",
          "statistics:rx_bytes=10", "statistics:tx_bytes=20",
          "statistics:rx_packets=1", "statistics:tx_packets=2"),
    vsctl("--timeout=5", "--if-exists", "--format=list", "--data=json",
          "--no-headings", "--columns=statistics", "list", "Interface",
          "vnet0"),
    vsctl("--timeout=5", "--if-exists", "--format=list", "--data=json",
          "--no-headings", "--columns=statistics", "list", "Interface",
          "gone"),
    vsctl("--timeout=5", "get", "Interface", "vnet0", "name"),
    vsctl("--timeout=5", "get", "Interface", "vnet0",
          "statistics:rx_bytes", "statistics:rx_packets",
          "statistics:tx_bytes", "statistics:tx_packets"),
    # which bridge holds a device
    vsctl("--timeout=5", "iface-to-br", "vnet0"),
    vsctl("--timeout=5", "iface-to-br", "vnet5"),
    vsctl("--timeout=5", "iface-to-br", "nosuch"),
    # vhost-user lookups
    vsctl("--timeout=5", "set", "Interface", "vnet2",
          "options:vhost-server-path=/run/vhost/sock0"),
    vsctl("--timeout=5", "--no-headings", "--columns=name", "find",
          "Interface", "options:vhost-server-path=/run/vhost/sock0"),
    vsctl("--timeout=5", "--no-headings", "--columns=name", "find",
          "Interface", "options:vhost-server-path=/run/vhost/none"),
    vsctl("--timeout=5", "get", "Interface", "vnet2", "name"),
    vsctl("--timeout=5", "get", "Interface", "sock9", "name"),
    # bandwidth: queue + QoS for vnet0, then policing, then removal
    vsctl("--timeout=5", "--no-heading", "--columns=_uuid", "find", "queue",
          *QOS_IDS),
    vsctl("--timeout=5", "--no-heading", "--columns=_uuid", "find", "qos",
          *QOS_IDS),
    vsctl("--timeout=5", "set", "port", "vnet0", "qos=@qos1", *QOS_IDS,
          "--", "--id=@qos1", "create", "qos", "type=linux-htb",
          "other_config:min-rate=8192000", "queues:0=@queue0", *QOS_IDS,
          "--", "--id=@queue0", "create", "queue",
          "other_config:min-rate=8192000", *QOS_IDS),
    vsctl("--timeout=5", "--no-heading", "--columns=_uuid", "find", "queue",
          *QOS_IDS),
    vsctl("--timeout=5", "set", "Interface", "vnet0",
          "ingress_policing_rate=8192", "ingress_policing_burst=0"),
    vsctl("--timeout=5", "--no-heading", "--columns=_uuid", "--if-exists",
          "list", "port", "vnet0", "qos"),
    vsctl("--timeout=5", "set", "Interface", "vnet0",
          "ingress_policing_rate=0", "ingress_policing_burst=0"),
    # detach
    vsctl("--timeout=5", "--", "--if-exists", "del-port", "vnet4"),
    vsctl("--timeout=5", "--", "--if-exists", "del-port", "vnet4"),
    vsctl("--timeout=5", "--", "--if-exists", "del-port", "vnet5"),
    vsctl("--timeout=5", "list-ports", "virbr-ovs"),
]


def check_libvirt_rows(snap):
    ports = rows_by_name(snap, "Port")
    ifaces = rows_by_name(snap, "Interface")
    ids = mapping(ifaces["vnet0"]["external_ids"])
    assert ids["attached-mac"] == "52:54:00:11:22:33"
    assert ids["iface-id"] == IFID1 and ids["vm-id"] == VM
    assert ids["iface-status"] == "active"
    assert ids["PortData"] == "some opaque data, with=signs"
    assert mapping(ports["vnet0"]["other_config"]) == {"transient": "true"}
    assert atoms(ports["vnet2"]["trunks"]) == [10, 20, 30]
    assert ports["vnet3"]["vlan_mode"] == "native-untagged"
    assert ports["vnet3"]["tag"] == 5
    assert mapping(ifaces["vnet3"]["external_ids"])["port-profile"] == "gold"
    assert atoms(ports["vnet1"]["trunks"]) == [100, 200]
    assert ports["vnet1"]["tag"] == ["set", []]
    assert ports["vnet6"]["tag"] == 11 and ports["vnet7"]["tag"] == 12
    assert "vnet4" not in ports and "vnet5" not in ports
    assert ifaces["vnet0"]["ingress_policing_rate"] == 0
    assert len(snap.get("QoS", {})) == 1 and len(snap.get("Queue", {})) == 1


@pytest.mark.parametrize("impl", IMPLS)
def test_libvirt(impl, clients, servers, workdir):
    server = servers[impl]
    want, want_db = replay(clients["ovs"], server, LIBVIRT, workdir)
    check_libvirt_rows(want_db)
    got, got_db = replay(clients["lanyard"], server, LIBVIRT, workdir)
    check_libvirt_rows(got_db)
    problem = compare_outcomes(want, got, "libvirt replay on %s-db" % impl)
    assert not problem, problem


# ---------------------------------------------------------------------------
# Debian ifupdown
# ---------------------------------------------------------------------------

IFUPDOWN_ACTIONS = [
    hook("start", "br0", ovs_type="OVSBridge", ovs_ports="eth1 vlan100",
         ovs_extra="set Bridge ${IFACE} other_config:hwaddr=02:00:00:00:00:01"),
    hook("start", "br0", ovs_type="OVSBridge"),            # again: no-op
    hook("start", "eth1", ovs_type="OVSPort", ovs_bridge="br0",
         ovs_options="tag=100 vlan_mode=access"),
    hook("start", "vlan100", ovs_type="OVSIntPort", ovs_bridge="br0",
         ovs_options="tag=100",
         ovs_extra="set Interface ${IFACE} "
                   "external-ids:iface-id=$(echo ${IFACE}-id)"),
    hook("start", "bond0", ovs_type="OVSBond", ovs_bridge="br0",
         ovs_bonds="eth2 eth3", ovs_options="bond_mode=balance-tcp "
                                            "lacp=active"),
    hook("start", "bond0", ovs_type="OVSBond", ovs_bridge="br0",
         ovs_bonds="eth2 eth3"),                             # fails, ignored
    hook("start", "br1", ovs_type="OVSBridge"),
    hook("start", "patch0", ovs_type="OVSPatchPort", ovs_bridge="br0",
         ovs_patch_peer="patch1"),
    hook("start", "patch1", ovs_type="OVSPatchPort", ovs_bridge="br1",
         ovs_patch_peer="patch0"),
    hook("start", "vx0", ovs_type="OVSTunnel", ovs_bridge="br1",
         ovs_tunnel_type="vxlan",
         ovs_tunnel_options="options:remote_ip=10.9.9.9 options:key=5"),
    hook("start", "eth9", ovs_type="OVSPort", ovs_bridge="nobr"),
    hook("start", "eth8", ovs_type="OVSPort", ovs_bridge="br0",
         ovs_options="tag=bogus"),
    hook("start", "eth7", ovs_type="OVSSomething", ovs_bridge="br0"),
    vsctl("--timeout=5", "show", mode="show"),
]
IFUPDOWN_STOP = [
    hook("stop", "vx0", ovs_type="OVSTunnel", ovs_bridge="br1"),
    hook("stop", "patch1", ovs_type="OVSPatchPort", ovs_bridge="br1"),
    hook("stop", "bond0", ovs_type="OVSBond", ovs_bridge="br0"),
    hook("stop", "eth1", ovs_type="OVSPort", ovs_bridge="br0"),
    hook("stop", "eth1", ovs_type="OVSPort", ovs_bridge="br0"),  # again
    hook("stop", "br1", ovs_type="OVSBridge"),
    vsctl("--timeout=5", "list-br"),
    vsctl("--timeout=5", "list-ports", "br0"),
    hook("stop", "br0", ovs_type="OVSBridge", ovs_ports="vlan100 patch0"),
]


def check_ifupdown_rows(snap):
    ports = rows_by_name(snap, "Port")
    ifaces = rows_by_name(snap, "Interface")
    bridges = rows_by_name(snap, "Bridge")
    assert mapping(bridges["br0"]["other_config"]) == {
        "hwaddr": "02:00:00:00:00:01"}
    assert ports["eth1"]["tag"] == 100 and ports["eth1"]["vlan_mode"] \
        == "access"
    assert ifaces["vlan100"]["type"] == "internal"
    assert mapping(ifaces["vlan100"]["external_ids"]) == {
        "iface-id": "vlan100-id"}
    assert ports["bond0"]["bond_fake_iface"] is True
    assert ports["bond0"]["bond_mode"] == "balance-tcp"
    assert ports["bond0"]["lacp"] == "active"
    assert len(atoms(ports["bond0"]["interfaces"])) == 2
    assert mapping(ifaces["patch0"]["options"]) == {"peer": "patch1"}
    assert ifaces["patch1"]["type"] == "patch"
    assert ifaces["vx0"]["type"] == "vxlan"
    assert mapping(ifaces["vx0"]["options"]) == {"key": "5",
                                                 "remote_ip": "10.9.9.9"}
    assert "eth9" not in ports and "eth8" not in ports and "eth7" not in ports


@pytest.mark.parametrize("impl", IMPLS)
def test_ifupdown(impl, clients, servers, workdir):
    server = servers[impl]
    results = {}
    for who in ("ovs", "lanyard"):
        up, up_db = replay(clients[who], server, IFUPDOWN_ACTIONS, workdir)
        check_ifupdown_rows(up_db)
        # the stop phase continues from the started state
        stubs = make_stubs(os.path.join(workdir, "stubs"))
        rundir = default_rundir(workdir, server)
        runner = make_runner(stubs)
        with FakeSwitch(server):
            down = []
            for a in IFUPDOWN_STOP:
                down.append(runner(clients[who], server, a, rundir))
        final = server.snapshot()
        assert "Bridge" not in final and "Port" not in final, final
        results[who] = (up, down)
    problem = compare_outcomes(results["ovs"][0], results["lanyard"][0],
                               "ifupdown start on %s-db" % impl)
    assert not problem, problem
    assert results["lanyard"][1] == results["ovs"][1]
