/* ovsdb-types: OVSDB column types (RFC 7047 section 3.2 <type>, <base-type>).
 *
 * A column type is a key base type, an optional value base type (maps) and
 * the min/max number of elements.  Base types carry constraints: an enum (a
 * set datum of allowed atoms), integer/real ranges, string length limits,
 * and for uuids a reference to another table (strong or weak).  Types are
 * plain values owned by their schema; pure functions, no I/O. */
#ifndef LANYARD_OVSDB_TYPES_H
#define LANYARD_OVSDB_TYPES_H 1

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

struct ovsdb_datum;
struct ovsdb_error;
struct ovsdb_table_schema;

enum ovsdb_atomic_type {
    OVSDB_TYPE_VOID,            /* No value (only for a set's value type). */
    OVSDB_TYPE_INTEGER,
    OVSDB_TYPE_REAL,
    OVSDB_TYPE_BOOLEAN,
    OVSDB_TYPE_STRING,
    OVSDB_TYPE_UUID,
    OVSDB_N_TYPES
};

enum ovsdb_ref_type {
    OVSDB_REF_STRONG,
    OVSDB_REF_WEAK
};

#define OVSDB_UNLIMITED UINT_MAX   /* n_max of an "unlimited" column. */

struct ovsdb_base_type {
    enum ovsdb_atomic_type type;
    struct ovsdb_datum *enum_;  /* NULL, or a set of the allowed atoms. */
    union {
        struct { long long min, max; } integer;    /* LLONG_MIN..LLONG_MAX */
        struct { double min, max; } real;          /* -DBL_MAX..DBL_MAX */
        struct { unsigned int min_len, max_len; } string; /* UINT_MAX = none */
        struct {
            char *ref_table_name;       /* NULL if not a reference. */
            const struct ovsdb_table_schema *ref_table; /* Resolved by schema. */
            enum ovsdb_ref_type ref_type;
        } uuid;
    } u;
};

struct ovsdb_type {
    struct ovsdb_base_type key;
    struct ovsdb_base_type value;   /* type == OVSDB_TYPE_VOID for sets. */
    unsigned int n_min;             /* 0 or 1. */
    unsigned int n_max;             /* >= 1, or OVSDB_UNLIMITED. */
};

const char *ovsdb_atomic_type_to_string(enum ovsdb_atomic_type);
bool ovsdb_atomic_type_from_string(const char *, enum ovsdb_atomic_type *);

void ovsdb_base_type_init(struct ovsdb_base_type *, enum ovsdb_atomic_type);
void ovsdb_base_type_clone(struct ovsdb_base_type *dst,
                           const struct ovsdb_base_type *src);
void ovsdb_base_type_destroy(struct ovsdb_base_type *);
bool ovsdb_base_type_is_ref(const struct ovsdb_base_type *);
bool ovsdb_base_type_is_strong_ref(const struct ovsdb_base_type *);
bool ovsdb_base_type_is_weak_ref(const struct ovsdb_base_type *);
bool ovsdb_base_type_has_constraints(const struct ovsdb_base_type *);
struct ovsdb_error *ovsdb_base_type_from_json(struct ovsdb_base_type *,
                                              const json_t *);
json_t *ovsdb_base_type_to_json(const struct ovsdb_base_type *);
/* Drops the enum, ranges, length limits and reference (keeps the type). */
void ovsdb_base_type_clear_constraints(struct ovsdb_base_type *);
/* The type of BASE's enum datum: a set (1 or more) of BASE's atomic type
 * without constraints.  Shallow: needs no destroy. */
void ovsdb_base_type_enum_type(const struct ovsdb_base_type *,
                               struct ovsdb_type *enum_type);

void ovsdb_type_init(struct ovsdb_type *);    /* A scalar integer. */
void ovsdb_type_clone(struct ovsdb_type *dst, const struct ovsdb_type *src);
void ovsdb_type_destroy(struct ovsdb_type *);
struct ovsdb_error *ovsdb_type_from_json(struct ovsdb_type *, const json_t *);
json_t *ovsdb_type_to_json(const struct ovsdb_type *);
/* "integer", "set of up to 1 integers", "map of (string, string) pairs"...
 * as used in OVS error messages; caller frees. */
char *ovsdb_type_to_english(const struct ovsdb_type *);
bool ovsdb_type_is_valid(const struct ovsdb_type *);

static inline bool
ovsdb_type_is_map(const struct ovsdb_type *t)
{
    return t->value.type != OVSDB_TYPE_VOID;
}

static inline bool
ovsdb_type_is_scalar(const struct ovsdb_type *t)
{
    return t->n_min == 1 && t->n_max == 1 && !ovsdb_type_is_map(t);
}

static inline bool
ovsdb_type_is_optional(const struct ovsdb_type *t)
{
    return t->n_min == 0;
}

static inline bool
ovsdb_type_is_set(const struct ovsdb_type *t)
{
    return !ovsdb_type_is_map(t) && (t->n_min != 1 || t->n_max != 1);
}

#endif
