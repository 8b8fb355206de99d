"""Durability: acknowledged transactions survive kill -9, a torn tail is
recovered, compaction keeps data and shrinks the file, and the real
ovsdb-tool reads the file."""

import os
import random
import re
import threading
import time

from conftest import run, vsctl, appctl


def seq_op(i):
    return {"op": "insert", "table": "Queue",
            "row": {"external_ids": ["map", [["seq", str(i)]]]}}


def stored_seqs(server):
    with server.rpc() as c:
        rows = c.transact({"op": "select", "table": "Queue", "where": [],
                           "columns": ["external_ids"]})[0]["rows"]
    out = set()
    for r in rows:
        for k, v in r["external_ids"][1]:
            if k == "seq":
                out.add(int(v))
    return out


def record_offsets(path):
    """(header offset, data offset, data length) of every record of an
    OVSDB standalone log file ("OVSDB JSON <len> <sha1>\\n<json>\\n")."""
    recs = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        m = re.match(rb"OVSDB JSON (\d+) [0-9a-f]{40}$", data[pos:nl])
        if not m:
            break
        length = int(m.group(1))
        recs.append((pos, nl + 1, length))
        pos = nl + 1 + length
        if pos < len(data) and data[pos:pos + 1] == b"\n":
            pos += 1
    return recs


def test_acked_transactions_survive_kill9(server):
    rng = random.Random(os.getpid())
    acked = set()
    stop = threading.Event()
    errors = []

    def writer():
        i = 0
        try:
            with server.rpc(timeout=10) as c:
                inflight = {}
                while not stop.is_set():
                    while len(inflight) < 8:
                        c.send({"method": "transact",
                                "params": ["Open_vSwitch", seq_op(i)], "id": i})
                        inflight[i] = True
                        i += 1
                    msg = c.recv()
                    if "method" in msg:
                        continue
                    res = msg.get("result")
                    if res and "uuid" in res[0]:
                        acked.add(msg["id"])
                    del inflight[msg["id"]]
        except Exception as e:  # the server dies under us: expected
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(rng.uniform(0.3, 1.0))
    server.kill9()
    t.join(15)
    stop.set()
    assert not t.is_alive()
    assert len(acked) > 20, "too few transactions acknowledged before the kill"

    server.start()
    present = stored_seqs(server)
    missing = acked - present
    assert not missing, "%d acknowledged transactions lost, e.g. %r" % (
        len(missing), sorted(missing)[:10])


def test_torn_tail_is_recovered(server):
    for i in range(5):
        vsctl(server, "add-br", "br%d" % i, check=True)
    server.stop()
    recs = record_offsets(server.dbfile)
    assert len(recs) >= 6, recs        # schema/snapshot + one per add-br
    hdr, data_off, length = recs[-1]
    # cut the last record (add-br br4) in the middle of its JSON
    with open(server.dbfile, "r+b") as f:
        f.truncate(data_off + length // 2)
    with open(server.logfile, "a"):
        pass
    log_before = len(server.log_text())

    server.start()
    r = vsctl(server, "list-br", check=True)
    assert r.out == "br0\nbr1\nbr2\nbr3\n"
    log = server.log_text()[log_before:]
    assert str(hdr) in log or str(data_off) in log, \
        "no warning naming offset %d/%d in log:\n%s" % (hdr, data_off, log)

    # the file is usable after recovery: a new write survives a restart
    vsctl(server, "add-br", "br9", check=True)
    server.restart()
    r = vsctl(server, "list-br", check=True)
    assert r.out == "br0\nbr1\nbr2\nbr3\nbr9\n"
    r = run(["ovsdb-tool", "show-log", server.dbfile], server.dir)
    assert r.rc == 0, r


def test_compaction_keeps_data_and_shrinks(server):
    vsctl(server, "add-br", "br0", "--", "add-port", "br0", "eth0", check=True)
    with server.rpc() as c:
        for i in range(300):
            c.transact({"op": "update", "table": "Port",
                        "where": [["name", "==", "eth0"]],
                        "row": {"external_ids": ["map", [["n", str(i)]]],
                                "tag": i % 4096}})
    before = os.path.getsize(server.dbfile)
    r = appctl(server, "ovsdb-server/compact")
    assert r.rc == 0, r
    assert r.out.strip() == ""
    after = os.path.getsize(server.dbfile)
    assert after < before / 3, (before, after)

    def check():
        r = vsctl(server, "get", "Port", "eth0", "tag", "external_ids",
                  check=True)
        assert r.out == '299\n{n="299"}\n'
        assert vsctl(server, "list-ports", "br0", check=True).out == "eth0\n"
    check()
    # writes after compaction land in the new file and survive a restart
    vsctl(server, "add-port", "br0", "eth1", check=True)
    server.restart()
    check_out = vsctl(server, "list-ports", "br0", check=True).out
    assert check_out == "eth0\neth1\n"
    r = vsctl(server, "get", "Port", "eth0", "tag", check=True)
    assert r.out == "299\n"


def test_compact_unknown_db(server):
    r = appctl(server, "ovsdb-server/compact", "Nope")
    assert r.rc == 2
    assert "no database by that name" in r.err


def test_ovsdb_tool_reads_our_file(server):
    vsctl(server, "add-br", "brA", check=True)
    vsctl(server, "add-port", "brA", "p1", "tag=3", check=True)
    # the file is read while the server holds it open, as operators do
    r = run(["ovsdb-tool", "show-log", server.dbfile], server.dir, check=True)
    lines = r.out.splitlines()
    assert lines[0].startswith("record 0:")
    assert any("add-br brA" in ln for ln in lines)
    assert any("add-port brA p1 tag=3" in ln for ln in lines)
    r = run(["ovsdb-tool", "db-name", server.dbfile], server.dir, check=True)
    assert r.out == "Open_vSwitch\n"
    r = run(["ovsdb-tool", "db-version", server.dbfile], server.dir, check=True)
    assert r.out == "8.3.1\n"
    r = run(["ovsdb-tool", "query", server.dbfile,
             '["Open_vSwitch",{"op":"select","table":"Port",'
             '"where":[["name","==","p1"]],"columns":["tag"]}]'],
            server.dir, check=True)
    assert '"tag":3' in r.out
