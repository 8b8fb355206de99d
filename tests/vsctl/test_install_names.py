"""scripts/install-ovs-names.sh PREFIX: ovs-vsctl and ovs-appctl names for
Lanyard's tools, never silently replacing Open vSwitch's own binaries."""

import os
import subprocess

from vsctl_harness import (INSTALL_NAMES, REAL_VSCTL,  # noqa: F401
                           install_lanyard_tools, workdir)


def run_install(prefix, **env):
    e = dict(os.environ, NO_RUNTIME="1")
    e.update(env)
    return subprocess.run(["sh", INSTALL_NAMES, prefix], capture_output=True,
                          text=True, env=e, timeout=30)


def test_installs_links_and_tmpfiles(workdir):
    prefix = os.path.join(workdir, "p1")
    bindir = install_lanyard_tools(prefix)
    r = run_install(prefix)
    assert r.returncode == 0, r.stderr
    for name, tool in (("ovs-vsctl", "lanyard-vsctl"),
                       ("ovs-appctl", "lanyard-appctl")):
        path = os.path.join(bindir, name)
        assert os.path.islink(path) and os.readlink(path) == tool
    with open(os.path.join(prefix, "lib", "tmpfiles.d",
                           "lanyard-ovs-names.conf")) as f:
        text = f.read()
    assert "L /run/openvswitch/db.sock - - - - /run/lanyard/db.sock" in text
    # Invoked by the new names, the tools answer as those names.
    for name in ("ovs-vsctl", "ovs-appctl"):
        p = subprocess.run([os.path.join(bindir, name), "--version"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0 and p.stdout.startswith(name + " "), p
    # Running it again changes nothing and succeeds.
    r = run_install(prefix)
    assert r.returncode == 0 and "already points" in r.stdout, r


def test_refuses_to_replace_real_ovs_binary(workdir):
    prefix = os.path.join(workdir, "p2")
    bindir = install_lanyard_tools(prefix)
    victim = os.path.join(bindir, "ovs-vsctl")
    with open(REAL_VSCTL, "rb") as src, open(victim, "wb") as dst:
        dst.write(src.read())
    os.chmod(victim, 0o755)
    before = os.stat(victim)
    r = run_install(prefix)
    assert r.returncode == 1
    assert "refusing to replace %s" % victim in r.stderr
    assert "FORCE=1" in r.stderr
    assert not os.path.islink(victim)
    assert os.stat(victim).st_ino == before.st_ino
    assert not os.path.lexists(os.path.join(bindir, "ovs-appctl")) or \
        os.path.islink(os.path.join(bindir, "ovs-appctl"))

    r = run_install(prefix, FORCE="1")
    assert r.returncode == 0, r.stderr
    assert os.readlink(victim) == "lanyard-vsctl"
    assert os.stat(victim + ".ovs-orig").st_ino == before.st_ino


def test_requires_lanyard_tools(workdir):
    prefix = os.path.join(workdir, "p3")
    r = run_install(prefix)
    assert r.returncode == 1
    assert "lanyard-vsctl is missing" in r.stderr
    assert not os.path.lexists(os.path.join(prefix, "bin", "ovs-vsctl"))


def test_usage():
    r = subprocess.run(["sh", INSTALL_NAMES], capture_output=True, text=True)
    assert r.returncode == 1 and "usage:" in r.stderr
