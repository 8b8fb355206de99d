"""ovs-appctl against the database server's control socket."""

import re
import socket
import time

from conftest import RpcClient, appctl, free_tcp_port, wait_for

REQUIRED = ["exit", "version", "list-commands", "memory/show", "vlog/set",
            "vlog/list", "ovsdb-server/compact", "ovsdb-server/list-remotes",
            "ovsdb-server/add-remote", "ovsdb-server/remove-remote"]


def test_version(server):
    r = appctl(server, "version")
    assert r.rc == 0, r
    # "<program> (<package>) <version>\n", as every OVS daemon prints it
    assert re.fullmatch(r"\S+ \([^)]+\) \S+\n", r.out), r.out
    if server.impl == "ovs":
        assert r.out.startswith("ovsdb-server (Open vSwitch) ")


def test_list_commands(server):
    r = appctl(server, "list-commands")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "The available commands are:"
    names = {ln.split()[0] for ln in lines[1:] if ln.strip()}
    missing = [c for c in REQUIRED if c not in names]
    assert not missing, missing
    assert all(ln.startswith("  ") for ln in lines[1:] if ln.strip())


def test_unknown_command_and_bad_args(server):
    r = appctl(server, "frob")
    assert r.rc == 2
    assert r.err.startswith('"frob" is not a valid command (use "list-commands" '
                            'to see a list of valid commands)\n')
    assert "server returned an error" in r.err


def test_list_dbs(server):
    r = appctl(server, "ovsdb-server/list-dbs")
    assert r.rc == 0
    assert r.out.splitlines() == ["Open_vSwitch", "_Server"]


def _connectable(port):
    try:
        with RpcClient(("127.0.0.1", port), timeout=2) as c:
            return c.call("list_dbs", [])["result"] == ["Open_vSwitch", "_Server"]
    except (OSError, Exception):
        return False


def test_remotes_add_list_remove(server):
    r = appctl(server, "ovsdb-server/list-remotes")
    assert r.rc == 0
    assert r.out.splitlines() == ["punix:" + server.sock]

    port = free_tcp_port()
    remote = "ptcp:%d:127.0.0.1" % port
    r = appctl(server, "ovsdb-server/add-remote", remote)
    assert r.rc == 0 and r.out.strip() == "", r
    r = appctl(server, "ovsdb-server/list-remotes")
    assert r.out.splitlines() == sorted([remote, "punix:" + server.sock])
    # the new remote really listens and serves the database
    wait_for(lambda: _connectable(port), what="new ptcp remote")

    r = appctl(server, "ovsdb-server/remove-remote", remote)
    assert r.rc == 0, r
    r = appctl(server, "ovsdb-server/list-remotes")
    assert r.out.splitlines() == ["punix:" + server.sock]

    def refused():
        s = socket.socket()
        try:
            s.settimeout(1)
            s.connect(("127.0.0.1", port))
            return False
        except OSError:
            return True
        finally:
            s.close()
    wait_for(refused, what="listener to close")

    r = appctl(server, "ovsdb-server/remove-remote", remote)
    assert r.rc == 2
    assert "no such remote" in r.err


def test_memory_show(server):
    def counters():
        r = appctl(server, "memory/show")
        assert r.rc == 0, r
        toks = r.out.split()
        assert toks, r.out
        out = {}
        for t in toks:
            m = re.fullmatch(r"([a-z][a-z0-9_-]*):(\d+)", t)
            assert m, "bad memory/show token %r in %r" % (t, r.out)
            out[m.group(1)] = int(m.group(2))
        return out
    before = counters()
    with server.rpc() as c:
        c.transact(*[{"op": "insert", "table": "Queue",
                      "row": {"external_ids": ["map", [["k", "v%d" % i]]]}}
                     for i in range(200)])
    after = counters()
    assert sum(after.values()) > sum(before.values()), (before, after)


def test_vlog_list_and_set(server):
    r = appctl(server, "vlog/list")
    assert r.rc == 0
    lines = r.out.splitlines()
    assert lines[0].split() == ["console", "syslog", "file"]
    mods = {ln.split()[0]: ln.split()[1:] for ln in lines[2:]}
    assert "jsonrpc" in mods

    r = appctl(server, "vlog/set", "jsonrpc:file:dbg")
    assert r.rc == 0 and r.out.strip() == "", r
    r = appctl(server, "vlog/list")
    row = [ln.split() for ln in r.out.splitlines() if ln.split()[:1] == ["jsonrpc"]]
    assert row and row[0][3] == "DBG", r.out
    # debug logging of the wire traffic now reaches the log file
    with server.rpc() as c:
        c.call("list_dbs", [])
    wait_for(lambda: "list_dbs" in server.log_text(), what="jsonrpc debug log")

    r = appctl(server, "vlog/set", "bogus:dbg")
    assert r.rc == 2
    assert 'no destination, level, or module "bogus"' in r.err


def test_exit(server):
    server.expect_exit = True
    r = appctl(server, "exit")
    assert r.rc == 0, r
    deadline = time.monotonic() + 10
    while server.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.proc.returncode == 0
    server.killed = True
