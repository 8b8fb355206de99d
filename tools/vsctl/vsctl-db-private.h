/* vsctl-db-private: what vsctl-db.c (connection, schema, row cache,
 * lookups, monitors) and vsctl-db-txn.c (changes and commit) share.  Not
 * for the command modules, which use vsctl-db.h. */
#ifndef LANYARD_VSCTL_DB_PRIVATE_H
#define LANYARD_VSCTL_DB_PRIVATE_H 1

#include <jansson.h>

#include "vsctl-db.h"

struct jsonrpc;

struct vsctl_db {
    struct jsonrpc *rpc;
    char *remote;               /* The name that connected. */
    char *db_name;
    struct vsctl_table *tables;
    size_t n_tables;
    json_t *preconds;           /* "wait" operations, in order. */
    json_t *notifications;      /* "update" params received, queued. */
    json_t *monitored;          /* Monitor ids of wait-for-change tables. */
    /* The select of the table named like the database sent with
     * get_schema: its request id and result (NULL once used). */
    json_t *prefetch_id, *prefetch;
    json_t *hints;              /* Announced lookups [table, column, value]. */
    bool hints_pending;         /* Some may not have been asked yet. */
    /* Rows inserted by the last commit: provisional and real UUIDs, and
     * their tables. */
    struct uuid *inserted_provisional, *inserted_real;
    const struct vsctl_table **inserted_table;
    size_t n_inserted;
};

/* Sends METHOD(PARAMS) (takes ownership) and returns the "result" of the
 * reply (caller owns); a JSON-RPC error is fatal. */
json_t *vsctl_db_transact(struct vsctl_db *, const char *method,
                          json_t *params);
/* A "select" operation (takes WHERE and COLUMNS). */
json_t *vsctl_db_select_op(const struct vsctl_table *, json_t *where,
                           json_t *columns);
/* The condition [["_uuid", "==", UUID]]. */
json_t *vsctl_db_uuid_where(const struct uuid *);
struct vsctl_row *vsctl_db_cache_lookup(struct vsctl_table *,
                                        const struct uuid *);
/* A cached row for UUID with only "_uuid" loaded. */
struct vsctl_row *vsctl_db_row_create(struct vsctl_table *,
                                      const struct uuid *);
const struct vsctl_column *vsctl_db_must_get_column(
    const struct vsctl_table *, const char *name);
/* Notes that column COLUMN_IDX of ROW is about to change. */
void vsctl_db_mark_dirty(struct vsctl_row *, size_t column_idx);

#endif
