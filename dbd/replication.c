#include "replication.h"

#include <string.h>

#include "dbd-db.h"
#include "ds.h"
#include "jsonrpc.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb.h"
#include "poll-loop.h"
#include "server.h"
#include "util.h"
#include "uuid.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(replication);

enum repl_state {
    REPL_ACTIVE,                /* Not replicating: read-write. */
    REPL_CONNECTING,            /* Backup, waiting for a connection. */
    REPL_SERVER_ID,             /* Sent get_server_id. */
    REPL_SCHEMA,                /* Sent get_schema. */
    REPL_MONITOR,               /* Sent monitor. */
    REPL_REPLICATING,           /* Following updates. */
    REPL_ERROR,                 /* Cannot replicate from this server. */
};

struct dbd_replication {
    struct dbd_server *server;
    struct dbd_db *db;
    char *remote;
    char **exclude;             /* Table names of 'db' not replicated. */
    size_t n_exclude;
    int probe_interval;         /* msec, or -1 for the default. */
    struct jsonrpc_session *js;
    unsigned int seqno;
    enum repl_state state;
    json_t *request_id;
    char *error;                /* Why state is REPL_ERROR. */
};

struct dbd_replication *
dbd_replication_create(struct dbd_server *server, struct dbd_db *db)
{
    struct dbd_replication *r = xzalloc(sizeof *r);
    r->server = server;
    r->db = db;
    r->probe_interval = -1;
    return r;
}

static void
clear_exclude(struct dbd_replication *r)
{
    for (size_t i = 0; i < r->n_exclude; i++) {
        free(r->exclude[i]);
    }
    free(r->exclude);
    r->exclude = NULL;
    r->n_exclude = 0;
}

void
dbd_replication_destroy(struct dbd_replication *r)
{
    if (r) {
        dbd_replication_disconnect(r);
        clear_exclude(r);
        free(r->remote);
        free(r->error);
        free(r);
    }
}

void
dbd_replication_set_remote(struct dbd_replication *r, const char *remote)
{
    free(r->remote);
    r->remote = remote && remote[0] ? xstrdup(remote) : NULL;
}

const char *
dbd_replication_get_remote(const struct dbd_replication *r)
{
    return r->remote;
}

char *
dbd_replication_set_exclude(struct dbd_replication *r, const char *spec)
{
    char *copy = xstrdup(spec ? spec : "");
    char *save = NULL;
    char **names = NULL;
    size_t n = 0, allocated = 0;
    char *err = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || colon == tok || !colon[1]) {
            err = xasprintf("%s: not of the form DB:TABLE", tok);
            break;
        }
        *colon = '\0';
        if (strcmp(tok, dbd_db_name(r->db))) {
            continue;           /* Another database: nothing of ours. */
        }
        if (n >= allocated) {
            names = x2nrealloc(names, &allocated, sizeof *names);
        }
        names[n++] = xstrdup(colon + 1);
    }
    free(copy);
    if (err) {
        for (size_t i = 0; i < n; i++) {
            free(names[i]);
        }
        free(names);
        return err;
    }
    clear_exclude(r);
    r->exclude = names;
    r->n_exclude = n;
    return NULL;
}

char *
dbd_replication_get_exclude(const struct dbd_replication *r)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < r->n_exclude; i++) {
        ds_put_format(&s, "%s%s:%s", i ? "," : "", dbd_db_name(r->db),
                      r->exclude[i]);
    }
    return ds_steal_cstr(&s);
}

static bool
is_excluded(const struct dbd_replication *r, const char *table)
{
    for (size_t i = 0; i < r->n_exclude; i++) {
        if (!strcmp(r->exclude[i], table)) {
            return true;
        }
    }
    return false;
}

void
dbd_replication_set_probe_interval(struct dbd_replication *r, int msec)
{
    r->probe_interval = msec;
    if (r->js) {
        jsonrpc_session_set_probe_interval(r->js, msec);
    }
}

bool
dbd_replication_connect(struct dbd_replication *r)
{
    if (!r->remote) {
        return false;
    }
    dbd_replication_disconnect(r);
    r->js = jsonrpc_session_open(r->remote, time_msec());
    if (r->probe_interval >= 0) {
        jsonrpc_session_set_probe_interval(r->js, r->probe_interval);
    }
    r->seqno = jsonrpc_session_get_seqno(r->js);
    r->state = REPL_CONNECTING;
    dbd_server_set_read_only(r->server, true);
    VLOG_INFO("backup: replicating %s from %s", dbd_db_name(r->db), r->remote);
    return true;
}

void
dbd_replication_disconnect(struct dbd_replication *r)
{
    if (r->js) {
        jsonrpc_session_close(r->js);
        r->js = NULL;
        VLOG_INFO("active: no longer replicating from %s",
                  r->remote ? r->remote : "(none)");
    }
    json_decref(r->request_id);
    r->request_id = NULL;
    r->state = REPL_ACTIVE;
    dbd_server_set_read_only(r->server, false);
}

bool
dbd_replication_is_backup(const struct dbd_replication *r)
{
    return r->state != REPL_ACTIVE;
}

static void
send_request(struct dbd_replication *r, const char *method, json_t *params,
             enum repl_state next)
{
    json_decref(r->request_id);
    jsonrpc_session_send(r->js, jsonrpc_create_request(method, params,
                                                       &r->request_id));
    r->state = next;
}

static void
fail(struct dbd_replication *r, char *error)
{
    VLOG_ERR("replication from %s: %s", r->remote, error);
    free(r->error);
    r->error = error;
    r->state = REPL_ERROR;
}

/* --- Turning the active's rows into local operations --- */

static json_t *
uuid_where(const char *uuid)
{
    return json_pack("[[s,s,[s,s]]]", "_uuid", "==", "uuid", uuid);
}

/* ROW without "_uuid"/"_version", and without immutable columns when
 * FOR_UPDATE (they never change, and "update" may not name them). */
static json_t *
row_for_op(const struct ovsdb_table_schema *ts, const json_t *row,
           const json_t *only, bool for_update)
{
    json_t *out = json_object();
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *) row, name, value) {
        const struct ovsdb_column_schema *cs =
            ovsdb_table_schema_find_column(ts, name);
        if (name[0] == '_' || !cs || (for_update && !cs->mutable_)
            || (only && !json_object_get(only, name))) {
            continue;
        }
        json_object_set(out, name, value);
    }
    return out;
}

/* Appends the operations that turn local row UUID of TS into ROW_UPDATE
 * ({"old"?, "new"?}, monitor version 1). */
static void
append_row_ops(json_t *ops, const struct ovsdb_table_schema *ts,
               const char *uuid, const json_t *ru, bool exists_locally)
{
    const json_t *new = json_object_get(ru, "new");
    const json_t *old = json_object_get(ru, "old");
    if (!new) {
        if (exists_locally) {
            json_array_append_new(ops, json_pack("{s:s,s:s,s:o}", "op", "delete",
                                                 "table", ts->name,
                                                 "where", uuid_where(uuid)));
        }
    } else if (!exists_locally) {
        json_array_append_new(ops, json_pack("{s:s,s:s,s:s,s:o}", "op", "insert",
                                             "table", ts->name, "uuid", uuid,
                                             "row", row_for_op(ts, new, NULL, false)));
    } else {
        json_array_append_new(ops, json_pack("{s:s,s:s,s:o,s:o}", "op", "update",
                                             "table", ts->name,
                                             "where", uuid_where(uuid),
                                             "row", row_for_op(ts, new, old, true)));
    }
}

static bool
local_has(const struct ovsdb_table *table, const char *uuid_s)
{
    struct uuid uuid;
    return uuid_from_string(&uuid, uuid_s) && ovsdb_table_find_row(table, &uuid);
}

static bool
apply(struct dbd_replication *r, const json_t *updates, bool reset)
{
    struct ovsdb *db = dbd_db_ovsdb(r->db);
    json_t *ops = json_array();
    const struct ovsdb_schema *schema = ovsdb_get_schema(db);

    for (unsigned int t = 0; t < schema->n_tables; t++) {
        const struct ovsdb_table_schema *ts = schema->tables[t];
        if (is_excluded(r, ts->name)) {
            continue;
        }
        const struct ovsdb_table *table = ovsdb_table_for_schema(db, ts);
        const json_t *rows = json_object_get(updates, ts->name);
        if (reset) {
            /* Local rows the active does not have go away. */
            const struct ovsdb_row *row;
            OVSDB_TABLE_FOR_EACH_ROW (row, table) {
                char buf[UUID_LEN + 1];
                uuid_to_string(&row->uuid, buf);
                if (!json_object_get(rows, buf)) {
                    json_array_append_new(ops, json_pack(
                        "{s:s,s:s,s:o}", "op", "delete", "table", ts->name,
                        "where", uuid_where(buf)));
                }
            }
        }
        const char *uuid;
        json_t *ru;
        json_object_foreach ((json_t *) rows, uuid, ru) {
            append_row_ops(ops, ts, uuid, ru, local_has(table, uuid));
        }
    }
    char *error = dbd_server_execute_internal(r->server, r->db, ops);
    json_decref(ops);
    if (error) {
        VLOG_ERR("replication from %s: cannot apply %s: %s", r->remote,
                 reset ? "initial contents" : "update", error);
        free(error);
        return false;
    }
    return true;
}

/* The active's schema must only have tables and columns we have too. */
static char *
check_schema(const struct dbd_replication *r, const json_t *json)
{
    struct ovsdb_schema *theirs;
    struct ovsdb_error *e = ovsdb_schema_from_json(json, &theirs);
    if (e) {
        char *s = ovsdb_error_to_string(e);
        ovsdb_error_destroy(e);
        char *msg = xasprintf("bad schema: %s", s);
        free(s);
        return msg;
    }
    const struct ovsdb_schema *ours = ovsdb_get_schema(dbd_db_ovsdb(r->db));
    char *msg = NULL;
    for (unsigned int t = 0; t < theirs->n_tables && !msg; t++) {
        const struct ovsdb_table_schema *tt = theirs->tables[t];
        if (is_excluded(r, tt->name)) {
            continue;
        }
        const struct ovsdb_table_schema *ot = ovsdb_schema_find_table(ours, tt->name);
        if (!ot) {
            msg = xasprintf("active server's table %s does not exist here",
                            tt->name);
            break;
        }
        for (unsigned int c = 0; c < tt->n_columns; c++) {
            if (!ovsdb_table_schema_find_column(ot, tt->columns[c]->name)) {
                msg = xasprintf("active server's column %s.%s does not exist "
                                "here", tt->name, tt->columns[c]->name);
                break;
            }
        }
    }
    ovsdb_schema_destroy(theirs);
    return msg;
}

static void
handle_reply(struct dbd_replication *r, const struct jsonrpc_msg *msg)
{
    if (msg->type == JSONRPC_ERROR) {
        char *s = json_dumps(msg->error, JSON_COMPACT);
        fail(r, xasprintf("server replied with error %s", s));
        free(s);
        return;
    }
    switch (r->state) {
    case REPL_SERVER_ID: {
        char ours[UUID_LEN + 1];
        uuid_to_string(dbd_server_get_server_id(r->server), ours);
        if (json_is_string(msg->result)
            && !strcmp(json_string_value(msg->result), ours)) {
            fail(r, xstrdup("refusing to replicate from this server itself"));
            return;
        }
        send_request(r, "get_schema", json_pack("[s]", dbd_db_name(r->db)),
                     REPL_SCHEMA);
        break;
    }
    case REPL_SCHEMA: {
        char *error = check_schema(r, msg->result);
        if (error) {
            fail(r, error);
            return;
        }
        json_t *requests = json_object();
        const struct ovsdb_schema *ours = ovsdb_get_schema(dbd_db_ovsdb(r->db));
        for (unsigned int t = 0; t < ours->n_tables; t++) {
            const char *name = ours->tables[t]->name;
            if (!is_excluded(r, name)
                && json_object_get(json_object_get(msg->result, "tables"), name)) {
                json_object_set_new(requests, name, json_pack("[{}]"));
            }
        }
        send_request(r, "monitor", json_pack("[s,s,o]", dbd_db_name(r->db),
                                             dbd_db_name(r->db), requests),
                     REPL_MONITOR);
        break;
    }
    case REPL_MONITOR:
        VLOG_INFO("monitor request received; resetting the database to the "
                  "active server's contents");
        if (apply(r, msg->result, true)) {
            r->state = REPL_REPLICATING;
        } else {
            jsonrpc_session_force_reconnect(r->js, time_msec());
        }
        break;
    case REPL_ACTIVE:
    case REPL_CONNECTING:
    case REPL_REPLICATING:
    case REPL_ERROR:
        break;
    }
}

void
dbd_replication_run(struct dbd_replication *r)
{
    if (!r->js) {
        return;
    }
    long long now = time_msec();
    jsonrpc_session_run(r->js, now);
    if (r->seqno != jsonrpc_session_get_seqno(r->js)) {
        r->seqno = jsonrpc_session_get_seqno(r->js);
        r->state = REPL_CONNECTING;
        if (jsonrpc_session_is_connected(r->js)) {
            send_request(r, "get_server_id", json_array(), REPL_SERVER_ID);
        }
    }
    for (int i = 0; i < 50; i++) {
        struct jsonrpc_msg *msg = jsonrpc_session_recv(r->js, now);
        if (!msg) {
            break;
        }
        if ((msg->type == JSONRPC_REPLY || msg->type == JSONRPC_ERROR)
            && r->request_id && json_equal(msg->id, r->request_id)) {
            handle_reply(r, msg);
        } else if (msg->type == JSONRPC_NOTIFY && !strcmp(msg->method, "update")
                   && r->state == REPL_REPLICATING) {
            if (!apply(r, json_array_get(msg->params, 1), false)) {
                jsonrpc_session_force_reconnect(r->js, now);
            }
        }
        jsonrpc_msg_destroy(msg);
    }
}

void
dbd_replication_drain(struct dbd_replication *r, int timeout_ms)
{
    if (!r->js || r->state != REPL_REPLICATING
        || !jsonrpc_session_is_connected(r->js)) {
        return;
    }
    /* The active answers this echo after every update it sent before it
     * (one ordered stream): once the answer is in, so is all it sent. */
    json_t *id = NULL;
    jsonrpc_session_send(r->js, jsonrpc_create_request("echo", json_array(),
                                                       &id));
    long long deadline = time_msec() + timeout_ms;
    bool answered = false, failed = false;
    while (!answered && !failed && jsonrpc_session_is_connected(r->js)) {
        jsonrpc_session_run(r->js, time_msec());
        struct jsonrpc_msg *msg;
        while (!answered && !failed
               && (msg = jsonrpc_session_recv(r->js, time_msec())) != NULL) {
            /* Only silence counts: a long backlog takes what it takes. */
            deadline = time_msec() + timeout_ms;
            if (msg->type == JSONRPC_NOTIFY && !strcmp(msg->method, "update")) {
                failed = !apply(r, json_array_get(msg->params, 1), false);
            } else if (msg->type == JSONRPC_REPLY && json_equal(msg->id, id)) {
                answered = true;
            }
            jsonrpc_msg_destroy(msg);
        }
        if (answered || failed || time_msec() >= deadline) {
            break;
        }
        jsonrpc_session_wait(r->js);
        jsonrpc_session_recv_wait(r->js);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    if (!answered) {
        VLOG_WARN("%s: %s; updates it sent may be missing", r->remote,
                  failed ? "an update could not be applied"
                  : "silent or gone before answering");
    }
    json_decref(id);
}

void
dbd_replication_wait(struct dbd_replication *r)
{
    if (r->js) {
        jsonrpc_session_wait(r->js);
        jsonrpc_session_recv_wait(r->js);
    }
}

void
dbd_replication_status(const struct dbd_replication *r, struct ds *out)
{
    if (r->state == REPL_ACTIVE) {
        ds_put_cstr(out, "state: active\n");
        return;
    }
    ds_put_cstr(out, "state: backup\n");
    if (r->state == REPL_ERROR) {
        ds_put_format(out, "Replication to (%s) failed: %s\n", r->remote,
                      r->error ? r->error : "");
    } else if (r->state == REPL_REPLICATING
               && jsonrpc_session_is_connected(r->js)) {
        /* Only once the initial copy is in, as OVS: a Pacemaker agent
         * takes "replicating" to mean "holds the active's data". */
        ds_put_format(out, "replicating: %s\n", r->remote);
    } else {
        ds_put_format(out, "connecting: %s\n", r->remote);
    }
    ds_put_format(out, "database: %s\n", dbd_db_name(r->db));
    char *ex = dbd_replication_get_exclude(r);
    if (ex[0]) {
        ds_put_format(out, "exclude: %s\n", ex);
    }
    free(ex);
}
