/* ovsdb-mutation: RFC 7047 <mutations> for the "mutate" operation.
 *
 * A mutation set is a list of [column, mutator, value] applied in order to
 * one row.  Mutators: "+=", "-=", "*=", "/=" (integer or real columns,
 * elementwise on sets of them), "%=" (integer only), "insert" and "delete"
 * (sets and maps; "delete" on a map takes a set of keys or a map of exact
 * pairs).  The implicit columns and immutable columns cannot be mutated.
 *
 * Execution validates, then commits: on any error (division by zero →
 * "domain error", overflow → "range error", duplicates produced by
 * arithmetic, too many/few elements or a base-type constraint broken →
 * "constraint violation") the row is left exactly as it was.
 * A mutation set references its table schema, which must outlive it.
 * Pure functions, no I/O. */
#ifndef LANYARD_OVSDB_MUTATION_H
#define LANYARD_OVSDB_MUTATION_H 1

#include <jansson.h>
#include <stddef.h>

struct ovsdb_datum;
struct ovsdb_error;
struct ovsdb_symbol_table;
struct ovsdb_table_schema;

enum ovsdb_mutator {
    OVSDB_M_ADD,                /* += */
    OVSDB_M_SUB,                /* -= */
    OVSDB_M_MUL,                /* *= */
    OVSDB_M_DIV,                /* /= */
    OVSDB_M_MOD,                /* %= */
    OVSDB_M_INSERT,
    OVSDB_M_DELETE,
};

const char *ovsdb_mutator_to_string(enum ovsdb_mutator);

struct ovsdb_mutation_set;

/* Parses JSON (an array of mutations) for TABLE; named uuids resolve through
 * SYMTAB (may be NULL).  Errors worded as ovsdb-server does: "unknown column"
 * ("No column X in table T."), "unknown mutator" ("No mutator named M."),
 * "constraint violation" ("Cannot mutate immutable column X in table T."),
 * "syntax error" ("Parse error in mutation.", "Type mismatch: ..."). */
struct ovsdb_error *ovsdb_mutation_set_from_json(
    const struct ovsdb_table_schema *, const json_t *,
    struct ovsdb_symbol_table *, struct ovsdb_mutation_set **setp);
json_t *ovsdb_mutation_set_to_json(const struct ovsdb_mutation_set *);
void ovsdb_mutation_set_destroy(struct ovsdb_mutation_set *);
size_t ovsdb_mutation_set_n(const struct ovsdb_mutation_set *);

/* Applies the mutations to ROW_COLUMNS (the row's datums indexed by column
 * index).  All or nothing: on error ROW_COLUMNS is unchanged. */
struct ovsdb_error *ovsdb_mutation_set_execute(
    const struct ovsdb_mutation_set *, struct ovsdb_datum *row_columns);

/* Sets the bit of every column the set modifies in BITMAP (same layout as
 * ovsdb_condition_mark_columns()). */
void ovsdb_mutation_set_mark_columns(const struct ovsdb_mutation_set *,
                                     unsigned long *bitmap);

#endif
