"""lanyard-appctl, installed as ovs-appctl, against the real ovs-appctl:
the same invocations against the real ovsdb-server, a real ovs-vswitchd
(in its own network namespace, dummy datapath), lanyard-dbd and
lanyard-switchd must give the same stdout, stderr (log timestamps aside)
and exit status.  Targets are daemon names resolved through
$OVS_RUNDIR/<name>.pid and absolute control-socket paths."""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from vsctl_harness import (BUILD, DBD, VLOG_TS_RE,  # noqa: F401
                           VSWITCH_SCHEMA, clients, names_bin,
                           sanitizer_report, workdir)

SWITCHD = os.path.join(BUILD, "switchd", "lanyard-switchd")


def start_daemon(argv, rundir, ready_file):
    env = dict(os.environ, OVS_RUNDIR=rundir, OVS_LOGDIR=rundir,
               OVS_DBDIR=rundir, LANYARD_RUNDIR=rundir)
    log = open(os.path.join(rundir, os.path.basename(argv[0]) + ".stderr"),
               "wb")
    p = subprocess.Popen(argv, cwd=rundir, env=env, stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + 15
    while not os.path.exists(ready_file):
        if p.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("%s did not start" % argv[0])
        time.sleep(0.02)
    return p


@pytest.fixture(scope="module")
def daemons(workdir):
    """{daemon name: its run directory} for ovsdb-server, ovs-vswitchd,
    lanyard-dbd and lanyard-switchd, each holding a locked pidfile there
    (the two OVS daemons share one run directory)."""
    procs, out = [], {}
    try:
        ovs_run = os.path.join(workdir, "ovs-run")
        os.makedirs(ovs_run)
        db = os.path.join(ovs_run, "conf.db")
        subprocess.run(["ovsdb-tool", "create", db, VSWITCH_SCHEMA],
                       check=True)
        sock = os.path.join(ovs_run, "db.sock")
        procs.append(start_daemon(
            ["ovsdb-server", "--remote=punix:" + sock, "--pidfile",
             "--log-file", db], ovs_run, sock))
        subprocess.run(["ovs-vsctl", "--db=unix:" + sock, "--no-wait",
                        "init"], check=True)
        out["ovsdb-server"] = ovs_run
        if shutil.which("ovs-vswitchd") and shutil.which("unshare"):
            procs.append(start_daemon(
                ["unshare", "-n", "ovs-vswitchd", "--enable-dummy",
                 "unix:" + sock, "--pidfile", "--log-file", "--no-chdir"],
                ovs_run, os.path.join(ovs_run, "ovs-vswitchd.pid")))
            out["ovs-vswitchd"] = ovs_run
        ly_run = os.path.join(workdir, "lanyard-run")
        os.makedirs(ly_run)
        procs.append(start_daemon(
            [DBD, "--remote=punix:" + os.path.join(ly_run, "db.sock"),
             "--pidfile", "--log-file=" + os.path.join(ly_run, "dbd.log"),
             os.path.join(ly_run, "conf.db")],
            ly_run, os.path.join(ly_run, "db.sock")))
        out["lanyard-dbd"] = ly_run
        # lanyard-switchd in a run directory of its own, following
        # lanyard-dbd (an empty configuration: it opens no devices).
        sw_run = os.path.join(workdir, "switchd-run")
        os.makedirs(sw_run)
        procs.append(start_daemon(
            [SWITCHD, "--pidfile", "--log-file=" + os.path.join(sw_run,
                                                                "sw.log"),
             "unix:" + os.path.join(ly_run, "db.sock")],
            sw_run, os.path.join(sw_run, "lanyard-switchd.pid")))
        out["lanyard-switchd"] = sw_run
        for name, rundir in out.items():
            deadline = time.monotonic() + 10
            while not any(re.fullmatch(re.escape(name) + r"\.\d+\.ctl", f)
                          for f in os.listdir(rundir)):
                assert time.monotonic() < deadline, name + " has no .ctl"
                time.sleep(0.02)
        yield out
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        # A sanitizer build reports leaks on stderr, at exit.
        for rundir, name in ((out.get("lanyard-dbd"), "lanyard-dbd"),
                             (out.get("lanyard-switchd"), "lanyard-switchd")):
            path = os.path.join(rundir or "", name + ".stderr")
            if rundir and os.path.exists(path):
                with open(path, errors="replace") as f:
                    report = sanitizer_report(f.read())
                if report:
                    pytest.fail("%s: sanitizer report:\n%s" % (name, report))


def ctl_path(rundir, name):
    with open(os.path.join(rundir, name + ".pid")) as f:
        pid = int(f.read().strip())
    return os.path.join(rundir, "%s.%d.ctl" % (name, pid))


def appctl(bindir, rundir, *args, timeout=20):
    p = subprocess.run(["ovs-appctl"] + list(args), capture_output=True,
                       text=True, timeout=timeout,
                       env=dict(os.environ, OVS_RUNDIR=rundir, LC_ALL="C",
                                PATH=bindir + os.pathsep +
                                os.environ.get("PATH", "")))
    return p.returncode, p.stdout, VLOG_TS_RE.sub("<TS>|", p.stderr)


# Invocations; "{t}" is the daemon's name, "{ctl}" its control socket.
CASES = [
    "-t {t} version",
    "--target={t} list-commands",
    "-t {ctl} version",
    "-t {t} frob",
    "-t {ctl} frob a b",
    "-t {t} exit 1 2 3",
    "-t {t} vlog/set bogus",
    "-t {t} vlog/list",
    "-t {t} -e version",
    "-t {t} -T 5 version",
    "-t {t} --timeout=5 version",
    "--timeout=0 -t {t} version",
    "--timeout=x -t {t} version",
    "-t {t}",
    "",
    "-t",
    "--bogus",
    "-t nosuchdaemon version",
    "-t stale version",
    "-t /nonexistent/x.ctl version",
    "version",                               # default target ovs-vswitchd
]
SERVER_CASES = ["-t {t} ovsdb-server/list-dbs",
                "-t {t} ovsdb-server/list-dbs extra"]


@pytest.mark.parametrize("target", ["ovsdb-server", "ovs-vswitchd",
                                    "lanyard-dbd", "lanyard-switchd"])
def test_same_as_ovs_appctl(target, daemons, clients, workdir):
    if target not in daemons:
        pytest.fail("%s could not be started" % target)
    rundir = daemons[target]
    # A pidfile nobody holds locked: "No such process", as OVS reports it.
    with open(os.path.join(rundir, "stale.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    ctl = ctl_path(rundir, target)
    cases = CASES + (SERVER_CASES if "switchd" not in target else [])
    if target == "lanyard-switchd":
        # As ovs-appctl, the default target reaches lanyard-switchd here
        # on purpose (see test_ovs_names_reach_lanyard_daemons).
        cases.remove("version")
    mismatches = []
    for case in cases:
        args = case.format(t=target, ctl=ctl).split()
        want = appctl(clients["ovs"], rundir, *args)
        got = appctl(clients["lanyard"], rundir, *args)
        if got != want:
            mismatches.append("ovs-appctl %s\n  real: %r\n  ours: %r"
                              % (" ".join(args), want, got))
    assert not mismatches, "\n".join(mismatches)


def test_help_version_options(clients):
    for flag in ("--help", "-h", "--version", "-V", "--option", "-o"):
        rc, out, err = appctl(clients["lanyard"], "/nonexistent", flag)
        assert rc == 0 and out and not err, (flag, rc, err)
    rc, out, _ = appctl(clients["lanyard"], "/nonexistent", "--option")
    real = appctl(clients["ovs"], "/nonexistent", "--option")[1]
    # Every option we list is one OVS has (logging-to-syslog options aside).
    assert set(out.splitlines()) <= set(real.splitlines())


def test_timeout_kills_with_sigalrm(clients, workdir):
    """A daemon that accepts but never answers: --timeout=1 ends the
    command by SIGALRM with OVS's message."""
    import signal
    import socket
    path = os.path.join(tempfile.mkdtemp(dir=workdir), "hang.ctl")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)
    try:
        results = [appctl(clients[w], "/nonexistent", "-t", path,
                          "--timeout=1", "version") for w in ("ovs",
                                                               "lanyard")]
    finally:
        listener.close()
    assert results[0][0] == -signal.SIGALRM, results
    assert results[1] == results[0]


def test_lanyard_name_defaults(clients, daemons):
    """Invoked as lanyard-appctl, targets resolve in $LANYARD_RUNDIR and
    the default target is lanyard-switchd."""
    bindir = clients["lanyard"]
    rundir = daemons["lanyard-dbd"]
    env = dict(os.environ, LANYARD_RUNDIR=rundir, LC_ALL="C")
    tool = os.path.join(bindir, "lanyard-appctl")
    p = subprocess.run([tool, "-t", "lanyard-dbd", "ovsdb-server/list-dbs"],
                       capture_output=True, text=True, env=env, timeout=20)
    assert (p.returncode, p.stdout) == (0, "Open_vSwitch\n_Server\n"), p
    p = subprocess.run([tool, "version"], capture_output=True, text=True,
                       env=env, timeout=20)
    assert p.returncode == 1
    assert p.stderr.endswith('lanyard-appctl: cannot read pidfile "%s/'
                             'lanyard-switchd.pid" (No such file or '
                             'directory)\n' % rundir), p.stderr


def test_ovs_names_reach_lanyard_daemons(clients, daemons):
    """As ovs-appctl, `-t ovsdb-server` (and the default target
    ovs-vswitchd) reach the Lanyard daemon doing that job when no OVS
    daemon of that name has a pidfile, so OVS scripts work unchanged."""
    rundir = daemons["lanyard-dbd"]
    rc, out, err = appctl(clients["lanyard"], rundir, "-t", "ovsdb-server",
                          "ovsdb-server/list-dbs")
    assert (rc, out, err) == (0, "Open_vSwitch\n_Server\n", ""), err
    rc, out, err = appctl(clients["lanyard"], daemons["lanyard-switchd"],
                          "version")
    assert (rc, err) == (0, "") and out.startswith("lanyard-switchd "), err
    # A real OVS daemon of that name still wins.
    ovs_run = daemons["ovsdb-server"]
    rc, out, _ = appctl(clients["lanyard"], ovs_run, "-t", "ovsdb-server",
                        "version")
    assert rc == 0 and "Open vSwitch" in out, out
