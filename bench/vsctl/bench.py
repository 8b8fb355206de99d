#!/usr/bin/python3
"""lanyard-vsctl + lanyard-dbd against ovs-vsctl + ovsdb-server, one run.

  /usr/bin/python3 bench/vsctl/bench.py BUILD_DIR [--quick] [--runs=N]
                                        [--dir=DIR]

For every (client, server) pair -- ovs/ovs, lanyard/lanyard and the two
cross pairs -- it measures, as wall time and as CPU time of the client plus
the server (the CPU figure is what stays meaningful when other jobs load
the machine):
  1. one process per command: the wall time of `ovs-vsctl --no-wait
     add-port br0 pK` on a bridge that already has N ports, N = 10, 1,000
     and 10,000 (median of --runs calls; each call adds a new port);
  2. one invocation that adds 1,000 ports (`add-port br0 q0 -- add-port br0
     q1 -- ...`) to a bridge with 10 ports (median of 3).
The N-port databases are built directly with one big OVSDB transaction
(not N tool calls).  Pairs are interleaved call by call so that load from
other processes on the machine hits every pair alike.  Both tools are run
under the name ovs-vsctl (lanyard-vsctl through a symlink).

The servers' database files live under DIR (default: the system temporary
directory).  lanyard-dbd makes every commit durable before it replies
(fdatasync) and ovsdb-server does not, so on a slow disk the lanyard
figures include the disk's sync latency; --dir=/dev/shm takes the disk out.
"""

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "vsctl"))

import vsctl_harness as h  # noqa: E402


def build_bridge(server, n_ports):
    """Empty database, then br0 (with its local port) and N ports in one
    transaction."""
    server.reset()
    ops = [{"op": "insert", "table": "Open_vSwitch", "row": {
        "bridges": ["named-uuid", "br"]}}]
    names = ["br0"] + ["p%d" % i for i in range(n_ports)]
    for i, name in enumerate(names):
        row = {"name": name}
        if name == "br0":
            row["type"] = "internal"
        ops.append({"op": "insert", "table": "Interface",
                    "uuid-name": "i%d" % i, "row": row})
        ops.append({"op": "insert", "table": "Port", "uuid-name": "p%d" % i,
                    "row": {"name": name,
                            "interfaces": ["named-uuid", "i%d" % i]}})
    ops.append({"op": "insert", "table": "Bridge", "uuid-name": "br",
                "row": {"name": "br0", "ports": ["set", [
                    ["named-uuid", "p%d" % i] for i in range(len(names))]]}})
    server.rpc.transact(*ops)


def server_cpu(server):
    """User+system CPU seconds the server process has used so far."""
    with open("/proc/%d/stat" % server.proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(bindir, server, rundir, args):
    """(wall seconds, client CPU seconds) of one call."""
    env = h.tool_env(rundir, path_prefix=bindir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run(["ovs-vsctl", "--db=" + server.remote, "--no-wait"]
                       + args, capture_output=True, text=True, env=env,
                       timeout=600)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit("ovs-vsctl %s failed: %s" % (args[:3], p.stderr))
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime
           - before.ru_stime)
    return elapsed, cpu


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    runs = 5 if quick else 15
    base = None
    for a in sys.argv[1:]:
        if a.startswith("--runs="):
            runs = int(a[7:])
        elif a.startswith("--dir="):
            base = a[6:]
    build = os.path.abspath(args[0]) if args else h.BUILD
    os.environ["LANYARD_BUILD"] = build
    h.BUILD = build
    h.DBD = os.path.join(build, "dbd", "lanyard-dbd")
    h.LANYARD_VSCTL = os.path.join(build, "tools", "vsctl", "lanyard-vsctl")
    h.LANYARD_APPCTL = os.path.join(build, "tools", "appctl",
                                    "lanyard-appctl")

    work = tempfile.mkdtemp(prefix="lanyard-bench-vsctl-", dir=base)
    servers = {}
    try:
        lanyard_bin = h.install_names(os.path.join(work, "prefix"))
        bins = {"ovs": h.real_ovs_bin(work), "lanyard": lanyard_bin}
        rundir = os.path.join(work, "run")
        os.makedirs(rundir)
        pairs = [("ovs", "ovs"), ("lanyard", "lanyard"),
                 ("ovs", "lanyard"), ("lanyard", "ovs")]
        # One server per pair, so that one pair's writes (ovs-vsctl
        # rewrites the whole Bridge.ports set) do not load another pair's
        # server log.
        for client, impl in pairs:
            d = os.path.join(work, "%s-vsctl-%s-db" % (client, impl))
            os.makedirs(d)
            servers[(client, impl)] = h.DbServer(impl, d).start()
        sizes = [10, 1000] if quick else [10, 1000, 10000]
        results = {}
        for n in sizes:
            for server in servers.values():
                build_bridge(server, n)
            samples = {p: [] for p in pairs}
            cpu0 = {p: server_cpu(servers[p]) for p in pairs}
            for k in range(runs):
                for p in pairs:
                    samples[p].append(timed(
                        bins[p[0]], servers[p], rundir,
                        ["add-port", "br0", "n%d-%d" % (n, k)]))
            for p in pairs:
                results[("add-port", n, p)] = summarise(
                    samples[p], server_cpu(servers[p]) - cpu0[p])

        batch = 200 if quick else 1000
        samples = {p: [] for p in pairs}
        server_time = {p: 0.0 for p in pairs}
        argv = []
        for i in range(batch):
            argv += ["--", "add-port", "br0", "q%d" % i]
        for _ in range(3):
            for p in pairs:
                build_bridge(servers[p], 10)
                cpu0 = server_cpu(servers[p])
                samples[p].append(timed(bins[p[0]], servers[p], rundir,
                                        argv[1:]))
                server_time[p] += server_cpu(servers[p]) - cpu0
        for p in pairs:
            results[("batch", batch, p)] = summarise(samples[p],
                                                     server_time[p])
        report(results, sizes, batch, pairs, runs,
               base or tempfile.gettempdir())
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


def summarise(samples, server_seconds):
    """(median wall, median client CPU + mean server CPU) per call.  The
    server's CPU is read from /proc in clock ticks (10 ms), too coarse for
    one call, so it is averaged over all calls of the pair."""
    return (statistics.median(w for w, _ in samples),
            statistics.median(c for _, c in samples)
            + server_seconds / len(samples))


def report(results, sizes, batch, pairs, runs, base_dir):
    def ms(v):
        return "%9.1f" % (v * 1000)

    names = ["%s-vsctl/%s-db" % p for p in pairs]
    rows = [("add-port, %d ports, 1 process, %d runs" % (n, runs),
             ("add-port", n)) for n in sizes]
    rows.append(("%d add-ports in 1 invocation (3 runs)" % batch,
                 ("batch", batch)))
    for index, what in ((0, "wall ms, median"),
                        (1, "CPU ms, client (median) + server (mean)")):
        print("lanyard-vsctl benchmark: %s (machine shared, %d cores, "
              "load average %.1f; databases in %s)"
              % (what, os.cpu_count(), os.getloadavg()[0], base_dir))
        print("%-38s" % "" + "".join("%26s" % n for n in names)
              + "   ovs/lanyard")
        for label, key in rows:
            vals = [results[key + (p,)][index] for p in pairs]
            ratio = vals[0] / vals[1] if vals[1] else float("inf")
            print("%-38s" % label + "".join("%26s" % ms(v) for v in vals)
                  + "%13.1fx" % ratio)
        flat = results[("add-port", sizes[-1], pairs[1])][index] / \
            results[("add-port", sizes[0], pairs[1])][index]
        print("lanyard add-port at %d ports / at %d ports: %.2f\n"
              % (sizes[-1], sizes[0], flat))


if __name__ == "__main__":
    main()
