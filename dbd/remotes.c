#include "remotes.h"

#include <errno.h>
#include <string.h>

#include "dbd-db.h"
#include "ds.h"
#include "jsonrpc.h"
#include "list.h"
#include "ovsdb-data.h"
#include "ovsdb-schema.h"
#include "ovsdb.h"
#include "poll-loop.h"
#include "server.h"
#include "stream.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(dbd_remotes);

/* One concrete endpoint: a listener or an outgoing session. */
struct endpoint {
    struct list_node node;      /* In dbd_remotes.endpoints. */
    char *target;               /* "ptcp:6640", "tcp:1.2.3.4:6640", ... */
    int probe_interval;         /* msec; -1 for the transport's default. */
    struct pstream *listener;   /* Passive targets. */
    struct jsonrpc_session *js; /* Active targets (owned by the server). */
    bool mark;                  /* Still wanted after a reconfigure. */
};

struct dbd_remotes {
    struct dbd_server *server;
    char **names;               /* Configured names (sorted on listing). */
    size_t n_names, allocated;
    struct list_node endpoints;
    char *ssl_key, *ssl_cert, *ssl_ca;  /* Configured, maybe "db:...". */
    char *ssl_applied;          /* "key|cert|ca" last applied. */
};

static bool
is_passive(const char *target)
{
    return !pstream_verify_name(target);
}

static bool
is_active(const char *target)
{
    return !stream_verify_name(target);
}

struct dbd_remotes *
dbd_remotes_create(struct dbd_server *server)
{
    struct dbd_remotes *r = xzalloc(sizeof *r);
    r->server = server;
    list_init(&r->endpoints);
    return r;
}

static void
endpoint_destroy(struct dbd_remotes *r, struct endpoint *ep)
{
    list_remove(&ep->node);
    pstream_close(ep->listener);
    if (ep->js) {
        dbd_server_remove_session(r->server, ep->js);
    }
    free(ep->target);
    free(ep);
}

void
dbd_remotes_destroy(struct dbd_remotes *r)
{
    if (!r) {
        return;
    }
    while (!list_is_empty(&r->endpoints)) {
        endpoint_destroy(r, CONTAINER_OF(r->endpoints.next, struct endpoint, node));
    }
    for (size_t i = 0; i < r->n_names; i++) {
        free(r->names[i]);
    }
    free(r->names);
    free(r->ssl_key);
    free(r->ssl_cert);
    free(r->ssl_ca);
    free(r->ssl_applied);
    free(r);
}

/* Parses "db:DB,TABLE,COLUMN" into its parts (caller frees *DBP etc.). */
static bool
parse_db_ref(const char *name, char **dbp, char **tablep, char **columnp)
{
    if (strncmp(name, "db:", 3)) {
        return false;
    }
    char *copy = xstrdup(name + 3);
    char *save = NULL;
    char *db = strtok_r(copy, ",", &save);
    char *table = db ? strtok_r(NULL, ",", &save) : NULL;
    char *column = table ? strtok_r(NULL, ",", &save) : NULL;
    bool ok = column && !strtok_r(NULL, ",", &save);
    if (ok) {
        *dbp = xstrdup(db);
        *tablep = xstrdup(table);
        *columnp = xstrdup(column);
    }
    free(copy);
    return ok;
}

char *
dbd_remotes_add(struct dbd_remotes *r, const char *name)
{
    char *db, *table, *column;
    if (parse_db_ref(name, &db, &table, &column)) {
        free(db);
        free(table);
        free(column);
    } else if (!str_starts_with(name, "db:") && (is_passive(name) || is_active(name))) {
        /* ok */
    } else {
        return xasprintf("%s: unknown or malformed remote (expected punix:, "
                         "ptcp:, pssl:, unix:, tcp:, ssl: or "
                         "db:DB,TABLE,COLUMN)", name);
    }
    for (size_t i = 0; i < r->n_names; i++) {
        if (!strcmp(r->names[i], name)) {
            return NULL;
        }
    }
    if (r->n_names >= r->allocated) {
        r->names = x2nrealloc(r->names, &r->allocated, sizeof *r->names);
    }
    r->names[r->n_names++] = xstrdup(name);
    return NULL;
}

bool
dbd_remotes_remove(struct dbd_remotes *r, const char *name)
{
    for (size_t i = 0; i < r->n_names; i++) {
        if (!strcmp(r->names[i], name)) {
            free(r->names[i]);
            r->names[i] = r->names[--r->n_names];
            return true;
        }
    }
    return false;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

void
dbd_remotes_list(const struct dbd_remotes *r, struct ds *out)
{
    char **sorted = xmemdup(r->names, r->n_names * sizeof *sorted);
    qsort(sorted, r->n_names, sizeof *sorted, compare_strings);
    for (size_t i = 0; i < r->n_names; i++) {
        ds_put_format(out, "%s\n", sorted[i]);
    }
    free(sorted);
}

void
dbd_remotes_set_ssl(struct dbd_remotes *r, const char *key, const char *cert,
                    const char *ca)
{
    free(r->ssl_key);
    free(r->ssl_cert);
    free(r->ssl_ca);
    r->ssl_key = key ? xstrdup(key) : NULL;
    r->ssl_cert = cert ? xstrdup(cert) : NULL;
    r->ssl_ca = ca ? xstrdup(ca) : NULL;
}

/* --- Resolving "db:" references --- */

typedef void target_cb(const char *target, int probe_interval, void *aux);

/* Calls CB for each target that "db:DB,TABLE,COLUMN" currently names. */
static void
for_each_db_target(const struct dbd_remotes *r, const char *name,
                   target_cb *cb, void *aux)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    char *db_name, *table_name, *column_name;
    if (!parse_db_ref(name, &db_name, &table_name, &column_name)) {
        return;
    }
    struct dbd_db *db = dbd_server_find_db(r->server, db_name);
    struct ovsdb_table *table = db ? ovsdb_find_table(dbd_db_ovsdb(db), table_name) : NULL;
    const struct ovsdb_column_schema *cs = table
        ? ovsdb_table_schema_find_column(table->schema, column_name) : NULL;
    if (!cs) {
        VLOG_WARN_RL(&rl, "%s: no such database, table or column", name);
        goto out;
    }

    const struct ovsdb_base_type *key = &cs->type.key;
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, table) {
        const struct ovsdb_datum *d = &row->columns[cs->index];
        for (unsigned int i = 0; i < d->n; i++) {
            if (key->type == OVSDB_TYPE_STRING) {
                cb(d->keys[i].string, -1, aux);
            } else if (key->type == OVSDB_TYPE_UUID && key->u.uuid.ref_table) {
                struct ovsdb_table *ref = ovsdb_table_for_schema(
                    dbd_db_ovsdb(db), key->u.uuid.ref_table);
                const struct ovsdb_row *target_row =
                    ovsdb_table_find_row(ref, &d->keys[i].uuid);
                const struct ovsdb_type *t_type, *p_type;
                const struct ovsdb_datum *target = target_row
                    ? ovsdb_row_find_column(target_row, "target", &t_type) : NULL;
                if (!target || t_type->key.type != OVSDB_TYPE_STRING || !target->n) {
                    continue;
                }
                const struct ovsdb_datum *probe =
                    ovsdb_row_find_column(target_row, "inactivity_probe", &p_type);
                int interval = probe && probe->n && p_type->key.type == OVSDB_TYPE_INTEGER
                               ? (int) probe->keys[0].integer : -1;
                cb(target->keys[0].string, interval, aux);
            }
        }
    }
out:
    free(db_name);
    free(table_name);
    free(column_name);
}

static void
first_value_cb(const char *target, int probe_interval, void *result_)
{
    char **result = result_;
    (void) probe_interval;
    if (!*result && target[0]) {
        *result = xstrdup(target);
    }
}

/* A file name, or the first value a "db:" reference names (caller frees). */
static char *
resolve_setting(const struct dbd_remotes *r, const char *setting)
{
    if (!setting) {
        return NULL;
    }
    if (!str_starts_with(setting, "db:")) {
        return xstrdup(setting);
    }
    char *result = NULL;
    for_each_db_target(r, setting, first_value_cb, &result);
    return result;
}

static void
reconfigure_ssl(struct dbd_remotes *r)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    char *key = resolve_setting(r, r->ssl_key);
    char *cert = resolve_setting(r, r->ssl_cert);
    char *ca = resolve_setting(r, r->ssl_ca);
    char *applied = xasprintf("%s|%s|%s", key ? key : "", cert ? cert : "",
                              ca ? ca : "");
    if (!r->ssl_applied || strcmp(applied, r->ssl_applied)) {
        if (key && cert) {
            int error = stream_ssl_set_key_and_cert(key, cert);
            if (error) {
                VLOG_WARN_RL(&rl, "SSL private key %s or certificate %s "
                             "rejected (%s)", key, cert, strerror(error));
            }
        }
        if (ca) {
            int error = stream_ssl_set_ca_cert_file(ca);
            if (error) {
                VLOG_WARN_RL(&rl, "SSL CA certificate %s rejected (%s)", ca,
                             strerror(error));
            }
        }
        free(r->ssl_applied);
        r->ssl_applied = applied;
    } else {
        free(applied);
    }
    free(key);
    free(cert);
    free(ca);
}

/* --- Endpoints --- */

static struct endpoint *
find_endpoint(const struct dbd_remotes *r, const char *target)
{
    struct endpoint *ep;
    LIST_FOR_EACH (ep, node, &r->endpoints) {
        if (!strcmp(ep->target, target)) {
            return ep;
        }
    }
    return NULL;
}

static void
want_target(const char *target, int probe_interval, void *r_)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct dbd_remotes *r = r_;
    struct endpoint *ep = find_endpoint(r, target);
    if (ep) {
        ep->mark = true;
        if (ep->probe_interval != probe_interval) {
            ep->probe_interval = probe_interval;
            if (ep->js && probe_interval >= 0) {
                jsonrpc_session_set_probe_interval(ep->js, probe_interval);
            }
        }
        return;
    }

    ep = xzalloc(sizeof *ep);
    ep->target = xstrdup(target);
    ep->probe_interval = probe_interval;
    ep->mark = true;
    if (is_passive(target)) {
        int error = pstream_open(target, &ep->listener);
        if (error) {
            VLOG_ERR_RL(&rl, "%s: listen failed (%s)", target, strerror(error));
            ep->listener = NULL;
        } else {
            VLOG_INFO("%s: listening", pstream_get_name(ep->listener));
        }
    } else if (is_active(target)) {
        ep->js = jsonrpc_session_open(target, time_msec());
        if (probe_interval >= 0) {
            jsonrpc_session_set_probe_interval(ep->js, probe_interval);
        }
        dbd_server_add_session(r->server, ep->js, true);
    } else {
        VLOG_WARN_RL(&rl, "%s: not a valid remote, ignoring", target);
    }
    list_push_back(&r->endpoints, &ep->node);
}

void
dbd_remotes_reconfigure(struct dbd_remotes *r)
{
    struct endpoint *ep, *next;
    LIST_FOR_EACH (ep, node, &r->endpoints) {
        ep->mark = false;
    }
    reconfigure_ssl(r);
    for (size_t i = 0; i < r->n_names; i++) {
        if (str_starts_with(r->names[i], "db:")) {
            for_each_db_target(r, r->names[i], want_target, r);
        } else {
            want_target(r->names[i], -1, r);
        }
    }
    LIST_FOR_EACH_SAFE (ep, next, node, &r->endpoints) {
        if (!ep->mark) {
            VLOG_INFO("%s: no longer configured, closing", ep->target);
            endpoint_destroy(r, ep);
        }
    }
}

void
dbd_remotes_run(struct dbd_remotes *r)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct endpoint *ep;
    LIST_FOR_EACH (ep, node, &r->endpoints) {
        if (!ep->listener) {
            continue;
        }
        /* Bounded per iteration so an accept storm cannot starve clients. */
        for (int i = 0; i < 50; i++) {
            struct stream *stream;
            int error = pstream_accept(ep->listener, &stream);
            if (error == EAGAIN) {
                break;
            } else if (error) {
                VLOG_WARN_RL(&rl, "%s: accept failed (%s)", ep->target,
                             strerror(error));
                break;
            }
            int probe = ep->probe_interval >= 0
                        ? ep->probe_interval
                        : stream_needs_probes(stream_get_name(stream))
                          ? JSONRPC_DEFAULT_PROBE_INTERVAL : 0;
            dbd_server_add_session(
                r->server,
                jsonrpc_session_open_unreliably(jsonrpc_open(stream), probe,
                                                time_msec()),
                false);
        }
    }
}

void
dbd_remotes_wait(struct dbd_remotes *r)
{
    struct endpoint *ep;
    LIST_FOR_EACH (ep, node, &r->endpoints) {
        if (ep->listener) {
            pstream_wait(ep->listener);
        }
    }
}
