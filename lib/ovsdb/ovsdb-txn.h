/* ovsdb-txn: RFC 7047 "transact" execution and atomic commit.
 *
 * ovsdb_execute() runs the operations of one transact request against a
 * private delta of the database (the database itself is not touched), then
 * performs every commit-time check on the whole delta: strong references
 * must exist, weak references to missing rows are dropped, unreferenced
 * rows of non-root tables are garbage-collected (with cascades), index
 * uniqueness, maxRows, _version of changed rows.  Only when all of that
 * succeeded does the caller get a transaction, and ovsdb_txn_commit() then
 * applies it without any possibility of failure.  The checks cost
 * O(rows the transaction touched), not O(database).
 *
 * At most one transaction per database may be outstanding between
 * ovsdb_execute() and ovsdb_txn_commit()/ovsdb_txn_abort(): commit or abort
 * it before executing the next request.  Not thread-safe. */
#ifndef LANYARD_OVSDB_TXN_H
#define LANYARD_OVSDB_TXN_H 1

#include <jansson.h>
#include <stdbool.h>

#include "ovsdb.h"

struct ovsdb_error;
struct ovsdb_row;
struct ovsdb_table_schema;

enum ovsdb_exec_status { OVSDB_EXEC_DONE, OVSDB_EXEC_BLOCKED };

struct ovsdb_exec_ctx {
    bool (*has_lock)(const char *lock_name, void *aux); /* For "assert";
                                                         * NULL: no locks. */
    void *aux;
    bool read_only;      /* Backup server: insert/update/mutate/delete fail
                          * with "not allowed". */
    const char *reserved_db; /* Non-NULL: a reserved database (_Server)
                              * of this name; writes fail with "not
                              * allowed ... in reserved database NAME". */
    long long start_msec; /* When the request first arrived (a "wait"
                           * timeout counts from here); 0 means now. */
};

/* OPS is the transact params array after the database name.  On DONE:
 * *resultp = JSON result array (caller owns); *txnp = a txn to commit when
 * the ops changed something and nothing failed, else NULL.  On BLOCKED (a
 * "wait" not yet satisfied and its timeout not expired): *deadlinep =
 * absolute msec of its timeout (LLONG_MAX when none), *resultp and *txnp are
 * NULL; the caller retries the same OPS after the next commit or at the
 * deadline, passing the first attempt's time as ctx->start_msec.  CTX may
 * be NULL (read-write, no locks held). */
enum ovsdb_exec_status ovsdb_execute(struct ovsdb *, const json_t *ops,
                                     const struct ovsdb_exec_ctx *,
                                     long long now_msec,
                                     long long *deadlinep, json_t **resultp,
                                     struct ovsdb_txn **txnp);

/* Applies TXN to its database; cannot fail (everything was validated). */
void ovsdb_txn_commit(struct ovsdb_txn *);
/* Discards an uncommitted TXN and frees it; the database is unchanged. */
void ovsdb_txn_abort(struct ovsdb_txn *);
/* Frees a committed TXN (accepts NULL). */
void ovsdb_txn_destroy(struct ovsdb_txn *);
/* A "commit" operation with "durable": true was part of the request. */
bool ovsdb_txn_is_durable(const struct ovsdb_txn *);
/* The "comment" operations' texts joined by newlines, or NULL. */
const char *ovsdb_txn_get_comment(const struct ovsdb_txn *);

struct ovsdb_row_change {
    const struct ovsdb_table_schema *table;
    const struct uuid *uuid;
    const struct ovsdb_row *old;   /* NULL for insert; still valid after
                                    * commit until txn_destroy. */
    const struct ovsdb_row *new;   /* NULL for delete. */
    const unsigned long *changed;  /* Bitmap by column index (modify only,
                                    * else NULL).  _version is included. */
};

/* Valid after commit until destroy (and before commit, after a successful
 * ovsdb_execute()); order: by table (schema order), then any. */
void ovsdb_txn_for_each_change(const struct ovsdb_txn *,
                               void (*cb)(const struct ovsdb_row_change *,
                                          void *aux),
                               void *aux);

/* --- Transaction engine, used by ovsdb-execute.c and ovsdb-file.c --- */

struct ovsdb_txn *ovsdb_txn_create(struct ovsdb *);
struct ovsdb *ovsdb_txn_get_db(const struct ovsdb_txn *);
void ovsdb_txn_set_durable(struct ovsdb_txn *);
void ovsdb_txn_add_comment(struct ovsdb_txn *, const char *);

/* The row with UUID in TABLE as the transaction sees it, or NULL. */
const struct ovsdb_row *ovsdb_txn_get_row(const struct ovsdb_txn *,
                                          const struct ovsdb_table *,
                                          const struct uuid *);
/* True if UUID names a row of TABLE in the database or one inserted or
 * deleted by the transaction. */
bool ovsdb_txn_uuid_in_use(const struct ovsdb_txn *,
                           const struct ovsdb_table *, const struct uuid *);
/* Calls CB for every row of TABLE as the transaction sees it; CB must not
 * change the transaction (collect first). */
void ovsdb_txn_for_each_row(const struct ovsdb_txn *,
                            const struct ovsdb_table *,
                            void (*cb)(const struct ovsdb_row *, void *aux),
                            void *aux);
/* Calls CB for the new version of every row of TABLE that the transaction
 * inserted or modified. */
void ovsdb_txn_for_each_changed_row(const struct ovsdb_txn *,
                                    const struct ovsdb_table *,
                                    void (*cb)(const struct ovsdb_row *,
                                               void *aux),
                                    void *aux);
/* True if the transaction inserted, modified or deleted row UUID. */
bool ovsdb_txn_row_is_changed(const struct ovsdb_txn *,
                              const struct ovsdb_table *, const struct uuid *);
size_t ovsdb_txn_n_rows(const struct ovsdb_txn *, const struct ovsdb_table *);

/* A new row with UUID (not in use) and default columns, owned by the txn
 * and writable until ovsdb_txn_finish(). */
struct ovsdb_row *ovsdb_txn_insert(struct ovsdb_txn *, struct ovsdb_table *,
                                   const struct uuid *);
/* A writable version of ROW (a row the transaction sees). */
struct ovsdb_row *ovsdb_txn_modify(struct ovsdb_txn *,
                                   const struct ovsdb_row *);
/* Deletes ROW (a row the transaction sees); ROW becomes invalid. */
void ovsdb_txn_delete(struct ovsdb_txn *, const struct ovsdb_row *);

/* Runs the commit-time checks.  On success the txn is ready to commit;
 * ovsdb_txn_is_empty() tells whether it changes anything.  On error the
 * caller must abort it. */
struct ovsdb_error *ovsdb_txn_finish(struct ovsdb_txn *) WARN_UNUSED;
bool ovsdb_txn_is_empty(const struct ovsdb_txn *);

#endif
