"""SSL remotes (pssl:PORT:IP) with the real ovs-vsctl and ovsdb-client."""

import os
import subprocess

import pytest

from conftest import free_tcp_port, run


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def pki(tmpdir_path):
    """A throw-away CA with one server and one client certificate."""
    d = os.path.join(tmpdir_path, "pki")
    os.makedirs(d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=lanyard-test-ca", "-keyout", "ca.key", "-out",
            "ca.pem", cwd=d)
    for who in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
                "/CN=lanyard-test-" + who, "-keyout", who + ".key", "-out",
                who + ".csr", cwd=d)
        openssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out",
                who + ".pem", cwd=d)
    return d


def test_ssl_remote(impl, server_factory, pki):
    port = free_tcp_port()
    srv = server_factory(impl, extra_args=[
        "--remote=pssl:%d:127.0.0.1" % port,
        "--private-key=" + os.path.join(pki, "server.key"),
        "--certificate=" + os.path.join(pki, "server.pem"),
        "--ca-cert=" + os.path.join(pki, "ca.pem")])
    ssl_opts = ["--private-key=" + os.path.join(pki, "client.key"),
                "--certificate=" + os.path.join(pki, "client.pem"),
                "--ca-cert=" + os.path.join(pki, "ca.pem")]
    remote = "ssl:127.0.0.1:%d" % port
    r = run(["ovs-vsctl", "--db=" + remote, "--timeout=20", "--no-wait"]
            + ssl_opts + ["add-br", "brS", "--", "set", "Bridge", "brS",
                          "external-ids:via=ssl"], srv.dir)
    assert r.rc == 0, r
    r = run(["ovsdb-client", "--timeout=20"] + ssl_opts
            + ["dump", remote, "Open_vSwitch", "Bridge", "name", "external_ids"],
            srv.dir)
    assert r.rc == 0, r
    assert "brS" in r.out and "{via=ssl}" in r.out
    r = run(["ovs-appctl", "-t", srv.ctl, "ovsdb-server/list-remotes"], srv.dir)
    assert "pssl:%d:127.0.0.1" % port in r.out.splitlines()

    # a client whose certificate is not signed by the CA is refused
    bad = os.path.join(pki, "bad")
    os.makedirs(bad)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=intruder", "-keyout", "k", "-out", "c", cwd=bad)
    r = run(["ovs-vsctl", "--db=" + remote, "--timeout=5", "--no-wait",
             "--private-key=" + os.path.join(bad, "k"),
             "--certificate=" + os.path.join(bad, "c"),
             "--ca-cert=" + os.path.join(pki, "ca.pem"), "list-br"], srv.dir,
            timeout=30)
    assert r.rc == 1, r
    assert "database connection failed" in r.err
    assert "brS" not in r.out
