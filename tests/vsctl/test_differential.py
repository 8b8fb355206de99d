"""Differential suite: every script of vsctl_scripts.py is run with the real
ovs-vsctl against the real ovsdb-server (the reference), then with
  * lanyard-vsctl against the real ovsdb-server,
  * the real ovs-vsctl against lanyard-dbd,
  * lanyard-vsctl against lanyard-dbd;
stdout, stderr, exit status and the resulting database must match the
reference after normalisation (see vsctl_harness), and a command that fails
must leave the database untouched.

Run:  LANYARD_BUILD=/path/to/build /usr/bin/python3 -m pytest -q \
          -p no:cacheprovider tests/vsctl/test_differential.py
"""

import pytest

from vsctl_harness import (Normaliser, canonical, clients,  # noqa: F401
                           compare_outcomes, names_bin, normalise_db,
                           run_script, rundir, servers, uuid_labels, workdir)
from vsctl_scripts import SCRIPTS

# (client, server) pairs compared against ("ovs", "ovs").
PAIRS = [("lanyard", "ovs"), ("ovs", "lanyard"), ("lanyard", "lanyard")]

_reference = {}


def reference(name, clients, servers, rundir):
    if name not in _reference:
        out = run_script(clients["ovs"], servers["ovs"], SCRIPTS[name], rundir)
        # The reference must itself be sound: a failed command never writes.
        bad = [o.step for o in out if o.rc != 0 and o.changed]
        assert not bad, "ovs-vsctl wrote on failure?! %r" % bad
        _reference[name] = out
    return _reference[name]


@pytest.mark.parametrize("pair", PAIRS, ids=["%s-vsctl@%s-db" % p
                                             for p in PAIRS])
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script(script, pair, clients, servers, rundir):
    client, server = pair
    expected = reference(script, clients, servers, rundir)
    got = run_script(clients[client], servers[server], SCRIPTS[script],
                     rundir)
    problem = compare_outcomes(expected, got, "%s with %s-vsctl on %s-db"
                               % (script, client, server))
    assert not problem, problem


def test_reference_is_deterministic(clients, servers, rundir):
    """Two runs of the real tools on the real server normalise to the same
    thing: the comparison itself adds no noise."""
    for name in ("bridges", "formats"):
        first = reference(name, clients, servers, rundir)
        again = run_script(clients["ovs"], servers["ovs"], SCRIPTS[name],
                           rundir)
        problem = compare_outcomes(first, again, name + " rerun")
        assert not problem, problem


def _all_words():
    import shlex
    words = set()
    for steps in SCRIPTS.values():
        for s in steps:
            args = s[0] if isinstance(s, tuple) else s
            words.update(shlex.split(args) if isinstance(args, str)
                         else args)
    return words


def test_scripts_cover_every_command_and_option():
    """Every command ovs-vsctl 3.1 lists and every option issue 3 names
    appears in some script, so a new gap cannot go unnoticed."""
    import subprocess
    r = subprocess.run(["ovs-vsctl", "--commands"], capture_output=True,
                       text=True, check=True)
    commands = {line.split(",")[1] for line in r.stdout.splitlines()}
    words = _all_words()
    assert not sorted(commands - words)
    options = ["--may-exist", "--if-exists", "--db", "--timeout",
               "--no-wait", "--retry", "--dry-run", "--oneline",
               "--no-headings", "--pretty", "--bare", "--columns", "--id",
               "--all", "--real", "--fake", "--with-iface", "--fake-iface",
               "--bootstrap", "--inactivity-probe", "--commands",
               "--options", "--max-column-width"]
    options += ["--format=" + f for f in ("table", "list", "csv", "json",
                                          "html")]
    options += ["--data=" + d for d in ("string", "bare", "json")]
    missing = [o for o in options
               if not any(w == o or w.startswith(o + "=") or
                          w.startswith(o + "@") for w in words)]
    assert not missing


def ovsdb_client_dump(server):
    """{table: {uuid: row}} from `ovsdb-client dump --format=json`."""
    import json
    import subprocess
    r = subprocess.run(["ovsdb-client", "dump", "--format=json",
                        server.remote, "Open_vSwitch"], capture_output=True,
                       text=True, check=True, timeout=30)
    snap = {}
    for line in r.stdout.splitlines():
        doc = json.loads(line)
        table = doc["caption"].rsplit(" table", 1)[0]
        rows = {}
        for cells in doc["data"]:
            row = dict(zip(doc["headings"], cells))
            row.pop("_version", None)
            rows[row.pop("_uuid")[1]] = row
        if rows:
            snap[table] = rows
    return snap


@pytest.mark.parametrize("impl", ["ovs", "lanyard"])
def test_snapshots_agree_with_ovsdb_client_dump(impl, clients, servers,
                                                rundir):
    """The per-step database snapshot the suite compares is what
    `ovsdb-client dump` shows (checked on a busy database)."""
    run_script(clients["ovs"], servers[impl], SCRIPTS["integrators"],
               rundir)
    dump = ovsdb_client_dump(servers[impl])
    snap = servers[impl].snapshot()
    assert set(dump) == set(snap) and len(snap["Interface"]) >= 4
    for table in snap:
        assert dump[table] == snap[table], table


def build_big_bridge(server, n_ports):
    """br0 with N ports (every tenth on VLAN 10, every seventh a trunk)
    and br1 with one port, inserted in one transaction."""
    server.reset()
    ops = [{"op": "insert", "table": "Open_vSwitch", "row": {
        "bridges": ["set", [["named-uuid", "b0"], ["named-uuid", "b1"]]]}}]
    ports = {"b0": [], "b1": []}
    names = [("b0", "br0")] + [("b0", "p%d" % i) for i in range(n_ports)] \
        + [("b1", "br1"), ("b1", "q0")]
    for i, (br, name) in enumerate(names):
        iface = {"name": name}
        port = {"name": name, "interfaces": ["named-uuid", "i%d" % i]}
        if name in ("br0", "br1"):
            iface["type"] = "internal"
        elif i % 10 == 0:
            port["tag"] = 10
        elif i % 7 == 0:
            port["trunks"] = ["set", [10, 20]]
        ops.append({"op": "insert", "table": "Interface",
                    "uuid-name": "i%d" % i, "row": iface})
        ops.append({"op": "insert", "table": "Port", "uuid-name": "p%d" % i,
                    "row": port})
        ports[br].append(["named-uuid", "p%d" % i])
    for br, name in (("b0", "br0"), ("b1", "br1")):
        ops.append({"op": "insert", "table": "Bridge", "uuid-name": br,
                    "row": {"name": name, "ports": ["set", ports[br]]}})
    server.rpc.transact(*ops)


BIG_STEPS = ["list-ports br0", "list-ifaces br1", "port-to-br p500",
             "iface-to-br q0", "show", "--columns=name find Port tag=10",
             "--format=table --columns=name,tag,trunks find Port "
             "'trunks{>=}[10]'", "--bare --columns=name list Bridge",
             "add-port br1 p999", "--may-exist add-port br0 p999",
             "add-port br0 new -- del-port p5 -- list-ports br1",
             "del-br br1 -- list-br"]


@pytest.mark.parametrize("impl", ["ovs", "lanyard"])
def test_large_database(impl, clients, servers, rundir):
    """1,000 ports: lookups, listings and writes where lanyard-vsctl
    fetches only part of the database give what ovs-vsctl gives.  (Lean
    on purpose: UUID labels are computed only for outputs that contain
    UUIDs, and the database is compared once, at the end.)"""
    from vsctl_harness import UUID_RE, as_step, run_step
    server = servers[impl]
    results = {}
    for who in ("ovs", "lanyard"):
        build_big_bridge(server, 1000)
        norm = Normaliser(server)
        out = []
        for step in map(as_step, BIG_STEPS):
            rc, stdout, stderr = run_step(clients[who], server, step, rundir)
            labels = uuid_labels(server.snapshot()) \
                if UUID_RE.search(stdout + stderr) else {}
            out.append((step, rc, canonical(norm(stdout, labels), step.mode),
                        norm(stderr, labels)))
        results[who] = (out, normalise_db(server.snapshot()))
    bad = ["%r:\n  ovs-vsctl: %r\n  ours:      %r" % (e[0], e[1:], g[1:])
           for e, g in zip(results["ovs"][0], results["lanyard"][0])
           if e[1:] != g[1:]]
    assert not bad, "\n".join(bad)
    assert results["ovs"][1] == results["lanyard"][1]
