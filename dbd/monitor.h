/* monitor: one OVSDB monitor of one client session.
 *
 * Covers the RFC 7047 "monitor" (updates as {"old","new"}), the OVS
 * "monitor_cond" extension (update2: "initial"/"insert"/"modify"/"delete",
 * modify carrying only differences, per-table "where" conditions that
 * "monitor_cond_change" can replace) and "monitor_cond_since" (update3, same
 * rows as update2).  The module turns the row changes of a committed
 * transaction into the JSON this monitor must send; sending is the caller's
 * business.  Monitors with the same version, tables, columns and select flags
 * and no conditions share a 'shape', so one transaction is encoded once per
 * distinct shape (see dbd_monitor_shape_*).
 *
 * Ownership: the monitor owns its id JSON and its conditions; it refers to,
 * but does not own, the database (which must outlive it). */
#ifndef LANYARD_DBD_MONITOR_H
#define LANYARD_DBD_MONITOR_H 1

#include <jansson.h>
#include <stdbool.h>

struct ovsdb;
struct ovsdb_error;
struct ovsdb_txn;

enum dbd_monitor_version {
    DBD_MONITOR_V1,             /* "monitor" -> "update" */
    DBD_MONITOR_V2,             /* "monitor_cond" -> "update2" */
    DBD_MONITOR_V3,             /* "monitor_cond_since" -> "update3" */
};

struct dbd_monitor;

/* Parses REQUESTS (the {table: request or [request...]} object) for DB.
 * On success *monitorp is new and *initialp is the initial <table-updates>
 * (or <table-updates2>) the reply carries.  ID is copied. */
struct ovsdb_error *dbd_monitor_create(const struct ovsdb *db, const json_t *id,
                                       enum dbd_monitor_version,
                                       const json_t *requests,
                                       struct dbd_monitor **monitorp,
                                       json_t **initialp);
void dbd_monitor_destroy(struct dbd_monitor *);

const json_t *dbd_monitor_get_id(const struct dbd_monitor *);
enum dbd_monitor_version dbd_monitor_get_version(const struct dbd_monitor *);

/* Replaces the conditions of the tables named in REQUESTS
 * (monitor_cond_change) and the monitor's id with NEW_ID.  *UPDATEP gets the
 * table-updates2 for rows that enter or leave the new conditions, or NULL if
 * none. */
struct ovsdb_error *dbd_monitor_change_conditions(struct dbd_monitor *,
                                                  const json_t *new_id,
                                                  const json_t *requests,
                                                  json_t **updatep);

/* Per-transaction encoding cache, so monitors of the same shape share one
 * encoding: create one per committed transaction, ask each monitor for its
 * update through it, then destroy it. */
struct dbd_monitor_batch;
struct dbd_monitor_batch *dbd_monitor_batch_create(const struct ovsdb_txn *);
/* The <table-updates> this monitor must send for the batch's transaction,
 * or NULL when nothing it watches changed.  The caller gets a reference. */
json_t *dbd_monitor_batch_get_update(struct dbd_monitor_batch *,
                                     struct dbd_monitor *);
void dbd_monitor_batch_destroy(struct dbd_monitor_batch *);

#endif
