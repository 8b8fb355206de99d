"""(i) Daemon restarts: forwarding survives a lanyard-dbd restart and
switchd reconnects by itself; a switchd restart brings the ports back."""
import subprocess
import time

from switchd_env import env, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready


def test_dbd_and_switchd_restart(env):
    br = env.ns("br")
    env.vsctl("add-br", br)
    for name, idx in (("a", 1), ("b", 2)):
        env.add_ns(name, env.ip(idx) + "/24")
        env.vsctl("add-port", br, env.host_if(name))
    assert env.ping_eventually("a", env.ip(2))
    # 300 pings at 10 ms while the database server goes away and comes back.
    flood = subprocess.Popen(
        ["ip", "netns", "exec", env.ns("a"), "ping", "-c", "300", "-i",
         "0.01", "-W", "1", "-q", env.ip(2)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    env.kill("dbd")
    time.sleep(0.5)
    env.start_dbd()
    out, _ = flood.communicate(timeout=30)
    received = int(out.split(" received")[0].split(",")[-1])
    assert received >= 295, out
    # switchd reconnected: a change made now is applied (vsctl waits for it).
    env.vsctl("set", "port", env.host_if("b"), "tag=5")
    assert not env.ping("a", env.ip(2), count=2)
    env.vsctl("remove", "port", env.host_if("b"), "tag", "5")
    assert env.ping("a", env.ip(2), count=2)
    # Restart switchd: ports come back and forward again.  (Port numbers
    # are not kept across the restart yet: the datapath has no way to ask
    # for a given number; see docs/switchd.md, known gaps.)
    env.kill("switchd")
    assert not env.ping("a", env.ip(2), count=1)
    env.start_switchd()
    assert env.ping_eventually("a", env.ip(2), 10)
    assert all(int(env.get("Interface", env.host_if(n), "ofport")) > 0
               for n in "ab")
