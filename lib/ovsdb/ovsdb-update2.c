/* ovsdb-update2: <table-updates2> applied in place.  See ovsdb-update2.h. */
#include "ovsdb-update2.h"

#include <limits.h>
#include <malloc.h>
#include <string.h>

#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-types.h"
#include "ovsdb.h"
#include "util.h"

/* Differences up to this size are applied element by element (a binary
 * search and a move each); larger ones by one merge of the two arrays. */
#define SMALL_DIFF 8

/* Whether a "modify" sends column values of TYPE as differences. */
static bool
type_uses_diff(const struct ovsdb_type *type)
{
    return type->n_max > 1;
}

struct ovsdb_error *
ovsdb_update2_parse_diff(struct ovsdb_datum *diff,
                         const struct ovsdb_type *type,
                         const json_t *diff_json)
{
    struct ovsdb_type relaxed = *type;  /* Shallow: only the bounds change. */
    relaxed.n_min = 0;
    relaxed.n_max = UINT_MAX;
    return ovsdb_datum_from_json(diff, &relaxed, diff_json, NULL);
}

/* Index of the first key of D not less than KEY. */
static unsigned int
find_slot(const struct ovsdb_datum *d, const union ovsdb_atom *key,
          enum ovsdb_atomic_type kt)
{
    unsigned int lo = 0, hi = d->n;
    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;
        if (ovsdb_atom_compare_3way(&d->keys[mid], key, kt) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void
remove_at(struct ovsdb_datum *d, unsigned int i, const struct ovsdb_type *type)
{
    size_t tail = d->n - i - 1;
    ovsdb_atom_destroy(&d->keys[i], type->key.type);
    memmove(&d->keys[i], &d->keys[i + 1], tail * sizeof *d->keys);
    if (d->values) {
        ovsdb_atom_destroy(&d->values[i], type->value.type);
        memmove(&d->values[i], &d->values[i + 1], tail * sizeof *d->values);
    }
    d->n--;
}

/* Makes room for N atoms in *ATOMS, doubling: a set that gains one element
 * per update would otherwise be copied to a new block on most updates (a
 * 10,000-element set is 160 kB, and freeing blocks that large also makes
 * the allocator consolidate its free lists). */
static void
reserve_atoms(union ovsdb_atom **atoms, size_t n)
{
    if (!*atoms || n * sizeof **atoms > malloc_usable_size(*atoms)) {
        *atoms = xrealloc(*atoms, 2 * n * sizeof **atoms);
    }
}

static void
insert_at(struct ovsdb_datum *d, unsigned int i, const union ovsdb_atom *key,
          const union ovsdb_atom *value, const struct ovsdb_type *type)
{
    size_t tail = d->n - i;
    reserve_atoms(&d->keys, d->n + 1);
    memmove(&d->keys[i + 1], &d->keys[i], tail * sizeof *d->keys);
    ovsdb_atom_clone(&d->keys[i], key, type->key.type);
    if (value) {
        reserve_atoms(&d->values, d->n + 1);
        memmove(&d->values[i + 1], &d->values[i], tail * sizeof *d->values);
        ovsdb_atom_clone(&d->values[i], value, type->value.type);
    }
    d->n++;
}

/* The same as a series of insert_at()/remove_at(), in one pass over D:
 * D's atoms are moved into the new arrays, DIFF's are copied. */
static void
merge_diff(struct ovsdb_datum *d, const struct ovsdb_datum *diff,
           const struct ovsdb_type *type)
{
    enum ovsdb_atomic_type kt = type->key.type, vt = type->value.type;
    bool map = ovsdb_type_is_map(type);
    size_t cap = (size_t) d->n + diff->n;
    union ovsdb_atom *keys = xmalloc((cap ? cap : 1) * sizeof *keys);
    union ovsdb_atom *values = map ? xmalloc((cap ? cap : 1) * sizeof *values)
                                   : NULL;
    unsigned int i = 0, j = 0, n = 0;
    while (i < d->n || j < diff->n) {
        int cmp = i >= d->n ? 1 : j >= diff->n ? -1
                  : ovsdb_atom_compare_3way(&d->keys[i], &diff->keys[j], kt);
        if (cmp < 0) {
            keys[n] = d->keys[i];
            if (map) {
                values[n] = d->values[i];
            }
            n++;
            i++;
        } else if (cmp > 0) {
            ovsdb_atom_clone(&keys[n], &diff->keys[j], kt);
            if (map) {
                ovsdb_atom_clone(&values[n], &diff->values[j], vt);
            }
            n++;
            j++;
        } else if (map && !ovsdb_atom_equals(&d->values[i], &diff->values[j],
                                             vt)) {
            keys[n] = d->keys[i];
            ovsdb_atom_destroy(&d->values[i], vt);
            ovsdb_atom_clone(&values[n], &diff->values[j], vt);
            n++;
            i++;
            j++;
        } else {
            ovsdb_atom_destroy(&d->keys[i], kt);
            if (map) {
                ovsdb_atom_destroy(&d->values[i], vt);
            }
            i++;
            j++;
        }
    }
    free(d->keys);
    free(d->values);
    d->keys = keys;
    d->values = values;
    d->n = n;
}

void
ovsdb_update2_apply_diff(struct ovsdb_datum *d,
                         const struct ovsdb_datum *diff,
                         const struct ovsdb_type *type)
{
    enum ovsdb_atomic_type kt = type->key.type;
    bool map = ovsdb_type_is_map(type);
    if (diff->n > SMALL_DIFF) {
        merge_diff(d, diff, type);
        return;
    }
    for (unsigned int k = 0; k < diff->n; k++) {
        const union ovsdb_atom *key = &diff->keys[k];
        const union ovsdb_atom *value = map ? &diff->values[k] : NULL;
        unsigned int i = find_slot(d, key, kt);
        if (i >= d->n || !ovsdb_atom_equals(&d->keys[i], key, kt)) {
            insert_at(d, i, key, value, type);
        } else if (map && !ovsdb_atom_equals(&d->values[i], value,
                                             type->value.type)) {
            ovsdb_atom_destroy(&d->values[i], type->value.type);
            ovsdb_atom_clone(&d->values[i], value, type->value.type);
        } else {
            remove_at(d, i, type);
        }
    }
}

/* One column of a row update, parsed. */
struct parsed_column {
    const struct ovsdb_column_schema *c;
    struct ovsdb_datum d;
    bool diff;
};

static void
parsed_destroy(struct parsed_column *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        ovsdb_datum_destroy(&p[k].d, &p[k].c->type);
    }
    free(p);
}

/* Parses ROW_JSON (a <row>: whole values, or for MODIFY differences of the
 * set and map columns) into *PP, *NP columns. */
static struct ovsdb_error *
parse_row(const struct ovsdb_table_schema *ts, const json_t *row_json,
          bool modify, struct parsed_column **pp, size_t *np)
{
    if (!json_is_object(row_json)) {
        return ovsdb_syntax_error(row_json, NULL, "<row> must be an object");
    }
    struct parsed_column *p = xmalloc((json_object_size(row_json) + 1)
                                      * sizeof *p);
    size_t n = 0;
    const char *name;
    json_t *value;
    json_object_foreach ((json_t *) row_json, name, value) {
        const struct ovsdb_column_schema *c
            = ovsdb_table_schema_find_column(ts, name);
        if (!c || c->index < OVSDB_N_IMPLICIT_COLUMNS) {
            parsed_destroy(p, n);
            return ovsdb_syntax_error(row_json, "unknown column",
                                      "No column %s in table %s.",
                                      name, ts->name);
        }
        bool diff = modify && type_uses_diff(&c->type);
        struct ovsdb_error *error
            = diff ? ovsdb_update2_parse_diff(&p[n].d, &c->type, value)
                   : ovsdb_datum_from_json(&p[n].d, &c->type, value, NULL);
        if (error) {
            parsed_destroy(p, n);
            return error;
        }
        p[n].c = c;
        p[n].diff = diff;
        n++;
    }
    *pp = p;
    *np = n;
    return NULL;
}

static bool
column_is_indexed(const struct ovsdb_table_schema *ts, unsigned int column)
{
    for (unsigned int i = 0; i < ts->n_indexes; i++) {
        for (unsigned int k = 0; k < ts->index_sizes[i]; k++) {
            if (ts->indexes[i][k] == column) {
                return true;
            }
        }
    }
    return false;
}

/* Puts the N parsed columns P into ROW (P's datums are consumed). */
static struct ovsdb_error *
store_columns(struct ovsdb_row *row, struct parsed_column *p, size_t n)
{
    struct ovsdb_error *error = NULL;
    for (size_t k = 0; k < n; k++) {
        const struct ovsdb_column_schema *c = p[k].c;
        struct ovsdb_datum *d = &row->columns[c->index];
        if (!p[k].diff) {
            ovsdb_datum_swap(d, &p[k].d);
            continue;
        }
        ovsdb_update2_apply_diff(d, &p[k].d, &c->type);
        if (!error && (d->n < c->type.n_min || d->n > c->type.n_max)) {
            char id[UUID_LEN + 1];
            uuid_to_string(&row->uuid, id);
            error = ovsdb_error("constraint violation", "difference leaves "
                                "column %s of row %s with %u elements",
                                c->name, id, d->n);
        }
    }
    return error;
}

static struct ovsdb_error *
apply_row(struct ovsdb_table *t, const char *key, const json_t *ru,
          ovsdb_update2_cb *cb, void *aux)
{
    const struct ovsdb_table_schema *ts = t->schema;
    struct uuid uuid;
    if (!uuid_from_string(&uuid, key)) {
        return ovsdb_syntax_error(ru, NULL, "%s is not a UUID", key);
    }
    if (!json_is_object(ru)) {
        return ovsdb_syntax_error(ru, NULL, "<row-update2> must be an "
                                  "object");
    }
    /* The table owns its rows; a client copy changes them in place. */
    struct ovsdb_row *row = (struct ovsdb_row *) ovsdb_table_find_row(t,
                                                                      &uuid);
    const json_t *row_json = json_object_get(ru, "modify");
    enum ovsdb_update2_kind kind = OVSDB_UPDATE2_MODIFY;
    if (!row_json) {
        kind = OVSDB_UPDATE2_INSERT;
        row_json = json_object_get(ru, "initial");
        if (!row_json) {
            row_json = json_object_get(ru, "insert");
        }
    }
    if (!row_json) {
        if (!json_object_get(ru, "delete")) {
            return ovsdb_syntax_error(ru, NULL, "<row-update2> has none of "
                                      "initial, insert, modify, delete");
        }
        if (!row) {
            return ovsdb_error("syntax error", "update deletes row %s that "
                               "does not exist in table %s", key, ts->name);
        }
        ovsdb_table_remove_row(t, row);
        ovsdb_row_destroy(row);
        if (cb) {
            cb(t, &uuid, OVSDB_UPDATE2_DELETE, NULL, aux);
        }
        return NULL;
    }
    if (kind == OVSDB_UPDATE2_MODIFY && !row) {
        return ovsdb_error("syntax error", "update modifies row %s that does "
                           "not exist in table %s", key, ts->name);
    }

    struct parsed_column *p = NULL;
    size_t n = 0;
    struct ovsdb_error *error = parse_row(ts, row_json,
                                          kind == OVSDB_UPDATE2_MODIFY,
                                          &p, &n);
    if (error) {
        return error;
    }
    bool reindex = kind == OVSDB_UPDATE2_INSERT;
    for (size_t k = 0; !reindex && k < n; k++) {
        reindex = column_is_indexed(ts, p[k].c->index);
    }
    if (row && reindex) {
        ovsdb_table_remove_row(t, row);
    }
    if (kind == OVSDB_UPDATE2_INSERT) {
        ovsdb_row_destroy(row);     /* A repeated insert replaces the row. */
        row = ovsdb_row_create(t, &uuid);
    }
    error = store_columns(row, p, n);
    parsed_destroy(p, n);
    if (reindex) {
        ovsdb_table_add_row(t, row);
    }
    if (cb) {
        cb(t, &uuid, kind, kind == OVSDB_UPDATE2_MODIFY ? row_json : NULL,
           aux);
    }
    return error;
}

struct ovsdb_error *
ovsdb_update2_apply(struct ovsdb *db, const json_t *updates,
                    ovsdb_update2_cb *cb, void *aux)
{
    if (!json_is_object(updates)) {
        return ovsdb_syntax_error(updates, NULL, "<table-updates2> must be "
                                  "an object");
    }
    const char *table_name;
    json_t *rows;
    json_object_foreach ((json_t *) updates, table_name, rows) {
        struct ovsdb_table *t = ovsdb_find_table(db, table_name);
        if (!t) {
            return ovsdb_syntax_error(updates, NULL, "No table named %s.",
                                      table_name);
        }
        if (!json_is_object(rows)) {
            return ovsdb_syntax_error(rows, NULL, "<table-update2> must be "
                                      "an object");
        }
        const char *key;
        json_t *ru;
        json_object_foreach (rows, key, ru) {
            struct ovsdb_error *error = apply_row(t, key, ru, cb, aux);
            if (error) {
                return error;
            }
        }
    }
    return NULL;
}
