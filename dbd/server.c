#include "server.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "dbd-db.h"
#include "ds.h"
#include "hash.h"
#include "jsonrpc-text.h"
#include "jsonrpc.h"
#include "list.h"
#include "lock.h"
#include "monitor.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "poll-loop.h"
#include "util.h"
#include "uuid.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(dbd_server);

/* Messages a session may process per main-loop iteration, so one busy
 * client cannot starve the others. */
#define MAX_MSGS_PER_RUN 64

/* A client that stops reading while its monitors keep producing updates
 * would make the server buffer without bound; past this many queued bytes
 * it is disconnected (it resynchronises from scratch on reconnection). */
#define MAX_BACKLOG_BYTES (256u * 1024 * 1024)

struct dbd_server {
    struct dbd_db **dbs;
    size_t n_dbs, allocated_dbs;
    struct list_node sessions;      /* struct session. */
    struct list_node triggers;      /* struct trigger, oldest first. */
    struct dbd_lock_table *locks;
    struct uuid server_id;
    unsigned long long commit_seqno;
    bool changed;                   /* A commit happened this iteration. */
    size_t max_backlog;             /* See MAX_BACKLOG_BYTES. */
    bool read_only;                 /* Backup server: clients cannot write. */
    unsigned int n_sessions, n_monitors;
};

struct session_monitor {
    struct list_node node;          /* In session.monitors. */
    struct dbd_monitor *monitor;
    struct dbd_db *db;
};

struct session_lock {
    struct list_node node;          /* In session.locks. */
    struct dbd_lock_waiter *waiter;
};

/* A message held until the log sync: either a message or its serialized
 * text (monitor updates, serialized once and shared, see server_commit()). */
struct held_msg {
    struct list_node node;
    struct jsonrpc_msg *msg;    /* NULL if 'text' holds the message. */
    char *text;
    size_t size;
};

struct session {
    struct list_node node;          /* In dbd_server.sessions. */
    struct dbd_server *server;
    struct jsonrpc_session *js;
    struct list_node monitors;      /* struct session_monitor. */
    struct list_node locks;         /* struct session_lock. */
    struct list_node held;          /* struct held_msg awaiting the sync. */
    bool db_change_aware;
    bool dead;                      /* Protocol violation: close it. */
    bool persistent;                /* Reconnects (active remote). */
    unsigned int seqno;             /* jsonrpc_session seqno seen last. */
};

/* A transact whose "wait" is not yet satisfied. */
struct trigger {
    struct list_node node;          /* In dbd_server.triggers. */
    struct session *session;
    struct dbd_db *db;
    json_t *id;
    json_t *ops;                    /* Params after the db name. */
    long long start, deadline;
};

/* --- Sending --- */

/* Queues MSG behind the next log sync (see the header comment). */
static void
session_hold(struct session *s, struct jsonrpc_msg *msg)
{
    struct held_msg *h = xzalloc(sizeof *h);
    h->msg = msg;
    list_push_back(&s->held, &h->node);
}

/* As session_hold() for serialized text (takes ownership of TEXT). */
static void
session_hold_text(struct session *s, char *text, size_t size)
{
    struct held_msg *h = xzalloc(sizeof *h);
    h->text = text;
    h->size = size;
    list_push_back(&s->held, &h->node);
}

static void
held_msg_destroy(struct held_msg *h)
{
    jsonrpc_msg_destroy(h->msg);
    free(h->text);
    free(h);
}

static void
session_flush_held(struct session *s)
{
    if (list_is_empty(&s->held)) {
        return;
    }
    jsonrpc_session_cork(s->js, true);
    while (!list_is_empty(&s->held)) {
        struct held_msg *h = CONTAINER_OF(list_pop_front(&s->held),
                                          struct held_msg, node);
        if (h->msg) {
            jsonrpc_session_send(s->js, h->msg);
            h->msg = NULL;
        } else {
            jsonrpc_session_send_text(s->js, h->text, h->size);
        }
        held_msg_destroy(h);
    }
    jsonrpc_session_cork(s->js, false);
}

static void
reply_result(struct session *s, const json_t *id, json_t *result)
{
    session_hold(s, jsonrpc_create_reply(result, id));
}

static void
reply_error_string(struct session *s, const json_t *id, const char *error)
{
    session_hold(s, jsonrpc_create_error(json_string(error), id));
}

static void
reply_ovsdb_error(struct session *s, const json_t *id, struct ovsdb_error *e)
{
    session_hold(s, jsonrpc_create_error(ovsdb_error_to_json(e), id));
    ovsdb_error_destroy(e);
}

/* Error with the offending params as "syntax", as ovsdb-server words it. */
static void
reply_syntax_error(struct session *s, const json_t *id, const json_t *syntax,
                   const char *tag, const char *details)
{
    struct ovsdb_error *e = ovsdb_syntax_error(syntax, tag, "%s", details);
    reply_ovsdb_error(s, id, e);
}

/* --- Databases --- */

void
dbd_server_add_db(struct dbd_server *server, struct dbd_db *db)
{
    if (server->n_dbs >= server->allocated_dbs) {
        server->dbs = x2nrealloc(server->dbs, &server->allocated_dbs,
                                 sizeof *server->dbs);
    }
    server->dbs[server->n_dbs++] = db;
}

struct dbd_db *
dbd_server_find_db(const struct dbd_server *server, const char *name)
{
    for (size_t i = 0; i < server->n_dbs; i++) {
        if (!strcmp(dbd_db_name(server->dbs[i]), name)) {
            return server->dbs[i];
        }
    }
    return NULL;
}

size_t
dbd_server_n_dbs(const struct dbd_server *server)
{
    return server->n_dbs;
}

struct dbd_db *
dbd_server_get_db(const struct dbd_server *server, size_t i)
{
    return i < server->n_dbs ? server->dbs[i] : NULL;
}

/* Looks up params[0] as a database name for METHOD.  On failure replies
 * with ovsdb-server's error and returns NULL. */
static struct dbd_db *
params_db(struct session *s, const struct jsonrpc_msg *req,
          const char *method)
{
    const json_t *name = json_array_get(req->params, 0);
    if (!json_is_string(name)) {
        char *details = xasprintf("%s request params must begin with <db-name>",
                                  method);
        reply_syntax_error(s, req->id, req->params, NULL, details);
        free(details);
        return NULL;
    }
    struct dbd_db *db = dbd_server_find_db(s->server, json_string_value(name));
    if (!db) {
        char *details = xasprintf("%s request specifies unknown database %s",
                                  method, json_string_value(name));
        reply_syntax_error(s, req->id, req->params, "unknown database", details);
        free(details);
    }
    return db;
}

/* --- Commit pipeline --- */

static const char *
update_method(enum dbd_monitor_version v)
{
    return v == DBD_MONITOR_V1 ? "update" : v == DBD_MONITOR_V2 ? "update2"
                                                                 : "update3";
}

static json_t *
zero_txn_id(void)
{
    return json_string("00000000-0000-0000-0000-000000000000");
}

static json_t *
update_params(const struct dbd_monitor *m, json_t *updates)
{
    json_t *id = json_deep_copy(dbd_monitor_get_id(m));
    if (dbd_monitor_get_version(m) == DBD_MONITOR_V3) {
        return json_pack("[o,o,o]", id, zero_txn_id(), updates);
    }
    return json_pack("[o,o]", id, updates);
}

/* The serialized text of each distinct <table-updates> value of one
 * commit: monitors of one shape share that value, so 50 clients cost one
 * serialization and 50 copies. */
struct update_texts {
    json_t **values;            /* References held, so no address is reused. */
    struct ds *texts;
    size_t n, allocated;
};

static const struct ds *
update_texts_get(struct update_texts *ut, json_t *updates)
{
    for (size_t i = 0; i < ut->n; i++) {
        if (ut->values[i] == updates) {
            return &ut->texts[i];
        }
    }
    if (ut->n >= ut->allocated) {
        size_t allocated = ut->allocated;
        ut->values = x2nrealloc(ut->values, &allocated, sizeof *ut->values);
        ut->texts = xrealloc(ut->texts, allocated * sizeof *ut->texts);
        ut->allocated = allocated;
    }
    struct ds *text = &ut->texts[ut->n];
    ut->values[ut->n++] = json_incref(updates);
    ds_init(text);
    if (!jsonrpc_text_put(text, updates)) {
        fatal("cannot serialize a monitor update");   /* Not UTF-8: a bug. */
    }
    return text;
}

static void
update_texts_destroy(struct update_texts *ut)
{
    for (size_t i = 0; i < ut->n; i++) {
        json_decref(ut->values[i]);
        ds_destroy(&ut->texts[i]);
    }
    free(ut->values);
    free(ut->texts);
}

/* Holds for S the notification carrying UPDATES for monitor M, spelled as
 * jsonrpc_send() would spell it, around the shared text of UPDATES. */
static void
hold_update(struct session *s, const struct dbd_monitor *m,
            const struct ds *updates)
{
    enum dbd_monitor_version v = dbd_monitor_get_version(m);
    struct ds msg = DS_EMPTY_INITIALIZER;
    ds_reserve(&msg, updates->length + 96);
    ds_put_cstr(&msg, "{\"method\":\"");
    ds_put_cstr(&msg, update_method(v));
    ds_put_cstr(&msg, "\",\"params\":[");
    /* The client's id as it sent it, UTF-8 or not, as jsonrpc_send()
     * would write it (jsonrpc-text.h). */
    if (!jsonrpc_text_put_flags(&msg, dbd_monitor_get_id(m),
                                JSONRPC_TEXT_VERBATIM)) {
        fatal("cannot serialize a monitor id");
    }
    if (v == DBD_MONITOR_V3) {
        ds_put_cstr(&msg, ",\"00000000-0000-0000-0000-000000000000\"");
    }
    ds_put_char(&msg, ',');
    ds_put_buffer(&msg, updates->string, updates->length);
    ds_put_cstr(&msg, "],\"id\":null}");
    size_t size = msg.length;
    session_hold_text(s, ds_steal_cstr(&msg), size);
}

static void
server_commit(struct dbd_server *server, struct dbd_db *db,
              struct ovsdb_txn *txn)
{
    ovsdb_txn_commit(txn);
    dbd_db_log_txn(db, txn);

    if (server->n_monitors) {
        struct dbd_monitor_batch *batch = dbd_monitor_batch_create(txn);
        struct update_texts texts = { .n = 0 };
        struct session *s;
        LIST_FOR_EACH (s, node, &server->sessions) {
            struct session_monitor *sm;
            LIST_FOR_EACH (sm, node, &s->monitors) {
                if (sm->db != db) {
                    continue;
                }
                json_t *updates = dbd_monitor_batch_get_update(batch, sm->monitor);
                if (updates) {
                    hold_update(s, sm->monitor,
                                update_texts_get(&texts, updates));
                    json_decref(updates);
                }
            }
        }
        update_texts_destroy(&texts);
        dbd_monitor_batch_destroy(batch);
    }
    ovsdb_txn_destroy(txn);
    server->commit_seqno++;
    server->changed = true;
}

/* --- transact --- */

static bool
session_has_lock(const char *name, void *s_)
{
    struct session *s = s_;
    struct session_lock *sl;
    LIST_FOR_EACH (sl, node, &s->locks) {
        if (!strcmp(dbd_lock_waiter_name(sl->waiter), name)) {
            return dbd_lock_waiter_is_owner(sl->waiter);
        }
    }
    return false;
}

/* Executes OPS; returns true if done (reply sent), false if blocked with
 * *DEADLINEP set. */
static bool
execute_transact(struct session *s, struct dbd_db *db, const json_t *id,
                 const json_t *ops, long long start, long long *deadlinep)
{
    long long now = time_msec();
    struct ovsdb_exec_ctx ctx = {
        .has_lock = session_has_lock,
        .aux = s,
        .read_only = s->server->read_only,
        .reserved_db = dbd_db_is_reserved(db) ? dbd_db_name(db) : NULL,
        .start_msec = start,
    };

    json_t *results = NULL;
    struct ovsdb_txn *txn = NULL;
    enum ovsdb_exec_status status = ovsdb_execute(dbd_db_ovsdb(db), ops, &ctx,
                                                  now, deadlinep, &results,
                                                  &txn);
    if (status == OVSDB_EXEC_BLOCKED) {
        return false;
    }
    if (txn) {
        server_commit(s->server, db, txn);
    }
    reply_result(s, id, results);
    return true;
}

static struct trigger *
session_find_trigger(const struct session *s, const json_t *id)
{
    struct trigger *t;
    LIST_FOR_EACH (t, node, &s->server->triggers) {
        if (t->session == s && json_equal(t->id, id)) {
            return t;
        }
    }
    return NULL;
}

static void
trigger_destroy(struct trigger *t)
{
    list_remove(&t->node);
    json_decref(t->id);
    json_decref(t->ops);
    free(t);
}

static void
handle_transact(struct session *s, const struct jsonrpc_msg *req)
{
    struct dbd_db *db = params_db(s, req, "transact");
    if (!db) {
        return;
    }
    if (session_find_trigger(s, req->id)) {
        reply_syntax_error(s, req->id, req->params, NULL,
                           "transact: duplicate request ID");
        return;
    }

    json_t *ops = json_array();
    for (size_t i = 1; i < json_array_size(req->params); i++) {
        json_array_append(ops, json_array_get(req->params, i));
    }
    long long start = time_msec(), deadline;
    if (execute_transact(s, db, req->id, ops, start, &deadline)) {
        json_decref(ops);
        return;
    }
    struct trigger *t = xzalloc(sizeof *t);
    t->session = s;
    t->db = db;
    t->id = json_deep_copy(req->id);
    t->ops = ops;
    t->start = start;
    t->deadline = deadline;
    list_push_back(&s->server->triggers, &t->node);
}

/* Retries blocked transactions after a commit or at their deadlines. */
static void
run_triggers(struct dbd_server *server, bool db_changed)
{
    long long now = time_msec();
    struct trigger *t, *next;
    LIST_FOR_EACH_SAFE (t, next, node, &server->triggers) {
        if (!db_changed && now < t->deadline) {
            continue;
        }
        long long deadline;
        if (execute_transact(t->session, t->db, t->id, t->ops, t->start,
                             &deadline)) {
            /* 'next' may have been affected only through commits, which
             * never remove triggers, so it stays valid. */
            trigger_destroy(t);
        } else {
            t->deadline = deadline;
        }
    }
}

static void
handle_cancel(struct session *s, const struct jsonrpc_msg *msg)
{
    const json_t *id = json_array_get(msg->params, 0);
    struct trigger *t = id ? session_find_trigger(s, id) : NULL;
    if (!t) {
        return;
    }
    /* OVS answers "canceled" only to change-aware sessions; others never
     * hear about the canceled request again. */
    if (s->db_change_aware) {
        reply_error_string(s, t->id, "canceled");
    }
    trigger_destroy(t);
}

/* --- Monitors --- */

static struct session_monitor *
session_find_monitor(const struct session *s, const json_t *id)
{
    struct session_monitor *sm;
    LIST_FOR_EACH (sm, node, &s->monitors) {
        if (json_equal((json_t *) dbd_monitor_get_id(sm->monitor), (json_t *) id)) {
            return sm;
        }
    }
    return NULL;
}

static void
session_monitor_destroy(struct session *s, struct session_monitor *sm)
{
    list_remove(&sm->node);
    dbd_monitor_destroy(sm->monitor);
    free(sm);
    s->server->n_monitors--;
}

static void
handle_monitor(struct session *s, const struct jsonrpc_msg *req,
               enum dbd_monitor_version version)
{
    static const char *names[] = { "monitor", "monitor_cond",
                                   "monitor_cond_since" };
    size_t n_params = version == DBD_MONITOR_V3 ? 4 : 3;
    struct dbd_db *db = params_db(s, req, names[version]);
    if (!db) {
        return;
    }
    if (json_array_size(req->params) < n_params
        && !(version == DBD_MONITOR_V3 && json_array_size(req->params) == 3)) {
        char *details = xasprintf("%s request params must be <db-name>, "
                                  "<monitor-id>, <monitor-requests>",
                                  names[version]);
        reply_syntax_error(s, req->id, req->params, NULL, details);
        free(details);
        return;
    }
    const json_t *mon_id = json_array_get(req->params, 1);
    if (session_find_monitor(s, mon_id)) {
        reply_syntax_error(s, req->id, mon_id, NULL, "duplicate monitor ID");
        return;
    }

    struct dbd_monitor *monitor;
    json_t *initial;
    struct ovsdb_error *error = dbd_monitor_create(dbd_db_ovsdb(db), mon_id,
                                                   version,
                                                   json_array_get(req->params, 2),
                                                   &monitor, &initial);
    if (error) {
        reply_ovsdb_error(s, req->id, error);
        return;
    }
    struct session_monitor *sm = xzalloc(sizeof *sm);
    sm->monitor = monitor;
    sm->db = db;
    list_push_back(&s->monitors, &sm->node);
    s->server->n_monitors++;

    /* Standalone databases keep no transaction history, so like
     * ovsdb-server we always answer found=false with every row. */
    reply_result(s, req->id, version == DBD_MONITOR_V3
                 ? json_pack("[b,o,o]", 0, zero_txn_id(), initial)
                 : initial);
}

static void
handle_monitor_cond_change(struct session *s, const struct jsonrpc_msg *req)
{
    if (json_array_size(req->params) != 3) {
        reply_syntax_error(s, req->id, req->params, NULL,
                           "monitor_cond_change request params must be "
                           "<old-monitor-id>, <new-monitor-id>, "
                           "<monitor-cond-change-requests>");
        return;
    }
    const json_t *old_id = json_array_get(req->params, 0);
    const json_t *new_id = json_array_get(req->params, 1);
    struct session_monitor *sm = session_find_monitor(s, old_id);
    if (!sm) {
        reply_syntax_error(s, req->id, old_id, NULL, "unknown monitor session");
        return;
    }
    if (!json_equal((json_t *) old_id, (json_t *) new_id)
        && session_find_monitor(s, new_id)) {
        reply_syntax_error(s, req->id, new_id, NULL, "duplicate monitor ID");
        return;
    }
    json_t *updates;
    struct ovsdb_error *error = dbd_monitor_change_conditions(
        sm->monitor, new_id, json_array_get(req->params, 2), &updates);
    if (error) {
        reply_ovsdb_error(s, req->id, error);
        return;
    }
    if (updates) {
        /* Rows entering or leaving the condition go out before the reply. */
        session_hold(s, jsonrpc_create_notify(
                         update_method(dbd_monitor_get_version(sm->monitor)),
                         update_params(sm->monitor, updates)));
    }
    reply_result(s, req->id, json_object());
}

static void
handle_monitor_cancel(struct session *s, const struct jsonrpc_msg *req)
{
    const json_t *id = json_array_get(req->params, 0);
    struct session_monitor *sm = id && json_array_size(req->params) == 1
                                 ? session_find_monitor(s, id) : NULL;
    if (!sm) {
        reply_error_string(s, req->id, "unknown monitor");
        return;
    }
    session_monitor_destroy(s, sm);
    reply_result(s, req->id, json_object());
}

/* --- convert --- */

/* What ovsdb-server does once DB was replaced by a converted copy: blocked
 * transactions on it are canceled ("canceled" to change-aware sessions),
 * change-aware sessions hear "monitor_canceled" for each of its monitors,
 * and every session that is not change-aware is disconnected, so that it
 * reconnects and reads the new schema. */
static void
server_db_replaced(struct dbd_server *server, struct dbd_db *db)
{
    struct trigger *t, *next_t;
    LIST_FOR_EACH_SAFE (t, next_t, node, &server->triggers) {
        if (t->db == db) {
            if (t->session->db_change_aware) {
                reply_error_string(t->session, t->id, "canceled");
            }
            trigger_destroy(t);
        }
    }
    struct session *s;
    LIST_FOR_EACH (s, node, &server->sessions) {
        struct session_monitor *sm, *next_sm;
        LIST_FOR_EACH_SAFE (sm, next_sm, node, &s->monitors) {
            if (sm->db != db) {
                continue;
            }
            if (s->db_change_aware) {
                session_hold(s, jsonrpc_create_notify(
                    "monitor_canceled",
                    json_pack("[O]", dbd_monitor_get_id(sm->monitor))));
            }
            session_monitor_destroy(s, sm);
        }
        if (!s->db_change_aware) {
            s->dead = true;     /* After its held replies are sent. */
        }
    }
}

/* Keeps _Server's Database row of DB in step with DB's new schema. */
static void
update_server_db(struct dbd_server *server, struct dbd_db *db)
{
    struct dbd_db *sdb = dbd_server_find_db(server, "_Server");
    if (!sdb) {
        return;
    }
    json_t *schema = ovsdb_schema_to_json(ovsdb_get_schema(dbd_db_ovsdb(db)));
    char *text = json_dumps(schema, JSON_COMPACT);
    json_t *ops = json_pack("[{s:s,s:s,s:[[s,s,s]],s:{s:s}}]",
                            "op", "update", "table", "Database", "where",
                            "name", "==", dbd_db_name(db), "row",
                            "schema", text);
    char *error = dbd_server_execute_internal(server, sdb, ops);
    if (error) {
        VLOG_WARN("_Server: cannot record the new schema of %s: %s",
                  dbd_db_name(db), error);
    }
    free(error);
    json_decref(ops);
    free(text);
    json_decref(schema);
}

static void
handle_convert(struct session *s, const struct jsonrpc_msg *req)
{
    struct dbd_db *db = params_db(s, req, "convert");
    if (!db) {
        return;
    }
    if (json_array_size(req->params) != 2) {
        reply_syntax_error(s, req->id, req->params, NULL, "array expected");
        return;
    }
    if (dbd_db_is_reserved(db) || s->server->read_only) {
        /* ovsdb-server 3.1 converts even its own _Server database (and a
         * backup's copy); neither has a use, both break the server. */
        reply_ovsdb_error(s, req->id, ovsdb_error(
            "not allowed", "convert operation not allowed on %s",
            dbd_db_is_reserved(db) ? "reserved database _Server"
            : "a database of a server in read only mode"));
        return;
    }
    const json_t *schema_json = json_array_get(req->params, 1);
    struct ovsdb_schema *schema;
    struct ovsdb *old = NULL;
    struct ovsdb_error *e = !json_is_object(schema_json)
        /* ovsdb-server names no "syntax" for this one. */
        ? ovsdb_error("syntax error", "Parsing database schema failed: "
                      "Object expected.")
        : ovsdb_schema_from_json(schema_json, &schema);
    if (!e) {
        e = dbd_db_convert(db, schema, &old);
    }
    if (e) {
        reply_ovsdb_error(s, req->id, e);
        return;
    }
    server_db_replaced(s->server, db);
    ovsdb_destroy(old);         /* Nothing points into it any more. */
    s->server->commit_seqno++;
    s->server->changed = true;
    update_server_db(s->server, db);
    reply_result(s, req->id, json_object());
}

/* --- Locks --- */

static struct session_lock *
session_find_lock(const struct session *s, const char *name)
{
    struct session_lock *sl;
    LIST_FOR_EACH (sl, node, &s->locks) {
        if (!strcmp(dbd_lock_waiter_name(sl->waiter), name)) {
            return sl;
        }
    }
    return NULL;
}

static void
notify_lock(struct session *s, const char *method, const char *name)
{
    session_hold(s, jsonrpc_create_notify(method, json_pack("[s]", name)));
}

static void
handle_lock(struct session *s, const struct jsonrpc_msg *req,
            enum dbd_lock_mode mode)
{
    const char *method = mode == DBD_LOCK_STEAL ? "steal" : "lock";
    const json_t *name = json_array_get(req->params, 0);
    if (s->server->read_only) {
        reply_error_string(s, req->id, "lock and unlock methods not allowed, "
                           "DB server is read only.");
        return;
    }
    if (json_array_size(req->params) != 1 || !json_is_string(name)
        || !ovsdb_string_is_id(json_string_value(name))) {
        char *details = xasprintf("%s request params must be <id>", method);
        reply_syntax_error(s, req->id, req->params, NULL, details);
        free(details);
        return;
    }
    if (session_find_lock(s, json_string_value(name))) {
        char *details = xasprintf("must issue \"unlock\" before new \"%s\"",
                                  method);
        reply_syntax_error(s, req->id, req->params, NULL, details);
        free(details);
        return;
    }

    void *victim;
    struct session_lock *sl = xzalloc(sizeof *sl);
    sl->waiter = dbd_lock_acquire(s->server->locks, json_string_value(name),
                                  s, mode, &victim);
    list_push_back(&s->locks, &sl->node);
    if (victim && victim != s) {
        notify_lock(victim, "stolen",
                    json_string_value(name));
    }
    reply_result(s, req->id,
                 json_pack("{s:b}", "locked",
                           dbd_lock_waiter_is_owner(sl->waiter)));
}

static void
release_lock(struct session_lock *sl)
{
    char *name = xstrdup(dbd_lock_waiter_name(sl->waiter));
    void *new_owner = dbd_lock_release(sl->waiter);
    list_remove(&sl->node);
    free(sl);
    if (new_owner) {
        notify_lock(new_owner, "locked", name);
    }
    free(name);
}

static void
handle_unlock(struct session *s, const struct jsonrpc_msg *req)
{
    const json_t *name = json_array_get(req->params, 0);
    if (s->server->read_only) {
        reply_error_string(s, req->id, "lock and unlock methods not allowed, "
                           "DB server is read only.");
        return;
    }
    if (json_array_size(req->params) != 1 || !json_is_string(name)
        || !ovsdb_string_is_id(json_string_value(name))) {
        reply_syntax_error(s, req->id, req->params, NULL,
                           "unlock request params must be <id>");
        return;
    }
    struct session_lock *sl = session_find_lock(s, json_string_value(name));
    if (!sl) {
        reply_syntax_error(s, req->id, req->params, NULL,
                           "unlock: \"unlock\" without \"lock\" or \"steal\"");
        return;
    }
    release_lock(sl);
    reply_result(s, req->id, json_object());
}

/* --- Other methods --- */

static void
handle_list_dbs(struct session *s, const struct jsonrpc_msg *req)
{
    json_t *names = json_array();
    for (size_t i = 0; i < s->server->n_dbs; i++) {
        json_array_append_new(names, json_string(dbd_db_name(s->server->dbs[i])));
    }
    reply_result(s, req->id, names);
}

static void
handle_get_schema(struct session *s, const struct jsonrpc_msg *req)
{
    struct dbd_db *db = params_db(s, req, "get_schema");
    if (db) {
        reply_result(s, req->id,
                     ovsdb_schema_to_json(ovsdb_get_schema(dbd_db_ovsdb(db))));
    }
}

static void
handle_get_server_id(struct session *s, const struct jsonrpc_msg *req)
{
    char buf[UUID_LEN + 1];
    uuid_to_string(&s->server->server_id, buf);
    reply_result(s, req->id, json_string(buf));
}

static void
handle_set_db_change_aware(struct session *s, const struct jsonrpc_msg *req)
{
    const json_t *v = json_array_get(req->params, 0);
    if (json_array_size(req->params) != 1 || !json_is_boolean(v)) {
        reply_syntax_error(s, req->id, req->params, NULL,
                           "set_db_change_aware: true or false parameter "
                           "expected");
        return;
    }
    s->db_change_aware = json_is_true(v);
    reply_result(s, req->id, json_object());
}

static void
handle_echo(struct session *s, const struct jsonrpc_msg *req)
{
    reply_result(s, req->id, json_deep_copy(req->params));
}

struct method {
    const char *name;
    void (*handler)(struct session *, const struct jsonrpc_msg *);
};

static void handle_monitor_v1(struct session *s, const struct jsonrpc_msg *r)
{
    handle_monitor(s, r, DBD_MONITOR_V1);
}

static void handle_monitor_v2(struct session *s, const struct jsonrpc_msg *r)
{
    handle_monitor(s, r, DBD_MONITOR_V2);
}

static void handle_monitor_v3(struct session *s, const struct jsonrpc_msg *r)
{
    handle_monitor(s, r, DBD_MONITOR_V3);
}

static void handle_lock_wait(struct session *s, const struct jsonrpc_msg *r)
{
    handle_lock(s, r, DBD_LOCK_WAIT);
}

static void handle_lock_steal(struct session *s, const struct jsonrpc_msg *r)
{
    handle_lock(s, r, DBD_LOCK_STEAL);
}

static const struct method methods[] = {
    { "transact", handle_transact },
    { "echo", handle_echo },
    { "list_dbs", handle_list_dbs },
    { "get_schema", handle_get_schema },
    { "monitor", handle_monitor_v1 },
    { "monitor_cond", handle_monitor_v2 },
    { "monitor_cond_since", handle_monitor_v3 },
    { "monitor_cond_change", handle_monitor_cond_change },
    { "monitor_cancel", handle_monitor_cancel },
    { "lock", handle_lock_wait },
    { "steal", handle_lock_steal },
    { "unlock", handle_unlock },
    { "get_server_id", handle_get_server_id },
    { "set_db_change_aware", handle_set_db_change_aware },
    { "convert", handle_convert },
};

static void
session_handle_msg(struct session *s, struct jsonrpc_msg *msg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

    switch (msg->type) {
    case JSONRPC_REQUEST:
        for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
            if (!strcmp(msg->method, methods[i].name)) {
                methods[i].handler(s, msg);
                return;
            }
        }
        reply_error_string(s, msg->id, "unknown method");
        break;
    case JSONRPC_NOTIFY:
        if (!strcmp(msg->method, "cancel")) {
            handle_cancel(s, msg);
        }
        break;
    case JSONRPC_REPLY:
    case JSONRPC_ERROR:
        /* We send no requests but echo probes, which the session layer
         * consumes: anything else is a protocol violation. */
        VLOG_WARN_RL(&rl, "%s: received unexpected %s message",
                     jsonrpc_session_get_name(s->js),
                     jsonrpc_msg_type_to_string(msg->type));
        s->dead = true;
        break;
    }
}

/* --- Sessions --- */

void
dbd_server_add_session(struct dbd_server *server, struct jsonrpc_session *js,
                       bool persistent)
{
    struct session *s = xzalloc(sizeof *s);
    s->server = server;
    s->js = js;
    s->persistent = persistent;
    s->seqno = jsonrpc_session_get_seqno(js);
    list_init(&s->monitors);
    list_init(&s->locks);
    list_init(&s->held);
    list_push_back(&server->sessions, &s->node);
    server->n_sessions++;
}

/* Forgets everything the peer set up: after a reconnection the peer is a
 * new client. */
static void
session_reset(struct session *s)
{
    struct dbd_server *server = s->server;

    while (!list_is_empty(&s->monitors)) {
        session_monitor_destroy(s, CONTAINER_OF(s->monitors.next,
                                                struct session_monitor, node));
    }
    while (!list_is_empty(&s->locks)) {
        release_lock(CONTAINER_OF(s->locks.next, struct session_lock, node));
    }
    struct trigger *t, *next;
    LIST_FOR_EACH_SAFE (t, next, node, &server->triggers) {
        if (t->session == s) {
            trigger_destroy(t);
        }
    }
    while (!list_is_empty(&s->held)) {
        struct held_msg *h = CONTAINER_OF(list_pop_front(&s->held),
                                          struct held_msg, node);
        held_msg_destroy(h);
    }
    s->db_change_aware = false;
    s->dead = false;
}

static void
session_destroy(struct session *s)
{
    struct dbd_server *server = s->server;

    session_reset(s);
    list_remove(&s->node);
    jsonrpc_session_close(s->js);
    server->n_sessions--;
    free(s);
}

void
dbd_server_remove_session(struct dbd_server *server,
                          struct jsonrpc_session *js)
{
    struct session *s;
    LIST_FOR_EACH (s, node, &server->sessions) {
        if (s->js == js) {
            session_destroy(s);
            return;
        }
    }
}

/* --- Server --- */

struct dbd_server *
dbd_server_create(void)
{
    struct dbd_server *server = xzalloc(sizeof *server);
    list_init(&server->sessions);
    list_init(&server->triggers);
    server->locks = dbd_lock_table_create();
    server->max_backlog = MAX_BACKLOG_BYTES;
    uuid_generate(&server->server_id);
    return server;
}

void
dbd_server_destroy(struct dbd_server *server)
{
    if (!server) {
        return;
    }
    while (!list_is_empty(&server->sessions)) {
        struct session *s = CONTAINER_OF(server->sessions.next,
                                         struct session, node);
        session_flush_held(s);
        session_destroy(s);
    }
    dbd_lock_table_destroy(server->locks);
    free(server->dbs);
    free(server);
}

static void
sync_logs(struct dbd_server *server)
{
    for (size_t i = 0; i < server->n_dbs; i++) {
        struct dbd_db *db = server->dbs[i];
        if (dbd_db_needs_sync(db)) {
            int error = dbd_db_sync(db);
            if (error) {
                /* See docs/decisions.md: after a failed fsync the page cache
                 * state is unknown, so exit and let restart replay the log,
                 * which holds exactly what was acknowledged. */
                VLOG_EMER("%s: writing the database log failed (%s); exiting",
                          dbd_db_file_name(db), strerror(error));
                fatal("%s: writing the database log failed (%s)",
                      dbd_db_file_name(db), strerror(error));
            }
        }
    }
}

bool
dbd_server_run(struct dbd_server *server)
{
    long long now = time_msec();
    bool any_change = false;

    server->changed = false;
    /* Requests are freed only after the replies have been sent: freeing
     * the JSON of a 10,000-member set rewrite takes as long as parsing it,
     * and the client need not wait for that. */
    struct jsonrpc_msg **handled = NULL;
    size_t n_handled = 0, allocated_handled = 0;
    struct session *s, *next;
    LIST_FOR_EACH_SAFE (s, next, node, &server->sessions) {
        jsonrpc_session_run(s->js, now);
        if (s->seqno != jsonrpc_session_get_seqno(s->js)) {
            s->seqno = jsonrpc_session_get_seqno(s->js);
            session_reset(s);
        }
        for (int i = 0; i < MAX_MSGS_PER_RUN && !s->dead; i++) {
            struct jsonrpc_msg *msg = jsonrpc_session_recv(s->js, now);
            if (!msg) {
                break;
            }
            session_handle_msg(s, msg);
            if (n_handled >= allocated_handled) {
                handled = x2nrealloc(handled, &allocated_handled,
                                     sizeof *handled);
            }
            handled[n_handled++] = msg;
            if (i == MAX_MSGS_PER_RUN - 1) {
                poll_immediate_wake();
            }
        }
    }

    /* Blocked transactions are retried until commits stop changing things
     * (a retried one may itself commit and unblock another). */
    run_triggers(server, server->changed);
    any_change = server->changed;
    for (int round = 0; server->changed && round < 8; round++) {
        server->changed = false;
        run_triggers(server, true);
        any_change |= server->changed;
    }
    if (server->changed) {
        poll_immediate_wake();
    }

    sync_logs(server);

    LIST_FOR_EACH_SAFE (s, next, node, &server->sessions) {
        session_flush_held(s);
        jsonrpc_session_run(s->js, now);
        if (jsonrpc_session_get_backlog(s->js) > server->max_backlog) {
            VLOG_WARN("%s: disconnecting: %zu bytes queued and the client "
                      "is not reading", jsonrpc_session_get_name(s->js),
                      jsonrpc_session_get_backlog(s->js));
            s->dead = true;
        }
        if (s->dead && s->persistent) {
            jsonrpc_session_force_reconnect(s->js, now);
            session_reset(s);
        } else if (s->dead || !jsonrpc_session_is_alive(s->js)) {
            session_destroy(s);
        }
    }
    for (size_t i = 0; i < n_handled; i++) {
        jsonrpc_msg_destroy(handled[i]);
    }
    free(handled);
    return any_change;
}

void
dbd_server_wait(struct dbd_server *server)
{
    struct session *s;
    LIST_FOR_EACH (s, node, &server->sessions) {
        jsonrpc_session_wait(s->js);
        jsonrpc_session_recv_wait(s->js);
    }
    struct trigger *t;
    LIST_FOR_EACH (t, node, &server->triggers) {
        if (t->deadline != LLONG_MAX) {
            poll_timer_wait_until(t->deadline);
        }
    }
}

static void
count_atoms(const struct ovsdb *db, unsigned long long *rows,
            unsigned long long *cells, unsigned long long *atoms)
{
    for (unsigned int i = 0; i < ovsdb_n_tables(db); i++) {
        const struct ovsdb_table *table = ovsdb_get_table(db, i);
        const struct ovsdb_table_schema *ts = table->schema;
        const struct ovsdb_row *row;
        OVSDB_TABLE_FOR_EACH_ROW (row, table) {
            ++*rows;
            for (unsigned int c = OVSDB_N_IMPLICIT_COLUMNS; c < ts->n_columns; c++) {
                const struct ovsdb_datum *d = &row->columns[c];
                ++*cells;
                *atoms += d->n * (ovsdb_type_is_map(&ts->columns[c]->type) ? 2 : 1);
            }
        }
    }
}

void
dbd_server_get_memory_usage(const struct dbd_server *server, struct ds *out)
{
    unsigned long long rows = 0, cells = 0, atoms = 0;
    for (size_t i = 0; i < server->n_dbs; i++) {
        count_atoms(dbd_db_ovsdb(server->dbs[i]), &rows, &cells, &atoms);
    }
    ds_put_format(out, "atoms:%llu cells:%llu locks:%u monitors:%u rows:%llu "
                  "sessions:%u triggers:%zu",
                  atoms, cells, dbd_lock_table_count(server->locks),
                  server->n_monitors, rows, server->n_sessions,
                  list_size(&server->triggers));
}

void
dbd_server_set_read_only(struct dbd_server *server, bool read_only)
{
    server->read_only = read_only;
}

bool
dbd_server_is_read_only(const struct dbd_server *server)
{
    return server->read_only;
}

const struct uuid *
dbd_server_get_server_id(const struct dbd_server *server)
{
    return &server->server_id;
}

char *
dbd_server_execute_internal(struct dbd_server *server, struct dbd_db *db,
                            const json_t *ops)
{
    struct ovsdb_exec_ctx ctx = { .start_msec = time_msec() };
    long long deadline;
    json_t *results = NULL;
    struct ovsdb_txn *txn = NULL;
    if (ovsdb_execute(dbd_db_ovsdb(db), ops, &ctx, time_msec(), &deadline,
                      &results, &txn) != OVSDB_EXEC_DONE) {
        return xstrdup("transaction would block");
    }
    size_t i;
    json_t *r;
    json_array_foreach (results, i, r) {
        if (json_is_object(r) && json_object_get(r, "error")) {
            /* An error may quote bytes that are not UTF-8 (jsonrpc-text.h),
             * which json_dumps() would refuse. */
            struct ds buf = DS_EMPTY_INITIALIZER;
            jsonrpc_text_put_flags(&buf, r, JSONRPC_TEXT_VERBATIM);
            char *text = ds_steal_cstr(&buf);
            json_decref(results);
            if (txn) {
                ovsdb_txn_abort(txn);
            }
            return text;
        }
    }
    json_decref(results);
    if (txn) {
        server_commit(server, db, txn);
        /* Held replies and updates go out after the next log sync. */
        poll_immediate_wake();
    }
    return NULL;
}

void
dbd_server_set_max_backlog(struct dbd_server *server, size_t max_backlog)
{
    server->max_backlog = max_backlog ? max_backlog : MAX_BACKLOG_BYTES;
}

unsigned long long
dbd_server_get_commit_seqno(const struct dbd_server *server)
{
    return server->commit_seqno;
}
