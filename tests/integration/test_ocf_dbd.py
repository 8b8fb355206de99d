"""The promotable agent ocf:lanyard:lanyard-dbd: ocf-tester (Debian's
resource-agents) including promote/demote, and two "nodes" on this machine
driven only through the agent, with the OCF_RESKEY_* variables and
notification data Pacemaker passes.

master_ip is a loopback address with listen_on_master_ip_only=yes, so only
the active instance listens there: the address follows the active as a
virtual IP does.  crm_attribute is a stand-in that keeps promotion scores
and cluster properties in files, so the scores the agent publishes are
checked too.
"""
import os
import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from ctl_env import BUILD, OCF_DIR, VSCTL, needs_build, rand_name, run

OCF_TESTER = shutil.which("ocf-tester") or "/usr/sbin/ocf-tester"
OCF_ROOT = "/usr/lib/ocf"
AGENT = os.path.join(OCF_DIR, "lanyard-dbd")
DBD = os.path.join(BUILD, "dbd", "lanyard-dbd")
APPCTL = os.path.join(BUILD, "tools", "appctl", "lanyard-appctl")
pytestmark = [
    needs_build,
    pytest.mark.skipif(not os.path.exists(OCF_TESTER) or not os.path.exists(
        OCF_ROOT + "/lib/heartbeat/ocf-shellfuncs"),
        reason="resource-agents (ocf-tester) not installed"),
]
OCF_SUCCESS, OCF_ERR_GENERIC, OCF_ERR_CONFIGURED = 0, 1, 6
OCF_NOT_RUNNING, OCF_RUNNING_MASTER, OCF_FAILED_MASTER = 7, 8, 9

FAKE_CRM_ATTRIBUTE = r"""#!/bin/sh
# Stand-in for Pacemaker's crm_attribute: one file per attribute.
name= node= value= query= delete=
while [ $# -gt 0 ]; do
    case $1 in
        --promotion=*) name=promotion-${1#*=} ;;
        -N) node=$2; shift ;;
        -v) value=$2; shift ;;
        -D) delete=1 ;;
        --query) query=1 ;;
        --name) name=$2; shift ;;
        --type) shift ;;
    esac
    shift
done
f="$FAKE_CRM_STORE/$name${node:+@$node}"
if [ -n "$query" ]; then cat "$f" 2>/dev/null || exit 6
elif [ -n "$delete" ]; then rm -f "$f"
else echo "$value" > "$f"
fi
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def burst(ip, port, n, budget=1.5):
    """Up to N transactions pipelined on one connection, 100 at a time,
    for at most BUDGET seconds (slow sanitizer builds do fewer: the paused
    backup must not stay silent past the active's 5 s inactivity probe).
    Returns how many were committed (answered)."""
    done = 0
    deadline = time.time() + budget
    with socket.create_connection((ip, port), timeout=10) as sk:
        while done < n and time.time() < deadline:
            chunk = range(done, min(n, done + 100))
            sk.sendall("".join(json.dumps({
                "method": "transact", "id": i, "params": [
                    "Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch",
                                     "where": [], "mutations": [[
                                         "external_ids", "insert",
                                         ["map", [["k%d" % i, "v"]]]]]}]})
                for i in chunk).encode())
            buf = b""
            while buf.count(b'"id":') < len(chunk):
                data = sk.recv(65536)
                assert data, "connection closed"
                buf += data
            assert b'"error"' not in buf.replace(b'"error":null', b""), \
                buf[:300]
            done += len(chunk)
    return done


class Cluster:
    """Per-node directories, the fake crm_attribute and its store."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lyha-")
        self.store = os.path.join(self.dir, "crm")
        bindir = os.path.join(self.dir, "bin")
        os.makedirs(self.store)
        os.makedirs(bindir)
        fake = os.path.join(bindir, "crm_attribute")
        with open(fake, "w") as f:
            f.write(FAKE_CRM_ATTRIBUTE)
        os.chmod(fake, 0o755)
        self.env = dict(os.environ, OCF_ROOT=OCF_ROOT,
                        PATH=bindir + ":" + os.environ["PATH"],
                        FAKE_CRM_STORE=self.store)
        self.port = free_port()
        # A loopback address of its own: only the active binds it.
        self.vip = "127.%d.%d.%d" % tuple(1 + b % 254 for b in os.urandom(3))
        self.nodes = {}

    def params(self, node):
        d = os.path.join(self.dir, node)
        return {"lanyard_dbd": DBD, "lanyard_appctl": APPCTL,
                "db_file": d + "/etc/conf.db", "rundir": d + "/run",
                "logdir": d + "/log", "master_ip": self.vip,
                "master_port": str(self.port),
                "listen_on_master_ip_only": "yes", "probe_interval": "1000"}

    def agent(self, node, action, notify=None, extra=None):
        env = dict(self.env, OCF_RESOURCE_INSTANCE="dbd:0",
                   OCF_RESKEY_CRM_meta_on_node=node,
                   OCF_RESKEY_CRM_meta_timeout="20000")
        for k, v in dict(self.params(node), **(extra or {})).items():
            env["OCF_RESKEY_" + k] = v
        for k, v in (notify or {}).items():
            env["OCF_RESKEY_CRM_meta_notify_" + k] = v
        return run(AGENT, action, env=env)

    def ok(self, node, action, rc=OCF_SUCCESS, **kw):
        r = self.agent(node, action, **kw)
        assert r.returncode == rc, "%s %s: rc %d, want %d\n%s%s" % (
            node, action, r.returncode, rc, r.stdout, r.stderr)
        return r

    def score(self, node):
        try:
            with open(os.path.join(self.store,
                                   "promotion-dbd@" + node)) as f:
                return int(f.read())
        except FileNotFoundError:
            return None

    def last_active(self):
        with open(os.path.join(self.store, "dbd-last-active-node")) as f:
            return f.read().strip()

    def sock(self, node):
        return self.params(node)["rundir"] + "/db.sock"

    def pid(self, node):
        with open(self.params(node)["rundir"] + "/lanyard-dbd.pid") as f:
            return int(f.read())

    def vsctl(self, db, *args):
        return run(VSCTL, "--db=" + db, "--no-wait", "--timeout=5", *args)

    def bridges(self, node):
        r = self.vsctl("unix:" + self.sock(node), "list-br")
        return r.stdout.split() if r.returncode == 0 else None

    def sync_status(self, node):
        return run(APPCTL, "-t", self.params(node)["rundir"] + "/lanyard-dbd."
                   + str(self.pid(node)) + ".ctl",
                   "ovsdb-server/sync-status").stdout

    def close(self):
        for node in self.nodes:
            self.agent(node, "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    c = Cluster()
    try:
        yield c
    finally:
        c.close()


def test_dbd_agent_passes_ocf_tester(cluster):
    cluster.nodes["t"] = True
    args = [OCF_TESTER, "-n", rand_name("dbd")]
    for k, v in cluster.params("t").items():
        args += ["-o", "%s=%s" % (k, v)]
    r = run(*args, AGENT, env=cluster.env, timeout=120)
    assert r.returncode == 0 and "passed all tests" in r.stdout, \
        r.stdout + r.stderr
    # ocf-tester stopped it: nothing runs, nothing listens.
    assert not os.path.exists(cluster.params("t")["rundir"] +
                              "/lanyard-dbd.pid")


def test_dbd_agent_meta_data_and_validation(cluster):
    md = run(AGENT, "meta-data", env=cluster.env).stdout
    assert 'role="Promoted"' in md and 'name="promote"' in md
    xmllint = shutil.which("xmllint")
    if xmllint:
        dtd = "/usr/share/resource-agents/ra-api-1.dtd"
        args = [xmllint, "--noout"] + (["--dtdvalid", dtd]
                                       if os.path.exists(dtd) else [])
        r = subprocess.run(args + ["-"], input=md, capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
    for key, value, word in (("master_ip", "", "master_ip is required"),
                             ("master_ip", "10.0.0", "not an IPv4"),
                             ("master_port", "70000", "master_port"),
                             ("master_protocol", "udp", "tcp or ssl"),
                             ("master_protocol", "ssl", "ssl_private_key"),
                             ("listen_on_master_ip_only", "maybe",
                              "yes or no"),
                             ("probe_interval", "5s", "milliseconds"),
                             ("rundir", "run", "absolute")):
        r = cluster.agent("v", "validate-all", extra={key: value})
        assert r.returncode == OCF_ERR_CONFIGURED and word in r.stderr, \
            (key, value, r.stderr)
    r = cluster.agent("v", "validate-all",
                      extra={"lanyard_dbd": "/nonexistent"})
    assert r.returncode == 5 and "/nonexistent" in r.stderr
    # A probe where Lanyard is not installed: "not running here".
    r = cluster.agent("v", "monitor", extra={"lanyard_dbd": "/nonexistent",
                                             "CRM_meta_interval": "0"})
    assert r.returncode == OCF_NOT_RUNNING


def test_two_nodes_failover_and_catch_up(cluster):
    c = cluster
    c.nodes.update(a=True, b=True)
    vip_db = "tcp:%s:%d" % (c.vip, c.port)

    # Cold start: both backups, following nobody, equally unsure.
    for n in ("a", "b"):
        c.ok(n, "start", notify={"all_uname": "a b", "start_uname": "a b"})
        c.ok(n, "monitor")
        assert c.score(n) == 1
        assert "connecting: unix:" in c.sync_status(n)
    r = c.vsctl("unix:" + c.sock("a"), "add-br", "br0")
    assert r.returncode != 0 and "read only" in r.stderr

    # Promote a: it listens at master_ip and accepts writes there.
    c.ok("a", "promote", notify={"promote_uname": "a"})
    c.ok("a", "monitor", rc=OCF_RUNNING_MASTER)
    assert c.score("a") == 10 and c.last_active() == "a"
    post_promote_a = {"type": "post", "operation": "promote",
                      "promote_uname": "a", "all_uname": "a b"}
    for n in ("a", "b"):
        c.ok(n, "notify", notify=post_promote_a)
    for i in range(3):
        r = c.vsctl(vip_db, "add-br", "br%d" % i, "--", "set", "bridge",
                    "br%d" % i, "external_ids:step=%d" % i)
        assert r.returncode == 0, r.stderr
    wait_for(lambda: c.bridges("b") == ["br0", "br1", "br2"], what="b copy")
    c.ok("b", "monitor")
    assert c.score("b") == 5
    assert c.sync_status("b").startswith("state: backup\nreplicating: tcp:")

    # a dies: its monitor reports a failed active; b still holds a's data.
    os.kill(c.pid("a"), signal.SIGKILL)
    wait_for(lambda: c.agent("a", "monitor").returncode == OCF_FAILED_MASTER,
             what="a failed")
    c.ok("b", "monitor")
    assert c.score("b") == 5

    # Promote b: everything is there, and it takes writes at master_ip.
    c.ok("b", "promote", notify={"promote_uname": "b", "stop_uname": "a"})
    c.ok("b", "monitor", rc=OCF_RUNNING_MASTER)
    assert c.score("b") == 10 and c.last_active() == "b"
    r = c.vsctl(vip_db, "get", "bridge", "br2", "external_ids:step")
    assert r.returncode == 0 and r.stdout.strip() == '"2"', r.stderr
    r = c.vsctl(vip_db, "add-br", "br3")
    assert r.returncode == 0, r.stderr

    # a comes back (Pacemaker stops the failed instance, then starts it
    # with b promoted): a backup of b that catches up.
    c.ok("a", "stop")
    c.ok("a", "monitor", rc=OCF_NOT_RUNNING)
    c.ok("a", "start", notify={"promoted_uname": "b", "start_uname": "a",
                               "all_uname": "a b"})
    wait_for(lambda: c.bridges("a") == ["br0", "br1", "br2", "br3"],
             what="a catches up")
    c.ok("a", "monitor")
    assert c.score("a") == 5

    # Planned switch-over back to a: demote b, promote a, notify.  Right
    # before, b commits a burst that a (paused) has not applied yet:
    # promotion applies everything b sent before it becomes active.
    os.kill(c.pid("a"), signal.SIGSTOP)
    try:
        n = burst(c.vip, c.port, 1500)
        c.ok("b", "demote", notify={"promoted_uname": "b",
                                    "demote_uname": "b", "promote_uname": "a"})
    finally:
        os.kill(c.pid("a"), signal.SIGCONT)
    c.ok("a", "promote", notify={"promoted_uname": "b", "demote_uname": "b",
                                 "promote_uname": "a"})
    ids = c.vsctl(vip_db, "get", "Open_vSwitch", ".", "external_ids").stdout
    keys = set(kv.split("=")[0] for kv in ids.strip("{}\n").split(", "))
    missing = set("k%d" % i for i in range(n)) - keys
    assert not missing, sorted(missing)[:20]
    c.ok("b", "monitor")
    post_promote_b = dict(post_promote_a)
    for n in ("a", "b"):
        c.ok(n, "notify", notify=post_promote_b)
    r = c.vsctl(vip_db, "del-br", "br0")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: c.bridges("b") == ["br1", "br2", "br3"],
             what="b follows a again")
    c.ok("a", "monitor", rc=OCF_RUNNING_MASTER)
    c.ok("b", "monitor")
    assert (c.score("a"), c.score("b")) == (10, 5)

    # Stopping removes the node from promotion.
    c.ok("b", "stop")
    assert c.score("b") is None

    # The whole cluster restarts: with nobody promoted, the last active's
    # copy is preferred over a backup's.
    c.ok("a", "stop")
    for n in ("a", "b"):
        c.ok(n, "start", notify={"all_uname": "a b", "start_uname": "a b"})
    assert (c.score("a"), c.score("b")) == (10, 1)
    assert c.bridges("b") == ["br1", "br2", "br3"]


def test_every_instance_listens_without_master_ip_only(cluster):
    c = cluster
    c.nodes["s"] = True
    extra = {"listen_on_master_ip_only": "no"}
    c.ok("s", "start", extra=extra)
    db = "tcp:127.0.0.1:%d" % c.port
    # A backup serves clients on every address, and refuses writes.
    with socket.create_connection(("127.0.0.1", c.port), timeout=5) as sk:
        sk.sendall(b'{"method":"list_dbs","params":[],"id":1}')
        assert b'"Open_vSwitch"' in sk.recv(4096)
    assert "read only" in c.vsctl(db, "add-br", "brx").stderr
    c.ok("s", "promote", extra=extra)
    r = c.vsctl(db, "add-br", "brx")
    assert r.returncode == 0, r.stderr
    c.ok("s", "demote", extra=extra)
    c.ok("s", "monitor", extra=extra)
    c.ok("s", "stop", extra=extra)


COROSYNC_CONF = """totem {
    version: 2
    cluster_name: %(name)s
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}
nodelist {
    node {
        ring0_addr: 127.0.0.1
        name: %(node)s
        nodeid: 1
    }
}
quorum {
    provider: corosync_votequorum
}
logging {
    to_stderr: yes
    to_syslog: no
}
"""

CLONE_XML = """<clone id="%(rsc)s-clone">
  <meta_attributes id="%(rsc)s-clone-meta">
    <nvpair id="%(rsc)s-m1" name="promotable" value="true"/>
    <nvpair id="%(rsc)s-m2" name="notify" value="true"/>
    <nvpair id="%(rsc)s-m3" name="clone-max" value="1"/>
  </meta_attributes>
  <primitive id="%(rsc)s" class="ocf" provider="%(provider)s"
             type="lanyard-dbd">
    <instance_attributes id="%(rsc)s-ia">%(params)s</instance_attributes>
    <operations>
      <op id="%(rsc)s-mp" name="monitor" interval="2s" role="Promoted"
          timeout="20s"/>
      <op id="%(rsc)s-mu" name="monitor" interval="3s" role="Unpromoted"
          timeout="20s"/>
    </operations>
  </primitive>
</clone>"""


@pytest.mark.skipif(
    os.environ.get("LANYARD_TEST_PACEMAKER") != "1" or os.geteuid() != 0
    or not all(shutil.which(p) for p in ("corosync", "pacemakerd", "cibadmin",
                                         "crm_mon")),
    reason="opt-in (LANYARD_TEST_PACEMAKER=1, root, pacemaker and corosync "
           "installed): runs a real single-node cluster for about 40 s")
def test_real_single_node_pacemaker(cluster):
    """Pacemaker itself drives the agent: start, promote, and recovery of a
    killed active (monitor says "promoted (failed)"), data kept."""
    if run("pgrep", "-x", "corosync").returncode == 0 or \
       run("pgrep", "-x", "pacemakerd").returncode == 0:
        pytest.skip("a cluster already runs on this machine")
    c = cluster
    node, rsc = rand_name("lyn"), rand_name("lydbd")
    provider = rand_name("lyhatest")
    provider_dir = "/usr/lib/ocf/resource.d/" + provider
    conf = os.path.join(c.dir, "corosync.conf")
    with open(conf, "w") as f:
        f.write(COROSYNC_CONF % {"name": rsc, "node": node})
    os.makedirs(provider_dir)
    os.symlink(AGENT, provider_dir + "/lanyard-dbd")
    params = dict(c.params(node), master_ip="127.0.0.1")
    nvpairs = "".join('<nvpair id="%s-p%d" name="%s" value="%s"/>' % (
        rsc, i, k, v) for i, (k, v) in enumerate(sorted(params.items())))
    daemons = []
    try:
        daemons.append(subprocess.Popen(
            ["corosync", "-f", "-c", conf], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        time.sleep(1)
        daemons.append(subprocess.Popen(
            ["pacemakerd", "-f"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ,
                     PCMK_logfile=os.path.join(c.dir, "pcmk.log"))))

        def mon():
            return run("crm_mon", "-1", "-A").stdout
        wait_for(lambda: "partition with quorum" in mon(), timeout=60,
                 what="a DC")
        run("crm_attribute", "--type", "crm_config", "--name",
            "stonith-enabled", "--update", "false", check=True)
        r = run("cibadmin", "--create", "-o", "resources", "--xml-text",
                CLONE_XML % {"rsc": rsc, "provider": provider,
                             "params": nvpairs})
        assert r.returncode == 0, r.stderr
        wait_for(lambda: "Promoted: [ %s ]" % node in mon(), timeout=30,
                 what="promoted")
        assert "master-%s" % rsc in mon() and ": 10" in mon()
        db = "tcp:127.0.0.1:%d" % c.port
        r = c.vsctl(db, "add-br", "brpc")
        assert r.returncode == 0, r.stderr

        old = c.pid(node)
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: "promoted (failed)" in run(
            "crm_mon", "-1", "--include=all").stdout, timeout=30,
            what="the failure seen")

        def recovered():
            try:
                return c.pid(node) != old and \
                    "Promoted: [ %s ]" % node in mon()
            except (OSError, ValueError):
                return False
        wait_for(recovered, timeout=30, what="recovery")
        assert c.vsctl(db, "list-br").stdout.split() == ["brpc"]
    finally:
        c.nodes[node] = True        # the fixture stops it if Pacemaker did not
        run("crm_resource", "-r", rsc + "-clone", "--meta", "-p",
            "target-role", "-v", "Stopped")
        try:
            wait_for(lambda: not os.path.exists(
                c.params(node)["rundir"] + "/lanyard-dbd.pid"), timeout=20,
                what="stopped")
        except AssertionError:
            pass
        run("cibadmin", "--delete", "--xml-text",
            '<clone id="%s-clone"/>' % rsc)
        for d in reversed(daemons):
            d.terminate()
            try:
                d.wait(timeout=30)
            except subprocess.TimeoutExpired:
                d.kill()
                d.wait()
        shutil.rmtree(provider_dir, ignore_errors=True)


def test_replication_over_ssl(cluster):
    c = cluster
    c.nodes.update(a=True, b=True)
    pki = os.path.join(c.dir, "pki")
    os.makedirs(pki)

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=pki, check=True,
                       capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=lyha-ca",
            "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", *ec, "-subj", "/CN=lyha-db", "-keyout", "db.key",
            "-out", "db.csr")
    openssl("x509", "-req", "-in", "db.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-out", "db.pem")
    ssl = {"master_protocol": "ssl",
           "ssl_private_key": os.path.join(pki, "db.key"),
           "ssl_certificate": os.path.join(pki, "db.pem"),
           "ssl_ca_cert": os.path.join(pki, "ca.pem")}
    for n in ("a", "b"):
        c.ok(n, "start", extra=ssl,
             notify={"all_uname": "a b", "start_uname": "a b"})
    c.ok("a", "promote", extra=ssl, notify={"promote_uname": "a"})
    c.ok("b", "notify", extra=ssl, notify={
        "type": "post", "operation": "promote", "promote_uname": "a"})
    r = c.vsctl("unix:" + c.sock("a"), "add-br", "brssl")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: c.bridges("b") == ["brssl"], what="copy over SSL")
    assert c.sync_status("b").startswith(
        "state: backup\nreplicating: ssl:%s:%d" % (c.vip, c.port))
