/* ovsdb: the in-memory OVSDB database (tables of rows keyed by UUID).
 *
 * A database owns its schema and one table per schema table, in schema
 * order.  A table keeps its rows in an hmap by UUID and one hash index per
 * schema index (the indexed columns' combined values -> row).  A row is an
 * array of n_columns datums laid out as in the table schema: index
 * OVSDB_COL_UUID holds the row's UUID, OVSDB_COL_VERSION its _version.
 *
 * Every row also counts the strong references that point at it (n_refs) and
 * the database remembers which rows hold weak references to which rows.
 * Both are maintained by ovsdb_txn_commit() for the rows a transaction
 * touched only, so garbage collection and integrity checks cost O(changed
 * rows).  Rows in the database are only changed through transactions
 * (ovsdb-txn.h); the functions marked "transaction engine" below are for
 * that module and ovsdb-file.c, not for the server.
 *
 * Not thread-safe.  Pure library: no I/O, no clock reads. */
#ifndef LANYARD_OVSDB_H
#define LANYARD_OVSDB_H 1

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "hmap.h"
#include "uuid.h"

struct ovsdb_datum;
struct ovsdb_schema;
struct ovsdb_table_schema;
struct ovsdb_type;
struct ovsdb_txn;

/* A row's entry in one of its table's hash indexes. */
struct ovsdb_index_node {
    struct hmap_node node;
    struct ovsdb_row *row;
};

struct ovsdb_row {
    struct hmap_node node;          /* In ovsdb_table 'rows' (uuid_hash). */
    struct ovsdb_table *table;
    struct uuid uuid;               /* Same as columns[OVSDB_COL_UUID]. */
    struct ovsdb_datum *columns;    /* table->schema->n_columns datums. */
    size_t n_refs;                  /* Strong references to this row. */
    struct ovsdb_index_node *index_nodes;  /* One per schema index. */
};

struct ovsdb_table {
    const struct ovsdb_table_schema *schema;
    unsigned int idx;               /* Position in the database. */
    struct hmap rows;               /* Contains struct ovsdb_row. */
    struct hmap *indexes;           /* schema->n_indexes hash indexes. */
};

/* Creates an empty database; takes ownership of SCHEMA. */
struct ovsdb *ovsdb_create(struct ovsdb_schema *schema);
void ovsdb_destroy(struct ovsdb *);

const struct ovsdb_schema *ovsdb_get_schema(const struct ovsdb *);
unsigned int ovsdb_n_tables(const struct ovsdb *);
/* IDX follows the schema's table order. */
struct ovsdb_table *ovsdb_get_table(const struct ovsdb *, unsigned int idx);
struct ovsdb_table *ovsdb_find_table(const struct ovsdb *, const char *name);
struct ovsdb_table *ovsdb_table_for_schema(const struct ovsdb *,
                                           const struct ovsdb_table_schema *);

size_t ovsdb_table_n_rows(const struct ovsdb_table *);
const struct ovsdb_row *ovsdb_table_find_row(const struct ovsdb_table *,
                                             const struct uuid *);
/* First row of TABLE whose columns of schema index INDEX_IDX equal KEYS
 * (one datum per indexed column, in index order), or NULL. */
const struct ovsdb_row *ovsdb_table_find_by_index(const struct ovsdb_table *,
                                                  unsigned int index_idx,
                                                  const struct ovsdb_datum *keys);

/* Iterates over the rows of TABLE (const struct ovsdb_row *ROW). */
#define OVSDB_TABLE_FOR_EACH_ROW(ROW, TABLE) \
    HMAP_FOR_EACH (ROW, node, &(TABLE)->rows)

const struct ovsdb_datum *ovsdb_row_get_column(const struct ovsdb_row *,
                                               unsigned int column_idx);
/* The datum of ROW's column NAME, or NULL if its table has no such column;
 * if TYPEP is nonnull it receives the column's type. */
const struct ovsdb_datum *ovsdb_row_find_column(const struct ovsdb_row *,
                                                const char *name,
                                                const struct ovsdb_type **typep);

/* The row as an RFC 7047 <row> object: the columns whose bit is set in
 * COLUMN_BITMAP (indexed by column index), or every column including _uuid
 * and _version when it is NULL.  Caller owns the result. */
json_t *ovsdb_row_to_json(const struct ovsdb_row *,
                          const unsigned long *column_bitmap);

/* Column bitmaps (unsigned long arrays indexed by column index). */
#define OVSDB_BITMAP_BITS (sizeof(unsigned long) * CHAR_BIT)
static inline size_t
ovsdb_bitmap_n_longs(size_t n_bits)
{
    return (n_bits + OVSDB_BITMAP_BITS - 1) / OVSDB_BITMAP_BITS;
}
static inline bool
ovsdb_bitmap_is_set(const unsigned long *b, size_t i)
{
    return (b[i / OVSDB_BITMAP_BITS] >> (i % OVSDB_BITMAP_BITS)) & 1;
}
static inline void
ovsdb_bitmap_set(unsigned long *b, size_t i)
{
    b[i / OVSDB_BITMAP_BITS] |= 1UL << (i % OVSDB_BITMAP_BITS);
}
/* A zeroed bitmap of N_BITS bits (caller frees). */
unsigned long *ovsdb_bitmap_create(size_t n_bits);
bool ovsdb_bitmap_is_all_zeros(const unsigned long *, size_t n_bits);

/* --- Transaction engine (ovsdb-txn.c, ovsdb-file.c) --- */

/* A detached row of TABLE with UUID and every column at its default. */
struct ovsdb_row *ovsdb_row_create(struct ovsdb_table *,
                                   const struct uuid *uuid);
/* A detached deep copy of ROW (n_refs copied). */
struct ovsdb_row *ovsdb_row_clone(const struct ovsdb_row *);
/* Frees a detached row (accepts NULL). */
void ovsdb_row_destroy(struct ovsdb_row *);
/* Hash of ROW's values in schema index INDEX_IDX. */
uint32_t ovsdb_row_index_hash(const struct ovsdb_row *, unsigned int index_idx);
bool ovsdb_row_index_equals(const struct ovsdb_row *, const struct ovsdb_row *,
                            unsigned int index_idx);

/* Adds detached ROW to its table (rows and indexes) / takes it out. */
void ovsdb_table_add_row(struct ovsdb_table *, struct ovsdb_row *);
void ovsdb_table_remove_row(struct ovsdb_table *, struct ovsdb_row *);

/* Weak-reference bookkeeping: the rows that hold weak references to the row
 * with uuid DST.  ovsdb_weak_refs_update() replaces the contribution of OLD
 * (may be NULL) by NEW's (may be NULL); both are versions of one row. */
void ovsdb_weak_refs_update(struct ovsdb *, const struct ovsdb_row *old,
                            const struct ovsdb_row *new);
/* Calls CB for each (table, uuid) of a row holding weak references to DST. */
void ovsdb_weak_refs_for_each_source(const struct ovsdb *,
                                     const struct uuid *dst,
                                     void (*cb)(struct ovsdb_table *,
                                                const struct uuid *src,
                                                void *aux),
                                     void *aux);

/* Calls CB for each uuid atom in the strong (STRONG true) or weak reference
 * columns of ROW, with the referenced table. */
void ovsdb_row_for_each_ref(const struct ovsdb_row *, bool strong,
                            void (*cb)(const struct ovsdb_table_schema *ref,
                                       const struct uuid *, void *aux),
                            void *aux);
bool ovsdb_table_schema_has_refs(const struct ovsdb_table_schema *,
                                 bool strong);

#endif
