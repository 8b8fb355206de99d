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

struct vsctl_dirty_index;

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
    /* Rows this transaction inserted or changed: the only ones whose
     * values may differ from what the server's answers said. */
    struct vsctl_row **dirty;
    size_t n_dirty, allocated_dirty;
    struct vsctl_dirty_index **dirty_indexes;   /* Per column, or NULL. */
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
    bool persist_uuid;              /* Insert with "uuid": keep our UUID. */
    bool send_always;               /* Changes are sent even if no-ops. */
    bool dirty;                     /* In its table's 'dirty' array... */
    size_t dirty_pos;               /* ...at this index. */
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
/* Announces that VALUE will be looked up in COLUMN of T during this run.
 * The first lookup that has to ask the server asks all announced ones in
 * the same transaction, so a command line naming many rows costs one round
 * trip instead of one per name.  Announcements outlive vsctl_db_reset(). */
void vsctl_db_hint_lookup(struct vsctl_db *, struct vsctl_table *,
                          const char *column, const union vsctl_atom *value);
/* Convenience: the one row whose string COLUMN is VALUE, or NULL. */
struct vsctl_row *vsctl_db_find_row_by_string(struct vsctl_db *,
                                              struct vsctl_table *,
                                              const char *column,
                                              const char *value);
/* Loads every row of TABLE; returns a malloc'd array sorted by UUID. */
struct vsctl_row **vsctl_db_all_rows(struct vsctl_db *, struct vsctl_table *,
                                     size_t *n);
/* Like vsctl_db_all_rows(), but reads only COLUMNS (NULL-terminated) of every
 * row, for commands that report on a whole table but need few of its
 * columns; other columns still load on demand, row by row. */
struct vsctl_row **vsctl_db_load_columns(struct vsctl_db *,
                                         struct vsctl_table *,
                                         const char *const *columns,
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
/* Makes the commit send ROW's changes even if they only repeat current
 * values (ovs-vsctl never drops its partial set and map updates). */
void vsctl_row_send_always(struct vsctl_db *, struct vsctl_row *);
bool vsctl_db_is_new_uuid(const struct vsctl_db *, const struct uuid *);
/* Makes the inserted ROW keep its UUID on the server (RFC 7047 extension
 * "uuid" in "insert", as "create --id=UUID" needs). */
void vsctl_db_set_persistent_uuid(struct vsctl_db *, struct vsctl_row *);
/* After a commit: the server's UUIDs of the rows it inserted into T, as a
 * malloc'd array of *N. */
struct uuid *vsctl_db_inserted_uuids(const struct vsctl_db *,
                                     const struct vsctl_table *, size_t *n);
/* Reads COLUMNS (a JSON array of names, taken) of the rows of T with UUIDS
 * in one transaction; returns one "rows" array per UUID (caller owns). */
json_t *vsctl_db_read_rows(struct vsctl_db *, const struct vsctl_table *,
                           const struct uuid *uuids, size_t n,
                           json_t *columns);
/* After a commit: the UUID the server gave the row inserted as PROVISIONAL.
 * Returns false if PROVISIONAL was not inserted by the last commit. */
bool vsctl_db_get_real_uuid(const struct vsctl_db *,
                            const struct uuid *provisional,
                            struct uuid *real);
bool vsctl_db_has_changes(const struct vsctl_db *);

/* Commits the pending changes.  *CHANGED says whether they alter the
 * database: changes that only repeat current values are not sent at all (as
 * ovs-vsctl does).  If BUMP_CFG_ROW is nonnull and something changes,
 * increments its next_cfg and stores the new value in *NEXT_CFG.
 * COMMENT, if nonnull, is added as a "comment" operation.  DRY_RUN builds
 * the operations but does not send them. */
enum vsctl_commit_status vsctl_db_commit(struct vsctl_db *,
                                         struct vsctl_row *bump_cfg_row,
                                         long long *next_cfg,
                                         const char *comment, bool dry_run,
                                         bool *changed);
/* Blocks until Open_vSwitch.cur_cfg >= NEXT_CFG (SIGALRM bounds it). */
void vsctl_db_wait_for_cur_cfg(struct vsctl_db *, long long next_cfg);
/* Returns after the next change to table T (the first call for T only
 * starts watching it and returns at once).  For commands that must wait
 * for the database to reach some state: the caller starts over after it. */
void vsctl_db_wait_for_change(struct vsctl_db *, struct vsctl_table *t);

#endif
