"""Waiting for the switch: unless --no-wait, a command that changes the
database bumps Open_vSwitch.next_cfg and blocks until the switch daemon
copies it into cur_cfg; --timeout bounds every wait.  Played here by the
test itself (one transaction = one switch reconfiguration), with the real
ovs-vsctl's behaviour as the reference, against both servers."""

import os
import signal
import subprocess
import time

import pytest

from vsctl_harness import (DbServer, Normaliser, clients,  # noqa: F401
                           names_bin, rundir, servers, tool_env, uuid_labels,
                           workdir)

IMPLS = ["ovs", "lanyard"]


def start_vsctl(bindir, server, rundir, *args):
    return subprocess.Popen(["ovs-vsctl", "--db=" + server.remote] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            env=tool_env(rundir, path_prefix=bindir))


def run_vsctl(bindir, server, rundir, *args, timeout=20):
    p = start_vsctl(bindir, server, rundir, *args)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def root_row(server):
    rows = server.rpc.transact({"op": "select", "table": "Open_vSwitch",
                                "where": []})[0]["rows"]
    assert len(rows) == 1, rows
    return rows[0]


def play_switch(server, iface_updates):
    """One reconfiguration: cur_cfg := next_cfg, plus Interface updates
    {name: {column: value}}."""
    row = root_row(server)
    ops = [{"op": "update", "table": "Open_vSwitch", "where": [],
            "row": {"cur_cfg": row["next_cfg"]}}]
    for name, cols in iface_updates.items():
        ops.append({"op": "update", "table": "Interface",
                    "where": [["name", "==", name]], "row": cols})
    server.rpc.transact(*ops)


def fresh(server, bindir, rundir):
    server.reset()
    rc, _, err = run_vsctl(bindir, server, rundir, "--no-wait", "init")
    assert rc == 0, err


def wait_scenario(bindir, server, rundir, iface_updates):
    """add-br without --no-wait: must still be blocked after 0.5 s, must
    have bumped next_cfg, and must finish once the switch answers."""
    fresh(server, bindir, rundir)
    p = start_vsctl(bindir, server, rundir, "--timeout=10", "add-br", "br0")
    deadline = time.monotonic() + 8
    while root_row(server)["next_cfg"] == 0 and p.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)      # time to return, had it not been waiting
    blocked = p.poll() is None
    bumped = root_row(server)["next_cfg"]
    play_switch(server, iface_updates)
    out, err = p.communicate(timeout=10)
    labels = uuid_labels(server.snapshot())
    norm = Normaliser(server)
    return blocked, bumped, p.returncode, norm(out, labels), norm(err, labels)


@pytest.mark.parametrize("impl", IMPLS)
def test_waits_for_cur_cfg(impl, clients, servers, rundir):
    server = servers[impl]
    ok = {"br0": {"ofport": 65534}}
    want = wait_scenario(clients["ovs"], server, rundir, ok)
    assert want == (True, 1, 0, "", ""), want
    got = wait_scenario(clients["lanyard"], server, rundir, ok)
    assert got == want


@pytest.mark.parametrize("impl", IMPLS)
def test_wait_reports_interface_errors(impl, clients, servers, rundir):
    """After the wait, ovs-vsctl reports interfaces the switch could not
    open (ofport -1 and Interface.error), and still succeeds."""
    server = servers[impl]
    bad = {"br0": {"ofport": -1, "error": "could not open network device "
                                          "br0 (No such device)"}}
    want = wait_scenario(clients["ovs"], server, rundir, bad)
    assert want[2] == 0 and "Error detected while setting up 'br0'" \
        in want[4], want
    got = wait_scenario(clients["lanyard"], server, rundir, bad)
    assert got == want


@pytest.mark.parametrize("impl", IMPLS)
def test_read_only_commands_do_not_wait(impl, clients, servers, rundir):
    server = servers[impl]
    for who in ("ovs", "lanyard"):
        fresh(server, clients[who], rundir)
        start = time.monotonic()
        rc, out, err = run_vsctl(clients[who], server, rundir,
                                 "--timeout=5", "list-br", "--", "show")
        assert rc == 0 and not err, (who, rc, err)
        assert time.monotonic() - start < 4
        assert root_row(server)["next_cfg"] == 0, who


def timeout_outcome(bindir, server, rundir, *args):
    fresh(server, bindir, rundir)
    start = time.monotonic()
    rc, out, err = run_vsctl(bindir, server, rundir, *args)
    elapsed = time.monotonic() - start
    labels = uuid_labels(server.snapshot())
    norm = Normaliser(server)
    return rc, norm(out, labels), norm(err, labels), elapsed


@pytest.mark.parametrize("args", [
    ("--timeout=1", "add-br", "br1"),
    ("--no-wait", "--timeout=1", "wait-until", "Bridge", "nobr"),
], ids=["no-switch", "wait-until"])
@pytest.mark.parametrize("impl", IMPLS)
def test_timeout(impl, args, clients, servers, rundir):
    """With nobody to answer, --timeout=1 ends the command by SIGALRM
    after about a second, with the same message as ovs-vsctl."""
    server = servers[impl]
    want = timeout_outcome(clients["ovs"], server, rundir, *args)
    assert want[0] == -signal.SIGALRM, want
    assert "terminating with signal 14 (Alarm clock)" in want[2]
    got = timeout_outcome(clients["lanyard"], server, rundir, *args)
    assert got[:3] == want[:3]
    assert 0.8 < got[3] < 10, got


def test_default_database_is_ovs_rundir(clients, servers, rundir, workdir):
    """Invoked as ovs-vsctl without --db, it uses $OVS_RUNDIR/db.sock,
    like the real tool (the name install relies on it)."""
    server = servers["lanyard"]
    fresh(server, clients["ovs"], rundir)
    link_dir = os.path.join(workdir, "default-rundir")
    os.makedirs(link_dir, exist_ok=True)
    link = os.path.join(link_dir, "db.sock")
    if not os.path.lexists(link):
        os.symlink(server.sock, link)
    results = []
    for who in ("ovs", "lanyard"):
        p = subprocess.run(["ovs-vsctl", "--no-wait", "br-exists", "nobr"],
                           capture_output=True, text=True, timeout=20,
                           env=tool_env(link_dir, path_prefix=clients[who]))
        results.append((p.returncode, p.stdout, p.stderr))
    assert results[0] == (2, "", ""), results
    assert results[1] == results[0]


@pytest.mark.parametrize("impl", IMPLS)
def test_unchanged_write_does_not_wait(impl, clients, servers, rundir):
    """A write that changes nothing (same value again, or --may-exist on
    an existing bridge) commits nothing, so ovs-vsctl neither bumps
    next_cfg nor waits: with no switch running it still returns at once."""
    server = servers[impl]
    outcomes = {}
    for who in ("ovs", "lanyard"):
        fresh(server, clients[who], rundir)
        rc, _, err = run_vsctl(clients[who], server, rundir, "--no-wait",
                               "add-br", "br0", "--", "set", "Bridge", "br0",
                               "external_ids:a=b")
        assert rc == 0, err
        got = []
        for args in (("set", "Bridge", "br0", "external_ids:a=b"),
                     ("--may-exist", "add-br", "br0")):
            rc, out, err = run_vsctl(clients[who], server, rundir,
                                     "--timeout=2", *args)
            got.append((rc, out, err, root_row(server)["next_cfg"]))
        outcomes[who] = got
    assert outcomes["ovs"] == [(0, "", "", 0)] * 2, outcomes
    assert outcomes["lanyard"] == outcomes["ovs"]


@pytest.mark.parametrize("impl", IMPLS)
def test_wait_until_wakes_on_change(impl, clients, servers, rundir):
    """wait-until blocks until another client makes the condition true,
    then returns at once (the server's monitor update wakes it)."""
    server = servers[impl]
    for who in ("ovs", "lanyard"):
        fresh(server, clients[who], rundir)
        p = start_vsctl(clients[who], server, rundir, "--no-wait",
                        "--timeout=10", "wait-until", "Bridge", "br9",
                        "external_ids:ready=yes")
        time.sleep(0.4)
        assert p.poll() is None, (who, p.communicate())
        run_vsctl(clients["ovs"], server, rundir, "--no-wait", "add-br",
                  "br9")
        time.sleep(0.3)
        assert p.poll() is None, (who, p.communicate())
        start = time.monotonic()
        run_vsctl(clients["ovs"], server, rundir, "--no-wait", "set",
                  "Bridge", "br9", "external_ids:ready=yes")
        out, err = p.communicate(timeout=10)
        assert (p.returncode, out, err) == (0, "", ""), who
        assert time.monotonic() - start < 8, who


@pytest.mark.parametrize("impl", IMPLS)
def test_concurrent_add_ports_lose_nothing(impl, clients, servers, rundir):
    """Twelve add-port processes on one bridge at the same time: every
    port ends up on the bridge (a client whose reads went stale retries
    instead of overwriting the others' ports)."""
    server = servers[impl]
    for who in ("ovs", "lanyard"):
        fresh(server, clients[who], rundir)
        run_vsctl(clients[who], server, rundir, "--no-wait", "add-br", "br0")
        procs = [start_vsctl(clients[who], server, rundir, "--no-wait",
                             "--timeout=20", "add-port", "br0", "c%d" % i)
                 for i in range(12)]
        results = [(p.wait(30), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        assert all(r == (0, "") for r in results), (who, results)
        rc, out, _ = run_vsctl(clients[who], server, rundir, "--no-wait",
                               "list-ports", "br0")
        assert out.split() == sorted("c%d" % i for i in range(12)), who


@pytest.mark.parametrize("impl", IMPLS)
def test_retry_waits_for_the_server(impl, clients, rundir, workdir):
    """With --retry a client started before its server keeps trying and
    succeeds once the server is up; without it, it fails at once with
    ovs-vsctl's message."""
    outcomes = {}
    for who in ("ovs", "lanyard"):
        late = DbServer(impl, os.path.join(workdir, "retry-%s-%s"
                                           % (impl, who)))
        rc, out, err = run_vsctl(clients[who], late, rundir, "--no-wait",
                                 "list-br")
        err = err.replace(late.dir, "<DIR>")
        p = start_vsctl(clients[who], late, rundir, "--no-wait", "--retry",
                        "--timeout=20", "--", "--may-exist", "add-br", "br0",
                        "--", "list-br")
        time.sleep(0.5)
        waiting = p.poll() is None
        try:
            late.start()
            out2, err2 = p.communicate(timeout=20)
        finally:
            late.stop()
        outcomes[who] = (rc, out, err, waiting, p.returncode, out2, err2)
    assert outcomes["ovs"][:2] == (1, "") and outcomes["ovs"][3:] == \
        (True, 0, "br0\n", ""), outcomes
    assert outcomes["lanyard"] == outcomes["ovs"]
