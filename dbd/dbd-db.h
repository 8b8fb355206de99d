/* dbd-db: one database a lanyard-dbd serves, with its durable log.
 *
 * Couples the in-memory database (lib/ovsdb) with the on-disk log
 * (lib/storage): opening replays the log (dropping a torn tail with a
 * warning), every committed transaction appends one record, and
 * dbd_db_sync() makes all appended records durable with a single fdatasync
 * (group commit).  Compaction rewrites the file as one snapshot, atomically.
 * The built-in "_Server" database has no log and refuses client writes.
 * Single-threaded. */
#ifndef LANYARD_DBD_DB_H
#define LANYARD_DBD_DB_H 1

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct ovsdb;
struct ovsdb_error;
struct ovsdb_schema;
struct ovsdb_txn;

struct dbd_db;

/* Opens FILE_NAME, creating it with the built-in Open_vSwitch schema if it
 * does not exist.  On failure returns a message naming the file and the
 * problem (caller frees) and *DBP is NULL. */
char *dbd_db_open(const char *file_name, struct dbd_db **dbp);
/* An in-memory database with no log (used for _Server and in tests).
 * Takes ownership of SCHEMA.  RESERVED: clients may not write to it. */
struct dbd_db *dbd_db_create_memory(struct ovsdb_schema *, bool reserved);
void dbd_db_close(struct dbd_db *);

const char *dbd_db_name(const struct dbd_db *);
struct ovsdb *dbd_db_ovsdb(const struct dbd_db *);
bool dbd_db_is_reserved(const struct dbd_db *);
const char *dbd_db_file_name(const struct dbd_db *); /* NULL for memory. */

/* Appends the record for committed TXN to the log buffer (no I/O wait). */
void dbd_db_log_txn(struct dbd_db *, const struct ovsdb_txn *);
/* Writes and fdatasync()s everything appended since the last sync.
 * Returns 0 or a positive errno. */
int dbd_db_sync(struct dbd_db *);
bool dbd_db_needs_sync(const struct dbd_db *);

/* Converts DB online to NEW_SCHEMA (ownership taken; its name must be
 * DB's): the data as ovsdb_convert() makes it, and for a database with a
 * log the file rewritten as the new schema plus one snapshot record (as
 * ovsdb-server does, atomically: a crash leaves the old file or the new).
 * On success DB serves the new database and *OLDP is the old one, which the
 * caller destroys once nothing points into it any more (monitors).  On
 * failure returns the error for the client and DB is unchanged. */
struct ovsdb_error *dbd_db_convert(struct dbd_db *,
                                   struct ovsdb_schema *new_schema,
                                   struct ovsdb **oldp) WARN_UNUSED;

/* Rewrites the log as schema + one snapshot record.  Returns NULL or a
 * message (caller frees); on failure the old file is intact. */
char *dbd_db_compact(struct dbd_db *);
/* True when the log has grown enough since the last compaction that an
 * automatic one is worthwhile (NOW in msec, for rate limiting). */
bool dbd_db_should_compact(const struct dbd_db *, long long now);

#endif
