"""Remotes taken from the database (ovs-vsctl set-manager), SSL remotes with
real ovsdb-client as the peer, and the per-client backlog limit."""
import os
import subprocess

import pytest

from servers import RawClient, Server, free_port, wait_for


def client_ok(remote, *ssl_args):
    r = subprocess.run(["ovsdb-client", "--timeout=5", *ssl_args, "list-dbs",
                        remote], capture_output=True, text=True)
    return r.returncode == 0 and "Open_vSwitch" in r.stdout


@pytest.mark.parametrize("impl", ["ovs", "lanyard"])
def test_manager_options_remote_follows_database(impl):
    s = Server(impl, ["--remote=db:Open_vSwitch,Open_vSwitch,manager_options"])
    try:
        port = free_port()
        remote = f"tcp:127.0.0.1:{port}"
        assert not client_ok(remote)
        s.vsctl("init", "--", "set-manager", f"ptcp:{port}:127.0.0.1")
        wait_for(lambda: client_ok(remote), what="manager listener")
        s.vsctl("del-manager")
        wait_for(lambda: not client_ok(remote), what="listener to close")
    finally:
        s.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem")
    for who in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={who}",
            "-keyout", f"{who}.key", "-out", f"{who}.csr")
        run("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-out", f"{who}.pem")
    # A certificate from an unrelated CA must be refused.
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=rogue", "-keyout", "rogue.key", "-out", "rogue.pem")
    return d


@pytest.mark.parametrize("impl", ["ovs", "lanyard"])
def test_pssl_remote_with_real_ovsdb_client(impl, certs):
    port = free_port()
    s = Server(impl, [f"--remote=pssl:{port}:127.0.0.1",
                      f"--private-key={certs}/server.key",
                      f"--certificate={certs}/server.pem",
                      f"--ca-cert={certs}/ca.pem"])
    try:
        remote = f"ssl:127.0.0.1:{port}"
        wait_for(lambda: client_ok(remote, f"--private-key={certs}/client.key",
                                   f"--certificate={certs}/client.pem",
                                   f"--ca-cert={certs}/ca.pem"),
                 what="ssl list-dbs")
        assert not client_ok(remote, f"--private-key={certs}/rogue.key",
                             f"--certificate={certs}/rogue.pem",
                             f"--ca-cert={certs}/ca.pem")
    finally:
        s.close()


def test_client_that_stops_reading_is_disconnected():
    s = Server("lanyard", ["--max-client-backlog=2000000"])
    try:
        s.vsctl("init", "--", "add-br", "br0")
        slow = RawClient(s.sock)
        slow.send({"method": "monitor", "params": ["Open_vSwitch", "m",
                                                   {"Bridge": {}}], "id": 1})
        # Never read again; meanwhile write ~20 MB of updates for it.
        blob = "x" * 20000
        for i in range(1000):
            s.vsctl("set", "bridge", "br0", f"external_ids:k={blob}{i}")
            if i % 50 == 0 and "not reading" in open(s.log).read():
                break
        wait_for(lambda: "not reading" in open(s.log).read(),
                 what="slow client to be disconnected")
        # The server is fine and the other clients too.
        assert s.vsctl("get", "bridge", "br0", "name").strip() == '"br0"' or \
            s.vsctl("get", "bridge", "br0", "name").strip() == "br0"
        assert s.proc.poll() is None
        slow.close()
    finally:
        s.close()
