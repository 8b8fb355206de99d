/* ovsdb-schema: database, table and column schemas (RFC 7047 section 3.2).
 *
 * Parsed from and written back to the schema JSON.  Every table has the two
 * implicit columns "_uuid" (index OVSDB_COL_UUID) and "_version"
 * (OVSDB_COL_VERSION) ahead of its declared columns, which follow in the
 * order the schema JSON lists them.  Reference base types are resolved to
 * their tables when the database schema is parsed, so a reference to a
 * missing table is a parse error.  A schema is immutable once parsed and
 * owns everything it points to. */
#ifndef LANYARD_OVSDB_SCHEMA_H
#define LANYARD_OVSDB_SCHEMA_H 1

#include <jansson.h>
#include <stdbool.h>

#include "hmap.h"
#include "ovsdb-types.h"

struct ovsdb_error;

enum { OVSDB_COL_UUID = 0, OVSDB_COL_VERSION = 1, OVSDB_N_IMPLICIT_COLUMNS = 2 };

struct ovsdb_column_schema {
    struct hmap_node node;      /* In table's 'columns_by_name'. */
    char *name;
    unsigned int index;         /* Position in ovsdb_table_schema.columns. */
    struct ovsdb_type type;
    bool ephemeral;             /* Not written to disk. */
    bool mutable_;              /* False: only settable at insert. */
    json_t *persistent_json;    /* Extra members kept for round-trip, or NULL. */
};

struct ovsdb_table_schema {
    struct hmap_node node;      /* In database schema's 'tables_by_name'. */
    char *name;
    struct ovsdb_column_schema **columns;  /* n_columns, implicit ones first. */
    unsigned int n_columns;
    struct hmap columns_by_name;
    bool is_root;
    unsigned int max_rows;      /* UINT_MAX if unlimited. */
    /* Each index is a set of column indexes whose combined values must be
     * unique across the table's rows. */
    unsigned int **indexes;
    unsigned int *index_sizes;
    unsigned int n_indexes;
};

struct ovsdb_schema {
    char *name;
    char *version;              /* "x.y.z" or NULL. */
    char *cksum;                /* Or NULL. */
    struct ovsdb_table_schema **tables;  /* In schema JSON order. */
    unsigned int n_tables;
    struct hmap tables_by_name;
};

/* Parses a database schema; the error names the table/column at fault. */
struct ovsdb_error *ovsdb_schema_from_json(const json_t *,
                                           struct ovsdb_schema **schemap);
/* Reads and parses a schema file. */
struct ovsdb_error *ovsdb_schema_from_file(const char *path,
                                           struct ovsdb_schema **schemap);
/* The schema as get_schema returns it (caller owns). */
json_t *ovsdb_schema_to_json(const struct ovsdb_schema *);
struct ovsdb_schema *ovsdb_schema_clone(const struct ovsdb_schema *);
void ovsdb_schema_destroy(struct ovsdb_schema *);

const struct ovsdb_table_schema *
ovsdb_schema_find_table(const struct ovsdb_schema *, const char *name);
const struct ovsdb_column_schema *
ovsdb_table_schema_find_column(const struct ovsdb_table_schema *,
                               const char *name);

/* True if A and B describe the same database (same to_json()). */
bool ovsdb_schema_equal(const struct ovsdb_schema *,
                        const struct ovsdb_schema *);
/* Compares "x.y.z" version strings numerically (NULL counts as 0.0.0). */
int ovsdb_schema_version_compare(const char *, const char *);

#endif
