/* ovsdb-file: standalone database file records.  See ovsdb-file.h. */
#include "ovsdb-file.h"

#include <string.h>

#include "ds.h"
#include "jsonrpc-text.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "util.h"

/* Whether column values of TYPE are written as differences. */
static bool
type_uses_diff(const struct ovsdb_type *type)
{
    return type->n_max > 1;
}

/* Merges sorted datums A and B into OUT: keys in only one of them are kept,
 * keys in both are dropped, except that for a map whose two values differ
 * B's pair is kept.  With A old and B new this is the difference that turns
 * A into B; with A current and B a difference it applies the difference
 * (for sets both are the symmetric difference; for maps a difference holds
 * removed pairs, added pairs and changed keys with their new value). */
static void
datum_merge(struct ovsdb_datum *out, const struct ovsdb_datum *a,
            const struct ovsdb_datum *b, const struct ovsdb_type *type)
{
    enum ovsdb_atomic_type kt = type->key.type, vt = type->value.type;
    bool map = ovsdb_type_is_map(type);
    /* Grown on demand: a difference is usually tiny, and allocating room
     * for both 10,000-member sets would cost more than the merge. */
    size_t cap = MIN((size_t) a->n + b->n, 16);
    unsigned int i = 0, j = 0, n = 0;

    out->keys = xmalloc((cap ? cap : 1) * sizeof *out->keys);
    out->values = map ? xmalloc((cap ? cap : 1) * sizeof *out->values) : NULL;
    while (i < a->n || j < b->n) {
        unsigned int run = ovsdb_datum_common_run(a, i, b, j, type);
        if (run) {
            i += run;           /* In both: not part of the difference. */
            j += run;
            continue;
        }
        int cmp = i >= a->n ? 1 : j >= b->n ? -1
                  : ovsdb_atom_compare_3way(&a->keys[i], &b->keys[j], kt);
        const union ovsdb_atom *k = NULL, *v = NULL;
        if (cmp < 0) {
            k = &a->keys[i];
            v = map ? &a->values[i] : NULL;
            i++;
        } else if (cmp > 0) {
            k = &b->keys[j];
            v = map ? &b->values[j] : NULL;
            j++;
        } else {
            if (map && !ovsdb_atom_equals(&a->values[i], &b->values[j], vt)) {
                k = &b->keys[j];
                v = &b->values[j];
            }
            i++;
            j++;
        }
        if (k) {
            if (n >= cap) {
                cap = 2 * cap + 16;
                out->keys = xrealloc(out->keys, cap * sizeof *out->keys);
                if (map) {
                    out->values = xrealloc(out->values,
                                           cap * sizeof *out->values);
                }
            }
            ovsdb_atom_clone(&out->keys[n], k, kt);
            if (map) {
                ovsdb_atom_clone(&out->values[n], v, vt);
            }
            n++;
        }
    }
    out->n = n;
}

static void
put_column(json_t *obj, const struct ovsdb_column_schema *c,
           const struct ovsdb_datum *d)
{
    json_object_set_new(obj, c->name, ovsdb_datum_to_json(d, &c->type));
}

/* The <row> object for an inserted row: non-default durable columns. */
static json_t *
inserted_row_json(const struct ovsdb_row *row)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    json_t *obj = json_object();
    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < ts->n_columns; i++) {
        const struct ovsdb_column_schema *c = ts->columns[i];
        if (!c->ephemeral
            && !ovsdb_datum_is_default(&row->columns[i], &c->type)) {
            put_column(obj, c, &row->columns[i]);
        }
    }
    return obj;
}

static json_t *
modified_row_json(const struct ovsdb_row_change *change)
{
    const struct ovsdb_table_schema *ts = change->table;
    json_t *obj = NULL;
    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < ts->n_columns; i++) {
        const struct ovsdb_column_schema *c = ts->columns[i];
        if (c->ephemeral || !ovsdb_bitmap_is_set(change->changed, i)) {
            continue;
        }
        if (!obj) {
            obj = json_object();
        }
        if (type_uses_diff(&c->type)) {
            struct ovsdb_datum diff;
            datum_merge(&diff, &change->old->columns[i],
                        &change->new->columns[i], &c->type);
            put_column(obj, c, &diff);
            ovsdb_datum_destroy(&diff, &c->type);
        } else {
            put_column(obj, c, &change->new->columns[i]);
        }
    }
    return obj;
}

static void
txn_change_cb(const struct ovsdb_row_change *change, void *record_)
{
    json_t *record = record_;
    json_t *row;
    if (!change->new) {
        row = json_null();
    } else if (!change->old) {
        row = inserted_row_json(change->new);
    } else {
        row = modified_row_json(change);
        if (!row) {
            return;             /* Only ephemeral columns changed. */
        }
    }
    json_t *table = json_object_get(record, change->table->name);
    if (!table) {
        table = json_object();
        json_object_set_new(record, change->table->name, table);
    }
    char u[UUID_LEN + 1];
    uuid_to_string(change->uuid, u);
    json_object_set_new(table, u, row);
}

json_t *
ovsdb_txn_to_file_json(const struct ovsdb_txn *txn, long long wall_msec)
{
    json_t *record = json_object();
    ovsdb_txn_for_each_change(txn, txn_change_cb, record);
    if (!json_object_size(record)) {
        json_decref(record);
        return NULL;
    }
    const char *comment = ovsdb_txn_get_comment(txn);
    if (comment) {
        json_object_set_new(record, "_comment", json_string(comment));
    }
    json_object_set_new(record, "_date", json_integer(wall_msec));
    json_object_set_new(record, "_is_diff", json_true());
    return record;
}

/* State of ovsdb_txn_to_file_text() across the changes of a transaction,
 * which come grouped by table. */
struct file_text {
    struct ds *out;
    const struct ovsdb_table_schema *table;     /* Object open for it. */
    int n_rows;
    bool failed;
};

/* Appends "<column>":<value> for each durable column of a row (inserted:
 * non-default ones; modified: changed ones, sets and maps as differences),
 * as inserted_row_json() and modified_row_json() choose them. */
static bool
row_text(struct ds *out, const struct ovsdb_row_change *change, size_t *np)
{
    const struct ovsdb_table_schema *ts = change->table;
    const struct ovsdb_row *row = change->new;
    size_t n = 0;

    ds_put_char(out, '{');
    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < ts->n_columns; i++) {
        const struct ovsdb_column_schema *c = ts->columns[i];
        const struct ovsdb_datum *d = &row->columns[i];
        struct ovsdb_datum diff;
        bool own_diff = false;
        if (c->ephemeral) {
            continue;
        } else if (!change->old) {
            if (ovsdb_datum_is_default(d, &c->type)) {
                continue;
            }
        } else if (!ovsdb_bitmap_is_set(change->changed, i)) {
            continue;
        } else if (type_uses_diff(&c->type)) {
            datum_merge(&diff, &change->old->columns[i], d, &c->type);
            d = &diff;
            own_diff = true;
        }
        if (n++) {
            ds_put_char(out, ',');
        }
        bool ok = jsonrpc_text_put_string(out, c->name, strlen(c->name));
        ds_put_char(out, ':');
        ok = ok && ovsdb_datum_to_text(d, &c->type, out);
        if (own_diff) {
            ovsdb_datum_destroy(&diff, &c->type);
        }
        if (!ok) {
            return false;
        }
    }
    ds_put_char(out, '}');
    *np = n;
    return true;
}

static void
txn_change_text_cb(const struct ovsdb_row_change *change, void *ft_)
{
    struct file_text *ft = ft_;
    if (ft->failed) {
        return;
    }
    struct ds *out = ft->out;
    size_t start = out->length;
    bool new_table = ft->table != change->table;
    if (new_table) {
        ds_put_cstr(out, ft->table ? "}," : "{");
        if (!jsonrpc_text_put_string(out, change->table->name,
                                     strlen(change->table->name))) {
            ft->failed = true;
            return;
        }
        ds_put_cstr(out, ":{");
    } else {
        ds_put_char(out, ',');
    }
    char u[UUID_LEN + 1];
    uuid_to_string(change->uuid, u);
    ds_put_char(out, '"');
    ds_put_buffer(out, u, UUID_LEN);
    ds_put_cstr(out, "\":");
    size_t n_columns = 0;
    if (!change->new) {
        ds_put_cstr(out, "null");
    } else if (!row_text(out, change, &n_columns)) {
        ft->failed = true;
        return;
    } else if (!n_columns && change->old) {
        ds_truncate(out, start);        /* Only ephemeral columns changed. */
        return;
    }
    if (new_table) {
        ft->table = change->table;
    }
    ft->n_rows++;
}

int
ovsdb_txn_to_file_text(const struct ovsdb_txn *txn, long long wall_msec,
                       struct ds *out)
{
    size_t start = out->length;
    struct file_text ft = { .out = out };
    ovsdb_txn_for_each_change(txn, txn_change_text_cb, &ft);
    if (ft.failed || !ft.n_rows) {
        ds_truncate(out, start);
        return ft.failed ? -1 : 0;
    }
    ds_put_char(out, '}');
    const char *comment = ovsdb_txn_get_comment(txn);
    if (comment) {
        ds_put_cstr(out, ",\"_comment\":");
        if (!jsonrpc_text_put_string(out, comment, strlen(comment))) {
            ds_truncate(out, start);
            return -1;
        }
    }
    ds_put_cstr(out, ",\"_date\":");
    jsonrpc_text_put_integer(out, wall_msec);
    ds_put_cstr(out, ",\"_is_diff\":true}");
    return ft.n_rows;
}

json_t *
ovsdb_to_file_json(const struct ovsdb *db, long long wall_msec)
{
    json_t *record = json_object();
    for (unsigned int i = 0; i < ovsdb_n_tables(db); i++) {
        const struct ovsdb_table *t = ovsdb_get_table(db, i);
        if (!ovsdb_table_n_rows(t)) {
            continue;
        }
        json_t *rows = json_object();
        const struct ovsdb_row *row;
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            char u[UUID_LEN + 1];
            uuid_to_string(&row->uuid, u);
            json_object_set_new(rows, u, inserted_row_json(row));
        }
        json_object_set_new(record, t->schema->name, rows);
    }
    json_object_set_new(record, "_date", json_integer(wall_msec));
    return record;
}

/* Replay. */

static struct ovsdb_error *
replay_column(struct ovsdb_row *row, const struct ovsdb_column_schema *c,
              const json_t *value, bool is_diff, bool existed)
{
    struct ovsdb_type type = c->type;   /* Shallow: only the bounds change. */
    bool diff = is_diff && existed && type_uses_diff(&c->type);
    if (diff) {
        type.n_min = 0;
        type.n_max = UINT_MAX;
    }
    struct ovsdb_datum d;
    struct ovsdb_error *error = ovsdb_datum_from_json(&d, &type, value, NULL);
    if (error) {
        return error;
    }
    if (diff) {
        struct ovsdb_datum merged;
        datum_merge(&merged, &row->columns[c->index], &d, &c->type);
        ovsdb_datum_destroy(&d, &c->type);
        d = merged;
    }
    ovsdb_datum_swap(&d, &row->columns[c->index]);
    ovsdb_datum_destroy(&d, &c->type);
    return NULL;
}

static struct ovsdb_error *
replay_row(struct ovsdb_txn *txn, struct ovsdb_table *table, const char *key,
           const json_t *row_json, bool is_diff)
{
    const struct ovsdb_table_schema *ts = table->schema;
    struct uuid uuid;
    if (!uuid_from_string(&uuid, key)) {
        return ovsdb_syntax_error(row_json, NULL, "%s is not a UUID", key);
    }
    const struct ovsdb_row *cur = ovsdb_txn_get_row(txn, table, &uuid);
    if (json_is_null(row_json)) {
        if (!cur) {
            return ovsdb_error("syntax error", "transaction deletes row %s "
                               "that does not exist in table %s", key,
                               ts->name);
        }
        ovsdb_txn_delete(txn, cur);
        return NULL;
    }
    if (!json_is_object(row_json)) {
        return ovsdb_syntax_error(row_json, NULL, "row must be an object or "
                                  "null");
    }
    struct ovsdb_row *row = cur ? ovsdb_txn_modify(txn, cur)
                                : ovsdb_txn_insert(txn, table, &uuid);
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *) row_json, name, value) {
        const struct ovsdb_column_schema *c
            = ovsdb_table_schema_find_column(ts, name);
        if (!c || c->index < OVSDB_N_IMPLICIT_COLUMNS) {
            return ovsdb_syntax_error(row_json, "unknown column",
                                      "No column %s in table %s.",
                                      name, ts->name);
        }
        struct ovsdb_error *error = replay_column(row, c, value, is_diff,
                                                  cur != NULL);
        if (error) {
            return error;
        }
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_file_replay(struct ovsdb *db, const json_t *record)
{
    if (!json_is_object(record)) {
        return ovsdb_syntax_error(record, NULL, "record must be an object");
    }
    bool is_diff = json_is_true(json_object_get(record, "_is_diff"));
    struct ovsdb_txn *txn = ovsdb_txn_create(db);
    struct ovsdb_error *error = NULL;
    const char *table_name;
    json_t *rows;
    json_object_foreach ((json_t *) record, table_name, rows) {
        if (table_name[0] == '_') {
            continue;
        }
        struct ovsdb_table *table = ovsdb_find_table(db, table_name);
        if (!table) {
            error = ovsdb_syntax_error(record, NULL, "No table named %s.",
                                       table_name);
            break;
        }
        if (!json_is_object(rows)) {
            error = ovsdb_syntax_error(rows, NULL, "table must be an object");
            break;
        }
        const char *key;
        json_t *row_json;
        json_object_foreach (rows, key, row_json) {
            error = replay_row(txn, table, key, row_json, is_diff);
            if (error) {
                break;
            }
        }
        if (error) {
            break;
        }
    }
    const char *comment = json_string_value(json_object_get(record,
                                                            "_comment"));
    if (comment) {
        /* ovsdb-server writes a client's comment as it came, UTF-8 or not
         * (jsonrpc-text.h); ours are always UTF-8. */
        char *text = ovsdb_utf8_sanitize(comment);
        ovsdb_txn_add_comment(txn, text);
        free(text);
    }
    if (!error) {
        error = ovsdb_txn_finish(txn);
    }
    if (error) {
        ovsdb_txn_abort(txn);
    } else {
        ovsdb_txn_commit(txn);
        ovsdb_txn_destroy(txn);
    }
    return error;
}
