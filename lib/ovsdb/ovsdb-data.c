#include "ovsdb-data.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "hash.h"
#include "jsonrpc-text.h"
#include "ovsdb-error.h"
#include "util.h"

/* --- UTF-8 --- */

/* Length of the well-formed sequence at S[I..LEN), or 0 with *BADP set to
 * how many bytes, from S[I], show that it is not: the first byte alone if it
 * cannot start a sequence, else up to and including the first byte out of
 * range (Unicode's table 3-7, the ranges ovsdb-server checks).  Bytes past
 * LEN read as the NUL that ends a C string, as they do in ovsdb-server. */
static size_t
utf8_sequence_at(const unsigned char *s, size_t len, size_t i, size_t *badp)
{
    static const unsigned char ranges[][4][2] = {
        /* Second, third and fourth bytes after a lead byte in:  */
        { { 0x80, 0xbf } },                              /* C2..DF */
        { { 0xa0, 0xbf }, { 0x80, 0xbf } },              /* E0 */
        { { 0x80, 0xbf }, { 0x80, 0xbf } },              /* E1..EC, EE..EF */
        { { 0x80, 0x9f }, { 0x80, 0xbf } },              /* ED */
        { { 0x90, 0xbf }, { 0x80, 0xbf }, { 0x80, 0xbf } }, /* F0 */
        { { 0x80, 0xbf }, { 0x80, 0xbf }, { 0x80, 0xbf } }, /* F1..F3 */
        { { 0x80, 0x8f }, { 0x80, 0xbf }, { 0x80, 0xbf } }, /* F4 */
    };
    unsigned char c = s[i];
    int row = c < 0x80 ? -1
              : c < 0xc2 ? -2
              : c <= 0xdf ? 0
              : c == 0xe0 ? 1
              : c == 0xed ? 3
              : c <= 0xef ? 2
              : c == 0xf0 ? 4
              : c <= 0xf3 ? 5
              : c == 0xf4 ? 6 : -2;
    if (row == -1) {
        return 1;
    } else if (row == -2) {
        *badp = 1;
        return 0;
    }
    size_t n = 1;
    for (; n < 4 && ranges[row][n - 1][0]; n++) {
        unsigned char b = i + n < len ? s[i + n] : 0;
        if (b < ranges[row][n - 1][0] || b > ranges[row][n - 1][1]) {
            *badp = n + 1;
            return 0;
        }
    }
    return n;
}

/* Returns the number of code points in the LEN bytes at S, or -1 if they are
 * not well-formed UTF-8 (overlong forms, surrogates, code points above
 * U+10FFFF and NUL bytes are all rejected). */
static long long
utf8_length(const char *s_, size_t len)
{
    const unsigned char *s = (const unsigned char *) s_;
    long long n = 0;
    for (size_t i = 0; i < len; n++) {
        size_t bad;
        size_t step = s[i] ? utf8_sequence_at(s, len, i, &bad) : 0;
        if (!step) {
            return -1;
        }
        i += step;
    }
    return n;
}

bool
ovsdb_string_is_valid_utf8(const char *s, size_t len)
{
    return utf8_length(s, len) >= 0;
}

char *
ovsdb_utf8_error(const char *s_, size_t len)
{
    const unsigned char *s = (const unsigned char *) s_;
    for (size_t i = 0; i < len;) {
        size_t bad = 0;
        size_t n = utf8_sequence_at(s, len, i, &bad);
        if (!n) {
            struct ds msg = DS_EMPTY_INITIALIZER;
            ds_put_cstr(&msg, "invalid UTF-8 sequence");
            for (size_t k = 0; k < bad; k++) {
                ds_put_format(&msg, " 0x%02x", i + k < len ? s[i + k] : 0);
            }
            return ds_steal_cstr(&msg);
        }
        i += n;
    }
    return NULL;
}

static bool
is_ascii_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool
ovsdb_string_is_id(const char *s)
{
    if (!is_ascii_alpha(*s) && *s != '_') {
        return false;
    }
    for (s++; *s; s++) {
        if (!is_ascii_alpha(*s) && !(*s >= '0' && *s <= '9') && *s != '_') {
            return false;
        }
    }
    return true;
}

char *
ovsdb_utf8_sanitize(const char *s_)
{
    const unsigned char *s = (const unsigned char *) s_;
    size_t len = strlen(s_);
    struct ds out = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < len;) {
        size_t bad = 0;
        size_t n = utf8_sequence_at(s, len, i, &bad);
        if (n) {
            ds_put_buffer(&out, s_ + i, n);
            i += n;
        } else {
            /* The maximal bad subpart: what was read before the byte that
             * did not fit (at least the lead byte). */
            ds_put_cstr(&out, "\xef\xbf\xbd");
            i += MAX(bad - 1, 1);
        }
    }
    return ds_steal_cstr(&out);
}

/* --- Atoms --- */

void
ovsdb_atom_init_default(union ovsdb_atom *atom, enum ovsdb_atomic_type type)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        atom->integer = 0;
        break;
    case OVSDB_TYPE_REAL:
        atom->real = 0.0;
        break;
    case OVSDB_TYPE_BOOLEAN:
        atom->boolean = false;
        break;
    case OVSDB_TYPE_STRING:
        atom->string = xstrdup("");
        break;
    case OVSDB_TYPE_UUID:
        uuid_zero(&atom->uuid);
        break;
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        memset(atom, 0, sizeof *atom);
        break;
    }
}

bool
ovsdb_atom_is_default(const union ovsdb_atom *atom,
                      enum ovsdb_atomic_type type)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return atom->integer == 0;
    case OVSDB_TYPE_REAL:
        return atom->real == 0.0;
    case OVSDB_TYPE_BOOLEAN:
        return !atom->boolean;
    case OVSDB_TYPE_STRING:
        return atom->string[0] == '\0';
    case OVSDB_TYPE_UUID:
        return uuid_is_zero(&atom->uuid);
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        break;
    }
    return true;
}

void
ovsdb_atom_clone(union ovsdb_atom *dst, const union ovsdb_atom *src,
                 enum ovsdb_atomic_type type)
{
    if (type == OVSDB_TYPE_STRING) {
        dst->string = xstrdup(src->string);
    } else {
        *dst = *src;
    }
}

void
ovsdb_atom_destroy(union ovsdb_atom *atom, enum ovsdb_atomic_type type)
{
    if (type == OVSDB_TYPE_STRING) {
        free(atom->string);
        atom->string = NULL;
    }
}

int
ovsdb_atom_compare_3way(const union ovsdb_atom *a, const union ovsdb_atom *b,
                        enum ovsdb_atomic_type type)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return a->integer < b->integer ? -1 : a->integer > b->integer;
    case OVSDB_TYPE_REAL:
        return a->real < b->real ? -1 : a->real > b->real;
    case OVSDB_TYPE_BOOLEAN:
        return (int) a->boolean - (int) b->boolean;
    case OVSDB_TYPE_STRING: {
        int c = strcmp(a->string, b->string);
        return c < 0 ? -1 : c > 0;
    }
    case OVSDB_TYPE_UUID:
        return uuid_compare_3way(&a->uuid, &b->uuid);
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        break;
    }
    return 0;
}

bool
ovsdb_atom_equals(const union ovsdb_atom *a, const union ovsdb_atom *b,
                  enum ovsdb_atomic_type type)
{
    return !ovsdb_atom_compare_3way(a, b, type);
}

uint32_t
ovsdb_atom_hash(const union ovsdb_atom *atom, enum ovsdb_atomic_type type,
                uint32_t basis)
{
    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return hash_uint64((uint64_t) atom->integer, basis);
    case OVSDB_TYPE_REAL:
        return hash_double(atom->real, basis);
    case OVSDB_TYPE_BOOLEAN:
        return hash_int(atom->boolean, basis);
    case OVSDB_TYPE_STRING:
        return hash_string(atom->string, basis);
    case OVSDB_TYPE_UUID:
        return hash_int(uuid_hash(&atom->uuid), basis);
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        break;
    }
    return basis;
}

static struct ovsdb_error *
uuid_from_json(union ovsdb_atom *atom, const struct ovsdb_base_type *base,
               const json_t *json, struct ovsdb_symbol_table *symtab)
{
    const json_t *tag = json_array_get(json, 0);
    const json_t *arg = json_array_get(json, 1);
    const char *name;

    if (!json_is_array(json) || json_array_size(json) != 2
        || !json_is_string(tag) || !json_is_string(arg)) {
        return ovsdb_syntax_error(json, NULL,
                                  "expected [\"uuid\", <string>]");
    }
    name = json_string_value(tag);
    if (!strcmp(name, "uuid")) {
        if (!uuid_from_string(&atom->uuid, json_string_value(arg))) {
            return ovsdb_syntax_error(json, NULL, "\"%s\" is not a valid UUID",
                                      json_string_value(arg));
        }
        return NULL;
    } else if (!strcmp(name, "named-uuid")) {
        struct ovsdb_symbol *symbol;

        if (!symtab) {
            return ovsdb_syntax_error(json, NULL, "named-uuid is not "
                                      "allowed here");
        }
        if (!ovsdb_string_is_id(json_string_value(arg))) {
            return ovsdb_syntax_error(json, NULL, "named-uuid string is not "
                                      "a valid <id>");
        }
        symbol = ovsdb_symbol_table_insert(symtab, json_string_value(arg));
        atom->uuid = symbol->uuid;
        if (ovsdb_base_type_is_strong_ref(base)) {
            symbol->strong_ref = true;
        } else if (ovsdb_base_type_is_weak_ref(base)) {
            symbol->weak_ref = true;
        }
        return NULL;
    }
    return ovsdb_syntax_error(json, NULL, "expected [\"uuid\", <string>]");
}

static struct ovsdb_error *check_enum(const union ovsdb_atom *,
                                      const struct ovsdb_base_type *);

/* A string from a peer may hold any bytes (jsonrpc-text.h); one that is not
 * UTF-8 never becomes an atom.  The error is ovsdb-server's: its enum check
 * comes first (such a string is in no enum), then the UTF-8 check. */
static struct ovsdb_error *
string_from_json(union ovsdb_atom *atom, const struct ovsdb_base_type *base,
                 const json_t *json)
{
    const char *s = json_string_value(json);
    size_t len = json_string_length(json);

    if (memchr(s, '\0', len)) {
        return ovsdb_error("syntax error", "string contains a NUL byte");
    }
    char *bad = ovsdb_utf8_error(s, len);
    if (!bad) {
        atom->string = xmemdup(s, len + 1);
        return NULL;
    }
    struct ovsdb_error *error;
    if (base->enum_) {
        union ovsdb_atom a = { .string = (char *) s };
        error = check_enum(&a, base);
    } else {
        error = ovsdb_error("constraint violation",
                            "not a valid UTF-8 string: %s", bad);
    }
    free(bad);
    return error;
}

struct ovsdb_error *
ovsdb_atom_from_json(union ovsdb_atom *atom,
                     const struct ovsdb_base_type *base, const json_t *json,
                     struct ovsdb_symbol_table *symtab)
{
    enum ovsdb_atomic_type type = base->type;

    switch (type) {
    case OVSDB_TYPE_INTEGER:
        if (json_is_integer(json)) {
            atom->integer = json_integer_value(json);
            return NULL;
        }
        break;
    case OVSDB_TYPE_REAL:
        if (json_is_number(json)) {
            atom->real = json_number_value(json);
            return NULL;
        }
        break;
    case OVSDB_TYPE_BOOLEAN:
        if (json_is_boolean(json)) {
            atom->boolean = json_is_true(json);
            return NULL;
        }
        break;
    case OVSDB_TYPE_STRING:
        if (json_is_string(json)) {
            return string_from_json(atom, base, json);
        }
        break;
    case OVSDB_TYPE_UUID:
        return uuid_from_json(atom, base, json, symtab);
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        return ovsdb_syntax_error(json, NULL, "void has no atoms");
    }
    return ovsdb_syntax_error(json, NULL, "expected %s",
                              ovsdb_atomic_type_to_string(type));
}

json_t *
ovsdb_atom_to_json(const union ovsdb_atom *atom, enum ovsdb_atomic_type type)
{
    char buf[UUID_LEN + 1];

    switch (type) {
    case OVSDB_TYPE_INTEGER:
        return json_integer(atom->integer);
    case OVSDB_TYPE_REAL:
        return json_real(atom->real);
    case OVSDB_TYPE_BOOLEAN:
        return json_boolean(atom->boolean);
    case OVSDB_TYPE_STRING:
        return ovsdb_json_string(atom->string);
    case OVSDB_TYPE_UUID:
        uuid_to_string(&atom->uuid, buf);
        return json_pack("[ss]", "uuid", buf);
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        break;
    }
    return json_null();
}

/* ovs-vsctl prints a string bare only when it reads like an identifier and
 * cannot be mistaken for a boolean or a UUID. */
static bool
string_needs_quotes(const char *s)
{
    struct uuid uuid;

    if (!isalpha((unsigned char) s[0]) && s[0] != '_') {
        return true;
    }
    for (const char *p = s + 1; *p; p++) {
        unsigned char c = *p;

        if (c >= 0x80 || (!isalnum(c) && c != '_' && c != '-' && c != '.')) {
            return true;
        }
    }
    return !strcmp(s, "true") || !strcmp(s, "false")
           || uuid_from_string(&uuid, s);
}

/* A string that is not UTF-8 (a peer's, named in an error) is quoted with
 * its bytes as they are, as ovsdb-server quotes it. */
static void
put_json_string(struct ds *out, const char *s)
{
    jsonrpc_text_put_string_flags(out, s, strlen(s), JSONRPC_TEXT_VERBATIM);
}

static void
put_real(struct ds *out, double d)
{
    size_t start = out->length;

    ds_put_format(out, "%.*g", DBL_DIG, d);
    /* Keep a real recognisable as one: "1" becomes "1.0". */
    if (strspn(ds_cstr(out) + start, "-0123456789")
        == out->length - start) {
        ds_put_cstr(out, ".0");
    }
}

void
ovsdb_atom_to_string(const union ovsdb_atom *atom,
                     enum ovsdb_atomic_type type, struct ds *out)
{
    char buf[UUID_LEN + 1];

    switch (type) {
    case OVSDB_TYPE_INTEGER:
        ds_put_format(out, "%lld", atom->integer);
        break;
    case OVSDB_TYPE_REAL:
        put_real(out, atom->real);
        break;
    case OVSDB_TYPE_BOOLEAN:
        ds_put_cstr(out, atom->boolean ? "true" : "false");
        break;
    case OVSDB_TYPE_STRING:
        if (string_needs_quotes(atom->string)) {
            put_json_string(out, atom->string);
        } else {
            ds_put_cstr(out, atom->string);
        }
        break;
    case OVSDB_TYPE_UUID:
        uuid_to_string(&atom->uuid, buf);
        ds_put_cstr(out, buf);
        break;
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        break;
    }
}

static char *
atom_to_cstr(const union ovsdb_atom *atom, enum ovsdb_atomic_type type)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ovsdb_atom_to_string(atom, type, &s);
    return ds_steal_cstr(&s);
}

static struct ovsdb_error *
check_enum(const union ovsdb_atom *atom, const struct ovsdb_base_type *base)
{
    struct ovsdb_type enum_type;
    struct ovsdb_error *error;
    struct ds allowed = DS_EMPTY_INITIALIZER;
    char *value;

    if (ovsdb_datum_find_key(base->enum_, atom, base->type) != UINT_MAX) {
        return NULL;
    }
    ovsdb_base_type_enum_type(base, &enum_type);
    ovsdb_datum_to_string(base->enum_, &enum_type, &allowed);
    value = atom_to_cstr(atom, base->type);
    error = ovsdb_error("constraint violation",
                        "%s is not one of the allowed values (%s)",
                        value, ds_cstr(&allowed));
    free(value);
    ds_destroy(&allowed);
    return error;
}

static struct ovsdb_error *
check_integer(long long x, long long min, long long max)
{
    if (x >= min && x <= max) {
        return NULL;
    } else if (min != LLONG_MIN && max != LLONG_MAX) {
        return ovsdb_error("constraint violation", "%lld is not in the "
                           "valid range %lld to %lld (inclusive)",
                           x, min, max);
    } else if (x < min) {
        return ovsdb_error("constraint violation", "%lld is less than "
                           "minimum allowed value %lld", x, min);
    } else {
        return ovsdb_error("constraint violation", "%lld is greater than "
                           "maximum allowed value %lld", x, max);
    }
}

static struct ovsdb_error *
check_real(double x, double min, double max)
{
    struct ds a = DS_EMPTY_INITIALIZER, b = DS_EMPTY_INITIALIZER;
    struct ds c = DS_EMPTY_INITIALIZER;
    struct ovsdb_error *error;

    if (x >= min && x <= max) {
        return NULL;
    }
    put_real(&a, x);
    put_real(&b, min);
    put_real(&c, max);
    if (min != -DBL_MAX && max != DBL_MAX) {
        error = ovsdb_error("constraint violation", "%s is not in the valid "
                            "range %s to %s (inclusive)",
                            ds_cstr(&a), ds_cstr(&b), ds_cstr(&c));
    } else if (x < min) {
        error = ovsdb_error("constraint violation", "%s is less than minimum "
                            "allowed value %s", ds_cstr(&a), ds_cstr(&b));
    } else {
        error = ovsdb_error("constraint violation", "%s is greater than "
                            "maximum allowed value %s",
                            ds_cstr(&a), ds_cstr(&c));
    }
    ds_destroy(&a);
    ds_destroy(&b);
    ds_destroy(&c);
    return error;
}

static struct ovsdb_error *
check_string(const char *s, unsigned int min_len, unsigned int max_len)
{
    long long n;

    if (min_len == 0 && max_len == UINT_MAX) {
        return NULL;
    }
    n = utf8_length(s, strlen(s));
    if (n < min_len) {
        return ovsdb_error("constraint violation", "\"%s\" length %lld is "
                           "less than minimum allowed length %u",
                           s, n, min_len);
    } else if (n > max_len) {
        return ovsdb_error("constraint violation", "\"%s\" length %lld is "
                           "greater than maximum allowed length %u",
                           s, n, max_len);
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_atom_check_constraints(const union ovsdb_atom *atom,
                             const struct ovsdb_base_type *base)
{
    if (base->enum_) {
        return check_enum(atom, base);
    }
    switch (base->type) {
    case OVSDB_TYPE_INTEGER:
        return check_integer(atom->integer, base->u.integer.min,
                             base->u.integer.max);
    case OVSDB_TYPE_REAL:
        return check_real(atom->real, base->u.real.min, base->u.real.max);
    case OVSDB_TYPE_STRING:
        return check_string(atom->string, base->u.string.min_len,
                            base->u.string.max_len);
    case OVSDB_TYPE_BOOLEAN:
    case OVSDB_TYPE_UUID:
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        break;
    }
    return NULL;
}

/* --- Datums --- */

void
ovsdb_datum_init_empty(struct ovsdb_datum *d)
{
    d->n = 0;
    d->keys = NULL;
    d->values = NULL;
}

void
ovsdb_datum_init_default(struct ovsdb_datum *d, const struct ovsdb_type *type)
{
    ovsdb_datum_init_empty(d);
    if (type->n_min) {
        d->n = 1;
        d->keys = xmalloc(sizeof *d->keys);
        ovsdb_atom_init_default(&d->keys[0], type->key.type);
        if (ovsdb_type_is_map(type)) {
            d->values = xmalloc(sizeof *d->values);
            ovsdb_atom_init_default(&d->values[0], type->value.type);
        }
    }
}

bool
ovsdb_datum_is_default(const struct ovsdb_datum *d,
                       const struct ovsdb_type *type)
{
    if (!type->n_min) {
        return d->n == 0;
    }
    return d->n == 1
           && ovsdb_atom_is_default(&d->keys[0], type->key.type)
           && (!ovsdb_type_is_map(type)
               || ovsdb_atom_is_default(&d->values[0], type->value.type));
}

static union ovsdb_atom *
clone_atoms(const union ovsdb_atom *src, unsigned int n,
            enum ovsdb_atomic_type type)
{
    union ovsdb_atom *dst;

    if (!n || type == OVSDB_TYPE_VOID) {
        return NULL;
    }
    dst = xmalloc(n * sizeof *dst);
    if (type == OVSDB_TYPE_STRING) {
        for (unsigned int i = 0; i < n; i++) {
            dst[i].string = xstrdup(src[i].string);
        }
    } else {
        memcpy(dst, src, n * sizeof *dst);
    }
    return dst;
}

void
ovsdb_datum_clone(struct ovsdb_datum *dst, const struct ovsdb_datum *src,
                  const struct ovsdb_type *type)
{
    dst->n = src->n;
    dst->keys = clone_atoms(src->keys, src->n, type->key.type);
    dst->values = ovsdb_type_is_map(type)
                  ? clone_atoms(src->values, src->n, type->value.type)
                  : NULL;
}

static void
free_atoms(union ovsdb_atom *atoms, unsigned int n,
           enum ovsdb_atomic_type type)
{
    if (atoms && type == OVSDB_TYPE_STRING) {
        for (unsigned int i = 0; i < n; i++) {
            free(atoms[i].string);
        }
    }
    free(atoms);
}

void
ovsdb_datum_destroy(struct ovsdb_datum *d, const struct ovsdb_type *type)
{
    if (d) {
        free_atoms(d->keys, d->n, type->key.type);
        free_atoms(d->values, d->n, type->value.type);
        ovsdb_datum_init_empty(d);
    }
}

void
ovsdb_datum_swap(struct ovsdb_datum *a, struct ovsdb_datum *b)
{
    struct ovsdb_datum tmp = *a;

    *a = *b;
    *b = tmp;
}

/* The byte comparison below is exact only if a uuid fills the atom. */
_Static_assert(sizeof(union ovsdb_atom) == sizeof(struct uuid),
               "a uuid atom has no padding");

unsigned int
ovsdb_datum_common_run(const struct ovsdb_datum *a, unsigned int i,
                       const struct ovsdb_datum *b, unsigned int j,
                       const struct ovsdb_type *type)
{
    if (type->key.type != OVSDB_TYPE_UUID || ovsdb_type_is_map(type)
        || i >= a->n || j >= b->n) {
        return 0;
    }
    enum { BLOCK = 64 };
    const union ovsdb_atom *x = a->keys + i, *y = b->keys + j;
    unsigned int max = MIN(a->n - i, b->n - j), n = 0;
    while (max - n >= BLOCK && !memcmp(x + n, y + n, BLOCK * sizeof *x)) {
        n += BLOCK;
    }
    while (n < max && uuid_equals(&x[n].uuid, &y[n].uuid)) {
        n++;
    }
    return n;
}

struct sort_aux {
    enum ovsdb_atomic_type key_type;
};

struct pair {
    union ovsdb_atom key;
    union ovsdb_atom value;
};

static int
compare_pairs(const void *a_, const void *b_, void *aux_)
{
    const struct pair *a = a_, *b = b_;
    const struct sort_aux *aux = aux_;

    return ovsdb_atom_compare_3way(&a->key, &b->key, aux->key_type);
}

static int
compare_atoms(const void *a, const void *b, void *aux_)
{
    const struct sort_aux *aux = aux_;

    return ovsdb_atom_compare_3way(a, b, aux->key_type);
}

/* Number of leading keys of D already in order (ties included). */
static unsigned int
sorted_prefix(const struct ovsdb_datum *d, enum ovsdb_atomic_type key_type)
{
    unsigned int i = 1;
    while (i < d->n
           && ovsdb_atom_compare_3way(&d->keys[i - 1], &d->keys[i],
                                      key_type) <= 0) {
        i++;
    }
    return i;
}

/* Sorts a set whose first K keys are in order: clients send back the sets
 * they read, in our order, plus a few new members, so sorting only the
 * tail and merging keeps a 10,000-member rewrite linear. */
static void
sort_set(struct ovsdb_datum *d, unsigned int k, struct sort_aux *aux)
{
    unsigned int n = d->n;
    qsort_r(d->keys + k, n - k, sizeof *d->keys, compare_atoms, aux);
    if (ovsdb_atom_compare_3way(&d->keys[k - 1], &d->keys[k],
                                aux->key_type) <= 0) {
        return;                 /* The runs are already in order. */
    }
    union ovsdb_atom *head = xmemdup(d->keys, k * sizeof *d->keys);
    unsigned int i = 0, j = k, o = 0;
    while (i < k && j < n) {
        if (ovsdb_atom_compare_3way(&head[i], &d->keys[j], aux->key_type) <= 0) {
            d->keys[o++] = head[i++];
        } else {
            d->keys[o++] = d->keys[j++];
        }
    }
    while (i < k) {
        d->keys[o++] = head[i++];
    }
    free(head);
}

static void
sort_atoms(struct ovsdb_datum *d, const struct ovsdb_type *type)
{
    struct sort_aux aux = { type->key.type };

    if (d->n < 2) {
        return;
    }
    unsigned int k = sorted_prefix(d, type->key.type);
    if (k == d->n) {
        return;
    }
    if (!ovsdb_type_is_map(type)) {
        sort_set(d, k, &aux);
        return;
    }

    struct pair *pairs = xmalloc(d->n * sizeof *pairs);

    for (unsigned int i = 0; i < d->n; i++) {
        pairs[i].key = d->keys[i];
        pairs[i].value = d->values[i];
    }
    qsort_r(pairs, d->n, sizeof *pairs, compare_pairs, &aux);
    for (unsigned int i = 0; i < d->n; i++) {
        d->keys[i] = pairs[i].key;
        d->values[i] = pairs[i].value;
    }
    free(pairs);
}

struct ovsdb_error *
ovsdb_datum_sort(struct ovsdb_datum *d, const struct ovsdb_type *type)
{
    sort_atoms(d, type);
    for (unsigned int i = 1; i < d->n; i++) {
        if (ovsdb_atom_equals(&d->keys[i - 1], &d->keys[i], type->key.type)) {
            /* Worded as ovsdb-server does (it does not name the value). */
            return ovsdb_error("ovsdb error", ovsdb_type_is_map(type)
                               ? "map contains duplicate key"
                               : "set contains duplicate");
        }
    }
    return NULL;
}

/* Parses the elements of a ["set", [...]] or ["map", [...]] into D. */
static struct ovsdb_error *
parse_elements(struct ovsdb_datum *d, const struct ovsdb_type *type,
               const json_t *elems, struct ovsdb_symbol_table *symtab)
{
    bool is_map = ovsdb_type_is_map(type);
    size_t n = json_array_size(elems);

    d->keys = n ? xmalloc(n * sizeof *d->keys) : NULL;
    d->values = n && is_map ? xmalloc(n * sizeof *d->values) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(elems, i);
        const json_t *k = e, *v = NULL;
        struct ovsdb_error *error;

        if (is_map) {
            if (!json_is_array(e) || json_array_size(e) != 2) {
                return ovsdb_syntax_error(e, NULL,
                                          "expected 2-element array");
            }
            k = json_array_get(e, 0);
            v = json_array_get(e, 1);
        }
        error = ovsdb_atom_from_json(&d->keys[d->n], &type->key, k, symtab);
        if (!error && is_map) {
            error = ovsdb_atom_from_json(&d->values[d->n], &type->value, v,
                                         symtab);
            if (error) {
                ovsdb_atom_destroy(&d->keys[d->n], type->key.type);
            }
        }
        if (error) {
            return error;
        }
        d->n++;
    }
    return NULL;
}

static bool
is_tagged_array(const json_t *json, const char *tag)
{
    const json_t *first = json_array_get(json, 0);

    return json_is_array(json) && json_is_string(first)
           && !strcmp(json_string_value(first), tag);
}

struct ovsdb_error *
ovsdb_datum_from_json(struct ovsdb_datum *d, const struct ovsdb_type *type,
                      const json_t *json, struct ovsdb_symbol_table *symtab)
{
    bool is_map = ovsdb_type_is_map(type);
    const char *tag = is_map ? "map" : "set";
    struct ovsdb_error *error;
    const json_t *elems;
    size_t n;

    ovsdb_datum_init_empty(d);
    if (!is_map && !is_tagged_array(json, "set")) {
        d->keys = xmalloc(sizeof *d->keys);
        error = ovsdb_atom_from_json(&d->keys[0], &type->key, json, symtab);
        if (error) {
            free(d->keys);
            d->keys = NULL;
            return error;
        }
        d->n = 1;
        return NULL;
    }
    if (!is_tagged_array(json, tag) || json_array_size(json) != 2
        || !json_is_array(json_array_get(json, 1))) {
        return ovsdb_syntax_error(json, NULL, "expected [\"%s\", <array>]",
                                  tag);
    }
    elems = json_array_get(json, 1);
    n = json_array_size(elems);
    if (n < type->n_min || n > type->n_max) {
        if (type->n_min == type->n_max) {
            return ovsdb_syntax_error(json, NULL, "%s must have exactly one "
                                      "member but %zu are present", tag, n);
        }
        return ovsdb_syntax_error(json, NULL, "%s must have %u to %u members "
                                  "but %zu are present",
                                  tag, type->n_min, type->n_max, n);
    }
    error = parse_elements(d, type, elems, symtab);
    if (!error) {
        error = ovsdb_datum_sort(d, type);
    }
    if (error) {
        ovsdb_datum_destroy(d, type);
    }
    return error;
}

static json_t *
atoms_to_json_array(const struct ovsdb_datum *d, const struct ovsdb_type *type)
{
    json_t *elems = json_array();

    for (unsigned int i = 0; i < d->n; i++) {
        json_t *k = ovsdb_atom_to_json(&d->keys[i], type->key.type);

        if (ovsdb_type_is_map(type)) {
            json_t *v = ovsdb_atom_to_json(&d->values[i], type->value.type);
            json_t *pair = json_array();

            json_array_append_new(pair, k);
            json_array_append_new(pair, v);
            json_array_append_new(elems, pair);
        } else {
            json_array_append_new(elems, k);
        }
    }
    return elems;
}

json_t *
ovsdb_datum_to_json(const struct ovsdb_datum *d, const struct ovsdb_type *type)
{
    json_t *j;

    if (!ovsdb_type_is_map(type) && d->n == 1) {
        return ovsdb_atom_to_json(&d->keys[0], type->key.type);
    }
    j = json_array();
    json_array_append_new(j, json_string(ovsdb_type_is_map(type)
                                         ? "map" : "set"));
    json_array_append_new(j, atoms_to_json_array(d, type));
    return j;
}

static bool
atom_to_text(const union ovsdb_atom *atom, enum ovsdb_atomic_type type,
             struct ds *out)
{
    char buf[UUID_LEN + 1];

    switch (type) {
    case OVSDB_TYPE_INTEGER:
        jsonrpc_text_put_integer(out, atom->integer);
        return true;
    case OVSDB_TYPE_REAL:
        if (!isfinite(atom->real)) {
            return false;
        }
        jsonrpc_text_put_real(out, atom->real);
        return true;
    case OVSDB_TYPE_BOOLEAN:
        ds_put_cstr(out, atom->boolean ? "true" : "false");
        return true;
    case OVSDB_TYPE_STRING:
        return jsonrpc_text_put_string(out, atom->string,
                                       strlen(atom->string));
    case OVSDB_TYPE_UUID:
        uuid_to_string(&atom->uuid, buf);
        ds_put_buffer(out, "[\"uuid\",\"", 9);
        ds_put_buffer(out, buf, UUID_LEN);
        ds_put_buffer(out, "\"]", 2);
        return true;
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
        break;
    }
    ds_put_cstr(out, "null");
    return true;
}

bool
ovsdb_datum_to_text(const struct ovsdb_datum *d, const struct ovsdb_type *type,
                    struct ds *out)
{
    size_t start = out->length;
    bool is_map = ovsdb_type_is_map(type);
    bool ok = true;

    if (!is_map && d->n == 1) {
        ok = atom_to_text(&d->keys[0], type->key.type, out);
    } else {
        ds_put_cstr(out, is_map ? "[\"map\",[" : "[\"set\",[");
        for (unsigned int i = 0; ok && i < d->n; i++) {
            if (i) {
                ds_put_char(out, ',');
            }
            if (is_map) {
                ds_put_char(out, '[');
                ok = atom_to_text(&d->keys[i], type->key.type, out);
                ds_put_char(out, ',');
                ok = ok && atom_to_text(&d->values[i], type->value.type, out);
                ds_put_char(out, ']');
            } else {
                ok = atom_to_text(&d->keys[i], type->key.type, out);
            }
        }
        ds_put_cstr(out, "]]");
    }
    if (!ok) {
        ds_truncate(out, start);
    }
    return ok;
}

void
ovsdb_datum_to_string(const struct ovsdb_datum *d,
                      const struct ovsdb_type *type, struct ds *out)
{
    bool is_map = ovsdb_type_is_map(type);

    if (ovsdb_type_is_scalar(type) && d->n == 1) {
        ovsdb_atom_to_string(&d->keys[0], type->key.type, out);
        return;
    }
    ds_put_char(out, is_map ? '{' : '[');
    for (unsigned int i = 0; i < d->n; i++) {
        if (i) {
            ds_put_cstr(out, ", ");
        }
        ovsdb_atom_to_string(&d->keys[i], type->key.type, out);
        if (is_map) {
            ds_put_char(out, '=');
            ovsdb_atom_to_string(&d->values[i], type->value.type, out);
        }
    }
    ds_put_char(out, is_map ? '}' : ']');
}

struct ovsdb_error *
ovsdb_datum_check_constraints(const struct ovsdb_datum *d,
                              const struct ovsdb_type *type)
{
    struct ovsdb_error *error;

    if (d->n < type->n_min || d->n > type->n_max) {
        char *english = ovsdb_type_to_english(type);

        error = ovsdb_error("constraint violation",
                            "Attempted to store %u elements in %s.",
                            d->n, english);
        free(english);
        return error;
    }
    for (unsigned int i = 0; i < d->n; i++) {
        error = ovsdb_atom_check_constraints(&d->keys[i], &type->key);
        if (!error && ovsdb_type_is_map(type)) {
            error = ovsdb_atom_check_constraints(&d->values[i], &type->value);
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

static int
compare_atom_arrays(const union ovsdb_atom *a, const union ovsdb_atom *b,
                    unsigned int n, enum ovsdb_atomic_type type)
{
    for (unsigned int i = 0; i < n; i++) {
        int c = ovsdb_atom_compare_3way(&a[i], &b[i], type);

        if (c) {
            return c;
        }
    }
    return 0;
}

int
ovsdb_datum_compare_3way(const struct ovsdb_datum *a,
                         const struct ovsdb_datum *b,
                         const struct ovsdb_type *type)
{
    int c;

    if (a->n != b->n) {
        return a->n < b->n ? -1 : 1;
    }
    c = compare_atom_arrays(a->keys, b->keys, a->n, type->key.type);
    if (!c && ovsdb_type_is_map(type)) {
        c = compare_atom_arrays(a->values, b->values, a->n, type->value.type);
    }
    return c;
}

bool
ovsdb_datum_equals(const struct ovsdb_datum *a, const struct ovsdb_datum *b,
                   const struct ovsdb_type *type)
{
    if (a->n != b->n) {
        return false;
    }
    if (ovsdb_datum_common_run(a, 0, b, 0, type) == a->n && a->n) {
        return true;            /* Byte-equal uuid sets ("wait" on ports). */
    }
    return !ovsdb_datum_compare_3way(a, b, type);
}

uint32_t
ovsdb_datum_hash(const struct ovsdb_datum *d, const struct ovsdb_type *type,
                 uint32_t basis)
{
    uint32_t hash = basis;

    for (unsigned int i = 0; i < d->n; i++) {
        hash = ovsdb_atom_hash(&d->keys[i], type->key.type, hash);
        if (ovsdb_type_is_map(type)) {
            hash = ovsdb_atom_hash(&d->values[i], type->value.type, hash);
        }
    }
    return hash_int(d->n, hash);
}

/* Index of the first key in D[LO, n) that is >= KEY. */
static unsigned int
lower_bound(const struct ovsdb_datum *d, unsigned int lo,
            const union ovsdb_atom *key, enum ovsdb_atomic_type type)
{
    unsigned int hi = d->n;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;

        if (ovsdb_atom_compare_3way(&d->keys[mid], key, type) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

unsigned int
ovsdb_datum_find_key(const struct ovsdb_datum *d, const union ovsdb_atom *key,
                     enum ovsdb_atomic_type key_type)
{
    unsigned int i = lower_bound(d, 0, key, key_type);

    return (i < d->n && ovsdb_atom_equals(&d->keys[i], key, key_type)
            ? i : UINT_MAX);
}

/* Counts the elements of A that are in B, stopping early once the answer to
 * the caller is known (STOP_AT_FIRST_HIT / STOP_AT_FIRST_MISS).  When A is
 * much smaller than B, binary search beats a full merge. */
static unsigned int
count_common(const struct ovsdb_datum *a, const struct ovsdb_datum *b,
             const struct ovsdb_type *type, bool stop_at_hit,
             bool stop_at_miss)
{
    bool small = (unsigned long long) a->n * 32 < b->n;
    bool is_map = ovsdb_type_is_map(type);
    unsigned int hits = 0, j = 0;

    for (unsigned int i = 0; i < a->n; i++) {
        const union ovsdb_atom *k = &a->keys[i];
        bool hit;

        if (small) {
            j = lower_bound(b, j, k, type->key.type);
        } else {
            while (j < b->n && ovsdb_atom_compare_3way(&b->keys[j], k,
                                                       type->key.type) < 0) {
                j++;
            }
        }
        hit = (j < b->n
               && ovsdb_atom_equals(&b->keys[j], k, type->key.type)
               && (!is_map || ovsdb_atom_equals(&b->values[j], &a->values[i],
                                                type->value.type)));
        if (hit) {
            hits++;
            if (stop_at_hit) {
                break;
            }
        } else if (stop_at_miss) {
            break;
        }
    }
    return hits;
}

bool
ovsdb_datum_includes_all(const struct ovsdb_datum *a,
                         const struct ovsdb_datum *b,
                         const struct ovsdb_type *type)
{
    return a->n <= b->n && count_common(a, b, type, false, true) == a->n;
}

bool
ovsdb_datum_excludes_all(const struct ovsdb_datum *a,
                         const struct ovsdb_datum *b,
                         const struct ovsdb_type *type)
{
    return count_common(a, b, type, true, false) == 0;
}

void
ovsdb_datum_union(struct ovsdb_datum *a, const struct ovsdb_datum *b,
                  const struct ovsdb_type *type)
{
    bool is_map = ovsdb_type_is_map(type);
    enum ovsdb_atomic_type kt = type->key.type, vt = type->value.type;
    union ovsdb_atom *keys, *values = NULL;
    unsigned int i = 0, j = 0, n = 0;

    if (!b->n || a == b) {
        return;
    }
    if (b->n <= 8 && a->n > 64) {
        /* A few new members into a big set ("mutate" of Bridge.ports):
         * binary search and memmove instead of comparing every element. */
        for (unsigned int k = 0; k < b->n; k++) {
            union ovsdb_atom key, value;
            ovsdb_atom_clone(&key, &b->keys[k], kt);
            if (is_map) {
                ovsdb_atom_clone(&value, &b->values[k], vt);
            }
            ovsdb_datum_add_unsafe(a, &key, is_map ? &value : NULL, type,
                                   false);
        }
        return;
    }
    keys = xmalloc((a->n + b->n) * sizeof *keys);
    if (is_map) {
        values = xmalloc((a->n + b->n) * sizeof *values);
    }
    while (i < a->n || j < b->n) {
        int c = (i >= a->n ? 1 : j >= b->n ? -1
                 : ovsdb_atom_compare_3way(&a->keys[i], &b->keys[j], kt));

        if (c <= 0) {
            keys[n] = a->keys[i];
            if (is_map) {
                values[n] = a->values[i];
            }
            i++;
            j += c == 0;
        } else {
            ovsdb_atom_clone(&keys[n], &b->keys[j], kt);
            if (is_map) {
                ovsdb_atom_clone(&values[n], &b->values[j], vt);
            }
            j++;
        }
        n++;
    }
    free(a->keys);
    free(a->values);
    a->keys = keys;
    a->values = values;
    a->n = n;
}

void
ovsdb_datum_subtract(struct ovsdb_datum *a, const struct ovsdb_type *a_type,
                     const struct ovsdb_datum *b,
                     const struct ovsdb_type *b_type)
{
    bool a_map = ovsdb_type_is_map(a_type);
    bool pairs = a_map && ovsdb_type_is_map(b_type);
    enum ovsdb_atomic_type kt = a_type->key.type, vt = a_type->value.type;
    unsigned int j = 0, n = 0;

    if (a == b) {
        /* The merge below would read atoms it has just freed. */
        ovsdb_datum_destroy(a, a_type);
        return;
    }
    for (unsigned int i = 0; i < a->n; i++) {
        bool drop;

        while (j < b->n
               && ovsdb_atom_compare_3way(&b->keys[j], &a->keys[i], kt) < 0) {
            j++;
        }
        drop = (j < b->n && ovsdb_atom_equals(&b->keys[j], &a->keys[i], kt)
                && (!pairs || ovsdb_atom_equals(&b->values[j], &a->values[i],
                                                vt)));
        if (drop) {
            ovsdb_atom_destroy(&a->keys[i], kt);
            if (a_map) {
                ovsdb_atom_destroy(&a->values[i], vt);
            }
        } else {
            a->keys[n] = a->keys[i];
            if (a_map) {
                a->values[n] = a->values[i];
            }
            n++;
        }
    }
    a->n = n;
    if (!n) {
        free(a->keys);
        free(a->values);
        ovsdb_datum_init_empty(a);
    }
}

void
ovsdb_datum_add_unsafe(struct ovsdb_datum *a, union ovsdb_atom *key,
                       union ovsdb_atom *value, const struct ovsdb_type *type,
                       bool replace)
{
    bool is_map = ovsdb_type_is_map(type);
    unsigned int i = lower_bound(a, 0, key, type->key.type);

    if (i < a->n && ovsdb_atom_equals(&a->keys[i], key, type->key.type)) {
        ovsdb_atom_destroy(key, type->key.type);
        if (is_map && value) {
            if (replace) {
                ovsdb_atom_destroy(&a->values[i], type->value.type);
                a->values[i] = *value;
            } else {
                ovsdb_atom_destroy(value, type->value.type);
            }
        }
        return;
    }
    a->keys = xrealloc(a->keys, (a->n + 1) * sizeof *a->keys);
    memmove(&a->keys[i + 1], &a->keys[i], (a->n - i) * sizeof *a->keys);
    a->keys[i] = *key;
    if (is_map) {
        a->values = xrealloc(a->values, (a->n + 1) * sizeof *a->values);
        memmove(&a->values[i + 1], &a->values[i],
                (a->n - i) * sizeof *a->values);
        if (value) {
            a->values[i] = *value;
        } else {
            ovsdb_atom_init_default(&a->values[i], type->value.type);
        }
    }
    a->n++;
}

/* --- Symbol table --- */

struct ovsdb_symbol_table {
    struct hmap symbols;
};

struct ovsdb_symbol_table *
ovsdb_symbol_table_create(void)
{
    struct ovsdb_symbol_table *symtab = xmalloc(sizeof *symtab);

    hmap_init(&symtab->symbols);
    return symtab;
}

void
ovsdb_symbol_table_destroy(struct ovsdb_symbol_table *symtab)
{
    struct ovsdb_symbol *symbol;

    if (!symtab) {
        return;
    }
    HMAP_FOR_EACH_POP (symbol, node, &symtab->symbols) {
        free(symbol->name);
        free(symbol);
    }
    hmap_destroy(&symtab->symbols);
    free(symtab);
}

struct ovsdb_symbol *
ovsdb_symbol_table_get(const struct ovsdb_symbol_table *symtab,
                       const char *name)
{
    struct ovsdb_symbol *symbol;

    HMAP_FOR_EACH_WITH_HASH (symbol, node, hash_string(name, 0),
                             &symtab->symbols) {
        if (!strcmp(symbol->name, name)) {
            return symbol;
        }
    }
    return NULL;
}

struct ovsdb_symbol *
ovsdb_symbol_table_insert(struct ovsdb_symbol_table *symtab, const char *name)
{
    struct ovsdb_symbol *symbol = ovsdb_symbol_table_get(symtab, name);

    if (!symbol) {
        symbol = xzalloc(sizeof *symbol);
        symbol->name = xstrdup(name);
        uuid_generate(&symbol->uuid);
        hmap_insert(&symtab->symbols, &symbol->node, hash_string(name, 0));
    }
    return symbol;
}

const struct ovsdb_symbol *
ovsdb_symbol_table_find_uncreated(const struct ovsdb_symbol_table *symtab)
{
    const struct ovsdb_symbol *symbol;

    HMAP_FOR_EACH (symbol, node, &symtab->symbols) {
        if (!symbol->created) {
            return symbol;
        }
    }
    return NULL;
}
