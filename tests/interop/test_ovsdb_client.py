"""The real ovsdb-client against each server implementation."""

import json

import pytest

from conftest import VSWITCH_SCHEMA, UuidNormaliser, client, vsctl


def reference(impl, server_factory, server):
    """A real ovsdb-server to compare with (a second one for impl=ovs,
    which checks that the compared output is deterministic at all)."""
    return server_factory("ovs", name="ref")


# --- schema canonicalisation: the RFC lets servers abbreviate types --------

def _canon_base(b):
    if isinstance(b, str):
        b = {"type": b}
    b = dict(b)
    if "enum" in b:
        e = b["enum"]
        if isinstance(e, list) and len(e) == 2 and e[0] == "set":
            e = e[1]
        else:
            e = [e]
        b["enum"] = sorted(e, key=json.dumps)
    if "refTable" in b:
        b.setdefault("refType", "strong")
    return b


def _canon_type(t):
    if isinstance(t, str):
        t = {"key": t}
    t = dict(t)
    t["key"] = _canon_base(t["key"])
    if "value" in t:
        t["value"] = _canon_base(t["value"])
    t.setdefault("min", 1)
    t.setdefault("max", 1)
    return t


def canon_schema(s):
    out = {"name": s["name"], "version": s["version"], "tables": {}}
    for tname, t in s["tables"].items():
        cols = {}
        for cname, c in t["columns"].items():
            cols[cname] = {"type": _canon_type(c["type"]),
                           "ephemeral": c.get("ephemeral", False),
                           "mutable": c.get("mutable", True)}
        out["tables"][tname] = {
            "columns": cols,
            "isRoot": t.get("isRoot", False),
            "maxRows": t.get("maxRows"),
            "indexes": sorted(sorted(i) for i in t.get("indexes", [])),
        }
    return out


def test_list_dbs(server):
    r = client(server, "list-dbs", check=True)
    assert r.out.splitlines() == ["Open_vSwitch", "_Server"]


def test_get_schema_matches_vswitch_schema(server):
    r = client(server, "get-schema", "Open_vSwitch", check=True)
    got = json.loads(r.out)
    with open(VSWITCH_SCHEMA) as f:
        want = json.load(f)
    assert got["name"] == "Open_vSwitch"
    assert got["version"] == "8.3.1"
    assert canon_schema(got) == canon_schema(want)
    r = client(server, "get-schema-version", "Open_vSwitch", check=True)
    assert r.out.strip() == "8.3.1"


def test_get_schema_server_db(server):
    r = client(server, "get-schema", "_Server", check=True)
    s = json.loads(r.out)
    assert s["name"] == "_Server"
    cols = s["tables"]["Database"]["columns"]
    for c in ("name", "model", "connected", "leader", "schema", "cid", "index"):
        assert c in cols


@pytest.mark.parametrize("args", [
    ("list-tables", "Open_vSwitch"),
    ("list-columns", "Open_vSwitch", "Bridge"),
    ("list-columns", "Open_vSwitch", "Interface"),
    ("get-schema-cksum", "Open_vSwitch"),
])
def test_listing_identical_to_real_server(impl, server, server_factory, args):
    ref = reference(impl, server_factory, server)
    a = client(ref, *args, check=True)
    b = client(server, *args, check=True)
    # Rows come out in ovsdb-client's hash order, which can depend on the
    # order the server lists tables/columns in: compare them sorted, with
    # the heading lines in place.
    la, lb = a.out.splitlines(), b.out.splitlines()
    assert lb[:2] == la[:2]
    assert sorted(lb) == sorted(la)
    if args[0] == "list-tables":
        names = b.out.splitlines()[2:]
        assert "Bridge" in names and "Open_vSwitch" in names
        assert len(names) == 19


def transact(server, *ops):
    r = client(server, "transact", json.dumps(["Open_vSwitch"] + list(ops)),
               check=True)
    return json.loads(r.out)


def test_transact_operations(server):
    res = transact(server,
                   {"op": "insert", "table": "Open_vSwitch", "row": {}},
                   {"op": "insert", "table": "Bridge", "uuid-name": "b",
                    "row": {"name": "br0",
                            "external_ids": ["map", [["k", "v"]]]}},
                   {"op": "mutate", "table": "Open_vSwitch", "where": [],
                    "mutations": [["bridges", "insert",
                                   ["set", [["named-uuid", "b"]]]]]},
                   {"op": "comment", "comment": "interop test"})
    assert len(res) == 4
    assert res[0]["uuid"][0] == "uuid" and res[1]["uuid"][0] == "uuid"
    assert res[2] == {"count": 1}
    assert res[3] == {}
    br_uuid = res[1]["uuid"][1]

    res = transact(server, {"op": "select", "table": "Bridge",
                            "where": [["name", "==", "br0"]],
                            "columns": ["name", "external_ids", "_uuid"]})
    assert res == [{"rows": [{"name": "br0", "_uuid": ["uuid", br_uuid],
                              "external_ids": ["map", [["k", "v"]]]}]}]

    res = transact(server,
                   {"op": "update", "table": "Bridge",
                    "where": [["_uuid", "==", ["uuid", br_uuid]]],
                    "row": {"stp_enable": True, "flood_vlans": ["set", [3, 1]]}},
                   {"op": "mutate", "table": "Bridge", "where": [],
                    "mutations": [["flood_vlans", "insert", 2],
                                  ["external_ids", "delete", ["set", ["k"]]]]},
                   {"op": "select", "table": "Bridge", "where": [],
                    "columns": ["stp_enable", "flood_vlans", "external_ids"]})
    assert res[0] == {"count": 1}
    assert res[1] == {"count": 1}
    assert res[2] == {"rows": [{"stp_enable": True,
                                "flood_vlans": ["set", [1, 2, 3]],
                                "external_ids": ["map", []]}]}

    # wait: satisfied immediately, and failing with timeout 0.
    res = transact(server, {"op": "wait", "table": "Bridge", "timeout": 0,
                            "where": [["name", "==", "br0"]],
                            "columns": ["stp_enable"], "until": "==",
                            "rows": [{"stp_enable": True}]})
    assert res == [{}]
    res = transact(server, {"op": "wait", "table": "Bridge", "timeout": 0,
                            "where": [["name", "==", "br0"]],
                            "columns": ["stp_enable"], "until": "==",
                            "rows": [{"stp_enable": False}]})
    assert res[0]["error"] == "timed out"

    # abort rolls back the insert before it.
    res = transact(server,
                   {"op": "insert", "table": "Bridge", "row": {"name": "gone"}},
                   {"op": "abort"})
    assert res[1]["error"] == "aborted"
    res = transact(server, {"op": "select", "table": "Bridge",
                            "where": [["name", "==", "gone"]]})
    assert res == [{"rows": []}]

    # assert on a lock we do not hold.
    res = transact(server, {"op": "assert", "lock": "mylock"})
    assert res[0]["error"] == "not owner"

    # delete: unlink from the root, then the bridge is garbage-collected.
    res = transact(server,
                   {"op": "mutate", "table": "Open_vSwitch", "where": [],
                    "mutations": [["bridges", "delete",
                                   ["set", [["uuid", br_uuid]]]]]})
    assert res == [{"count": 1}]
    # garbage collection happens at commit, so look in a new transaction
    res = transact(server, {"op": "select", "table": "Bridge", "where": [],
                            "columns": ["name"]})
    assert res == [{"rows": []}]
    res = transact(server,
                   {"op": "insert", "table": "QoS", "row": {"type": "q1"}},
                   {"op": "delete", "table": "QoS",
                    "where": [["type", "==", "q1"]]})
    assert res[1] == {"count": 1}


def test_transact_errors_identical(impl, server, server_factory):
    ref = reference(impl, server_factory, server)
    bad = [
        [{"op": "select", "table": "Nope", "where": []}],
        [{"op": "insert", "table": "Bridge", "row": {"nocol": 1}}],
        [{"op": "insert", "table": "Open_vSwitch", "row": {}},
         {"op": "mutate", "table": "Open_vSwitch", "where": [],
          "mutations": [["next_cfg", "/=", 0]]}],
        [{"op": "insert", "table": "Port",
          "row": {"name": "p", "interfaces": ["set", []]}}],
    ]
    for ops in bad:
        a = client(ref, "transact", json.dumps(["Open_vSwitch"] + ops))
        b = client(server, "transact", json.dumps(["Open_vSwitch"] + ops))
        norm_a, norm_b = UuidNormaliser(), UuidNormaliser()
        ja = json.loads(norm_a(a.out))
        jb = json.loads(norm_b(b.out))
        assert (b.rc, jb) == (a.rc, ja), ops
        assert any(isinstance(x, dict) and "error" in x for x in jb)


def _json_lines(reader, action, timeout=10):
    line = reader.next_line(timeout, pred=lambda s: s.startswith("{")
                            and '"%s"' % action in s)
    return json.loads(line)


def test_monitor_json(server, spawn):
    vsctl(server, "add-br", "br0", check=True)
    mon = spawn(["ovsdb-client", "--format=json", "monitor", server.remote,
                 "Open_vSwitch", "Bridge", "name,external_ids"])
    init = _json_lines(mon, "initial")
    assert init["headings"] == ["row", "action", "name", "external_ids"]
    assert [r[1:3] for r in init["data"]] == [["initial", "br0"]]

    vsctl(server, "add-br", "br1", "--", "br-set-external-id", "br1", "k", "v",
          check=True)
    ins = _json_lines(mon, "insert")
    assert ins["data"][0][1:] == ["insert", "br1", ["map", [["k", "v"]]]]

    vsctl(server, "br-set-external-id", "br1", "k", "w", check=True)
    mod = _json_lines(mon, "old")
    rows = {r[1]: r for r in mod["data"]}
    assert rows["old"][2] is None                      # name unchanged
    assert rows["old"][3] == ["map", [["k", "v"]]]
    assert rows["new"][2:] == ["br1", ["map", [["k", "w"]]]]

    vsctl(server, "del-br", "br0", check=True)
    dele = _json_lines(mon, "delete")
    assert dele["data"][0][1:3] == ["delete", "br0"]


def test_monitor_plain_table(server, spawn):
    vsctl(server, "add-br", "brq", check=True)
    mon = spawn(["ovsdb-client", "monitor", server.remote, "Open_vSwitch",
                 "Interface", "name,type"])
    # the initial contents are printed before any change is made
    line = mon.next_line(pred=lambda s: "brq" in s)
    assert "initial" in line and "internal" in line
    vsctl(server, "add-br", "brp", check=True)
    line = mon.next_line(pred=lambda s: "brp" in s)
    assert "insert" in line and "internal" in line


def test_monitor_cond(server, spawn):
    vsctl(server, "add-br", "br0", check=True)
    mon = spawn(["ovsdb-client", "--format=json", "monitor-cond", server.remote,
                 "Open_vSwitch", '[["name","!=","brA"]]', "Bridge", "name"])
    init = _json_lines(mon, "initial")
    assert [r[1:] for r in init["data"]] == [["initial", "br0"]]
    vsctl(server, "add-br", "brA", check=True)
    vsctl(server, "add-br", "brB", check=True)
    ins = _json_lines(mon, "insert")
    # brA does not match the condition and must never have been reported.
    assert [r[1:] for r in ins["data"]] == [["insert", "brB"]]
    assert not any("brA" in ln for ln in mon.lines)


def test_dump(impl, server, server_factory):
    ref = reference(impl, server_factory, server)
    outs = []
    for s in (ref, server):
        vsctl(s, "add-br", "br0", "--", "set", "Bridge", "br0",
              "other_config:hwaddr=12:34:56:78:90:ab", check=True)
        vsctl(s, "add-port", "br0", "eth0", "tag=10", check=True)
        r = client(s, "dump", "Open_vSwitch", "Bridge", "name", "other_config",
                   check=True)
        outs.append(r.out)
        r = client(s, "dump", "Open_vSwitch", "Port", "name", "tag", check=True)
        outs.append(r.out)
        r = client(s, "--format=json", "dump", "Open_vSwitch", "Interface",
                   "name", "type", check=True)
        outs.append(r.out)
    assert "hwaddr" in outs[3] and "br0" in outs[3]
    assert "eth0" in outs[4] and "10" in outs[4]
    assert outs[0] == outs[3]
    assert sorted(outs[1].splitlines()) == sorted(outs[4].splitlines())
    ja, jb = json.loads(outs[2]), json.loads(outs[5])
    # one table: a single {"caption","data","headings"} object
    ta, tb = ja, jb
    assert ta["caption"] == tb["caption"] == "Interface table"
    assert ta["headings"] == tb["headings"] == ["name", "type"]
    assert sorted(ta["data"]) == sorted(tb["data"]) == \
        [["br0", "internal"], ["eth0", ""]]
