/* vsctl-data: OVSDB types, atoms and datums as lanyard-vsctl needs them.
 *
 * Types come from the server's schema (get_schema), so the tool works with
 * any compatible database.  A datum owns its atoms; strings inside atoms are
 * heap copies owned by the datum.  Sets and maps are kept sorted by key and
 * free of duplicate keys, which is the order OVSDB prints them in.
 *
 * Parsing follows the ovs-vsctl value syntax (atoms, "k=v" maps, [a,b] and
 * {a=b} brackets, quoted strings, backslash escapes, @name references) and
 * returns a malloc'd error message (NULL on success) worded as ovs-vsctl
 * words it.  Nothing here performs I/O. */
#ifndef LANYARD_VSCTL_DATA_H
#define LANYARD_VSCTL_DATA_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ds.h"
#include "uuid.h"

enum vsctl_atype {
    VA_VOID,
    VA_INTEGER,
    VA_REAL,
    VA_BOOLEAN,
    VA_STRING,
    VA_UUID
};

union vsctl_atom {
    long long integer;
    double real;
    bool boolean;
    char *string;
    struct uuid uuid;
};

struct vsctl_datum {
    size_t n;
    union vsctl_atom *keys;
    union vsctl_atom *values;   /* NULL unless the type is a map. */
};

struct vsctl_base_type {
    enum vsctl_atype type;
    bool has_imin, has_imax;
    long long imin, imax;
    bool has_rmin, has_rmax;
    double rmin, rmax;
    unsigned int smin, smax;
    struct vsctl_datum *enumeration;    /* Sorted set, or NULL. */
    char *ref_table;                    /* UUID references, or NULL. */
    bool weak;
};

struct vsctl_type {
    struct vsctl_base_type key;
    struct vsctl_base_type value;       /* VA_VOID for sets and scalars. */
    unsigned int n_min;
    unsigned int n_max;                 /* UINT_MAX when "unlimited". */
};

/* Resolves an "@name" reference to a UUID; returns false if unknown.  The
 * callback may create the binding (for forward references). */
typedef bool vsctl_symbol_resolve_cb(const char *name, struct uuid *uuid,
                                     void *aux);

const char *vsctl_atype_name(enum vsctl_atype);
bool vsctl_type_is_map(const struct vsctl_type *);
bool vsctl_type_is_set(const struct vsctl_type *);
char *vsctl_type_from_json(struct vsctl_type *, const json_t *);
void vsctl_type_destroy(struct vsctl_type *);

void vsctl_atom_destroy(union vsctl_atom *, enum vsctl_atype);
void vsctl_atom_clone(union vsctl_atom *dst, const union vsctl_atom *src,
                      enum vsctl_atype);
int vsctl_atom_compare(const union vsctl_atom *, const union vsctl_atom *,
                       enum vsctl_atype);
char *vsctl_atom_from_string(union vsctl_atom *, const struct vsctl_base_type *,
                             const char *s, vsctl_symbol_resolve_cb *,
                             void *aux);
/* NULL if S is well-formed UTF-8, else OVSDB's description of the first
 * bad sequence ("invalid UTF-8 sequence 0xff"); caller frees. */
char *vsctl_utf8_error(const char *s);

char *vsctl_atom_check_constraints(const union vsctl_atom *,
                                   const struct vsctl_base_type *);
void vsctl_atom_to_string(const union vsctl_atom *, enum vsctl_atype,
                          struct ds *);
void vsctl_atom_to_bare(const union vsctl_atom *, enum vsctl_atype,
                        struct ds *);
bool vsctl_string_needs_quotes(const char *);

void vsctl_datum_init_empty(struct vsctl_datum *);
void vsctl_datum_init_default(struct vsctl_datum *, const struct vsctl_type *);
void vsctl_datum_destroy(struct vsctl_datum *, const struct vsctl_type *);
void vsctl_datum_clone(struct vsctl_datum *dst, const struct vsctl_datum *src,
                       const struct vsctl_type *);
bool vsctl_datum_equals(const struct vsctl_datum *, const struct vsctl_datum *,
                        const struct vsctl_type *);
int vsctl_datum_compare(const struct vsctl_datum *, const struct vsctl_datum *,
                        const struct vsctl_type *);
bool vsctl_datum_is_default(const struct vsctl_datum *,
                            const struct vsctl_type *);
/* Index of KEY in DATUM or SIZE_MAX. */
size_t vsctl_datum_find_key(const struct vsctl_datum *,
                            const union vsctl_atom *key, enum vsctl_atype);
/* Takes ownership of KEY and VALUE (VALUE may be NULL for sets).  If KEY is
 * already present: REPLACE overwrites the value, otherwise the new atoms are
 * freed. */
void vsctl_datum_put(struct vsctl_datum *, const struct vsctl_type *,
                     union vsctl_atom *key, union vsctl_atom *value,
                     bool replace);
void vsctl_datum_remove_index(struct vsctl_datum *, const struct vsctl_type *,
                              size_t idx);
/* A ∪ B (B's existing keys win if REPLACE), A − B (B matched on keys, or on
 * key and value when B_IS_PAIRS), and whether A includes every element of
 * B. */
void vsctl_datum_union(struct vsctl_datum *a, const struct vsctl_datum *b,
                       const struct vsctl_type *, bool replace);
void vsctl_datum_subtract(struct vsctl_datum *a, const struct vsctl_type *a_type,
                          const struct vsctl_datum *b,
                          const struct vsctl_type *b_type);
bool vsctl_datum_includes_all(const struct vsctl_datum *a,
                              const struct vsctl_datum *b,
                              const struct vsctl_type *);

char *vsctl_datum_from_string(struct vsctl_datum *, const struct vsctl_type *,
                              const char *s, vsctl_symbol_resolve_cb *,
                             void *aux);
char *vsctl_datum_check_constraints(const struct vsctl_datum *,
                                    const struct vsctl_type *);
void vsctl_datum_to_string(const struct vsctl_datum *,
                           const struct vsctl_type *, struct ds *);
void vsctl_datum_to_bare(const struct vsctl_datum *,
                         const struct vsctl_type *, struct ds *);

/* JSON (RFC 7047 notation).  NAMED, if nonnull, reports UUIDs that must be
 * sent as ["named-uuid", ...] (rows inserted by this transaction). */
typedef bool vsctl_named_cb(const struct uuid *, void *aux);
json_t *vsctl_atom_to_json(const union vsctl_atom *, enum vsctl_atype,
                           vsctl_named_cb *, void *aux);
json_t *vsctl_datum_to_json(const struct vsctl_datum *,
                            const struct vsctl_type *,
                            vsctl_named_cb *, void *aux);
char *vsctl_datum_from_json(struct vsctl_datum *, const struct vsctl_type *,
                            const json_t *);

/* Splits a token off *P as ovs-vsctl does: a quoted string or text up to one
 * of ":=, []{}!<>", with backslash escapes.  Returns the token (malloc'd) and
 * advances *P, or an error. */
char *vsctl_token_parse(const char **p, char **tokenp);

/* Serialises JSON the way ovs-vsctl does (compact or its pretty layout). */
void vsctl_json_to_ds(const json_t *, bool pretty, struct ds *);
/* Appends S JSON-quoted. */
void vsctl_json_quote(const char *s, struct ds *);

#endif
