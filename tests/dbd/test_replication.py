"""Active/backup replication: lanyard-dbd as a backup of a real ovsdb-server
and of another lanyard-dbd, read-only while backup, manual failover."""
import subprocess

import pytest

from servers import RawClient, Server, wait_for


def appctl(s, *args):
    return subprocess.run(["ovs-appctl", "-t", s.ctl, *args],
                          capture_output=True, text=True)


def bridges(s):
    r = subprocess.run(["ovs-vsctl", "--db=unix:" + s.sock, "--no-wait",
                        "list-br"], capture_output=True, text=True)
    return r.stdout.split()


@pytest.mark.parametrize("active_impl", ["ovs", "lanyard"])
def test_backup_follows_active_and_fails_over(active_impl):
    active = Server(active_impl)
    backup = None
    try:
        active.vsctl("init", "--", "add-br", "br0", "--", "add-port", "br0",
                     "p1", "tag=10")
        backup = Server("lanyard", ["--sync-from=unix:" + active.sock])
        wait_for(lambda: bridges(backup) == ["br0"], what="initial copy")
        assert appctl(backup, "ovsdb-server/sync-status").stdout.startswith(
            "state: backup\nreplicating: unix:")

        # Changes on the active appear on the backup, deletions too.
        active.vsctl("add-br", "br1", "--", "set", "port", "p1", "tag=20")
        wait_for(lambda: bridges(backup) == ["br0", "br1"], what="update")
        wait_for(lambda: subprocess.run(
            ["ovs-vsctl", "--db=unix:" + backup.sock, "--no-wait", "get",
             "port", "p1", "tag"], capture_output=True, text=True).stdout.strip()
            == "20", what="modify")
        active.vsctl("del-br", "br0")
        wait_for(lambda: bridges(backup) == ["br1"], what="delete")

        # The backup refuses writes and locks, as ovsdb-server does.
        c = RawClient(backup.sock)
        c.send({"method": "transact", "params": [
            "Open_vSwitch", {"op": "insert", "table": "Bridge",
                             "row": {"name": "x"}}], "id": 1})
        c.send({"method": "lock", "params": ["L"], "id": 2})
        replies = {m["id"]: m for m in c.recv_all()}
        c.close()
        assert replies[1]["result"][0] == {
            "error": "not allowed",
            "details": "insert operation not allowed when database server "
                       "is in read only mode"}
        assert replies[2]["error"] == ("lock and unlock methods not allowed, "
                                       "DB server is read only.")

        # Manual failover: the backup becomes writable and keeps the data.
        active.stop()
        assert appctl(backup, "ovsdb-server/disconnect-active-ovsdb-server").returncode == 0
        assert appctl(backup, "ovsdb-server/sync-status").stdout == "state: active\n"
        backup.vsctl("add-br", "br2")
        assert bridges(backup) == ["br1", "br2"]
        # And the copy is durable: it survives a restart of the new active.
        backup.stop()
        backup.start()
        assert bridges(backup) == ["br1", "br2"]
    finally:
        active.close()
        if backup:
            backup.close()


def test_exclude_tables_and_control_commands():
    active = Server("lanyard")
    backup = Server("lanyard")
    try:
        active.vsctl("init", "--", "add-br", "br0", "--", "--id=@q", "create",
                     "Queue", "dscp=5")
        assert appctl(backup, "ovsdb-server/get-active-ovsdb-server").stdout == "\n"
        r = appctl(backup, "ovsdb-server/connect-active-ovsdb-server")
        assert r.returncode == 0 and "active server is not specified" in r.stdout
        assert appctl(backup, "ovsdb-server/set-sync-exclude-tables",
                      "Open_vSwitch:Queue").returncode == 0
        assert appctl(backup, "ovsdb-server/get-sync-exclude-tables").stdout == \
            "Open_vSwitch:Queue\n"
        appctl(backup, "ovsdb-server/set-active-ovsdb-server", "unix:" + active.sock)
        assert appctl(backup, "ovsdb-server/connect-active-ovsdb-server").returncode == 0
        wait_for(lambda: bridges(backup) == ["br0"], what="copy")
        out = subprocess.run(["ovsdb-client", "dump", "unix:" + backup.sock,
                              "Open_vSwitch", "Queue"], capture_output=True,
                             text=True).stdout
        assert "dscp" in out and " 5" not in out.split("dscp", 1)[1]
        assert "exclude: Open_vSwitch:Queue" in appctl(
            backup, "ovsdb-server/sync-status").stdout
    finally:
        active.close()
        backup.close()
