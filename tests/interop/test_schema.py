"""schema/: our schemas must be exactly Open vSwitch 3.1's.

* vswitch.ovsschema equals Debian's installed file (parsed JSON) and passes
  ovsdb-tool's schema and database checks;
* _server.ovsschema equals what a live real ovsdb-server reports for _Server;
* schema/embed.py (which compiles them into the binaries) round-trips.

Self-contained (no conftest fixtures).  Run with Debian's python:
    /usr/bin/python3 -m pytest tests/interop/test_schema.py
"""

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OURS = os.path.join(SRC, "schema", "vswitch.ovsschema")
OURS_SERVER = os.path.join(SRC, "schema", "_server.ovsschema")
EMBED = os.path.join(SRC, "schema", "embed.py")
DEBIAN = "/usr/share/openvswitch/vswitch.ovsschema"

needs_tool = pytest.mark.skipif(shutil.which("ovsdb-tool") is None,
                                reason="ovsdb-tool (openvswitch-common) missing")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def tool(*args, env=None):
    out = subprocess.run(["ovsdb-tool"] + list(args), check=True, env=env,
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="ly-schema-")
    env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d)
    yield d, env
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(not os.path.exists(DEBIAN), reason="no Debian schema")
def test_vswitch_schema_equals_debian():
    ours, theirs = load(OURS), load(DEBIAN)
    assert ours == theirs
    assert ours["name"] == "Open_vSwitch"
    assert ours["version"] == "8.3.1"


def test_vswitch_schema_cksum_field_verifies():
    """The cksum member is POSIX cksum of the file without the cksum line."""
    with open(OURS, "rb") as f:
        lines = f.readlines()
    rest = b"".join(l for l in lines if b'"cksum"' not in l)
    out = subprocess.run(["cksum"], input=rest, check=True,
                         capture_output=True).stdout.split()
    assert "%s %s" % (out[0].decode(), out[1].decode()) == load(OURS)["cksum"]


@needs_tool
def test_ovsdb_tool_schema_checks():
    assert tool("schema-name", OURS) == "Open_vSwitch"
    assert tool("schema-version", OURS) == "8.3.1"
    assert tool("schema-cksum", OURS) == "3012963480 26720"
    assert tool("schema-name", OURS_SERVER) == "_Server"
    assert tool("schema-version", OURS_SERVER) == "1.2.0"


@needs_tool
def test_ovsdb_tool_db_checks(workdir):
    d, env = workdir
    db = os.path.join(d, "conf.db")
    tool("create", db, OURS, env=env)
    assert tool("db-name", db, env=env) == "Open_vSwitch"
    assert tool("db-version", db, env=env) == "8.3.1"
    assert tool("db-cksum", db, env=env) == "3012963480 26720"
    assert tool("needs-conversion", db, OURS, env=env) == "no"
    if os.path.exists(DEBIAN):
        assert tool("needs-conversion", db, DEBIAN, env=env) == "no"
    # Every table of ours is usable by the real tools.
    ops = [{"op": "select", "table": t, "where": []}
           for t in sorted(load(OURS)["tables"])]
    result = json.loads(tool("query", db, json.dumps(["Open_vSwitch"] + ops),
                             env=env))
    assert result == [{"rows": []}] * len(ops)


def wait_for(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        time.sleep(0.05)


@needs_tool
@pytest.mark.skipif(shutil.which("ovsdb-server") is None
                    and not os.path.exists("/usr/sbin/ovsdb-server"),
                    reason="ovsdb-server missing")
def test_server_schema_equals_live_ovsdb_server(workdir):
    d, env = workdir
    db = os.path.join(d, "conf.db")
    sock = os.path.join(d, "db.sock")
    tool("create", db, DEBIAN if os.path.exists(DEBIAN) else OURS, env=env)
    server = shutil.which("ovsdb-server") or "/usr/sbin/ovsdb-server"
    proc = subprocess.Popen([server, "--remote=punix:" + sock,
                             "--unixctl=" + os.path.join(d, "ctl"),
                             "--log-file=" + os.path.join(d, "server.log"),
                             db], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(sock)
        live = subprocess.run(["ovsdb-client", "get-schema", "unix:" + sock,
                               "_Server"], check=True, env=env,
                              capture_output=True, text=True,
                              timeout=30).stdout
        assert json.loads(live) == load(OURS_SERVER)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def c_literals(c_text, symbol):
    """Decodes `const char SYMBOL[] = "..." "...";` from generated C."""
    m = re.search(r"const char %s\[\] =\s*((?:\s*\"(?:[^\"\\]|\\.)*\")+);"
                  % re.escape(symbol), c_text)
    assert m, symbol
    frags = re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1))
    # The escapes embed.py emits (\\ \" \n \t \ooo) mean the same in Python
    # bytes literals.
    return b"".join(ast.literal_eval('b"%s"' % f) for f in frags)


def test_embed_round_trip(workdir):
    d, _ = workdir
    out = os.path.join(d, "schemas.c")
    subprocess.run([sys.executable, EMBED, out,
                    "lanyard_vswitch_schema=" + OURS,
                    "lanyard_server_schema=" + OURS_SERVER], check=True)
    with open(out, encoding="utf-8") as f:
        text = f.read()
    for symbol, path in (("lanyard_vswitch_schema", OURS),
                         ("lanyard_server_schema", OURS_SERVER)):
        with open(path, "rb") as f:
            assert c_literals(text, symbol) == f.read()


def test_embed_rejects_invalid_json(workdir):
    d, _ = workdir
    bad = os.path.join(d, "bad.ovsschema")
    with open(bad, "w") as f:
        f.write('{"name": ')
    r = subprocess.run([sys.executable, EMBED, os.path.join(d, "x.c"),
                        "sym=" + bad], capture_output=True, text=True)
    assert r.returncode != 0
    assert "invalid JSON" in r.stderr
