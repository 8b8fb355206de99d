/* ovsdb-convert: a database's data under a new schema (the OVS "convert"
 * method, online schema conversion).
 *
 * Every table of the new schema that the old database also has receives the
 * old rows, with their UUIDs; in each row every column that the new table
 * also has keeps its value, re-read in the new column's type (so a widened
 * type keeps everything, and a narrowed one must still hold every value);
 * columns and tables that the new schema drops disappear, new ones start
 * with their defaults.  The result must pass the usual commit-time checks
 * (references, indexes, row limits): the conversion is all or nothing.
 *
 * Pure function, no I/O. */
#ifndef LANYARD_OVSDB_CONVERT_H
#define LANYARD_OVSDB_CONVERT_H 1

struct ovsdb;
struct ovsdb_error;
struct ovsdb_schema;

/* Builds in *NEWP a new database with NEW_SCHEMA (ownership taken, also on
 * error) holding OLD's data converted as described above.  Returns NULL, or
 * the first problem (the value's error, in ovsdb-server's words, without
 * context) with *NEWP NULL; OLD is never changed. */
struct ovsdb_error *ovsdb_convert(const struct ovsdb *old,
                                  struct ovsdb_schema *new_schema,
                                  struct ovsdb **newp)
    __attribute__((warn_unused_result));

#endif
