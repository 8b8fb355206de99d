/* ovsdb: the in-memory database.  See ovsdb.h. */
#include "ovsdb.h"

#include <string.h>

#include "hash.h"
#include "ovsdb-data.h"
#include "ovsdb-schema.h"
#include "util.h"

/* One (source row -> destination row) weak reference, with multiplicity. */
struct ovsdb_weak_edge {
    struct hmap_node node;          /* In ovsdb 'weak_edges', by dst hash. */
    struct uuid dst;
    struct uuid src;
    struct ovsdb_table *src_table;
    unsigned int n;
};

struct ovsdb {
    struct ovsdb_schema *schema;
    struct ovsdb_table *tables;     /* schema->n_tables. */
    struct hmap weak_edges;
};

unsigned long *
ovsdb_bitmap_create(size_t n_bits)
{
    size_t n = ovsdb_bitmap_n_longs(n_bits);
    return xcalloc(n ? n : 1, sizeof(unsigned long));
}

bool
ovsdb_bitmap_is_all_zeros(const unsigned long *b, size_t n_bits)
{
    for (size_t i = 0; i < ovsdb_bitmap_n_longs(n_bits); i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

struct ovsdb *
ovsdb_create(struct ovsdb_schema *schema)
{
    struct ovsdb *db = xzalloc(sizeof *db);
    db->schema = schema;
    db->tables = xcalloc(schema->n_tables ? schema->n_tables : 1,
                         sizeof *db->tables);
    for (unsigned int i = 0; i < schema->n_tables; i++) {
        struct ovsdb_table *t = &db->tables[i];
        t->schema = schema->tables[i];
        t->idx = i;
        hmap_init(&t->rows);
        unsigned int n_idx = t->schema->n_indexes;
        t->indexes = xcalloc(n_idx ? n_idx : 1, sizeof *t->indexes);
        for (unsigned int j = 0; j < n_idx; j++) {
            hmap_init(&t->indexes[j]);
        }
    }
    hmap_init(&db->weak_edges);
    return db;
}

void
ovsdb_destroy(struct ovsdb *db)
{
    if (!db) {
        return;
    }
    for (unsigned int i = 0; i < db->schema->n_tables; i++) {
        struct ovsdb_table *t = &db->tables[i];
        struct ovsdb_row *row;
        HMAP_FOR_EACH_POP (row, node, &t->rows) {
            ovsdb_row_destroy(row);
        }
        hmap_destroy(&t->rows);
        for (unsigned int j = 0; j < t->schema->n_indexes; j++) {
            hmap_destroy(&t->indexes[j]);
        }
        free(t->indexes);
    }
    struct ovsdb_weak_edge *e;
    HMAP_FOR_EACH_POP (e, node, &db->weak_edges) {
        free(e);
    }
    hmap_destroy(&db->weak_edges);
    free(db->tables);
    ovsdb_schema_destroy(db->schema);
    free(db);
}

const struct ovsdb_schema *
ovsdb_get_schema(const struct ovsdb *db)
{
    return db->schema;
}

unsigned int
ovsdb_n_tables(const struct ovsdb *db)
{
    return db->schema->n_tables;
}

struct ovsdb_table *
ovsdb_get_table(const struct ovsdb *db, unsigned int idx)
{
    return idx < db->schema->n_tables ? &db->tables[idx] : NULL;
}

struct ovsdb_table *
ovsdb_table_for_schema(const struct ovsdb *db,
                       const struct ovsdb_table_schema *ts)
{
    for (unsigned int i = 0; i < db->schema->n_tables; i++) {
        if (db->tables[i].schema == ts) {
            return &db->tables[i];
        }
    }
    return NULL;
}

struct ovsdb_table *
ovsdb_find_table(const struct ovsdb *db, const char *name)
{
    const struct ovsdb_table_schema *ts = ovsdb_schema_find_table(db->schema,
                                                                  name);
    return ts ? ovsdb_table_for_schema(db, ts) : NULL;
}

size_t
ovsdb_table_n_rows(const struct ovsdb_table *t)
{
    return hmap_count(&t->rows);
}

const struct ovsdb_row *
ovsdb_table_find_row(const struct ovsdb_table *t, const struct uuid *uuid)
{
    const struct ovsdb_row *row;
    HMAP_FOR_EACH_WITH_HASH (row, node, uuid_hash(uuid), &t->rows) {
        if (uuid_equals(&row->uuid, uuid)) {
            return row;
        }
    }
    return NULL;
}

uint32_t
ovsdb_row_index_hash(const struct ovsdb_row *row, unsigned int index_idx)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    uint32_t hash = 0;
    for (unsigned int i = 0; i < ts->index_sizes[index_idx]; i++) {
        unsigned int col = ts->indexes[index_idx][i];
        hash = ovsdb_datum_hash(&row->columns[col], &ts->columns[col]->type,
                                hash);
    }
    return hash;
}

bool
ovsdb_row_index_equals(const struct ovsdb_row *a, const struct ovsdb_row *b,
                       unsigned int index_idx)
{
    const struct ovsdb_table_schema *ts = a->table->schema;
    for (unsigned int i = 0; i < ts->index_sizes[index_idx]; i++) {
        unsigned int col = ts->indexes[index_idx][i];
        if (!ovsdb_datum_equals(&a->columns[col], &b->columns[col],
                                &ts->columns[col]->type)) {
            return false;
        }
    }
    return true;
}

const struct ovsdb_row *
ovsdb_table_find_by_index(const struct ovsdb_table *t, unsigned int index_idx,
                          const struct ovsdb_datum *keys)
{
    const struct ovsdb_table_schema *ts = t->schema;
    unsigned int n = ts->index_sizes[index_idx];
    uint32_t hash = 0;
    for (unsigned int i = 0; i < n; i++) {
        unsigned int col = ts->indexes[index_idx][i];
        hash = ovsdb_datum_hash(&keys[i], &ts->columns[col]->type, hash);
    }

    const struct hmap_node *node;
    for (node = hmap_first_with_hash(&t->indexes[index_idx], hash); node;
         node = hmap_next_with_hash(node)) {
        const struct ovsdb_row *row
            = CONTAINER_OF(node, struct ovsdb_index_node, node)->row;
        bool match = true;
        for (unsigned int i = 0; i < n && match; i++) {
            unsigned int col = ts->indexes[index_idx][i];
            match = ovsdb_datum_equals(&row->columns[col], &keys[i],
                                       &ts->columns[col]->type);
        }
        if (match) {
            return row;
        }
    }
    return NULL;
}

static struct ovsdb_row *
row_alloc(struct ovsdb_table *t)
{
    const struct ovsdb_table_schema *ts = t->schema;
    struct ovsdb_row *row = xzalloc(sizeof *row);
    row->table = t;
    row->columns = xcalloc(ts->n_columns, sizeof *row->columns);
    row->index_nodes = ts->n_indexes
        ? xcalloc(ts->n_indexes, sizeof *row->index_nodes) : NULL;
    for (unsigned int i = 0; i < ts->n_indexes; i++) {
        row->index_nodes[i].row = row;
    }
    return row;
}

struct ovsdb_row *
ovsdb_row_create(struct ovsdb_table *t, const struct uuid *uuid)
{
    const struct ovsdb_table_schema *ts = t->schema;
    struct ovsdb_row *row = row_alloc(t);
    for (unsigned int i = 0; i < ts->n_columns; i++) {
        ovsdb_datum_init_default(&row->columns[i], &ts->columns[i]->type);
    }
    row->uuid = *uuid;
    row->columns[OVSDB_COL_UUID].keys[0].uuid = *uuid;
    return row;
}

struct ovsdb_row *
ovsdb_row_clone(const struct ovsdb_row *src)
{
    const struct ovsdb_table_schema *ts = src->table->schema;
    struct ovsdb_row *row = row_alloc(src->table);
    for (unsigned int i = 0; i < ts->n_columns; i++) {
        ovsdb_datum_clone(&row->columns[i], &src->columns[i],
                          &ts->columns[i]->type);
    }
    row->uuid = src->uuid;
    row->n_refs = src->n_refs;
    return row;
}

void
ovsdb_row_destroy(struct ovsdb_row *row)
{
    if (!row) {
        return;
    }
    const struct ovsdb_table_schema *ts = row->table->schema;
    for (unsigned int i = 0; i < ts->n_columns; i++) {
        ovsdb_datum_destroy(&row->columns[i], &ts->columns[i]->type);
    }
    free(row->columns);
    free(row->index_nodes);
    free(row);
}

void
ovsdb_table_add_row(struct ovsdb_table *t, struct ovsdb_row *row)
{
    hmap_insert(&t->rows, &row->node, uuid_hash(&row->uuid));
    for (unsigned int i = 0; i < t->schema->n_indexes; i++) {
        hmap_insert(&t->indexes[i], &row->index_nodes[i].node,
                    ovsdb_row_index_hash(row, i));
    }
}

void
ovsdb_table_remove_row(struct ovsdb_table *t, struct ovsdb_row *row)
{
    hmap_remove(&t->rows, &row->node);
    for (unsigned int i = 0; i < t->schema->n_indexes; i++) {
        hmap_remove(&t->indexes[i], &row->index_nodes[i].node);
    }
}

json_t *
ovsdb_row_to_json(const struct ovsdb_row *row,
                  const unsigned long *column_bitmap)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    json_t *obj = json_object();
    for (unsigned int i = 0; i < ts->n_columns; i++) {
        if (!column_bitmap || ovsdb_bitmap_is_set(column_bitmap, i)) {
            const struct ovsdb_column_schema *c = ts->columns[i];
            json_object_set_new(obj, c->name,
                                ovsdb_datum_to_json(&row->columns[i],
                                                    &c->type));
        }
    }
    return obj;
}

/* References. */

static bool
base_is_ref(const struct ovsdb_base_type *b, bool strong)
{
    return b->type == OVSDB_TYPE_UUID && b->u.uuid.ref_table
           && (b->u.uuid.ref_type == OVSDB_REF_STRONG) == strong;
}

bool
ovsdb_table_schema_has_refs(const struct ovsdb_table_schema *ts, bool strong)
{
    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < ts->n_columns; i++) {
        const struct ovsdb_type *type = &ts->columns[i]->type;
        if (base_is_ref(&type->key, strong)
            || base_is_ref(&type->value, strong)) {
            return true;
        }
    }
    return false;
}

void
ovsdb_row_for_each_ref(const struct ovsdb_row *row, bool strong,
                       void (*cb)(const struct ovsdb_table_schema *,
                                  const struct uuid *, void *),
                       void *aux)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < ts->n_columns; i++) {
        const struct ovsdb_type *type = &ts->columns[i]->type;
        const struct ovsdb_datum *d = &row->columns[i];
        if (base_is_ref(&type->key, strong)) {
            for (unsigned int j = 0; j < d->n; j++) {
                cb(type->key.u.uuid.ref_table, &d->keys[j].uuid, aux);
            }
        }
        if (base_is_ref(&type->value, strong)) {
            for (unsigned int j = 0; j < d->n; j++) {
                cb(type->value.u.uuid.ref_table, &d->values[j].uuid, aux);
            }
        }
    }
}

struct weak_update_aux {
    struct ovsdb *db;
    const struct ovsdb_row *src;
    int delta;
};

static struct ovsdb_weak_edge *
weak_edge_find(const struct ovsdb *db, const struct uuid *dst,
               const struct uuid *src)
{
    struct ovsdb_weak_edge *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, uuid_hash(dst), &db->weak_edges) {
        if (uuid_equals(&e->dst, dst) && uuid_equals(&e->src, src)) {
            return e;
        }
    }
    return NULL;
}

static void
weak_update_cb(const struct ovsdb_table_schema *ref, const struct uuid *dst,
               void *aux_)
{
    struct weak_update_aux *aux = aux_;
    struct ovsdb_weak_edge *e = weak_edge_find(aux->db, dst, &aux->src->uuid);
    if (aux->delta > 0) {
        if (!e) {
            e = xzalloc(sizeof *e);
            e->dst = *dst;
            e->src = aux->src->uuid;
            e->src_table = aux->src->table;
            hmap_insert(&aux->db->weak_edges, &e->node, uuid_hash(dst));
        }
        e->n++;
    } else if (e && !--e->n) {
        hmap_remove(&aux->db->weak_edges, &e->node);
        free(e);
    }
    (void) ref;
}

void
ovsdb_weak_refs_update(struct ovsdb *db, const struct ovsdb_row *old,
                       const struct ovsdb_row *new)
{
    const struct ovsdb_row *any = old ? old : new;
    if (!any || !ovsdb_table_schema_has_refs(any->table->schema, false)) {
        return;
    }
    if (old) {
        struct weak_update_aux aux = { db, old, -1 };
        ovsdb_row_for_each_ref(old, false, weak_update_cb, &aux);
    }
    if (new) {
        struct weak_update_aux aux = { db, new, 1 };
        ovsdb_row_for_each_ref(new, false, weak_update_cb, &aux);
    }
}

void
ovsdb_weak_refs_for_each_source(const struct ovsdb *db,
                                const struct uuid *dst,
                                void (*cb)(struct ovsdb_table *,
                                           const struct uuid *, void *),
                                void *aux)
{
    /* Collect first: the callback may change the edges. */
    struct ovsdb_weak_edge *e;
    size_t n = 0, allocated = 0;
    struct ovsdb_weak_edge **v = NULL;
    HMAP_FOR_EACH_WITH_HASH (e, node, uuid_hash(dst), &db->weak_edges) {
        if (uuid_equals(&e->dst, dst)) {
            if (n >= allocated) {
                v = x2nrealloc(v, &allocated, sizeof *v);
            }
            v[n++] = e;
        }
    }
    struct { struct ovsdb_table *t; struct uuid src; } *copy
        = n ? xmalloc(n * sizeof *copy) : NULL;
    for (size_t i = 0; i < n; i++) {
        copy[i].t = v[i]->src_table;
        copy[i].src = v[i]->src;
    }
    free(v);
    for (size_t i = 0; i < n; i++) {
        cb(copy[i].t, &copy[i].src, aux);
    }
    free(copy);
}

const struct ovsdb_datum *
ovsdb_row_get_column(const struct ovsdb_row *row, unsigned int column_idx)
{
    return &row->columns[column_idx];
}

const struct ovsdb_datum *
ovsdb_row_find_column(const struct ovsdb_row *row, const char *name,
                      const struct ovsdb_type **typep)
{
    const struct ovsdb_column_schema *cs =
        ovsdb_table_schema_find_column(row->table->schema, name);
    if (!cs) {
        return NULL;
    }
    if (typep) {
        *typep = &cs->type;
    }
    return &row->columns[cs->index];
}
