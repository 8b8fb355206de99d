"""Start a private real ovsdb-server or lanyard-dbd for differential tests."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD = os.environ.get("LANYARD_BUILD",
                       os.path.join(os.path.dirname(__file__), "..", "..", "build"))
DBD = os.path.join(BUILD, "dbd", "lanyard-dbd")
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class Server:
    def __init__(self, impl, extra_args=()):
        self.impl = impl
        self.extra_args = list(extra_args)
        self.dir = tempfile.mkdtemp(prefix="ldbd-")
        self.sock = os.path.join(self.dir, "db.sock")
        self.ctl = os.path.join(self.dir, "ctl")
        self.db = os.path.join(self.dir, "conf.db")
        self.log = os.path.join(self.dir, "log")
        self.proc = None
        if impl == "ovs":
            subprocess.run(["ovsdb-tool", "create", self.db, OVS_SCHEMA], check=True)
        self.start()

    def start(self):
        exe = "ovsdb-server" if self.impl == "ovs" else DBD
        self.proc = subprocess.Popen(
            [exe, "--remote=punix:" + self.sock, "--unixctl=" + self.ctl,
             "--log-file=" + self.log, "-vconsole:off"] + self.extra_args
            + [self.db])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.sock)
                s.close()
                return
            except OSError:
                assert self.proc.poll() is None, f"{exe} exited at start"
                time.sleep(0.02)
        raise RuntimeError(f"{exe} did not start")

    def vsctl(self, *args):
        return subprocess.run(["ovs-vsctl", "--db=unix:" + self.sock, "--no-wait"]
                              + list(args), check=True, capture_output=True,
                              text=True).stdout

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class RawClient:
    """A JSON-RPC client that keeps message boundaries (one JSON per msg)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.buf = ""
        self.dec = json.JSONDecoder()

    def send(self, msg):
        self.s.sendall(json.dumps(msg).encode())

    def recv_all(self, quiet=0.3):
        """Every message that arrives until QUIET seconds pass with none."""
        self.s.settimeout(quiet)
        msgs = []
        while True:
            try:
                data = self.s.recv(1 << 16)
            except socket.timeout:
                break
            if not data:
                break
            self.buf += data.decode()
            while self.buf.strip():
                self.buf = self.buf.lstrip()
                try:
                    obj, end = self.dec.raw_decode(self.buf)
                except ValueError:
                    break
                msgs.append(obj)
                self.buf = self.buf[end:]
        return msgs

    def close(self):
        self.s.close()
