/* ovsdb-update2: applies a server's <table-updates2> (monitor_cond) to a
 * client's copy of the database.
 *
 * A client copy does not need what a transaction gives the server
 * (integrity checks, reference counts, garbage collection: the server has
 * done them before it sent the update), so rows are changed in place, and a
 * "modify" of a set or map column applies the difference element by
 * element: adding one port to a bridge of 10,000 costs a binary search and
 * one move inside the array instead of copying the row and merging two
 * 10,000-element sets.  Rows of a copy kept this way have n_refs 0 and no
 * weak-reference bookkeeping: do not run transactions on it.
 *
 * Pure library: errors are returned, nothing is printed. */
#ifndef LANYARD_OVSDB_UPDATE2_H
#define LANYARD_OVSDB_UPDATE2_H 1

#include <jansson.h>

#include "uuid.h"

struct ovsdb;
struct ovsdb_datum;
struct ovsdb_error;
struct ovsdb_table;
struct ovsdb_type;

enum ovsdb_update2_kind {
    OVSDB_UPDATE2_INSERT,       /* "initial" or "insert". */
    OVSDB_UPDATE2_MODIFY,
    OVSDB_UPDATE2_DELETE,
};

/* Called for each row that UPDATES changes, after the change.  For a
 * modification ROW_JSON is the update's <row> (the new values of scalar
 * columns, the differences of set and map columns), else NULL. */
typedef void ovsdb_update2_cb(const struct ovsdb_table *,
                              const struct uuid *, enum ovsdb_update2_kind,
                              const json_t *row_json, void *aux);

/* Applies UPDATES, a <table-updates2> object, to DB, calling CB (may be
 * NULL) for every row changed.  A row's update is checked whole before it
 * is applied, but on error the rows before it stay changed: the caller
 * must then get the contents again (resynchronise). */
struct ovsdb_error *ovsdb_update2_apply(struct ovsdb *db,
                                        const json_t *updates,
                                        ovsdb_update2_cb *cb, void *aux);

/* Parses DIFF_JSON, the difference that a "modify" sent for a set or map
 * column of TYPE (elements added or removed, any number of them), into
 * *DIFF (sorted; caller destroys it with ovsdb_datum_destroy()). */
struct ovsdb_error *ovsdb_update2_parse_diff(struct ovsdb_datum *diff,
                                             const struct ovsdb_type *type,
                                             const json_t *diff_json);

/* Applies difference DIFF of a set or map column of TYPE to D in place:
 * an element of DIFF that D lacks is added, one that D has is removed,
 * except that a map key D has with another value gets DIFF's value. */
void ovsdb_update2_apply_diff(struct ovsdb_datum *d,
                              const struct ovsdb_datum *diff,
                              const struct ovsdb_type *type);

#endif
