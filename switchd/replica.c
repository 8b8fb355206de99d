#include "replica.h"

#include <string.h>

#include "jsonrpc.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-update2.h"
#include "ovsdb.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(replica);

enum replica_state {
    R_IDLE,                     /* Not connected. */
    R_SCHEMA,                   /* Waiting for get_schema. */
    R_MONITOR,                  /* Waiting for the monitor reply. */
    R_READY,                    /* Following updates. */
};

struct replica {
    char *db_name;
    struct jsonrpc_session *js;
    unsigned int seqno;
    enum replica_state state;
    json_t *request_id;         /* Of the get_schema or monitor request. */
    struct ovsdb *db;
    struct replica_change *changes;
    size_t n_changes, allocated;
    bool reset;
    size_t n_pending;           /* Our transactions awaiting replies. */
    unsigned long long n_failed;    /* See replica_n_failed(). */
};

struct replica *
replica_create(const char *remote, const char *db_name)
{
    struct replica *r = xzalloc(sizeof *r);
    r->db_name = xstrdup(db_name);
    r->js = jsonrpc_session_open(remote, time_msec());
    r->seqno = jsonrpc_session_get_seqno(r->js);
    return r;
}

void
replica_destroy(struct replica *r)
{
    if (r) {
        jsonrpc_session_close(r->js);
        json_decref(r->request_id);
        ovsdb_destroy(r->db);
        replica_changes_free(r->changes, r->n_changes);
        free(r->db_name);
        free(r);
    }
}

static void
send_request(struct replica *r, const char *method, json_t *params)
{
    json_decref(r->request_id);
    jsonrpc_session_send(r->js, jsonrpc_create_request(method, params,
                                                       &r->request_id));
}

static void
note_change(const struct ovsdb_table *table, const struct uuid *uuid,
            enum ovsdb_update2_kind kind, const json_t *row_json, void *r_)
{
    struct replica *r = r_;
    if (r->n_changes >= r->allocated) {
        r->changes = x2nrealloc(r->changes, &r->allocated, sizeof *r->changes);
    }
    struct replica_change *c = &r->changes[r->n_changes++];
    c->table = xstrdup(table->schema->name);
    c->uuid = *uuid;
    c->modify = kind == OVSDB_UPDATE2_MODIFY
                ? json_incref((json_t *) row_json) : NULL;
}

/* Applies <table-updates2> (monitor_cond: "initial"/"insert" carry the row,
 * "modify" only what changed, "delete" nothing) to the copy in place, so
 * adding port 10,000 to a bridge parses and inserts one uuid, not 10,000;
 * notes every row changed.  On error the copy may be half updated: the
 * caller reconnects, which fetches everything again. */
static bool
apply_updates2(struct replica *r, const json_t *updates)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct ovsdb_error *error = ovsdb_update2_apply(r->db, updates,
                                                    note_change, r);
    if (error) {
        char *s = ovsdb_error_to_string(error);
        VLOG_ERR_RL(&rl, "%s: cannot apply update (%s); resynchronising",
                    jsonrpc_session_get_name(r->js), s);
        free(s);
        ovsdb_error_destroy(error);
        return false;
    }
    return true;
}

static void
start_monitor(struct replica *r)
{
    const struct ovsdb_schema *schema = ovsdb_get_schema(r->db);
    json_t *requests = json_object();
    for (unsigned int i = 0; i < schema->n_tables; i++) {
        const struct ovsdb_table_schema *ts = schema->tables[i];
        json_t *columns = json_array();
        for (unsigned int c = OVSDB_N_IMPLICIT_COLUMNS; c < ts->n_columns; c++) {
            json_array_append_new(columns, json_string(ts->columns[c]->name));
        }
        json_object_set_new(requests, ts->name,
                            json_pack("{s:o}", "columns", columns));
    }
    send_request(r, "monitor_cond", json_pack("[s,s,o]", r->db_name,
                                              "replica", requests));
    r->state = R_MONITOR;
}

static void
handle_reply(struct replica *r, const struct jsonrpc_msg *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

    if (!r->request_id || !json_equal(msg->id, r->request_id)) {
        /* A reply to one of our transactions. */
        if (r->n_pending) {
            r->n_pending--;
        }
        const json_t *result = msg->result;
        size_t i;
        const json_t *op;
        if (msg->type == JSONRPC_ERROR) {
            char *s = json_dumps(msg->error, JSON_COMPACT);
            VLOG_WARN_RL(&rl, "transaction error: %s", s);
            free(s);
            r->n_failed++;
        } else {
            json_array_foreach (result, i, op) {
                if (json_is_object(op) && json_object_get(op, "error")) {
                    char *s = json_dumps(op, JSON_COMPACT);
                    VLOG_WARN_RL(&rl, "transaction failed: %s", s);
                    free(s);
                    r->n_failed++;
                    break;
                }
            }
        }
        return;
    }

    if (msg->type == JSONRPC_ERROR) {
        char *s = json_dumps(msg->error, JSON_COMPACT);
        VLOG_WARN_RL(&rl, "%s: %s", jsonrpc_session_get_name(r->js), s);
        free(s);
        jsonrpc_session_force_reconnect(r->js, time_msec());
        return;
    }
    if (r->state == R_SCHEMA) {
        struct ovsdb_schema *schema;
        struct ovsdb_error *error = ovsdb_schema_from_json(msg->result, &schema);
        if (error) {
            char *s = ovsdb_error_to_string(error);
            VLOG_ERR_RL(&rl, "bad schema from server: %s", s);
            free(s);
            ovsdb_error_destroy(error);
            return;
        }
        ovsdb_destroy(r->db);
        r->db = ovsdb_create(schema);
        start_monitor(r);
    } else if (r->state == R_MONITOR) {
        replica_changes_free(r->changes, r->n_changes);
        r->changes = NULL;
        r->n_changes = r->allocated = 0;
        if (apply_updates2(r, msg->result)) {
            r->state = R_READY;
            r->reset = true;
            VLOG_INFO("%s: database contents received",
                      jsonrpc_session_get_name(r->js));
        } else {
            jsonrpc_session_force_reconnect(r->js, time_msec());
        }
    }
}

void
replica_run(struct replica *r, long long now)
{
    jsonrpc_session_run(r->js, now);
    if (r->seqno != jsonrpc_session_get_seqno(r->js)) {
        r->seqno = jsonrpc_session_get_seqno(r->js);
        r->state = R_IDLE;
        r->n_failed += r->n_pending;    /* Lost with the connection. */
        r->n_pending = 0;
        if (jsonrpc_session_is_connected(r->js)) {
            send_request(r, "get_schema", json_pack("[s]", r->db_name));
            r->state = R_SCHEMA;
        }
    }
    for (int i = 0; i < 100; i++) {
        struct jsonrpc_msg *msg = jsonrpc_session_recv(r->js, now);
        if (!msg) {
            break;
        }
        if (msg->type == JSONRPC_REPLY || msg->type == JSONRPC_ERROR) {
            handle_reply(r, msg);
        } else if (msg->type == JSONRPC_NOTIFY && !strcmp(msg->method, "update2")
                   && r->state == R_READY) {
            if (!apply_updates2(r, json_array_get(msg->params, 1))) {
                jsonrpc_session_force_reconnect(r->js, now);
            }
        }
        jsonrpc_msg_destroy(msg);
    }
}

void
replica_wait(struct replica *r)
{
    jsonrpc_session_wait(r->js);
    jsonrpc_session_recv_wait(r->js);
}

bool
replica_is_ready(const struct replica *r)
{
    return r->state == R_READY;
}

bool
replica_is_connected(const struct replica *r)
{
    return jsonrpc_session_is_connected(r->js);
}

struct ovsdb *
replica_get_db(const struct replica *r)
{
    return r->db;
}

size_t
replica_take_changes(struct replica *r, struct replica_change **changesp,
                     bool *resetp)
{
    size_t n = r->n_changes;
    *changesp = r->changes;
    *resetp = r->reset;
    r->changes = NULL;
    r->n_changes = r->allocated = 0;
    r->reset = false;
    return n;
}

void
replica_changes_free(struct replica_change *changes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(changes[i].table);
        json_decref(changes[i].modify);
    }
    free(changes);
}

bool
replica_change_get_diff(const struct replica *r,
                        const struct replica_change *change,
                        const char *column, struct ovsdb_datum *diff,
                        const struct ovsdb_type **typep)
{
    const json_t *value = change->modify
                          ? json_object_get(change->modify, column) : NULL;
    const struct ovsdb_table *t = value && r->db
                                  ? ovsdb_find_table(r->db, change->table)
                                  : NULL;
    const struct ovsdb_column_schema *c
        = t ? ovsdb_table_schema_find_column(t->schema, column) : NULL;
    if (!c || c->type.n_max <= 1) {
        return false;
    }
    struct ovsdb_error *error = ovsdb_update2_parse_diff(diff, &c->type,
                                                         value);
    if (error) {
        /* It was applied, so it parses: unreachable in practice. */
        ovsdb_error_destroy(error);
        return false;
    }
    *typep = &c->type;
    return true;
}

bool
replica_transact(struct replica *r, json_t *ops)
{
    if (r->state != R_READY) {
        json_decref(ops);
        return false;
    }
    json_array_insert_new(ops, 0, json_string(r->db_name));
    jsonrpc_session_send(r->js, jsonrpc_create_request("transact", ops, NULL));
    r->n_pending++;
    return true;
}

size_t
replica_n_pending(const struct replica *r)
{
    return r->n_pending;
}

unsigned long long
replica_n_failed(const struct replica *r)
{
    return r->n_failed;
}
