/* replica: a client-side copy of one database on an OVSDB server.
 *
 * Connects (and reconnects, with backoff) to a server, fetches the schema,
 * monitors every column of every table (monitor_cond, so that a
 * modification arrives as a difference), and keeps the rows in a local
 * 'struct ovsdb' (lib/ovsdb), applying each "update2" notification in place
 * (lib/ovsdb/ovsdb-update2.h): a difference of a set column costs what the
 * difference holds, not what the set holds.  An update that cannot be
 * applied makes the replica fetch everything again.
 *
 * The owner asks which rows changed since it last looked
 * (replica_take_changes()), and for a modified row what changed in a set
 * column (replica_change_get_diff()), which is what makes incremental
 * reconciliation possible, and may send transactions (replica_transact())
 * whose replies are checked and logged here.  Single-threaded; run/wait
 * pattern. */
#ifndef LANYARD_REPLICA_H
#define LANYARD_REPLICA_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "uuid.h"

struct ovsdb;
struct ovsdb_datum;
struct ovsdb_type;
struct replica;

struct replica_change {
    char *table;                /* Table name. */
    struct uuid uuid;           /* Row inserted, modified or deleted. */
    json_t *modify;             /* A modification: what update2 sent (new
                                 * values of scalar columns, differences of
                                 * set and map columns); else NULL. */
};

struct replica *replica_create(const char *remote, const char *db_name);
void replica_destroy(struct replica *);

void replica_run(struct replica *, long long now);
void replica_wait(struct replica *);

/* True once the initial contents arrived on the current connection. */
bool replica_is_ready(const struct replica *);
bool replica_is_connected(const struct replica *);
/* The local copy, or NULL before the first schema arrived. */
struct ovsdb *replica_get_db(const struct replica *);

/* Moves the rows changed since the last call into *CHANGESP (caller frees
 * with replica_changes_free()).  *RESETP is true if the copy was rebuilt
 * from scratch (first contents or a reconnection): then every row counts as
 * changed and the caller should reconcile everything. */
size_t replica_take_changes(struct replica *, struct replica_change **changesp,
                            bool *resetp);
void replica_changes_free(struct replica_change *, size_t n);

/* If CHANGE is a modification of set or map column COLUMN, stores the
 * elements that joined or left the column (or, for a map, whose value
 * changed) in *DIFF (sorted; caller destroys it with ovsdb_datum_destroy()
 * and *TYPEP, the column's type) and returns true; else returns false. */
bool replica_change_get_diff(const struct replica *,
                             const struct replica_change *,
                             const char *column, struct ovsdb_datum *diff,
                             const struct ovsdb_type **typep);

/* Sends a transaction (OPS: a JSON array of operations, consumed) on the
 * current connection; returns false if not connected.  Failures are
 * logged. */
bool replica_transact(struct replica *, json_t *ops);
/* Transactions sent but not yet answered. */
size_t replica_n_pending(const struct replica *);
/* How many of our transactions have so far failed or were lost unanswered
 * with a connection (which may or may not have committed them): a caller
 * that must see a write through compares it with the count it saw last. */
unsigned long long replica_n_failed(const struct replica *);

#endif
