"""Monitor notifications are what real ovsdb-server sends, message for
message (update/update2/update3, modify differences, condition changes)."""
import json
import re

import pytest

from servers import RawClient, Server

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalise(obj, names=None):
    """Makes OBJ comparable across servers: UUIDs become "<uuid>", and an
    object keyed by row UUIDs (whose order follows hashing) becomes a sorted
    list of its normalised rows."""
    if isinstance(obj, dict):
        if obj and all(UUID_RE.fullmatch(k) for k in obj):
            rows = [normalise(v) for v in obj.values()]
            return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
        return {k: normalise(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [normalise(v) for v in obj]
    if isinstance(obj, str) and UUID_RE.fullmatch(obj):
        return "<uuid>"
    return obj


def scenario(s, method):
    s.vsctl("init", "--", "add-br", "ubr", "--", "add-port", "ubr", "up1",
            "tag=5", "--", "set", "port", "up1", "other_config:a=1", "trunks=1,2")
    c = RawClient(s.sock)
    req = {"columns": ["name", "tag", "trunks", "other_config"]}
    if method != "monitor":
        req["where"] = [["name", "==", "up1"]]
    params = ["Open_vSwitch", "m", {"Port": [req]}]
    if method == "monitor_cond_since":
        params.append("00000000-0000-0000-0000-000000000000")
    c.send({"method": method, "params": params, "id": 1})
    out = [c.recv_all()]
    for cmd in (["set", "port", "up1", "tag=6", "trunks=2,3",
                 "other_config:a=2", "other_config:b=3"],
                ["remove", "port", "up1", "other_config", "a"],
                ["set", "port", "up1", "external_ids:x=1"],   # unmonitored
                ["clear", "port", "up1", "tag"],
                ["del-port", "up1"]):
        s.vsctl(*cmd)
        out.append(c.recv_all())
    if method != "monitor":
        c.send({"method": "monitor_cond_change",
                "params": ["m", "m2", {"Port": [{"where": [["name", "==", "ubr"]]}]}],
                "id": 2})
        out.append(c.recv_all())
    c.close()
    return [normalise(batch) for batch in out]


@pytest.mark.parametrize("method", ["monitor", "monitor_cond", "monitor_cond_since"])
def test_updates_match_ovsdb_server(method):
    results = {}
    for impl in ("ovs", "lanyard"):
        s = Server(impl)
        try:
            results[impl] = scenario(s, method)
        finally:
            s.close()
    # An unmonitored column change sends nothing; everything else one message.
    assert results["ovs"][3] == []
    assert results["lanyard"] == results["ovs"]


def test_own_update_precedes_transact_reply(server):
    server.vsctl("init")
    c = RawClient(server.sock)
    c.send({"method": "monitor_cond",
            "params": ["Open_vSwitch", "m", {"Bridge": [{"columns": ["name"]}]}],
            "id": 1})
    c.recv_all()
    c.send({"method": "transact", "params": [
        "Open_vSwitch",
        {"op": "insert", "table": "Bridge", "row": {"name": "b1"}, "uuid-name": "b"},
        {"op": "mutate", "table": "Open_vSwitch", "where": [],
         "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}], "id": 2})
    msgs = c.recv_all()
    c.close()
    assert [m.get("method") for m in msgs] == ["update2", None]
    assert msgs[1]["id"] == 2 and "error" not in msgs[1]["result"][0]
