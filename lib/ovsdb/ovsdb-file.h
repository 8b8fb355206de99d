/* ovsdb-file: contents of the records of an OVS "standalone" database file.
 *
 * A record is one JSON object: {"<Table>": {"<uuid>": <row> or null, ...},
 * ..., "_date": <ms>, "_comment": "...", "_is_diff": true}.  An inserted row
 * lists its non-default columns; a modified row lists only its changed
 * columns, where a set or map column that may hold more than one element is
 * written as the difference from the old value (elements to toggle; for maps
 * added/changed pairs with their new value and removed pairs), exactly as
 * ovsdb-server >= 2.15 writes them ("_is_diff": true), and other columns as
 * their new value; null deletes the row.  Ephemeral columns are never
 * written.  Values use RFC 7047 notation (references as ["uuid", "..."]).
 *
 * This module only builds and applies the JSON; the byte framing ("OVSDB
 * JSON <len> <sha1>") and the schema record belong to the storage layer.
 * Pure functions, no I/O. */
#ifndef LANYARD_OVSDB_FILE_H
#define LANYARD_OVSDB_FILE_H 1

#include <jansson.h>

struct ovsdb;
struct ovsdb_error;
struct ovsdb_txn;

/* The record for TXN (executed and finished; committed or not), or NULL if
 * it changes nothing that is written to disk (only ephemeral columns).
 * Caller owns the result. */
json_t *ovsdb_txn_to_file_json(const struct ovsdb_txn *, long long wall_msec);

/* Appends to OUT the text of the record ovsdb_txn_to_file_json() builds,
 * the same bytes jsonrpc_text_put() would write for it, without building
 * the JSON (the per-transaction cost of the log).  Returns the number of
 * rows written; 0 (OUT unchanged) if the record would be NULL; -1 (OUT
 * unchanged) if a value has no text of its own (see ovsdb_datum_to_text()),
 * in which case use ovsdb_txn_to_file_json(). */
struct ds;
int ovsdb_txn_to_file_text(const struct ovsdb_txn *, long long wall_msec,
                           struct ds *out);

/* One record that inserts every row of DB (a compaction snapshot). */
json_t *ovsdb_to_file_json(const struct ovsdb *, long long wall_msec);

/* Applies RECORD to DB as one transaction (with the usual commit-time
 * checks).  Accepts records with or without "_is_diff", ignores other
 * members whose names begin with "_".  On error DB is unchanged. */
struct ovsdb_error *ovsdb_file_replay(struct ovsdb *, const json_t *record)
    __attribute__((warn_unused_result));

#endif
