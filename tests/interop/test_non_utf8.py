"""Strings that are not UTF-8, sent as raw JSON-RPC bytes to the real
ovsdb-server and to lanyard-dbd: the replies must be the same, byte for
byte in every string (ovsdb-server quotes a client's bytes back in ids,
error details and "syntax"), and the connection must stay up exactly when
the real server keeps it.  Also: such a string never reaches our database
log (a comment's bad bytes become U+FFFD there), and a log written by
ovsdb-server with such a comment opens without losing a record.

Run:  LANYARD_BUILD=/path/to/build /usr/bin/python3 -m pytest -q \
          -p no:cacheprovider tests/interop/test_non_utf8.py
"""

import json
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import DbServer, skip_if_unavailable, tool_env

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}")


def tx(*ops):
    return (b'{"method":"transact","params":["Open_vSwitch",'
            + b",".join(ops) + b'],"id":1}')


def ins(table, row):
    return b'{"op":"insert","table":"%s","row":%s}' % (table, row)


# name -> (raw bytes, replies expected before the connection either closes
# or is checked to be alive; None: the server must close the connection).
CASES = {
    # Strings in transactions: constraint violation, OVS's wording.
    "ff": (tx(ins(b"Bridge", b'{"name":"br\xff"}')), 1),
    "overlong_2": (tx(ins(b"Bridge", b'{"name":"br\xc0\x80"}')), 1),
    "overlong_3": (tx(ins(b"Bridge", b'{"name":"br\xe0\x80\x80"}')), 1),
    "overlong_4": (tx(ins(b"Bridge", b'{"name":"br\xf0\x80\x80\x80"}')), 1),
    "raw_surrogate": (tx(ins(b"Bridge", b'{"name":"br\xed\xa0\x80"}')), 1),
    "escaped_lone_low_surrogate": (
        tx(ins(b"Bridge", b'{"name":"br\\udc00"}')), 1),
    "escaped_low_pair": (tx(ins(b"Bridge", b'{"name":"\\udfff\\udc00"}')), 1),
    "escaped_lone_high_surrogate": (
        tx(ins(b"Bridge", b'{"name":"br\\ud800"}')), None),
    "escaped_high_then_other": (
        tx(ins(b"Bridge", b'{"name":"\\ud800\\u0041"}')), None),
    "escaped_pair_ok": (tx(ins(b"Bridge", b'{"name":"\\ud83d\\ude00"}')), 1),
    "above_10ffff": (tx(ins(b"Bridge", b'{"name":"\xf4\x90\x80\x80"}')), 1),
    "f5": (tx(ins(b"Bridge", b'{"name":"\xf5"}')), 1),
    "continuation": (tx(ins(b"Bridge", b'{"name":"\x80"}')), 1),
    "truncated_at_end": (tx(ins(b"Bridge", b'{"name":"br\xe2\x82"}')), 1),
    "truncated_inside": (tx(ins(b"Bridge", b'{"name":"br\xe2\x82x"}')), 1),
    "map_key": (tx(ins(b"Bridge", b'{"name":"b","external_ids":'
                                 b'["map",[["k\xff","v"]]]}')), 1),
    "enum_column": (tx(ins(b"Bridge", b'{"name":"b","fail_mode":"\xff"}')), 1),
    "update": (tx(b'{"op":"update","table":"Bridge","where":[],'
                  b'"row":{"name":"\xff"}}'), 1),
    "mutate_insert": (tx(b'{"op":"mutate","table":"Open_vSwitch","where":[],'
                         b'"mutations":[["external_ids","insert",'
                         b'["map",[["a","\xff"]]]]]}'), 1),
    "where_value": (tx(b'{"op":"select","table":"Bridge",'
                       b'"where":[["name","==","\xff"]]}'), 1),
    "where_enum": (tx(b'{"op":"select","table":"Bridge",'
                      b'"where":[["fail_mode","includes",["set",["\xff"]]]]}'),
                   1),
    "wait_rows": (tx(b'{"op":"wait","table":"Bridge","timeout":0,"where":[],'
                     b'"columns":["name"],"until":"==",'
                     b'"rows":[{"name":"\xff"}]}'), 1),
    "uuid_string": (tx(ins(b"Bridge",
                           b'{"name":"x","ports":["uuid","\xff"]}')), 1),
    # Names: quoted back in details and "syntax".
    "table_name": (tx(ins(b"Bridg\xff", b"{}")), 1),
    "column_name": (tx(ins(b"Bridge", b'{"nam\xff":"x"}')), 1),
    "op_name": (tx(b'{"op":"inser\xff","table":"Bridge","row":{}}'), 1),
    "unknown_member": (tx(b'{"op":"select","table":"Bridge","where":[],'
                          b'"x\xff":1}'), 1),
    "where_column": (tx(b'{"op":"select","table":"Bridge",'
                        b'"where":[["nam\xff","==","x"]]}'), 1),
    "function": (tx(b'{"op":"select","table":"Bridge",'
                    b'"where":[["name","=\xff","x"]]}'), 1),
    "mutator": (tx(b'{"op":"mutate","table":"Bridge","where":[],'
                   b'"mutations":[["external_ids","ins\xff","x"]]}'), 1),
    "select_columns": (tx(b'{"op":"select","table":"Bridge","where":[],'
                          b'"columns":["nam\xff"]}'), 1),
    "uuid_name": (tx(b'{"op":"insert","table":"Bridge","row":{"name":"x"},'
                     b'"uuid-name":"r\xff"}'), 1),
    "named_uuid": (tx(ins(b"Bridge",
                          b'{"name":"x","ports":["named-uuid","r\xff"]}')), 1),
    "until": (tx(b'{"op":"wait","table":"Bridge","timeout":0,"where":[],'
                 b'"columns":["name"],"until":"=\xff","rows":[]}'), 1),
    "assert_lock": (tx(b'{"op":"assert","lock":"l\xff"}'), 1),
    "comment": (tx(b'{"op":"comment","comment":"c\xff"}'), 1),
    "db_name": (b'{"method":"transact","params":["Open_vSwitc\xff"],"id":1}',
                1),
    "get_schema": (b'{"method":"get_schema","params":["x\xff"],"id":1}', 1),
    # Methods and their parameters.
    "echo_and_id": (b'{"method":"echo","params":["a\xffb",{"k":"\xfe"}],'
                    b'"id":"\xfe"}', 1),
    "method_name": (b'{"method":"ech\xff","params":[],"id":"m\xff"}', 1),
    "notification": (b'{"method":"ech\xff","params":[],"id":null}'
                     b'{"method":"echo","params":[],"id":2}', 1),
    "lock": (b'{"method":"lock","params":["l\xff"],"id":1}', 1),
    "steal": (b'{"method":"steal","params":["l\xff"],"id":1}', 1),
    "unlock": (b'{"method":"unlock","params":["l\xff"],"id":1}', 1),
    "monitor_table": (b'{"method":"monitor","params":["Open_vSwitch",null,'
                      b'{"Bridg\xff":{}}],"id":1}', 1),
    "monitor_column": (b'{"method":"monitor","params":["Open_vSwitch",null,'
                       b'{"Bridge":{"columns":["nam\xff"]}}],"id":1}', 1),
    "monitor_cond_where": (b'{"method":"monitor_cond","params":'
                           b'["Open_vSwitch",null,{"Bridge":'
                           b'{"where":[["name","==","\xff"]]}}],"id":1}', 1),
    "monitor_cancel": (b'{"method":"monitor_cancel","params":["m\xff"],'
                       b'"id":1}', 1),
    "set_db_change_aware": (b'{"method":"set_db_change_aware",'
                            b'"params":["\xff"],"id":1}', 1),
    # Malformed for both: the connection is dropped.
    "envelope_key": (b'{"meth\xffod":"echo","params":[],"id":1}', None),
    "control_char": (b'{"method":"echo","params":["\x01\xff"],"id":1}', None),
    "escaped_nul": (b'{"method":"echo","params":["\\u0000\xff"],"id":1}',
                    None),
}


def decode(data):
    """JSON messages in DATA (bytes), strings kept byte for byte (bytes that
    are not UTF-8 become lone surrogates), UUIDs normalised, sorted by id."""
    text = UUID.sub("U", data.decode("utf-8", "surrogateescape"))
    dec, out, i = json.JSONDecoder(), [], 0
    while i < len(text):
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i < len(text):
            msg, i = dec.raw_decode(text, i)
            out.append(msg)
    return sorted(out, key=lambda m: json.dumps(m.get("id"), sort_keys=True))


class RawConn:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.closed = False

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def messages(self, n, timeout=5.0):
        """The first N messages (fewer if the server closes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed:
            try:
                if len(decode(self.buf)) >= n:
                    break
            except json.JSONDecodeError:
                pass            # incomplete
            self._fill(deadline)
        return decode(self.buf) if self.buf else []

    def wait_closed(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._fill(deadline)
        return self.closed


def ask(path, request):
    """The reply to REQUEST (bytes) on a connection of its own."""
    c = RawConn(path)
    try:
        c.send(request)
        return c.messages(1)[0]
    finally:
        c.close()


SELECT_EXTERNAL_IDS = tx(b'{"op":"select","table":"Open_vSwitch",'
                         b'"where":[],"columns":["external_ids"]}')


@pytest.fixture(scope="module")
def servers():
    """The real ovsdb-server and lanyard-dbd, started once for the module
    (each case uses its own connection and changes nothing that the next
    case reads)."""
    skip_if_unavailable("ovs")
    skip_if_unavailable("lanyard")
    d = tempfile.mkdtemp(prefix="lanyard-nonutf8-")
    pair = {impl: DbServer(impl, d, name=impl) for impl in ("ovs", "lanyard")}
    try:
        for s in pair.values():
            s.start()
        yield pair
    finally:
        problems = []
        for s in pair.values():
            if s.proc is not None and s.proc.poll() is not None:
                problems.append("%s died:\n%s" % (s.impl, s.read_logs()))
            s.stop()
            with open(s.errfile, errors="replace") as f:
                err = f.read()
            if "Sanitizer" in err or "runtime error:" in err:
                problems.append("%s: sanitizer report:\n%s" % (s.impl, err))
        shutil.rmtree(d, ignore_errors=True)
        assert not problems, "\n".join(problems)


def outcome(server, raw, n_replies):
    """(replies, still open?) for RAW sent on a fresh connection."""
    c = RawConn(server.sock)
    try:
        c.send(raw)
        replies = c.messages(n_replies or 1, timeout=5 if n_replies else 1)
        if n_replies is None:
            return replies, not c.wait_closed()
        c.send(b'{"method":"echo","params":["alive"],"id":"alive"}')
        alive = any(m.get("id") == "alive"
                    for m in c.messages(len(replies) + 1))
        return replies, alive
    finally:
        c.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_reply_matches_real_server(servers, case):
    raw, n_replies = CASES[case]
    want = outcome(servers["ovs"], raw, n_replies)
    if n_replies is None:
        assert want == ([], False), "the real server kept the connection?!"
    else:
        assert len(want[0]) == n_replies and want[1], want
    got = outcome(servers["lanyard"], raw, n_replies)
    assert got == want


def test_monitor_id_comes_back_verbatim(servers):
    """A monitor id that is not UTF-8 is echoed in every update, as the
    real server does; monitor_cancel finds it."""
    results = {}
    for impl, s in servers.items():
        mon = RawConn(s.sock)
        mon.send(b'{"method":"monitor","params":["Open_vSwitch","m\xff",'
                 b'{"Open_vSwitch":{"columns":["external_ids"]}}],"id":1}')
        initial = mon.messages(1)
        writer = RawConn(s.sock)
        writer.send(b'{"method":"transact","params":["Open_vSwitch",'
                    b'{"op":"insert","table":"Open_vSwitch",'
                    b'"row":{"external_ids":["map",[["k","v"]]]}}],"id":2}')
        assert writer.messages(1)[0]["error"] is None
        writer.close()
        update = mon.messages(2)
        mon.send(b'{"method":"monitor_cancel","params":["m\xff"],"id":3}')
        cancel = mon.messages(3)
        mon.close()
        results[impl] = (initial, update, cancel)
        assert [m for m in update if m.get("method") == "update"][0][
            "params"][0] == "m\udcff"
    assert results["lanyard"] == results["ovs"]


def _show_log(path, workdir):
    return subprocess.run(["ovsdb-tool", "-m", "show-log", path],
                          capture_output=True, env=tool_env(workdir),
                          check=True).stdout


def test_log_stays_utf8_and_survives_kill9(servers):
    """A comment's bad bytes become U+FFFD in our log (ovsdb-server writes
    them as they came); the record is committed, durable across kill -9,
    and ovsdb-tool reads the file."""
    d = tempfile.mkdtemp(prefix="lanyard-nonutf8-log-")
    s = DbServer("lanyard", d, name="log")
    try:
        s.start()
        reply = ask(s.sock, tx(
            ins(b"Open_vSwitch", b'{"external_ids":["map",[["k","v"]]]}'),
            b'{"op":"comment","comment":"c\xff\xe2\x82x\xc3\xa9"}'))
        assert reply["error"] is None and "uuid" in reply["result"][0]
        s.kill9()
        with open(s.dbfile, "rb") as f:
            f.read().decode("utf-8")   # the whole log is UTF-8
        shown = _show_log(s.dbfile, d).decode("utf-8")
        assert '"c\ufffd\ufffdx\u00e9"' in shown
        s.start()
        rows = ask(s.sock, SELECT_EXTERNAL_IDS)["result"][0]["rows"]
        assert rows == [{"external_ids": ["map", [["k", "v"]]]}]
    finally:
        s.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_ovsdb_server_log_with_raw_comment_opens_whole(servers):
    """ovsdb-server logs a comment's bytes as they came; lanyard-dbd must
    read such a file without dropping that record or anything after it."""
    d = tempfile.mkdtemp(prefix="lanyard-nonutf8-ovslog-")
    ovs = DbServer("ovs", d, name="ovs")
    lan = None
    try:
        ovs.start()
        assert ask(ovs.sock, tx(
            ins(b"Open_vSwitch", b'{"external_ids":["map",[["a","1"]]]}'),
            b'{"op":"comment","comment":"raw \xff"}'))["error"] is None
        assert ask(ovs.sock, tx(
            b'{"op":"mutate","table":"Open_vSwitch","where":[],'
            b'"mutations":[["external_ids","insert",'
            b'["map",[["b","2"]]]]]}'))["error"] is None
        ovs.stop()
        with open(ovs.dbfile, "rb") as f:
            before = f.read()
        assert b"raw \xff" in before
        lan = DbServer("lanyard", d, name="ovs")    # the same file
        lan.start()
        rows = ask(lan.sock, SELECT_EXTERNAL_IDS)["result"][0]["rows"]
        assert rows == [{"external_ids": ["map", [["a", "1"], ["b", "2"]]]}]
        assert "ignoring" not in lan.log_text()
        with open(lan.dbfile, "rb") as f:
            assert f.read() == before   # nothing truncated or rewritten
    finally:
        if lan:
            lan.stop()
        ovs.stop()
        shutil.rmtree(d, ignore_errors=True)
