/* ovsdb-condition: RFC 7047 <where> conditions on one table's rows.
 *
 * A condition is the conjunction of its clauses.  Each clause compares one
 * column of the row with a constant datum: ==, != (any column), <, <=, >,
 * >= (integer or real columns holding at most one value; an empty optional
 * value never satisfies them), includes, excludes (the constant is a subset
 * of / disjoint from the column's value).  As an OVS extension (used by
 * monitor_cond) a clause may also be the literal true or false.  An empty
 * condition is true.  The implicit columns _uuid and _version may be used.
 *
 * A row is given as the array of its datums indexed by column index
 * (ovsdb_table_schema.columns).  A condition references its table schema,
 * which must outlive it.  Pure functions, no I/O. */
#ifndef LANYARD_OVSDB_CONDITION_H
#define LANYARD_OVSDB_CONDITION_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ovsdb_datum;
struct ovsdb_error;
struct ovsdb_symbol_table;
struct ovsdb_table_schema;
struct uuid;

enum ovsdb_function {
    OVSDB_F_FALSE,              /* Literal false. */
    OVSDB_F_TRUE,               /* Literal true. */
    OVSDB_F_EQ,
    OVSDB_F_NE,
    OVSDB_F_LT,
    OVSDB_F_LE,
    OVSDB_F_GT,
    OVSDB_F_GE,
    OVSDB_F_INCLUDES,
    OVSDB_F_EXCLUDES,
};

/* "==", "<", "includes"... (NULL for the literals). */
const char *ovsdb_function_to_string(enum ovsdb_function);

struct ovsdb_condition;

/* Parses JSON (an array of clauses) for TABLE.  Named uuids in values are
 * resolved through SYMTAB (may be NULL: then they are errors).  Errors, as
 * ovsdb-server words them: "unknown column" ("No column X in table T."),
 * "unknown function" ("No function named F."), "syntax error" (malformed
 * clause, value of the wrong type, or an ordering function on a column that
 * is not an optional/scalar integer or real). */
struct ovsdb_error *ovsdb_condition_from_json(
    const struct ovsdb_table_schema *, const json_t *,
    struct ovsdb_symbol_table *, struct ovsdb_condition **condp);
/* The always-true (empty) condition for TABLE. */
struct ovsdb_condition *ovsdb_condition_create_true(
    const struct ovsdb_table_schema *);
json_t *ovsdb_condition_to_json(const struct ovsdb_condition *);
void ovsdb_condition_destroy(struct ovsdb_condition *);

bool ovsdb_condition_evaluate(const struct ovsdb_condition *,
                              const struct ovsdb_datum *row_columns);

/* True if every row satisfies the condition (no clauses, or only literal
 * true clauses) / if no row can (a literal false clause). */
bool ovsdb_condition_is_true(const struct ovsdb_condition *);
bool ovsdb_condition_is_false(const struct ovsdb_condition *);
size_t ovsdb_condition_n_clauses(const struct ovsdb_condition *);

/* Sets the bit of every column the condition reads in BITMAP (unsigned long
 * words indexed by column index, the layout of ovsdb_bitmap_* in ovsdb.h;
 * it must hold the table's n_columns bits). */
void ovsdb_condition_mark_columns(const struct ovsdb_condition *,
                                  unsigned long *bitmap);

/* Fast paths for the executor.  If the condition has a clause
 * [COLUMN, "==", VALUE] on column COLUMN_IDX, returns VALUE (first such
 * clause), else NULL.  Only rows whose column equals VALUE can match, so a
 * hash index on the column narrows the search; the caller still evaluates
 * the whole condition on each candidate row. */
const struct ovsdb_datum *ovsdb_condition_find_eq(
    const struct ovsdb_condition *, unsigned int column_idx);
/* Same for ["_uuid", "==", ["uuid", X]]: stores X and returns true. */
bool ovsdb_condition_get_uuid_eq(const struct ovsdb_condition *,
                                 struct uuid *);

#endif
