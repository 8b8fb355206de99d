"""Bonds (Port rows with several interfaces) in lanyard-switchd.

Topology: namespace X (10.N.0.1) on an ordinary port; namespace U, the
"upstream switch", is a Linux bridge holding the peer ends A0 and B0 of two
veths whose host ends A1 and B1 form the bond (10.N.0.9 on the Linux
bridge).  Failover is made by setting a peer end down inside U, which takes
the carrier off the bond member."""
import re
import subprocess
import time

from switchd_env import (APPCTL, PY, env, nsrun, sh,  # noqa: F401
                         skip_unless_ready, wait_for)

pytestmark = skip_unless_ready


def upstream(env):
    """Creates U with its Linux bridge and the two legs; returns the bond
    member names (host ends) and U's name."""
    u = env.ns("u")
    sh("ip", "netns", "add", u)
    env.namespaces.append(u)
    nsrun(u, "ip", "link", "add", "ub", "type", "bridge", "stp_state", "0")
    members = []
    for leg in "ab":
        inner, outer = env.ns_if(leg), env.host_if(leg)
        sh("ip", "link", "add", inner, "type", "veth", "peer", "name", outer)
        env.links.append(outer)
        sh("ip", "link", "set", inner, "netns", u)
        nsrun(u, "ip", "link", "set", inner, "master", "ub")
        nsrun(u, "ip", "link", "set", inner, "up")
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % outer,
           check=False)
        sh("ip", "link", "set", outer, "up")
        members.append(outer)
    nsrun(u, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    nsrun(u, "ip", "addr", "add", env.ip(9) + "/24", "dev", "ub")
    nsrun(u, "ip", "link", "set", "ub", "up")
    return members, u


def make_bond(env, *bond_settings):
    br, bond = env.ns("br"), env.ns("bond")
    env.vsctl("add-br", br)
    env.add_ns("x", env.ip(1) + "/24")
    env.vsctl("add-port", br, env.host_if("x"))
    members, u = upstream(env)
    env.vsctl("add-bond", br, bond, *members, *bond_settings)
    return br, bond, members, u


def active_member(env, bond):
    m = re.search(r"^member (\S+): enabled\n  active member$",
                  env.appctl("bond/show", bond), re.M)
    return m and m.group(1)


def mac_of(dev):
    with open("/sys/class/net/%s/address" % dev) as f:
        return f.read().strip()


def sniff_rarp(env, u, dev, src):
    """Starts capturing RARP frames from SRC on DEV inside U."""
    code = ("from scapy.all import sniff\n"
            "p = sniff(iface=%r, timeout=6, count=1, lfilter=lambda p: "
            "p.type == 0x8035 and p.src == %r)\n"
            "print('GOT' if p else 'NONE', flush=True)\n" % (dev, src))
    proc = subprocess.Popen(["ip", "netns", "exec", u, PY, "-c", code],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)             # Let scapy open its socket.
    return proc


def test_active_backup_failover(env):
    br, bond, members, u = make_bond(env, "bond_downdelay=100",
                                 "other_config:bond-detect-mode=miimon")
    assert env.ping_eventually("x", env.ip(9))
    for m in members:
        assert env.get("Interface", m, "error") in ("", "[]")
        assert env.get("Interface", m, "link_state") == "up"
    # Each member has its own port number, as in OVS; the bond forwards
    # and learns as the first member's (the lead's) port.
    ofports = [int(env.get("Interface", m, "ofport")) for m in members]
    assert len(set(ofports)) == 2 and min(ofports) > 0, ofports
    dpif = env.appctl("dpif/show")
    for m, no in zip(members, ofports):
        assert "  %s %d\n" % (m, no) in dpif, dpif
    x_mac = nsrun(env.ns("x"), "cat", "/sys/class/net/%s/address"
                  % env.ns_if("x")).stdout.strip()
    u_mac = nsrun(u, "cat", "/sys/class/net/ub/address").stdout.strip()
    fdb = env.appctl("fdb/show", br)
    u_line = [ln for ln in fdb.splitlines() if u_mac in ln]
    assert u_line and u_line[0].split()[0] == str(ofports[0]), fdb
    t = env.appctl("ofproto/trace", br, "in_port=%d,dl_src=02:00:00:00:00:07,"
                   "dl_dst=%s" % (ofports[1], x_mac))
    assert ("Input port: %d (%s), member of bond port %d (%s)"
            % (ofports[1], members[1], ofports[0], members[0])) in t, t
    assert "would be learned on VLAN 0 at port %d" % ofports[0] in t, t

    show = env.appctl("bond/show", bond)
    assert show.startswith("---- %s ----\nbond_mode: active-backup\n" % bond)
    for line in ("updelay: 0 ms", "downdelay: 100 ms", "lacp_status: off",
                 "active-backup primary: <none>", "  may_enable: true"):
        assert line in show, show
    first = active_member(env, bond)
    assert first in members, show
    other = members[1 - members.index(first)]
    assert wait_for(lambda: env.get("Port", bond, "bond_active_slave")
                    == mac_of(first), 5)

    # Carrier loss on the active member: traffic moves to the other one,
    # which announces X's MAC upstream with a learning packet.
    peer_of = {m: env.ns_if(m[len(env.pfx)]) for m in members}
    sniffer = sniff_rarp(env, u, peer_of[other], x_mac)
    nsrun(u, "ip", "link", "set", peer_of[first], "down")
    assert wait_for(lambda: active_member(env, bond) == other, 3)
    assert sniffer.communicate(timeout=10)[0].strip() == "GOT"
    assert env.ping_eventually("x", env.ip(9), 3)
    assert wait_for(lambda: env.get("Port", bond, "bond_active_slave")
                    == mac_of(other), 5)
    assert "member %s: disabled" % first in env.appctl("bond/show", bond)

    # Link back: no preemption without bond-primary; set-active-member.
    nsrun(u, "ip", "link", "set", peer_of[first], "up")
    assert wait_for(lambda: "member %s: enabled" % first
                    in env.appctl("bond/show", bond), 3)
    assert active_member(env, bond) == other
    assert env.appctl("bond/set-active-member", bond, first).strip() == "done"
    assert active_member(env, bond) == first
    assert env.appctl("bond/set-active-member", bond,
                      first).strip() == "no change"
    assert env.ping_eventually("x", env.ip(9), 3)

    # disable-member moves traffic off the member at once.
    assert env.appctl("bond/disable-member", bond,
                      first).strip() == "disabled"
    assert active_member(env, bond) == other
    r = sh(APPCTL, "-t", env.swctl,
           "bond/set-active-member", bond, first, check=False)
    assert "cannot make disabled member active" in r.stderr
    assert env.appctl("bond/enable-member", bond, first).strip() == "enabled"
    assert env.ping_eventually("x", env.ip(9), 3)

    # Per-member statistics: the member that carried the pings sent them.
    def tx(m):
        s = env.get("Interface", m, "statistics")
        found = re.search(r"tx_packets=(\d+)", s)
        return int(found.group(1)) if found else 0
    assert wait_for(lambda: tx(first) > 0 and tx(other) > 0, 7)

    # Reconfiguring rebuilds the bond; bond_active_slave keeps the active
    # member (as OVS does across restarts).
    assert active_member(env, bond) == other
    env.vsctl("set", "Port", bond, "bond_updelay=50")
    assert "updelay: 50 ms" in env.appctl("bond/show", bond)
    assert active_member(env, bond) == other
    assert env.ping_eventually("x", env.ip(9), 3)

    # Every link down: no active member, bond_active_slave all zeros (OVS).
    for m in members:
        nsrun(u, "ip", "link", "set", peer_of[m], "down")
    assert wait_for(lambda: env.get("Port", bond, "bond_active_slave")
                    == "00:00:00:00:00:00", 5)


def test_balance_slb_spreads_and_filters_reflections(env):
    primary = "other_config:bond-primary=" + env.host_if("b")
    br, bond, members, u = make_bond(
        env, "bond_mode=balance-slb", primary,
        "other_config:bond-rebalance-interval=0")   # bond/migrate stays.
    assert env.ping_eventually("x", env.ip(9))
    show = env.appctl("bond/show", bond)
    assert "bond_mode: balance-slb" in show
    assert "active-backup primary: %s\n" % env.host_if("b") in show
    assert active_member(env, bond) == env.host_if("b")

    def rx(dev):
        out = nsrun(u, "cat", "/sys/class/net/%s/statistics/rx_packets"
                    % dev).stdout
        return int(out)
    peers = [env.ns_if("a"), env.ns_if("b")]
    before = [rx(p) for p in peers]
    macs = ["02:00:00:00:%02x:01" % i for i in range(8)]
    code = ("from scapy.all import Ether, sendp\n"
            "sendp([Ether(src=m, dst='ff:ff:ff:ff:ff:ff', type=0x88b5)"
            "/(b'x' * 50) for m in %r for _ in range(5)], iface=%r, "
            "verbose=0)\n" % (macs, env.ns_if("x")))
    nsrun(env.ns("x"), PY, "-c", code)
    time.sleep(0.5)
    got = [rx(p) - b for p, b in zip(peers, before)]
    # 40 frames leave on one member each; the Linux bridge floods each
    # back on the other member, where the bond must drop it.
    assert got[0] >= 5 and got[1] >= 5, got
    assert 40 <= sum(got) <= 48, got
    fdb = env.appctl("fdb/show", br)
    bond_port = env.get("Interface", members[0], "ofport")
    x_port = env.get("Interface", env.host_if("x"), "ofport")
    for m in macs:
        line = [ln for ln in fdb.splitlines() if m in ln]
        assert line and line[0].split()[0] == x_port, (m, fdb, bond_port)

    # bond/hash names a MAC's bucket; bond/migrate moves it.
    h = env.appctl("bond/hash", macs[0]).strip()
    assert h.isdigit() and int(h) < 256, h
    one = code.replace(repr(macs), repr(macs[:1])).replace("range(5)",
                                                            "range(40)")
    for idx in (0, 1):
        assert env.appctl("bond/migrate", bond, h,
                          members[idx]).strip() == "migrated"
        before = [rx(p) for p in peers]
        nsrun(env.ns("x"), PY, "-c", one)
        time.sleep(0.3)
        got = [rx(p) - b for p, b in zip(peers, before)]
        # (X's own ARP probes may add a few frames on either member.)
        assert got[idx] >= 40 and got[1 - idx] <= 8, (idx, got)
    for args, msg in (([bond, "x1", members[0]], "bad hash"),
                      ([bond, h, "nope"], "no such member")):
        r = sh(APPCTL, "-t", env.swctl, "bond/migrate", *args, check=False)
        assert msg in r.stderr, r.stderr
    r = sh(APPCTL, "-t", env.swctl, "bond/hash", "zz", check=False)
    assert "invalid mac" in r.stderr


def test_slb_hash_basis_and_all_members_active(env):
    """other_config:bond-hash-basis seeds the buckets the bond really uses;
    all-members-active admits broadcasts on the non-active member."""
    primary = "other_config:bond-primary=" + env.host_if("b")
    br, bond, members, u = make_bond(
        env, "bond_mode=balance-slb", primary,
        "other_config:bond-rebalance-interval=0",
        "other_config:bond-hash-basis=7",
        "other_config:all-members-active=true")
    assert env.ping_eventually("x", env.ip(9))
    assert "bond-hash-basis: 7\n" in env.appctl("bond/show", bond)
    macs = ["02:00:00:00:%02x:07" % i for i in range(8)]
    pairs = [(env.appctl("bond/hash", m, "0", "7").strip(),
              env.appctl("bond/hash", m, "0", "0").strip()) for m in macs]
    mac, (h, h0) = next((m, p) for m, p in zip(macs, pairs) if p[0] != p[1])

    def rx(dev):
        return int(nsrun(u, "cat", "/sys/class/net/%s/statistics/rx_packets"
                         % dev).stdout)
    peers = [env.ns_if("a"), env.ns_if("b")]
    send = ("from scapy.all import Ether, sendp\n"
            "sendp([Ether(src=%r, dst='ff:ff:ff:ff:ff:ff', type=0x88b5)"
            "/(b'x' * 50)] * 40, iface=%r, verbose=0)\n"
            % (mac, env.ns_if("x")))
    for idx in (0, 1):
        # Basis 7's bucket of MAC, not basis 0's, decides the member.
        assert env.appctl("bond/migrate", bond, h,
                          members[idx]).strip() == "migrated"
        before = [rx(p) for p in peers]
        nsrun(env.ns("x"), PY, "-c", send)
        time.sleep(0.3)
        got = [rx(p) - b for p, b in zip(peers, before)]
        assert got[idx] >= 40 and got[1 - idx] <= 8, (idx, got, h, h0)

    # Broadcasts from upstream straight into the non-active member (a).
    def x_rx():
        return int(nsrun(env.ns("x"), "cat", "/sys/class/net/%s/statistics/"
                         "rx_packets" % env.ns_if("x")).stdout)
    flood = ("from scapy.all import Ether, sendp\n"
             "sendp([Ether(src='02:00:00:00:aa:%%02x' %% k, "
             "dst='ff:ff:ff:ff:ff:ff', type=0x88b5)/(b'y' * 50) "
             "for k in range(20)], iface=%r, verbose=0)\n" % peers[0])
    before = x_rx()
    nsrun(u, PY, "-c", flood)
    time.sleep(0.3)
    assert x_rx() - before >= 20, "all-members-active: broadcasts dropped"
    env.vsctl("set", "port", bond, "other_config:all-members-active=false",
              "other_config:bond-hash-basis=x7")
    assert wait_for(lambda: active_member(env, bond) == env.host_if("b"), 8)
    assert "bond-hash-basis: 0\n" in env.appctl("bond/show", bond)
    log = open(env._log("switchd")).read()
    assert 'ignoring invalid bond-hash-basis "x7"' in log
    before = x_rx()
    nsrun(u, PY, "-c", flood)
    time.sleep(0.3)
    assert x_rx() - before <= 3, "broadcasts accepted on the non-active member"


def test_lacp_errors_and_upstream_without_lacp(env):
    """Bad LACP settings are errors naming them; LACP against a switch that
    does not speak it (the Linux bridge) leaves the bond down, as OVS,
    until lacp-fallback-ab turns it into active-backup."""
    br = env.ns("br")
    env.vsctl("add-br", br)
    env.add_ns("x", env.ip(1) + "/24")
    env.add_ns("y", env.ip(2) + "/24")
    for n in "xy":
        env.vsctl("add-port", br, env.host_if(n))
    members, u = upstream(env)
    bond = env.ns("bond")
    env.vsctl("add-bond", br, bond, *members, "lacp=active",
              "other_config:lacp-time=often")
    for m in members:
        err = env.get("Interface", m, "error")
        assert 'unknown lacp-time \\"often\\"' in err and bond in err, err
        assert env.get("Interface", m, "ofport") == "-1"
    assert env.ping("x", env.ip(2))
    env.vsctl("set", "Port", bond, "other_config:lacp-time=fast",
              "other_config:lacp-system-id=00:00:00:00:00:00")
    for m in members:
        err = env.get("Interface", m, "error")
        assert "lacp-system-id" in err and "nonzero MAC" in err, err

    # No partner: expired, then defaulted; nothing passes.
    env.vsctl("remove", "Port", bond, "other_config", "lacp-system-id")
    for m in members:
        assert env.get("Interface", m, "error") in ("", "[]")
        assert int(env.get("Interface", m, "ofport")) > 0
    assert wait_for(lambda: "lacp_status: configured"
                    in env.appctl("bond/show", bond), 5)
    show = env.appctl("lacp/show", bond)
    assert show.count("defaulted detached") == 2, show
    assert not env.ping("x", env.ip(9), count=1)
    assert "member %s: disabled" % members[0] in env.appctl("bond/show", bond)

    env.vsctl("set", "Port", bond, "other_config:lacp-fallback-ab=true")
    assert env.ping_eventually("x", env.ip(9))
    assert "lacp_fallback_ab: true" in env.appctl("bond/show", bond)
    env.vsctl("set", "Port", bond, "lacp=off")
    for m in members:
        assert wait_for(lambda: env.get("Interface", m, "lacp_current")
                        == "[]", 3)
    assert env.ping_eventually("x", env.ip(9))
    # balance-tcp needs LACP: without it nothing passes (as OVS).
    env.vsctl("set", "Port", bond, "bond_mode=balance-tcp")
    show = env.appctl("bond/show", bond)
    assert "lacp_status: off" in show and "next rebalance:" in show, show
    assert not env.ping("x", env.ip(9), count=1)
    env.vsctl("clear", "Port", bond, "bond_mode")
    assert env.ping_eventually("x", env.ip(9))

    # Down to one interface: an ordinary port again; and back to a bond.
    env.vsctl("del-bond-iface", bond, members[1])
    assert int(env.get("Interface", members[0], "ofport")) > 0
    assert "no such bond" in sh(APPCTL, "-t", env.swctl, "bond/show", bond,
                                check=False).stderr
    assert env.ping_eventually("x", env.ip(9))
    env.vsctl("add-bond-iface", bond, members[1])
    assert active_member(env, bond) in members
    assert env.ping_eventually("x", env.ip(9))
