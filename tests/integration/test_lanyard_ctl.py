"""lanyard-ctl start/stop/status against the real daemons, driven by real
ovs-vsctl and lanyard-vsctl, in a temp directory."""
import os
import re
import uuid

import pytest

from ctl_env import service  # noqa: F401 (pytest fixture)
from ctl_env import (CTL, OVS_VSCTL, needs_build, needs_root, rand_name,
                      run)

pytestmark = [needs_build, needs_root]


def pids(svc):
    out = {}
    for name in ("lanyard-dbd", "lanyard-switchd"):
        path = os.path.join(svc.rundir, name + ".pid")
        if os.path.exists(path):
            out[name] = int(open(path).read())
    return out


@pytest.mark.skipif(OVS_VSCTL is None, reason="ovs-vsctl not installed")
def test_start_status_stop_with_real_ovs_vsctl(service):
    r = service.ctl_ok("--system-type=KVM", "--system-version=7.7",
                       "--external-id=rack=r12", "start")
    assert "Creating database" in r.stdout
    assert os.path.exists(os.path.join(service.dbdir, "conf.db"))
    st = service.ctl("status")
    assert st.returncode == 0, st.stdout
    assert re.search(r"lanyard-dbd is running with pid \d+", st.stdout)
    assert re.search(r"lanyard-switchd is running with pid \d+", st.stdout)

    # Debian's ovs-vsctl sees what ovs-ctl would have written.
    ovs = lambda *a: service.vsctl(*a, prog=OVS_VSCTL)
    assert ovs("get", "Open_vSwitch", ".", "db_version") == '"8.3.1"'
    assert ovs("get", "Open_vSwitch", ".", "ovs_version") == '"3.1.0"'
    assert ovs("get", "Open_vSwitch", ".", "system_type") == "KVM"
    assert ovs("get", "Open_vSwitch", ".", "system_version") == '"7.7"'
    ids = ovs("get", "Open_vSwitch", ".", "external_ids")
    assert 'rack=r12' in ids and "hostname=" in ids
    assert 'rundir="%s"' % service.rundir in ids
    sysid = service.system_id()
    uuid.UUID(sysid)
    with open(os.path.join(service.dbdir, "system-id.conf")) as f:
        assert f.read().strip() == sysid

    # Without --no-wait, ovs-vsctl returns only when switchd applied it.
    br = rand_name("lyc")
    ovs("add-br", br)
    assert os.path.exists("/sys/class/net/" + br)

    running = pids(service)
    assert set(running) == {"lanyard-dbd", "lanyard-switchd"}
    sp = service.ctl_ok("stop")
    assert sp.stdout.index("lanyard-switchd") < sp.stdout.index("lanyard-dbd")
    for pid in running.values():
        assert not os.path.exists("/proc/%d/cmdline" % pid) or \
            open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z"
    assert pids(service) == {}
    assert not os.path.exists("/sys/class/net/" + br)
    st = service.ctl("status")
    assert st.returncode == 3
    assert "lanyard-dbd is not running" in st.stdout


def test_system_id_persists_and_bridges_survive_restart(service):
    service.ctl_ok("start")
    first = service.system_id()
    br = rand_name("lyr")
    service.vsctl("add-br", br)
    service.ctl_ok("restart")
    assert service.system_id() == first
    assert service.vsctl("list-br").split() == [br]
    assert os.path.exists("/sys/class/net/" + br)
    service.ctl_ok("stop")

    # A fresh database gets the recorded id back.
    os.unlink(os.path.join(service.dbdir, "conf.db"))
    service.ctl_ok("--system-id=random", "start")
    assert service.system_id() == first
    service.ctl_ok("stop")

    # An explicit id wins and becomes the recorded one.
    fixed = str(uuid.uuid4())
    service.ctl_ok("--system-id=" + fixed, "start")
    assert service.system_id() == fixed
    service.ctl_ok("restart")
    assert service.system_id() == fixed
    with open(os.path.join(service.dbdir, "system-id.conf")) as f:
        assert f.read().strip() == fixed


def test_adopts_system_id_of_open_vswitch_host(service):
    os.makedirs(service.ovs_etc)
    host_id = str(uuid.uuid4())
    with open(os.path.join(service.ovs_etc, "system-id.conf"), "w") as f:
        f.write(host_id + "\n")
    service.ctl_ok("--no-switchd", "start")
    assert service.system_id() == host_id
    with open(os.path.join(service.dbdir, "system-id.conf")) as f:
        assert f.read().strip() == host_id


def test_ovs_ctl_spellings_and_idempotence(service):
    r = service.ctl_ok("--no-ovs-vswitchd", "--no-mlockall", "start")
    assert "lanyard-switchd" not in r.stdout
    assert service.ctl("--no-ovs-vswitchd", "status").returncode == 0
    st = service.ctl("status")
    assert st.returncode == 3 and "lanyard-switchd is not running" in st.stdout
    again = service.ctl_ok("--no-switchd", "start")
    assert "already running" in again.stdout
    service.ctl_ok("--no-ovsdb-server", "start")
    assert service.ctl("status").returncode == 0
    # force-reload-kmod restarts switchd only.
    before = pids(service)
    service.ctl_ok("force-reload-kmod")
    after = pids(service)
    assert after["lanyard-dbd"] == before["lanyard-dbd"]
    assert after["lanyard-switchd"] != before["lanyard-switchd"]
    assert "no kernel module" in service.ctl_ok("load-kmod").stdout
    service.ctl_ok("stop")
    assert "not running" in service.ctl_ok("stop").stdout


def test_libvirt_plugs_a_vm_port_with_external_ids(service):
    """The ovs-vsctl command libvirt runs for <virtualport
    type='openvswitch'>, against Lanyard, with a tap device as the VM NIC."""
    service.ctl_ok("start")
    br, tap = rand_name("lyv"), rand_name("vnet")
    service.vsctl("add-br", br)
    assert run("ip", "tuntap", "add", "dev", tap, "mode", "tap").returncode == 0
    try:
        iface_id, vm_id = str(uuid.uuid4()), str(uuid.uuid4())
        mac = "52:54:00:12:34:56"
        # libvirt's command line (virNetDevOpenvswitchAddPort, 2019+).
        service.vsctl(
            "--", "--may-exist", "add-port", br, tap,
            "--", "set", "Port", tap, "other_config:transient=true",
            "tag=140",
            "--", "set", "Interface", tap,
            'external-ids:attached-mac="%s"' % mac,
            "--", "set", "Interface", tap,
            'external-ids:iface-id="%s"' % iface_id,
            "--", "set", "Interface", tap,
            'external-ids:vm-id="%s"' % vm_id,
            "--", "set", "Interface", tap, "external-ids:iface-status=active",
            prog=OVS_VSCTL or None)
        found = service.vsctl("--bare", "--columns=name", "find", "Interface",
                              "external_ids:iface-id=" + iface_id)
        assert found == tap
        assert int(service.vsctl("get", "Interface", tap, "ofport")) > 0
        assert service.vsctl("get", "Port", tap, "tag") == "140"
        # After a host reboot libvirt's ports are stale: ovs-ctl's
        # --delete-transient-ports removes them, and only them.
        service.vsctl("add-port", br, "lyk" + tap[4:], "--", "set",
                      "Interface", "lyk" + tap[4:], "type=internal")
        service.ctl_ok("stop")
        service.ctl_ok("--delete-transient-ports", "start")
        assert service.vsctl("list-ports", br).split() == ["lyk" + tap[4:]]
    finally:
        run("ip", "link", "del", tap)


def test_error_cases(service):
    r = service.ctl("--bogus", "start")
    assert r.returncode == 2 and "unknown option --bogus" in r.stderr
    r = service.ctl("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
    r = service.ctl("--system-id=", "start")
    assert r.returncode == 2 and "--system-id" in r.stderr
    r = run(CTL, "--rundir=relative", "status", env=service.env)
    assert r.returncode == 2 and "absolute" in r.stderr

    env = dict(service.env, LANYARD_BINDIR="/nonexistent",
               PATH="/nonexistent")
    r = service.ctl("start", env=env)
    assert r.returncode == 5 and "not found" in r.stderr

    os.makedirs(service.dbdir)
    db = os.path.join(service.dbdir, "conf.db")
    with open(db, "w") as f:
        f.write("not a database\n")
    r = service.ctl("start")
    assert r.returncode == 1
    assert "lanyard-dbd failed to start" in r.stderr and db in r.stderr
    os.unlink(db)

    os.makedirs(service.rundir, exist_ok=True)
    with open(os.path.join(service.rundir, "lanyard-dbd.pid"), "w") as f:
        f.write("4194304\n")            # above pid_max: never alive
    r = service.ctl("--no-switchd", "status")
    assert r.returncode == 1 and "dead" in r.stdout
    service.ctl_ok("start")             # a stale pidfile does not block
    assert service.ctl("status").returncode == 0
