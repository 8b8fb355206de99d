"""lib/storage (dblog) against the real Open vSwitch tools, both directions.

* Files written by real `ovsdb-tool create`/`transact`/`compact` and by a
  real ovsdb-server are read by ours (build/tests/unit/storage/dblog-cat),
  record for record, compared with an independent parser written here.
* Files written by ours (dblog-write) are accepted by `ovsdb-tool show-log`,
  `ovsdb-tool query`, `ovsdb-tool compact` and a real ovsdb-server.
* A torn tail of a real file keeps the earlier records, with a warning
  naming the byte offset; the lock is shared with ovsdb-server.

Self-contained (no conftest fixtures).  Run with Debian's python:
    LANYARD_BUILD=build /usr/bin/python3 -m pytest tests/interop/test_dblog_ovsdb_tool.py
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("LANYARD_BUILD",
                                       os.path.join(SRC, "build")))
DBLOG_CAT = os.path.join(BUILD, "tests", "unit", "storage", "dblog-cat")
DBLOG_WRITE = os.path.join(BUILD, "tests", "unit", "storage", "dblog-write")
SCHEMA = os.path.join(SRC, "schema", "vswitch.ovsschema")
OVSDB_SERVER = shutil.which("ovsdb-server") or "/usr/sbin/ovsdb-server"
ROOT_UUID = "4858c052-50c8-4faf-b800-8883aca0b35f"

pytestmark = [
    pytest.mark.skipif(shutil.which("ovsdb-tool") is None,
                       reason="ovsdb-tool (openvswitch-common) missing"),
    pytest.mark.skipif(not os.access(DBLOG_CAT, os.X_OK)
                       or not os.access(DBLOG_WRITE, os.X_OK),
                       reason="dblog-cat/dblog-write not built in " + BUILD),
]


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="ly-dblog-")
    env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d)
    yield d, env
    shutil.rmtree(d, ignore_errors=True)


def run(args, env=None, check=True, input=None):
    r = subprocess.run(args, env=env, capture_output=True, text=True,
                       timeout=60, input=input)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (args, r.returncode,
                                                      r.stderr))
    return r


def tool(env, *args):
    return run(["ovsdb-tool"] + list(args), env=env).stdout


def parse_log(data):
    """Independent reader of the format: list of (offset, record)."""
    records, off = [], 0
    while off < len(data):
        nl = data.index(b"\n", off)
        m = re.fullmatch(rb"OVSDB JSON (\d+) ([0-9a-f]{40})", data[off:nl])
        assert m, data[off:nl]
        n = int(m.group(1))
        body = data[nl + 1:nl + 1 + n]
        assert len(body) == n
        assert hashlib.sha1(body).hexdigest() == m.group(2).decode()
        records.append((off, json.loads(body)))
        off = nl + 1 + n
    return records


def cat(path, env=None):
    r = run([DBLOG_CAT, path], env=env)
    return [json.loads(l) for l in r.stdout.splitlines()], r.stderr


def insert_bridge_ops(name):
    return json.dumps(["Open_vSwitch",
                       {"op": "insert", "table": "Bridge",
                        "row": {"name": name}, "uuid-name": "b"},
                       {"op": "mutate", "table": "Open_vSwitch", "where": [],
                        "mutations": [["bridges", "insert",
                                       ["set", [["named-uuid", "b"]]]]]}])


def make_real_db(d, env, n_bridges=3):
    db = os.path.join(d, "conf.db")
    tool(env, "create", db, SCHEMA)
    tool(env, "transact", db, json.dumps(
        ["Open_vSwitch", {"op": "insert", "table": "Open_vSwitch",
                          "row": {"next_cfg": 1}}]))
    for i in range(n_bridges):
        tool(env, "transact", db, insert_bridge_ops("br%d" % i))
    return db


def bridge_names(db, env):
    out = tool(env, "query", db, json.dumps(
        ["Open_vSwitch", {"op": "select", "table": "Bridge", "where": [],
                          "columns": ["name"]}]))
    return sorted(r["name"] for r in json.loads(out)[0]["rows"])


class Server:
    """A real ovsdb-server on DB, stopped in close()."""

    def __init__(self, d, env, db):
        self.sock = os.path.join(d, "db.sock")
        self.env = env
        self.proc = subprocess.Popen(
            [OVSDB_SERVER, "--remote=punix:" + self.sock,
             "--unixctl=" + os.path.join(d, "ctl"),
             "--log-file=" + os.path.join(d, "server.log"), db],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError("ovsdb-server did not start")
            time.sleep(0.05)

    def transact(self, ops):
        return run(["ovsdb-client", "transact", "unix:" + self.sock, ops],
                   env=self.env).stdout

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def server_factory():
    servers = []

    def start(d, env, db):
        s = Server(d, env, db)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.close()


# ---- Real tools write, we read. ----

def test_reads_ovsdb_tool_file(work):
    d, env = work
    db = make_real_db(d, env)
    with open(db, "rb") as f:
        expected = [r for _, r in parse_log(f.read())]
    records, err = cat(db)
    assert err == ""
    assert records == expected
    assert len(records) == 5
    assert records[0]["name"] == "Open_vSwitch"
    assert records[0]["version"] == "8.3.1"
    assert "br2" in json.dumps(records[4])


def test_reads_compacted_file(work):
    d, env = work
    db = make_real_db(d, env)
    tool(env, "compact", db)
    with open(db, "rb") as f:
        expected = [r for _, r in parse_log(f.read())]
    records, err = cat(db)
    assert err == ""
    assert records == expected
    assert len(records) == 2


def test_reads_ovsdb_server_file(work, server_factory):
    d, env = work
    db = make_real_db(d, env, n_bridges=0)
    server = server_factory(d, env, db)
    for i in range(5):
        server.transact(insert_bridge_ops("srv%d" % i))
    server.close()
    with open(db, "rb") as f:
        expected = [r for _, r in parse_log(f.read())]
    records, err = cat(db)
    assert err == ""
    assert records == expected
    assert len(records) >= 7
    assert all("_date" in r for r in records[1:])


def test_torn_tail_of_real_file(work):
    d, env = work
    db = make_real_db(d, env)
    with open(db, "rb") as f:
        data = f.read()
    parsed = parse_log(data)
    last = parsed[-1][0]
    for cut in (last + 1, last + 30, last + 60, len(data) - 1):
        with open(db, "wb") as f:
            f.write(data[:cut])
        records, err = cat(db)
        assert records == [r for _, r in parsed[:-1]]
        assert err.startswith("dblog-cat: warning: %s: %d: " % (db, last))


def test_garbage_after_real_file_is_dropped_on_append(work):
    d, env = work
    db = make_real_db(d, env, n_bridges=1)
    with open(db, "rb") as f:
        good = f.read()
    with open(db, "ab") as f:
        f.write(b"OVSDB JSON 12 00\n{\"torn")
    txn = json.dumps({"_date": 5, "Open_vSwitch": {}})
    r = run([DBLOG_WRITE, "append", db, txn])
    assert ": %d: syntax error in record header" % len(good) in r.stderr
    with open(db, "rb") as f:
        data = f.read()
    assert data.startswith(good)
    assert [rec for _, rec in parse_log(data)][-1] == json.loads(txn)
    # And the real tool agrees the file is sound.
    assert bridge_names(db, env) == ["br0"]


# ---- We write, real tools read. ----

def our_records():
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    bridge = "1c2f8f0e-6c8e-4f6f-9a3b-0d5d1f2a7e11"
    txns = [
        {"_date": 1700000000000,
         "Open_vSwitch": {ROOT_UUID: {"next_cfg": 7,
                                      "bridges": ["uuid", bridge]}},
         "Bridge": {bridge: {"name": "brx"}},
         "_comment": "ours"},
        {"_date": 1700000001000,
         "Open_vSwitch": {ROOT_UUID: {"external_ids":
                                      ["map", [["system-id", "h1"]]]}},
         "_is_diff": True},
    ]
    return schema, txns


def test_ovsdb_tool_accepts_our_file(work):
    d, env = work
    db = os.path.join(d, "ours.db")
    schema, txns = our_records()
    run([DBLOG_WRITE, "create", db, json.dumps(schema)]
        + [json.dumps(t) for t in txns])
    with open(db, "rb") as f:
        assert [r for _, r in parse_log(f.read())] == [schema] + txns

    log = tool(env, "show-log", db)
    assert 'record 0: "Open_vSwitch" schema, version="8.3.1"' in log
    assert "record 1:" in log and '"ours"' in log
    assert "record 2:" in log and "record 3:" not in log

    assert tool(env, "db-version", db).strip() == "8.3.1"
    out = json.loads(tool(env, "query", db, json.dumps(
        ["Open_vSwitch", {"op": "select", "table": "Open_vSwitch",
                          "where": [], "columns": ["next_cfg",
                                                   "external_ids"]}])))
    assert out == [{"rows": [{"next_cfg": 7,
                              "external_ids": ["map", [["system-id", "h1"]]]}]}]
    assert bridge_names(db, env) == ["brx"]

    # ovsdb-tool can rewrite it, and we read the result.
    tool(env, "compact", db)
    records, err = cat(db)
    assert err == "" and len(records) == 2
    assert bridge_names(db, env) == ["brx"]


def test_ovsdb_server_appends_to_our_file(work, server_factory):
    d, env = work
    db = os.path.join(d, "ours.db")
    schema, txns = our_records()
    run([DBLOG_WRITE, "create", db, json.dumps(schema), json.dumps(txns[0])])
    server = server_factory(d, env, db)
    server.transact(insert_bridge_ops("from-ovs"))
    server.close()
    run([DBLOG_WRITE, "append", db, json.dumps(txns[1])])
    records, err = cat(db)
    assert err == ""
    assert records[0] == schema and records[1] == txns[0]
    assert records[-1] == txns[1]
    assert bridge_names(db, env) == ["brx", "from-ovs"]


def test_lock_shared_with_ovsdb_server(work, server_factory):
    d, env = work
    db = make_real_db(d, env, n_bridges=0)
    server = server_factory(d, env, db)
    r = run([DBLOG_WRITE, "append", db, "{}"], check=False)
    assert r.returncode == 1
    lock = os.path.join(d, ".conf.db.~lock~")
    assert ("cannot lock database: already locked by pid %d (lock file %s)"
            % (server.proc.pid, lock)) in r.stderr
    # Readers take no lock.
    records, err = cat(db)
    assert len(records) == 2 and err == ""
    server.close()
    run([DBLOG_WRITE, "append", db, json.dumps({"_date": 1})])
