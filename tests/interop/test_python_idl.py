"""The Python IDL from python3-openvswitch (what ovsdbapp, os-vif and the
neutron agent use) against each server."""

import time

import pytest

from conftest import VSWITCH_SCHEMA, vsctl

ovs_idl = pytest.importorskip("ovs.db.idl")
import ovs.poller  # noqa: E402


def make_idl(remote):
    helper = ovs_idl.SchemaHelper(location=VSWITCH_SCHEMA)
    helper.register_all()
    return ovs_idl.Idl(remote, helper)


def run_until(idl, pred, timeout=10.0, what="IDL condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        idl.run()
        if pred():
            return
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.timer_wait(50)
        poller.block()
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture
def idl_factory():
    idls = []

    def make(remote):
        idl = make_idl(remote)
        idls.append(idl)
        return idl

    yield make
    for idl in idls:
        idl.close()


def connected(idl, timeout=10.0):
    seq = idl.change_seqno
    run_until(idl, lambda: idl.has_ever_connected() and idl.change_seqno != seq,
              timeout, "initial IDL contents")


def bridges(idl):
    return {r.name: r for r in idl.tables["Bridge"].rows.values()}


def test_idl_reads_rows_written_by_vsctl(server, idl_factory):
    vsctl(server, "add-br", "br0", "--", "add-port", "br0", "eth0", "tag=10",
          "--", "set", "Interface", "eth0", "external-ids:iface-id=abc",
          check=True)
    idl = idl_factory(server.remote)
    connected(idl)
    assert set(bridges(idl)) == {"br0"}
    ports = {p.name: p for p in idl.tables["Port"].rows.values()}
    assert set(ports) == {"br0", "eth0"}
    assert ports["eth0"].tag == [10]
    iface = ports["eth0"].interfaces[0]
    assert iface.name == "eth0"
    assert iface.external_ids == {"iface-id": "abc"}
    ovsrow = next(iter(idl.tables["Open_vSwitch"].rows.values()))
    assert [b.name for b in ovsrow.bridges] == ["br0"]


def test_idl_transaction_then_vsctl_sees_it(server, idl_factory):
    vsctl(server, "init", check=True)
    idl = idl_factory(server.remote)
    connected(idl)
    txn = ovs_idl.Transaction(idl)
    ovsrow = next(iter(idl.tables["Open_vSwitch"].rows.values()))
    iface = txn.insert(idl.tables["Interface"])
    iface.name = "brI"
    iface.type = "internal"
    port = txn.insert(idl.tables["Port"])
    port.name = "brI"
    port.interfaces = [iface]
    br = txn.insert(idl.tables["Bridge"])
    br.name = "brI"
    br.ports = [port]
    br.external_ids = {"bridge-id": "from-idl"}
    ovsrow.addvalue("bridges", br.uuid)
    status = txn.commit_block()
    assert status == ovs_idl.Transaction.SUCCESS, txn.get_error()

    r = vsctl(server, "list-br", check=True)
    assert r.out == "brI\n"
    r = vsctl(server, "br-get-external-id", "brI", "bridge-id", check=True)
    assert r.out == "from-idl\n"
    r = vsctl(server, "get", "Interface", "brI", "type", check=True)
    assert r.out == "internal\n"
    # the IDL's own replica caught up with its own write
    run_until(idl, lambda: "brI" in bridges(idl))
    assert str(bridges(idl)["brI"].uuid) == \
        vsctl(server, "get", "Bridge", "brI", "_uuid", check=True).out.strip()


def test_idl_receives_update_from_other_client(server, idl_factory):
    vsctl(server, "add-br", "br0", check=True)
    idl = idl_factory(server.remote)
    connected(idl)
    assert set(bridges(idl)) == {"br0"}

    seq = idl.change_seqno
    vsctl(server, "br-set-external-id", "br0", "k", "v1", "--", "add-br", "br1",
          check=True)
    run_until(idl, lambda: idl.change_seqno != seq and "br1" in bridges(idl)
              and bridges(idl)["br0"].external_ids.get("k") == "v1",
              what="update for br0/br1")

    vsctl(server, "del-br", "br0", check=True)
    run_until(idl, lambda: set(bridges(idl)) == {"br1"}, what="delete of br0")


def test_idl_verify_conflict_retries(server, idl_factory):
    """An IDL transaction built on a stale replica must not be applied: the
    server answers the IDL's 'wait' op with a failure and the IDL reports
    TRY_AGAIN (optimistic concurrency used by ovsdbapp)."""
    vsctl(server, "add-br", "br0", check=True)
    idl = idl_factory(server.remote)
    connected(idl)
    br = bridges(idl)["br0"]
    txn = ovs_idl.Transaction(idl)
    br.verify("external_ids")
    br.external_ids = {"k": "idl"}
    # another client changes the verified column before the commit arrives
    vsctl(server, "br-set-external-id", "br0", "k", "vsctl", check=True)
    status = txn.commit_block()
    assert status == ovs_idl.Transaction.TRY_AGAIN
    r = vsctl(server, "br-get-external-id", "br0", "k", check=True)
    assert r.out == "vsctl\n"


def test_idl_over_tcp(tcp_server, idl_factory):
    vsctl(tcp_server, "add-br", "brT", check=True)
    idl = idl_factory(tcp_server.tcp_remote)
    connected(idl)
    assert set(bridges(idl)) == {"brT"}
