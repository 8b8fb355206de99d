#include "monitor.h"

#include <string.h>

#include "ds.h"
#include "hash.h"
#include "hmap.h"
#include "ovsdb-condition.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "util.h"
#include "uuid.h"

/* --- What one monitor watches in one table. --- */

struct monitor_table {
    const struct ovsdb_table_schema *ts;
    unsigned int *columns;      /* Column indexes, in request order. */
    unsigned int n_columns;
    bool initial, insert, delete, modify;   /* "select" flags. */
    struct ovsdb_condition *cond;           /* NULL: every row. */
};

struct dbd_monitor {
    const struct ovsdb *db;
    json_t *id;
    enum dbd_monitor_version version;
    struct monitor_table *tables;
    unsigned int n_tables;
    char *shape;                /* Cache key when no table has a condition. */
};

/* --- Row access, in one place. --- */

static const struct ovsdb_datum *
row_datums(const struct ovsdb_row *row)
{
    return row->columns;
}

static const struct uuid *
row_uuid(const struct ovsdb_row *row)
{
    return &row->uuid;
}

static bool
row_matches(const struct monitor_table *mt, const struct ovsdb_row *row)
{
    return row && (!mt->cond || ovsdb_condition_evaluate(mt->cond, row_datums(row)));
}

/* --- Parsing requests. --- */

static bool
parse_select(const json_t *select, struct monitor_table *mt,
             struct ovsdb_error **errorp)
{
    static const char *names[] = { "initial", "insert", "delete", "modify" };
    bool *flags[] = { &mt->initial, &mt->insert, &mt->delete, &mt->modify };

    if (!json_is_object(select)) {
        *errorp = ovsdb_syntax_error(select, NULL, "select must be an object");
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const json_t *v = json_object_get(select, names[i]);
        if (v) {
            if (!json_is_boolean(v)) {
                *errorp = ovsdb_syntax_error(select, NULL,
                                             "%s must be a boolean", names[i]);
                return false;
            }
            *flags[i] = json_is_true(v);
        }
    }
    return true;
}

static bool
table_has_column(const struct monitor_table *mt, unsigned int index)
{
    for (unsigned int i = 0; i < mt->n_columns; i++) {
        if (mt->columns[i] == index) {
            return true;
        }
    }
    return false;
}

static struct ovsdb_error *
add_column(struct monitor_table *mt, unsigned int index, size_t *allocated)
{
    if (table_has_column(mt, index)) {
        return NULL;            /* Several requests may name the same column. */
    }
    if (mt->n_columns >= *allocated) {
        mt->columns = x2nrealloc(mt->columns, allocated, sizeof *mt->columns);
    }
    mt->columns[mt->n_columns++] = index;
    return NULL;
}

/* Parses one <monitor-request> into MT (which may already hold columns from
 * an earlier request for the same table). */
static struct ovsdb_error *
parse_request(const json_t *req, enum dbd_monitor_version version,
              struct monitor_table *mt, size_t *allocated)
{
    struct ovsdb_error *error = NULL;

    if (!json_is_object(req)) {
        return ovsdb_syntax_error(req, NULL,
                                  "monitor request must be an object");
    }
    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *) req, key, value) {
        if (strcmp(key, "columns") && strcmp(key, "select")
            && (version == DBD_MONITOR_V1 || strcmp(key, "where"))) {
            return ovsdb_syntax_error(req, NULL,
                                      "monitor request has unknown member \"%s\"",
                                      key);
        }
    }

    const json_t *select = json_object_get(req, "select");
    if (select && !parse_select(select, mt, &error)) {
        return error;
    }

    const json_t *columns = json_object_get(req, "columns");
    if (columns) {
        /* ovsdb-server's words for each problem. */
        if (!json_is_array(columns)) {
            return ovsdb_syntax_error(req, NULL, "Parsing table %s failed: "
                                      "Type mismatch for member 'columns'.",
                                      mt->ts->name);
        }
        size_t n_before = mt->n_columns;
        size_t i;
        const json_t *name;
        json_array_foreach (columns, i, name) {
            if (!json_is_string(name)) {
                return ovsdb_syntax_error(columns, NULL,
                                          "array of column names expected");
            }
            const struct ovsdb_column_schema *cs
                = ovsdb_table_schema_find_column(mt->ts,
                                                 json_string_value(name));
            if (!cs) {
                return ovsdb_syntax_error(columns, NULL,
                                          "%s is not a valid column name",
                                          json_string_value(name));
            }
            for (size_t k = n_before; k < mt->n_columns; k++) {
                if (mt->columns[k] == cs->index) {
                    return ovsdb_syntax_error(columns, NULL, "column %s "
                                              "mentioned more than once",
                                              cs->name);
                }
            }
            add_column(mt, cs->index, allocated);
        }
    } else {
        /* All columns but _uuid, which is the row's key anyway. */
        for (unsigned int i = 0; i < mt->ts->n_columns; i++) {
            if (i != OVSDB_COL_UUID) {
                add_column(mt, i, allocated);
            }
        }
    }

    const json_t *where = json_object_get(req, "where");
    if (where) {
        struct ovsdb_condition *cond;
        error = ovsdb_condition_from_json(mt->ts, where, NULL, &cond);
        if (error) {
            return error;
        }
        ovsdb_condition_destroy(mt->cond);
        mt->cond = ovsdb_condition_is_true(cond) ? NULL : cond;
        if (!mt->cond) {
            ovsdb_condition_destroy(cond);
        }
    }
    return NULL;
}

static struct ovsdb_error *
parse_table(const struct ovsdb_schema *schema, const char *name,
            const json_t *reqs, enum dbd_monitor_version version,
            struct monitor_table *mt)
{
    memset(mt, 0, sizeof *mt);
    mt->ts = ovsdb_schema_find_table(schema, name);
    if (!mt->ts) {
        return ovsdb_syntax_error(NULL, NULL, "no table named %s", name);
    }
    mt->initial = mt->insert = mt->delete = mt->modify = true;

    size_t allocated = 0;
    if (json_is_array(reqs)) {
        size_t i;
        const json_t *req;
        json_array_foreach (reqs, i, req) {
            struct ovsdb_error *error = parse_request(req, version, mt, &allocated);
            if (error) {
                return error;
            }
        }
        return NULL;
    }
    return parse_request(reqs, version, mt, &allocated);
}

static void
monitor_table_destroy(struct monitor_table *mt)
{
    free(mt->columns);
    ovsdb_condition_destroy(mt->cond);
}

/* A key that two monitors share iff they would send identical updates. */
static char *
compute_shape(const struct dbd_monitor *m)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "%d", (int) (m->version == DBD_MONITOR_V1 ? 1 : 2));
    for (unsigned int i = 0; i < m->n_tables; i++) {
        const struct monitor_table *mt = &m->tables[i];
        if (mt->cond) {
            ds_destroy(&s);
            return NULL;
        }
        ds_put_format(&s, "|%s:%d%d%d%d:", mt->ts->name, mt->initial,
                      mt->insert, mt->delete, mt->modify);
        for (unsigned int j = 0; j < mt->n_columns; j++) {
            ds_put_format(&s, "%u,", mt->columns[j]);
        }
    }
    return ds_steal_cstr(&s);
}

/* --- Encoding rows. --- */

static json_t *
row_json(const struct monitor_table *mt, const struct ovsdb_row *row,
         bool skip_defaults)
{
    const struct ovsdb_datum *datums = row_datums(row);
    json_t *obj = json_object();
    for (unsigned int i = 0; i < mt->n_columns; i++) {
        const struct ovsdb_column_schema *cs = mt->ts->columns[mt->columns[i]];
        const struct ovsdb_datum *d = &datums[cs->index];
        if (skip_defaults && ovsdb_datum_is_default(d, &cs->type)) {
            continue;
        }
        json_object_set_new(obj, cs->name, ovsdb_datum_to_json(d, &cs->type));
    }
    return obj;
}

/* The update2 "modify" difference of one column. */
static json_t *
column_diff_json(const struct ovsdb_column_schema *cs,
                 const struct ovsdb_datum *old, const struct ovsdb_datum *new)
{
    const struct ovsdb_type *type = &cs->type;
    /* Scalars and optional scalars (a set of at most one) carry the new
     * value itself, as ovsdb-server sends them: 5 -> 6 is 6, not [5,6]. */
    if (!ovsdb_type_is_map(type) && type->n_max == 1) {
        return ovsdb_datum_to_json(new, type);
    }

    /* Sets: symmetric difference.  Maps: pairs removed (old value), pairs
     * added and keys whose value changed (new value). */
    struct ovsdb_type unbounded = *type;
    unbounded.n_min = 0;
    unbounded.n_max = OVSDB_UNLIMITED;

    struct ovsdb_datum added, removed;
    ovsdb_datum_clone(&added, new, type);
    ovsdb_datum_subtract(&added, &unbounded, old, type);
    ovsdb_datum_clone(&removed, old, type);
    if (ovsdb_type_is_map(type)) {
        struct ovsdb_type keys_type = unbounded;
        keys_type.value.type = OVSDB_TYPE_VOID;
        struct ovsdb_datum new_keys = { new->n, new->keys, NULL };
        ovsdb_datum_subtract(&removed, &unbounded, &new_keys, &keys_type);
    } else {
        ovsdb_datum_subtract(&removed, &unbounded, new, type);
    }
    ovsdb_datum_union(&added, &removed, &unbounded);
    json_t *json = ovsdb_datum_to_json(&added, &unbounded);
    ovsdb_datum_destroy(&added, type);
    ovsdb_datum_destroy(&removed, type);
    return json;
}

/* One row's entry in a <table-updates> (V1) or <table-updates2> (V2/V3),
 * or NULL if this monitor sends nothing for the change. */
static json_t *
row_update_json(const struct dbd_monitor *m, const struct monitor_table *mt,
                const struct ovsdb_row *old, const struct ovsdb_row *new)
{
    bool old_in = row_matches(mt, old);
    bool new_in = row_matches(mt, new);

    if (!old_in && !new_in) {
        return NULL;
    }
    if (!old_in) {
        if (!mt->insert) {
            return NULL;
        }
        return m->version == DBD_MONITOR_V1
               ? json_pack("{s:o}", "new", row_json(mt, new, false))
               : json_pack("{s:o}", "insert", row_json(mt, new, true));
    }
    if (!new_in) {
        if (!mt->delete) {
            return NULL;
        }
        return m->version == DBD_MONITOR_V1
               ? json_pack("{s:o}", "old", row_json(mt, old, false))
               : json_pack("{s:n}", "delete");
    }
    if (!mt->modify) {
        return NULL;
    }

    const struct ovsdb_datum *od = row_datums(old), *nd = row_datums(new);
    json_t *changes = json_object();
    for (unsigned int i = 0; i < mt->n_columns; i++) {
        const struct ovsdb_column_schema *cs = mt->ts->columns[mt->columns[i]];
        unsigned int c = cs->index;
        if (ovsdb_datum_equals(&od[c], &nd[c], &cs->type)) {
            continue;
        }
        json_object_set_new(changes, cs->name,
                            m->version == DBD_MONITOR_V1
                            ? ovsdb_datum_to_json(&od[c], &cs->type)
                            : column_diff_json(cs, &od[c], &nd[c]));
    }
    if (!json_object_size(changes)) {
        json_decref(changes);
        return NULL;
    }
    if (m->version == DBD_MONITOR_V1) {
        return json_pack("{s:o,s:o}", "new", row_json(mt, new, false),
                         "old", changes);
    }
    return json_pack("{s:o}", "modify", changes);
}

static void
add_row_update(json_t *updates, const struct monitor_table *mt,
               const struct uuid *uuid, json_t *row_update)
{
    char buf[UUID_LEN + 1];
    json_t *table = json_object_get(updates, mt->ts->name);
    if (!table) {
        table = json_object();
        json_object_set_new(updates, mt->ts->name, table);
    }
    uuid_to_string(uuid, buf);
    json_object_set_new(table, buf, row_update);
}

static json_t *
initial_json(const struct dbd_monitor *m)
{
    json_t *updates = json_object();
    for (unsigned int i = 0; i < m->n_tables; i++) {
        const struct monitor_table *mt = &m->tables[i];
        if (!mt->initial) {
            continue;
        }
        const struct ovsdb_table *table = ovsdb_find_table(m->db, mt->ts->name);
        const struct ovsdb_row *row;
        OVSDB_TABLE_FOR_EACH_ROW (row, table) {
            if (!row_matches(mt, row)) {
                continue;
            }
            json_t *ru = m->version == DBD_MONITOR_V1
                ? json_pack("{s:o}", "new", row_json(mt, row, false))
                : json_pack("{s:o}", "initial", row_json(mt, row, true));
            add_row_update(updates, mt, row_uuid(row), ru);
        }
    }
    return updates;
}

struct ovsdb_error *
dbd_monitor_create(const struct ovsdb *db, const json_t *id,
                   enum dbd_monitor_version version, const json_t *requests,
                   struct dbd_monitor **monitorp, json_t **initialp)
{
    *monitorp = NULL;
    *initialp = NULL;
    if (!json_is_object(requests)) {
        return ovsdb_syntax_error(requests, NULL,
                                  "monitor requests must be an object");
    }

    struct dbd_monitor *m = xzalloc(sizeof *m);
    m->db = db;
    m->id = json_deep_copy(id);
    m->version = version;
    m->tables = xcalloc(json_object_size(requests) + 1, sizeof *m->tables);

    const char *name;
    const json_t *reqs;
    json_object_foreach ((json_t *) requests, name, reqs) {
        struct monitor_table *mt = &m->tables[m->n_tables];
        struct ovsdb_error *error = parse_table(ovsdb_get_schema(db), name,
                                                reqs, version, mt);
        m->n_tables++;
        if (error) {
            dbd_monitor_destroy(m);
            return error;
        }
    }
    m->shape = compute_shape(m);
    *initialp = initial_json(m);
    *monitorp = m;
    return NULL;
}

void
dbd_monitor_destroy(struct dbd_monitor *m)
{
    if (m) {
        for (unsigned int i = 0; i < m->n_tables; i++) {
            monitor_table_destroy(&m->tables[i]);
        }
        free(m->tables);
        json_decref(m->id);
        free(m->shape);
        free(m);
    }
}

const json_t *
dbd_monitor_get_id(const struct dbd_monitor *m)
{
    return m->id;
}

enum dbd_monitor_version
dbd_monitor_get_version(const struct dbd_monitor *m)
{
    return m->version;
}

static struct monitor_table *
find_table(struct dbd_monitor *m, const char *name)
{
    for (unsigned int i = 0; i < m->n_tables; i++) {
        if (!strcmp(m->tables[i].ts->name, name)) {
            return &m->tables[i];
        }
    }
    return NULL;
}

struct ovsdb_error *
dbd_monitor_change_conditions(struct dbd_monitor *m, const json_t *new_id,
                              const json_t *requests, json_t **updatep)
{
    *updatep = NULL;
    if (!json_is_object(requests)) {
        return ovsdb_syntax_error(requests, NULL,
                                  "monitor-cond-change request must be an object");
    }

    /* Parse every new condition before changing anything. */
    size_t n = json_object_size(requests);
    struct ovsdb_condition **conds = xcalloc(n + 1, sizeof *conds);
    struct monitor_table **tables = xcalloc(n + 1, sizeof *tables);
    struct ovsdb_error *error = NULL;
    size_t k = 0;
    const char *name;
    const json_t *reqs;
    json_object_foreach ((json_t *) requests, name, reqs) {
        tables[k] = find_table(m, name);
        if (!tables[k]) {
            error = ovsdb_syntax_error(NULL, NULL,
                                       "%s is not a table of this monitor", name);
            goto out;
        }
        const json_t *req = json_is_array(reqs) ? json_array_get(reqs, 0) : reqs;
        const json_t *where = json_is_object(req) ? json_object_get(req, "where") : NULL;
        if (!where) {
            error = ovsdb_syntax_error(reqs, NULL,
                                       "monitor-cond-change request for %s lacks \"where\"",
                                       name);
            goto out;
        }
        error = ovsdb_condition_from_json(tables[k]->ts, where, NULL, &conds[k]);
        if (error) {
            goto out;
        }
        k++;
    }

    /* Rows that leave a condition are deleted, rows that enter it are
     * inserted, from the client's point of view. */
    json_t *updates = json_object();
    for (size_t i = 0; i < k; i++) {
        struct monitor_table *mt = tables[i];
        struct ovsdb_condition *old_cond = mt->cond;
        struct ovsdb_condition *new_cond = ovsdb_condition_is_true(conds[i]) ? NULL : conds[i];
        const struct ovsdb_table *table = ovsdb_find_table(m->db, mt->ts->name);
        const struct ovsdb_row *row;
        OVSDB_TABLE_FOR_EACH_ROW (row, table) {
            const struct ovsdb_datum *d = row_datums(row);
            bool was = !old_cond || ovsdb_condition_evaluate(old_cond, d);
            bool is = !new_cond || ovsdb_condition_evaluate(new_cond, d);
            if (was && !is) {
                add_row_update(updates, mt, row_uuid(row),
                               json_pack("{s:n}", "delete"));
            } else if (!was && is) {
                add_row_update(updates, mt, row_uuid(row),
                               json_pack("{s:o}", "insert", row_json(mt, row, true)));
            }
        }
        ovsdb_condition_destroy(old_cond);
        mt->cond = new_cond;
        if (!new_cond) {
            ovsdb_condition_destroy(conds[i]);
        }
        conds[i] = NULL;
    }
    if (json_object_size(updates)) {
        *updatep = updates;
    } else {
        json_decref(updates);
    }
    json_decref(m->id);
    m->id = json_deep_copy(new_id);
    free(m->shape);
    m->shape = compute_shape(m);

out:
    for (size_t i = 0; i < n; i++) {
        ovsdb_condition_destroy(conds[i]);
    }
    free(conds);
    free(tables);
    return error;
}

/* --- Per-transaction batches. --- */

struct batch_change {
    const struct ovsdb_table_schema *ts;
    const struct uuid *uuid;
    const struct ovsdb_row *old, *new;
};

struct batch_shape {
    struct hmap_node node;
    char *key;
    json_t *update;             /* NULL if nothing to send. */
};

struct dbd_monitor_batch {
    struct batch_change *changes;
    size_t n_changes, allocated;
    struct hmap shapes;         /* struct batch_shape, by key hash. */
};

static void
collect_change(const struct ovsdb_row_change *c, void *batch_)
{
    struct dbd_monitor_batch *batch = batch_;
    if (batch->n_changes >= batch->allocated) {
        batch->changes = x2nrealloc(batch->changes, &batch->allocated,
                                    sizeof *batch->changes);
    }
    batch->changes[batch->n_changes++] = (struct batch_change) {
        c->table, c->uuid, c->old, c->new
    };
}

struct dbd_monitor_batch *
dbd_monitor_batch_create(const struct ovsdb_txn *txn)
{
    struct dbd_monitor_batch *batch = xzalloc(sizeof *batch);
    hmap_init(&batch->shapes);
    ovsdb_txn_for_each_change(txn, collect_change, batch);
    return batch;
}

static json_t *
compute_update(const struct dbd_monitor_batch *batch,
               const struct dbd_monitor *m)
{
    json_t *updates = NULL;
    for (size_t i = 0; i < batch->n_changes; i++) {
        const struct batch_change *c = &batch->changes[i];
        for (unsigned int j = 0; j < m->n_tables; j++) {
            const struct monitor_table *mt = &m->tables[j];
            if (mt->ts != c->ts) {      /* Same schema: compare pointers. */
                continue;
            }
            json_t *ru = row_update_json(m, mt, c->old, c->new);
            if (ru) {
                if (!updates) {
                    updates = json_object();
                }
                add_row_update(updates, mt, c->uuid, ru);
            }
        }
    }
    return updates;
}

json_t *
dbd_monitor_batch_get_update(struct dbd_monitor_batch *batch,
                             struct dbd_monitor *m)
{
    if (!m->shape) {
        return compute_update(batch, m);
    }

    uint32_t hash = hash_string(m->shape, 0);
    struct batch_shape *bs;
    HMAP_FOR_EACH_WITH_HASH (bs, node, hash, &batch->shapes) {
        if (!strcmp(bs->key, m->shape)) {
            return bs->update ? json_incref(bs->update) : NULL;
        }
    }
    bs = xzalloc(sizeof *bs);
    bs->key = xstrdup(m->shape);
    bs->update = compute_update(batch, m);
    hmap_insert(&batch->shapes, &bs->node, hash);
    return bs->update ? json_incref(bs->update) : NULL;
}

void
dbd_monitor_batch_destroy(struct dbd_monitor_batch *batch)
{
    if (batch) {
        struct batch_shape *bs;
        HMAP_FOR_EACH_POP (bs, node, &batch->shapes) {
            json_decref(bs->update);
            free(bs->key);
            free(bs);
        }
        hmap_destroy(&batch->shapes);
        free(batch->changes);
        free(batch);
    }
}
