"""The Pacemaker OCF agents, checked by ocf-tester (Debian's
resource-agents) and by their error paths."""
import os
import shutil
import subprocess

import pytest

from ctl_env import service  # noqa: F401 (pytest fixture)
from ctl_env import (CTL, OCF_DIR, VSCTL, needs_build, needs_root,
                      rand_name, run)

OCF_TESTER = shutil.which("ocf-tester") or "/usr/sbin/ocf-tester"
OCF_ROOT = "/usr/lib/ocf"
pytestmark = [
    needs_build, needs_root,
    pytest.mark.skipif(not os.path.exists(OCF_TESTER) or not os.path.exists(
        OCF_ROOT + "/lib/heartbeat/ocf-shellfuncs"),
        reason="resource-agents (ocf-tester) not installed"),
]
# OCF exit codes.
OCF_SUCCESS, OCF_ERR_CONFIGURED, OCF_NOT_RUNNING = 0, 6, 7


def ocf_tester(agent, params, env):
    args = [OCF_TESTER, "-n", rand_name("r")]
    for k, v in params.items():
        args += ["-o", "%s=%s" % (k, v)]
    r = run(*args, os.path.join(OCF_DIR, agent), env=env, timeout=120)
    assert r.returncode == 0 and "passed all tests" in r.stdout, \
        r.stdout + r.stderr


def agent(name, action, params, env):
    env = dict(env, OCF_ROOT=OCF_ROOT, OCF_RESOURCE_INSTANCE="t")
    for k, v in params.items():
        env["OCF_RESKEY_" + k] = v
    return run(os.path.join(OCF_DIR, name), action, env=env)


def lanyard_params(svc):
    return {"lanyard_ctl": CTL, "rundir": svc.rundir, "logdir": svc.logdir,
            "dbdir": svc.dbdir}


def test_lanyard_agent_passes_ocf_tester(service):
    ocf_tester("lanyard", lanyard_params(service), service.env)
    # What ocf-tester left behind: stopped, with a recorded system id.
    assert service.ctl("status").returncode == 3
    assert os.path.exists(os.path.join(service.dbdir, "system-id.conf"))


def test_lanyard_agent_monitor_and_errors(service):
    p = lanyard_params(service)
    assert agent("lanyard", "monitor", p, service.env).returncode == \
        OCF_NOT_RUNNING
    assert agent("lanyard", "start", p, service.env).returncode == OCF_SUCCESS
    assert agent("lanyard", "monitor", p, service.env).returncode == \
        OCF_SUCCESS
    # switchd dies behind Pacemaker's back: a failure, not "stopped".
    service.ctl_ok("--no-dbd", "stop")
    r = agent("lanyard", "monitor", p, service.env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "lanyard-switchd is not running" in r.stderr
    assert agent("lanyard", "stop", p, service.env).returncode == OCF_SUCCESS
    bad = dict(p, daemons="both")
    r = agent("lanyard", "validate-all", bad, service.env)
    assert r.returncode == OCF_ERR_CONFIGURED and "daemons" in r.stderr
    # Not installed: a probe says "not running here", a recurring monitor
    # says "not installed".
    gone = dict(p, lanyard_ctl="/nonexistent")
    assert agent("lanyard", "monitor", gone, service.env).returncode == \
        OCF_NOT_RUNNING
    r = agent("lanyard", "monitor", dict(gone, CRM_meta_interval="10000"),
              service.env)
    assert r.returncode == 5 and "/nonexistent" in r.stderr
    r = agent("lanyard", "frob", p, service.env)
    assert r.returncode == 3


def test_lanyard_port_agent_passes_ocf_tester(service):
    service.ctl_ok("start")
    br, port = rand_name("lyb"), rand_name("lyp")
    service.vsctl("add-br", br)
    params = {"bridge": br, "interface": port, "mac": "02:00:5e:10:00:01",
              "tag": "10", "ip": "198.18.77.1/24", "vsctl": VSCTL,
              "db": "unix:" + service.sock}
    ocf_tester("lanyard-port", params, service.env)
    assert not os.path.exists("/sys/class/net/" + port)

    # Started for real: the MAC, VLAN and address are what was asked.
    assert agent("lanyard-port", "start", params, service.env).returncode == 0
    try:
        with open("/sys/class/net/%s/address" % port) as f:
            assert f.read().strip() == "02:00:5e:10:00:01"
        assert service.vsctl("get", "Port", port, "tag") == "10"
        addrs = run("ip", "-o", "addr", "show", "dev", port).stdout
        assert "198.18.77.1/24" in addrs
        # The address disappears: monitor reports a failure.
        run("ip", "addr", "flush", "dev", port)
        r = agent("lanyard-port", "monitor", params, service.env)
        assert r.returncode == 1 and "lost its address" in r.stderr
    finally:
        agent("lanyard-port", "stop", params, service.env)
    assert not os.path.exists("/sys/class/net/" + port)
    assert agent("lanyard-port", "monitor", params, service.env).returncode \
        == OCF_NOT_RUNNING

    for key, value, word in (("mac", "02:00:zz", "mac"),
                             ("tag", "5000", "tag"),
                             ("ip", "198.18.77.1", "prefix"),
                             ("interface", "x" * 16, "device name")):
        r = agent("lanyard-port", "validate-all", dict(params, **{key: value}),
                  service.env)
        assert r.returncode == OCF_ERR_CONFIGURED and word in r.stderr, \
            (key, r.stderr)


def test_meta_data_is_valid_xml():
    xmllint = shutil.which("xmllint")
    if not xmllint:
        pytest.skip("xmllint not installed")
    dtd = OCF_ROOT + "/../../share/resource-agents/ra-api-1.dtd"
    for name in ("lanyard", "lanyard-port"):
        md = agent(name, "meta-data", {}, dict(os.environ)).stdout
        args = [xmllint, "--noout"]
        if os.path.exists(dtd):
            args += ["--dtdvalid", dtd]
        r = subprocess.run(args + ["-"], input=md, capture_output=True,
                           text=True)
        assert r.returncode == 0, (name, r.stderr)
