/* vsctl-db: lanyard-vsctl's view of one OVSDB database.
 *
 * Owns the JSON-RPC connection, the schema learned from the server, a cache
 * of the rows the commands looked at, and the changes the commands made.
 * Rows are fetched on demand with targeted "select"s (by UUID or by a column
 * value, such as a name), never the whole database unless a command asks
 * for whole tables (list, find, show).  Every lookup that decided something
 * is recorded and replayed at commit time as a "wait" precondition, so a
 * concurrent change makes the server reject the transaction with "timed
 * out", and the caller starts over (vsctl_db_commit() returns
 * VSCTL_COMMIT_RETRY).
 *
 * Changes are sent as narrow operations: "insert" for new rows, "update" for
 * columns written as a whole, "mutate" insert/delete for elements added to or
 * removed from set and map columns, "delete" for rows of root tables (rows
 * of non-root tables are left to the server's garbage collection, as OVSDB
 * clients do).
 *
 * Errors that ovs-vsctl reports as fatal (connection failure, transaction
 * error) end the process through fatal().  Single-threaded. */
#ifndef LANYARD_VSCTL_DB_H
#define LANYARD_VSCTL_DB_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hmap.h"
#include "vsctl-data.h"

struct vsctl_column {
    char *name;
    struct vsctl_type type;
    bool mutable;
    size_t idx;                 /* Index in the table's column array. */
};

struct vsctl_table {
    char *name;
    struct vsctl_column *columns;   /* [0] is "_uuid". */
    size_t n_columns;
    bool is_root;
    unsigned int max_rows;
    /* Cache. */
    struct hmap rows;               /* struct vsctl_row by uuid hash. */
    bool all_fetched;
    struct hmap queries;            /* Column/value lookups already done. */
};

struct vsctl_row {
    struct hmap_node node;
    struct uuid uuid;
    struct vsctl_table *table;
    struct vsctl_datum **data;      /* Per column; NULL until loaded. */
    bool *written;                  /* Column changed as a whole. */
    struct vsctl_datum **mut_ins;   /* Elements to add (mutate), or NULL. */
    struct vsctl_datum **mut_del;   /* Keys/elements to remove, or NULL. */
    json_t *verify;                 /* Column name -> value to "wait" for. */
    bool inserted;
    bool deleted;
};

struct vsctl_db;

enum vsctl_commit_status {
    VSCTL_COMMIT_OK,            /* Committed (or nothing to commit). */
    VSCTL_COMMIT_RETRY          /* A precondition failed: start over. */
};

/* Connects to REMOTE (fatal on failure unless RETRY, which keeps trying)
 * and fetches the schema of DB_NAME. */
struct vsctl_db *vsctl_db_open(const char *remote, const char *db_name,
                               bool retry);
void vsctl_db_close(struct vsctl_db *);
/* Forgets cached rows and pending changes (keeps connection and schema). */
void vsctl_db_reset(struct vsctl_db *);

size_t vsctl_db_n_tables(const struct vsctl_db *);
struct vsctl_table *vsctl_db_table_at(struct vsctl_db *, size_t i);
struct vsctl_table *vsctl_db_get_table(struct vsctl_db *, const char *name);
const struct vsctl_column *vsctl_table_get_column(const struct vsctl_table *,
                                                  const char *name);

/* Fetching.  Rows marked deleted are never returned. */
struct vsctl_row *vsctl_db_get_row(struct vsctl_db *, struct vsctl_table *,
                                   const struct uuid *);
/* Rows whose COLUMN equals VALUE (an atom of the column's key type) or, for
 * set columns, includes it.  Returns a malloc'd array (caller frees) of *N
 * rows. */
struct vsctl_row **vsctl_db_find_rows(struct vsctl_db *, struct vsctl_table *,
                                      const char *column,
                                      const union vsctl_atom *value,
                                      size_t *n);
/* Convenience: the one row whose string COLUMN is VALUE, or NULL. */
struct vsctl_row *vsctl_db_find_row_by_string(struct vsctl_db *,
                                              struct vsctl_table *,
                                              const char *column,
                                              const char *value);
/* Loads every row of TABLE; returns a malloc'd array sorted by UUID. */
struct vsctl_row **vsctl_db_all_rows(struct vsctl_db *, struct vsctl_table *,
                                     size_t *n);
/* The row cache order is unspecified; this is all cached live rows. */

/* Column access.  The returned datum belongs to the row. */
const struct vsctl_datum *vsctl_row_get(struct vsctl_db *, struct vsctl_row *,
                                        const struct vsctl_column *);
const struct vsctl_datum *vsctl_row_get_by_name(struct vsctl_db *,
                                                struct vsctl_row *,
                                                const char *column);
/* Single-atom helpers for common scalar columns (NULL/0/false if empty). */
const char *vsctl_row_get_string(struct vsctl_db *, struct vsctl_row *,
                                 const char *column);
bool vsctl_row_get_integer(struct vsctl_db *, struct vsctl_row *,
                           const char *column, long long *out);
bool vsctl_row_get_bool(struct vsctl_db *, struct vsctl_row *,
                        const char *column);
/* Records that the value of COLUMN read now must still hold at commit. */
void vsctl_row_verify(struct vsctl_db *, struct vsctl_row *,
                      const struct vsctl_column *);

/* Changes.  vsctl_row_write takes ownership of DATUM. */
struct vsctl_row *vsctl_db_insert_row(struct vsctl_db *, struct vsctl_table *,
                                      const struct uuid *uuid);
void vsctl_row_write(struct vsctl_db *, struct vsctl_row *,
                     const struct vsctl_column *, struct vsctl_datum *datum);
void vsctl_row_write_by_name(struct vsctl_db *, struct vsctl_row *,
                             const char *column, struct vsctl_datum *datum);
/* Adds KEY (and VALUE, for maps; both copied) to a set or map column, or
 * removes KEY, without reading the column. */
void vsctl_row_add_element(struct vsctl_db *, struct vsctl_row *,
                           const char *column, const union vsctl_atom *key,
                           const union vsctl_atom *value);
void vsctl_row_remove_element(struct vsctl_db *, struct vsctl_row *,
                              const char *column, const union vsctl_atom *key);
void vsctl_row_delete(struct vsctl_db *, struct vsctl_row *);
bool vsctl_db_is_new_uuid(const struct vsctl_db *, const struct uuid *);
bool vsctl_db_has_changes(const struct vsctl_db *);

/* Commits the pending changes.  If BUMP_CFG_ROW is nonnull and there are
 * changes, increments its next_cfg and stores the new value in *NEXT_CFG.
 * COMMENT, if nonnull, is added as a "comment" operation.  DRY_RUN builds
 * the operations but does not send them. */
enum vsctl_commit_status vsctl_db_commit(struct vsctl_db *,
                                         struct vsctl_row *bump_cfg_row,
                                         long long *next_cfg,
                                         const char *comment, bool dry_run);
/* Blocks until Open_vSwitch.cur_cfg >= NEXT_CFG (SIGALRM bounds it). */
void vsctl_db_wait_for_cur_cfg(struct vsctl_db *, long long next_cfg);
/* Blocks until ROW_OK(db, aux) returns true, refetching on every change to
 * TABLE (SIGALRM bounds it). */
void vsctl_db_wait_until(struct vsctl_db *, struct vsctl_table *,
                         bool (*row_ok)(struct vsctl_db *, void *aux),
                         void *aux);

#endif
