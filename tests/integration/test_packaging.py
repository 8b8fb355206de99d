"""The systemd units (systemd-analyze verify) and `meson install` of the
service files."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from ctl_env import BUILD, CTL, ROOT, run

UNITS = ["lanyard-dbd.service", "lanyard-switchd.service", "lanyard.service"]
UNIT_SRC = os.path.join(ROOT, "packaging", "systemd")


def configure(text, sbindir, rundir, docdir):
    """What packaging/meson.build's configure_file does."""
    out = (text.replace("@SBINDIR@", sbindir).replace("@RUNDIR@", rundir)
           .replace("@DOCDIR@", docdir))
    assert "@" not in out, "unsubstituted placeholder"
    return out


def parse_unit(text):
    """Minimal systemd unit parser: {section: {key: [values]}}."""
    sections, cur = {}, None
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if m:
            cur = sections.setdefault(m.group(1), {})
            continue
        assert cur is not None and "=" in line, "line %d: %r" % (n, line)
        k, v = line.split("=", 1)
        cur.setdefault(k.strip(), []).append(v.strip())
    return sections


@pytest.fixture
def unit_dir():
    d = tempfile.mkdtemp(prefix="lyunit-")
    sbindir = os.path.join(d, "sbin")
    os.mkdir(sbindir)
    shutil.copy(CTL, sbindir)
    for u in UNITS:
        with open(os.path.join(UNIT_SRC, u + ".in")) as f:
            text = configure(f.read(), sbindir, "/var/run/lanyard",
                             "/usr/share/doc/lanyard")
        with open(os.path.join(d, u), "w") as f:
            f.write(text)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_units_dependencies(unit_dir):
    units = {}
    for u in UNITS:
        with open(os.path.join(unit_dir, u)) as f:
            units[u] = parse_unit(f.read())
    dbd, sw, top = (units[u] for u in UNITS)
    for svc in (dbd, sw):
        assert svc["Service"]["Type"] == ["forking"]
        assert svc["Service"]["PIDFile"][0].startswith("/var/run/lanyard/")
        assert svc["Service"]["ExecStart"][0].split()[0].endswith(
            "/lanyard-ctl")
        assert svc["Unit"]["PartOf"] == ["lanyard.service"]
    assert "--no-switchd" in dbd["Service"]["ExecStart"][0]
    assert "--no-dbd" in sw["Service"]["ExecStart"][0]
    assert "lanyard-dbd.service" in sw["Unit"]["Requires"][0].split()
    assert "lanyard-dbd.service" in sw["Unit"]["After"][0].split()
    assert set(top["Unit"]["Requires"][0].split()) == {
        "lanyard-dbd.service", "lanyard-switchd.service"}
    assert top["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_analyze_verify(unit_dir):
    sa = shutil.which("systemd-analyze")
    if not sa:
        pytest.skip("systemd-analyze not installed (parse check above ran)")
    paths = [os.path.join(unit_dir, u) for u in UNITS]
    r = run(sa, "verify", "--man=no", *paths,
            env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    # Lines about the host's own units are not ours to judge.
    ours = [l for l in (r.stdout + r.stderr).splitlines()
            if "lanyard" in l]
    assert r.returncode == 0 and not ours, r.stdout + r.stderr


def test_meson_install_puts_service_files_in_place():
    if not os.path.exists(os.path.join(BUILD, "packaging",
                                       "lanyard.service")):
        pytest.skip("build predates packaging/ (reconfigure LANYARD_BUILD)")
    dest = tempfile.mkdtemp(prefix="lyinst-")
    try:
        r = run("meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                "--destdir", dest, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        prefix = subprocess.run(
            ["meson", "introspect", "--buildoptions", BUILD],
            capture_output=True, text=True).stdout
        m = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix)
        pfx = dest + (m.group(1) if m else "/usr/local")
        for p in ("sbin/lanyard-ctl", "lib/systemd/system/lanyard.service",
                  "lib/systemd/system/lanyard-dbd.service",
                  "lib/systemd/system/lanyard-switchd.service"):
            assert os.path.exists(os.path.join(pfx, p)), p
        assert os.access(os.path.join(pfx, "sbin/lanyard-ctl"), os.X_OK)
        for a in ("lanyard", "lanyard-port", "lanyard-dbd"):
            path = dest + "/usr/lib/ocf/resource.d/lanyard/" + a
            assert os.access(path, os.X_OK), path
        with open(os.path.join(pfx, "lib/systemd/system/lanyard-dbd.service")) as f:
            assert "ExecStart=%s/sbin/lanyard-ctl" % pfx[len(dest):] in f.read()
    finally:
        shutil.rmtree(dest, ignore_errors=True)
