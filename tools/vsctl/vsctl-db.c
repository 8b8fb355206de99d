/* vsctl-db: connection, schema, row cache, lookups and monitors of the
 * database view; changes and commit are in vsctl-db-txn.c.  See
 * vsctl-db.h. */
#include "vsctl-db-private.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"
#include "hash.h"
#include "jsonrpc.h"
#include "poll-loop.h"
#include "stream.h"
#include "util.h"
#include "vsctl.h"


/* A column/value lookup answered by the server: the rows it matched. */
struct vsctl_query {
    struct hmap_node node;
    char *key;
    struct uuid *uuids;
    size_t n_uuids;
};

static void
query_free(struct vsctl_query *q)
{
    free(q->key);
    free(q->uuids);
    free(q);
}

/* An index of the values that one column has in a table's dirty rows
 * (loaded values and pending insertions), so that a lookup among thousands
 * of rows changed by one invocation costs O(1).  It covers dirty[0] to
 * dirty[n_indexed - 1]; later dirty rows are added on the next lookup, and
 * a change to the column of an indexed row discards the index. */
struct vsctl_dirty_index {
    size_t n_indexed;
    struct hmap entries;        /* struct dirty_entry by atom hash. */
};

struct dirty_entry {
    struct hmap_node node;
    struct vsctl_row *row;
};

static uint32_t
atom_hash(const union vsctl_atom *a, enum vsctl_atype type)
{
    switch (type) {
    case VA_INTEGER:
        return hash_uint64((uint64_t) a->integer, 0);
    case VA_REAL:
        return hash_double(a->real, 0);
    case VA_BOOLEAN:
        return hash_int(a->boolean, 0);
    case VA_STRING:
        return hash_string(a->string, 0);
    case VA_UUID:
        return uuid_hash(&a->uuid);
    case VA_VOID:
        break;
    }
    return 0;
}

static void
dirty_index_destroy(struct vsctl_dirty_index *idx)
{
    if (idx) {
        struct dirty_entry *e;
        HMAP_FOR_EACH_POP (e, node, &idx->entries) {
            free(e);
        }
        hmap_destroy(&idx->entries);
        free(idx);
    }
}

static void
dirty_indexes_clear(struct vsctl_table *t)
{
    for (size_t i = 0; t->dirty_indexes && i < t->n_columns; i++) {
        dirty_index_destroy(t->dirty_indexes[i]);
        t->dirty_indexes[i] = NULL;
    }
}

static void
dirty_index_add_datum(struct vsctl_dirty_index *idx, struct vsctl_row *row,
                      const struct vsctl_datum *d, enum vsctl_atype type)
{
    for (size_t i = 0; d && i < d->n; i++) {
        struct dirty_entry *e = xmalloc(sizeof *e);
        e->row = row;
        hmap_insert(&idx->entries, &e->node, atom_hash(&d->keys[i], type));
    }
}

/* The index of column C in T's dirty rows, brought up to date. */
static struct vsctl_dirty_index *
dirty_index_get(struct vsctl_table *t, const struct vsctl_column *c)
{
    if (!t->dirty_indexes) {
        t->dirty_indexes = xcalloc(t->n_columns, sizeof *t->dirty_indexes);
    }
    struct vsctl_dirty_index *idx = t->dirty_indexes[c->idx];
    if (!idx) {
        idx = t->dirty_indexes[c->idx] = xzalloc(sizeof *idx);
        hmap_init(&idx->entries);
    }
    for (; idx->n_indexed < t->n_dirty; idx->n_indexed++) {
        struct vsctl_row *row = t->dirty[idx->n_indexed];
        dirty_index_add_datum(idx, row, row->data[c->idx], c->type.key.type);
        dirty_index_add_datum(idx, row, row->mut_ins[c->idx],
                              c->type.key.type);
    }
    return idx;
}

/* Notes that column COLUMN_IDX of ROW is about to change. */
void
vsctl_db_mark_dirty(struct vsctl_row *row, size_t column_idx)
{
    struct vsctl_table *t = row->table;
    if (!row->dirty) {
        row->dirty = true;
        if (t->n_dirty >= t->allocated_dirty) {
            t->dirty = x2nrealloc(t->dirty, &t->allocated_dirty,
                                  sizeof *t->dirty);
        }
        row->dirty_pos = t->n_dirty;
        t->dirty[t->n_dirty++] = row;
    } else if (t->dirty_indexes && t->dirty_indexes[column_idx]
               && row->dirty_pos < t->dirty_indexes[column_idx]->n_indexed) {
        /* Indexed under its old value: rebuild on the next lookup. */
        dirty_index_destroy(t->dirty_indexes[column_idx]);
        t->dirty_indexes[column_idx] = NULL;
    }
}

/* ---- Connection. ---- */

/* Keeps "update" notifications that arrive while a reply is awaited. */
static void
queue_notification(struct jsonrpc_msg *msg, void *db_)
{
    struct vsctl_db *db = db_;
    if (msg->type == JSONRPC_NOTIFY && !strcmp(msg->method, "update")) {
        json_array_append(db->notifications, msg->params);
    } else if (msg->type == JSONRPC_REPLY && db->prefetch_id
               && json_equal(msg->id, db->prefetch_id)) {
        json_decref(db->prefetch);
        db->prefetch = json_incref(msg->result);
    }
    jsonrpc_msg_destroy(msg);
}

static void
fatal_rpc_error(const struct vsctl_db *db, int error)
{
    if (error == EOF) {
        fatal("%s: connection closed by peer", db->remote);
    }
    const char *reason = jsonrpc_get_error_reason(db->rpc);
    fatal("%s: %s", db->remote, reason ? reason : strerror(error));
}

/* Sends METHOD(PARAMS) (takes ownership) and returns the "result" of the
 * reply (caller owns); a JSON-RPC error is fatal. */
json_t *
vsctl_db_transact(struct vsctl_db *db, const char *method, json_t *params)
{
    struct jsonrpc_msg *reply;
    int error = jsonrpc_transact_block_cb(
        db->rpc, jsonrpc_create_request(method, params, NULL), &reply,
        queue_notification, db);
    if (error) {
        fatal_rpc_error(db, error);
    }
    if (reply->type == JSONRPC_ERROR) {
        char *txt = json_dumps(reply->error, JSON_COMPACT | JSON_SORT_KEYS
                               | JSON_ENCODE_ANY);
        fatal("transaction error: %s", txt);
    }
    json_t *result = json_incref(reply->result);
    jsonrpc_msg_destroy(reply);
    return result;
}

/* ---- Schema. ---- */

static int
compare_columns(const void *a_, const void *b_)
{
    const struct vsctl_column *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

static void
parse_table(struct vsctl_table *t, const char *name, const json_t *j)
{
    const json_t *cols = json_object_get(j, "columns");
    const char *cname;
    const json_t *cj;
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->is_root = json_is_true(json_object_get(j, "isRoot"));
    const json_t *mr = json_object_get(j, "maxRows");
    t->max_rows = json_is_integer(mr) ? (unsigned int) json_integer_value(mr)
                                      : UINT_MAX;
    t->columns = xcalloc(json_object_size(cols) + 1, sizeof *t->columns);
    t->columns[0].name = xstrdup("_uuid");
    t->columns[0].type.key.type = VA_UUID;
    t->columns[0].type.n_min = t->columns[0].type.n_max = 1;
    t->n_columns = 1;
    json_object_foreach((json_t *) cols, cname, cj) {
        struct vsctl_column *c = &t->columns[t->n_columns];
        char *err = vsctl_type_from_json(&c->type, json_object_get(cj, "type"));
        if (err) {
            fatal("schema error in %s.%s: %s", name, cname, err);
        }
        c->name = xstrdup(cname);
        const json_t *m = json_object_get(cj, "mutable");
        c->mutable = !m || json_is_true(m);
        t->n_columns++;
    }
    qsort(t->columns + 1, t->n_columns - 1, sizeof *t->columns,
          compare_columns);
    for (size_t i = 0; i < t->n_columns; i++) {
        t->columns[i].idx = i;
    }
    hmap_init(&t->rows);
    hmap_init(&t->queries);
}

static void
load_schema(struct vsctl_db *db)
{
    json_t *schema = vsctl_db_transact(db, "get_schema", json_pack("[s]", db->db_name));
    const json_t *tables = json_object_get(schema, "tables");
    if (!json_is_object(tables)) {
        fatal("%s: server returned a schema without tables", db->remote);
    }
    db->tables = xcalloc(json_object_size(tables), sizeof *db->tables);
    const char *name;
    const json_t *tj;
    json_object_foreach((json_t *) tables, name, tj) {
        parse_table(&db->tables[db->n_tables++], name, tj);
    }
    json_decref(schema);
}

/* A passive remote ("punix:", "ptcp:", "pssl:"): listens and waits for the
 * database server to connect, as ovs-vsctl does. */
static int
accept_one(const char *name, struct stream **streamp)
{
    struct pstream *listener;
    int error = pstream_open(name, &listener);
    if (error) {
        return error;
    }
    while ((error = pstream_accept(listener, streamp)) == EAGAIN) {
        pstream_wait(listener);
        poll_block();
    }
    pstream_close(listener);
    return error;
}

/* Tries each comma-separated remote in turn; returns 0 or the last error. */
static int
connect_any(struct vsctl_db *db, const char *remotes)
{
    int error = EINVAL;
    char *list = xstrdup(remotes), *save = NULL;
    for (char *r = strtok_r(list, ",", &save); r;
         r = strtok_r(NULL, ",", &save)) {
        struct stream *stream;
        error = pstream_verify_name(r) ? stream_open_block(r, -1, &stream)
                                       : accept_one(r, &stream);
        if (!error) {
            db->rpc = jsonrpc_open(stream);
            free(db->remote);
            db->remote = xstrdup(r);
            break;
        }
    }
    free(list);
    return error;
}

struct vsctl_db *
vsctl_db_open(const char *remote, const char *db_name, bool retry)
{
    struct vsctl_db *db = xzalloc(sizeof *db);
    db->remote = xstrdup(remote);
    db->db_name = xstrdup(db_name);
    db->preconds = json_array();
    db->notifications = json_array();
    db->monitored = json_object();
    db->hints = json_array();
    for (;;) {
        int error = connect_any(db, remote);
        if (!error) {
            break;
        } else if (!retry) {
            fatal("%s: database connection failed (%s)", remote,
                  strerror(error));
        }
        usleep(500 * 1000);
    }
    /* Every run reads the table named like the database (Open_vSwitch's
     * single row): ask for it together with the schema, saving a round
     * trip.  Its reply arrives while the schema is awaited. */
    jsonrpc_send(db->rpc, jsonrpc_create_request(
                     "transact", json_pack("[s{ssss s[]}]", db_name,
                                           "op", "select", "table", db_name,
                                           "where"),
                     &db->prefetch_id));
    load_schema(db);
    return db;
}

static void
row_free(struct vsctl_row *row)
{
    struct vsctl_table *t = row->table;
    for (size_t i = 0; i < t->n_columns; i++) {
        const struct vsctl_type *type = &t->columns[i].type;
        if (row->data[i]) {
            vsctl_datum_destroy(row->data[i], type);
            free(row->data[i]);
        }
        if (row->mut_ins[i]) {
            vsctl_datum_destroy(row->mut_ins[i], type);
            free(row->mut_ins[i]);
        }
        if (row->mut_del[i]) {
            vsctl_datum_destroy(row->mut_del[i], type);
            free(row->mut_del[i]);
        }
    }
    free(row->data);
    free(row->written);
    free(row->mut_ins);
    free(row->mut_del);
    json_decref(row->verify);
    free(row);
}

void
vsctl_db_reset(struct vsctl_db *db)
{
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_table *t = &db->tables[i];
        struct vsctl_row *row;
        struct vsctl_query *q;
        HMAP_FOR_EACH_POP (row, node, &t->rows) {
            row_free(row);
        }
        HMAP_FOR_EACH_POP (q, node, &t->queries) {
            query_free(q);
        }
        t->all_fetched = false;
        t->n_dirty = 0;
        dirty_indexes_clear(t);
    }
    json_array_clear(db->preconds);
    /* A retry must read afresh. */
    json_decref(db->prefetch);
    db->prefetch = NULL;
    db->hints_pending = json_array_size(db->hints) > 0;
}

void
vsctl_db_close(struct vsctl_db *db)
{
    if (!db) {
        return;
    }
    vsctl_db_reset(db);
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_table *t = &db->tables[i];
        for (size_t c = 0; c < t->n_columns; c++) {
            free(t->columns[c].name);
            vsctl_type_destroy(&t->columns[c].type);
        }
        free(t->columns);
        free(t->name);
        hmap_destroy(&t->rows);
        hmap_destroy(&t->queries);
        free(t->dirty);
        free(t->dirty_indexes);
    }
    free(db->tables);
    json_decref(db->preconds);
    json_decref(db->notifications);
    json_decref(db->monitored);
    json_decref(db->prefetch);
    json_decref(db->prefetch_id);
    json_decref(db->hints);
    jsonrpc_close(db->rpc);
    free(db->inserted_provisional);
    free(db->inserted_real);
    free(db->inserted_table);
    free(db->remote);
    free(db->db_name);
    free(db);
}

size_t
vsctl_db_n_tables(const struct vsctl_db *db)
{
    return db->n_tables;
}

struct vsctl_table *
vsctl_db_table_at(struct vsctl_db *db, size_t i)
{
    return &db->tables[i];
}

struct vsctl_table *
vsctl_db_get_table(struct vsctl_db *db, const char *name)
{
    for (size_t i = 0; i < db->n_tables; i++) {
        if (!strcmp(db->tables[i].name, name)) {
            return &db->tables[i];
        }
    }
    return NULL;
}

const struct vsctl_column *
vsctl_table_get_column(const struct vsctl_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_columns; i++) {
        if (!strcmp(t->columns[i].name, name)) {
            return &t->columns[i];
        }
    }
    return NULL;
}

const struct vsctl_column *
vsctl_db_must_get_column(const struct vsctl_table *t, const char *name)
{
    const struct vsctl_column *c = vsctl_table_get_column(t, name);
    if (!c) {
        fatal("%s does not contain a column whose name matches \"%s\"",
              t->name, name);
    }
    return c;
}

/* ---- Row cache. ---- */

struct vsctl_row *
vsctl_db_cache_lookup(struct vsctl_table *t, const struct uuid *uuid)
{
    struct vsctl_row *row;
    HMAP_FOR_EACH_WITH_HASH (row, node, uuid_hash(uuid), &t->rows) {
        if (uuid_equals(&row->uuid, uuid)) {
            return row;
        }
    }
    return NULL;
}

struct vsctl_row *
vsctl_db_row_create(struct vsctl_table *t, const struct uuid *uuid)
{
    struct vsctl_row *row = xzalloc(sizeof *row);
    row->uuid = *uuid;
    row->table = t;
    row->data = xcalloc(t->n_columns, sizeof *row->data);
    row->written = xcalloc(t->n_columns, sizeof *row->written);
    row->mut_ins = xcalloc(t->n_columns, sizeof *row->mut_ins);
    row->mut_del = xcalloc(t->n_columns, sizeof *row->mut_del);
    row->data[0] = xmalloc(sizeof *row->data[0]);
    vsctl_datum_init_empty(row->data[0]);
    union vsctl_atom a = { .uuid = *uuid };
    vsctl_datum_put(row->data[0], &t->columns[0].type, &a, NULL, false);
    hmap_insert(&t->rows, &row->node, uuid_hash(uuid));
    return row;
}

/* Columns fetched by default: everything but large reference sets that
 * commands read only occasionally (a bridge's ports). */
static bool
column_is_lazy(const struct vsctl_table *t, const struct vsctl_column *c)
{
    return !strcmp(t->name, "Bridge") && !strcmp(c->name, "ports");
}

static json_t *
default_columns(const struct vsctl_table *t, bool all)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < t->n_columns; i++) {
        if (all || !column_is_lazy(t, &t->columns[i])) {
            json_array_append_new(cols, json_string(t->columns[i].name));
        }
    }
    return cols;
}

/* Applies to the freshly loaded column C of ROW the element insertions and
 * deletions this transaction recorded before the column was loaded, so
 * that reads see the transaction's own changes. */
static void
fold_mutations(struct vsctl_row *row, const struct vsctl_column *c)
{
    if (row->mut_del[c->idx]) {
        struct vsctl_type keys = c->type;
        keys.value.type = VA_VOID;
        vsctl_datum_subtract(row->data[c->idx], &c->type,
                             row->mut_del[c->idx], &keys);
    }
    if (row->mut_ins[c->idx]) {
        vsctl_datum_union(row->data[c->idx], row->mut_ins[c->idx], &c->type,
                          true);
    }
}

/* Merges the rows of a select result into the cache.  Columns already
 * loaded (possibly modified locally) are left alone. */
static void
merge_rows(struct vsctl_table *t, const json_t *rows, size_t *n_out,
           struct vsctl_row ***out)
{
    size_t i;
    const json_t *rj;
    if (out) {
        *out = xcalloc(json_array_size(rows) + 1, sizeof **out);
        *n_out = 0;
    }
    json_array_foreach(rows, i, rj) {
        const json_t *uj = json_object_get(rj, "_uuid");
        struct uuid uuid;
        if (!json_is_array(uj)
            || !uuid_from_string(&uuid, json_string_value(json_array_get(uj, 1))
                                        ? json_string_value(json_array_get(uj, 1))
                                        : "")) {
            continue;
        }
        struct vsctl_row *row = vsctl_db_cache_lookup(t, &uuid);
        if (!row) {
            row = vsctl_db_row_create(t, &uuid);
        }
        const char *cname;
        const json_t *vj;
        json_object_foreach((json_t *) rj, cname, vj) {
            const struct vsctl_column *c = vsctl_table_get_column(t, cname);
            if (!c || c->idx == 0 || row->data[c->idx]) {
                continue;
            }
            struct vsctl_datum *d = xmalloc(sizeof *d);
            char *err = vsctl_datum_from_json(d, &c->type, vj);
            if (err) {
                free(err);
                vsctl_datum_init_default(d, &c->type);
            }
            row->data[c->idx] = d;
            fold_mutations(row, c);
            /* Fold in mutations recorded before the column was loaded (as
             * vsctl_row_get() does; doing it twice changes nothing). */
            if (row->mut_del[c->idx]) {
                vsctl_datum_subtract(d, &c->type, row->mut_del[c->idx],
                                     &c->type);
            }
            if (row->mut_ins[c->idx]) {
                vsctl_datum_union(d, row->mut_ins[c->idx], &c->type, true);
            }
        }
        if (out && !row->deleted) {
            (*out)[(*n_out)++] = row;
        }
    }
}

json_t *
vsctl_db_select_op(const struct vsctl_table *t, json_t *where,
                   json_t *columns)
{
    return json_pack("{sssssoso}", "op", "select", "table", t->name,
                     "where", where, "columns", columns);
}

/* Runs one select and returns its "rows" (caller owns). */
static json_t *
run_select(struct vsctl_db *db, const struct vsctl_table *t, json_t *where,
           json_t *columns)
{
    json_t *params = json_pack("[so]", db->db_name,
                               vsctl_db_select_op(t, where, columns));
    json_t *result = vsctl_db_transact(db, "transact", params);
    const json_t *r0 = json_array_get(result, 0);
    const json_t *rows = json_object_get(r0, "rows");
    if (!json_is_array(rows)) {
        char *txt = json_dumps(r0 ? r0 : result, JSON_COMPACT | JSON_SORT_KEYS
                               | JSON_ENCODE_ANY);
        fatal("transaction error: %s", txt);
    }
    json_incref((json_t *) rows);
    json_decref(result);
    return (json_t *) rows;
}

json_t *
vsctl_db_uuid_where(const struct uuid *uuid)
{
    return json_pack("[[sso]]", "_uuid", "==",
                     vsctl_atom_to_json((const union vsctl_atom *) uuid,
                                        VA_UUID, NULL, NULL));
}

struct vsctl_row *
vsctl_db_get_row(struct vsctl_db *db, struct vsctl_table *t,
                 const struct uuid *uuid)
{
    struct vsctl_row *row = vsctl_db_cache_lookup(t, uuid);
    if (!row && !t->all_fetched) {
        json_t *rows = run_select(db, t, vsctl_db_uuid_where(uuid),
                                  default_columns(t, false));
        merge_rows(t, rows, NULL, NULL);
        json_decref(rows);
        row = vsctl_db_cache_lookup(t, uuid);
        if (!row) {
            /* Remember the absence (a row may appear only by our insert). */
            json_t *w = json_pack("{sssssos[s]sss[]si}", "op", "wait",
                                  "table", t->name, "where", vsctl_db_uuid_where(uuid),
                                  "columns", "_uuid", "until", "==", "rows",
                                  "timeout", 0);
            json_array_append_new(db->preconds, w);
        }
    }
    return row && !row->deleted ? row : NULL;
}

const struct vsctl_datum *
vsctl_row_get(struct vsctl_db *db, struct vsctl_row *row,
              const struct vsctl_column *c)
{
    if (!row->data[c->idx]) {
        struct vsctl_table *t = row->table;
        json_t *rows = run_select(db, t, vsctl_db_uuid_where(&row->uuid),
                                  json_pack("[ss]", "_uuid", c->name));
        merge_rows(t, rows, NULL, NULL);
        json_decref(rows);
        if (!row->data[c->idx]) {
            row->data[c->idx] = xmalloc(sizeof *row->data[c->idx]);
            vsctl_datum_init_default(row->data[c->idx], &c->type);
        }
        fold_mutations(row, c);
    }
    return row->data[c->idx];
}

const struct vsctl_datum *
vsctl_row_get_by_name(struct vsctl_db *db, struct vsctl_row *row,
                      const char *column)
{
    return vsctl_row_get(db, row, vsctl_db_must_get_column(row->table, column));
}

const char *
vsctl_row_get_string(struct vsctl_db *db, struct vsctl_row *row,
                     const char *column)
{
    const struct vsctl_datum *d = vsctl_row_get_by_name(db, row, column);
    return d->n ? d->keys[0].string : NULL;
}

bool
vsctl_row_get_integer(struct vsctl_db *db, struct vsctl_row *row,
                      const char *column, long long *out)
{
    const struct vsctl_datum *d = vsctl_row_get_by_name(db, row, column);
    *out = d->n ? d->keys[0].integer : 0;
    return d->n > 0;
}

bool
vsctl_row_get_bool(struct vsctl_db *db, struct vsctl_row *row,
                   const char *column)
{
    const struct vsctl_datum *d = vsctl_row_get_by_name(db, row, column);
    return d->n && d->keys[0].boolean;
}

void
vsctl_row_verify(struct vsctl_db *db, struct vsctl_row *row,
                 const struct vsctl_column *c)
{
    if (row->inserted || row->written[c->idx] || row->mut_ins[c->idx]
        || row->mut_del[c->idx]) {
        return;
    }
    if (!row->verify) {
        row->verify = json_object();
    }
    if (!json_object_get(row->verify, c->name)) {
        const struct vsctl_datum *d = vsctl_row_get(db, row, c);
        json_object_set_new(row->verify, c->name,
                            vsctl_datum_to_json(d, &c->type, NULL, NULL));
    }
}

/* Whether ROW's COLUMN equals or includes VALUE.  A row the server listed
 * for this very condition (IN_RESULT) matches unless this transaction
 * changed that column, so the column need not be loaded to know. */
static bool
row_matches(struct vsctl_db *db, struct vsctl_row *row,
            const struct vsctl_column *c, const union vsctl_atom *value,
            bool in_result)
{
    size_t i = c->idx;
    if (row->data[i]) {
        return vsctl_datum_find_key(row->data[i], value, c->type.key.type)
               != SIZE_MAX;
    } else if (row->mut_ins[i]
               && vsctl_datum_find_key(row->mut_ins[i], value,
                                       c->type.key.type) != SIZE_MAX) {
        return true;
    } else if (row->mut_del[i]
               && vsctl_datum_find_key(row->mut_del[i], value,
                                       c->type.key.type) != SIZE_MAX) {
        return false;
    } else if (row->inserted || !in_result) {
        const struct vsctl_datum *d = vsctl_row_get(db, row, c);
        return vsctl_datum_find_key(d, value, c->type.key.type) != SIZE_MAX;
    }
    return true;
}

static int
compare_rows(const void *a_, const void *b_)
{
    const struct vsctl_row *const *a = a_, *const *b = b_;
    return uuid_compare_3way(&(*a)->uuid, &(*b)->uuid);
}

static json_t *
query_where(const struct vsctl_column *c, json_t *vj)
{
    return json_pack("[[ssO]]", c->name, c->type.n_max > 1 ? "includes" : "==",
                     vj);
}

/* Remembers ROWS (the server's answer to WHERE, taken) as the query KEY
 * (taken) of T, and records a "wait" that the answer still holds at
 * commit. */
static struct vsctl_query *
query_record(struct vsctl_db *db, struct vsctl_table *t, json_t *where,
             json_t *rows, char *key, uint32_t hash)
{
    struct vsctl_row **got;
    size_t n_got;
    merge_rows(t, rows, &n_got, &got);
    struct vsctl_query *q = xzalloc(sizeof *q);
    q->key = key;
    q->uuids = xcalloc(n_got + 1, sizeof *q->uuids);
    for (size_t i = 0; i < n_got; i++) {
        q->uuids[q->n_uuids++] = got[i]->uuid;
    }
    hmap_insert(&t->queries, &q->node, hash);
    json_t *expect = json_array();
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_array_append_new(expect, json_pack(
            "{sO}", "_uuid", json_object_get(json_array_get(rows, i),
                                             "_uuid")));
    }
    free(got);
    json_decref(rows);
    json_array_append_new(db->preconds, json_pack(
        "{sssssos[s]sssosi}", "op", "wait", "table", t->name,
        "where", where, "columns", "_uuid", "until", "==", "rows", expect,
        "timeout", 0));
    return q;
}

/* Asks the server for the rows of T whose COLUMN equals or includes VJ. */
static struct vsctl_query *
query_server(struct vsctl_db *db, struct vsctl_table *t,
             const struct vsctl_column *c, json_t *vj, char *key,
             uint32_t hash)
{
    json_t *where = query_where(c, vj);
    json_t *rows = run_select(db, t, json_incref(where),
                              default_columns(t, false));
    return query_record(db, t, where, rows, key, hash);
}

static char *
query_key(const struct vsctl_column *c, const json_t *vj, uint32_t *hash)
{
    char *vtxt = json_dumps(vj, JSON_COMPACT | JSON_ENCODE_ANY);
    char *key = xasprintf("%s=%s", c->name, vtxt);
    free(vtxt);
    *hash = hash_string(key, 0);
    return key;
}

static struct vsctl_query *
query_find(struct vsctl_table *t, const char *key, uint32_t hash)
{
    struct vsctl_query *q;
    HMAP_FOR_EACH_WITH_HASH (q, node, hash, &t->queries) {
        if (!strcmp(q->key, key)) {
            return q;
        }
    }
    return NULL;
}

/* Whether VALUE, for column C, is a string that is not UTF-8: no stored
 * row can hold it, and a request naming it would be malformed. */
static bool
is_bad_string(const struct vsctl_column *c, const union vsctl_atom *value)
{
    if (c->type.key.type != VA_STRING) {
        return false;
    }
    char *error = vsctl_utf8_error(value->string);
    bool bad = error != NULL;
    free(error);
    return bad;
}

void
vsctl_db_hint_lookup(struct vsctl_db *db, struct vsctl_table *t,
                     const char *column, const union vsctl_atom *value)
{
    const struct vsctl_column *c = vsctl_db_must_get_column(t, column);
    if (!is_bad_string(c, value)) {
        json_t *vj = vsctl_atom_to_json(value, c->type.key.type, NULL, NULL);
        json_array_append_new(db->hints, json_pack("[sso]", t->name,
                                                   c->name, vj));
        db->hints_pending = true;
    }
}

/* Asks every announced lookup not answered yet, in one transaction. */
static void
flush_hints(struct vsctl_db *db)
{
    db->hints_pending = false;
    json_t *params = json_pack("[s]", db->db_name);
    json_t *asked = json_array();       /* [table, column, value, where]. */
    json_t *seen = json_object();       /* "table|column=value" asked. */
    size_t i;
    const json_t *h;
    json_array_foreach(db->hints, i, h) {
        struct vsctl_table *t = vsctl_db_get_table(
            db, json_string_value(json_array_get(h, 0)));
        const struct vsctl_column *c = t ? vsctl_table_get_column(
            t, json_string_value(json_array_get(h, 1))) : NULL;
        json_t *vj = json_array_get(h, 2);
        uint32_t hash;
        if (!c || t->all_fetched) {
            continue;
        }
        char *key = query_key(c, vj, &hash);
        char *seen_key = xasprintf("%s|%s", t->name, key);
        bool known = query_find(t, key, hash) != NULL
                     || json_object_get(seen, seen_key);
        json_object_set_new(seen, seen_key, json_true());
        free(seen_key);
        free(key);
        if (!known) {
            json_t *where = query_where(c, vj);
            json_array_append_new(params, vsctl_db_select_op(
                t, json_incref(where), default_columns(t, false)));
            json_array_append_new(asked, json_pack("[ssOo]", t->name,
                                                   c->name, vj, where));
        }
    }
    json_decref(seen);
    if (!json_array_size(asked)) {
        json_decref(params);
        json_decref(asked);
        return;
    }
    json_t *result = vsctl_db_transact(db, "transact", params);
    json_array_foreach(asked, i, h) {
        const json_t *ri = json_array_get(result, i);
        const json_t *rows = json_object_get(ri, "rows");
        if (!json_is_array(rows)) {
            char *txt = json_dumps(ri ? ri : result, JSON_COMPACT
                                   | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            fatal("transaction error: %s", txt);
        }
        struct vsctl_table *t = vsctl_db_get_table(
            db, json_string_value(json_array_get(h, 0)));
        const struct vsctl_column *c = vsctl_table_get_column(
            t, json_string_value(json_array_get(h, 1)));
        uint32_t hash;
        char *key = query_key(c, json_array_get(h, 2), &hash);
        query_record(db, t, json_incref(json_array_get(h, 3)),
                     json_incref((json_t *) rows), key, hash);
    }
    json_decref(result);
    json_decref(asked);
}

static struct vsctl_query *
query_lookup(struct vsctl_db *db, struct vsctl_table *t,
             const struct vsctl_column *c, const union vsctl_atom *value)
{
    json_t *vj = vsctl_atom_to_json(value, c->type.key.type, NULL, NULL);
    uint32_t hash;
    char *key = query_key(c, vj, &hash);
    struct vsctl_query *q = query_find(t, key, hash);
    if (!q && db->hints_pending) {
        flush_hints(db);
        q = query_find(t, key, hash);
    }
    if (q) {
        free(key);
        json_decref(vj);
        return q;
    }
    q = query_server(db, t, c, vj, key, hash);
    json_decref(vj);
    return q;
}

static void
add_match(struct vsctl_row ***out, size_t *n, size_t *allocated,
          struct vsctl_row *row)
{
    for (size_t i = 0; i < *n; i++) {
        if ((*out)[i] == row) {
            return;
        }
    }
    if (*n >= *allocated) {
        *out = x2nrealloc(*out, allocated, sizeof **out);
    }
    (*out)[(*n)++] = row;
}

struct vsctl_row **
vsctl_db_find_rows(struct vsctl_db *db, struct vsctl_table *t,
                   const char *column, const union vsctl_atom *value,
                   size_t *n)
{
    const struct vsctl_column *c = vsctl_db_must_get_column(t, column);
    size_t allocated = 4;
    struct vsctl_row **out = xmalloc(allocated * sizeof *out);
    struct vsctl_row *row;
    *n = 0;
    if (t->all_fetched) {
        HMAP_FOR_EACH (row, node, &t->rows) {
            if (!row->deleted && row_matches(db, row, c, value, false)) {
                add_match(&out, n, &allocated, row);
            }
        }
    } else {
        /* Candidates: what the server matched (none for a row inserted by
         * this transaction) and the rows this transaction changed. */
        if (!(c->type.key.type == VA_UUID
              && vsctl_db_is_new_uuid(db, &value->uuid))
            && !is_bad_string(c, value)) {
            struct vsctl_query *q = query_lookup(db, t, c, value);
            for (size_t i = 0; i < q->n_uuids; i++) {
                row = vsctl_db_cache_lookup(t, &q->uuids[i]);
                if (row && !row->deleted
                    && row_matches(db, row, c, value, true)) {
                    add_match(&out, n, &allocated, row);
                }
            }
        }
        struct vsctl_dirty_index *idx = dirty_index_get(t, c);
        struct dirty_entry *e;
        HMAP_FOR_EACH_WITH_HASH (e, node, atom_hash(value, c->type.key.type),
                                 &idx->entries) {
            row = e->row;
            if (!row->deleted && row_matches(db, row, c, value, false)) {
                add_match(&out, n, &allocated, row);
            }
        }
    }
    qsort(out, *n, sizeof *out, compare_rows);
    return out;
}

struct vsctl_row *
vsctl_db_find_row_by_string(struct vsctl_db *db, struct vsctl_table *t,
                            const char *column, const char *value)
{
    union vsctl_atom a = { .string = (char *) value };
    size_t n;
    struct vsctl_row **rows = vsctl_db_find_rows(db, t, column, &a, &n);
    struct vsctl_row *row = n ? rows[0] : NULL;
    free(rows);
    return row;
}

/* The cached rows of T that are not deleted, sorted by UUID, as a malloc'd
 * array of *N rows. */
static struct vsctl_row **
live_rows_sorted(struct vsctl_table *t, size_t *n)
{
    struct vsctl_row **out = xcalloc(hmap_count(&t->rows) + 1, sizeof *out);
    struct vsctl_row *row;
    *n = 0;
    HMAP_FOR_EACH (row, node, &t->rows) {
        if (!row->deleted) {
            out[(*n)++] = row;
        }
    }
    qsort(out, *n, sizeof *out, compare_rows);
    return out;
}

struct vsctl_row **
vsctl_db_all_rows(struct vsctl_db *db, struct vsctl_table *t, size_t *n)
{
    if (db->prefetch && !strcmp(t->name, db->db_name)) {
        const json_t *rows = json_object_get(json_array_get(db->prefetch, 0),
                                             "rows");
        if (!t->all_fetched && json_is_array(rows)) {
            merge_rows(t, rows, NULL, NULL);
            t->all_fetched = true;
        }
        json_decref(db->prefetch);
        db->prefetch = NULL;
    }
    if (!t->all_fetched) {
        json_t *rows = run_select(db, t, json_array(),
                                  default_columns(t, true));
        merge_rows(t, rows, NULL, NULL);
        json_decref(rows);
        t->all_fetched = true;
    }
    return live_rows_sorted(t, n);
}

struct vsctl_row **
vsctl_db_load_columns(struct vsctl_db *db, struct vsctl_table *t,
                      const char *const *columns, size_t *n)
{
    if (!t->all_fetched) {
        json_t *cols = json_pack("[s]", "_uuid");
        for (size_t i = 0; columns[i]; i++) {
            json_array_append_new(cols, json_string(
                                      vsctl_db_must_get_column(t, columns[i])->name));
        }
        json_t *rows = run_select(db, t, json_array(), cols);
        merge_rows(t, rows, NULL, NULL);
        json_decref(rows);
    }
    return live_rows_sorted(t, n);
}

/* Reads notifications until one arrives (queued ones first). */
static json_t *
next_update(struct vsctl_db *db)
{
    while (!json_array_size(db->notifications)) {
        struct jsonrpc_msg *msg;
        int error = jsonrpc_recv_block(db->rpc, &msg);
        if (error) {
            fatal_rpc_error(db, error);
        }
        if (msg->type == JSONRPC_REQUEST && !strcmp(msg->method, "echo")) {
            jsonrpc_send(db->rpc, jsonrpc_create_reply(
                             json_incref(msg->params), msg->id));
            jsonrpc_msg_destroy(msg);
        } else {
            queue_notification(msg, db);
        }
    }
    json_t *u = json_incref(json_array_get(db->notifications, 0));
    json_array_remove(db->notifications, 0);
    return u;
}

static bool
cfg_reached(const json_t *table_updates, long long next_cfg)
{
    const json_t *rows = json_object_get(table_updates, "Open_vSwitch");
    const char *uuid;
    const json_t *ru;
    json_object_foreach((json_t *) rows, uuid, ru) {
        const json_t *nc = json_object_get(json_object_get(ru, "new"),
                                           "cur_cfg");
        if (json_is_integer(nc) && json_integer_value(nc) >= next_cfg) {
            return true;
        }
    }
    return false;
}

void
vsctl_db_wait_for_cur_cfg(struct vsctl_db *db, long long next_cfg)
{
    /* monitor params: [db-name, monitor-id, {table: {"columns": [...]}}]. */
    json_t *initial = vsctl_db_transact(db, "monitor", json_pack(
        "[ss{s{s[s]}}]", db->db_name, "cur_cfg", "Open_vSwitch",
        "columns", "cur_cfg"));
    bool done = cfg_reached(initial, next_cfg);
    json_decref(initial);
    while (!done) {
        json_t *u = next_update(db);
        done = cfg_reached(json_array_get(u, 1), next_cfg);
        json_decref(u);
    }
}

void
vsctl_db_wait_for_change(struct vsctl_db *db, struct vsctl_table *t)
{
    char *id = xasprintf("wait %s", t->name);
    if (!json_object_get(db->monitored, id)) {
        /* The monitor's initial contents are what the caller just read
         * (or newer): return at once so that it reads again. */
        json_decref(vsctl_db_transact(db, "monitor", json_pack(
            "[ss{s{}}]", db->db_name, id, t->name)));
        json_object_set_new(db->monitored, id, json_true());
    } else {
        json_decref(next_update(db));
    }
    free(id);
}
