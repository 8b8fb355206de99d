"""Online schema conversion ("convert", what `ovsdb-client convert` sends)
and `ovsdb-client needs-conversion`, differential against the real
ovsdb-server 3.1: the same data and the same ovsdb-client output for
schemas with a column added, a column removed, a type widened and a table
removed; the same error replies for schemas the data does not fit; OVS's
treatment of monitors and blocked transactions; the change durable across
kill -9; a backup keeps following an active that converted.

Run:  LANYARD_BUILD=/path/to/build /usr/bin/python3 -m pytest -q \
          -p no:cacheprovider tests/interop/test_convert.py
"""

import copy
import json
import os
import time

import pytest

from conftest import (UUID_RE, VSWITCH_SCHEMA, RpcClient, UuidNormaliser,
                      appctl, client, run, vsctl, wait_for)


def base_schema():
    with open(VSWITCH_SCHEMA) as f:
        return json.load(f)


def add_column(s):
    s["tables"]["Bridge"]["columns"]["lanyard_note"] = {
        "type": {"key": "string", "min": 0, "max": 1}}


def remove_column(s):
    del s["tables"]["Bridge"]["columns"]["datapath_id"]


def widen_type(s):
    s["tables"]["Port"]["columns"]["tag"]["type"]["key"] = {
        "type": "integer", "minInteger": 0, "maxInteger": 8191}


def remove_table(s):
    del s["tables"]["Flow_Sample_Collector_Set"]


def name_to_integer(s):
    s["tables"]["Bridge"]["columns"]["name"]["type"] = "integer"


def ports_at_most_one(s):
    s["tables"]["Bridge"]["columns"]["ports"]["type"]["max"] = 1


def tag_at_most_10(s):
    s["tables"]["Port"]["columns"]["tag"]["type"]["key"] = {
        "type": "integer", "minInteger": 0, "maxInteger": 10}


def write_schema(dirname, name, change):
    s = base_schema()
    s["version"] = "8.4.0"
    change(s)
    path = os.path.join(dirname, name + ".ovsschema")
    with open(path, "w") as f:
        json.dump(s, f)
    return path


def populate(server):
    vsctl(server, "add-br", "br0", "--", "add-port", "br0", "p1", "--",
          "set", "port", "p1", "tag=100", "--", "add-port", "br0", "p2",
          "--", "set", "bridge", "br0", "datapath_id=0000000000000001",
          "--", "set", "port", "p1", "qos=@q", "--", "--id=@q", "create",
          "qos", "type=linux-htb", "queues=0=@qq", "--", "--id=@qq",
          "create", "queue", "other_config=a=b", check=True)


def _canonical(value):
    """VALUE with every UUID as "U" and sets and maps in sorted order (the
    order of UUIDs differs between two servers holding the same data)."""
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if len(items) == 2 and items[0] in ("set", "map") \
                and isinstance(items[1], list):
            return [items[0], sorted(items[1], key=json.dumps)]
        return items
    return "U" if isinstance(value, str) and UUID_RE.fullmatch(value) \
        else value


def dump(server):
    """Every table: headings and rows, canonical (see _canonical())."""
    r = client(server, "--format=json", "dump", "Open_vSwitch", check=True)
    tables = [json.loads(line) for line in r.out.splitlines() if line]
    return [(t["caption"], t["headings"],
             sorted((_canonical(row) for row in t["data"]), key=json.dumps))
            for t in tables]


def convert_outcome(server, schema_path):
    r = client(server, "convert", schema_path)
    needs = client(server, "needs-conversion", schema_path)
    version = client(server, "get-schema-version", "Open_vSwitch")
    return (r.rc, UuidNormaliser()(r.err.strip()), needs.out, version.out,
            dump(server) if server.alive() else None)


@pytest.fixture
def pair(server_factory):
    ovs = server_factory("ovs")
    lanyard = server_factory("lanyard")
    for s in (ovs, lanyard):
        populate(s)
    return ovs, lanyard


@pytest.mark.parametrize("change", [add_column, remove_column, widen_type,
                                    remove_table, name_to_integer,
                                    ports_at_most_one],
                         ids=lambda f: f.__name__)
def test_convert_like_ovsdb_server(pair, tmpdir_path, change):
    ovs, lanyard = pair
    path = write_schema(tmpdir_path, change.__name__, change)
    before = client(lanyard, "needs-conversion", path)
    assert before.out == client(ovs, "needs-conversion", path).out == "yes\n"
    want = convert_outcome(ovs, path)
    got = convert_outcome(lanyard, path)
    assert got == want
    if want[0] == 0:
        assert want[1:3] == ("", "no\n") and want[3] == "8.4.0\n"
        # Durable: the file holds the new schema and the data, also after
        # kill -9 (ephemeral columns such as datapath_id are not on disk,
        # so the reference restarts too), and ovsdb-tool reads it.
        lanyard.kill9()
        lanyard.start()
        ovs.restart()
        assert dump(lanyard) == dump(ovs)
        v = run(["ovsdb-tool", "db-version", lanyard.dbfile], lanyard.dir)
        assert v.out == "8.4.0\n"
        log = run(["ovsdb-tool", "show-log", lanyard.dbfile], lanyard.dir,
                  check=True)
        assert 'version="8.4.0"' in log.out


def test_narrowed_constraint_is_an_error(server_factory, tmpdir_path):
    """ovsdb-server 3.1 crashes (SIGSEGV) converting a value that breaks a
    narrowed constraint; lanyard-dbd refuses with the constraint error and
    keeps the data."""
    lanyard = server_factory("lanyard")
    populate(lanyard)
    before = dump(lanyard)
    path = write_schema(tmpdir_path, "narrow", tag_at_most_10)
    r = client(lanyard, "convert", path)
    assert r.rc == 1
    assert ('{"details":"100 is not in the valid range 0 to 10 (inclusive)",'
            '"error":"constraint violation"}') in r.err
    assert dump(lanyard) == before
    assert client(lanyard, "needs-conversion", path).out == "yes\n"


def raw_convert_replies(server, params_list):
    out = []
    with RpcClient(server.sock) as c:
        for i, params in enumerate(params_list):
            out.append(c.call("convert", params, req_id=i))
    return out


def test_request_errors_like_ovsdb_server(pair):
    ovs, lanyard = pair
    renamed = base_schema()
    renamed["name"] = "Other"
    dangling = {"name": "Open_vSwitch", "version": "1.0.0", "tables": {
        "T": {"columns": {"r": {"type": {"key": {"type": "uuid",
                                                 "refTable": "Nope"}}}}}}}
    params = [[], ["Nope", base_schema()], ["Open_vSwitch"],
              ["Open_vSwitch", 5], ["Open_vSwitch", {"name": "Open_vSwitch"}],
              ["Open_vSwitch", dangling], ["Open_vSwitch", renamed],
              ["Open_vSwitch", base_schema(), 1]]
    assert raw_convert_replies(lanyard, params) == \
        raw_convert_replies(ovs, params)


def monitors_around_convert(server, schema):
    """What a change-aware monitor, a plain monitor, and blocked
    transactions (change-aware or not) see when the database is
    converted."""
    aware = RpcClient(server.sock)
    assert aware.call("set_db_change_aware", [True])["result"] == {}
    aware.call("monitor_cond", ["Open_vSwitch", "m1",
                                {"Bridge": [{"columns": ["name"]}]}])
    plain = RpcClient(server.sock)
    plain.call("monitor", ["Open_vSwitch", "m2",
                           {"Bridge": {"columns": ["name"]}}])
    wait = {"op": "wait", "table": "Bridge", "where": [], "columns": ["name"],
            "until": "==", "rows": [], "timeout": 100000}
    blocked = RpcClient(server.sock)
    blocked.send({"method": "transact", "params": ["Open_vSwitch", wait],
                  "id": "w"})
    aware_blocked = RpcClient(server.sock)
    aware_blocked.call("set_db_change_aware", [True])
    aware_blocked.send({"method": "transact",
                        "params": ["Open_vSwitch", wait], "id": "aw"})
    time.sleep(0.2)
    with RpcClient(server.sock) as c:
        assert c.call("convert", ["Open_vSwitch", schema])["result"] == {}
    seen = {"aware": aware.wait_notification("monitor_canceled")}
    seen["aware_blocked"] = aware_blocked.wait_reply("aw")
    seen["plain_closed"] = plain.is_closed_by_server()
    seen["blocked_closed"] = blocked.is_closed_by_server()
    # The change-aware client carries on with the new schema.
    seen["schema"] = aware.call("get_schema", ["Open_vSwitch"])[
        "result"]["version"]
    for c in (aware, plain, blocked, aware_blocked):
        c.close()
    return seen


def test_monitors_and_blocked_transactions_like_ovsdb_server(pair):
    ovs, lanyard = pair
    schema = base_schema()
    schema["version"] = "8.4.0"
    add_column(schema)
    want = monitors_around_convert(ovs, schema)
    assert want == {"aware": {"id": None, "method": "monitor_canceled",
                              "params": ["m1"]},
                    "aware_blocked": {"id": "aw", "error": "canceled"},
                    "plain_closed": True, "blocked_closed": True,
                    "schema": "8.4.0"}
    assert monitors_around_convert(lanyard, copy.deepcopy(schema)) == want


def test_backup_follows_converted_active(server_factory, tmpdir_path):
    """A backup keeps replicating from an active that dropped a column (its
    own schema still has it), as ovsdb-server's backup does."""
    active = server_factory("lanyard", name="active")
    populate(active)
    backup = server_factory("lanyard", name="backup",
                            extra_args=["--sync-from=" + active.remote])
    wait_for(lambda: "br0" in vsctl(backup, "list-br").out,
             what="initial copy")
    path = write_schema(tmpdir_path, "rm", remove_column)
    assert client(active, "convert", path).rc == 0
    vsctl(active, "add-br", "br1", check=True)
    wait_for(lambda: vsctl(backup, "list-br").out == "br0\nbr1\n",
             what="replication after convert")
    assert "replicating:" in appctl(backup, "ovsdb-server/sync-status").out
