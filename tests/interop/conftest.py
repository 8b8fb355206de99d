"""Shared fixtures for the OVSDB interop tests.

Every test that talks to a database server is parametrised over the server
implementation: "ovs" (the real ovsdb-server from Debian's openvswitch
packages) and "lanyard" (our lanyard-dbd).  The lanyard variant is skipped
only while the binary has not been built yet; once it exists, it runs.

Run with Debian's python:  /usr/bin/python3 -m pytest tests/interop
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
IMPLS = ["ovs", "lanyard"]
START_TIMEOUT = 15.0


def lanyard_build():
    return os.environ.get("LANYARD_BUILD", "/work/main/build")


def lanyard_dbd_path():
    return os.path.join(lanyard_build(), "dbd", "lanyard-dbd")


def ovsdb_server_path():
    return shutil.which("ovsdb-server") or "/usr/sbin/ovsdb-server"


def skip_if_unavailable(impl):
    if impl == "lanyard" and not os.access(lanyard_dbd_path(), os.X_OK):
        pytest.skip("lanyard-dbd not built yet (%s missing)" % lanyard_dbd_path())
    if impl == "ovs" and not os.access(ovsdb_server_path(), os.X_OK):
        pytest.skip("real ovsdb-server not installed")


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tool_env(tmpdir):
    """Environment for OVS command-line tools: keep every default path
    (rundir, logdir, dbdir) inside the test's own temp dir."""
    env = dict(os.environ)
    env["OVS_RUNDIR"] = tmpdir
    env["OVS_LOGDIR"] = tmpdir
    env["OVS_DBDIR"] = tmpdir
    env["LC_ALL"] = "C"
    return env


# ---------------------------------------------------------------------------
# Raw JSON-RPC client
# ---------------------------------------------------------------------------

class RpcClosed(Exception):
    pass


class RpcClient:
    """A minimal JSON-RPC 1.0 client over a unix or TCP stream socket.

    Messages are decoded incrementally (the server writes objects back to
    back with no delimiter).  Notifications and requests from the server
    that arrive while waiting for a reply are kept in self.notifications;
    server "echo" requests are answered automatically."""

    def __init__(self, address, timeout=10.0):
        if isinstance(address, tuple):
            self.sock = socket.create_connection(address, timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            # A full listen backlog makes a unix connect fail with EAGAIN;
            # real clients retry, so do we.
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self.sock.connect(address)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
        self.timeout = timeout
        self.buf = ""
        self.raw = b""
        self.decoder = json.JSONDecoder()
        self.notifications = []
        self.next_id = 1
        self.closed = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send(self, msg):
        self.send_raw(json.dumps(msg))

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete message from server")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except ConnectionResetError:
            chunk = b""
        except socket.timeout:
            raise TimeoutError("no complete message from server")
        if not chunk:
            self.closed = True
            raise RpcClosed("connection closed by server")
        self.raw += chunk
        try:
            self.buf += self.raw.decode()
            self.raw = b""
        except UnicodeDecodeError:
            pass  # partial UTF-8 sequence: wait for the rest

    def recv(self, timeout=None):
        """Next message from the server (any kind)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            stripped = self.buf.lstrip()
            if stripped:
                try:
                    msg, end = self.decoder.raw_decode(stripped)
                    self.buf = stripped[end:]
                    return msg
                except json.JSONDecodeError:
                    pass  # incomplete
            self._fill(deadline)

    def _handle_server_request(self, msg):
        if msg.get("method") == "echo" and msg.get("id") is not None:
            self.send({"id": msg["id"], "result": msg.get("params"),
                       "error": None})
            return True
        return False

    def wait_reply(self, req_id, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self.recv(max(0.001, deadline - time.monotonic()))
            if "method" in msg:
                if not self._handle_server_request(msg):
                    self.notifications.append(msg)
                continue
            if msg.get("id") == req_id:
                return msg
            raise AssertionError("unexpected reply %r (waiting for id %r)"
                                 % (msg, req_id))

    def call(self, method, params, req_id=None, timeout=None):
        """Send a request and return the whole reply object."""
        if req_id is None:
            req_id = self.next_id
            self.next_id += 1
        self.send({"method": method, "params": params, "id": req_id})
        return self.wait_reply(req_id, timeout)

    def transact(self, *ops, db="Open_vSwitch"):
        reply = self.call("transact", [db] + list(ops))
        assert reply.get("error") is None, reply
        return reply["result"]

    def wait_notification(self, method, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, n in enumerate(self.notifications):
                if n.get("method") == method:
                    return self.notifications.pop(i)
            msg = self.recv(max(0.001, deadline - time.monotonic()))
            if "method" in msg and self._handle_server_request(msg):
                continue
            self.notifications.append(msg)

    def is_closed_by_server(self, timeout=5.0):
        """True if the server closes the connection within timeout without
        sending anything further."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                msg = self.recv(max(0.001, deadline - time.monotonic()))
                self.notifications.append(msg)
        except RpcClosed:
            return True
        except (TimeoutError, OSError):
            return False


# ---------------------------------------------------------------------------
# Database server processes
# ---------------------------------------------------------------------------

class DbServer:
    """One running ovsdb-server or lanyard-dbd, owned by the test."""

    def __init__(self, impl, workdir, tcp=False, name="db", extra_args=()):
        self.impl = impl
        self.extra_args = list(extra_args)
        self.dir = workdir
        self.sock = os.path.join(workdir, name + ".sock")
        self.ctl = os.path.join(workdir, name + ".ctl")
        self.dbfile = os.path.join(workdir, name + ".db")
        self.logfile = os.path.join(workdir, name + ".log")
        self.errfile = os.path.join(workdir, name + ".stderr")
        self.remote = "unix:" + self.sock
        self.tcp_port = free_tcp_port() if tcp else None
        self.tcp_remote = ("tcp:127.0.0.1:%d" % self.tcp_port) if tcp else None
        self.proc = None
        self.killed = False       # set when the test itself ended the process
        self.expect_exit = False  # set by tests that ask the server to exit

    def argv(self):
        binary = ovsdb_server_path() if self.impl == "ovs" else lanyard_dbd_path()
        args = [binary, "--remote=punix:" + self.sock,
                "--unixctl=" + self.ctl, "--log-file=" + self.logfile]
        if self.tcp_port:
            args.append("--remote=ptcp:%d:127.0.0.1" % self.tcp_port)
        args += self.extra_args
        args.append(self.dbfile)
        return args

    def create_db(self):
        if self.impl == "ovs" and not os.path.exists(self.dbfile):
            subprocess.run(["ovsdb-tool", "create", self.dbfile, VSWITCH_SCHEMA],
                           check=True, env=tool_env(self.dir))

    def start(self):
        self.create_db()
        for p in (self.sock, self.ctl):
            if os.path.exists(p):
                os.unlink(p)
        err = open(self.errfile, "ab")
        self.proc = subprocess.Popen(self.argv(), cwd=self.dir, stdout=err,
                                     stderr=err, stdin=subprocess.DEVNULL,
                                     env=tool_env(self.dir))
        err.close()
        self.killed = False
        self.wait_ready()
        return self

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s during startup:\n%s"
                                     % (self.impl, self.proc.returncode,
                                        self.read_logs()))
            try:
                with RpcClient(self.sock, timeout=2) as c:
                    r = c.call("list_dbs", [])
                    if "Open_vSwitch" in (r.get("result") or []):
                        if not self.tcp_port or self._tcp_ready():
                            if os.path.exists(self.ctl):
                                return
            except (OSError, RpcClosed, TimeoutError) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("%s did not become ready: %r\n%s"
                             % (self.impl, last, self.read_logs()))

    def _tcp_ready(self):
        try:
            with RpcClient(("127.0.0.1", self.tcp_port), timeout=2) as c:
                return "result" in c.call("list_dbs", [])
        except (OSError, RpcClosed, TimeoutError):
            return False

    def read_logs(self):
        out = ""
        for p in (self.logfile, self.errfile):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += "--- %s\n%s" % (p, f.read()[-4000:])
        return out

    def log_text(self):
        text = ""
        for p in (self.logfile, self.errfile):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()
        return text

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Graceful stop (SIGTERM, then SIGKILL)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.killed = True

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.killed = True

    def restart(self):
        self.stop()
        return self.start()

    def rpc(self, timeout=10.0):
        return RpcClient(self.sock, timeout=timeout)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


@pytest.fixture
def tmpdir_path():
    d = tempfile.mkdtemp(prefix="lanyard-interop-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server_factory(tmpdir_path):
    """start(impl, tcp=False, name=...) -> running DbServer.  All servers
    are stopped at teardown; a server that died without the test asking
    for it fails the test."""
    servers = []

    def start(impl, tcp=False, name=None, extra_args=()):
        skip_if_unavailable(impl)
        name = name or "%s%d" % (impl, len(servers))
        s = DbServer(impl, tmpdir_path, tcp=tcp, name=name,
                     extra_args=extra_args)
        servers.append(s)
        return s.start()

    yield start
    crashed = []
    for s in servers:
        if s.proc is not None and not s.killed and not s.expect_exit \
                and s.proc.poll() is not None:
            crashed.append("%s exited unexpectedly with status %s\n%s"
                           % (s.impl, s.proc.returncode, s.read_logs()))
        s.stop()
        # An ASan/UBSan build (LANYARD_BUILD=build-asan) reports memory
        # errors and leaks on stderr, often only at exit.
        err = ""
        if os.path.exists(s.errfile):
            with open(s.errfile, errors="replace") as f:
                err = f.read()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:"):
            if marker in err:
                i = err.index(marker)
                crashed.append("%s: sanitizer report:\n%s"
                               % (s.impl, err[max(0, i - 200):i + 3000]))
                break
    if crashed:
        pytest.fail("server crashed during the test:\n" + "\n".join(crashed))


@pytest.fixture(params=IMPLS)
def impl(request):
    skip_if_unavailable(request.param)
    return request.param


@pytest.fixture
def server(impl, server_factory):
    return server_factory(impl)


@pytest.fixture
def tcp_server(impl, server_factory):
    return server_factory(impl, tcp=True)


# ---------------------------------------------------------------------------
# Command-line helpers
# ---------------------------------------------------------------------------

class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __repr__(self):
        return "Result(rc=%r, out=%r, err=%r)" % (self.rc, self.out, self.err)


def run(argv, env_dir, timeout=30, check=False, input=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=tool_env(env_dir), input=input)
    r = Result(argv, p.returncode, p.stdout, p.stderr)
    if check and p.returncode != 0:
        raise AssertionError("%s failed: %r" % (" ".join(argv), r))
    return r


def vsctl(server, *args, check=False, no_wait=True, timeout=30):
    argv = ["ovs-vsctl", "--db=" + server.remote, "--timeout=20"]
    if no_wait:
        argv.append("--no-wait")
    return run(argv + list(args), server.dir, timeout=timeout, check=check)


def client(server, *args, check=False, timeout=30):
    """ovsdb-client COMMAND SERVER ARGS... (the remote goes after the
    command name, as ovsdb-client expects)."""
    args = list(args)
    argv = ["ovsdb-client", "--timeout=20"]
    opts = [a for a in args if a.startswith("--")]
    rest = [a for a in args if not a.startswith("--")]
    argv += opts + [rest[0], server.remote] + rest[1:]
    return run(argv, server.dir, timeout=timeout, check=check)


def appctl(server, *args, check=False, timeout=30):
    return run(["ovs-appctl", "--timeout=20", "-t", server.ctl] + list(args),
               server.dir, timeout=timeout, check=check)


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class UuidNormaliser:
    """Replaces UUIDs by <U1>, <U2>, ... in order of first appearance; the
    same mapping is kept across calls so references stay consistent."""

    def __init__(self):
        self.map = {}

    def __call__(self, text):
        def repl(m):
            u = m.group(0)
            if u == "00000000-0000-0000-0000-000000000000":
                return u     # a protocol constant (e.g. no txn history)
            if u not in self.map:
                self.map[u] = "<U%d>" % (len(self.map) + 1)
            return self.map[u]
        return UUID_RE.sub(repl, text)


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


# ---------------------------------------------------------------------------
# Long-running client processes (ovsdb-client monitor ...)
# ---------------------------------------------------------------------------

class LineReader:
    """A child process whose stdout is read line by line in a thread."""

    def __init__(self, argv, env_dir):
        import queue
        import threading
        self.queue = queue.Queue()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=tool_env(env_dir))
        self.lines = []
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        for line in self.proc.stdout:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def next_line(self, timeout=10.0, pred=None):
        """Next stdout line (satisfying pred if given)."""
        import queue
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no matching output line; got %r"
                                     % self.lines)
            try:
                line = self.queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("process exited; lines %r, stderr %r"
                                     % (self.lines, self.proc.stderr.read()))
            self.lines.append(line)
            if pred is None or pred(line):
                return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


@pytest.fixture
def spawn(tmpdir_path):
    """spawn(argv) -> LineReader; every process is stopped at teardown."""
    procs = []

    def start(argv):
        p = LineReader(argv, tmpdir_path)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()
