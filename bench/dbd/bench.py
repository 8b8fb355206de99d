#!/usr/bin/python3
"""Control-plane benchmark: lanyard-dbd vs the real ovsdb-server, same run.

  /usr/bin/python3 bench/dbd/bench.py BUILD_DIR [--quick] [--repeat=N] [--tmpfs]

Measures, for each server:
  1. pipelined transactions/s (20,000 one-row inserts, 64 in flight), and
     the server's CPU time per transaction (independent of disk latency:
     lanyard-dbd fdatasyncs every batch before replying, ovsdb-server does
     not, so the fdatasync latency of the disk, measured and printed first,
     bounds lanyard-dbd's rate at 64 transactions per fdatasync);
  2. cost of adding one port to a bridge that already has N ports
     (N = 10 / 1,000 / 10,000), done the way ovs-vsctl does it: the whole
     Bridge.ports set is rewritten.  Timed both on the wire (one transact)
     and end to end with the real `ovs-vsctl add-port` (which first reads
     the whole configuration); and the narrow way, one "mutate" that
     inserts the new port into Bridge.ports, whose cost should not depend
     on N;
  3. monitor fan-out: one writer, 50 monitor_cond clients, time until all
     50 have the update (median and max over repeats);
  4. memory per row: server RSS growth after inserting 10,000 rows.

The client is Python; its own CPU time is reported next to the wall time of
the throughput test so that a client-bound figure is visible as such.
With --repeat=N the whole run (fresh servers each time) is done N times and
the median of each metric is shown.  With --tmpfs both databases live in
/dev/shm, where fdatasync costs nothing: the figures then measure the
servers themselves, not the disk (on a shared machine the disk's flush
latency swings between 0.05 and 4 ms from one minute to the next).
"""

import json
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class Rpc:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock.connect(path)
                break
            except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.buf = ""
        self.dec = json.JSONDecoder()
        self.next_id = 0
        self.pending = []

    def close(self):
        self.sock.close()

    def send(self, method, params, id=None):
        if id is None:
            id = self.next_id
            self.next_id += 1
        self.sock.sendall(json.dumps({"method": method, "params": params,
                                      "id": id}).encode())
        return id

    def feed(self, data):
        self.buf += data.decode()
        out = []
        while True:
            s = self.buf.lstrip()
            if not s:
                self.buf = ""
                break
            try:
                msg, end = self.dec.raw_decode(s)
            except json.JSONDecodeError:
                self.buf = s
                break
            self.buf = s[end:]
            out.append(msg)
        return out

    def recv(self):
        while not self.pending:
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError("server closed the connection")
            self.pending.extend(self.feed(data))
        return self.pending.pop(0)

    def call(self, method, params):
        id = self.send(method, params)
        while True:
            msg = self.recv()
            if msg.get("id") == id and "method" not in msg:
                if msg.get("error") is not None:
                    raise RuntimeError("%s failed: %r" % (method, msg))
                return msg["result"]

    def transact(self, *ops):
        res = self.call("transact", ["Open_vSwitch"] + list(ops))
        for r in res:
            if r is not None and "error" in r:
                raise RuntimeError("transaction failed: %r" % res)
        return res


class Server:
    def __init__(self, impl, build, workdir):
        self.impl = impl
        self.dir = os.path.join(workdir, impl)
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "db.sock")
        self.db = os.path.join(self.dir, "conf.db")
        if impl == "ovs":
            subprocess.run(["ovsdb-tool", "create", self.db, SCHEMA], check=True)
            binary = shutil.which("ovsdb-server") or "/usr/sbin/ovsdb-server"
        else:
            binary = os.path.join(build, "dbd", "lanyard-dbd")
        self.log = open(os.path.join(self.dir, "stderr"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--remote=punix:" + self.sock,
             "--unixctl=" + os.path.join(self.dir, "ctl"),
             "--log-file=" + os.path.join(self.dir, "log"), self.db],
            stdout=self.log, stderr=self.log, cwd=self.dir)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at startup" % impl)
            try:
                c = Rpc(self.sock)
                c.call("list_dbs", [])
                c.close()
                break
            except (OSError, EOFError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        c = Rpc(self.sock)
        c.transact({"op": "insert", "table": "Open_vSwitch", "row": {}})
        c.close()

    def cpu_seconds(self):
        """On-CPU time of all the server's threads, from the scheduler's
        nanosecond accounting (clock ticks are too coarse for one
        transaction)."""
        total = 0
        task_dir = "/proc/%d/task" % self.proc.pid
        for tid in os.listdir(task_dir):
            with open(os.path.join(task_dir, tid, "schedstat")) as f:
                total += int(f.read().split()[0])
        return total / 1e9

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bench_pipelined(srv, n, window):
    c = Rpc(srv.sock)
    # Requests are encoded before the clock starts and replies are only
    # split, not fully checked, while timing: the client must not be the
    # bottleneck.  Every reply is checked afterwards.
    reqs = [json.dumps({"method": "transact", "id": i, "params": [
        "Open_vSwitch", {"op": "insert", "table": "Queue",
                         "row": {"dscp": i % 64}}]}).encode()
            for i in range(n)]
    replies = []
    t0 = time.monotonic()
    c0 = cpu_self()
    s0 = srv.cpu_seconds()
    sent = 0
    while len(replies) < n:
        if sent < n and sent - len(replies) < window:
            k = min(n, len(replies) + window)
            c.sock.sendall(b"".join(reqs[sent:k]))
            sent = k
        data = c.sock.recv(1 << 20)
        if not data:
            raise EOFError("server closed the connection")
        replies.extend(c.feed(data))
    wall = time.monotonic() - t0
    client_cpu = cpu_self() - c0
    server_cpu = srv.cpu_seconds() - s0
    bad = [r for r in replies if r.get("error") is not None
           or "uuid" not in (r.get("result") or [{}])[0]]
    if bad or sorted(r["id"] for r in replies) != list(range(n)):
        raise RuntimeError("bad transact replies, e.g. %r" % bad[:3])
    c.transact({"op": "delete", "table": "Queue", "where": []})
    c.close()
    return n / wall, client_cpu / wall, server_cpu / wall, server_cpu / n


def bridge_with_ports(srv, name, n):
    """One transaction: a bridge with n ports (plus its local port)."""
    c = Rpc(srv.sock)
    ops = []
    refs = []
    for i in range(n):
        pname = "%s-p%d" % (name, i)
        ops.append({"op": "insert", "table": "Interface", "uuid-name": "i%d" % i,
                    "row": {"name": pname}})
        ops.append({"op": "insert", "table": "Port", "uuid-name": "p%d" % i,
                    "row": {"name": pname,
                            "interfaces": ["named-uuid", "i%d" % i]}})
        refs.append(["named-uuid", "p%d" % i])
    ops.append({"op": "insert", "table": "Bridge", "uuid-name": "br",
                "row": {"name": name, "ports": ["set", refs]}})
    ops.append({"op": "mutate", "table": "Open_vSwitch", "where": [],
                "mutations": [["bridges", "insert", ["named-uuid", "br"]]]})
    c.transact(*ops)
    c.close()


def add_one_port_wire(srv, name, tag):
    """The ovs-vsctl transaction shape: verify, insert Interface+Port,
    rewrite Bridge.ports with every member plus the new one."""
    c = Rpc(srv.sock)
    res = c.transact({"op": "select", "table": "Bridge",
                      "where": [["name", "==", name]],
                      "columns": ["_uuid", "ports"]})
    row = res[0]["rows"][0]
    ports = row["ports"]
    members = ports[1] if ports[0] == "set" else [ports]
    pname = "%s-new%s" % (name, tag)
    t0 = time.monotonic()
    c.transact(
        {"op": "wait", "table": "Bridge", "timeout": 0,
         "where": [["_uuid", "==", row["_uuid"]]], "columns": ["ports"],
         "until": "==", "rows": [{"ports": ports}]},
        {"op": "insert", "table": "Interface", "uuid-name": "ni",
         "row": {"name": pname}},
        {"op": "insert", "table": "Port", "uuid-name": "np",
         "row": {"name": pname, "interfaces": ["named-uuid", "ni"]}},
        {"op": "update", "table": "Bridge",
         "where": [["_uuid", "==", row["_uuid"]]],
         "row": {"ports": ["set", members + [["named-uuid", "np"]]]}})
    dt = time.monotonic() - t0
    c.close()
    return dt


def add_ports_mutate(srv, name, tag, n):
    """The narrow transaction, N times: insert Interface+Port, then one
    "mutate" that inserts the new port into Bridge.ports.  Returns the
    median wall time and the server's mean CPU time per transaction."""
    c = Rpc(srv.sock)
    times = []
    cpu0 = srv.cpu_seconds()
    for k in range(n):
        pname = "%s-mu%s-%d" % (name, tag, k)
        t0 = time.monotonic()
        c.transact(
            {"op": "insert", "table": "Interface", "uuid-name": "ni",
             "row": {"name": pname}},
            {"op": "insert", "table": "Port", "uuid-name": "np",
             "row": {"name": pname, "interfaces": ["named-uuid", "ni"]}},
            {"op": "mutate", "table": "Bridge",
             "where": [["name", "==", name]],
             "mutations": [["ports", "insert",
                            ["set", [["named-uuid", "np"]]]]]})
        times.append(time.monotonic() - t0)
    cpu = (srv.cpu_seconds() - cpu0) / n
    c.close()
    return statistics.median(times), cpu


def fsync_latency(workdir, n=50):
    """Median fdatasync time of a small append on the benchmark's disk."""
    path = os.path.join(workdir, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(n):
            os.write(fd, b"x" * 200)
            t0 = time.monotonic()
            os.fdatasync(fd)
            times.append(time.monotonic() - t0)
    finally:
        os.close(fd)
        os.unlink(path)
    return statistics.median(times)


def add_one_port_vsctl(srv, name, tag):
    pname = "%s-vs%s" % (name, tag)
    t0 = time.monotonic()
    subprocess.run(["ovs-vsctl", "--db=unix:" + srv.sock, "--no-wait",
                    "--timeout=120", "add-port", name, pname],
                   check=True, capture_output=True)
    return time.monotonic() - t0


def bench_fanout(srv, n_mon, repeats):
    mons = []
    sel = selectors.DefaultSelector()
    for i in range(n_mon):
        m = Rpc(srv.sock)
        m.call("monitor_cond", ["Open_vSwitch", "m",
                                {"Queue": [{"columns": ["dscp"]}]}])
        mons.append(m)
        sel.register(m.sock, selectors.EVENT_READ, m)
    w = Rpc(srv.sock)
    uuid = w.transact({"op": "insert", "table": "Queue",
                       "row": {"dscp": 0}})[0]["uuid"]
    # drain the insert notification everywhere
    _wait_all(sel, mons, lambda msg: msg.get("method") == "update2")
    lat = []
    for r in range(repeats):
        val = (r % 62) + 1
        t0 = time.monotonic()
        w.send("transact", ["Open_vSwitch",
                            {"op": "update", "table": "Queue",
                             "where": [["_uuid", "==", uuid]],
                             "row": {"dscp": val}}])
        _wait_all(sel, mons, lambda msg: msg.get("method") == "update2")
        lat.append(time.monotonic() - t0)
        w.recv()
    for m in mons:
        m.close()
    w.transact({"op": "delete", "table": "Queue", "where": []})
    w.close()
    sel.close()
    return statistics.median(lat), max(lat)


def _wait_all(sel, mons, pred):
    waiting = set(id(m) for m in mons)
    for m in mons:
        while m.pending:
            if pred(m.pending.pop(0)):
                waiting.discard(id(m))
    deadline = time.monotonic() + 30
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError("%d monitors never got the update" % len(waiting))
        for key, _ in sel.select(1):
            m = key.data
            data = m.sock.recv(1 << 16)
            if not data:
                raise EOFError("monitor connection closed")
            for msg in m.feed(data):
                if pred(msg):
                    waiting.discard(id(m))


def bench_memory(srv, n):
    c = Rpc(srv.sock)
    time.sleep(0.2)
    before = srv.rss_kb()
    batch = 1000
    for b in range(0, n, batch):
        c.transact(*[{"op": "insert", "table": "Queue",
                      "row": {"dscp": i % 64,
                              "external_ids": ["map", [["id", "q%d" % i]]]}}
                     for i in range(b, b + batch)])
    time.sleep(0.2)
    after = srv.rss_kb()
    c.transact({"op": "delete", "table": "Queue", "where": []})
    c.close()
    return (after - before) * 1024.0 / n


def run_all(servers, quick):
    """Every metric is measured on each server in turn, interleaved over
    several rounds, so that load from other jobs on the machine affects
    both columns alike; the best round is reported (worst for max)."""
    res = {impl: {} for impl in servers}

    def put(impl, key, value, best=min):
        prev = res[impl].get(key)
        res[impl][key] = value if prev is None else best(prev, value)

    rounds = 1 if quick else 3
    # Memory first, on fresh servers: later phases leave freed memory in
    # the allocator that would absorb the growth.
    n_rows = 2000 if quick else 10000
    for impl, srv in servers.items():
        put(impl, "RSS bytes/row (%d Queue rows)" % n_rows,
            bench_memory(srv, n_rows))
    n_tx = 5000 if quick else 20000
    for _ in range(rounds):
        for impl, srv in servers.items():
            tps, client_load, server_load, cpu_per_tx = bench_pipelined(
                srv, n_tx, 64)
            key = "tx/s (%d inserts, 64 in flight)" % n_tx
            if tps >= res[impl].get(key, 0):
                res[impl][key] = tps
                res[impl]["  server CPU share during tx/s"] = server_load
                res[impl]["  client CPU share during tx/s"] = client_load
            put(impl, "server CPU us per transaction", 1e6 * cpu_per_tx)
    sizes = [10, 1000] if quick else [10, 1000, 10000]
    for n in sizes:
        name = "b%d" % n
        for srv in servers.values():
            bridge_with_ports(srv, name, n)
        for r in range(rounds):
            for impl, srv in servers.items():
                wire = [add_one_port_wire(srv, name, "%d-%d" % (r, k))
                        for k in range(3)]
                put(impl, "add-port @%d ports, wire ms" % n,
                    1000 * statistics.median(wire))
                put(impl, "add-port @%d ports, ovs-vsctl ms" % n,
                    1000 * add_one_port_vsctl(srv, name, r))
                # One untimed mutate first: cleanup that the preceding
                # big rewrite left to the allocator is not charged to it.
                add_ports_mutate(srv, name, "w%d" % r, 1)
                wall, cpu = add_ports_mutate(srv, name, r, 20)
                put(impl, "add-port @%d ports, mutate ms" % n, 1000 * wall)
                put(impl, "add-port @%d ports, mutate server CPU us" % n,
                    1e6 * cpu)
    for _ in range(rounds):
        for impl, srv in servers.items():
            med, worst = bench_fanout(srv, 50, 10 if quick else 30)
            put(impl, "fan-out 50 monitors, median ms", 1000 * med)
            put(impl, "fan-out 50 monitors, max ms", 1000 * worst)
    return res


HIGHER_IS_BETTER = ("tx/s",)


def fmt(v):
    if v is None:
        return "n/a"
    if v < 1:
        return "%.2f" % v
    if v < 100:
        return "%.1f" % v
    return "%.0f" % v


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "LANYARD_BUILD", "build")
    quick = "--quick" in sys.argv
    repeat = 1
    tmp_base = "/dev/shm" if "--tmpfs" in sys.argv else None
    for arg in sys.argv[2:]:
        if arg.startswith("--repeat="):
            repeat = max(1, int(arg.split("=", 1)[1]))
    dbd = os.path.join(build, "dbd", "lanyard-dbd")
    impls = ["ovs"]
    if os.access(dbd, os.X_OK):
        impls.append("lanyard")
    else:
        print("note: %s not built; showing ovsdb-server only" % dbd)
    runs = []
    fsyncs = []
    for _ in range(repeat):
        work = tempfile.mkdtemp(prefix="lanyard-bench-dbd-", dir=tmp_base)
        try:
            fsyncs.append(fsync_latency(work))
            servers = {}
            try:
                for impl in impls:
                    servers[impl] = Server(impl, build, work)
                runs.append(run_all(servers, quick))
            finally:
                for srv in servers.values():
                    srv.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)
    results = {impl: {k: statistics.median(r[impl][k] for r in runs)
                      for k in runs[0][impl]}
               for impl in runs[0]}

    print("fdatasync latency of the benchmark %s (median per run, ms): %s"
          % ("tmpfs" if tmp_base else "disk",
             ", ".join("%.3f" % (1000 * f) for f in fsyncs)))
    if repeat > 1:
        print("%d runs; each figure is the median of the runs" % repeat)
    keys = list(results["ovs"].keys())
    w = max(len(k) for k in keys)
    print("\nOVSDB control plane (same run, interleaved rounds, best round "
          "shown; ratio = lanyard/ovs)")
    print("%-*s %14s %14s %8s" % (w, "metric", "ovsdb-server", "lanyard-dbd",
                                  "ratio"))
    print("%s %s %s %s" % ("-" * w, "-" * 14, "-" * 14, "-" * 8))
    for k in keys:
        a = results["ovs"][k]
        b = results.get("lanyard", {}).get(k)
        ratio = "n/a" if b is None or not a else "%.2fx" % (b / a)
        print("%-*s %14s %14s %8s" % (w, k, fmt(a), fmt(b), ratio))
    print("(tx/s: higher is better; times and bytes: lower is better; "
          "CPU share = busy fraction of one core during the tx/s run;\n"
          " server share near 1.0 = server-bound, client share near 1.0 = "
          "the Python client was the limit)")


if __name__ == "__main__":
    main()
