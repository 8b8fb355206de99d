"""The next_cfg -> cur_cfg handshake at scale and across failures: 3,000
ports in one transaction with other clients adding ports at the same time
and a lanyard-dbd restart after; and a cur_cfg write that the database
loses (it dies before committing it), which switchd must make again, or
ovs-vsctl, which reconnects and goes on waiting, waits forever."""
import os
import subprocess
import threading
import time

from switchd_env import BUILD, VSCTL, env, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready

LANYARD_VSCTL = os.path.join(BUILD, "tools", "vsctl", "lanyard-vsctl")


def cfg(env):
    out = env.vsctl("get", "Open_vSwitch", ".", "cur_cfg", "next_cfg",
                    no_wait=True).split()
    return int(out[0]), int(out[1])


def frame(dst, src, mark):
    return dst + src + "88b5" + mark.encode().hex()


def test_3000_ports_one_transaction_concurrent_add_dbd_restart(env):
    br = env.ns("br")
    env.vsctl("add-br", br)
    names = ["%sd%d" % (env.pfx, i) for i in range(3000)]
    args = []
    for n in names:
        args += ["--", "add-port", br, n, "--", "set", "Interface", n,
                 "type=dummy"]
    big = subprocess.Popen([LANYARD_VSCTL, "--db=unix:" + env.sock,
                            "--timeout=60"] + args[1:],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    # Single add-ports from other clients while the big one commits and
    # switchd applies it (each waits for cur_cfg too).
    singles = []

    def add_single(n):
        time.sleep(0.05 * n)
        name = env.ns("s%d" % n)
        singles.append(subprocess.run(
            [VSCTL, "--db=unix:" + env.sock, "--timeout=60", "add-port", br,
             name, "--", "set", "Interface", name, "type=dummy"],
            capture_output=True, text=True, timeout=70))
    threads = [threading.Thread(target=add_single, args=(n,))
               for n in range(3)]
    for t in threads:
        t.start()
    out, err = big.communicate(timeout=70)
    for t in threads:
        t.join()
    assert big.returncode == 0, err
    assert all(r.returncode == 0 for r in singles), [r.stderr for r in singles]
    cur, nxt = cfg(env)
    assert cur == nxt
    # The database restarts; switchd follows and still answers next_cfg.
    env.kill("dbd")
    env.start_dbd()
    env.vsctl("add-port", br, env.ns("late"), "--", "set", "Interface",
              env.ns("late"), "type=dummy", timeout=40)
    cur, nxt = cfg(env)
    assert cur == nxt
    for n in (names[0], names[-1], env.ns("s2"), env.ns("late")):
        assert int(env.get("Interface", n, "ofport")) > 0, n
    # The first and the last of the 3,000 forward to each other: B's
    # address is learned from a broadcast, then A's unicast reaches B.
    a, b = names[0], names[-1]
    mac_a, mac_b = "020000000a01", "020000000b02"
    env.appctl("netdev-dummy/receive", b, frame("ff" * 6, mac_b, "hello"))
    env.appctl("netdev-dummy/pop", b)
    env.appctl("netdev-dummy/receive", a, frame(mac_b, mac_a, "scale"))
    # (The bridge's own port may flood IPv6 chatter to B meanwhile.)
    got = []

    def delivered():
        got.extend(env.appctl("netdev-dummy/pop", b).split())
        return any(f == frame(mac_b, mac_a, "scale") for f in got)
    assert wait_for(delivered, 5), got


def test_lost_cur_cfg_write_is_made_again(env):
    """switchd frozen while ovs-vsctl commits a change, the database frozen
    before it reads switchd's cur_cfg write, killed, restarted: ovs-vsctl
    reconnects and must see cur_cfg reach its next_cfg."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    _, before = cfg(env)
    os.kill(env.pid("switchd"), 19)             # SIGSTOP
    name = env.ns("p")
    waiter = subprocess.Popen(
        [VSCTL, "--db=unix:" + env.sock, "--timeout=30", "add-port", br,
         name, "--", "set", "Interface", name, "type=dummy"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: cfg(env)[1] > before, 10)
        dbd = env.pid("dbd")
        os.kill(dbd, 19)
        os.kill(env.pid("switchd"), 18)         # SIGCONT: writes cur_cfg
        time.sleep(0.5)                         # into the frozen socket
        env.kill("dbd", 9)
    finally:
        os.kill(env.pid("switchd"), 18)
    os.unlink(env.sock)                         # SIGKILL left it behind
    env.start_dbd()
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0, err
    cur, nxt = cfg(env)
    assert cur == nxt
    assert int(env.get("Interface", name, "ofport")) > 0
