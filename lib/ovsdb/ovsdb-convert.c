/* ovsdb-convert: a database's data under a new schema.  See the header. */
#include "ovsdb-convert.h"

#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "util.h"

/* Re-reads VALUE (of OLD_TYPE) in NEW_TYPE into *D, constraints included.
 * Through JSON, as a client would write it, so every conversion ovsdb-server
 * allows (a scalar into a set, a wider range, ...) is allowed here. */
static struct ovsdb_error *
convert_datum(struct ovsdb_datum *d, const struct ovsdb_type *new_type,
              const struct ovsdb_datum *value,
              const struct ovsdb_type *old_type)
{
    json_t *json = ovsdb_datum_to_json(value, old_type);
    struct ovsdb_error *error = ovsdb_datum_from_json(d, new_type, json,
                                                      NULL);
    json_decref(json);
    if (!error) {
        error = ovsdb_datum_check_constraints(d, new_type);
        if (error) {
            ovsdb_datum_destroy(d, new_type);
        }
    }
    return error;
}

static struct ovsdb_error *
convert_row(struct ovsdb_txn *txn, struct ovsdb_table *new_table,
            const struct ovsdb_row *old_row)
{
    const struct ovsdb_table_schema *old_ts = old_row->table->schema;
    const struct ovsdb_table_schema *new_ts = new_table->schema;
    struct ovsdb_row *row = ovsdb_txn_insert(txn, new_table, &old_row->uuid);

    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < old_ts->n_columns;
         i++) {
        const struct ovsdb_column_schema *oc = old_ts->columns[i];
        const struct ovsdb_column_schema *nc
            = ovsdb_table_schema_find_column(new_ts, oc->name);
        if (!nc) {
            continue;
        }
        struct ovsdb_datum d;
        struct ovsdb_error *error = convert_datum(
            &d, &nc->type, &old_row->columns[oc->index], &oc->type);
        if (error) {
            return error;       /* In ovsdb-server's words, no context. */
        }
        ovsdb_datum_swap(&d, &row->columns[nc->index]);
        ovsdb_datum_destroy(&d, &nc->type);
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_convert(const struct ovsdb *old, struct ovsdb_schema *new_schema,
              struct ovsdb **newp)
{
    struct ovsdb *new = ovsdb_create(new_schema);
    struct ovsdb_txn *txn = ovsdb_txn_create(new);
    struct ovsdb_error *error = NULL;

    for (unsigned int t = 0; !error && t < ovsdb_n_tables(old); t++) {
        const struct ovsdb_table *old_table = ovsdb_get_table(old, t);
        struct ovsdb_table *new_table
            = ovsdb_find_table(new, old_table->schema->name);
        if (!new_table) {
            continue;
        }
        const struct ovsdb_row *row;
        OVSDB_TABLE_FOR_EACH_ROW (row, old_table) {
            error = convert_row(txn, new_table, row);
            if (error) {
                break;
            }
        }
    }
    if (!error) {
        error = ovsdb_txn_finish(txn);
    }
    if (error) {
        ovsdb_txn_abort(txn);
        ovsdb_destroy(new);
        *newp = NULL;
        return error;
    }
    ovsdb_txn_commit(txn);
    ovsdb_txn_destroy(txn);
    *newp = new;
    return NULL;
}
