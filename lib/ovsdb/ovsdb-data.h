/* ovsdb-data: OVSDB atoms and datums (RFC 7047 section 5.1 notation).
 *
 * An atom is one integer, real, boolean, string or uuid.  A datum is the
 * value of a column: a set of atoms, or a map from key atoms to value atoms.
 * Invariant of every datum handed across this API: keys are sorted by
 * ovsdb_atom_compare_3way() and unique, so equality, lookup, union and
 * difference are linear or logarithmic (Bridge.ports can hold 10,000 uuids).
 *
 * Ownership: a datum owns its arrays and its strings; the type that goes
 * with a datum is always passed in (datums do not remember their type).
 * Pure functions, no I/O, not thread-safe per object. */
#ifndef LANYARD_OVSDB_DATA_H
#define LANYARD_OVSDB_DATA_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "ovsdb-types.h"
#include "uuid.h"

struct ds;
struct ovsdb_error;
struct ovsdb_symbol_table;

union ovsdb_atom {
    long long integer;
    double real;
    bool boolean;
    char *string;               /* Owned, NUL-terminated, valid UTF-8. */
    struct uuid uuid;
};

void ovsdb_atom_init_default(union ovsdb_atom *, enum ovsdb_atomic_type);
bool ovsdb_atom_is_default(const union ovsdb_atom *, enum ovsdb_atomic_type);
void ovsdb_atom_clone(union ovsdb_atom *dst, const union ovsdb_atom *src,
                      enum ovsdb_atomic_type);
void ovsdb_atom_destroy(union ovsdb_atom *, enum ovsdb_atomic_type);
int ovsdb_atom_compare_3way(const union ovsdb_atom *, const union ovsdb_atom *,
                            enum ovsdb_atomic_type);
bool ovsdb_atom_equals(const union ovsdb_atom *, const union ovsdb_atom *,
                       enum ovsdb_atomic_type);
uint32_t ovsdb_atom_hash(const union ovsdb_atom *, enum ovsdb_atomic_type,
                         uint32_t basis);

/* Parses JSON into ATOM of BASE's atomic type.  A ["named-uuid", NAME] is
 * resolved through SYMTAB (created there if new); with SYMTAB NULL it is a
 * syntax error.  Does not check BASE's constraints (see below), except
 * that a string must be UTF-8: if not, the error is ovsdb-server's
 * ("constraint violation", or BASE's enum error).  On error *ATOM holds
 * nothing that needs freeing. */
struct ovsdb_error *ovsdb_atom_from_json(union ovsdb_atom *,
                                         const struct ovsdb_base_type *,
                                         const json_t *,
                                         struct ovsdb_symbol_table *);
json_t *ovsdb_atom_to_json(const union ovsdb_atom *, enum ovsdb_atomic_type);
/* Enum membership, integer/real range, string length (in UTF-8 characters):
 * "constraint violation" with details that name the value and the limit. */
struct ovsdb_error *ovsdb_atom_check_constraints(const union ovsdb_atom *,
                                                 const struct ovsdb_base_type *);
/* Appends ATOM as ovs-vsctl prints it: strings bare when they read like an
 * identifier (not "true", "false" or UUID-shaped), else JSON-quoted; reals
 * with 15 significant digits and always a '.' or exponent. */
void ovsdb_atom_to_string(const union ovsdb_atom *, enum ovsdb_atomic_type,
                          struct ds *);
/* True if the LEN bytes at S are well-formed UTF-8 without NUL bytes. */
bool ovsdb_string_is_valid_utf8(const char *s, size_t len);
/* NULL if the LEN bytes at S are well-formed UTF-8, else ovsdb-server's
 * description of the first bad sequence ("invalid UTF-8 sequence 0xed 0xa0");
 * caller frees. */
char *ovsdb_utf8_error(const char *s, size_t len);
/* True if S is an OVSDB <id>: an ASCII letter or '_', then ASCII letters,
 * digits and '_' (what ovsdb-server requires of operation, table, lock and
 * uuid names). */
bool ovsdb_string_is_id(const char *s);
/* A copy of S with every ill-formed sequence replaced by U+FFFD; caller
 * frees.  For text that is kept but is not data (transaction comments). */
char *ovsdb_utf8_sanitize(const char *s);

struct ovsdb_datum {
    unsigned int n;             /* Number of elements (pairs for a map). */
    union ovsdb_atom *keys;     /* n keys, sorted and unique. */
    union ovsdb_atom *values;   /* n values for a map, NULL for a set. */
};

void ovsdb_datum_init_empty(struct ovsdb_datum *);
/* The default value of TYPE: empty if n_min == 0, else the single default
 * atom (0, 0.0, false, "", all-zeros uuid). */
void ovsdb_datum_init_default(struct ovsdb_datum *, const struct ovsdb_type *);
bool ovsdb_datum_is_default(const struct ovsdb_datum *,
                            const struct ovsdb_type *);
void ovsdb_datum_clone(struct ovsdb_datum *dst, const struct ovsdb_datum *src,
                       const struct ovsdb_type *);
void ovsdb_datum_destroy(struct ovsdb_datum *, const struct ovsdb_type *);
void ovsdb_datum_swap(struct ovsdb_datum *, struct ovsdb_datum *);

/* Parses an RFC 7047 <value> (atom, ["set", [...]], ["map", [[k, v]...]])
 * for TYPE.  Checks atom types ("syntax error"), duplicate keys ("ovsdb
 * error", "set contains duplicate" / "map contains duplicate key", as
 * ovsdb-server 3.1 reports them) and the n_min/n_max bounds ("syntax error"),
 * but not base type constraints.  On error *DATUM is left empty. */
struct ovsdb_error *ovsdb_datum_from_json(struct ovsdb_datum *,
                                          const struct ovsdb_type *,
                                          const json_t *,
                                          struct ovsdb_symbol_table *);
/* A one-element set is written as its bare atom, as OVS does. */
json_t *ovsdb_datum_to_json(const struct ovsdb_datum *,
                            const struct ovsdb_type *);
/* Appends the text of ovsdb_datum_to_json()'s value, byte for byte as
 * jsonrpc_text_put() would write it, without building it.  Returns false,
 * OUT unchanged, for a datum whose JSON the slow path alters (a string
 * that is not UTF-8, a non-finite real). */
bool ovsdb_datum_to_text(const struct ovsdb_datum *, const struct ovsdb_type *,
                         struct ds *out);
/* Appends the datum as ovs-vsctl prints it: a scalar as its atom, a set as
 * "[a, b]", a map as "{k=v, k2=v2}". */
void ovsdb_datum_to_string(const struct ovsdb_datum *,
                           const struct ovsdb_type *, struct ds *);
/* Checks every key (and value) against the base type constraints and the
 * element count against n_min/n_max. */
struct ovsdb_error *ovsdb_datum_check_constraints(const struct ovsdb_datum *,
                                                  const struct ovsdb_type *);

bool ovsdb_datum_equals(const struct ovsdb_datum *, const struct ovsdb_datum *,
                        const struct ovsdb_type *);
int ovsdb_datum_compare_3way(const struct ovsdb_datum *,
                             const struct ovsdb_datum *,
                             const struct ovsdb_type *);
uint32_t ovsdb_datum_hash(const struct ovsdb_datum *,
                          const struct ovsdb_type *, uint32_t basis);

/* Index of KEY in DATUM, or UINT_MAX (binary search). */
unsigned int ovsdb_datum_find_key(const struct ovsdb_datum *,
                                  const union ovsdb_atom *key,
                                  enum ovsdb_atomic_type key_type);
/* True if every element (key, or key-value pair for maps) of A is in B. */
bool ovsdb_datum_includes_all(const struct ovsdb_datum *a,
                              const struct ovsdb_datum *b,
                              const struct ovsdb_type *);
/* True if no element of A is in B. */
bool ovsdb_datum_excludes_all(const struct ovsdb_datum *a,
                              const struct ovsdb_datum *b,
                              const struct ovsdb_type *);

/* How many elements A (from index I) and B (from index J) have in common
 * one after the other: a fast, block-wise byte comparison for sets of
 * uuids, where rewriting or mutating a 10,000-member set leaves long equal
 * runs; 0 for other types (callers then compare element by element). */
unsigned int ovsdb_datum_common_run(const struct ovsdb_datum *a, unsigned int i,
                                    const struct ovsdb_datum *b, unsigned int j,
                                    const struct ovsdb_type *);
/* A := A ∪ B.  For maps, a key already in A keeps A's value (RFC 7047
 * "insert" mutation semantics).  Linear merge; A and B may be the same. */
void ovsdb_datum_union(struct ovsdb_datum *a, const struct ovsdb_datum *b,
                       const struct ovsdb_type *);
/* A := A − B.  B has type B_TYPE: for a map A, B may be a set of keys (remove
 * those keys) or a map (remove pairs that match exactly).  Linear merge; A
 * and B may be the same. */
void ovsdb_datum_subtract(struct ovsdb_datum *a, const struct ovsdb_type *a_type,
                          const struct ovsdb_datum *b,
                          const struct ovsdb_type *b_type);
/* Adds one element (KEY, VALUE or NULL) to A, keeping order; if KEY exists,
 * replaces its value when REPLACE.  Takes ownership of KEY and VALUE. */
void ovsdb_datum_add_unsafe(struct ovsdb_datum *a, union ovsdb_atom *key,
                            union ovsdb_atom *value,
                            const struct ovsdb_type *, bool replace);
/* Sorts A's keys and checks they are unique ("ovsdb error" otherwise, worded
 * as ovsdb-server does, without naming the value). */
struct ovsdb_error *ovsdb_datum_sort(struct ovsdb_datum *,
                                     const struct ovsdb_type *);

/* Named uuids ("uuid-name" in insert, ["named-uuid", NAME] in values) of one
 * transaction. */
struct ovsdb_symbol {
    struct hmap_node node;      /* In ovsdb_symbol_table, by name hash. */
    char *name;
    struct uuid uuid;
    bool created;               /* An insert defined this name. */
    bool strong_ref;            /* Referenced by a strong reference. */
    bool weak_ref;              /* Referenced by a weak reference. */
};

struct ovsdb_symbol_table *ovsdb_symbol_table_create(void);
void ovsdb_symbol_table_destroy(struct ovsdb_symbol_table *);
struct ovsdb_symbol *ovsdb_symbol_table_get(const struct ovsdb_symbol_table *,
                                            const char *name);
/* Returns NAME's symbol, creating it with a fresh uuid if new. */
struct ovsdb_symbol *ovsdb_symbol_table_insert(struct ovsdb_symbol_table *,
                                               const char *name);
/* First symbol used but never created, or NULL. */
const struct ovsdb_symbol *ovsdb_symbol_table_find_uncreated(
    const struct ovsdb_symbol_table *);

#endif
