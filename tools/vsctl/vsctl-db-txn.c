/* vsctl-db-txn: the changes of a vsctl-db view and their commit: narrow
 * operations, "wait" preconditions, the next_cfg bump, the drop of changes
 * that repeat current values, and the UUIDs the server gave new rows.  See
 * vsctl-db.h. */
#include "vsctl-db-private.h"

#include <stdio.h>
#include <string.h>

#include "util.h"
#include "vsctl.h"

/* ---- Changes. ---- */

struct vsctl_row *
vsctl_db_insert_row(struct vsctl_db *db, struct vsctl_table *t,
                    const struct uuid *uuid)
{
    struct uuid fresh;
    if (!uuid) {
        uuid_generate(&fresh);
        uuid = &fresh;
    }
    struct vsctl_row *row = vsctl_db_row_create(t, uuid);
    row->inserted = true;
    vsctl_db_mark_dirty(row, 0);
    for (size_t i = 1; i < t->n_columns; i++) {
        row->data[i] = xmalloc(sizeof *row->data[i]);
        vsctl_datum_init_default(row->data[i], &t->columns[i].type);
    }
    return row;
}

static void
drop_mutations(struct vsctl_row *row, size_t idx)
{
    const struct vsctl_type *type = &row->table->columns[idx].type;
    if (row->mut_ins[idx]) {
        vsctl_datum_destroy(row->mut_ins[idx], type);
        free(row->mut_ins[idx]);
        row->mut_ins[idx] = NULL;
    }
    if (row->mut_del[idx]) {
        vsctl_datum_destroy(row->mut_del[idx], type);
        free(row->mut_del[idx]);
        row->mut_del[idx] = NULL;
    }
}

void
vsctl_row_write(struct vsctl_db *db, struct vsctl_row *row,
                const struct vsctl_column *c, struct vsctl_datum *datum)
{
    if (row->data[c->idx]) {
        vsctl_datum_destroy(row->data[c->idx], &c->type);
        free(row->data[c->idx]);
    }
    row->data[c->idx] = datum;
    row->written[c->idx] = true;
    drop_mutations(row, c->idx);
    vsctl_db_mark_dirty(row, c->idx);
}

void
vsctl_row_write_by_name(struct vsctl_db *db, struct vsctl_row *row,
                        const char *column, struct vsctl_datum *datum)
{
    vsctl_row_write(db, row, vsctl_db_must_get_column(row->table, column), datum);
}

static void
mutation_put(struct vsctl_datum **dp, const struct vsctl_type *t,
             const union vsctl_atom *key, const union vsctl_atom *value)
{
    if (!*dp) {
        *dp = xmalloc(sizeof **dp);
        vsctl_datum_init_empty(*dp);
    }
    union vsctl_atom k, v;
    vsctl_atom_clone(&k, key, t->key.type);
    if (value) {
        vsctl_atom_clone(&v, value, t->value.type);
    }
    vsctl_datum_put(*dp, t, &k, value ? &v : NULL, true);
}

static void
mutation_drop(struct vsctl_datum *d, const struct vsctl_type *t,
              const union vsctl_atom *key)
{
    size_t idx = d ? vsctl_datum_find_key(d, key, t->key.type) : SIZE_MAX;
    if (idx != SIZE_MAX) {
        vsctl_datum_remove_index(d, t, idx);
    }
}

void
vsctl_row_add_element(struct vsctl_db *db, struct vsctl_row *row,
                      const char *column, const union vsctl_atom *key,
                      const union vsctl_atom *value)
{
    const struct vsctl_column *c = vsctl_db_must_get_column(row->table, column);
    size_t i = c->idx;
    vsctl_db_mark_dirty(row, i);
    if (row->data[i]) {
        union vsctl_atom k, v;
        vsctl_atom_clone(&k, key, c->type.key.type);
        if (value) {
            vsctl_atom_clone(&v, value, c->type.value.type);
        }
        vsctl_datum_put(row->data[i], &c->type, &k, value ? &v : NULL, true);
    }
    if (row->inserted || row->written[i]) {
        row->written[i] = true;
        return;
    }
    if (value) {
        /* A map key being replaced has to be deleted first. */
        mutation_put(&row->mut_del[i], &c->type, key, value);
    } else {
        mutation_drop(row->mut_del[i], &c->type, key);
    }
    mutation_put(&row->mut_ins[i], &c->type, key, value);
}

void
vsctl_row_remove_element(struct vsctl_db *db, struct vsctl_row *row,
                         const char *column, const union vsctl_atom *key)
{
    const struct vsctl_column *c = vsctl_db_must_get_column(row->table, column);
    size_t i = c->idx;
    vsctl_db_mark_dirty(row, i);
    if (row->data[i]) {
        mutation_drop(row->data[i], &c->type, key);
    }
    if (row->inserted || row->written[i]) {
        row->written[i] = true;
        return;
    }
    mutation_drop(row->mut_ins[i], &c->type, key);
    union vsctl_atom dummy;
    memset(&dummy, 0, sizeof dummy);
    if (c->type.value.type == VA_STRING) {
        dummy.string = (char *) "";
    }
    mutation_put(&row->mut_del[i], &c->type, key,
                 vsctl_type_is_map(&c->type) ? &dummy : NULL);
}

void
vsctl_row_delete(struct vsctl_db *db, struct vsctl_row *row)
{
    vsctl_db_mark_dirty(row, 0);
    row->deleted = true;
}

void
vsctl_row_send_always(struct vsctl_db *db, struct vsctl_row *row)
{
    (void) db;
    vsctl_db_mark_dirty(row, 0);
    row->send_always = true;
}

bool
vsctl_db_is_new_uuid(const struct vsctl_db *db, const struct uuid *uuid)
{
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_row *row = vsctl_db_cache_lookup(&db->tables[i], uuid);
        if (row && row->inserted) {
            return true;
        }
    }
    return false;
}

static bool
named_cb(const struct uuid *uuid, void *db)
{
    return vsctl_db_is_new_uuid(db, uuid);
}

static json_t *
datum_json(struct vsctl_db *db, const struct vsctl_datum *d,
           const struct vsctl_type *t)
{
    return vsctl_datum_to_json(d, t, named_cb, db);
}

/* Keys of D as a set datum in JSON (map deletions by key). */
static json_t *
keys_json(struct vsctl_db *db, const struct vsctl_datum *d,
          const struct vsctl_type *t)
{
    json_t *elems = json_array();
    for (size_t i = 0; i < d->n; i++) {
        json_array_append_new(elems, vsctl_atom_to_json(&d->keys[i],
                                                        t->key.type,
                                                        named_cb, db));
    }
    return json_pack("[so]", "set", elems);
}

/* The "uuid-name" of a row this transaction inserts: "row" and its
 * provisional UUID with '_' for '-'. */
static json_t *
uuid_name(const struct uuid *uuid)
{
    char name[UUID_LEN + 4] = "row";
    uuid_to_string(uuid, name + 3);
    for (char *p = name; *p; p++) {
        if (*p == '-') {
            *p = '_';
        }
    }
    return json_string(name);
}

static void
row_ops(struct vsctl_db *db, struct vsctl_row *row, json_t *ops)
{
    struct vsctl_table *t = row->table;
    if (row->inserted && row->deleted) {
        return;
    }
    if (row->deleted) {
        if (t->is_root) {
            json_array_append_new(ops, json_pack(
                "{ssssso}", "op", "delete", "table", t->name,
                "where", vsctl_db_uuid_where(&row->uuid)));
        }
        return;
    }
    json_t *cols = json_object(), *muts = json_array();
    for (size_t i = 1; i < t->n_columns; i++) {
        const struct vsctl_column *c = &t->columns[i];
        if (row->written[i]) {
            json_object_set_new(cols, c->name,
                                datum_json(db, row->data[i], &c->type));
            continue;
        }
        if (row->mut_del[i] && row->mut_del[i]->n) {
            json_array_append_new(muts, json_pack(
                "[sso]", c->name, "delete",
                vsctl_type_is_map(&c->type)
                ? keys_json(db, row->mut_del[i], &c->type)
                : datum_json(db, row->mut_del[i], &c->type)));
        }
        if (row->mut_ins[i] && row->mut_ins[i]->n) {
            json_t *v = datum_json(db, row->mut_ins[i], &c->type);
            if (!vsctl_type_is_map(&c->type) && row->mut_ins[i]->n == 1) {
                v = json_pack("[s[o]]", "set", v);
            }
            json_array_append_new(muts, json_pack("[sso]", c->name, "insert",
                                                  v));
        }
    }
    if (row->inserted) {
        json_t *op = json_pack("{sssssoss}", "op", "insert", "table", t->name,
                               "row", cols, "uuid-name", "");
        json_object_set_new(op, "uuid-name", uuid_name(&row->uuid));
        if (row->persist_uuid) {
            char buf[UUID_LEN + 1];
            uuid_to_string(&row->uuid, buf);
            json_object_set_new(op, "uuid", json_string(buf));
        }
        json_array_append_new(ops, op);
        json_decref(muts);
        return;
    }
    if (json_object_size(cols)) {
        json_array_append_new(ops, json_pack("{sssssoso}", "op", "update",
                                             "table", t->name,
                                             "where", vsctl_db_uuid_where(&row->uuid),
                                             "row", cols));
    } else {
        json_decref(cols);
    }
    if (json_array_size(muts)) {
        json_array_append_new(ops, json_pack("{sssssoso}", "op", "mutate",
                                             "table", t->name,
                                             "where", vsctl_db_uuid_where(&row->uuid),
                                             "mutations", muts));
    } else {
        json_decref(muts);
    }
}

static json_t *
change_ops(struct vsctl_db *db)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_row *row;
        HMAP_FOR_EACH (row, node, &db->tables[i].rows) {
            row_ops(db, row, ops);
        }
    }
    return ops;
}

bool
vsctl_db_has_changes(const struct vsctl_db *db_)
{
    struct vsctl_db *db = (struct vsctl_db *) db_;
    json_t *ops = change_ops(db);
    bool any = json_array_size(ops) > 0;
    json_decref(ops);
    return any;
}

static json_t *
verify_ops(struct vsctl_db *db)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_row *row;
        HMAP_FOR_EACH (row, node, &db->tables[i].rows) {
            if (!row->verify || row->inserted) {
                continue;
            }
            json_t *cols = json_array();
            const char *name;
            json_t *v;
            json_object_foreach(row->verify, name, v) {
                json_array_append_new(cols, json_string(name));
            }
            json_array_append_new(ops, json_pack(
                "{sssssosssos[O]si}", "op", "wait",
                "table", db->tables[i].name,
                "where", vsctl_db_uuid_where(&row->uuid), "until", "==",
                "columns", cols, "rows", row->verify, "timeout", 0));
        }
    }
    return ops;
}

static void record_inserts(struct vsctl_db *, const json_t *params,
                           const json_t *result);

/* Whether ROW's pending changes certainly alter the database: it is new or
 * deleted, or it gains a reference to a row this transaction inserts. */
static bool
row_surely_changes(struct vsctl_db *db, const struct vsctl_row *row)
{
    const struct vsctl_table *t = row->table;
    if (row->inserted || row->deleted) {
        return row->inserted != row->deleted && (row->inserted || t->is_root);
    } else if (row->send_always) {
        return true;
    }
    for (size_t i = 1; i < t->n_columns; i++) {
        const struct vsctl_datum *ins = row->mut_ins[i];
        for (size_t j = 0; ins && j < ins->n; j++) {
            if ((t->columns[i].type.key.type == VA_UUID
                 && vsctl_db_is_new_uuid(db, &ins->keys[j].uuid))
                || (t->columns[i].type.value.type == VA_UUID
                    && vsctl_db_is_new_uuid(db, &ins->values[j].uuid))) {
                return true;
            }
        }
    }
    return false;
}

/* Whether column C of ROW, whose current value on the server is HAVE, ends
 * up different after the pending write or mutations. */
static bool
column_changes(const struct vsctl_row *row, const struct vsctl_column *c,
               const struct vsctl_datum *have)
{
    size_t i = c->idx;
    if (row->written[i]) {
        return !vsctl_datum_equals(row->data[i], have, &c->type);
    }
    struct vsctl_datum after;
    vsctl_datum_clone(&after, have, &c->type);
    if (row->mut_del[i]) {
        struct vsctl_type keys = c->type;
        keys.value.type = VA_VOID;
        vsctl_datum_subtract(&after, &c->type, row->mut_del[i], &keys);
    }
    if (row->mut_ins[i]) {
        vsctl_datum_union(&after, row->mut_ins[i], &c->type, false);
    }
    bool changes = !vsctl_datum_equals(&after, have, &c->type);
    vsctl_datum_destroy(&after, &c->type);
    return changes;
}

/* Like ovs-vsctl, which drops a transaction whose writes only repeat the
 * values already there (so that it neither bumps next_cfg nor waits),
 * finds out whether the pending changes alter anything.  Changes that
 * surely do need no read; otherwise the touched columns of the touched rows
 * are read in one round trip. */
static bool
changes_anything(struct vsctl_db *db)
{
    json_t *params = json_pack("[s]", db->db_name);
    struct vsctl_row **rows = NULL;
    size_t n_rows = 0;
    bool surely = false;
    for (size_t ti = 0; !surely && ti < db->n_tables; ti++) {
        struct vsctl_table *t = &db->tables[ti];
        for (size_t d = 0; !surely && d < t->n_dirty; d++) {
            struct vsctl_row *row = t->dirty[d];
            json_t *cols = json_array();
            for (size_t i = 1; i < t->n_columns; i++) {
                if (row->written[i] || row->mut_ins[i] || row->mut_del[i]) {
                    json_array_append_new(cols,
                                          json_string(t->columns[i].name));
                }
            }
            surely = row_surely_changes(db, row);
            if (surely || !json_array_size(cols)) {
                json_decref(cols);
                continue;
            }
            json_array_append_new(params, vsctl_db_select_op(t, vsctl_db_uuid_where(&row->uuid),
                                                    cols));
            rows = xrealloc(rows, (n_rows + 1) * sizeof *rows);
            rows[n_rows++] = row;
        }
    }
    bool changes = surely;
    if (!surely && n_rows) {
        json_t *result = vsctl_db_transact(db, "transact", json_incref(params));
        for (size_t r = 0; !changes && r < n_rows; r++) {
            const json_t *have_row = json_array_get(json_object_get(
                json_array_get(result, r), "rows"), 0);
            const char *name;
            const json_t *vj;
            /* A row deleted meanwhile: committing will say so. */
            changes = !have_row;
            json_object_foreach((json_t *) have_row, name, vj) {
                const struct vsctl_column *c =
                    vsctl_table_get_column(rows[r]->table, name);
                struct vsctl_datum have;
                char *error = c ? vsctl_datum_from_json(&have, &c->type, vj)
                                : NULL;
                if (!c || error) {
                    free(error);
                    changes = true;
                    break;
                }
                changes = column_changes(rows[r], c, &have);
                vsctl_datum_destroy(&have, &c->type);
                if (changes) {
                    break;
                }
            }
        }
        json_decref(result);
    }
    json_decref(params);
    free(rows);
    return changes;
}

/* OVSDB's description of the first string in J that is not UTF-8, or
 * NULL.  Such a string (a name given on the command line) is refused
 * before sending, with the error the server would give. */
static char *
find_bad_string(const json_t *j)
{
    if (json_is_string(j)) {
        return vsctl_utf8_error(json_string_value(j));
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            char *error = find_bad_string(json_array_get(j, i));
            if (error) {
                return error;
            }
        }
    } else if (json_is_object(j)) {
        const char *key;
        const json_t *value;
        json_object_foreach ((json_t *) j, key, value) {
            char *error = find_bad_string(value);
            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

enum vsctl_commit_status
vsctl_db_commit(struct vsctl_db *db, struct vsctl_row *bump_cfg_row,
                long long *next_cfg, const char *comment, bool dry_run,
                bool *changed)
{
    json_t *changes = change_ops(db);
    *changed = json_array_size(changes) > 0;
    if (!*changed || dry_run) {
        json_decref(changes);
        return VSCTL_COMMIT_OK;
    }
    if (!changes_anything(db)) {
        *changed = false;
        json_decref(changes);
        return VSCTL_COMMIT_OK;
    }
    json_t *params = json_pack("[s]", db->db_name);
    json_array_extend(params, db->preconds);
    json_t *verifies = verify_ops(db);
    json_array_extend(params, verifies);
    size_t n_waits = json_array_size(params) - 1;
    json_decref(verifies);
    json_array_extend(params, changes);
    json_decref(changes);
    size_t select_idx = 0;
    if (bump_cfg_row) {
        json_t *where = bump_cfg_row->inserted
            ? json_pack("[]") : vsctl_db_uuid_where(&bump_cfg_row->uuid);
        json_array_append_new(params, json_pack(
            "{sssssOs[[ssi]]}", "op", "mutate", "table", "Open_vSwitch",
            "where", where, "mutations", "next_cfg", "+=", 1));
        json_array_append_new(params, json_pack(
            "{sssssos[s]}", "op", "select", "table", "Open_vSwitch",
            "where", where, "columns", "next_cfg"));
        select_idx = json_array_size(params) - 2;
    }
    if (comment) {
        json_array_append_new(params, json_pack("{ssss}", "op", "comment",
                                                "comment", comment));
    }
    char *bad = find_bad_string(params);
    if (bad) {
        char *txt = xasprintf("{\"details\":\"not a valid UTF-8 string: "
                              "%s\",\"error\":\"constraint violation\"}",
                              bad);
        vsctl_warn("ovsdb_idl", "transaction error: %s", txt);
        fatal("transaction error: %s", txt);
    }
    json_incref(params);        /* Kept to match inserts with results. */
    json_t *result = vsctl_db_transact(db, "transact", params);
    size_t i;
    const json_t *r;
    json_array_foreach(result, i, r) {
        const json_t *err = json_object_get(r, "error");
        if (!err || json_is_null(err)) {
            continue;
        }
        if (i < n_waits && json_is_string(err)
            && !strcmp(json_string_value(err), "timed out")) {
            json_decref(result);
            return VSCTL_COMMIT_RETRY;
        }
        char *txt = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
        /* ovs-vsctl's IDL logs the error before the tool reports it. */
        vsctl_warn("ovsdb_idl", "transaction error: %s", txt);
        fatal("transaction error: %s", txt);
    }
    record_inserts(db, params, result);
    if (bump_cfg_row && next_cfg) {
        const json_t *rows = json_object_get(json_array_get(result, select_idx),
                                             "rows");
        const json_t *nc = json_object_get(json_array_get(rows, 0), "next_cfg");
        *next_cfg = json_is_integer(nc) ? json_integer_value(nc) : 0;
    }
    json_decref(result);
    json_decref(params);
    return VSCTL_COMMIT_OK;
}

/* Remembers the UUIDs the server gave the rows inserted by PARAMS (a
 * "transact" request) according to RESULT. */
static void
record_inserts(struct vsctl_db *db, const json_t *params,
               const json_t *result)
{
    db->n_inserted = 0;
    for (size_t i = 1; i < json_array_size(params); i++) {
        const json_t *op = json_array_get(params, i);
        const char *name = json_string_value(json_object_get(op,
                                                             "uuid-name"));
        const json_t *uj = json_object_get(json_array_get(result, i - 1),
                                           "uuid");
        struct uuid provisional, real;
        char buf[UUID_LEN + 1];
        if (!name || strlen(name) != UUID_LEN + 3 || !json_is_array(uj)
            || !json_is_string(json_array_get(uj, 1))
            || !uuid_from_string(&real, json_string_value(
                                     json_array_get(uj, 1)))) {
            continue;
        }
        snprintf(buf, sizeof buf, "%s", name + 3);
        for (char *p = buf; *p; p++) {
            if (*p == '_') {
                *p = '-';
            }
        }
        if (!uuid_from_string(&provisional, buf)) {
            continue;
        }
        db->inserted_provisional = xrealloc(
            db->inserted_provisional,
            (db->n_inserted + 1) * sizeof *db->inserted_provisional);
        db->inserted_real = xrealloc(
            db->inserted_real,
            (db->n_inserted + 1) * sizeof *db->inserted_real);
        db->inserted_table = xrealloc(
            db->inserted_table,
            (db->n_inserted + 1) * sizeof *db->inserted_table);
        db->inserted_table[db->n_inserted] = vsctl_db_get_table(
            db, json_string_value(json_object_get(op, "table")));
        db->inserted_provisional[db->n_inserted] = provisional;
        db->inserted_real[db->n_inserted] = real;
        db->n_inserted++;
    }
}

bool
vsctl_db_get_real_uuid(const struct vsctl_db *db,
                       const struct uuid *provisional, struct uuid *real)
{
    for (size_t i = 0; i < db->n_inserted; i++) {
        if (uuid_equals(&db->inserted_provisional[i], provisional)) {
            *real = db->inserted_real[i];
            return true;
        }
    }
    return false;
}

struct uuid *
vsctl_db_inserted_uuids(const struct vsctl_db *db,
                        const struct vsctl_table *t, size_t *n)
{
    struct uuid *uuids = xcalloc(db->n_inserted + 1, sizeof *uuids);
    *n = 0;
    for (size_t i = 0; i < db->n_inserted; i++) {
        if (db->inserted_table[i] == t) {
            uuids[(*n)++] = db->inserted_real[i];
        }
    }
    return uuids;
}

/* Reads COLUMNS of the rows of T with the given UUIDS afresh from the server
 * (one transaction) and returns the "rows" of each select as a JSON array
 * of arrays (caller owns). */
json_t *
vsctl_db_read_rows(struct vsctl_db *db, const struct vsctl_table *t,
                   const struct uuid *uuids, size_t n, json_t *columns)
{
    json_t *params = json_pack("[s]", db->db_name);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(params, vsctl_db_select_op(t, vsctl_db_uuid_where(&uuids[i]),
                                                json_incref(columns)));
    }
    json_decref(columns);
    json_t *result = vsctl_db_transact(db, "transact", params);
    json_t *out = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(result, i, r) {
        const json_t *rows = json_object_get(r, "rows");
        json_array_append_new(out, json_is_array(rows)
                              ? json_incref((json_t *) rows) : json_array());
    }
    json_decref(result);
    return out;
}

void
vsctl_db_set_persistent_uuid(struct vsctl_db *db, struct vsctl_row *row)
{
    (void) db;
    row->persist_uuid = true;
}

