"""Monitor protocol over raw JSON-RPC: monitor (update), monitor_cond
(update2, monitor_cond_change), monitor_cond_since (update3), cancel, and
the _Server database the C and Python IDLs read first (reference §4.3,
§4.6).  The same script runs against the real ovsdb-server and the server
under test; every reply and notification must match after UUIDs are
replaced by placeholders."""

import json
import time

import pytest

from conftest import UuidNormaliser

ZERO = "00000000-0000-0000-0000-000000000000"


def drain(c, tries=3):
    """Everything the server sends on c within a short settle time, using
    echo round trips as barriers."""
    got = []
    for i in range(tries):
        rid = "barrier-%d-%f" % (i, time.monotonic())
        c.send({"method": "echo", "params": [], "id": rid})
        reply = c.wait_reply(rid)
        assert reply["result"] == []
        got.extend(c.notifications)
        c.notifications.clear()
        time.sleep(0.02)
    return got


def script(server):
    """Returns a list of (label, message) observed on the wire."""
    log = []
    w = server.rpc()
    rfc = server.rpc()
    cond = server.rpc()
    since = server.rpc()
    conns = {"rfc": rfc, "cond": cond, "since": since}
    try:
        res = w.transact({"op": "insert", "table": "Open_vSwitch", "row": {},
                          "uuid-name": "o"})
        log.append(("init", res))

        log.append(("monitor", rfc.call("monitor", [
            "Open_vSwitch", "m1",
            {"Open_vSwitch": {"columns": ["next_cfg", "bridges"]},
             "Bridge": [{"columns": ["name", "stp_enable"]},
                        {"columns": ["external_ids"],
                         "select": {"initial": False, "insert": True,
                                    "delete": True, "modify": True}}]}])))
        log.append(("monitor_cond", cond.call("monitor_cond", [
            "Open_vSwitch", "c1",
            {"Bridge": [{"columns": ["name", "stp_enable", "external_ids",
                                     "flood_vlans"],
                         "where": [["name", "==", "br0"]]}]}])))
        log.append(("monitor_cond_since", since.call("monitor_cond_since", [
            "Open_vSwitch", ["monid", "Open_vSwitch"],
            {"Bridge": [{"columns": ["name", "flood_vlans"]}],
             "Open_vSwitch": [{"columns": ["next_cfg"]}]}, ZERO])))

        steps = [
            ("add br0", [
                {"op": "insert", "table": "Bridge", "uuid-name": "b",
                 "row": {"name": "br0"}},
                {"op": "mutate", "table": "Open_vSwitch", "where": [],
                 "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}]),
            ("stp on", [{"op": "update", "table": "Bridge",
                         "where": [["name", "==", "br0"]],
                         "row": {"stp_enable": True}}]),
            ("map insert", [{"op": "mutate", "table": "Bridge", "where": [],
                             "mutations": [["external_ids", "insert",
                                            ["map", [["a", "1"]]]]]}]),
            ("map change", [{"op": "update", "table": "Bridge", "where": [],
                             "row": {"external_ids":
                                     ["map", [["a", "2"], ["b", "3"]]]}}]),
            ("set change", [{"op": "update", "table": "Bridge", "where": [],
                             "row": {"flood_vlans": ["set", [1, 2]]}},
                            {"op": "mutate", "table": "Bridge", "where": [],
                             "mutations": [["flood_vlans", "delete", 1],
                                           ["flood_vlans", "insert", 5]]}]),
            ("no-op update", [{"op": "update", "table": "Bridge", "where": [],
                               "row": {"stp_enable": True}}]),
            ("next_cfg", [{"op": "mutate", "table": "Open_vSwitch",
                           "where": [], "mutations": [["next_cfg", "+=", 1]]}]),
            ("add br1", [
                {"op": "insert", "table": "Bridge", "uuid-name": "b",
                 "row": {"name": "br1"}},
                {"op": "mutate", "table": "Open_vSwitch", "where": [],
                 "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}]),
        ]
        for label, ops in steps:
            log.append((label, w.transact(*ops)))
            for name, c in sorted(conns.items()):
                for n in drain(c):
                    log.append((label + " -> " + name, n))

        # move the conditional monitor from br0 to br1: br0 leaves and br1
        # enters, as update2 with the new id, before the reply
        cond.send({"method": "monitor_cond_change",
                   "params": ["c1", "c2", {"Bridge": [
                       {"where": [["name", "==", "br1"]]}]}], "id": "chg"})
        reply = cond.wait_reply("chg")
        log.append(("cond_change notes", cond.notifications[:]))
        cond.notifications.clear()
        log.append(("cond_change", reply))
        log.append(("cond_change unknown", cond.call(
            "monitor_cond_change", ["zz", "c3", {"Bridge": [{"where": []}]}])))

        log.append(("cancel m1", rfc.call("monitor_cancel", ["m1"])))
        log.append(("cancel m1 again", rfc.call("monitor_cancel", ["m1"])))

        log.append(("del all", w.transact(
            {"op": "update", "table": "Open_vSwitch", "where": [],
             "row": {"bridges": ["set", []]}})))
        for name, c in sorted(conns.items()):
            for n in drain(c):
                log.append(("del all -> " + name, n))
    finally:
        for c in [w] + list(conns.values()):
            c.close()
    return log


def _sort_sets(v):
    """Sets are sent in UUID order; after renaming the UUIDs, compare them
    as sets."""
    if isinstance(v, list):
        v = [_sort_sets(x) for x in v]
        if len(v) == 2 and v[0] in ("set", "map") and isinstance(v[1], list):
            return [v[0], sorted(v[1], key=json.dumps)]
        return v
    if isinstance(v, dict):
        return {k: _sort_sets(x) for k, x in v.items()}
    return v


def normalise(log):
    norm = UuidNormaliser()
    out = []
    for label, msg in log:
        text = json.dumps(msg, sort_keys=True)
        out.append((label, _sort_sets(json.loads(norm(text)))))
    return out


def test_monitor_script_matches_real_server(impl, server, server_factory):
    ref = server_factory("ovs", name="ref")
    want = normalise(script(ref))
    got = normalise(script(server))

    # sanity on the reference, so an empty script cannot pass
    labels = [lbl for lbl, _ in want]
    assert "add br0 -> rfc" in labels and "add br0 -> cond" in labels
    assert "add br1 -> since" in labels
    assert "add br1 -> cond" not in labels      # outside the condition
    assert "no-op update -> rfc" not in labels  # nothing changed
    since_first = dict(want)["monitor_cond_since"]["result"]
    assert since_first[0] is False and since_first[1] == ZERO

    assert [lbl for lbl, _ in got] == labels
    for (label, a), (_, b) in zip(want, got):
        assert b == a, label


def test_server_database_as_idls_read_it(server):
    """§4.6 step 1-2: get_schema _Server and the Database monitor."""
    with server.rpc() as c:
        s = c.call("get_schema", ["_Server", "extra-param-from-python-idl"])
        assert s["error"] is None
        assert s["result"]["name"] == "_Server"
        r = c.call("monitor_cond", [
            "_Server", ["monid", "_Server"],
            {"Database": [{"columns": ["name", "model", "connected", "leader",
                                       "schema", "cid", "index"]}]}])
        assert r["error"] is None, r
        rows = [v["initial"] for v in r["result"]["Database"].values()]
        by_name = {row["name"]: row for row in rows}
        db = by_name["Open_vSwitch"]
        assert db["model"] == "standalone"
        assert db["connected"] is True
        assert db["leader"] is True
        schema = json.loads(db["schema"])
        assert schema["name"] == "Open_vSwitch"
        assert schema["version"] == "8.3.1"
        r = c.call("set_db_change_aware", [True])
        assert r == {"id": r["id"], "result": {}, "error": None}


def test_server_database_rows_match_real_server(impl, server, server_factory):
    ref = server_factory("ovs", name="ref")
    outs = []
    for s in (ref, server):
        with s.rpc() as c:
            r = c.call("monitor", ["_Server", "m", {"Database": {
                "columns": ["name", "model", "connected", "leader", "cid",
                            "index"]}}])
            outs.append(sorted(json.dumps(v["new"], sort_keys=True)
                               for v in r["result"]["Database"].values()))
    assert outs[1] == outs[0]


@pytest.mark.parametrize("method", ["monitor", "monitor_cond",
                                    "monitor_cond_since"])
def test_initial_contents_with_defaults(server, method):
    """update (RFC) carries every monitored column in 'new'; update2/3
    'initial' rows omit columns equal to their default."""
    with server.rpc() as c:
        c.transact({"op": "insert", "table": "Queue",
                    "row": {"dscp": 3}})
        req = {"columns": ["dscp", "other_config"]}
        params = ["Open_vSwitch", "m",
                  {"Queue": req if method == "monitor" else [req]}]
        if method == "monitor_cond_since":
            params.append(ZERO)
        r = c.call(method, params)
        assert r["error"] is None, r
        res = r["result"]
        if method == "monitor_cond_since":
            assert res[0] is False and res[1] == ZERO
            res = res[2]
        (row,) = res["Queue"].values()
        if method == "monitor":
            assert row == {"new": {"dscp": 3, "other_config": ["map", []]}}
        else:
            assert row == {"initial": {"dscp": 3}}
