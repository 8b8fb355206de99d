/* vsctl-data: see vsctl-data.h. */
#include "vsctl-data.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

const char *
vsctl_atype_name(enum vsctl_atype t)
{
    switch (t) {
    case VA_INTEGER: return "integer";
    case VA_REAL: return "real";
    case VA_BOOLEAN: return "boolean";
    case VA_STRING: return "string";
    case VA_UUID: return "uuid";
    case VA_VOID: break;
    }
    return "void";
}

bool
vsctl_type_is_map(const struct vsctl_type *t)
{
    return t->value.type != VA_VOID;
}

bool
vsctl_type_is_set(const struct vsctl_type *t)
{
    return t->value.type == VA_VOID && t->n_max > 1;
}

/* ---- Types from the schema. ---- */

static enum vsctl_atype
atype_from_name(const char *s)
{
    static const char *names[] = { "void", "integer", "real", "boolean",
                                   "string", "uuid" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(s, names[i])) {
            return (enum vsctl_atype) i;
        }
    }
    return VA_VOID;
}

static char *
base_type_from_json(struct vsctl_base_type *b, const json_t *j)
{
    memset(b, 0, sizeof *b);
    b->smax = UINT_MAX;
    if (json_is_string(j)) {
        b->type = atype_from_name(json_string_value(j));
        return b->type == VA_VOID ? xstrdup("bad atomic type") : NULL;
    }
    if (!json_is_object(j)) {
        return xstrdup("bad base type");
    }
    const json_t *t = json_object_get(j, "type");
    if (!json_is_string(t)) {
        return xstrdup("base type lacks \"type\"");
    }
    b->type = atype_from_name(json_string_value(t));
    if (b->type == VA_VOID) {
        return xstrdup("bad atomic type");
    }
    const json_t *v;
    if (json_is_integer(v = json_object_get(j, "minInteger"))) {
        b->has_imin = true;
        b->imin = json_integer_value(v);
    }
    if (json_is_integer(v = json_object_get(j, "maxInteger"))) {
        b->has_imax = true;
        b->imax = json_integer_value(v);
    }
    if (json_is_number(v = json_object_get(j, "minReal"))) {
        b->has_rmin = true;
        b->rmin = json_number_value(v);
    }
    if (json_is_number(v = json_object_get(j, "maxReal"))) {
        b->has_rmax = true;
        b->rmax = json_number_value(v);
    }
    if (json_is_integer(v = json_object_get(j, "minLength"))) {
        b->smin = (unsigned int) json_integer_value(v);
    }
    if (json_is_integer(v = json_object_get(j, "maxLength"))) {
        b->smax = (unsigned int) json_integer_value(v);
    }
    if (json_is_string(v = json_object_get(j, "refTable"))) {
        b->ref_table = xstrdup(json_string_value(v));
        const json_t *rt = json_object_get(j, "refType");
        b->weak = json_is_string(rt) && !strcmp(json_string_value(rt), "weak");
    }
    if ((v = json_object_get(j, "enum")) != NULL) {
        struct vsctl_type et = { .n_min = 0, .n_max = UINT_MAX };
        et.key = *b;
        et.key.enumeration = NULL;
        et.key.ref_table = NULL;
        b->enumeration = xmalloc(sizeof *b->enumeration);
        char *err = vsctl_datum_from_json(b->enumeration, &et, v);
        if (err) {
            free(b->enumeration);
            b->enumeration = NULL;
            return err;
        }
    }
    return NULL;
}

static void
base_type_destroy(struct vsctl_base_type *b)
{
    if (b->enumeration) {
        struct vsctl_type et = { .key = *b, .n_max = UINT_MAX };
        et.value.type = VA_VOID;
        vsctl_datum_destroy(b->enumeration, &et);
        free(b->enumeration);
        b->enumeration = NULL;
    }
    free(b->ref_table);
    b->ref_table = NULL;
}

char *
vsctl_type_from_json(struct vsctl_type *t, const json_t *j)
{
    memset(t, 0, sizeof *t);
    t->n_min = t->n_max = 1;
    if (json_is_string(j)) {
        return base_type_from_json(&t->key, j);
    }
    if (!json_is_object(j)) {
        return xstrdup("bad column type");
    }
    char *err = base_type_from_json(&t->key, json_object_get(j, "key"));
    if (err) {
        return err;
    }
    const json_t *v = json_object_get(j, "value");
    if (v && (err = base_type_from_json(&t->value, v)) != NULL) {
        return err;
    }
    if (json_is_integer(v = json_object_get(j, "min"))) {
        t->n_min = (unsigned int) json_integer_value(v);
    }
    v = json_object_get(j, "max");
    if (json_is_integer(v)) {
        t->n_max = (unsigned int) json_integer_value(v);
    } else if (json_is_string(v) && !strcmp(json_string_value(v), "unlimited")) {
        t->n_max = UINT_MAX;
    }
    return NULL;
}

void
vsctl_type_destroy(struct vsctl_type *t)
{
    base_type_destroy(&t->key);
    base_type_destroy(&t->value);
}

/* ---- Atoms. ---- */

void
vsctl_atom_destroy(union vsctl_atom *a, enum vsctl_atype t)
{
    if (t == VA_STRING) {
        free(a->string);
        a->string = NULL;
    }
}

void
vsctl_atom_clone(union vsctl_atom *dst, const union vsctl_atom *src,
                 enum vsctl_atype t)
{
    *dst = *src;
    if (t == VA_STRING) {
        dst->string = xstrdup(src->string);
    }
}

int
vsctl_atom_compare(const union vsctl_atom *a, const union vsctl_atom *b,
                   enum vsctl_atype t)
{
    switch (t) {
    case VA_INTEGER:
        return a->integer < b->integer ? -1 : a->integer > b->integer;
    case VA_REAL:
        return a->real < b->real ? -1 : a->real > b->real;
    case VA_BOOLEAN:
        return (int) a->boolean - (int) b->boolean;
    case VA_STRING: {
        int c = strcmp(a->string, b->string);
        return c < 0 ? -1 : c > 0;
    }
    case VA_UUID:
        return uuid_compare_3way(&a->uuid, &b->uuid);
    case VA_VOID:
        break;
    }
    return 0;
}

/* Reads the 4 hex digits of a \\u escape at P into *C. */
static char *
parse_4hex(const char *p, const char *end, unsigned int *c)
{
    *c = 0;
    for (int i = 0; i < 4; i++) {
        if (p + i >= end || !isxdigit((unsigned char) p[i])) {
            return xstrdup("malformed \\u escape");
        }
        *c = *c * 16 + (isdigit((unsigned char) p[i])
                        ? p[i] - '0' : (tolower((unsigned char) p[i]) - 'a' + 10));
    }
    return *c ? NULL
              : xstrdup("null bytes not supported in quoted strings");
}

static void
put_utf8(struct ds *out, unsigned int c)
{
    if (c < 0x80) {
        ds_put_char(out, c);
    } else if (c < 0x800) {
        ds_put_char(out, 0xc0 | (c >> 6));
        ds_put_char(out, 0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        ds_put_char(out, 0xe0 | (c >> 12));
        ds_put_char(out, 0x80 | ((c >> 6) & 0x3f));
        ds_put_char(out, 0x80 | (c & 0x3f));
    } else {
        ds_put_char(out, 0xf0 | (c >> 18));
        ds_put_char(out, 0x80 | ((c >> 12) & 0x3f));
        ds_put_char(out, 0x80 | ((c >> 6) & 0x3f));
        ds_put_char(out, 0x80 | (c & 0x3f));
    }
}

/* Decodes the body of a JSON string (IN, LEN bytes, without the quotes)
 * into *OUTP (malloc'd).  Returns NULL or an error worded as OVSDB words
 * it.  Code points are not validated here: the UTF-8 check of the
 * constraints reports lone surrogates. */
static char *
json_unescape(const char *in, size_t len, char **outp)
{
    const char *end = in + len;
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error = NULL;
    *outp = NULL;
    while (!error && in < end) {
        char c = *in++;
        if (c == '"') {
            error = xstrdup("quoted string may not include unescaped \"");
            break;
        } else if (c != '\\') {
            ds_put_char(&out, c);
            continue;
        }
        c = in < end ? *in++ : '\0';
        switch (c) {
        case '"': case '\\': case '/': ds_put_char(&out, c); break;
        case 'b': ds_put_char(&out, '\b'); break;
        case 'f': ds_put_char(&out, '\f'); break;
        case 'n': ds_put_char(&out, '\n'); break;
        case 'r': ds_put_char(&out, '\r'); break;
        case 't': ds_put_char(&out, '\t'); break;
        case 'u': {
            unsigned int c0, c1;
            if (in + 4 > end) {
                error = xstrdup("quoted string ends within \\u escape");
            } else if (!(error = parse_4hex(in, end, &c0))) {
                in += 4;
                if (c0 < 0xd800 || c0 > 0xdbff) {
                    put_utf8(&out, c0);
                } else if (in + 2 > end || in[0] != '\\' || in[1] != 'u') {
                    error = xstrdup("malformed escaped surrogate pair");
                } else if (!(error = parse_4hex(in + 2, end, &c1))) {
                    in += 6;
                    if (c1 < 0xdc00 || c1 > 0xdfff) {
                        error = xstrdup("second half of escaped surrogate "
                                        "pair is not trailing surrogate");
                    } else {
                        put_utf8(&out, 0x10000 + ((c0 - 0xd800) << 10)
                                       + (c1 - 0xdc00));
                    }
                }
            }
            break;
        }
        default:
            error = xasprintf("bad escape \\%c", c);
            break;
        }
    }
    if (error) {
        ds_destroy(&out);
        return error;
    }
    *outp = out.string ? ds_steal_cstr(&out) : xstrdup("");
    return NULL;
}

static bool
parse_integer(const char *s, long long *out)
{
    char *end;
    if (!*s || isspace((unsigned char) *s)) {
        return false;
    }
    errno = 0;
    *out = strtoll(s, &end, 10);
    return !errno && !*end;
}

char *
vsctl_atom_from_string(union vsctl_atom *a, const struct vsctl_base_type *b,
                       const char *s, vsctl_symbol_resolve_cb *symbol, void *aux)
{
    memset(a, 0, sizeof *a);
    switch (b->type) {
    case VA_INTEGER:
        if (!parse_integer(s, &a->integer)) {
            return xasprintf("\"%s\" is not a valid integer or range", s);
        }
        break;
    case VA_REAL: {
        char *end;
        errno = 0;
        a->real = strtod(s, &end);
        if (!*s || *end || errno == ERANGE || !isfinite(a->real)) {
            return xasprintf("\"%s\" is not a valid real number", s);
        }
        break;
    }
    case VA_BOOLEAN:
        if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")
            || !strcmp(s, "1")) {
            a->boolean = true;
        } else if (!strcmp(s, "false") || !strcmp(s, "no")
                   || !strcmp(s, "off") || !strcmp(s, "0")) {
            a->boolean = false;
        } else {
            return xasprintf("\"%s\" is not a valid boolean "
                             "(use \"true\" or \"false\")", s);
        }
        break;
    case VA_STRING:
        if (!*s) {
            return xstrdup("An empty string is not valid as input; use \"\" "
                           "to represent the empty string");
        } else if (*s == '"') {
            size_t len = strlen(s);
            if (len < 2 || s[len - 1] != '"') {
                return xasprintf("%s: missing quote at end of quoted string",
                                 s);
            }
            char *error = json_unescape(s + 1, len - 2, &a->string);
            if (error) {
                char *msg = xasprintf("%s: %s", s, error);
                free(error);
                return msg;
            }
        } else {
            a->string = xstrdup(s);
        }
        break;
    case VA_UUID:
        if (*s == '@' && symbol) {
            if (!symbol(s, &a->uuid, aux)) {
                return xasprintf("\"%s\" is not a valid UUID", s);
            }
        } else if (!uuid_from_string(&a->uuid, s) || strlen(s) != UUID_LEN) {
            return xasprintf("\"%s\" is not a valid UUID", s);
        }
        break;
    case VA_VOID:
        return xstrdup("void atom");
    }
    return NULL;
}

/* Checks that S is well-formed UTF-8 (Unicode table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF).  Returns NULL and the number of
 * characters in *N_CHARS, or a description naming the bytes up to and
 * including the first bad one, as OVSDB words it. */
static char *
utf8_check(const char *s_, size_t *n_chars)
{
    const unsigned char *s = (const unsigned char *) s_;
    *n_chars = 0;
    while (*s) {
        unsigned char c = *s;
        unsigned char lo = 0x80, hi = 0xbf;
        int len;
        if (c < 0x80) {
            len = 1;
        } else if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return xasprintf("invalid UTF-8 sequence 0x%02x", c);
        }
        for (int i = 1; i < len; i++) {
            unsigned char min = i == 1 ? lo : 0x80;
            unsigned char max = i == 1 ? hi : 0xbf;
            if (s[i] < min || s[i] > max) {
                struct ds ds = DS_EMPTY_INITIALIZER;
                ds_put_cstr(&ds, "invalid UTF-8 sequence");
                for (int j = 0; j <= i; j++) {
                    ds_put_format(&ds, " 0x%02x", s[j]);
                }
                return ds_steal_cstr(&ds);
            }
        }
        s += len;
        (*n_chars)++;
    }
    return NULL;
}

char *
vsctl_utf8_error(const char *s)
{
    size_t n_chars;
    return utf8_check(s, &n_chars);
}

char *
vsctl_atom_check_constraints(const union vsctl_atom *a,
                             const struct vsctl_base_type *b)
{
    if (b->enumeration
        && vsctl_datum_find_key(b->enumeration, a, b->type) == SIZE_MAX) {
        struct ds v = DS_EMPTY_INITIALIZER, all = DS_EMPTY_INITIALIZER;
        struct vsctl_type et = { .key = *b, .n_max = UINT_MAX };
        et.value.type = VA_VOID;
        vsctl_atom_to_string(a, b->type, &v);
        vsctl_datum_to_string(b->enumeration, &et, &all);
        char *msg = xasprintf("constraint violation: %s is not one of the "
                              "allowed values (%s)", ds_cstr(&v), ds_cstr(&all));
        ds_destroy(&v);
        ds_destroy(&all);
        return msg;
    }
    switch (b->type) {
    case VA_INTEGER: {
        long long i = a->integer;
        if (b->has_imin && b->has_imax && (i < b->imin || i > b->imax)) {
            return xasprintf("constraint violation: %lld is not in the valid "
                             "range %lld to %lld (inclusive)",
                             i, b->imin, b->imax);
        } else if (b->has_imin && !b->has_imax && i < b->imin) {
            return xasprintf("constraint violation: %lld is less than minimum "
                             "allowed value %lld", i, b->imin);
        } else if (b->has_imax && !b->has_imin && i > b->imax) {
            return xasprintf("constraint violation: %lld is greater than "
                             "maximum allowed value %lld", i, b->imax);
        }
        break;
    }
    case VA_REAL: {
        double r = a->real;
        if (b->has_rmin && b->has_rmax && (r < b->rmin || r > b->rmax)) {
            return xasprintf("constraint violation: %.*g is not in the valid "
                             "range %.*g to %.*g (inclusive)", DBL_DIG, r,
                             DBL_DIG, b->rmin, DBL_DIG, b->rmax);
        } else if (b->has_rmin && !b->has_rmax && r < b->rmin) {
            return xasprintf("constraint violation: %.*g is less than minimum "
                             "allowed value %.*g", DBL_DIG, r, DBL_DIG, b->rmin);
        } else if (b->has_rmax && !b->has_rmin && r > b->rmax) {
            return xasprintf("constraint violation: %.*g is greater than "
                             "maximum allowed value %.*g",
                             DBL_DIG, r, DBL_DIG, b->rmax);
        }
        break;
    }
    case VA_STRING: {
        size_t len;
        char *bad = utf8_check(a->string, &len);
        if (bad) {
            char *msg = xasprintf("constraint violation: not a valid UTF-8 "
                                  "string: %s", bad);
            free(bad);
            return msg;
        }
        if (len < b->smin) {
            return xasprintf("constraint violation: \"%s\" length %zu is less "
                             "than minimum allowed length %u",
                             a->string, len, b->smin);
        } else if (len > b->smax) {
            return xasprintf("constraint violation: \"%s\" length %zu is "
                             "greater than maximum allowed length %u",
                             a->string, len, b->smax);
        }
        break;
    }
    case VA_BOOLEAN:
    case VA_UUID:
    case VA_VOID:
        break;
    }
    return NULL;
}

bool
vsctl_string_needs_quotes(const char *s)
{
    const char *p = s;
    if (!isalpha((unsigned char) *p) && *p != '_') {
        return true;
    }
    for (p++; *p; p++) {
        unsigned char c = *p;
        if (!isalnum(c) && c != '_' && c != '-' && c != '.') {
            return true;
        }
    }
    if (!strcmp(s, "true") || !strcmp(s, "false")) {
        return true;
    }
    struct uuid u;
    return strlen(s) == UUID_LEN && uuid_from_string(&u, s);
}

void
vsctl_json_quote(const char *s, struct ds *out)
{
    json_t *j = json_string(s);
    char *txt = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    if (txt) {
        ds_put_cstr(out, txt);
    } else {
        ds_put_format(out, "\"%s\"", s);
    }
    free(txt);
    json_decref(j);
}

static void
put_real(double r, struct ds *out)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", r);
    /* Prefer the shortest text that reads back exactly. */
    for (int prec = 1; prec <= 17; prec++) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.*g", prec, r);
        if (strtod(tmp, NULL) == r) {
            memcpy(buf, tmp, sizeof tmp);
            break;
        }
    }
    ds_put_cstr(out, buf);
}

void
vsctl_atom_to_string(const union vsctl_atom *a, enum vsctl_atype t,
                     struct ds *out)
{
    char buf[UUID_LEN + 1];
    switch (t) {
    case VA_INTEGER:
        ds_put_format(out, "%lld", a->integer);
        break;
    case VA_REAL:
        put_real(a->real, out);
        break;
    case VA_BOOLEAN:
        ds_put_cstr(out, a->boolean ? "true" : "false");
        break;
    case VA_STRING:
        if (vsctl_string_needs_quotes(a->string)) {
            vsctl_json_quote(a->string, out);
        } else {
            ds_put_cstr(out, a->string);
        }
        break;
    case VA_UUID:
        uuid_to_string(&a->uuid, buf);
        ds_put_cstr(out, buf);
        break;
    case VA_VOID:
        break;
    }
}

void
vsctl_atom_to_bare(const union vsctl_atom *a, enum vsctl_atype t,
                   struct ds *out)
{
    if (t == VA_STRING) {
        ds_put_cstr(out, a->string);
    } else {
        vsctl_atom_to_string(a, t, out);
    }
}

/* ---- Datums. ---- */

void
vsctl_datum_init_empty(struct vsctl_datum *d)
{
    d->n = 0;
    d->keys = NULL;
    d->values = NULL;
}

static void
atom_init_default(union vsctl_atom *a, enum vsctl_atype t)
{
    memset(a, 0, sizeof *a);
    if (t == VA_STRING) {
        a->string = xstrdup("");
    }
}

void
vsctl_datum_init_default(struct vsctl_datum *d, const struct vsctl_type *t)
{
    vsctl_datum_init_empty(d);
    if (t->n_min > 0) {
        d->n = 1;
        d->keys = xmalloc(sizeof *d->keys);
        atom_init_default(&d->keys[0], t->key.type);
        if (vsctl_type_is_map(t)) {
            d->values = xmalloc(sizeof *d->values);
            atom_init_default(&d->values[0], t->value.type);
        }
    }
}

void
vsctl_datum_destroy(struct vsctl_datum *d, const struct vsctl_type *t)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        vsctl_atom_destroy(&d->keys[i], t->key.type);
        if (d->values) {
            vsctl_atom_destroy(&d->values[i], t->value.type);
        }
    }
    free(d->keys);
    free(d->values);
    vsctl_datum_init_empty(d);
}

void
vsctl_datum_clone(struct vsctl_datum *dst, const struct vsctl_datum *src,
                  const struct vsctl_type *t)
{
    dst->n = src->n;
    dst->keys = src->n ? xmalloc(src->n * sizeof *dst->keys) : NULL;
    dst->values = src->values && src->n
                  ? xmalloc(src->n * sizeof *dst->values) : NULL;
    for (size_t i = 0; i < src->n; i++) {
        vsctl_atom_clone(&dst->keys[i], &src->keys[i], t->key.type);
        if (dst->values) {
            vsctl_atom_clone(&dst->values[i], &src->values[i], t->value.type);
        }
    }
}

int
vsctl_datum_compare(const struct vsctl_datum *a, const struct vsctl_datum *b,
                    const struct vsctl_type *t)
{
    if (a->n != b->n) {
        return a->n < b->n ? -1 : 1;
    }
    for (size_t i = 0; i < a->n; i++) {
        int c = vsctl_atom_compare(&a->keys[i], &b->keys[i], t->key.type);
        if (c) {
            return c;
        }
    }
    if (vsctl_type_is_map(t)) {
        for (size_t i = 0; i < a->n; i++) {
            int c = vsctl_atom_compare(&a->values[i], &b->values[i],
                                       t->value.type);
            if (c) {
                return c;
            }
        }
    }
    return 0;
}

bool
vsctl_datum_equals(const struct vsctl_datum *a, const struct vsctl_datum *b,
                   const struct vsctl_type *t)
{
    return !vsctl_datum_compare(a, b, t);
}

bool
vsctl_datum_is_default(const struct vsctl_datum *d, const struct vsctl_type *t)
{
    struct vsctl_datum def;
    vsctl_datum_init_default(&def, t);
    bool eq = vsctl_datum_equals(d, &def, t);
    vsctl_datum_destroy(&def, t);
    return eq;
}

/* Binary search: returns the index of KEY, or SIZE_MAX with *POS set to the
 * insertion point. */
static size_t
datum_search(const struct vsctl_datum *d, const union vsctl_atom *key,
             enum vsctl_atype t, size_t *pos)
{
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = vsctl_atom_compare(&d->keys[mid], key, t);
        if (!c) {
            return mid;
        } else if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (pos) {
        *pos = lo;
    }
    return SIZE_MAX;
}

size_t
vsctl_datum_find_key(const struct vsctl_datum *d, const union vsctl_atom *key,
                     enum vsctl_atype t)
{
    return datum_search(d, key, t, NULL);
}

void
vsctl_datum_put(struct vsctl_datum *d, const struct vsctl_type *t,
                union vsctl_atom *key, union vsctl_atom *value, bool replace)
{
    size_t pos = 0;
    size_t idx = datum_search(d, key, t->key.type, &pos);
    bool map = vsctl_type_is_map(t);
    if (idx != SIZE_MAX) {
        if (map && replace) {
            vsctl_atom_destroy(&d->values[idx], t->value.type);
            d->values[idx] = *value;
        } else if (map) {
            vsctl_atom_destroy(value, t->value.type);
        }
        vsctl_atom_destroy(key, t->key.type);
        return;
    }
    d->keys = xrealloc(d->keys, (d->n + 1) * sizeof *d->keys);
    memmove(&d->keys[pos + 1], &d->keys[pos], (d->n - pos) * sizeof *d->keys);
    d->keys[pos] = *key;
    if (map) {
        d->values = xrealloc(d->values, (d->n + 1) * sizeof *d->values);
        memmove(&d->values[pos + 1], &d->values[pos],
                (d->n - pos) * sizeof *d->values);
        d->values[pos] = *value;
    }
    d->n++;
}

void
vsctl_datum_remove_index(struct vsctl_datum *d, const struct vsctl_type *t,
                         size_t idx)
{
    vsctl_atom_destroy(&d->keys[idx], t->key.type);
    memmove(&d->keys[idx], &d->keys[idx + 1],
            (d->n - idx - 1) * sizeof *d->keys);
    if (d->values) {
        vsctl_atom_destroy(&d->values[idx], t->value.type);
        memmove(&d->values[idx], &d->values[idx + 1],
                (d->n - idx - 1) * sizeof *d->values);
    }
    d->n--;
}

void
vsctl_datum_union(struct vsctl_datum *a, const struct vsctl_datum *b,
                  const struct vsctl_type *t, bool replace)
{
    for (size_t i = 0; i < b->n; i++) {
        union vsctl_atom k, v;
        vsctl_atom_clone(&k, &b->keys[i], t->key.type);
        if (b->values) {
            vsctl_atom_clone(&v, &b->values[i], t->value.type);
        }
        vsctl_datum_put(a, t, &k, b->values ? &v : NULL, replace);
    }
}

void
vsctl_datum_subtract(struct vsctl_datum *a, const struct vsctl_type *a_type,
                     const struct vsctl_datum *b,
                     const struct vsctl_type *b_type)
{
    bool pairs = vsctl_type_is_map(b_type);
    for (size_t i = 0; i < b->n; i++) {
        size_t idx = vsctl_datum_find_key(a, &b->keys[i], a_type->key.type);
        if (idx == SIZE_MAX) {
            continue;
        }
        if (pairs && vsctl_atom_compare(&a->values[idx], &b->values[i],
                                        a_type->value.type)) {
            continue;
        }
        vsctl_datum_remove_index(a, a_type, idx);
    }
}

bool
vsctl_datum_includes_all(const struct vsctl_datum *a,
                         const struct vsctl_datum *b,
                         const struct vsctl_type *t)
{
    for (size_t i = 0; i < b->n; i++) {
        size_t idx = vsctl_datum_find_key(a, &b->keys[i], t->key.type);
        if (idx == SIZE_MAX) {
            return false;
        }
        if (vsctl_type_is_map(t)
            && vsctl_atom_compare(&a->values[idx], &b->values[i],
                                  t->value.type)) {
            return false;
        }
    }
    return true;
}

/* ---- Parsing from strings. ---- */

/* The characters that end a token (only the space among white space, as in
 * OVSDB's tokenizer). */
static bool
is_delim(char c)
{
    return c && strchr(":=, []{}!<>", c) != NULL;
}

char *
vsctl_token_parse(const char **p, char **tokenp)
{
    /* Double quotes may open and close anywhere in a token; delimiters
     * between them are part of it and so are the quotes themselves (a token
     * that starts with one is later decoded as a JSON string).  Outside
     * quotes a backslash makes the next character literal; inside them it
     * is kept for the JSON decoding. */
    const char *start = *p, *q = start;
    struct ds tok = DS_EMPTY_INITIALIZER;
    bool in_quotes = false;
    *tokenp = NULL;
    while (*q) {
        char c = *q++;
        if (c == '\\') {
            if (in_quotes) {
                ds_put_char(&tok, '\\');
            }
            if (!*q) {
                ds_destroy(&tok);
                return xasprintf("%s: backslash at end of argument", start);
            }
            ds_put_char(&tok, *q++);
        } else if (!in_quotes && is_delim(c)) {
            q--;
            break;
        } else {
            ds_put_char(&tok, c);
            in_quotes ^= c == '"';
        }
    }
    if (in_quotes) {
        ds_destroy(&tok);
        return xasprintf("%s: quoted string extends past end of argument",
                         start);
    }
    *p = q;
    *tokenp = tok.string ? ds_steal_cstr(&tok) : xstrdup("");
    return NULL;
}

static const char *
skip_spaces(const char *p)
{
    while (isspace((unsigned char) *p)) {
        p++;
    }
    return p;
}

/* Parses one atom token of base type B at *P.  Integer keys of sets may be
 * ranges "A-B", which expand to several atoms. */
static char *
parse_atoms(const char **p, const struct vsctl_base_type *b, bool range_ok,
            union vsctl_atom **atoms, size_t *n, vsctl_symbol_resolve_cb *symbol,
            void *aux)
{
    char *tok;
    char *err = vsctl_token_parse(p, &tok);
    if (err) {
        return err;
    }
    *n = 0;
    *atoms = NULL;
    const char *dash = b->type == VA_INTEGER && range_ok && tok[0]
                       ? strchr(tok + 1, '-') : NULL;
    long long lo = 0, hi = 0;
    if (dash) {
        char *first = xstrndup(tok, dash - tok);
        bool ok = parse_integer(first, &lo) && parse_integer(dash + 1, &hi);
        free(first);
        union vsctl_atom lo_atom = { .integer = lo };
        union vsctl_atom hi_atom = { .integer = hi };
        if (!ok) {
            err = xasprintf("\"%s\" is not a valid integer or range", tok);
        } else if ((err = vsctl_atom_check_constraints(&lo_atom, b)) != NULL
                   || (err = vsctl_atom_check_constraints(&hi_atom, b))
                      != NULL) {
            /* The ends are checked before the range itself, as OVSDB does. */
        } else if (hi < lo) {
            err = xasprintf("\"%s\" is not a valid range. Range end cannot be "
                            "before start.", tok);
        } else if (hi - lo >= 4096) {
            err = xasprintf("\"%s\" is not a valid range. Range size cannot "
                            "exceed 4096.", tok);
        } else {
            *n = hi - lo + 1;
            *atoms = xcalloc(*n, sizeof **atoms);
            for (size_t i = 0; i < *n; i++) {
                (*atoms)[i].integer = lo + (long long) i;
            }
        }
    } else {
        *atoms = xcalloc(1, sizeof **atoms);
        err = vsctl_atom_from_string(*atoms, b, tok, symbol, aux);
        *n = err ? 0 : 1;
    }
    for (size_t i = 0; !err && i < *n; i++) {
        err = vsctl_atom_check_constraints(&(*atoms)[i], b);
    }
    if (err) {
        for (size_t i = 0; i < *n; i++) {
            vsctl_atom_destroy(&(*atoms)[i], b->type);
        }
        free(*atoms);
        *atoms = NULL;
        *n = 0;
    }
    free(tok);
    return err;
}

/* The type as OVSDB names it in messages ("set of up to 4 integers"). */
static char *
type_to_english(const struct vsctl_type *t)
{
    const char *key = vsctl_atype_name(t->key.type);
    if (t->n_min == 1 && t->n_max == 1 && t->value.type == VA_VOID) {
        return xstrdup(key);
    }
    bool map = vsctl_type_is_map(t);
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&ds, map ? "map" : "set");
    if (t->n_max == UINT_MAX) {
        if (t->n_min) {
            ds_put_format(&ds, " of %u or more", t->n_min);
        } else {
            ds_put_cstr(&ds, " of");
        }
    } else if (t->n_min) {
        ds_put_format(&ds, " of %u to %u", t->n_min, t->n_max);
    } else {
        ds_put_format(&ds, " of up to %u", t->n_max);
    }
    if (map) {
        ds_put_format(&ds, " (%s, %s) pairs", key,
                      vsctl_atype_name(t->value.type));
    } else {
        ds_put_format(&ds, " %ss", key);
    }
    return ds_steal_cstr(&ds);
}

static void
destroy_atoms(union vsctl_atom *atoms, size_t n, enum vsctl_atype type)
{
    for (size_t i = 0; i < n; i++) {
        vsctl_atom_destroy(&atoms[i], type);
    }
    free(atoms);
}

/* Parses one element at *PP: a key (a range of integer keys for sets) and,
 * for maps, "=" and a value.  Adds it to D; *DUPLICATE is set if a key was
 * already present. */
static char *
parse_element(struct vsctl_datum *d, const struct vsctl_type *t,
              const char **pp, vsctl_symbol_resolve_cb *symbol, void *aux,
              bool *duplicate)
{
    bool map = vsctl_type_is_map(t);
    const char *start = *pp;
    union vsctl_atom *keys, *values = NULL;
    size_t n_keys, n_values = 0;
    char *err = parse_atoms(pp, &t->key, true, &keys, &n_keys, symbol, aux);
    if (err) {
        return err;
    }
    if (map) {
        const char *p = skip_spaces(*pp);
        if (*p != '=') {
            destroy_atoms(keys, n_keys, t->key.type);
            /* At the end of the text ovs-vsctl's message stops at the NUL
             * it formats with %c. */
            return *p ? xasprintf("%s: syntax error at \"%c\" expecting "
                                  "\"=\"", start, *p)
                      : xasprintf("%s: syntax error at \"", start);
        }
        *pp = skip_spaces(p + 1);
        err = parse_atoms(pp, &t->value, false, &values, &n_values, symbol,
                          aux);
        if (err) {
            destroy_atoms(keys, n_keys, t->key.type);
            return err;
        }
    }
    for (size_t i = 0; i < n_keys; i++) {
        if (vsctl_datum_find_key(d, &keys[i], t->key.type) != SIZE_MAX) {
            *duplicate = true;
        }
        union vsctl_atom value;
        if (map) {
            vsctl_atom_clone(&value, &values[0], t->value.type);
        }
        vsctl_datum_put(d, t, &keys[i], map ? &value : NULL, false);
    }
    free(keys);
    if (map) {
        destroy_atoms(values, n_values, t->value.type);
    }
    return NULL;
}

char *
vsctl_datum_from_string(struct vsctl_datum *d, const struct vsctl_type *t,
                        const char *s, vsctl_symbol_resolve_cb *symbol,
                        void *aux)
{
    bool map = vsctl_type_is_map(t);
    const char *p = skip_spaces(s);
    char end = 0;
    vsctl_datum_init_empty(d);
    if (*p == (map ? '{' : '[')) {
        end = map ? '}' : ']';
        p = skip_spaces(p + 1);
    } else if (!*p) {
        return xstrdup(map ? "use \"{}\" to specify the empty map"
                           : "use \"[]\" to specify the empty set");
    }
    char *err = NULL;
    bool duplicate = false;
    while (!err && *p && *p != end) {
        if (is_delim(*p)) {
            char *english = type_to_english(t);
            err = xasprintf("%s: unexpected \"%c\" parsing %s", s, *p,
                            english);
            free(english);
            break;
        }
        err = parse_element(d, t, &p, symbol, aux, &duplicate);
        p = skip_spaces(p);
        if (*p == ',') {
            p = skip_spaces(p + 1);
        }
    }
    if (!err && *p != end) {
        err = xasprintf("%s: missing \"%c\" at end of data", s, end);
    } else if (!err && end && *skip_spaces(p + 1)) {
        err = xasprintf("%s: trailing garbage after \"%c\"", s, end);
    }
    if (!err) {
        const char *what = map ? "pair(s)" : "value(s)";
        if (d->n < t->n_min) {
            err = xasprintf("%s: %zu %s specified but the minimum number is "
                            "%u", s, d->n, what, t->n_min);
        } else if (d->n > t->n_max) {
            err = xasprintf("%s: %zu %s specified but the maximum number is "
                            "%u", s, d->n, what, t->n_max);
        } else if (duplicate) {
            err = xasprintf(map ? "%s: map contains duplicate key"
                                : "%s: set contains duplicate value", s);
        }
    }
    if (err) {
        vsctl_datum_destroy(d, t);
        vsctl_datum_init_empty(d);
    }
    return err;
}

char *
vsctl_datum_check_constraints(const struct vsctl_datum *d,
                              const struct vsctl_type *t)
{
    if (d->n < t->n_min) {
        return xasprintf("%zu value(s) specified but the minimum number is %u",
                         d->n, t->n_min);
    } else if (d->n > t->n_max) {
        return xasprintf("%zu value(s) specified but the maximum number is %u",
                         d->n, t->n_max);
    }
    return NULL;
}

void
vsctl_datum_to_string(const struct vsctl_datum *d, const struct vsctl_type *t,
                      struct ds *out)
{
    bool map = vsctl_type_is_map(t);
    bool brackets = map || t->n_max > 1 || !d->n;
    if (brackets) {
        ds_put_char(out, map ? '{' : '[');
    }
    for (size_t i = 0; i < d->n; i++) {
        if (i) {
            ds_put_cstr(out, ", ");
        }
        vsctl_atom_to_string(&d->keys[i], t->key.type, out);
        if (map) {
            ds_put_char(out, '=');
            vsctl_atom_to_string(&d->values[i], t->value.type, out);
        }
    }
    if (brackets) {
        ds_put_char(out, map ? '}' : ']');
    }
}

void
vsctl_datum_to_bare(const struct vsctl_datum *d, const struct vsctl_type *t,
                    struct ds *out)
{
    for (size_t i = 0; i < d->n; i++) {
        if (i) {
            ds_put_char(out, ' ');
        }
        vsctl_atom_to_bare(&d->keys[i], t->key.type, out);
        if (vsctl_type_is_map(t)) {
            ds_put_char(out, '=');
            vsctl_atom_to_bare(&d->values[i], t->value.type, out);
        }
    }
}

/* ---- JSON. ---- */

json_t *
vsctl_atom_to_json(const union vsctl_atom *a, enum vsctl_atype t,
                   vsctl_named_cb *named, void *aux)
{
    char buf[UUID_LEN + 1];
    switch (t) {
    case VA_INTEGER:
        return json_integer(a->integer);
    case VA_REAL:
        return json_real(a->real);
    case VA_BOOLEAN:
        return json_boolean(a->boolean);
    case VA_STRING: {
        /* A string that is not UTF-8 is kept as is: vsctl_db_commit()
         * refuses it as the server would, rather than send a malformed
         * request. */
        json_t *s = json_string(a->string);
        return s ? s : json_stringn_nocheck(a->string, strlen(a->string));
    }
    case VA_UUID:
        uuid_to_string(&a->uuid, buf);
        if (named && named(&a->uuid, aux)) {
            char name[UUID_LEN + 4];
            snprintf(name, sizeof name, "row%s", buf);
            for (char *c = name; *c; c++) {
                if (*c == '-') {
                    *c = '_';
                }
            }
            return json_pack("[ss]", "named-uuid", name);
        }
        return json_pack("[ss]", "uuid", buf);
    case VA_VOID:
        break;
    }
    return json_null();
}

json_t *
vsctl_datum_to_json(const struct vsctl_datum *d, const struct vsctl_type *t,
                    vsctl_named_cb *named, void *aux)
{
    bool map = vsctl_type_is_map(t);
    if (!map && d->n == 1) {
        return vsctl_atom_to_json(&d->keys[0], t->key.type, named, aux);
    }
    json_t *elems = json_array();
    for (size_t i = 0; i < d->n; i++) {
        json_t *k = vsctl_atom_to_json(&d->keys[i], t->key.type, named, aux);
        if (map) {
            json_t *v = vsctl_atom_to_json(&d->values[i], t->value.type,
                                           named, aux);
            json_array_append_new(elems, json_pack("[oo]", k, v));
        } else {
            json_array_append_new(elems, k);
        }
    }
    return json_pack("[so]", map ? "map" : "set", elems);
}

static char *
atom_from_json(union vsctl_atom *a, enum vsctl_atype t, const json_t *j)
{
    memset(a, 0, sizeof *a);
    switch (t) {
    case VA_INTEGER:
        if (!json_is_integer(j)) {
            return xstrdup("expected integer");
        }
        a->integer = json_integer_value(j);
        return NULL;
    case VA_REAL:
        if (!json_is_number(j)) {
            return xstrdup("expected real");
        }
        a->real = json_number_value(j);
        return NULL;
    case VA_BOOLEAN:
        if (!json_is_boolean(j)) {
            return xstrdup("expected boolean");
        }
        a->boolean = json_is_true(j);
        return NULL;
    case VA_STRING:
        if (!json_is_string(j)) {
            return xstrdup("expected string");
        }
        a->string = xstrdup(json_string_value(j));
        return NULL;
    case VA_UUID:
        if (json_is_array(j) && json_array_size(j) == 2
            && json_is_string(json_array_get(j, 0))
            && !strcmp(json_string_value(json_array_get(j, 0)), "uuid")
            && json_is_string(json_array_get(j, 1))
            && uuid_from_string(&a->uuid,
                                json_string_value(json_array_get(j, 1)))) {
            return NULL;
        }
        return xstrdup("expected uuid");
    case VA_VOID:
        break;
    }
    return xstrdup("void atom");
}

static bool
json_is_tagged(const json_t *j, const char *tag)
{
    return json_is_array(j) && json_array_size(j) == 2
           && json_is_string(json_array_get(j, 0))
           && !strcmp(json_string_value(json_array_get(j, 0)), tag);
}

char *
vsctl_datum_from_json(struct vsctl_datum *d, const struct vsctl_type *t,
                      const json_t *j)
{
    bool map = vsctl_type_is_map(t);
    vsctl_datum_init_empty(d);
    const json_t *elems;
    size_t i;
    const json_t *e;
    char *err = NULL;
    if (map && json_is_tagged(j, "map")) {
        elems = json_array_get(j, 1);
        json_array_foreach(elems, i, e) {
            union vsctl_atom k, v;
            if (!json_is_array(e) || json_array_size(e) != 2) {
                err = xstrdup("bad map pair");
                break;
            }
            if ((err = atom_from_json(&k, t->key.type, json_array_get(e, 0)))) {
                break;
            }
            if ((err = atom_from_json(&v, t->value.type,
                                      json_array_get(e, 1)))) {
                vsctl_atom_destroy(&k, t->key.type);
                break;
            }
            vsctl_datum_put(d, t, &k, &v, true);
        }
    } else if (!map && json_is_tagged(j, "set")) {
        elems = json_array_get(j, 1);
        json_array_foreach(elems, i, e) {
            union vsctl_atom k;
            if ((err = atom_from_json(&k, t->key.type, e))) {
                break;
            }
            vsctl_datum_put(d, t, &k, NULL, false);
        }
    } else if (!map) {
        union vsctl_atom k;
        if (!(err = atom_from_json(&k, t->key.type, j))) {
            vsctl_datum_put(d, t, &k, NULL, false);
        }
    } else {
        err = xstrdup("bad datum");
    }
    if (err) {
        vsctl_datum_destroy(d, t);
    }
    return err;
}

/* ---- JSON text as ovs-vsctl prints it. ---- */

static void
json_put(const json_t *j, bool pretty, int level, struct ds *out)
{
    size_t i;
    const json_t *e;
    const char *key;
    switch (json_typeof(j)) {
    case JSON_ARRAY:
        if (!json_array_size(j)) {
            ds_put_cstr(out, "[]");
            break;
        }
        ds_put_char(out, '[');
        json_array_foreach(j, i, e) {
            if (i) {
                ds_put_char(out, ',');
            }
            if (pretty) {
                ds_put_char(out, '\n');
                ds_put_char_multiple(out, ' ', (level + 1) * 2);
            }
            json_put(e, pretty, level + 1, out);
        }
        ds_put_char(out, ']');
        break;
    case JSON_OBJECT: {
        if (!json_object_size(j)) {
            ds_put_cstr(out, "{}");
            break;
        }
        ds_put_char(out, '{');
        bool first = true;
        json_object_foreach((json_t *) j, key, e) {
            if (!first) {
                ds_put_char(out, ',');
            }
            first = false;
            if (pretty) {
                ds_put_char(out, '\n');
                ds_put_char_multiple(out, ' ', (level + 1) * 2);
            }
            vsctl_json_quote(key, out);
            ds_put_cstr(out, pretty ? ": " : ":");
            json_put(e, pretty, level + 1, out);
        }
        ds_put_char(out, '}');
        break;
    }
    case JSON_STRING:
        vsctl_json_quote(json_string_value(j), out);
        break;
    case JSON_INTEGER:
        ds_put_format(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        break;
    case JSON_REAL:
        put_real(json_real_value(j), out);
        break;
    case JSON_TRUE:
        ds_put_cstr(out, "true");
        break;
    case JSON_FALSE:
        ds_put_cstr(out, "false");
        break;
    case JSON_NULL:
        ds_put_cstr(out, "null");
        break;
    }
}

void
vsctl_json_to_ds(const json_t *j, bool pretty, struct ds *out)
{
    json_put(j, pretty, 0, out);
}
