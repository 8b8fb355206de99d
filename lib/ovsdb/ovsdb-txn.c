/* ovsdb-txn: private deltas, commit-time checks and atomic commit.
 *
 * A transaction records one txn_row per row it touched: OLD is the row in
 * the database (NULL for an insert), NEW is a private copy (NULL for a
 * delete).  NEW == OLD marks a row the transaction only touched to adjust
 * its reference count during ovsdb_txn_finish().  The database itself is
 * changed only by ovsdb_txn_commit(). */
#include "ovsdb-txn.h"

#include <string.h>

#include "ds.h"
#include "hash.h"
#include "list.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "util.h"

struct txn_table;

struct txn_row {
    struct hmap_node node;          /* In txn_table 'rows', by uuid hash. */
    struct list_node list_node;     /* In ovsdb_txn 'rows', creation order. */
    struct txn_table *tt;
    struct uuid uuid;
    struct ovsdb_row *old;
    struct ovsdb_row *new;
    unsigned long *changed;         /* Modified rows, after finish. */
    size_t n_refs;                  /* Strong references to NEW. */
};

struct txn_table {
    struct ovsdb_table *table;
    struct hmap rows;
    long long n_delta;              /* Rows inserted minus rows deleted. */
};

struct ovsdb_txn {
    struct ovsdb *db;
    struct txn_table *tables;
    unsigned int n_tables;
    struct list_node rows;
    bool durable;
    bool committed;
    bool has_comment;
    struct ds comment;
    size_t n_changes;               /* Set by ovsdb_txn_finish(). */
};

static bool
trow_is_change(const struct txn_row *r)
{
    return r->old != r->new;
}

struct ovsdb_txn *
ovsdb_txn_create(struct ovsdb *db)
{
    struct ovsdb_txn *txn = xzalloc(sizeof *txn);
    txn->db = db;
    txn->n_tables = ovsdb_n_tables(db);
    txn->tables = xcalloc(txn->n_tables ? txn->n_tables : 1,
                          sizeof *txn->tables);
    for (unsigned int i = 0; i < txn->n_tables; i++) {
        txn->tables[i].table = ovsdb_get_table(db, i);
        hmap_init(&txn->tables[i].rows);
    }
    list_init(&txn->rows);
    ds_init(&txn->comment);
    return txn;
}

struct ovsdb *
ovsdb_txn_get_db(const struct ovsdb_txn *txn)
{
    return txn->db;
}

void
ovsdb_txn_set_durable(struct ovsdb_txn *txn)
{
    txn->durable = true;
}

bool
ovsdb_txn_is_durable(const struct ovsdb_txn *txn)
{
    return txn->durable;
}

void
ovsdb_txn_add_comment(struct ovsdb_txn *txn, const char *comment)
{
    if (txn->has_comment) {
        ds_put_char(&txn->comment, '\n');
    }
    ds_put_cstr(&txn->comment, comment);
    txn->has_comment = true;
}

const char *
ovsdb_txn_get_comment(const struct ovsdb_txn *txn)
{
    return txn->has_comment ? txn->comment.string ? txn->comment.string : ""
                            : NULL;
}

static struct txn_table *
txn_table(const struct ovsdb_txn *txn, const struct ovsdb_table *table)
{
    return &txn->tables[table->idx];
}

static struct txn_row *
trow_find(const struct txn_table *tt, const struct uuid *uuid)
{
    struct txn_row *r;
    if (hmap_is_empty(&tt->rows)) {
        return NULL;
    }
    HMAP_FOR_EACH_WITH_HASH (r, node, uuid_hash(uuid), &tt->rows) {
        if (uuid_equals(&r->uuid, uuid)) {
            return r;
        }
    }
    return NULL;
}

static struct txn_row *
trow_add(struct ovsdb_txn *txn, struct txn_table *tt, const struct uuid *uuid,
         struct ovsdb_row *old, struct ovsdb_row *new)
{
    struct txn_row *r = xzalloc(sizeof *r);
    r->tt = tt;
    r->uuid = *uuid;
    r->old = old;
    r->new = new;
    r->n_refs = old ? old->n_refs : 0;
    hmap_insert(&tt->rows, &r->node, uuid_hash(uuid));
    list_push_back(&txn->rows, &r->list_node);
    return r;
}

/* The txn_row for UUID in TABLE, created unchanged from the database row if
 * needed; NULL if no such row exists anywhere. */
static struct txn_row *
trow_get(struct ovsdb_txn *txn, const struct ovsdb_table *table,
         const struct uuid *uuid)
{
    struct txn_table *tt = txn_table(txn, table);
    struct txn_row *r = trow_find(tt, uuid);
    if (!r) {
        struct ovsdb_row *row = (struct ovsdb_row *)
            ovsdb_table_find_row(table, uuid);
        if (row) {
            r = trow_add(txn, tt, uuid, row, row);
        }
    }
    return r;
}

const struct ovsdb_row *
ovsdb_txn_get_row(const struct ovsdb_txn *txn, const struct ovsdb_table *table,
                  const struct uuid *uuid)
{
    const struct txn_row *r = trow_find(txn_table(txn, table), uuid);
    return r ? r->new : ovsdb_table_find_row(table, uuid);
}

bool
ovsdb_txn_uuid_in_use(const struct ovsdb_txn *txn,
                      const struct ovsdb_table *table, const struct uuid *uuid)
{
    return trow_find(txn_table(txn, table), uuid)
           || ovsdb_table_find_row(table, uuid);
}

void
ovsdb_txn_for_each_row(const struct ovsdb_txn *txn,
                       const struct ovsdb_table *table,
                       void (*cb)(const struct ovsdb_row *, void *aux),
                       void *aux)
{
    const struct txn_table *tt = txn_table(txn, table);
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, table) {
        const struct txn_row *r = trow_find(tt, &row->uuid);
        if (!r) {
            cb(row, aux);
        } else if (r->new) {
            cb(r->new, aux);
        }
    }
    const struct txn_row *r;
    HMAP_FOR_EACH (r, node, &tt->rows) {
        if (!r->old && r->new) {
            cb(r->new, aux);
        }
    }
}

void
ovsdb_txn_for_each_changed_row(const struct ovsdb_txn *txn,
                               const struct ovsdb_table *table,
                               void (*cb)(const struct ovsdb_row *, void *),
                               void *aux)
{
    const struct txn_row *r;
    HMAP_FOR_EACH (r, node, &txn_table(txn, table)->rows) {
        if (r->new && trow_is_change(r)) {
            cb(r->new, aux);
        }
    }
}

bool
ovsdb_txn_row_is_changed(const struct ovsdb_txn *txn,
                         const struct ovsdb_table *table,
                         const struct uuid *uuid)
{
    const struct txn_row *r = trow_find(txn_table(txn, table), uuid);
    return r && trow_is_change(r);
}

size_t
ovsdb_txn_n_rows(const struct ovsdb_txn *txn, const struct ovsdb_table *table)
{
    return ovsdb_table_n_rows(table) + txn_table(txn, table)->n_delta;
}

struct ovsdb_row *
ovsdb_txn_insert(struct ovsdb_txn *txn, struct ovsdb_table *table,
                 const struct uuid *uuid)
{
    struct txn_table *tt = txn_table(txn, table);
    struct txn_row *r = trow_add(txn, tt, uuid, NULL,
                                 ovsdb_row_create(table, uuid));
    tt->n_delta++;
    return r->new;
}

struct ovsdb_row *
ovsdb_txn_modify(struct ovsdb_txn *txn, const struct ovsdb_row *row)
{
    struct txn_row *r = trow_get(txn, row->table, &row->uuid);
    if (r->new == r->old) {
        r->new = ovsdb_row_clone(r->old);
    }
    return r->new;
}

void
ovsdb_txn_delete(struct ovsdb_txn *txn, const struct ovsdb_row *row)
{
    struct txn_row *r = trow_get(txn, row->table, &row->uuid);
    if (r->new != r->old) {
        ovsdb_row_destroy(r->new);
    }
    r->new = NULL;
    r->tt->n_delta--;
}

/* Calls CB for each reference atom of ROW in strong (STRONG) or weak
 * columns, with the column and the referenced table. */
typedef void ref_cb_func(struct ovsdb_txn *, struct txn_row *src,
                         const struct ovsdb_column_schema *,
                         struct ovsdb_table *dst_table,
                         const struct uuid *dst, void *aux);

static bool
is_ref(const struct ovsdb_base_type *b, bool strong)
{
    return b->type == OVSDB_TYPE_UUID && b->u.uuid.ref_table
           && (b->u.uuid.ref_type == OVSDB_REF_STRONG) == strong;
}

static void
for_each_ref(struct ovsdb_txn *txn, struct txn_row *src,
             const struct ovsdb_row *row, bool strong, ref_cb_func *cb,
             void *aux)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < ts->n_columns; i++) {
        const struct ovsdb_column_schema *c = ts->columns[i];
        const struct ovsdb_datum *d = &row->columns[i];
        if (is_ref(&c->type.key, strong)) {
            struct ovsdb_table *dt = ovsdb_table_for_schema(
                txn->db, c->type.key.u.uuid.ref_table);
            for (unsigned int j = 0; j < d->n; j++) {
                cb(txn, src, c, dt, &d->keys[j].uuid, aux);
            }
        }
        if (is_ref(&c->type.value, strong)) {
            struct ovsdb_table *dt = ovsdb_table_for_schema(
                txn->db, c->type.value.u.uuid.ref_table);
            for (unsigned int j = 0; j < d->n; j++) {
                cb(txn, src, c, dt, &d->values[j].uuid, aux);
            }
        }
    }
}

static void
dec_ref_cb(struct ovsdb_txn *txn, struct txn_row *src,
           const struct ovsdb_column_schema *c, struct ovsdb_table *dt,
           const struct uuid *dst, void *aux)
{
    struct txn_row *r = trow_get(txn, dt, dst);
    if (r && r->n_refs) {
        r->n_refs--;
    }
}

static void
inc_ref_cb(struct ovsdb_txn *txn, struct txn_row *src,
           const struct ovsdb_column_schema *c, struct ovsdb_table *dt,
           const struct uuid *dst, void *errorp_)
{
    struct ovsdb_error **errorp = errorp_;
    struct txn_row *r = trow_get(txn, dt, dst);
    if (r && r->new) {
        r->n_refs++;
    } else if (!*errorp) {
        char s[UUID_LEN + 1], d[UUID_LEN + 1];
        uuid_to_string(&src->uuid, s);
        uuid_to_string(dst, d);
        *errorp = ovsdb_error("referential integrity violation",
                              "Table %s column %s row %s references "
                              "nonexistent row %s in table %s.",
                              src->tt->table->schema->name, c->name, s, d,
                              dt->schema->name);
    }
}

/* Adjusts reference counts for the strong references that column C of
 * modified row R gained or lost, walking the two sorted datums together so
 * that a 10,000-element set with one new member costs one increment. */
static void
count_column_delta(struct ovsdb_txn *txn, struct txn_row *r,
                   const struct ovsdb_column_schema *c,
                   struct ovsdb_error **errorp)
{
    const struct ovsdb_type *type = &c->type;
    const struct ovsdb_datum *a = &r->old->columns[c->index];
    const struct ovsdb_datum *b = &r->new->columns[c->index];
    bool sk = is_ref(&type->key, true), sv = is_ref(&type->value, true);
    struct ovsdb_table *kt = sk ? ovsdb_table_for_schema(
        txn->db, type->key.u.uuid.ref_table) : NULL;
    struct ovsdb_table *vt = sv ? ovsdb_table_for_schema(
        txn->db, type->value.u.uuid.ref_table) : NULL;
    unsigned int i = 0, j = 0;

    while ((i < a->n || j < b->n) && !*errorp) {
        unsigned int run = ovsdb_datum_common_run(a, i, b, j, type);
        if (run) {
            i += run;           /* Unchanged members: no reference moves. */
            j += run;
            continue;
        }
        int cmp = i >= a->n ? 1 : j >= b->n ? -1
                  : ovsdb_atom_compare_3way(&a->keys[i], &b->keys[j],
                                            type->key.type);
        if (cmp < 0) {
            if (sk) {
                dec_ref_cb(txn, r, c, kt, &a->keys[i].uuid, NULL);
            }
            if (sv) {
                dec_ref_cb(txn, r, c, vt, &a->values[i].uuid, NULL);
            }
            i++;
        } else if (cmp > 0) {
            if (sk) {
                inc_ref_cb(txn, r, c, kt, &b->keys[j].uuid, errorp);
            }
            if (sv) {
                inc_ref_cb(txn, r, c, vt, &b->values[j].uuid, errorp);
            }
            j++;
        } else {
            if (sv && !uuid_equals(&a->values[i].uuid, &b->values[j].uuid)) {
                dec_ref_cb(txn, r, c, vt, &a->values[i].uuid, NULL);
                inc_ref_cb(txn, r, c, vt, &b->values[j].uuid, errorp);
            }
            i++;
            j++;
        }
    }
}

static struct ovsdb_error *
count_refs(struct ovsdb_txn *txn)
{
    struct ovsdb_error *error = NULL;
    struct txn_row *r;
    LIST_FOR_EACH (r, list_node, &txn->rows) {
        const struct ovsdb_table_schema *ts = r->tt->table->schema;
        if (!trow_is_change(r) || !ovsdb_table_schema_has_refs(ts, true)) {
            continue;
        }
        if (r->old && r->new) {
            for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS;
                 i < ts->n_columns && !error; i++) {
                const struct ovsdb_column_schema *c = ts->columns[i];
                if ((is_ref(&c->type.key, true) || is_ref(&c->type.value, true))
                    && !ovsdb_datum_equals(&r->old->columns[i],
                                           &r->new->columns[i], &c->type)) {
                    count_column_delta(txn, r, c, &error);
                }
            }
        } else if (r->old) {
            for_each_ref(txn, r, r->old, true, dec_ref_cb, NULL);
        } else if (r->new) {
            for_each_ref(txn, r, r->new, true, inc_ref_cb, &error);
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

static void gc_delete(struct ovsdb_txn *, struct txn_row *);

static bool
is_garbage(const struct txn_row *r)
{
    return r->new && !r->n_refs && !r->tt->table->schema->is_root;
}

static void
gc_dec_ref_cb(struct ovsdb_txn *txn, struct txn_row *src,
              const struct ovsdb_column_schema *c, struct ovsdb_table *dt,
              const struct uuid *dst, void *aux)
{
    struct txn_row *r = trow_get(txn, dt, dst);
    if (r && r->n_refs) {
        r->n_refs--;
        if (is_garbage(r)) {
            gc_delete(txn, r);
        }
    }
}

/* Deletes garbage row R and drops the references it held, cascading. */
static void
gc_delete(struct ovsdb_txn *txn, struct txn_row *r)
{
    struct ovsdb_row *row = r->new;
    r->new = NULL;
    r->tt->n_delta--;
    for_each_ref(txn, r, row, true, gc_dec_ref_cb, NULL);
    if (row != r->old) {
        ovsdb_row_destroy(row);
    }
}

static struct ovsdb_error *
collect_garbage_and_check_deletes(struct ovsdb_txn *txn)
{
    struct txn_row *r;
    LIST_FOR_EACH (r, list_node, &txn->rows) {
        if (is_garbage(r)) {
            gc_delete(txn, r);
        }
    }
    LIST_FOR_EACH (r, list_node, &txn->rows) {
        if (r->old && !r->new && r->n_refs) {
            char u[UUID_LEN + 1];
            uuid_to_string(&r->uuid, u);
            return ovsdb_error("referential integrity violation",
                               "cannot delete %s row %s because of %zu "
                               "remaining reference(s)",
                               r->tt->table->schema->name, u, r->n_refs);
        }
    }
    return NULL;
}

static void
pull_weak_source_cb(struct ovsdb_table *table, const struct uuid *src,
                    void *txn)
{
    trow_get(txn, table, src);
}

static bool
base_ref_exists(const struct ovsdb_txn *txn, const struct ovsdb_base_type *b,
                const union ovsdb_atom *atom)
{
    struct ovsdb_table *dt = ovsdb_table_for_schema(txn->db,
                                                    b->u.uuid.ref_table);
    return ovsdb_txn_get_row(txn, dt, &atom->uuid) != NULL;
}

/* Removes from column C of R's row the elements whose weak reference points
 * to no row.  Returns true if it removed something. */
static bool
scrub_column(struct ovsdb_txn *txn, struct txn_row *r,
             const struct ovsdb_column_schema *c)
{
    const struct ovsdb_type *type = &c->type;
    bool wk = is_ref(&type->key, false), wv = is_ref(&type->value, false);
    const struct ovsdb_datum *d = &r->new->columns[c->index];
    unsigned int i;
    for (i = 0; i < d->n; i++) {
        if ((wk && !base_ref_exists(txn, &type->key, &d->keys[i]))
            || (wv && !base_ref_exists(txn, &type->value, &d->values[i]))) {
            break;
        }
    }
    if (i == d->n) {
        return false;
    }

    struct ovsdb_row *row = ovsdb_txn_modify(txn, r->new);
    struct ovsdb_datum *w = &row->columns[c->index];
    unsigned int n = 0;
    for (i = 0; i < w->n; i++) {
        bool keep = (!wk || base_ref_exists(txn, &type->key, &w->keys[i]))
                    && (!wv || base_ref_exists(txn, &type->value,
                                               &w->values[i]));
        if (keep) {
            w->keys[n] = w->keys[i];
            if (w->values) {
                w->values[n] = w->values[i];
            }
            n++;
            continue;
        }
        /* A strong reference on the other side of a dropped map pair goes
         * away with it (the caller collects what becomes garbage). */
        const struct ovsdb_base_type *other = wk ? &type->value : &type->key;
        const union ovsdb_atom *oa = wk ? (w->values ? &w->values[i] : NULL)
                                        : &w->keys[i];
        if (oa && is_ref(other, true)) {
            struct ovsdb_table *dt = ovsdb_table_for_schema(
                txn->db, other->u.uuid.ref_table);
            dec_ref_cb(txn, r, c, dt, &oa->uuid, NULL);
        }
        ovsdb_atom_destroy(&w->keys[i], type->key.type);
        if (w->values) {
            ovsdb_atom_destroy(&w->values[i], type->value.type);
        }
    }
    w->n = n;
    return true;
}

static struct ovsdb_error *
scrub_weak_refs(struct ovsdb_txn *txn)
{
    bool changed;
    do {
        changed = false;
        struct txn_row *r;
        LIST_FOR_EACH (r, list_node, &txn->rows) {
            if (r->old && !r->new) {
                ovsdb_weak_refs_for_each_source(txn->db, &r->uuid,
                                                pull_weak_source_cb, txn);
            }
        }
        LIST_FOR_EACH (r, list_node, &txn->rows) {
            const struct ovsdb_table_schema *ts = r->tt->table->schema;
            if (!r->new || !ovsdb_table_schema_has_refs(ts, false)) {
                continue;
            }
            for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS;
                 i < ts->n_columns && r->new; i++) {
                const struct ovsdb_column_schema *c = ts->columns[i];
                if ((is_ref(&c->type.key, false)
                     || is_ref(&c->type.value, false))
                    && scrub_column(txn, r, c)) {
                    changed = true;
                    if (r->new && r->new->columns[i].n < c->type.n_min) {
                        char u[UUID_LEN + 1];
                        uuid_to_string(&r->uuid, u);
                        return ovsdb_error(
                            "constraint violation",
                            "Deleting weak references to nonexistent rows "
                            "leaves %u element(s) in column %s of %s row %s, "
                            "fewer than the minimum of %u.",
                            r->new->columns[i].n, c->name, ts->name, u,
                            c->type.n_min);
                    }
                }
            }
        }
        LIST_FOR_EACH (r, list_node, &txn->rows) {
            if (is_garbage(r)) {
                gc_delete(txn, r);
                changed = true;
            }
        }
    } while (changed);
    return NULL;
}

/* Computes the changed-column bitmaps, turns modifications that change
 * nothing back into untouched rows, and gives changed rows a new _version. */
static void
compute_changes(struct ovsdb_txn *txn)
{
    struct txn_row *r;
    txn->n_changes = 0;
    LIST_FOR_EACH (r, list_node, &txn->rows) {
        if (!trow_is_change(r)) {
            continue;
        }
        if (r->old && r->new) {
            const struct ovsdb_table_schema *ts = r->tt->table->schema;
            free(r->changed);
            r->changed = ovsdb_bitmap_create(ts->n_columns);
            for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS;
                 i < ts->n_columns; i++) {
                if (!ovsdb_datum_equals(&r->old->columns[i],
                                        &r->new->columns[i],
                                        &ts->columns[i]->type)) {
                    ovsdb_bitmap_set(r->changed, i);
                }
            }
            if (ovsdb_bitmap_is_all_zeros(r->changed, ts->n_columns)) {
                free(r->changed);
                r->changed = NULL;
                ovsdb_row_destroy(r->new);
                r->new = r->old;
                continue;
            }
            ovsdb_bitmap_set(r->changed, OVSDB_COL_VERSION);
        }
        if (r->new) {
            uuid_generate(&r->new->columns[OVSDB_COL_VERSION].keys[0].uuid);
        }
        if (r->old || r->new) {
            txn->n_changes++;
        }
    }
}

static struct ovsdb_error *
check_max_rows(const struct ovsdb_txn *txn)
{
    for (unsigned int i = 0; i < txn->n_tables; i++) {
        const struct txn_table *tt = &txn->tables[i];
        unsigned int max = tt->table->schema->max_rows;
        size_t n = ovsdb_txn_n_rows(txn, tt->table);
        if (tt->n_delta > 0 && max != UINT_MAX && n > max) {
            return ovsdb_error("constraint violation",
                               "transaction causes \"%s\" table to contain "
                               "%zu rows, greater than the schema-defined "
                               "limit of %u row(s)",
                               tt->table->schema->name, n, max);
        }
    }
    return NULL;
}

/* Index uniqueness. */

struct index_entry {
    struct hmap_node node;
    const struct txn_row *r;
};

static void
put_datum_string(struct ds *s, const struct ovsdb_datum *d,
                 const struct ovsdb_type *type)
{
    if (d->n == 1 && !ovsdb_type_is_map(type)
        && type->key.type == OVSDB_TYPE_UUID) {
        char u[UUID_LEN + 1];
        uuid_to_string(&d->keys[0].uuid, u);
        ds_put_cstr(s, u);
        return;
    }
    json_t *j = ovsdb_datum_to_json(d, type);
    const char *str = json_string_value(j);
    if (str && *str && strspn(str, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
                       == strlen(str)) {
        ds_put_cstr(s, str);    /* Plain strings read best unquoted. */
    } else {
        char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        ds_put_cstr(s, text ? text : "");
        free(text);
    }
    json_decref(j);
}

static const char *
describe_row(const struct txn_row *r, struct ds *s, unsigned int idx)
{
    if (!r->old) {
        return "was inserted by this transaction";
    } else if (r->new == r->old) {
        return "existed in the database before this transaction and was not "
               "modified by the transaction";
    } else if (ovsdb_row_index_equals(r->old, r->new, idx)) {
        return "existed in the database before this transaction, which "
               "modified some of the row's columns but not any columns in "
               "this index";
    }
    const struct ovsdb_table_schema *ts = r->tt->table->schema;
    ds_put_cstr(s, "had the following index values before the "
                "transaction: ");
    for (unsigned int i = 0; i < ts->index_sizes[idx]; i++) {
        unsigned int col = ts->indexes[idx][i];
        if (i) {
            ds_put_cstr(s, ", ");
        }
        put_datum_string(s, &r->old->columns[col], &ts->columns[col]->type);
    }
    return ds_cstr(s);
}

static struct ovsdb_error *
duplicate_index_error(const struct txn_row *a, const struct txn_row *b,
                      unsigned int idx)
{
    const struct ovsdb_table_schema *ts = a->tt->table->schema;
    struct ds values = DS_EMPTY_INITIALIZER, cols = DS_EMPTY_INITIALIZER;
    unsigned int n = ts->index_sizes[idx];
    for (unsigned int i = 0; i < n; i++) {
        unsigned int col = ts->indexes[idx][i];
        if (i) {
            const char *sep = n > 2 ? (i == n - 1 ? ", and " : ", ")
                                    : " and ";
            ds_put_cstr(&values, sep);
            ds_put_cstr(&cols, sep);
        }
        put_datum_string(&values, &b->new->columns[col],
                         &ts->columns[col]->type);
        ds_put_format(&cols, "\"%s\"", ts->columns[col]->name);
    }
    struct ds da = DS_EMPTY_INITIALIZER, db = DS_EMPTY_INITIALIZER;
    char ua[UUID_LEN + 1], ub[UUID_LEN + 1];
    uuid_to_string(&a->uuid, ua);
    uuid_to_string(&b->uuid, ub);
    struct ovsdb_error *error = ovsdb_error(
        "constraint violation",
        "Transaction causes multiple rows in \"%s\" table to have identical "
        "values (%s) for index on column%s %s.  First row, with UUID %s, "
        "%s.  Second row, with UUID %s, %s.",
        ts->name, ds_cstr(&values), n > 1 ? "s" : "", ds_cstr(&cols),
        ua, describe_row(a, &da, idx), ub, describe_row(b, &db, idx));
    ds_destroy(&values);
    ds_destroy(&cols);
    ds_destroy(&da);
    ds_destroy(&db);
    return error;
}

static struct ovsdb_error *
check_index(struct ovsdb_txn *txn, struct txn_table *tt, unsigned int idx)
{
    struct hmap seen = HMAP_INITIALIZER(&seen);
    struct ovsdb_error *error = NULL;
    struct txn_row *r;
    HMAP_FOR_EACH (r, node, &tt->rows) {
        if (!r->new || !trow_is_change(r)) {
            continue;
        }
        uint32_t hash = ovsdb_row_index_hash(r->new, idx);
        struct index_entry *e;
        HMAP_FOR_EACH_WITH_HASH (e, node, hash, &seen) {
            if (ovsdb_row_index_equals(e->r->new, r->new, idx)) {
                error = duplicate_index_error(e->r, r, idx);
                goto out;
            }
        }
        const struct hmap_node *n;
        for (n = hmap_first_with_hash(&tt->table->indexes[idx], hash); n;
             n = hmap_next_with_hash(n)) {
            const struct ovsdb_row *db_row
                = CONTAINER_OF(n, struct ovsdb_index_node, node)->row;
            struct txn_row *dr = trow_find(tt, &db_row->uuid);
            if (dr && (!dr->new || trow_is_change(dr))) {
                continue;       /* Its new version is checked on its own. */
            }
            if (ovsdb_row_index_equals(db_row, r->new, idx)) {
                struct txn_row tmp = { .tt = tt, .uuid = db_row->uuid,
                                       .old = (struct ovsdb_row *) db_row,
                                       .new = (struct ovsdb_row *) db_row };
                error = duplicate_index_error(&tmp, r, idx);
                goto out;
            }
        }
        e = xmalloc(sizeof *e);
        e->r = r;
        hmap_insert(&seen, &e->node, hash);
    }
out:;
    struct index_entry *e;
    HMAP_FOR_EACH_POP (e, node, &seen) {
        free(e);
    }
    hmap_destroy(&seen);
    return error;
}

static struct ovsdb_error *
check_indexes(struct ovsdb_txn *txn)
{
    for (unsigned int i = 0; i < txn->n_tables; i++) {
        struct txn_table *tt = &txn->tables[i];
        if (hmap_is_empty(&tt->rows)) {
            continue;
        }
        for (unsigned int j = 0; j < tt->table->schema->n_indexes; j++) {
            struct ovsdb_error *error = check_index(txn, tt, j);
            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_txn_finish(struct ovsdb_txn *txn)
{
    struct ovsdb_error *error = count_refs(txn);
    if (!error) {
        error = collect_garbage_and_check_deletes(txn);
    }
    if (!error) {
        error = scrub_weak_refs(txn);
    }
    if (!error) {
        compute_changes(txn);
        error = check_max_rows(txn);
    }
    if (!error) {
        error = check_indexes(txn);
    }
    return error;
}

bool
ovsdb_txn_is_empty(const struct ovsdb_txn *txn)
{
    return !txn->n_changes;
}

void
ovsdb_txn_commit(struct ovsdb_txn *txn)
{
    struct txn_row *r;
    LIST_FOR_EACH (r, list_node, &txn->rows) {
        struct ovsdb_table *table = r->tt->table;
        if (!trow_is_change(r)) {
            if (r->old) {
                r->old->n_refs = r->n_refs;
            }
            continue;
        }
        if (r->old) {
            ovsdb_table_remove_row(table, r->old);
        }
        if (r->new) {
            r->new->n_refs = r->n_refs;
            ovsdb_table_add_row(table, r->new);
        }
        ovsdb_weak_refs_update(txn->db, r->old, r->new);
    }
    txn->committed = true;
}

static void
txn_free(struct ovsdb_txn *txn)
{
    struct txn_row *r, *next;
    LIST_FOR_EACH_SAFE (r, next, list_node, &txn->rows) {
        free(r->changed);
        free(r);
    }
    for (unsigned int i = 0; i < txn->n_tables; i++) {
        hmap_destroy(&txn->tables[i].rows);
    }
    free(txn->tables);
    ds_destroy(&txn->comment);
    free(txn);
}

void
ovsdb_txn_abort(struct ovsdb_txn *txn)
{
    if (!txn) {
        return;
    }
    if (txn->committed) {
        ovsdb_txn_destroy(txn);
        return;
    }
    struct txn_row *r;
    LIST_FOR_EACH (r, list_node, &txn->rows) {
        if (trow_is_change(r)) {
            ovsdb_row_destroy(r->new);
        }
    }
    txn_free(txn);
}

void
ovsdb_txn_destroy(struct ovsdb_txn *txn)
{
    if (!txn) {
        return;
    }
    if (!txn->committed) {
        ovsdb_txn_abort(txn);
        return;
    }
    struct txn_row *r;
    LIST_FOR_EACH (r, list_node, &txn->rows) {
        if (trow_is_change(r)) {
            ovsdb_row_destroy(r->old);
        }
    }
    txn_free(txn);
}

void
ovsdb_txn_for_each_change(const struct ovsdb_txn *txn,
                          void (*cb)(const struct ovsdb_row_change *, void *),
                          void *aux)
{
    for (unsigned int i = 0; i < txn->n_tables; i++) {
        const struct txn_table *tt = &txn->tables[i];
        const struct txn_row *r;
        HMAP_FOR_EACH (r, node, &tt->rows) {
            if (!trow_is_change(r) || (!r->old && !r->new)) {
                continue;
            }
            struct ovsdb_row_change c = {
                .table = tt->table->schema,
                .uuid = &r->uuid,
                .old = r->old,
                .new = r->new,
                .changed = r->old && r->new ? r->changed : NULL,
            };
            cb(&c, aux);
        }
    }
}
