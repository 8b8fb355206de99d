"""QoS: ingress policing, egress-policer and linux-htb, end to end.

Two namespaces a and b on one bridge; TCP from a to b with iperf3 (2 s
runs).  A cap must hold the stream near the configured rate (0.5x to
1.5x: TCP over a policer runs somewhat below the rate, and the bucket's
initial burst adds a little) and far below the uncapped rate; removing it
must give the speed back.  Packet-rate policing is checked with a
counted flood of raw frames instead.  The HTB test also builds the same QoS in a
private Open vSwitch 3.1 (netdev datapath) on a veth and compares the
kernel classes both switches configure.

Run as root:  LANYARD_BUILD=build /usr/bin/python3 -m pytest \
              tests/scenarios/test_qos.py
"""
import json
import re
import shutil
import subprocess
import time

import pytest

from switchd_env import PY, env, nsrun, sh, skip_unless_ready, wait_for  # noqa: F401

pytestmark = skip_unless_ready + [
    pytest.mark.skipif(shutil.which("iperf3") is None,
                       reason="iperf3 not installed")]

CAP = 10e6              # bit/s used by every cap below
FAST = 200e6            # "uncapped": the switch does > 0.5 Gbit/s


def two_ports(env):
    br = env.ns("br")
    env.vsctl("add-br", br)
    for name, idx in (("a", 1), ("b", 2)):
        env.add_ns(name, env.ip(idx) + "/24")
        env.vsctl("add-port", br, env.host_if(name))
    assert env.ping_eventually("a", env.ip(2))
    return br


def tcp_rate(env, secs=2):
    """TCP bits/s from a to b, as the receiver counted them."""
    srv = subprocess.Popen(["ip", "netns", "exec", env.ns("b"), "iperf3",
                            "-s", "-1"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        r = nsrun(env.ns("a"), "iperf3", "-c", env.ip(2), "-t", str(secs),
                  "-J", timeout=30, check=False)
        return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
    finally:
        srv.kill()
        srv.wait()


def assert_capped(bps):
    assert 0.5 * CAP <= bps <= 1.5 * CAP, "%.1f Mbit/s" % (bps / 1e6)


def test_ingress_policing(env):
    """ingress_policing_rate on a's port (what a sends into the switch)."""
    two_ports(env)
    port = env.host_if("a")
    env.vsctl("set", "interface", port, "ingress_policing_rate=%d" % (CAP / 1000),
              "ingress_policing_burst=2000")
    capped = tcp_rate(env)
    # A new ofport_request re-creates the datapath port: the policer must
    # come back on the new one.
    env.vsctl("set", "interface", port, "ofport_request=10")
    assert env.get("interface", port, "ofport") == "10"
    assert env.ping_eventually("a", env.ip(2))
    recreated = tcp_rate(env)
    env.vsctl("set", "interface", port, "ingress_policing_rate=0")
    free = tcp_rate(env)
    print("ingress policing: cap %.0f Mbit/s, measured %.2f Mbit/s "
          "(%.2f after re-creation), without %.0f Mbit/s"
          % (CAP / 1e6, capped / 1e6, recreated / 1e6, free / 1e6))
    assert_capped(capped)
    assert_capped(recreated)
    assert free > FAST, free


# Sends N broadcast frames of SIZE bytes from one namespace's interface at
# RATE frames/s and counts those another namespace's interface receives;
# prints "received seconds-sending".
FLOOD = r"""
import ctypes, os, select, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
def bound(ns, ifname):
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    assert libc.setns(fd, 0x40000000) == 0, ctypes.get_errno()
    os.close(fd)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((ifname, 0))
    return s
tx, rx = bound(*sys.argv[1:3]), bound(*sys.argv[3:5])
n, size, rate = (int(x) for x in sys.argv[5:8])
rx.setblocking(False)
frame = bytes.fromhex("ffffffffffff02000000fa01") + b"\x88\xb5" + b"LYFLOOD"
frame += b"z" * (size - len(frame))
got = 0
def drain():
    global got
    while True:
        try:
            data, addr = rx.recvfrom(65536)
        except BlockingIOError:
            return
        got += addr[2] != socket.PACKET_OUTGOING and b"LYFLOOD" in data
t0 = time.monotonic()
for k in range(n):
    tx.send(frame)
    if k % 40 == 39:
        drain()
        time.sleep(max(0, t0 + (k + 1) / rate - time.monotonic()))
t1 = time.monotonic()
while time.monotonic() < t1 + 0.4:
    select.select([rx], [], [], 0.05)
    drain()
print(got, t1 - t0)
"""


def flood(env, n, size, rate):
    r = sh(PY, "-c", FLOOD, env.ns("a"), env.ns_if("a"), env.ns("b"),
           env.ns_if("b"), str(n), str(size), str(rate), timeout=30)
    got, secs = r.stdout.split()
    return int(got), float(secs)


def test_ingress_packet_rate(env):
    """ingress_policing_kpkts_rate/burst on a's port, alone and together
    with a byte rate (the smaller limit wins)."""
    two_ports(env)
    port = env.host_if("a")
    # 1 kpps, bucket of 1,000 packets; 4,000 frames offered at 4 kpps pass
    # as the bucket plus one second's refill: about 2,000.
    env.vsctl("set", "interface", port, "ingress_policing_kpkts_rate=1",
              "ingress_policing_kpkts_burst=1")
    assert wait_for(lambda: "ingress policing on (0 kbps, 1 kpps)"
             in open(env._log("switchd")).read(), 5)
    got, secs = flood(env, 4000, 64, 4000)
    want = 1000 + 1000 * secs
    print("kpkts policing: %d of 4000 in %.2f s (bucket %.0f)"
          % (got, secs, want))
    assert 0.85 * want <= got <= 1.1 * want, (got, secs)
    # Plus 800 kbit/s with an 80 kbit bucket: 1,000-byte frames (986 bytes
    # counted) now pass at ~101/s after a 10-frame bucket.
    env.vsctl("set", "interface", port, "ingress_policing_rate=800",
              "ingress_policing_burst=80")
    assert wait_for(lambda: "ingress policing on (800 kbps, 1 kpps)"
             in open(env._log("switchd")).read(), 5)
    got, secs = flood(env, 1000, 1000, 1000)
    want = 10 + 101.4 * secs
    print("kbps+kpkts policing: %d of 1000 in %.2f s (bucket %.0f)"
          % (got, secs, want))
    assert 0.8 * want <= got <= 1.2 * want + 2, (got, secs)
    # Off again: everything passes.
    env.vsctl("set", "interface", port, "ingress_policing_rate=0",
              "ingress_policing_kpkts_rate=0")
    assert wait_for(lambda: "ingress policing off"
             in open(env._log("switchd")).read(), 5)
    got, _ = flood(env, 500, 64, 4000)
    assert got == 500, got


def test_egress_policer(env):
    """QoS type egress-policer on b's port (what the switch sends to b)."""
    two_ports(env)
    port = env.host_if("b")
    env.vsctl("set", "port", port, "qos=@q", "--", "--id=@q", "create", "qos",
              "type=egress-policer", "other_config:cir=%d" % (CAP / 8),
              "other_config:cbs=262144")
    assert env.appctl("qos/show", port) == (
        "QoS: %s egress-policer\ncir: %d\ncbs: 262144\n" % (port, CAP / 8))
    capped = tcp_rate(env)
    env.vsctl("clear", "port", port, "qos")
    assert env.appctl("qos/show", port) == "QoS not configured on %s\n" % port
    free = tcp_rate(env)
    print("egress-policer: cap %.0f Mbit/s, measured %.2f Mbit/s, "
          "without %.0f Mbit/s" % (CAP / 1e6, capped / 1e6, free / 1e6))
    assert_capped(capped)
    assert free > FAST, free


HTB = ["type=linux-htb", "other_config:max-rate=%d" % CAP, "queues:0=@q0",
       "queues:5=@q5", "--", "--id=@q0", "create", "queue",
       "other_config:min-rate=1000000", "--", "--id=@q5", "create", "queue",
       "other_config:min-rate=2000000", "other_config:max-rate=5000000",
       "other_config:burst=80000", "other_config:priority=3"]


def tc_show(dev):
    q = sh("tc", "qdisc", "show", "dev", dev).stdout
    c = sh("tc", "class", "show", "dev", dev).stdout
    return q, sorted(line.strip() for line in c.splitlines() if line.strip())


def ovs_classes():
    """The qdisc and classes Open vSwitch 3.1 configures for HTB on a veth,
    or None if it is not installed."""
    if shutil.which("ovs-vswitchd") is None:
        return None
    from test_switchd_vs_ovs import Ovs
    ovs = Ovs("lqos")
    tag = "%04x" % (int(time.time() * 1000) % 0x10000)
    dev, br = "lqo" + tag, "lqb" + tag
    try:
        sh("ip", "link", "add", dev, "type", "veth", "peer", "name", dev + "p")
        sh("ip", "link", "set", dev, "up")
        ovs.start()
        ovs.vsctl("add-br", br, "--", "set", "bridge", br,
                  "datapath_type=netdev", "--", "add-port", br, dev)
        ovs.vsctl("set", "port", dev, "qos=@q", "--", "--id=@q", "create",
                  "qos", *HTB)
        if not wait_for(lambda: "htb" in tc_show(dev)[0], 10):
            with open(ovs.dir + "/ovs-vswitchd.log") as f:
                log = f.read()
            # The netdev datapath's "ovs-netdev" tap is one per host: an
            # OVS another test runs at the same time holds it.  The classes
            # are still checked against the values OVS 3.1 was seen to set.
            if "creating tap device failed: Device or resource busy" in log:
                print("OVS comparison skipped: ovs-netdev is in use")
                return None
            pytest.fail("OVS did not set up HTB:\n" + log[-3000:])
        wait_for(lambda: len(tc_show(dev)[1]) == 3, 5)
        shown = tc_show(dev)
        ovs.vsctl("del-br", br)     # OVS removes its bridge's tap device
        return shown
    finally:
        ovs.stop()
        sh("ip", "link", "del", dev, check=False)
        sh("ip", "link", "del", br, check=False)


def test_linux_htb(env):
    """linux-htb: the kernel classes OVS would configure, traffic capped at
    max-rate, qos/show, and clearing Port qos restores the default qdisc."""
    two_ports(env)
    port = env.host_if("b")
    env.vsctl("set", "port", port, "qos=@q", "--", "--id=@q", "create", "qos",
              *HTB)
    qdisc, classes = tc_show(port)
    assert re.search(r"qdisc htb 1: root .*r2q 10 default 0x1", qdisc), qdisc
    assert classes == sorted([
        "class htb 1:1 parent 1:fffe prio 0 rate 1Mbit ceil 10Mbit "
        "burst 1564b cburst 1563b",
        "class htb 1:6 parent 1:fffe prio 3 rate 2Mbit ceil 5Mbit "
        "burst 10000b cburst 10000b",
        "class htb 1:fffe root rate 10Mbit ceil 10Mbit burst 1500b "
        "cburst 1500b"]), classes
    ovs = ovs_classes()
    if ovs is not None:
        assert classes == ovs[1], (classes, ovs[1])
        strip = re.compile(r"refcnt \d+ |direct_packets_stat \d+ ")
        assert strip.sub("", qdisc) == strip.sub("", ovs[0]), (qdisc, ovs[0])

    capped = tcp_rate(env)
    show = env.appctl("qos/show", port)
    assert show.startswith("QoS: %s linux-htb\nmax-rate: 10000000\n\n"
                           "Default:\n  burst: 12512\n  min-rate: 1000000\n"
                           "  max-rate: 10000000\n  tx_packets: " % port), show
    assert "\nQueue 5:\n  burst: 80000\n  priority: 3\n  min-rate: 2000000\n" \
           "  max-rate: 5000000\n  tx_packets: 0\n" in show, show
    sent = int(re.search(r"Default:\n(?:  .*\n)*?  tx_bytes: (\d+)",
                         show).group(1))
    assert sent > 1000000, show     # our transmissions went through HTB

    env.vsctl("clear", "port", port, "qos")
    qdisc, classes = tc_show(port)
    assert "htb" not in qdisc and not classes, (qdisc, classes)
    free = tcp_rate(env)
    print("linux-htb: max-rate %.0f Mbit/s, measured %.2f Mbit/s, "
          "without %.0f Mbit/s" % (CAP / 1e6, capped / 1e6, free / 1e6))
    assert_capped(capped)
    assert free > FAST, free


def test_bad_settings(env):
    """Unsupported types and bad values are logged, change nothing, and do
    not disturb other ports; qos/show-types and unknown interfaces."""
    two_ports(env)
    a, b = env.host_if("a"), env.host_if("b")
    env.vsctl("set", "port", b, "qos=@q", "--", "--id=@q", "create", "qos",
              "type=linux-htb", "other_config:max-rate=%d" % CAP)
    assert "htb" in tc_show(b)[0]
    qa = env.vsctl("create", "qos", "type=linux-bogus").strip()
    env.vsctl("set", "port", a, "qos=" + qa)
    env.vsctl("set", "qos", qa, "type=linux-htb", "other_config:max-rate=abc")
    env.vsctl("set", "qos", qa, "type=egress-policer", "other_config:cir=1000")
    env.vsctl("set", "qos", qa, "type=linux-htb",
              "other_config:max-rate=10000000", "queues:70000=@x", "--",
              "--id=@x", "create", "queue", "other_config:min-rate=1")
    log = open(env._log("switchd")).read()
    for text in ['QoS type "linux-bogus" is not supported',
                 'QoS other_config:max-rate "abc" is not a non-negative '
                 'integer; QoS left unchanged',
                 "QoS type egress-policer needs other_config:cir",
                 "queue 70000 is out of range for linux-htb"]:
        assert text in log, text
    assert "htb" not in tc_show(a)[0]
    assert env.appctl("qos/show", a) == "QoS not configured on %s\n" % a
    assert "htb" in tc_show(b)[0]               # the other port kept its QoS
    assert env.ping("a", env.ip(2))

    # A qdisc the kernel may lack (sfq is missing on some test kernels):
    # either it is there, or the kernel's reason is logged.
    env.vsctl("set", "qos", qa, "type=linux-sfq")
    if "sfq" in tc_show(a)[0]:
        assert env.appctl("qos/show", a).startswith(
            "QoS: %s linux-sfq\nquantum: " % a)
    else:
        log = open(env._log("switchd")).read()
        assert "cannot set QoS linux-sfq on %s: " % a in log, log
        assert env.appctl("qos/show", a) == "QoS not configured on %s\n" % a
    env.vsctl("clear", "port", a, "qos")
    assert "sfq" not in tc_show(a)[0]

    types = env.appctl("qos/show-types", a).splitlines()
    assert types[:7] == ["QoS type: " + t for t in (
        "linux-netem", "linux-fq_codel", "linux-codel", "linux-hfsc",
        "linux-noop", "linux-sfq", "linux-htb")], types
    assert "QoS type: egress-policer" in types
    r = sh(env_appctl(env), "-t", env.swctl, "qos/show", "nosuch", check=False)
    assert r.returncode != 0 and "no such interface" in r.stderr


def env_appctl(env):
    from switchd_env import APPCTL
    return APPCTL
