"""Forwarding threads sleep in poll() on the fds of the ports they poll,
taken from the current snapshot each time they go to sleep (dp-thread.c).

With --threads=2, dummy ports are added, removed and added again (the new
ones land on either thread), and after each change every port must wake
its thread: a frame injected once the threads have gone to sleep must be
flooded within a fraction of a second.  A port missing from what its
thread sleeps on would be served only by the 1 s timeout, so frames sent
one after the other would each wait most of a second."""
import os
import re
import time

import pytest
from scapy.all import Ether, Raw

from switchd_env import (APPCTL, SWITCHD, SwitchEnv, sh, skip_unless_ready,
                         wait_for)

pytestmark = skip_unless_ready

# Well under the 1 s sleep timeout, well over a wake-up plus two appctl
# calls on a loaded machine.
MAX_LATENCY = 0.6


class ThreadsEnv(SwitchEnv):
    def start_switchd(self):
        sh(SWITCHD, "--threads=2", "--unixctl=" + self.swctl,
           "--log-file=" + self._log("switchd"),
           "--pidfile=" + self._pid("switchd"), "--detach", "-vconsole:off",
           "unix:" + self.sock)
        assert wait_for(lambda: os.path.exists(self.swctl), 5)


@pytest.fixture
def tenv():
    e = ThreadsEnv()
    try:
        e.start()
        yield e
    finally:
        problems, kept = e.teardown()
    if problems:
        pytest.fail("daemon problems (logs kept in %s):\n%s"
                    % (kept, "\n".join(problems)))


def ctl(env, *args):
    return sh(APPCTL, "-t", env.swctl, *args).stdout


def add_ports(env, br, names):
    args = []
    for n in names:
        args += ["--", "add-port", br, n, "--", "set", "interface", n,
                 "type=dummy"]
    env.vsctl(*args[1:])


def latency(env, src, sink, seq):
    """Seconds from injecting a broadcast on SRC until SINK has sent it."""
    mark = b"lanyard-threads-%d" % seq
    frame = Ether(src="02:d1:00:00:00:%02x" % (seq % 256),
                  dst="ff:ff:ff:ff:ff:ff", type=0x88b5) / Raw(mark)
    time.sleep(0.05)            # Far past the 50 us spin: both threads sleep.
    t0 = time.monotonic()
    ctl(env, "netdev-dummy/receive", src, bytes(frame).hex())
    found = wait_for(lambda: mark.hex() in ctl(env, "netdev-dummy/pop", sink),
                     3, 0.005)
    assert found, "frame from %s never reached %s" % (src, sink)
    return time.monotonic() - t0


def threads_of(env, ports):
    """Forwarding thread of each of PORTS (dpif-netdev/pmd-rxq-show)."""
    where, core = {}, None
    for line in ctl(env, "dpif-netdev/pmd-rxq-show").splitlines():
        m = re.match(r"pmd thread numa_id 0 core_id (\d+):", line)
        if m:
            core = int(m.group(1))
        m = re.match(r"\s+port: (\S+)", line)
        if m and m.group(1) in ports:
            where[m.group(1)] = core
    return where


def check_all(env, ports, seq):
    where = threads_of(env, ports)
    assert set(where) == set(ports) and set(where.values()) == {0, 1}, where
    slow = {}
    for i, p in enumerate(ports):
        sink = ports[(i + 1) % len(ports)]
        dt = latency(env, p, sink, seq + i)
        if dt > MAX_LATENCY:
            slow[p] = round(dt, 3)
    assert not slow, "ports that did not wake their thread: %s" % slow


def test_ports_wake_their_thread_after_changes(tenv):
    env = tenv
    br = env.ns("br")
    env.vsctl("add-br", br)
    first = ["th%d" % i for i in range(6)]
    add_ports(env, br, first)
    check_all(env, first, 0)

    # Remove ports from both threads, keeping one at least on each (the
    # last of each thread's list moves into the hole), then add new ones:
    # they fill the emptier thread.  Which port went to which thread
    # depends on the order switchd met them in, so ask.
    by_thread = {0: [], 1: []}
    for port, core in sorted(threads_of(env, first).items()):
        by_thread[core].append(port)
    assert all(len(v) >= 2 for v in by_thread.values()), by_thread
    gone = by_thread[0][:2] + by_thread[1][:1]
    args = []
    for p in gone:
        args += ["--", "del-port", br, p]
    env.vsctl(*args[1:])
    left = [p for p in first if p not in gone]
    check_all(env, left, 100)
    new = ["tn%d" % i for i in range(4)]
    add_ports(env, br, new)
    check_all(env, left + new, 200)

    # One at a time, as switchd sees most changes.
    for i in range(3):
        env.vsctl("add-port", br, "tm%d" % i, "--", "set", "interface",
                  "tm%d" % i, "type=dummy")
        env.vsctl("del-port", br, new[i])
    check_all(env, left + [new[3]] + ["tm%d" % i for i in range(3)], 300)
