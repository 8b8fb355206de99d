"""lanyard-switchd scale benchmark (root; Debian's /usr/bin/python3).

Measures, in one run on whatever else the machine is doing:
  1. idle CPU of lanyard-switchd (all threads, from schedstat) with
     no ports, then with 1,000 internal ports (1,000 TAP devices the
     switch polls), added in one transaction;
  2. how long that 1,000-port transaction takes until vsctl returns
     (it waits for cur_cfg, i.e. until the ports are live);
  3. the time of one `add-port` (lanyard-vsctl unless VSCTL= says otherwise) (waiting for cur_cfg) and the
     CPU switchd's control thread, and the whole process (all threads,
     schedstat), spend on it, as port ~10, ~1,000 and
     ~9,000 of a bridge (the most this machine's descriptor limit allows) (dummy ports, so the kernel's device creation cost
     is not part of it); medians of several; also the bytes the datapath
     copied into its forwarding snapshot per add (coverage/show
     dp_snapshot_bytes).
The switch runs in a namespace of its own with IPv6 disabled: otherwise
every new TAP sends IPv6 router solicitations and MLD reports, which the
switch (like any switch) floods to every other port, and 1,000 ports turn
that into a storm of n^2 frames that says nothing about the switch.
Prints a table; nothing is kept."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
QUICK = "--quick" in sys.argv
DBD = os.path.join(BUILD, "dbd", "lanyard-dbd")
SWITCHD = os.path.join(BUILD, "switchd", "lanyard-switchd")
# lanyard-vsctl by default (it fetches only what add-port needs, so the wall
# time shows the switch's own cost); VSCTL=/usr/bin/ovs-vsctl measures with
# Open vSwitch's tool, which reads the whole database on every call.
VSCTL = os.environ.get("VSCTL") or os.path.join(BUILD, "tools", "vsctl",
                                                "lanyard-vsctl")
APPCTL = os.path.join(BUILD, "tools", "appctl", "lanyard-appctl")


def run(*args, timeout=600):
    return subprocess.run(args, check=True, capture_output=True, text=True,
                          timeout=timeout).stdout


class Switch:
    def __init__(self, netns):
        self.netns = netns
        run("ip", "netns", "add", netns)
        for key in ("all", "default"):
            run("ip", "netns", "exec", netns, "sysctl", "-qw",
                "net.ipv6.conf.%s.disable_ipv6=1" % key)
        self.dir = tempfile.mkdtemp(prefix="lswbench-")
        self.sock = os.path.join(self.dir, "db.sock")
        run(DBD, "--remote=punix:" + self.sock, "--detach", "-vconsole:off",
            "--pidfile=%s/dbd.pid" % self.dir, "--log-file=%s/dbd.log" % self.dir,
            "--unixctl=%s/dbd.ctl" % self.dir, os.path.join(self.dir, "conf.db"))
        while not os.path.exists(self.sock):
            time.sleep(0.05)
        self.vsctl("--no-wait", "init")
        run("ip", "netns", "exec", self.netns, SWITCHD, "--detach", "-vconsole:off", "-vfile:info",
            "--pidfile=%s/switchd.pid" % self.dir,
            "--log-file=%s/switchd.log" % self.dir,
            "--unixctl=%s/switchd.ctl" % self.dir, "unix:" + self.sock)
        self.pid = int(open("%s/switchd.pid" % self.dir).read())

    def vsctl(self, *args):
        return run(VSCTL, "--db=unix:" + self.sock, "--timeout=600", *args)

    def control_cpu_ns(self):
        """CPU time of switchd's control thread (the main thread, which
        runs the replica and reconciliation), in ns."""
        with open("/proc/%d/task/%d/schedstat" % (self.pid, self.pid)) as f:
            return int(f.read().split()[0])

    def cpu_ns(self):
        """CPU time of every switchd thread (schedstat: ns, not ticks)."""
        total = 0
        for tid in os.listdir("/proc/%d/task" % self.pid):
            with open("/proc/%d/task/%s/schedstat" % (self.pid, tid)) as f:
                total += int(f.read().split()[0])
        return total

    def idle_cpu(self, secs):
        t0, c0 = time.monotonic(), self.cpu_ns()
        time.sleep(secs)
        t1, c1 = time.monotonic(), self.cpu_ns()
        return 100.0 * (c1 - c0) / 1e9 / (t1 - t0)

    def stop(self):
        for name in ("switchd", "dbd"):
            try:
                pid = int(open("%s/%s.pid" % (self.dir, name)).read())
                os.kill(pid, 15)
                for _ in range(100):
                    if not os.path.exists("/proc/%d" % pid):
                        break
                    time.sleep(0.05)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", self.netns], check=False)


def add_ports_cmd(br, names, kind):
    args = []
    for n in names:
        args += ["--", "add-port", br, n, "--", "set", "Interface", n,
                 "type=" + kind]
    return args


def timed_add(sw, br, name, wait=True):
    t0 = time.monotonic()
    sw.vsctl(*([] if wait else ["--no-wait"]), "add-port", br, name, "--",
             "set", "Interface", name, "type=dummy")
    return (time.monotonic() - t0) * 1000


def snapshot_bytes(sw):
    out = run(APPCTL, "-t",
              "%s/switchd.ctl" % sw.dir, "coverage/show")
    for line in out.splitlines():
        if line.startswith("dp_snapshot_bytes"):
            return int(line.split()[-1])
    return 0


def add_costs(sw, br, tag, reps):
    """Medians of one add-port: wall ms until vsctl returns (it waits until
    the port is live), the same with --no-wait (the client and the database
    alone; with ovs-vsctl, which reads the whole database, this part grows
    with the port count whatever the switch does), the CPU ms switchd's
    control thread spent on it, and the CPU ms of the whole process (every
    thread: the forwarding threads woken by the change too)."""
    waited, nowait, cpu, snap, pcpu = [], [], [], [], []
    for r in range(reps):
        for wait, out in ((True, waited), (False, nowait)):
            name = "%s%s%d" % (tag, "w" if wait else "n", r)
            # The coverage/show reads are switchd's work too: outside the
            # CPU window.
            b0 = snapshot_bytes(sw) if wait else 0
            c0, p0 = sw.control_cpu_ns(), sw.cpu_ns()
            out.append(timed_add(sw, br, name, wait))
            if wait:
                time.sleep(0.05)     # status write-back finishes
                cpu.append((sw.control_cpu_ns() - c0) / 1e6)
                pcpu.append((sw.cpu_ns() - p0) / 1e6)
                snap.append(snapshot_bytes(sw) - b0)
            sw.vsctl("del-port", br, name)
    return (statistics.median(waited), statistics.median(nowait),
            statistics.median(cpu), statistics.median(snap),
            statistics.median(pcpu))


def main():
    idle_secs = 5 if QUICK else 20
    # A dummy port holds two eventfds; this machine's hard limit of 20,000
    # descriptors (not raisable in its container) leaves room for ~9,950.
    big = 2000 if QUICK else 9000
    reps = 3 if QUICK else 7
    pfx = "lsb%04x" % (os.getpid() & 0xffff)
    sw = Switch(pfx)
    res = {}
    try:
        sw.vsctl("add-br", pfx + "b")
        time.sleep(2)
        res["idle0"] = sw.idle_cpu(idle_secs)
        names = ["%st%d" % (pfx, i) for i in range(1000)]
        t0 = time.monotonic()
        sw.vsctl(*add_ports_cmd(pfx + "b", names, "internal")[1:])
        res["add1000"] = time.monotonic() - t0
        time.sleep(6)            # past one 5 s status/statistics round
        res["idle1000"] = sw.idle_cpu(idle_secs)
        sw.vsctl("del-br", pfx + "b")

        # Port 10 vs port N (dummy ports) on a fresh bridge.
        br = pfx + "d"
        sw.vsctl("add-br", br)
        sw.vsctl(*add_ports_cmd(br, ["%sd%d" % (pfx, i) for i in range(8)],
                                "dummy")[1:])
        done = 8
        res["sizes"] = []
        for size in (10, 1000, big):
            while done < size - 2:
                n = min(1000, size - 2 - done)
                sw.vsctl(*add_ports_cmd(br, ["%sd%d" % (pfx, i)
                                             for i in range(done, done + n)],
                                        "dummy")[1:])
                done += n
            res["sizes"].append((done + 2, add_costs(sw, br, "%s%d_" % (pfx, size), reps)))
    finally:
        sw.stop()
    print("lanyard-switchd scale (shared 2-core machine; medians of %d)" % reps)
    print("  idle CPU, 0 ports:             %6.2f %%" % res["idle0"])
    print("  idle CPU, 1,000 internal ports: %6.2f %%" % res["idle1000"])
    print("  add 1,000 internal ports in one transaction: %.2f s" % res["add1000"])
    print("  one add-port: wall ms (waits until live) / wall ms with "
          "--no-wait / switchd control-thread CPU ms / snapshot bytes / "
          "whole switchd CPU ms (all threads):")
    for no, (wall, nowait, cpu, snap, pcpu) in res["sizes"]:
        print("    as port %-6d %8.1f  %8.1f  %6.2f  %9d  %6.2f"
              % (no, wall, nowait, cpu, snap, pcpu))
    (n0, first), (n1, last) = res["sizes"][0], res["sizes"][-1]
    print("    ratio port %d / port %d: wall %.1f, control-thread CPU %.2f, "
          "whole switchd CPU %.2f"
          % (n1, n0, last[0] / first[0], last[2] / max(first[2], 1e-3),
             last[4] / max(first[4], 1e-3)))


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("bench/switchd: needs root")
    main()
