"""Shared machinery for the lanyard-vsctl differential suite.

The suite runs the same command scripts with the real ovs-vsctl and with
lanyard-vsctl, each against the real ovsdb-server and against lanyard-dbd,
and compares what a caller sees.  Everything here is plain data and helpers;
the scripts themselves live in vsctl_scripts.py.

Binaries:
  * real OVS: ovs-vsctl, ovsdb-server, ovsdb-tool, ovsdb-client from PATH
    (Debian's openvswitch packages);
  * Lanyard: $LANYARD_BUILD/dbd/lanyard-dbd, tools/vsctl/lanyard-vsctl and
    tools/appctl/lanyard-appctl, installed under the names ovs-vsctl and
    ovs-appctl into a temporary prefix by scripts/install-ovs-names.sh, and
    always invoked through those names (so error prefixes read "ovs-vsctl:"
    and the name install is exercised by every test).
  * LANYARD_VSCTL_UNDER_TEST=/path overrides the client under test (for
    developing the suite itself, e.g. with the real ovs-vsctl on both sides).

Name clash note: this directory has no conftest.py on purpose (tests/interop
has one and its modules import it by that name); fixtures are imported from
here by each test module.
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(os.environ.get("LANYARD_BUILD",
                                       os.path.join(REPO, "build")))
DBD = os.path.join(BUILD, "dbd", "lanyard-dbd")
LANYARD_VSCTL = os.path.join(BUILD, "tools", "vsctl", "lanyard-vsctl")
LANYARD_APPCTL = os.path.join(BUILD, "tools", "appctl", "lanyard-appctl")
INSTALL_NAMES = os.path.join(REPO, "scripts", "install-ovs-names.sh")
VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
REAL_VSCTL = shutil.which("ovs-vsctl") or "/usr/bin/ovs-vsctl"
REAL_APPCTL = shutil.which("ovs-appctl") or "/usr/bin/ovs-appctl"

UUID_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHORT_UUID_RE = re.compile(r"\b[0-9a-f]{8}\b")
# Console log lines of OVS tools: "2026-11-21T03:00:19Z|00002|module|WARN|".
VLOG_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", re.M)

# Tables whose rows ovs-vsctl can name; their UUIDs normalise to the name.
NAME_COLUMN = {
    "Bridge": "name", "Port": "name", "Interface": "name",
    "Mirror": "name", "Flow_Table": "name", "Manager": "target",
    "Controller": "target", "Flow_Sample_Collector_Set": "id",
}


def tool_env(rundir, path_prefix=None):
    env = dict(os.environ)
    env.update(OVS_RUNDIR=rundir, OVS_LOGDIR=rundir, OVS_DBDIR=rundir,
               LANYARD_RUNDIR=rundir, LC_ALL="C")
    if path_prefix:
        env["PATH"] = path_prefix + os.pathsep + env.get("PATH", "")
    return env


# ---------------------------------------------------------------------------
# A minimal OVSDB JSON-RPC client (snapshots and resets)
# ---------------------------------------------------------------------------

class Rpc:
    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = ""
        self.dec = json.JSONDecoder()
        self.next_id = 0

    def close(self):
        self.sock.close()

    def call(self, method, params):
        self.next_id += 1
        my_id = self.next_id
        self.sock.sendall(json.dumps({"method": method, "params": params,
                                      "id": my_id}).encode())
        while True:
            self.buf = self.buf.lstrip()
            if self.buf:
                try:
                    msg, end = self.dec.raw_decode(self.buf)
                except ValueError:
                    msg = None
                if msg is not None:
                    self.buf = self.buf[end:]
                    if msg.get("method") == "echo":
                        self.sock.sendall(json.dumps(
                            {"id": msg["id"], "result": msg["params"],
                             "error": None}).encode())
                        continue
                    if msg.get("id") == my_id:
                        if msg.get("error"):
                            raise AssertionError("%s failed: %r"
                                                 % (method, msg))
                        return msg["result"]
                    continue
            data = self.sock.recv(1 << 20)
            if not data:
                raise AssertionError("server closed the connection")
            self.buf += data.decode()

    def transact(self, *ops):
        result = self.call("transact", ["Open_vSwitch"] + list(ops))
        for r in result:
            if r and "error" in r:
                raise AssertionError("transaction failed: %r" % (result,))
        return result


with open(VSWITCH_SCHEMA) as _f:
    SCHEMA_TABLES = sorted(json.load(_f)["tables"])


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

class DbServer:
    """A private ovsdb-server ("ovs") or lanyard-dbd ("lanyard")."""

    def __init__(self, impl, base):
        self.impl = impl
        self.dir = os.path.join(base, impl + "-server")
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "db.sock")
        self.remote = "unix:" + self.sock
        self.ctl = os.path.join(self.dir, "server.ctl")
        self.dbfile = os.path.join(self.dir, "conf.db")
        self.log = os.path.join(self.dir, "server.log")
        self.proc = None
        self.rpc = None

    def start(self):
        if self.impl == "ovs":
            subprocess.run(["ovsdb-tool", "create", self.dbfile,
                            VSWITCH_SCHEMA], check=True)
            exe = shutil.which("ovsdb-server") or "/usr/sbin/ovsdb-server"
        else:
            if not os.access(DBD, os.X_OK):
                raise AssertionError("lanyard-dbd not built: %s missing "
                                     "(set LANYARD_BUILD)" % DBD)
            exe = DBD
        err = open(os.path.join(self.dir, "stderr"), "wb")
        self.proc = subprocess.Popen(
            [exe, "--remote=punix:" + self.sock, "--unixctl=" + self.ctl,
             "--log-file=" + self.log, self.dbfile],
            cwd=self.dir, stdout=err, stderr=err, stdin=subprocess.DEVNULL,
            env=tool_env(self.dir))
        err.close()
        deadline = time.monotonic() + 15
        while True:
            try:
                self.rpc = Rpc(self.sock)
                self.rpc.call("list_dbs", [])
                return self
            except (OSError, AssertionError):
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise AssertionError("%s did not start:\n%s"
                                         % (exe, self.logs()))
                time.sleep(0.02)

    def logs(self):
        out = ""
        for name in ("server.log", "stderr"):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += "--- %s\n%s\n" % (name, f.read()[-3000:])
        return out

    def stderr_text(self):
        p = os.path.join(self.dir, "stderr")
        if not os.path.exists(p):
            return ""
        with open(p, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.rpc:
            self.rpc.close()
            self.rpc = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def reset(self):
        """Empties every table in one transaction."""
        self.rpc.transact(*[{"op": "delete", "table": t, "where": []}
                            for t in SCHEMA_TABLES])

    def snapshot(self):
        """{table: {uuid: {column: value}}} of the whole database."""
        ops = [{"op": "select", "table": t, "where": []}
               for t in SCHEMA_TABLES]
        result = self.rpc.transact(*ops)
        snap = {}
        for table, r in zip(SCHEMA_TABLES, result):
            rows = {}
            for row in r["rows"]:
                row = dict(row)
                uuid = row.pop("_uuid")[1]
                row.pop("_version", None)
                rows[uuid] = row
            if rows:
                snap[table] = rows
        return snap


# ---------------------------------------------------------------------------
# Names: lanyard-vsctl / lanyard-appctl installed as ovs-vsctl / ovs-appctl
# ---------------------------------------------------------------------------

def install_lanyard_tools(prefix):
    """Puts lanyard-vsctl and lanyard-appctl into PREFIX/bin as `meson
    install` would (as links to the build's binaries)."""
    bindir = os.path.join(prefix, "bin")
    os.makedirs(bindir, exist_ok=True)
    vsctl = os.environ.get("LANYARD_VSCTL_UNDER_TEST") or LANYARD_VSCTL
    for name, target in (("lanyard-vsctl", vsctl),
                         ("lanyard-appctl", LANYARD_APPCTL)):
        if not os.access(target, os.X_OK):
            raise AssertionError("%s is not built (%s missing); this suite "
                                 "needs it" % (name, target))
        path = os.path.join(bindir, name)
        if not os.path.lexists(path):
            os.symlink(target, path)
    return bindir


def install_names(prefix):
    """Installs the tools into PREFIX, then runs
    scripts/install-ovs-names.sh PREFIX; returns PREFIX/bin."""
    install_lanyard_tools(prefix)
    env = dict(os.environ, NO_RUNTIME="1")
    r = subprocess.run(["sh", INSTALL_NAMES, prefix], capture_output=True,
                       text=True, env=env)
    if r.returncode != 0:
        raise AssertionError("install-ovs-names.sh failed (rc %d):\n%s%s"
                             % (r.returncode, r.stdout, r.stderr))
    return os.path.join(prefix, "bin")


def lanyard_vsctl_name(bindir):
    """The ovs-vsctl NAME under test.  Fails loudly when lanyard-vsctl is
    missing: the suite never silently tests only the real tool."""
    override = os.environ.get("LANYARD_VSCTL_UNDER_TEST")
    if not override and not os.access(LANYARD_VSCTL, os.X_OK):
        raise AssertionError(
            "lanyard-vsctl is not built (%s missing); the differential "
            "suite needs it" % LANYARD_VSCTL)
    return os.path.join(bindir, "ovs-vsctl")


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

def _row_signature(table, row):
    """A label for a row that has no name: its table and content, UUIDs
    masked, so equal rows on both sides get equal labels whatever their
    UUIDs and whatever order the output lists them in."""
    text = UUID_RE.sub("?", json.dumps(row, sort_keys=True))
    return "<%s#%s>" % (table, hashlib.sha1(text.encode()).hexdigest()[:6])


def _plain(name):
    """A name usable inside a label (labels end up inside JSON strings
    and HTML, so no quotes, backslashes or angle brackets)."""
    return isinstance(name, (str, int)) and not re.search(r'["\\<>\s,]',
                                                           str(name))


def uuid_labels(*snapshots):
    """uuid -> stable label from database snapshots (later ones win)."""
    labels = {}
    for snap in snapshots:
        for table, rows in snap.items():
            col = NAME_COLUMN.get(table)
            names = {}
            if col:
                for u, row in rows.items():
                    names.setdefault(json.dumps(row.get(col)), []).append(u)
            for u, row in rows.items():
                if table == "Open_vSwitch":
                    labels[u] = "<Open_vSwitch>"
                elif col and len(names[json.dumps(row.get(col))]) == 1 \
                        and _plain(row.get(col)):
                    labels[u] = "<%s:%s>" % (table, row.get(col))
                else:
                    labels[u] = _row_signature(table, row)
    return labels


class Normaliser:
    """UUIDs to labels (database-derived, else <U1>, <U2>... in order of
    appearance), console log timestamps removed, server paths neutral."""

    def __init__(self, server):
        self.server = server
        self.fresh = {}

    def __call__(self, text, labels):
        def repl(m):
            u = m.group(0)
            if u in labels:
                return labels[u]
            if u not in self.fresh:
                self.fresh[u] = "<U%d>" % (len(self.fresh) + 1)
            return self.fresh[u]
        text = UUID_RE.sub(repl, text)
        # --format=html abbreviates UUIDs to their first 8 hex digits.
        short = {u[:8]: l for u, l in list(labels.items())
                 + list(self.fresh.items())}
        text = SHORT_UUID_RE.sub(
            lambda m: short.get(m.group(0), m.group(0)) + "/8"
            if m.group(0) in short else m.group(0), text)
        text = VLOG_TS_RE.sub("<TS>|", text)
        text = LABEL_RUN_RE.sub(_sort_label_run, text)
        text = INDEX_PAIR_RE.sub(_sort_index_pair, text)
        return text.replace(self.server.dir, "<SERVERDIR>")


# ovsdb-server names the two rows of an index violation in an order that
# depends on their UUIDs ("First row, with UUID A, existed ...  Second row,
# with UUID B, was inserted ..." or the other way round), so the order of
# the two descriptions is made canonical.
INDEX_PAIR_RE = re.compile(r"First row, with UUID ([^,]+), ([^.]+)\.  "
                           r"Second row, with UUID ([^,]+), ([^.]+)\.")


def _sort_index_pair(m):
    a, b = sorted([(m.group(1), m.group(2)), (m.group(3), m.group(4))],
                  key=lambda p: p[1])
    return ("First row, with UUID %s, %s.  Second row, with UUID %s, %s."
            % (a + b))


# A set of UUIDs prints in UUID order, i.e. randomly: "[<a>, <b>]" or, with
# --data=bare, "<a> <b>".  Runs of labels are sorted.
LABEL_RUN_RE = re.compile(r"<[^<>\s,]+>(?:(?:, | |,)<[^<>\s,]+>)+")


def _sort_label_run(m):
    text = m.group(0)
    sep = ", " if ", " in text else ("," if "," in text else " ")
    return sep.join(sorted(text.split(sep)))


def _relabel(value, labels):
    """An OVSDB JSON value with UUIDs replaced by labels and set/map
    elements sorted (their wire order is UUID order, i.e. random)."""
    if isinstance(value, list):
        if len(value) == 2 and value[0] in ("uuid", "named-uuid"):
            return [value[0], labels.get(value[1], "<?>")]
        if len(value) == 2 and value[0] in ("set", "map"):
            items = [_relabel(v, labels) for v in value[1]]
            return [value[0], sorted(items, key=json.dumps)]
        return [_relabel(v, labels) for v in value]
    return value


# Compared as the change each step makes (see cfg_bump), so that one extra
# bump is reported once instead of at every later step.
CFG_COLUMNS = {("Open_vSwitch", "next_cfg"), ("Open_vSwitch", "cur_cfg")}


def cfg_bump(before, after):
    """How much a step raised Open_vSwitch.next_cfg."""
    def value(snap):
        rows = list(snap.get("Open_vSwitch", {}).values())
        return rows[0]["next_cfg"] if rows else 0
    return value(after) - value(before)


def normalise_db(snap):
    """{table: {row label: {column: value}}} with UUIDs replaced by labels:
    comparable across servers and clients.  Rows with equal labels (equal
    unnamed rows) are numbered."""
    labels = uuid_labels(snap)
    out = {}
    for table, rows in snap.items():
        by_label = {}
        for u, row in rows.items():
            rendered = {c: _relabel(v, labels) for c, v in row.items()
                        if (table, c) not in CFG_COLUMNS}
            label = labels[u]
            n = 1
            while label in by_label:
                n += 1
                label = "%s/%d" % (labels[u], n)
            by_label[label] = rendered
        out[table] = by_label
    return out


def db_differences(expected, got):
    """Readable list of differences between two normalise_db() results."""
    lines = []
    for table in sorted(set(expected) | set(got)):
        e, g = expected.get(table, {}), got.get(table, {})
        for label in sorted(set(e) | set(g)):
            if label not in g:
                lines.append("    %s %s: missing" % (table, label))
            elif label not in e:
                lines.append("    %s %s: unexpected row %s"
                             % (table, label, json.dumps(g[label])))
            else:
                for col in sorted(set(e[label]) | set(g[label])):
                    ev, gv = e[label].get(col), g[label].get(col)
                    if ev != gv:
                        lines.append("    %s %s column %s: expected %s, "
                                     "got %s" % (table, label, col,
                                                 json.dumps(ev),
                                                 json.dumps(gv)))
    return lines


# ---- Output canonicalisation for outputs whose order is unspecified. ----

def _show_tree(lines):
    """Parses show output into (line, children) by 4-space indentation."""
    root = ("", [])
    stack = [(-1, root)]
    for line in lines:
        depth = (len(line) - len(line.lstrip(" "))) // 4
        node = (line, [])
        while stack[-1][0] >= depth:
            stack.pop()
        stack[-1][1][1].append(node)
        stack.append((depth, node))
    return root


ROW_LINE_RE = re.compile(r"^\s*(Bridge|Port|Interface|Controller|Manager) ")


def _show_canon(node):
    attrs = [n for n in node[1] if not ROW_LINE_RE.match(n[0])]
    rows = [n for n in node[1] if ROW_LINE_RE.match(n[0])]
    parts = [node[0]] + ["\n".join(_show_canon(n)) for n in attrs]
    parts += sorted("\n".join(_show_canon(n)) for n in rows)
    return parts


def _sort_json_sets(value):
    if isinstance(value, list):
        value = [_sort_json_sets(v) for v in value]
        if len(value) == 2 and value[0] in ("set", "map") \
                and isinstance(value[1], list):
            return [value[0], sorted(value[1], key=json.dumps)]
        return value
    if isinstance(value, dict):
        return {k: _sort_json_sets(v) for k, v in value.items()}
    return value


def canonical(text, mode):
    if mode in ("exact", "rc"):
        return text
    if mode == "blocks":
        blocks = [b for b in text.rstrip("\n").split("\n\n")]
        return "\n\n".join(sorted(blocks))
    if mode == "lines":
        return "\n".join(sorted(text.splitlines()))
    if mode.startswith("rows:"):
        keep = int(mode[5:])
        lines = text.splitlines()
        return "\n".join(lines[:keep] + sorted(lines[keep:]))
    if mode == "json":
        out = []
        for line in text.splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            doc = _sort_json_sets(doc)
            if isinstance(doc, dict) and isinstance(doc.get("data"), list):
                doc["data"] = sorted(doc["data"], key=json.dumps)
            out.append(json.dumps(doc, sort_keys=True))
        return "\n".join(out)
    if mode == "pretty-json":
        try:
            doc = json.loads(text)
        except ValueError:
            return text
        doc = _sort_json_sets(doc)
        if isinstance(doc, dict) and isinstance(doc.get("data"), list):
            doc["data"] = sorted(doc["data"], key=json.dumps)
        return json.dumps(doc, sort_keys=True, indent=1)
    if mode == "html":
        # One "<tr>...</tr>" group per record, in hash order.
        tail = "</table>\n"
        body = text[:-len(tail)] if text.endswith(tail) else text
        parts = body.split("  <tr>\n")
        head = [p for p in parts if "<th>" in p or "<table" in p]
        rows = sorted(p for p in parts if p not in head)
        return "  <tr>\n".join(head + rows) + tail
    if mode == "show":
        return "\n".join(_show_canon(_show_tree(text.splitlines())))
    raise ValueError("unknown output mode %r" % mode)


TABLE_COMMANDS = ("list", "find")


def infer_mode(argv):
    """Order-insensitive comparison where ovs-vsctl's own order is not
    defined: `show` lists rows in UUID order, list/find in hash order."""
    words = set(argv)
    if "show" in words:
        return "show"
    if not words & set(TABLE_COMMANDS):
        return "exact"
    fmt = "list"
    for i, a in enumerate(argv):
        if a.startswith("--format="):
            fmt = a.split("=", 1)[1]
        elif a in ("-f", "--format") and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif a.startswith("-f") and len(a) > 2:
            fmt = a[2:]
    if fmt == "json":
        return "pretty-json" if "--pretty" in words else "json"
    if fmt == "table":
        return "lines" if "--no-headings" in words else "rows:2"
    if fmt == "csv":
        return "lines" if "--no-headings" in words else "rows:1"
    if fmt == "html":
        return "html"
    return "blocks"


# ---------------------------------------------------------------------------
# Running scripts
# ---------------------------------------------------------------------------

class Step:
    """One ovs-vsctl invocation.  ARGS is a shell-like string (split with
    shlex) or a list.  The runner prepends --db=<server> --no-wait unless
    RAW, in which case "{db}" in the arguments is replaced by the remote."""

    def __init__(self, args, mode=None, raw=False, stdin=None):
        self.argv = shlex.split(args) if isinstance(args, str) else list(args)
        self.raw = raw
        self.mode = mode or infer_mode(self.argv)
        self.stdin = stdin

    def __repr__(self):
        return "ovs-vsctl " + " ".join(shlex.quote(a) for a in self.argv)


def as_step(s):
    if isinstance(s, Step):
        return s
    if isinstance(s, tuple):
        return Step(*s)
    return Step(s)


class Outcome:
    def __init__(self, step, rc, out, err, db, changed, bump=0):
        self.step, self.rc, self.out, self.err = step, rc, out, err
        self.db, self.changed, self.bump = db, changed, bump

    def key(self):
        return (self.rc, self.out, self.err)


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")


def sanitizer_report(text):
    """The ASan/LSan/UBSan report in TEXT (a sanitizer build's stderr),
    or "".  Reports do not always change the exit status (UBSan never
    does), so tests look for them."""
    for marker in SANITIZER_MARKERS:
        i = text.find(marker)
        if i >= 0:
            return text[max(0, i - 200):i + 3000]
    return ""


def run_step(client, server, step, rundir, timeout=20):
    """Runs STEP as `ovs-vsctl ...` found in directory CLIENT (so
    messages carry the bare program name, as for callers using PATH)."""
    if step.raw:
        argv = [a.replace("{db}", server.remote) for a in step.argv]
    else:
        argv = ["--db=" + server.remote, "--no-wait"] + step.argv
    try:
        p = subprocess.run(["ovs-vsctl"] + argv, capture_output=True,
                           text=True, timeout=timeout,
                           env=tool_env(rundir, path_prefix=client),
                           input=step.stdin)
        report = sanitizer_report(p.stderr)
        if report:
            raise AssertionError("sanitizer report from %r:\n%s"
                                 % (step, report))
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or "", e.stderr or ""


def run_script(client, server, steps, rundir, runner=None):
    """Runs STEPS from an empty database; returns normalised Outcomes.
    RUNNER(client, server, step, rundir) -> (rc, stdout, stderr) runs one
    step (default: run_step; steps are then strings, tuples or Steps)."""
    server.reset()
    norm = Normaliser(server)
    before = server.snapshot()
    outcomes = []
    if runner is None:
        runner = run_step
        steps = map(as_step, steps)
    for step in steps:
        rc, out, err = runner(client, server, step, rundir)
        if not server.alive():
            raise AssertionError("%s died during %r:\n%s"
                                 % (server.impl, step, server.logs()))
        after = server.snapshot()
        labels = uuid_labels(before, after)
        out = norm(out, labels)
        err = norm(err, labels)
        if step.mode == "rc":
            out, err = ("<output>" if out else ""), ("<stderr>" if err else "")
        else:
            out = canonical(out, step.mode)
        outcomes.append(Outcome(step, rc, out, err, normalise_db(after),
                                after != before, cfg_bump(before, after)))
        before = after
    return outcomes


def compare_outcomes(expected, got, what):
    """Assertion text for every step whose outcome differs (empty if all
    match).  A failing step must also leave the database unchanged."""
    problems = []
    for i, (e, g) in enumerate(zip(expected, got)):
        lines = []
        if e.key() != g.key():
            lines.append("  expected rc=%r\n    stdout=%r\n    stderr=%r"
                         % (e.rc, e.out, e.err))
            lines.append("  got      rc=%r\n    stdout=%r\n    stderr=%r"
                         % (g.rc, g.out, g.err))
        if g.rc != 0 and g.changed:
            lines.append("  a failing command changed the database")
        if e.bump != g.bump:
            lines.append("  next_cfg raised by %d, expected %d"
                         % (g.bump, e.bump))
        if e.db != g.db:
            lines.append("  database differs:")
            lines += db_differences(e.db, g.db)[:8]
        if lines:
            problems.append("step %d: %r\n%s" % (i, e.step, "\n".join(lines)))
    if problems:
        return "%s: %d of %d steps differ\n%s" % (
            what, len(problems), len(expected), "\n".join(problems[:12]))
    return ""


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workdir():
    d = tempfile.mkdtemp(prefix="lanyard-vsctl-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def names_bin(workdir):
    """PREFIX/bin holding ovs-vsctl and ovs-appctl -> Lanyard's tools."""
    return install_names(os.path.join(workdir, "prefix"))


@pytest.fixture(scope="module")
def servers(workdir):
    started = {}
    try:
        for impl in ("ovs", "lanyard"):
            started[impl] = DbServer(impl, workdir).start()
        yield started
    finally:
        crashed = [s for s in started.values()
                   if s.proc and s.proc.poll() is not None]
        for s in started.values():
            s.stop()
        if crashed:
            pytest.fail("server(s) exited during the module: %s"
                        % ", ".join(s.impl + "\n" + s.logs() for s in crashed))
        # Leaks are reported only at exit, after the tests ran.
        for s in started.values():
            report = sanitizer_report(s.stderr_text())
            if report:
                pytest.fail("%s: sanitizer report:\n%s" % (s.impl, report))


def real_ovs_bin(workdir):
    """A directory whose ovs-vsctl and ovs-appctl are Debian's."""
    d = os.path.join(workdir, "ovs-bin")
    if not os.path.isdir(d):
        os.makedirs(d)
        os.symlink(REAL_VSCTL, os.path.join(d, "ovs-vsctl"))
        os.symlink(REAL_APPCTL, os.path.join(d, "ovs-appctl"))
    return d


@pytest.fixture(scope="module")
def clients(names_bin, workdir):
    """Directories to put first in PATH so that `ovs-vsctl` is the real
    tool ("ovs") or lanyard-vsctl ("lanyard")."""
    lanyard = os.path.dirname(lanyard_vsctl_name(names_bin))
    return {"ovs": real_ovs_bin(workdir), "lanyard": lanyard}


@pytest.fixture(scope="module")
def rundir(workdir):
    d = os.path.join(workdir, "run")
    os.makedirs(d, exist_ok=True)
    return d
